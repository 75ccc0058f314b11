#!/bin/sh
# ops: what operators use: the standard mount helper (mount -t fuse, as
# /etc/fstab does), --log-level, the systemd unit (systemd-analyze verify
# where systemd is installed) and readiness notification (NOTIFY_SOCKET).
. "${top_srcdir:-.}/tests/mount/lib.sh"

require_env
TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tablefs-test.XXXXXX")
trap cleanup EXIT

section "mount -t fuse PROGRAM#SOURCE, as fstab's mount.fuse3 runs it"
if command -v mount.fuse3 >/dev/null; then
	MNT=$(mktemp -d "${TMPDIR:-/tmp}/tablefs-mnt.XXXXXX")
	if mount -t fuse "$TABLEFS#tablefs" "$MNT" -o allow_other,memory_limit=7M 2>"$TMPD/mount.err"; then
		pass
		DPID=$(pgrep -f "$TABLEFS tablefs $MNT" | head -n 1)
		DAEMONS="$DAEMONS $DPID:$MNT:$TMPD/mount.err"
		check "mounted as fuse.tablefs" is_mounted "$MNT"
		check "allow_other passed through" grep -q " $MNT fuse.tablefs .*allow_other" /proc/mounts
		check_eq "memory_limit=7M passed through" 7340032 \
			"$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory"]["limit"])' "$MNT/.status")"
		mkdir "$MNT/t" && printf '{"rows": 2, "columns": [{"name": "x", "type": "int8"}]}' >"$MNT/t/meta.json"
		check_eq "it serves" 2 "$(stat -c %s "$MNT/t/x")"
		check "umount stops it" umount "$MNT"
		wait_for 10 "" sh -c "! kill -0 $DPID 2>/dev/null" || fail "daemon still running after umount"
		DAEMONS=
		rmdir "$MNT"
	else
		fail "mount -t fuse failed: $(cat "$TMPD/mount.err")"
	fi
else
	note "skipped: no mount.fuse3"
fi

section "--log-level"
expect_fail() { ! "$@" >/dev/null 2>&1; }
check "an unknown level is refused" expect_fail "$TABLEFS" --log-level=loud "$TMPD"
start_daemon --log-level=warning
mkdir "$MNT/t"
stop_daemon
check "info messages left out at warning" sh -c "! grep -q 'mounted on' '$DLOG'"

section "readiness: READY=1 on NOTIFY_SOCKET once mounted"
SOCK=$TMPD/notify.sock
"$PYTHON3" - "$SOCK" >"$TMPD/notify.out" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
print(s.recv(256).decode())
PY
LISTENER=$!
wait_for 10 "$LISTENER" test -S "$SOCK" || fail "no notify socket"
NOTIFY_SOCKET=$SOCK
export NOTIFY_SOCKET
start_daemon
unset NOTIFY_SOCKET
wait "$LISTENER"
check_eq "notification" READY=1 "$(cat "$TMPD/notify.out")"
stop_daemon

section "systemd unit"
UNIT=$top_builddir/systemd/tablefs.service
check "unit generated" test -s "$UNIT"
check "unit names the daemon's path" grep -q "^ExecStart=/.*/tablefs -f" "$UNIT"
if command -v systemd-analyze >/dev/null; then
	# Verify a copy that runs the daemon built here (the installed path
	# need not exist yet).
	sed "s|^ExecStart=[^ ]*|ExecStart=$TABLEFS|" "$UNIT" >"$TMPD/tablefs.service"
	if systemd-analyze verify --man=no "$TMPD/tablefs.service" >"$TMPD/verify.out" 2>&1; then
		pass
	else
		fail "systemd-analyze verify: $(cat "$TMPD/verify.out")"
	fi
else
	note "systemd-analyze not installed: unit checked for shape only"
fi

finish
