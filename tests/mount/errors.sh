#!/bin/sh
# errors: every refused schema change (EINVAL) and every refused column
# operation (EPERM) leaves the table byte-identical: meta.json, every
# column's size and data.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
T=$MNT/t
META=$T/meta.json
mkdir "$T" || fatal "mkdir $T"
expect_ok colcheck meta "$META" \
	'{"rows": 10, "columns": [{"name": "a", "type": "int64"}, {"name": "b", "type": "float64", "shape": [2]}, {"name": "s", "type": "bytes16"}]}'
check "fill a" tfs fill "$T" a 3
check "fill b" tfs fill "$T" b 4
check "fill s" tfs fill "$T" s 5
SNAP=$TMPD/snap.t
snapshot "$T" >"$SNAP"

# bad DOC: writing DOC to meta.json fails with EINVAL and changes nothing.
# A complete document is applied by the write(2) that completes it, so the
# error is write(2)'s, not close(2)'s.
bad()
{
	expect_errno "EINVAL write" colcheck meta "$META" "$1"
	unchanged "after $1" "$T" "$SNAP"
}

n128=$(printf '%0128d' 0 | tr 0 n)
n129=${n128}n

section "invalid documents: EINVAL from write(2), table unchanged"
expect_errno EINVAL colcheck meta "$META" 'not json'
unchanged "after not json" "$T" "$SNAP"
expect_errno EINVAL colcheck meta "$META" '{"rows": 10, "columns": [}'
unchanged "after a stray }" "$T" "$SNAP"
bad '[1, 2]'
bad '"rows"'
bad '{"rows": 10, "columns": [{"name": "x", "type": "float128"}]}'
bad '{"columns": [{"name": "x", "type": "int128"}]}'
bad '{"columns": [{"name": "x", "type": "complex64"}]}'
bad '{"columns": [{"name": "x", "type": "bytes"}]}'
bad '{"columns": [{"name": "x", "dtype": "<c16"}]}'
bad '{"columns": [{"name": "x", "dtype": "O"}]}'
section "big-endian dtypes"
bad '{"columns": [{"name": "x", "dtype": ">f8"}]}'
bad '{"columns": [{"name": "x", "dtype": ">i4"}]}'
bad '{"columns": [{"name": "x", "dtype": ">M8[ns]"}]}'
section "bad and reserved names in a document"
for name in a.b -x "" "a b" "a/b" $n129 meta.json . .. .status x.npy "t\u00e9" "a:b"; do
	bad "{\"columns\": [{\"name\": \"$name\", \"type\": \"int8\"}]}"
