#!/bin/sh
# tools: ordinary tools against a table (tar, cp -r, mv, rsync, vim, touch,
# truncate, sed -i, a mkstemp+rename save, Python's file objects).  Each
# one either works or fails with a clear error; in every case the table's
# bytes and schema stay as they were, and nothing hangs (each tool runs
# under a timeout).  Also: a refused document keeps its error on its handle.
. "${top_srcdir:-.}/tests/mount/lib.sh"

command -v tar >/dev/null || skip "no tar"
command -v rsync >/dev/null || skip "no rsync"
VIM=$(command -v vim) || skip "no vim"

start_daemon --memory-limit 64M
T=$MNT/t
mkdir "$T" || fatal "mkdir $T"
expect_ok colcheck meta "$T/meta.json" \
	'{"rows": 1000, "columns": [{"name": "a", "type": "int32"}, {"name": "b", "type": "float64", "shape": [2]}, {"name": "s", "type": "bytes8"}]}'
check "fill a" tfs fill "$T" a 3
check "fill b" tfs fill "$T" b 4
check "fill s" tfs fill "$T" s 5

# state DIR: what must never change: every column's name, size and hash,
# and the schema (rows, and each column's name, type and shape; the version
# may grow, as a tool's unlink and re-creation are changes).
state()
{
	for _f in "$1"/*; do
		[ "${_f##*/}" = meta.json ] && continue
		[ -e "$_f" ] || continue
		printf '%s %s %s\n' "${_f##*/}" "$(size_of "$_f")" "$(sha256sum <"$_f" | cut -d' ' -f1)"
	done
	"$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
print("rows", m["rows"])
for c in m["columns"]:
    print("col", c["name"], c["type"], c["shape"])' "$1"
}
state "$T" >"$TMPD/state.t"

# same WHAT: table t is as it was.
same()
{
	state "$T" >"$TMPD/state.now" 2>&1
	if cmp -s "$TMPD/state.t" "$TMPD/state.now"; then
		pass
	else
		fail "$1: table t changed"
		diff "$TMPD/state.t" "$TMPD/state.now" | sed 's/^/    /' | head -n 20
	fi
}

# tool EXPECT WHAT CMD...: runs CMD (from $MNT) under a timeout; EXPECT is
# ok (exit 0) or fail (non-zero, with a message on stderr).  Its stderr is
# left in $TMPD/tool.err.
tool()
{
	_want=$1
	_what=$2
	shift 2
	(cd "$MNT" && timeout 30 "$@") >"$TMPD/tool.out" 2>"$TMPD/tool.err" </dev/null
	_st=$?
	if [ "$_st" = 124 ] || [ "$_st" = 137 ]; then
		fail "$_what: hung (killed after 30 s)"
		return
	fi
	case $_want in
	ok)
		if [ "$_st" = 0 ]; then
			pass
		else
			fail "$_what: exit $_st, expected success"
			sed 's/^/    /' "$TMPD/tool.err" | head -n 10
		fi
		;;
	fail)
		if [ "$_st" != 0 ] && [ -s "$TMPD/tool.err" ]; then
			pass
		else
			fail "$_what: exit $_st, expected a failure with a message"
		fi
		;;
	esac
}

# said WHAT TEXT: the last tool's stderr says TEXT.
said()
{
	if grep -q -- "$2" "$TMPD/tool.err"; then
		pass
	else
		fail "$1: stderr does not say '$2':"
		sed 's/^/    /' "$TMPD/tool.err" | head -n 10
	fi
}

# A copy of the table outside the mount, and archives of it.
SRC=$TMPD/src
mkdir "$SRC"
tool ok "tar -cf out of the mount" tar -cf "$TMPD/t.tar" t
tool ok "cp -a out of the mount" cp -a t "$SRC/"
check "the copy holds the same bytes" cmp "$SRC/t/a" "$T/a"

section "tar -xf over the table: columns written back, meta.json stays"
# tar unlinks each file and creates it again: a column deleted that way is
# made again by name, with its type, and tar writes its bytes back into it.
# meta.json of a table with columns cannot be unlinked: tar says so.
tool fail "tar -xf over t" tar -xf "$TMPD/t.tar"
said "tar -xf over t" "t/meta.json"
check "tar reports nothing about the columns" sh -c "! grep -E 't/(a|b|s):' '$TMPD/tool.err'"
same "tar -xf over t"
tool fail "tar -xf over t, second time" tar -xf "$TMPD/t.tar"
same "tar -xf over t, second time"
tool ok "tar -df finds no difference in the data" sh -c \
	"tar -df '$TMPD/t.tar' 2>&1 | grep -E '^t/(a|b|s): Contents differ' && exit 1 || exit 0"

