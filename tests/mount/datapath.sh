#!/bin/sh
# datapath: kernel passthrough is in force exactly when it should be (kernel
# >= 6.9 built with it, daemon with CAP_SYS_ADMIN, no --no-passthrough), and
# it really binds columns to their memory: a process mapping a column maps
# the daemon's memfd itself, not a page-cache copy.  The fallback says why.
. "${top_srcdir:-.}/tests/mount/lib.sh"

status_field() { "$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/.status" "$2"; }

# Column bytes the daemon served itself so far (reads + writes), from .status.
served() { "$PYTHON3" -c 'import json,sys; io=json.load(open(sys.argv[1]))["served_io"]; print(io["read_bytes"] + io["write_bytes"])' "$1/.status"; }

# Writes COLUMN through a mapping and read(2), then reads it back both ways,
# from fresh processes, with the kernel's cached copy dropped in between.
exercise()
{
	"$PYTHON3" -c 'import numpy as np, sys; a = np.memmap(sys.argv[1], dtype="<f8", mode="r+"); a[:] = np.arange(a.size); a.flush()' "$1"
	printf 'ABCDEFGH' | dd of="$1" bs=8 seek=1 conv=notrunc status=none
	sync
	echo 1 >/proc/sys/vm/drop_caches 2>/dev/null
	cat "$1" >/dev/null
	"$PYTHON3" -c 'import numpy as np, sys; print(np.memmap(sys.argv[1], dtype="<f8", mode="r")[2:].sum())' "$1"
}

# Passthrough should be in force here when the kernel is new enough, was
# built with it (where its config can be read) and we hold CAP_SYS_ADMIN.
expect_passthrough()
{
	_rel=$(uname -r)
	_maj=${_rel%%.*}
	_min=${_rel#*.}
	_min=${_min%%[!0-9]*}
	[ "$_maj" -gt 6 ] || { [ "$_maj" -eq 6 ] && [ "$_min" -ge 9 ]; } || return 1
	_cap=$(awk '/^CapEff/ { print $2 }' /proc/self/status)
	[ $((0x$_cap >> 21 & 1)) = 1 ] || return 1
	if [ -r /proc/config.gz ]; then
		zcat /proc/config.gz | grep -q '^CONFIG_FUSE_PASSTHROUGH=y' || return 1
	elif [ -r "/boot/config-$_rel" ]; then
		grep -q '^CONFIG_FUSE_PASSTHROUGH=y' "/boot/config-$_rel" || return 1
	fi
	return 0
}

mk_table()
{
	mkdir "$1" && printf '{"rows": 4096, "columns": [{"name": "x", "type": "float64"}]}' >"$1/meta.json"
}

section "default mount"
start_daemon
mk_table "$MNT/t" || fatal "cannot create a table"
mode=$(status_field "$MNT" data_path)
reason=$(status_field "$MNT" data_path_reason)
note "data path: $mode ($reason)"
if expect_passthrough; then
	check_eq "passthrough in force on kernel $(uname -r) with CAP_SYS_ADMIN" passthrough "$mode"
	check_eq "data written and read back" 8386559.0 "$(exercise "$MNT/t/x")"
	check_eq "no column byte went through the daemon" 0 "$(served "$MNT")"
	check "startup log names the data path" grep -q "data path: passthrough" "$DLOG"
else
	check_eq "page cache where passthrough cannot be had" "page cache" "$mode"
	check "the reason is given" test -n "$reason"
fi
stop_daemon

section "--no-passthrough forces the page cache"
start_daemon --no-passthrough
mk_table "$MNT/t" || fatal "cannot create a table"
check_eq "data path" "page cache" "$(status_field "$MNT" data_path)"
check_eq "reason" "--no-passthrough was given" "$(status_field "$MNT" data_path_reason)"
check_eq "data written and read back" 8386559.0 "$(exercise "$MNT/t/x")"
check "column bytes went through the daemon" test "$(served "$MNT")" -gt 0
stop_daemon

section "without CAP_SYS_ADMIN: page cache, and the reason says why"
# An unprivileged user mounts through the setuid fusermount3.  Done in a
# private mount namespace where /dev/fuse is usable by that user (it may be
# root-only on the host); the namespace, its mount and the daemon all end
# with the subshell.
U=65534
if expect_passthrough && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null &&
	command -v setpriv >/dev/null; then
	UM=$(mktemp -d "${TMPDIR:-/tmp}/tablefs-umnt.XXXXXX")
	UM=$(cd "$UM" && pwd -P)
	chown "$U:$U" "$UM"
	unshare -m --propagation private sh -s "$TABLEFS" "$UM" "$TMPD" "$U" >"$TMPD/unpriv.out" 2>&1 <<'SH'
TABLEFS=$1 UM=$2 TMPD=$3 U=$4
as_u() { setpriv --reuid="$U" --regid="$U" --clear-groups "$@"; }
mknod -m 666 "$TMPD/fuse" c 10 229 && mount --bind "$TMPD/fuse" /dev/fuse || exit 1
as_u "$TABLEFS" -f "$UM" 2>"$TMPD/udaemon.log" &
pid=$!
n=500
until grep -q " $UM " /proc/self/mountinfo; do
	n=$((n - 1))
	if [ $n = 0 ] || ! kill -0 $pid 2>/dev/null; then
		echo "no mount"; cat "$TMPD/udaemon.log"; kill $pid 2>/dev/null; wait $pid; exit 1
	fi
	sleep 0.02
done
as_u sh -c "mkdir '$UM/t' && printf '{\"rows\": 8, \"columns\": [{\"name\": \"x\", \"type\": \"int64\"}]}' >'$UM/t/meta.json'" && echo created
as_u cat "$UM/.status"
echo "bytes=$(as_u cat "$UM/t/x" | wc -c)"
as_u fusermount3 -u "$UM"
wait $pid
echo "exit=$?"
SH
	rmdir "$UM"
	out=$(cat "$TMPD/unpriv.out")
	case $out in *created*) pass ;; *) fail "an unprivileged mount could not create a table: $out" ;; esac
	case $out in *'"data_path":	"page cache"'*) pass ;; *) fail "unprivileged data path is not page cache: $out" ;; esac
	case $out in *CAP_SYS_ADMIN*) pass ;; *) fail "the reason does not name CAP_SYS_ADMIN: $out" ;; esac
	case $out in *bytes=64*) pass ;; *) fail "column not served in page-cache mode: $out" ;; esac
	case $out in *exit=0*) pass ;; *) fail "unprivileged daemon did not exit 0: $out" ;; esac
else
	note "skipped: needs root, unshare, setpriv and a kernel with passthrough"
fi

finish
