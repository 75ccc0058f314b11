#!/bin/sh
# clients: several processes on one column at once: a shared mapping sees
# another process's writes, MAP_PRIVATE (numpy mode "c") changes nothing for
# others, flock and fcntl locks on columns and meta.json work between
# processes.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
T=$MNT/c
mkdir "$T" || fatal "mkdir $T"
expect_ok colcheck meta "$T/meta.json" \
	'{"rows": 65536, "columns": [{"name": "x", "type": "float64"}, {"name": "y", "type": "uint8"}]}'
check "fill x" tfs fill "$T" x 7 "$TMPD/x.ref"
TFSPY="$PYDIR/tfs.py"

# run_watch COLUMN OFF BYTE WRITER...: a process maps COLUMN, then WRITER
# (run with OFF and BYTE appended) changes byte OFF; the mapping must show it.
run_watch()
{
	_col=$1
	_off=$2
	_byte=$3
	shift 3
	rm -f "$TMPD/ready" "$TMPD/go"
	start_helper "$PYTHON3" "$TFSPY" watch "$_col" "$TMPD/ready" "$TMPD/go" "$_off" "$_byte"
	_w=$HPID
	wait_for 30 "$_w" test -e "$TMPD/ready" || fatal "the watcher did not get ready"
	expect_ok "$@" "$_col" "$_off" "$_byte"
	touch "$TMPD/go"
	wait_helper "$_w"
	check_eq "watcher of $_col saw the write by: $1 $2" 0 $?
}

section "a shared mapping sees another process's writes at once"
# colcheck pwrite PATH OFF LEN BYTE: one byte at OFF
pwrite1() { "$COLCHECK" pwrite "$1" "$2" 1 "$3"; }
run_watch "$T/x" 12345 201 pwrite1
run_watch "$T/x" 0 17 "$COLCHECK" mapwrite
run_watch "$T/y" 65535 99 "$COLCHECK" mapwrite
run_watch "$T/y" 4097 3 pwrite1
check_eq "read(2) sees the mapped write" 99 \
	"$(dd if="$T/y" bs=1 skip=65535 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')"

section "two numpy processes: r+ writer, r reader"
py -c 'import numpy as np, sys
a = np.memmap(sys.argv[1], dtype="<f8", mode="r+")
a[100:200] = 42.5' "$T/x" || fail "numpy r+ write"
check_eq "numpy r reader in a new process" "4250.0" \
	"$(py -c 'import numpy as np, sys; print(np.memmap(sys.argv[1], dtype="<f8", mode="r")[100:200].sum())' "$T/x")"

section "MAP_PRIVATE (numpy mode c) changes nothing for others"
before=$(sha256sum <"$T/x")
check "private writes stay private" tfs private "$T" x
check_eq "x after a private mapping's writes" "$before" "$(sha256sum <"$T/x")"

# lock_test FILE KIND: while one process holds an exclusive KIND lock on FILE,
# another cannot take one; after it lets go, it can.
lock_test()
{
	rm -f "$TMPD/ready" "$TMPD/go"
	start_helper "$PYTHON3" "$TFSPY" holdlock "$1" "$2" "$TMPD/ready" "$TMPD/go"
	_h=$HPID
	wait_for 30 "$_h" test -e "$TMPD/ready" || fatal "the lock holder did not get ready"
	_r=$(tfs trylock "$1" "$2" 2>&1)
	case $_r in
	EAGAIN | EACCES | EWOULDBLOCK) pass ;;
	*) fail "$2 on $1 while another process holds it: expected EAGAIN, got $_r" ;;
	esac
	if [ "$2" = flock ]; then
		check "flock -n -x fails while held" sh -c '! flock -n -x "$1" true' sh "$1"
		check "flock -n -s fails while held" sh -c '! flock -n -s "$1" true' sh "$1"
		expect_errno EAGAIN colcheck flock "$1" ex
	fi
	touch "$TMPD/go"
	wait_helper "$_h"
	check_eq "lock holder exit status" 0 $?
	check_eq "$2 on $1 after release" OK "$(tfs trylock "$1" "$2" 2>&1)"
	if [ "$2" = flock ]; then
		check "flock -n -x works after release" flock -n -x "$1" true
	fi
}

section "flock between processes on a column and on meta.json"
lock_test "$T/x" flock
lock_test "$T/meta.json" flock
section "fcntl locks (lockf) between processes"
lock_test "$T/x" lockf
lock_test "$T/meta.json" lockf
check "shared flocks coexist" flock -n -s "$T/y" flock -n -s "$T/y" true

section "meta.json: concurrent writers, readers during changes"
W=$MNT/w
mkdir "$W" || fatal "mkdir $W"
expect_ok colcheck meta "$W/meta.json" '{"rows": 100, "columns": [{"name": "base", "type": "int16"}]}'
# Two processes write documents one byte per write(2) at the same time:
# each open is its own stream, both documents apply whole.
start_helper "$COLCHECK" meta "$W/meta.json" '{"columns": [{"name": "left", "type": "int32", "shape": [2]}]}' 1
h1=$HPID
start_helper "$COLCHECK" meta "$W/meta.json" '{"columns": [{"name": "right", "type": "float32"}]}' 1
h2=$HPID
wait_helper "$h1"
check_eq "first byte-by-byte writer" 0 $?
wait_helper "$h2"
check_eq "second byte-by-byte writer" 0 $?
check_eq "both columns made" "base left right" \
	"$(meta_field "$W" '" ".join(sorted(c["name"] for c in m["columns"]))')"
sizes_match_meta "$W"
check "an open meta.json is a snapshot" tfs snapshot "$W"
start_helper "$PYTHON3" "$TFSPY" rowsloop "$W" 300
h1=$HPID
check "meta.json is whole and consistent while rows change" tfs metaloop "$W" 300
wait_helper "$h1"
check_eq "rows changer" 0 $?
sizes_match_meta "$W"

section "data survives all of it"
py -c 'import numpy as np, sys
ref = np.fromfile(sys.argv[2], dtype=np.uint8)
ref[12345] = 201; ref[0] = 17
ref.view("<f8")[100:200] = 42.5
open(sys.argv[2], "wb").write(ref.tobytes())' "$T/x" "$TMPD/x.ref"
same_content "$T/x" "$TMPD/x.ref"

finish
