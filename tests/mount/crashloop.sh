#!/bin/sh
# crashloop: repeated takeovers under mixed load.  Four processes write
# through a shared mapping, pwrite(2) on a long-held fd, make a table every
# 2 ms, and resize a table then open its column by name, while the serving
# process is SIGKILLed every 2-4 s.  Afterwards every acknowledged write,
# table and resize is there, every resize was visible to the open that
# followed it, the supervisor kept every record (none refused, none lost),
# .status counts the restarts with crash protection on, and the mount still
# answers and changes.  Run in both data-path modes.
#
# CRASHLOOP_ROUNDS: kills per mode (default 5).
. "${top_srcdir:-.}/tests/mount/lib.sh"

: "${CRASHLOOP_ROUNDS:=5}"
: "${TABLECTL:=$top_builddir/src/tablectl}"

serving_pid() { pgrep -P "$DPID" | head -n 1; }
status_field() {
	"$PYTHON3" -c 'import json,sys; s=json.load(open(sys.argv[1]+"/.status")); print(eval(sys.argv[2]))' "$MNT" "$1"
}

# Between 2.2 and 3.7 s: random, and slow enough that 5 deaths never fall
# within 10 s (when the supervisor would rightly give up).
pause() { sleep "$(awk -v r="$(od -An -N2 -tu2 /dev/urandom)" 'BEGIN { printf "%.2f", 2.2 + (r % 150) / 100 }')"; }

kill_serving()
{
	_old=$(serving_pid)
	[ -n "$_old" ] || { fail "no serving process under $DPID"; return 1; }
	kill -KILL "$_old"
	wait_for 20 "$DPID" sh -c "! kill -0 $_old 2>/dev/null && [ -n \"\$(pgrep -P $DPID)\" ] && cat '$MNT/.status' >/dev/null 2>&1" ||
		{ fail "mount did not serve again after kill $1"; return 1; }
}

run_mode()
{
	section "$CRASHLOOP_ROUNDS takeovers under load ${*:-(default)}"
	start_daemon "$@"
	check "set-up" "$PYTHON3" "$PYDIR/crashloop.py" setup "$MNT"
	rm -f "$TMPD/stop"
	pids=
	for role in mmap pwrite mkdir resize; do
		start_helper "$PYTHON3" "$PYDIR/crashloop.py" "$role" "$MNT" "$TMPD/stop" "$TMPD/$role.out"
		pids="$pids $HPID"
	done
	# Under way: a table made, a resize done.
	wait_for 20 "" sh -c "[ -d '$MNT/d3' ] && [ -s '$MNT/rs/c' ]" || fail "the load did not start"
	n=0
	while [ $n -lt "$CRASHLOOP_ROUNDS" ]; do
		pause
		n=$((n + 1))
		kill_serving "$n" || break
	done
	sleep 0.5
	touch "$TMPD/stop"
	for p in $pids; do
		if wait_helper "$p"; then pass; else fail "a writer lost acknowledged changes"; fi
	done
	for role in mmap pwrite mkdir resize; do
		note "$(cat "$TMPD/$role.out" 2>/dev/null)"
	done
	check_eq "restarts in .status" "$n" "$(status_field 's["restarts"]')"
	check_eq "crash protection in .status" True "$(status_field 's["crash_protection"]')"
	"$TABLECTL" --mount "$MNT" status >"$TMPD/ctl.status" 2>&1
	check "tablectl status says protection is on and counts the restarts" \
		grep -q -x "crash protection: on (serving process restarted $n times)" "$TMPD/ctl.status"
	if grep -E 'not kept|not handed|did not take|could not be taken over|lost its memory|protection lost|corrupt' "$DLOG" >"$TMPD/lost"; then
		fail "records were lost:"
		head -n 5 "$TMPD/lost" | sed 's/^/    /'
	fi
	# The mount answers and changes after the takeovers.
	check "ls of the root" ls "$MNT/rs" "$MNT/map"
	check "mkdir after the takeovers" mkdir "$MNT/after"
	head2() { "$PYTHON3" -c 'import numpy as np, sys; print(*np.fromfile(sys.argv[1], dtype="<i8")[:2])' "$MNT/pw/y"; }
	first=$(head2)
	check "resize after the takeovers" sh -c "printf '{\"rows\": 2}' >'$MNT/pw/meta.json'"
	check_eq "resized column keeps its data" "$first" "$(head2)"
	stop_daemon
}

run_mode
run_mode --no-passthrough

section "the supervisor killed: the serving process says crash protection is lost"
start_daemon
mkdir "$MNT/t" && printf '{"rows": 4, "columns": [{"name": "c", "type": "int64"}]}' >"$MNT/t/meta.json" ||
	fatal "schema"
check_eq "crash protection on at start" True "$(status_field 's["crash_protection"]')"
SERVING=$(serving_pid)
[ -n "$SERVING" ] || fatal "no serving process under $DPID"
kill -KILL "$DPID"
wait "$DPID" 2>/dev/null
# Said at once, without waiting for a change to fail.
wait_for 10 "" sh -c "grep -q 'crash protection lost' '$DLOG'" || fail "the log does not say protection is lost"
check_eq "crash protection off in .status" False "$(status_field 's["crash_protection"]')"
check "a reason in .status" sh -c "[ -n \"\$('$PYTHON3' -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"crash_protection_reason\"])' '$MNT/.status')\" ]"
"$TABLECTL" --mount "$MNT" status >"$TMPD/ctl.status" 2>&1
check "tablectl status says protection is off" grep -q "^crash protection: OFF, .*a crash of the serving process ends the mount" "$TMPD/ctl.status"
# The serving process serves on, alone.
check "mkdir without a supervisor" mkdir "$MNT/u"
check "resize without a supervisor" sh -c "printf '{\"rows\": 8}' >'$MNT/t/meta.json'"
check_eq "the resize is seen" 64 "$(size_of "$MNT/t/c")"
check "the log says it once" test "$(grep -c 'crash protection lost' "$DLOG")" = 1
# Its end is the mount's: unmount and reap it by hand (the supervisor's
# exit status is that of a killed process).
check "unmount" fusermount3 -u "$MNT"
# Gone, or a zombie its new parent has yet to reap.
wait_for 10 "" sh -c "! kill -0 $SERVING 2>/dev/null || awk '{ exit \$3 != \"Z\" }' /proc/$SERVING/stat" ||
	fail "the serving process outlived the unmount"
check "mount gone" not_mounted "$MNT"
forget_daemon
rmdir "$MNT" 2>/dev/null

finish
