#!/bin/sh
# resize: version grows on every change; a change of rows resizes every
# column, keeping the old data and zero-filling new rows; a column left out
# of a document is kept; a process holding a mapping keeps its old memory,
# without SIGBUS, while the column is resized and deleted.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
T=$MNT/r
META=$T/meta.json
mkdir "$T" || fatal "mkdir $T"

version() { meta_field "$T" 'm["version"]'; }

# expect_content COLUMN KEEP SIZE REF: the first KEEP bytes of REF, then
# zeros up to SIZE bytes.
expect_content()
{
	{
		head -c "$2" "$4"
		[ "$3" -gt "$2" ] && head -c $(($3 - $2)) /dev/zero
	} >"$TMPD/expect"
	check_eq "size of $1" "$3" "$(size_of "$1")"
	same_content "$1" "$TMPD/expect"
}

section "version grows on every change"
v0=$(version)
expect_ok colcheck meta "$META" \
	'{"rows": 10, "columns": [{"name": "a", "type": "int64"}, {"name": "m", "type": "float32", "shape": [2, 2]}, {"name": "s", "type": "bytes16"}]}'
v1=$(version)
check "version grew on new columns ($v0 -> $v1)" test "$v1" -gt "$v0"
check "fill a" tfs fill "$T" a 1 "$TMPD/a.ref"
check "fill m" tfs fill "$T" m 2 "$TMPD/m.ref"
check "fill s" tfs fill "$T" s 3 "$TMPD/s.ref"
check_eq "writing data does not change the version" "$v1" "$(version)"

section "growing rows keeps the data, new rows are zero"
expect_ok colcheck meta "$META" '{"rows": 25}'
v2=$(version)
check "version grew on rows 10 -> 25 ($v1 -> $v2)" test "$v2" -gt "$v1"
check_eq "rows" 25 "$(meta_field "$T" 'm["rows"]')"
expect_content "$T/a" 80 200 "$TMPD/a.ref"
expect_content "$T/m" 160 400 "$TMPD/m.ref"
expect_content "$T/s" 160 400 "$TMPD/s.ref"
sizes_match_meta "$T"

section "shrinking rows keeps the first rows"
expect_ok colcheck meta "$META" '{"rows": 4, "columns": [{"name": "a", "type": "int64"}]}'
v3=$(version)
check "version grew on rows 25 -> 4 ($v2 -> $v3)" test "$v3" -gt "$v2"
expect_content "$T/a" 32 32 "$TMPD/a.ref"
expect_content "$T/m" 64 64 "$TMPD/m.ref"
expect_content "$T/s" 64 64 "$TMPD/s.ref"
expect_ok colcheck meta "$META" '{"rows": 10}'
expect_content "$T/a" 32 80 "$TMPD/a.ref"
expect_content "$T/s" 64 160 "$TMPD/s.ref"
sizes_match_meta "$T"

section "a column left out of a document is kept"
v4=$(version)
expect_ok tfs writemeta "$T" '{"columns": [{"name": "n", "type": "uint8"}]}'
v5=$(version)
check "version grew on a new column ($v4 -> $v5)" test "$v5" -gt "$v4"
check_eq "columns" "a m n s" "$(meta_field "$T" '" ".join(sorted(c["name"] for c in m["columns"]))')"
check_eq "rows kept" 10 "$(meta_field "$T" 'm["rows"]')"
check_eq "n size" 10 "$(size_of "$T/n")"
expect_content "$T/a" 32 80 "$TMPD/a.ref"
expect_content "$T/m" 64 160 "$TMPD/m.ref"
expect_ok tfs writemeta "$T" '{"rows": 10, "columns": []}'
check_eq "columns: [] deletes nothing" "a m n s" "$(meta_field "$T" '" ".join(sorted(c["name"] for c in m["columns"]))')"
expect_ok tfs writemeta "$T" '{}'
check_eq "{} deletes nothing" "a m n s" "$(meta_field "$T" '" ".join(sorted(c["name"] for c in m["columns"]))')"
expect_ok tfs writemeta "$T" '{"columns": [{"name": "a", "dtype": "<i8"}, {"name": "m", "type": "float32", "shape": [2, 2]}]}'
note "restating existing columns keeps their data"
expect_content "$T/a" 32 80 "$TMPD/a.ref"
expect_content "$T/m" 64 160 "$TMPD/m.ref"

section "rm of a column is a schema change"
v6=$(version)
check "rm column n" rm "$T/n"
check "n is gone" test ! -e "$T/n"
check_eq "n gone from meta.json" "a m s" "$(meta_field "$T" '" ".join(sorted(c["name"] for c in m["columns"]))')"
check "version grew on rm ($v6 -> $(version))" test "$(version)" -gt "$v6"
sizes_match_meta "$T"