section "tar -xf into a new name: columns refused, nothing hangs"
tool fail "tar -xf into t2" tar -xf "$TMPD/t.tar" --transform 's,^t,t2,'
said "tar -xf into t2" "t2/a: Cannot open: Operation not permitted"
same "tar -xf into t2"
check "t2 exists" test -d "$MNT/t2"
# meta.json made the columns, zero-filled: a second run writes them back.
tool fail "tar -xf into t2, second time" tar -xf "$TMPD/t.tar" --transform 's,^t,t2,'
check "tar reports nothing about the columns" sh -c "! grep -E 't2/(a|b|s):' '$TMPD/tool.err'"
state "$MNT/t2" >"$TMPD/state.t2"
check "t2 holds t's bytes and schema" cmp "$TMPD/state.t" "$TMPD/state.t2"
check "rm -r t2" rm -r "$MNT/t2"

section "cp -r"
tool fail "cp -r onto t" cp -r "$SRC/t" .
said "cp -r onto t" "Operation not permitted"
same "cp -r onto t"
tool fail "cp -r into t3" cp -r "$SRC/t" t3
same "cp -r into t3"
check "rm -r t3" rm -r "$MNT/t3"

section "mv (a copy across filesystems)"
# mv copies file by file in the source directory's order, replacing each
# file by unlink and create.  Whatever the order, the table it lands on
# keeps its bytes or takes the source's, and a source not fully copied
# is kept.
cp -a "$SRC/t" "$TMPD/mvsrc"
tool fail "mv -T onto t" mv -T "$TMPD/mvsrc" t
same "mv -T onto t"
check "mv kept its source" cmp "$TMPD/mvsrc/a" "$SRC/t/a"
(cd "$MNT" && timeout 30 mv "$TMPD/mvsrc" t4) >"$TMPD/tool.out" 2>"$TMPD/tool.err" </dev/null
case $? in
0)
	# meta.json came first: the columns it made were written back.
	state "$MNT/t4" >"$TMPD/state.t4"
	check "mv into t4 copied the table" cmp "$TMPD/state.t" "$TMPD/state.t4"
	;;
124 | 137) fail "mv into t4 hung" ;;
*)
	check "mv into t4 failed with a message" test -s "$TMPD/tool.err"
	check "mv kept its source" cmp "$TMPD/mvsrc/b" "$SRC/t/b"
	;;
esac
same "mv into t4"
rm -r "$MNT/t4" 2>/dev/null

section "rsync"
rm -r "$SRC/t"
tool ok "cp -a out of the mount again" cp -a t "$SRC/"
tool ok "rsync -a of an identical copy" rsync -a "$SRC/t" .
same "rsync -a of an identical copy"
touch -d '2001-01-01' "$SRC/t/a" "$SRC/t/meta.json"
tool fail "rsync -a of a copy with other times" rsync -a "$SRC/t" .
said "rsync -a" "mkstemp"
said "rsync -a" "Operation not permitted"
same "rsync -a of a copy with other times"
touch -d '2002-02-02' "$SRC/t/a" "$SRC/t/b" "$SRC/t/s" "$SRC/t/meta.json"
tool ok "rsync -a --inplace" rsync -a --inplace "$SRC/t" .
same "rsync -a --inplace"

section "touch, truncate"
tool ok "touch meta.json" touch t/meta.json
tool ok "touch -d meta.json" touch -d '2003-03-03' t/meta.json
check_eq "meta.json takes the time" 2003-03-03 "$(date -r "$T/meta.json" +%F)"
tool ok "touch a column" touch t/a
tool ok "truncate -s 0 meta.json" truncate -s 0 t/meta.json
tool fail "truncate -s 5 meta.json" truncate -s 5 t/meta.json
said "truncate -s 5 meta.json" "Operation not permitted"
tool fail "truncate -s 0 of a column" truncate -s 0 t/a
said "truncate -s 0 of a column" "Operation not permitted"
tool ok "truncate of a column to its size" truncate -s "$(size_of "$T/a")" t/a
same "touch and truncate"
check_eq "meta.json is a file after truncate" "regular file" "$(stat -c %F "$T/meta.json")"

section "editors and scripts saving meta.json"
tool ok "vim -es :wq" "$VIM" -es -u NONE -i NONE -n -c wq t/meta.json
same "vim -es :wq"
tool ok "Python open(r+), write, truncate()" "$PYTHON3" -c '
f = open("t/meta.json", "r+")
d = f.read()
f.seek(0)
f.write(d)
f.truncate()
f.close()'
same "Python r+"
tool ok "Python r+ ftruncate(0) then write" "$PYTHON3" -c '
import os
fd = os.open("t/meta.json", os.O_RDWR)
d = os.read(fd, 1 << 20)
os.ftruncate(fd, 0)
os.lseek(fd, 0, 0)
os.write(fd, d)
os.close(fd)'
same "ftruncate(0) then write"
tool fail "sed -i" sed -i 's/"rows": 1000/"rows": 1000/' t/meta.json
said "sed -i" "Operation not permitted"
same "sed -i"
tool fail "mkstemp + rename save" "$PYTHON3" -c '
import os, tempfile
d = open("t/meta.json").read()
fd, tmp = tempfile.mkstemp(dir="t")
os.write(fd, d.encode())
os.close(fd)
os.rename(tmp, "t/meta.json")'
said "mkstemp + rename save" "PermissionError"
same "mkstemp + rename save"
tool fail "rename over meta.json" "$PYTHON3" -c '
import os
os.rename("t/a", "t/meta.json")'
same "rename over meta.json"

