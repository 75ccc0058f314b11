#!/bin/sh
# stress: 16 processes at once, for a bounded time, read and write columns
# through mmap and pread/pwrite, change rows, add, rename and delete columns,
# rename, create and delete tables; mappings are held across others' resizes
# and deletes.  Afterwards every table is consistent (each column sized
# rows * itemsize), tables nobody touched keep their bytes, the serving
# process never died (a crash would be hidden by the supervisor's restart),
# no internal error was counted or logged, and once the tables are deleted
# the memory in use is back to what it was before.  Run in both data-path
# modes.
#
# STRESS_SECONDS per mode (default 20), STRESS_WORKERS (default 16),
# STRESS_SEED (printed) to replay the same operation mix.
. "${top_srcdir:-.}/tests/mount/lib.sh"

: "${STRESS_SECONDS:=20}"
: "${STRESS_WORKERS:=16}"
if [ -z "${STRESS_SEED:-}" ]; then
	STRESS_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi

serving_pid() { pgrep -P "$DPID" | head -n 1; }
status_field() {
	"$PYTHON3" -c 'import json,sys; s=json.load(open(sys.argv[1]+"/.status")); print(eval(sys.argv[2]))' "$MNT" "$1"
}
# tables_left: the tables other than the control ones.
tables_left() { ls "$MNT" | grep -v -x -e ctl1 -e ctl2; }

run_mode()
{
	section "stress ($STRESS_WORKERS processes, $STRESS_SECONDS s, seed $STRESS_SEED) ${*:-(default)}"
	start_daemon --memory-limit 256M "$@"
	note "data path: $(status_field 's["data_path"]')"
	# Tables nobody touches: their bytes and meta.json must survive.
	for c in ctl1 ctl2; do
		mkdir "$MNT/$c" || fatal "mkdir $c"
		expect_ok colcheck meta "$MNT/$c/meta.json" \
			'{"rows": 5000, "columns": [{"name": "x", "type": "float64"}, {"name": "e", "type": "float32", "shape": [3]}]}'
		check "fill $c/x" tfs fill "$MNT/$c" x 7
		check "fill $c/e" tfs fill "$MNT/$c" e 8
		snapshot "$MNT/$c" >"$TMPD/$c.snap"
	done
	base=$(status_field 's["memory"]["used"]')
	SERVING=$(serving_pid)
	[ -n "$SERVING" ] || fatal "no serving process under $DPID"

	mkdir -p "$TMPD/ops"
	start_helper "$PYTHON3" "$PYDIR/stress.py" run "$MNT" "$STRESS_SECONDS" "$STRESS_WORKERS" \
		"$STRESS_SEED" "$TMPD/ops"
	W=$HPID
	if wait_helper "$W"; then pass; else fail "a stress worker failed (seed $STRESS_SEED)"; fi
	grep -v '^OK$' "$TMPD/helper.$HELPERN.out" | sed 's/^/  /'

	check_eq "the serving process never died (pid $SERVING)" "$SERVING" "$(serving_pid)"
	check "every table is consistent" tfs_check
	for c in ctl1 ctl2; do
		unchanged "untouched table $c" "$MNT/$c" "$TMPD/$c.snap"
	done
	check_eq "internal_errors after the stress" 0 "$(status_field 's["internal_errors"]')"
	if grep -E -i 'internal error|assert|runtime error' "$DLOG" >"$TMPD/logerr"; then
		fail "the daemon logged internal errors:"
		head -n 10 "$TMPD/logerr" | sed 's/^/    /'
	else
		pass
	fi

	# Every table but the control ones goes; their memory must come back
	# (a version held by a mapping is freed when its last mapping goes:
	# the workers are gone, give the kernel a moment to release them).
	for t in $(tables_left); do
		rm -r "$MNT/$t" || fail "rm -r $t"
	done
	check_eq "only the control tables are left" "" "$(tables_left)"
	wait_for 10 "" sh -c "[ \"\$(\"$PYTHON3\" -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"memory\"][\"used\"])' '$MNT/.status')\" = '$base' ]"
	check_eq "memory used back to its baseline after the deletes" "$base" "$(status_field 's["memory"]["used"]')"
	for c in ctl1 ctl2; do
		rm -r "$MNT/$c" || fail "rm -r $c"
	done
	check_eq "memory used 0 with no tables" 0 "$(status_field 's["memory"]["used"]')"
	# The memory itself, not only its accounting: no column's memfd is
	# still open in the daemon's processes.
	wait_for 10 "" sh -c "! ls -l /proc/$DPID/fd /proc/$SERVING/fd 2>/dev/null | grep -q memfd:tablefs"
	check_eq "no column memfd left open in the daemon" "" \
		"$(ls -l /proc/$DPID/fd /proc/$SERVING/fd 2>/dev/null | grep memfd:tablefs | head -n 3)"
	stop_daemon
}

tfs_check() { "$PYTHON3" "$PYDIR/stress.py" check "$MNT"; }

run_mode
run_mode --no-passthrough

finish
