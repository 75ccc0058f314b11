#!/bin/sh
# names: which table names mkdir takes, mv of tables and of columns within
# a table, the errors of renames across tables or to bad names, rm -r,
# rmdir, unlink of meta.json.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
n128=$(printf '%0128d' 0 | tr 0 n)
n129=${n128}n

section "mkdir: good and bad table names"
for name in a A-b_9 9 _ x- "$n128"; do
	expect_ok colcheck mkdir "$MNT/$name"
done
for name in a.b -x "a b" .hidden x.npy meta.json "a:b" "té" "a*"; do
	expect_errno EINVAL colcheck mkdir "$MNT/$name"
done
expect_errno ENAMETOOLONG colcheck mkdir "$MNT/$n129"
expect_errno EEXIST colcheck mkdir "$MNT/a"
check_eq "ls after the mkdirs" "$(printf '%s\n' 9 A-b_9 _ a "$n128" x- | LC_ALL=C sort)" "$(ls "$MNT" | LC_ALL=C sort)"
check_eq "name of the 128-byte table" "$n128" "$(meta_field "$MNT/$n128" 'm["name"]')"
for name in a A-b_9 9 _ x- "$n128"; do
	expect_ok colcheck rmdir "$MNT/$name"
done
check_eq "root empty again" "" "$(ls "$MNT")"

section "good column names in a document"
mkdir "$MNT/t" || fatal "mkdir t"
expect_ok tfs writemeta "$MNT/t" "{\"rows\": 3, \"columns\": [{\"name\": \"A-b_9\", \"type\": \"int8\"}, {\"name\": \"meta\", \"type\": \"int8\"}, {\"name\": \"$n128\", \"type\": \"int8\"}, {\"name\": \"x-\", \"type\": \"int8\"}]}"
check_eq "columns" "$(printf '%s\n' A-b_9 meta "$n128" meta.json x- | LC_ALL=C sort)" "$(ls "$MNT/t" | LC_ALL=C sort)"
check "rm -r of a table with columns" rm -r "$MNT/t"
check "t is gone" test ! -e "$MNT/t"

T=$MNT/t1
mkdir "$T" "$MNT/t2" || fatal "mkdir t1 t2"
expect_ok colcheck meta "$T/meta.json" '{"rows": 100, "columns": [{"name": "x", "type": "float64"}, {"name": "y", "type": "int32"}]}'
check "fill x" tfs fill "$T" x 11 "$TMPD/x.ref"
expect_ok colcheck meta "$MNT/t2/meta.json" '{"rows": 5, "columns": [{"name": "z", "type": "int8"}]}'

section "mv of a column within its table"
v0=$(meta_field "$T" 'm["version"]')
check "mv x xx" mv "$T/x" "$T/xx"
check "x is gone" test ! -e "$T/x"
same_content "$T/xx" "$TMPD/x.ref"
check_eq "meta.json after mv" "xx:xx y:y" "$(meta_field "$T" '" ".join(sorted(c["name"] + ":" + c["file"] for c in m["columns"]))')"
check "version grew on mv ($v0 -> $(meta_field "$T" 'm["version"]'))" test "$(meta_field "$T" 'm["version"]')" -gt "$v0"
check "the renamed column works in numpy" tfs verify "$T" xx 11
sizes_match_meta "$T"

section "mv over another column replaces it, as rename(2) does"
expect_ok colcheck meta "$T/meta.json" '{"columns": [{"name": "victim", "type": "int8"}]}'
check "mv y victim" mv "$T/y" "$T/victim"
check_eq "columns after mv over" "victim:int32 xx:float64" \
	"$(meta_field "$T" '" ".join(sorted(c["name"] + ":" + c["type"] for c in m["columns"]))')"
check_eq "size of the moved column" 400 "$(size_of "$T/victim")"
check "mv victim y" mv "$T/victim" "$T/y"
sizes_match_meta "$T"

section "renames that fail"
expect_errno EXDEV tfs rename "$T/xx" "$MNT/t2/xx"
expect_errno EXDEV tfs rename "$T/y" "$MNT/t2/z"
check "mv to another table fails" sh -c '! mv "$1" "$2" 2>/dev/null' sh "$T/xx" "$MNT/t2/xx"
check "xx still in t1" test -e "$T/xx"
check "no xx in t2" test ! -e "$MNT/t2/xx"
expect_errno EINVAL tfs rename "$T/xx" "$T/x.npy"
expect_errno EINVAL tfs rename "$T/xx" "$T/-x"
expect_errno EINVAL tfs rename "$T/xx" "$T/a b"
expect_errno EPERM tfs rename "$T/meta.json" "$T/m"
expect_errno EINVAL colcheck exchange "$T/xx" "$T/y"
expect_errno EEXIST colcheck noreplace "$T/xx" "$T/y"
expect_errno EINVAL tfs rename "$MNT/t2" "$MNT/t.2"
expect_errno ENOENT tfs rename "$T/nothere" "$T/q"
same_content "$T/xx" "$TMPD/x.ref"
check_eq "t1 after failed renames" "meta.json xx y" "$(ls "$T" | tr '\n' ' ' | sed 's/ $//')"
check_eq "t2 after failed renames" "meta.json z" "$(ls "$MNT/t2" | tr '\n' ' ' | sed 's/ $//')"

section "mv of a table"
check "mv t1 t3" mv "$T" "$MNT/t3"
T=$MNT/t3
check "t1 is gone" test ! -e "$MNT/t1"
check_eq "name in meta.json follows mv" t3 "$(meta_field "$T" 'm["name"]')"
check "mv t3 to a longer name" mv "$T" "$MNT/a_much_longer_table_name"
sizes_match_meta "$MNT/a_much_longer_table_name"
check "mv it back" mv "$MNT/a_much_longer_table_name" "$T"
sizes_match_meta "$T"
same_content "$T/xx" "$TMPD/x.ref"
check_eq "ls of the root" "t2 t3" "$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"
check "the moved table still takes schema changes" colcheck meta "$T/meta.json" '{"rows": 200}'
check_eq "size after a change in the moved table" 1600 "$(size_of "$T/xx")"
check "status lists t3, not t1" py -c '
import json, sys
names = sorted(t["name"] for t in json.load(open(sys.argv[1]))["tables"])
assert names == ["t2", "t3"], names' "$MNT/.status"

section "rmdir, rm -r and meta.json"
expect_errno ENOTEMPTY colcheck rmdir "$MNT/t2"
check "t2 still there after rmdir" test -e "$MNT/t2/z"
expect_errno EPERM colcheck unlink "$MNT/t2/meta.json"
check "rm of the last column" rm "$MNT/t2/z"
expect_ok colcheck unlink "$MNT/t2/meta.json"
check "meta.json of a table without columns is gone once unlinked" test ! -e "$MNT/t2/meta.json"
expect_errno ENOENT colcheck unlink "$MNT/t2/meta.json"
expect_ok colcheck rmdir "$MNT/t2"
check "t2 gone" test ! -e "$MNT/t2"
check "rm -r of a table with columns" rm -r "$T"
check "t3 gone" test ! -e "$T"
check_eq "root empty" "" "$(ls "$MNT")"
check "mkdir after rm -r of the same name" mkdir "$T"
check_eq "the new table is empty" "[] 0" "$(meta_field "$T" 'str(m["columns"]) + " " + str(m["rows"])')"
expect_errno ENOENT colcheck rmdir "$MNT/nothere"

finish
