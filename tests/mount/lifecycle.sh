#!/bin/sh
# lifecycle: --help and --version, SIGTERM and SIGINT unmount cleanly (exit 0,
# mount gone), fusermount3 -u with data in the tables, two daemons side by
# side, no mount left behind.
. "${top_srcdir:-.}/tests/mount/lib.sh"

require_env

section "--help and --version"
out=$("$TABLEFS" --version 2>&1)
check_eq "tablefs --version exit status" 0 $?
case $out in
*0.1.0*) pass ;;
*) fail "--version does not print the version: $out" ;;
esac
out=$("$TABLEFS" --help 2>&1)
check_eq "tablefs --help exit status" 0 $?
for opt in --memory-limit --no-passthrough -f allow_other; do
	case $out in
	*"$opt"*) pass ;;
	*) fail "--help does not mention $opt" ;;
	esac
done
"$TABLEFS" >/dev/null 2>&1
st=$?
check "no mount point: non-zero exit ($st)" test "$st" != 0

# stop_by_signal SIG: the last daemon started unmounts and exits 0 on SIG.
stop_by_signal()
{
	kill -s "$1" "$DPID"
	if ! wait_for 10 "" eval '! kill -0 '"$DPID"' 2>/dev/null'; then
		fail "daemon still running 10 s after SIG$1"
		return # cleanup unmounts and kills it
	fi
	wait "$DPID"
	check_eq "exit status after SIG$1" 0 $?
	check "mount gone after SIG$1" not_mounted "$MNT"
	forget_daemon
	rmdir "$MNT"
}

section "SIGTERM with data in the mount"
start_daemon
mkdir "$MNT/t" && colcheck meta "$MNT/t/meta.json" '{"rows": 1000, "columns": [{"name": "x", "type": "float64"}]}' >/dev/null ||
	fail "making a table"
stop_by_signal TERM

section "SIGINT"
start_daemon --no-passthrough
mkdir "$MNT/t" || fail "mkdir"
stop_by_signal INT

section "two daemons side by side, --no-passthrough reported in status"
start_daemon
first=$MNT
start_daemon --no-passthrough
check "both mounted" is_mounted "$first"
check "both mounted" is_mounted "$MNT"
mkdir "$first/only_in_first" || fail "mkdir in the first mount"
check "tables are per mount" test ! -e "$MNT/only_in_first"
check_eq "data_path with --no-passthrough" "page cache" \
	"$(py -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_path"])' "$MNT/.status")"

section "a second tablefs on a mounted tablefs: refused, the first untouched"
mkdir "$MNT/kept" || fail "mkdir kept"
# A daemon that mounted anyway would stay in the background: -f keeps it
# here, and the timeout ends it.
out=$(timeout 10 "$TABLEFS" -f "$MNT" 2>&1)
st=$?
check_eq "exit status of the second tablefs ($out)" 1 "$st"
case $out in
*"already"*"$MNT"* | *"$MNT"*"already"*) pass ;;
*) fail "the message does not say the mount point is taken: $out" ;;
esac
check_eq "one tablefs mounted there" 1 "$(grep -c " $MNT fuse.tablefs " /proc/self/mounts)"
check "the first mount's table is still seen" test -d "$MNT/kept"

section "fusermount3 -u (in finish): exit 0, mount gone"
finish