section "rows 0 empties the columns, they stay"
expect_ok colcheck meta "$META" '{"rows": 0}'
check_eq "a size at 0 rows" 0 "$(size_of "$T/a")"
check_eq "columns stay at 0 rows" "a m s" "$(meta_field "$T" '" ".join(sorted(c["name"] for c in m["columns"]))')"
expect_ok colcheck meta "$META" '{"rows": 3}'
expect_content "$T/a" 0 24 "$TMPD/a.ref"

section "resize and delete while another process maps the column"
M=$MNT/mapped
mkdir "$M" || fatal "mkdir $M"
expect_ok colcheck meta "$M/meta.json" '{"rows": 4096, "columns": [{"name": "big", "type": "int64"}, {"name": "other", "type": "int32"}]}'
check "fill big" tfs fill "$M" big 9 "$TMPD/big.ref"
start_helper "$PYTHON3" "$PYDIR/tfs.py" mapper "$M/big" "$TMPD/ready" "$TMPD/go"
mapper=$HPID
wait_for 30 "$mapper" test -e "$TMPD/ready" || fatal "the mapper did not get ready"
check_eq "mapper mapped" 32768 "$(cat "$TMPD/ready")"
expect_ok colcheck meta "$M/meta.json" '{"rows": 100}'
expect_content "$M/big" 800 800 "$TMPD/big.ref"
check_eq "other resized too" 400 "$(size_of "$M/other")"
expect_ok colcheck meta "$M/meta.json" '{"rows": 5000}'
expect_content "$M/big" 800 40000 "$TMPD/big.ref"
check "rm the mapped column" rm "$M/big"
check "big is gone" test ! -e "$M/big"
touch "$TMPD/go"
wait_helper "$mapper"
st=$?
[ "$st" = 135 ] && fail "the mapper died of SIGBUS"
check_eq "mapper read its whole old mapping intact (exit status)" 0 "$st"

section "writes through a shared mapping, not msync'ed, survive a resize"
expect_ok colcheck meta "$M/meta.json" '{"rows": 2048, "columns": [{"name": "w", "type": "float64"}]}'
rm -f "$TMPD/ready" "$TMPD/go"
start_helper "$PYTHON3" "$PYDIR/tfs.py" mapwriter "$M/w" "$TMPD/ready" "$TMPD/go" 12 "$TMPD/w.ref"
writer=$HPID
wait_for 30 "$writer" test -e "$TMPD/ready" || fatal "the map writer did not get ready"
same_content "$M/w" "$TMPD/w.ref"
expect_ok colcheck meta "$M/meta.json" '{"rows": 4096}'
expect_content "$M/w" 16384 32768 "$TMPD/w.ref"
touch "$TMPD/go"
wait_helper "$writer"
check_eq "map writer (exit status)" 0 $?
expect_content "$M/w" 16384 32768 "$TMPD/w.ref"
check "rm w" rm "$M/w"

section "a mapping of a column shrunk by another process reads its old data"
expect_ok colcheck meta "$M/meta.json" '{"rows": 8192, "columns": [{"name": "big", "type": "int64"}]}'
check_eq "a recreated column is new and zero" "$(head -c 65536 /dev/zero | sha256sum)" "$(sha256sum <"$M/big")"
check "fill big again" tfs fill "$M" big 10 "$TMPD/big.ref"
rm -f "$TMPD/ready" "$TMPD/go"
start_helper "$PYTHON3" "$PYDIR/tfs.py" mapper "$M/big" "$TMPD/ready" "$TMPD/go"
mapper=$HPID
wait_for 30 "$mapper" test -e "$TMPD/ready" || fatal "the mapper did not get ready"
expect_ok colcheck meta "$M/meta.json" '{"rows": 1}'
expect_content "$M/big" 8 8 "$TMPD/big.ref"
touch "$TMPD/go"
wait_helper "$mapper"
st=$?
[ "$st" = 135 ] && fail "the mapper died of SIGBUS after a shrink"
check_eq "mapper after a shrink (exit status)" 0 "$st"
sizes_match_meta "$M"

section "stress: three processes map and read a column while its rows change"
S=$MNT/stress
mkdir "$S" || fatal "mkdir $S"
expect_ok colcheck meta "$S/meta.json" '{"rows": 5000, "columns": [{"name": "v", "type": "int64"}]}'
py -c 'import numpy as np, sys
a = np.memmap(sys.argv[1], dtype="<i8", mode="r+")
a[:] = np.arange(1, a.size + 1)
a.flush()' "$S/v" || fail "filling v"
pids=
for k in 1 2 3; do
	start_helper "$PYTHON3" "$PYDIR/tfs.py" mapstress "$S/v" 300
	pids="$pids $HPID"
done
check "300 rows changes" tfs rowsloop "$S" 300
for p in $pids; do
	wait_helper "$p"
	st=$?
	[ "$st" = 135 ] && fail "a mapper died of SIGBUS"
	check_eq "mapper $p (exit status)" 0 "$st"
done
sizes_match_meta "$S"

finish