# The saves change the schema when the text does.
mkdir "$MNT/e"
printf '{"rows": 2, "columns": [{"name": "x", "type": "int8"}]}' >"$MNT/e/meta.json"
tool ok "vim -es changing rows" "$VIM" -es -u NONE -i NONE -n \
	-c '%s/"rows": 2,/"rows": 3,/' -c wq e/meta.json
check_eq "vim's save applied" 3 "$(meta_field "$MNT/e" 'm["rows"]')"
tool ok "Python r+ changing rows" "$PYTHON3" -c '
f = open("e/meta.json", "r+")
d = f.read().replace("\"rows\": 3,", "\"rows\": 5,")
f.seek(0)
f.write(d)
f.truncate()
f.close()'
check_eq "Python's save applied" 5 "$(meta_field "$MNT/e" 'm["rows"]')"

section "unlink and create by name"
tool fail "rm meta.json of a table with columns" rm t/meta.json
check "meta.json stays" test -f "$T/meta.json"
same "rm meta.json"
mkdir "$MNT/u"
tool ok "rm meta.json of an empty table" rm u/meta.json
check "it is gone" sh -c "! test -e '$MNT/u/meta.json'"
check_eq "ls shows it gone" "" "$(ls "$MNT/u")"
tool fail "rm it again" rm u/meta.json
said "rm it again" "No such file"
printf '{"rows": 3, "columns": [{"name": "x", "type": "int16"}]}' >"$MNT/u/meta.json"
check_eq "created again, it applies" 6 "$(size_of "$MNT/u/x")"
tool ok "rm -r of a table" rm -r u
check "u is gone" sh -c "! test -e '$MNT/u'"
tool ok "rm a column, create it by name" sh -c 'rm e/x && : >e/x'
check_eq "the column is back with its type, zero-filled" "5 int8 0" \
	"$(meta_field "$MNT/e" 'str(m["rows"]) + " " + m["columns"][0]["type"] + " " + str(sum(open("'"$MNT"'/e/x", "rb").read()))')"
tool fail "creating any other name" sh -c ': >e/y'
said "creating any other name" "Operation not permitted"

section "a refused document keeps its error on its handle"
# Python's buffered writer sends a document over 8 KiB in pieces and, when
# one is refused, sends the last piece again at close: the error must stay
# the first one (ENOSPC here), and so must .status's last_error.
mkdir "$MNT/r"
expect_ok colcheck meta "$MNT/r/meta.json" '{"rows": 4, "columns": [{"name": "a", "type": "int32"}]}'
expect_errno ENOSPC "$PYTHON3" -c '
import errno, json, sys
cols = [{"name": "c%d" % i, "type": "int64"} for i in range(300)]
try:
    with open(sys.argv[1], "w") as f:
        json.dump({"rows": 100000, "columns": cols}, f)
except OSError as e:
    print(errno.errorcode[e.errno])
else:
    print("OK")' "$MNT/r/meta.json"
check "last_error is the memory limit" sh -c "grep -A8 '\"r\"' '$MNT/.status' | grep last_error | grep -q 'under the limit'"
expect_errno EINVAL "$PYTHON3" -c '
import errno, json, sys
cols = [{"name": "c%d" % i, "type": "int8"} for i in range(300)]
cols.append({"name": "a", "type": "float64"})
try:
    with open(sys.argv[1], "w") as f:
        json.dump({"columns": cols}, f)
except OSError as e:
    print(errno.errorcode[e.errno])
else:
    print("OK")' "$MNT/r/meta.json"
check "last_error is the type change" sh -c "grep -A8 '\"r\"' '$MNT/.status' | grep last_error | grep -v 'invalid JSON' | grep -q \"'a'\""
check_eq "r unchanged" "4 1" "$(meta_field "$MNT/r" 'str(m["rows"]) + " " + str(len(m["columns"]))')"
# A document over 1 MiB in one write(2) reaches the daemon in pieces; the
# kernel returns a short count when the last is refused: the error must
# come from the next write and from close.
expect_errno "EINVAL close" "$PYTHON3" -c '
import errno, json, os, sys
cols = [{"name": "c%d" % i, "type": "int8"} for i in range(40000)]
cols.append({"name": "bad", "type": "nosuch"})
doc = json.dumps({"columns": cols}).encode()
fd = os.open(sys.argv[1], os.O_WRONLY)
n = os.write(fd, doc)
try:
    if n < len(doc):
        os.write(fd, doc[n:])
    print("OK write")
except OSError as e:
    print(errno.errorcode[e.errno], "write")
try:
    os.close(fd)
    print("OK close")
except OSError as e:
    print(errno.errorcode[e.errno], "close")' "$MNT/r/meta.json"
check "last_error is the unknown type" sh -c "grep -A8 '\"r\"' '$MNT/.status' | grep last_error | grep -q nosuch"
check_eq "r unchanged" "4 1" "$(meta_field "$MNT/r" 'str(m["rows"]) + " " + str(len(m["columns"]))')"

same "at the end"
finish