done
bad '{"columns": [{"type": "int8"}]}'
bad '{"columns": [{"name": "x"}]}'
bad '{"columns": [{"name": 5, "type": "int8"}]}'
bad '{"columns": 5}'
bad '{"columns": [5]}'
section "duplicate names in one document"
bad '{"columns": [{"name": "x", "type": "int8"}, {"name": "x", "type": "int8"}]}'
bad '{"columns": [{"name": "a", "type": "int64"}, {"name": "a", "type": "int64"}]}'
section "type or shape change of an existing column"
bad '{"columns": [{"name": "a", "type": "float64"}]}'
bad '{"columns": [{"name": "a", "type": "int32"}]}'
bad '{"columns": [{"name": "a", "dtype": "<u8"}]}'
bad '{"columns": [{"name": "a", "type": "datetime64[ns]"}]}'
bad '{"columns": [{"name": "a", "type": "int64", "shape": [1]}]}'
bad '{"columns": [{"name": "b", "type": "float64", "shape": [3]}]}'
bad '{"columns": [{"name": "b", "type": "float64"}]}'
bad '{"columns": [{"name": "b", "type": "float64", "shape": [1, 2]}]}'
bad '{"columns": [{"name": "s", "type": "bytes8"}]}'
section "bad rows and shapes"
bad '{"rows": -1}'
bad '{"rows": 1.5}'
bad '{"rows": "10"}'
bad '{"rows": null}'
bad '{"columns": [{"name": "x", "type": "int8", "shape": [-1]}]}'
bad '{"columns": [{"name": "x", "type": "int8", "shape": [1.5]}]}'
section "sizes that overflow or cannot be had: refused, daemon alive"
# bad_either DOC: EINVAL or ENOSPC both say "no"; the table stays.
bad_either()
{
	_r=$(colcheck meta "$META" "$1" 2>/dev/null | cut -d' ' -f1)
	case $_r in
	EINVAL | ENOSPC) pass ;;
	*) fail "colcheck meta $META $1: expected EINVAL or ENOSPC, got $_r" ;;
	esac
	unchanged "after $1" "$T" "$SNAP"
}
bad_either '{"rows": 4611686018427387904}'
bad_either '{"rows": 9223372036854775807}'
bad_either '{"rows": 18446744073709551615}'
bad_either '{"rows": 18446744073709551616}'
bad '{"rows": 1e300}'
bad_either '{"columns": [{"name": "x", "type": "int64", "shape": [2147483648]}]}'
bad_either '{"columns": [{"name": "x", "type": "int64", "shape": [65536, 65536, 65536]}]}'
bad_either '{"columns": [{"name": "x", "type": "bytes4294967296"}]}'
bad_either '{"columns": [{"name": "x", "type": "int8", "shape": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]}]}'
printf '%010000d' 0 | tr 0 '[' >"$TMPD/deep.json"
expect_errno EINVAL colcheck meta "$META" "@$TMPD/deep.json"
unchanged "after 10000 open brackets" "$T" "$SNAP"
printf '{"rows": 10, "pad": "%01000000d", "columns": [{"name": "a", "type": "int8"}]}' 0 >"$TMPD/big.json"
r=$(colcheck meta "$META" "@$TMPD/big.json" 2>/dev/null)
case $r in OK*) fail "a 1 MB document with a type change was accepted" ;; *) pass ;; esac
unchanged "after a 1 MB document" "$T" "$SNAP"
check "the daemon is alive" test -r "$MNT/.status"

section "all or nothing: a good change next to a bad one is not applied"
bad '{"rows": 20, "columns": [{"name": "new", "type": "int8"}, {"name": "a", "type": "int32"}]}'
bad '{"rows": 20, "columns": [{"name": "new", "type": "int8"}, {"name": "new2", "type": "nope"}]}'
check "no column new" test ! -e "$T/new"

section "the error of an incomplete document comes from close(2)"
r=$(colcheck meta "$META" '{"rows": 11' 2>/dev/null)
check_eq "write an incomplete document, close" "EINVAL close" "$r"
unchanged "after an incomplete document" "$T" "$SNAP"
r=$(tfs writemeta "$T" '{"columns": [{"name": "a.b", "type": "int8"}]}' 2>&1)
check_eq "python json.dump of a bad name (error at close)" EINVAL "$r"
unchanged "after python's bad document" "$T" "$SNAP"
check "printf of a bad document fails in the shell" \
	sh -c '! printf "{\"rows\": -3}" 2>/dev/null >"$1"' sh "$META"
unchanged "after printf's bad document" "$T" "$SNAP"

section ".status shows the reason of the last refused change"
check "last_error is a string" py -c '
import json, sys
s = json.load(open(sys.argv[1]))
t = [x for x in s["tables"] if x["name"] == "t"][0]
assert isinstance(t["last_error"], str) and t["last_error"], t' "$MNT/.status"

# bad_why DOC REASON: DOC is refused (EINVAL at write or close), the table
# is unchanged, and last_error in .status contains REASON.
bad_why()
{
	r=$(colcheck meta "$META" "$1" 2>/dev/null)
	case $r in
	"EINVAL write" | "EINVAL close") pass ;;
	*) fail "$(printf '%s' "$1" | cut -c 1-100): expected EINVAL, got $r" ;;
	esac
	unchanged "after $(printf '%s' "$1" | cut -c 1-100)" "$T" "$SNAP"
	check "last_error of $(printf '%s' "$1" | cut -c 1-60) says '$2'" py -c '
import json, sys
t = [x for x in json.load(open(sys.argv[1]))["tables"] if x["name"] == "t"][0]
assert sys.argv[2] in (t["last_error"] or ""), t["last_error"]' "$MNT/.status" "$2"
}

section "misspelt keys, numbers too large, BOM, deep nesting, white space: a reason each"
bad_why '{"row": 20}' 'unknown key "row"'
bad_why '{"rows": 10, "column": [{"name": "x", "type": "int8"}]}' 'unknown key "column"'
bad_why '{"columns": [{"name": "x", "typ": "int8", "type": "int8"}]}' 'unknown key "typ"'
bad_why '{"rows": 1e30}' '"rows" too large: at most 9007199254740992'
bad_why '{"rows": 18446744073709551616}' 'too large'
bad_why '{"columns": [{"name": "x", "type": "int8", "shape": [4294967296]}]}' 'shape dimension too large'
bad_why "$(printf '\357\273\277{"rows": 20}')" 'byte order mark'
deep=$(py -c 'print("{\"rows\": 20, \"columns\": " + "[" * 1001 + "]" * 1001 + "}")')
bad_why "$deep" 'nested too deeply'
bad_why '   ' 'empty document'
bad_why "$(printf ' \n\t\n')" 'empty document'
check "meta.json as read, written back, applies" py -c '
import sys
p = sys.argv[1]
text = open(p).read()
with open(p, "w") as f:
    f.write(text)' "$META"
unchanged "after writing meta.json back" "$T" "$SNAP"
check "a newline written after a document is fine" py -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.write(fd, b"{\"rows\": 10}")
os.write(fd, b"\n")
os.close(fd)' "$META"
check "a document over 16 MiB: EFBIG, with the reason in last_error" py -c '
import errno, json, os, sys
fd = os.open(sys.argv[1] + "/meta.json", os.O_WRONLY)
os.write(fd, b"{\"rows\": 10")
try:
    for i in range(17):
        os.write(fd, b" " * (1 << 20))
    sys.exit("accepted")
except OSError as e:
    assert e.errno == errno.EFBIG, e
try:
    os.close(fd)
except OSError as e:
    assert e.errno == errno.EFBIG, e
t = [x for x in json.load(open(sys.argv[2]))["tables"] if x["name"] == "t"][0]
assert "larger than" in (t["last_error"] or ""), t["last_error"]' "$T" "$MNT/.status"
unchanged "after a document over 16 MiB" "$T" "$SNAP"

section "O_TRUNC on meta.json is fine; an empty write changes nothing"
expect_ok colcheck open "$META" w,trunc
: >"$META" || fail ": > meta.json failed"
unchanged "after an empty O_TRUNC open" "$T" "$SNAP"

section "writes past the end of a column: EPERM, nothing changed"
check_eq "size of a" 80 "$(size_of "$T/a")"
expect_errno EPERM colcheck pwrite "$T/a" 80 8
expect_errno EPERM colcheck pwrite "$T/a" 80 1
expect_errno EPERM colcheck pwrite "$T/a" 76 8
expect_errno EPERM colcheck pwrite "$T/a" 0 81
expect_errno EPERM colcheck pwrite "$T/a" 4096 1
expect_errno EPERM colcheck pwrite "$T/a" 1048576 4096
expect_errno EPERM colcheck append "$T/a" 8
expect_errno EPERM colcheck pwrite "$T/s" 150 20
unchanged "after writes past the end" "$T" "$SNAP"
check "dd past the end fails" sh -c '! dd if=/dev/zero of="$1" bs=8 seek=10 count=1 conv=notrunc 2>/dev/null' sh "$T/a"
check "dd straddling the end fails" sh -c '! dd if=/dev/zero of="$1" bs=20 seek=70 count=1 oflag=seek_bytes conv=notrunc 2>/dev/null' sh "$T/a"
unchanged "after dd past the end" "$T" "$SNAP"

section "page cache: a write crossing the end of an uncached column: EPERM, nothing written"
# Through the page cache the kernel would split such a write at the first
# page it has not cached and send the pieces one by one.  Passthrough cuts
# it short at a page boundary instead (see COLUMNS in tablefs(1)).
if [ "$(py -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_path"])' "$MNT/.status")" = "page cache" ]; then
	mkdir "$MNT/w" || fatal "mkdir w"
	expect_ok colcheck meta "$MNT/w/meta.json" '{"rows": 1024, "columns": [{"name": "x", "type": "int64"}]}'
	expect_ok py -c '
import errno, os, sys
p = sys.argv[1]
for off, n in ((4000, 5000), (8000, 300), (100, 300000)):
    fd = os.open(p, os.O_WRONLY)
    try:
        got = "wrote %d" % os.pwrite(fd, b"\x07" * n, off)
    except OSError as e:
        got = errno.errorcode[e.errno]
    os.close(fd)
    if got != "EPERM":
        print("PROBLEM: pwrite(%d bytes at %d) of an 8192-byte column: %s" % (n, off, got))
        sys.exit(1)
    if any(open(p, "rb").read()):
        print("PROBLEM: pwrite(%d bytes at %d) changed the column" % (n, off))
        sys.exit(1)
print("OK")' "$MNT/w/x"
	check "rm -r w" rm -r "$MNT/w"
else
	note "passthrough: not this data path"
fi

section "truncate to another size: EPERM; to its own size: fine"
expect_errno EPERM colcheck truncate "$T/a" 40
expect_errno EPERM colcheck truncate "$T/a" 160
expect_errno EPERM colcheck truncate "$T/a" 0
expect_errno EPERM colcheck ftruncate "$T/a" 0
expect_errno EPERM colcheck ftruncate "$T/a" 88
check "truncate -s 80 (its own size)" truncate -s 80 "$T/a"
expect_ok colcheck ftruncate "$T/a" 80
expect_ok colcheck truncate "$T/s" 160
check "truncate -s 0 fails" sh -c '! truncate -s 0 "$1" 2>/dev/null' sh "$T/a"
unchanged "after truncates" "$T" "$SNAP"

section "O_TRUNC on a column: EPERM (numpy mode w+ on an existing column fails)"
expect_errno EPERM colcheck open "$T/a" w,trunc
expect_errno EPERM colcheck open "$T/a" rw,trunc
expect_errno EPERM colcheck open "$T/a" w,creat,trunc
expect_errno EPERM tfs wplus "$T" a
check "shell > column fails" sh -c '! printf x >"$1" 2>/dev/null' sh "$T/b"
unchanged "after O_TRUNC opens" "$T" "$SNAP"
expect_ok colcheck open "$T/a" rw
expect_ok colcheck open "$T/a" w,creat
expect_errno EEXIST colcheck open "$T/a" w,creat,excl

section "no files but columns in a table: EPERM"
expect_errno EPERM colcheck open "$T/newfile" w,creat
expect_errno EPERM colcheck open "$T/newfile" rw,creat,excl
check "touch newfile fails" sh -c '! touch "$1" 2>/dev/null' sh "$T/newfile"
expect_errno EPERM colcheck mknod "$T/newnode"
expect_errno EPERM colcheck mkdir "$T/sub"
expect_errno EPERM colcheck symlink a "$T/sym"
expect_errno EPERM colcheck link "$T/a" "$T/hard"
check_eq "ls after refused creations" "a b meta.json s" "$(ls "$T" | tr '\n' ' ' | sed 's/ $//')"
unchanged "after refused creations" "$T" "$SNAP"
check "touch of an existing column works" touch "$T/a"

section "meta.json is generated: no unlink while there are columns, no chmod/chown"
expect_errno EPERM colcheck unlink "$META"
expect_errno EPERM colcheck chmod "$META" 600
expect_errno EPERM colcheck chown "$META" 1 1
expect_errno EPERM colcheck rename "$META" "$T/meta2"
expect_errno ENOENT colcheck open "$T/nonexistent" r
unchanged "after meta.json operations" "$T" "$SNAP"

section "a good change after all the refused ones"
v0=$(meta_field "$T" 'm["version"]')
expect_ok colcheck meta "$META" '{"rows": 12, "columns": [{"name": "c", "type": "int8"}]}'
check "version grew" test "$(meta_field "$T" 'm["version"]')" -gt "$v0"
check_eq "c size" 12 "$(size_of "$T/c")"
expect_ok colcheck pwrite "$T/c" 11 1
expect_ok colcheck pwrite "$T/c" 0 12
expect_errno EPERM colcheck pwrite "$T/c" 12 1
expect_ok colcheck pwrite "$T/c" 12 0
sizes_match_meta "$T"

finish
