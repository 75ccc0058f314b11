#!/bin/sh
# Every tablectl command on a real mount: what it prints, what it changes,
# and for each way it can fail, its message and exit status (1: failure,
# 2: usage error), with the table left as it was.  Covers create, ls, info,
# head, import (CSV: quoting, CRLF, blank lines, malformed lines with their
# line number; .npy), export, rm, status; a wrong or missing table, a bad
# type, an existing table, a directory that is not a mount, usage errors.
# (tablectl.sh covers the values: every type through export and import.)
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon

# has_line FILE REGEX DESCRIPTION: a line of FILE matches the extended REGEX.
has_line()
{
	if grep -qE -- "$2" "$1"; then
		pass
	else
		fail "$3: no line matching '$2' in: $(head -c 400 "$1")"
	fi
}

# empty FILE DESCRIPTION
empty()
{
	if [ ! -s "$1" ]; then
		pass
	else
		fail "$2: not empty: $(head -c 200 "$1")"
	fi
}

# meta TABLE EXPR: a Python expression of meta.json (m) and the column
# types by name (ty).
meta()
{
	py -c 'import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
ty = {c["name"]: c["type"] for c in m["columns"]}
print(eval(sys.argv[2]))' "$MNT/$1" "$2"
}

# ---------------------------------------------------------------------------
section "create: a new table, columns added, rows changed"
ctl_status 0 "create t" create t --rows 3 a:int32 'v:float32[2]' s:bytes4
empty "$TMPD/out" "create prints nothing"
empty "$TMPD/err" "create says nothing on stderr"
check_eq "t rows" 3 "$(meta t 'm["rows"]')"
check_eq "t columns in order" "['a', 'v', 's']" "$(meta t '[c["name"] for c in m["columns"]]')"
check_eq "t types" "int32 float32 bytes4" "$(meta t 'ty["a"] + " " + ty["v"] + " " + ty["s"]')"
check_eq "a: 3 int32" 12 "$(size_of "$MNT/t/a")"
check_eq "v: 3 rows of 2 float32" 24 "$(size_of "$MNT/t/v")"
check_eq "zero-filled" "000000000000000000000000" "$(od -An -tx1 "$MNT/t/a" | tr -d ' \n')"
printf '\001\000\000\000\002\000\000\000\003\000\000\000' | dd of="$MNT/t/a" conv=notrunc 2>/dev/null
ctl_status 0 "add a column" create t c:int8
check_eq "c added" 3 "$(size_of "$MNT/t/c")"
check_eq "a kept" "010000000200000003000000" "$(od -An -tx1 "$MNT/t/a" | tr -d ' \n')"
ctl_status 0 "resize" create t --rows 5
check_eq "a resized" 20 "$(size_of "$MNT/t/a")"
check_eq "a's rows kept, new ones zero" "0100000002000000030000000000000000000000" \
	"$(od -An -tx1 "$MNT/t/a" | tr -d ' \n')"
VERSION=$(meta t 'm["version"]')
ctl_status 0 "a column given as it is" create t a:int32
check_eq "changes nothing" "$VERSION" "$(meta t 'm["version"]')"
ctl_status 0 "a numpy dtype string" create t 'd:<f8' 'e:|S3'
check_eq "dtype strings" "float64 bytes3" "$(meta t 'ty["d"] + " " + ty["e"]')"

section "create: refusals exit 1, with the reason, and change nothing"
SNAP=$TMPD/snap.t
snapshot "$MNT/t" >"$SNAP"
ctl_status 1 "a type change" create t a:int64
has "$TMPD/err" "tablectl: t: column 'a' is int32 and cannot become int64" "the daemon's reason"
ctl_status 1 "an unknown type" create t b:nosuch
has "$TMPD/err" "unknown type 'nosuch'" "bad type"
ctl_status 1 "a zero dimension" create t 'b:int8[0]'
has "$TMPD/err" "shape dimension 0" "bad shape"
ctl_status 1 "no type" create t b
has "$TMPD/err" "expected NAME:TYPE" "no type"
ctl_status 1 "a column twice" create t b:int8 b:int16
has "$TMPD/err" "column 'b' given twice" "twice"
ctl_status 1 "a column name with a dot" create t b.c:int8
has "$TMPD/err" "contains '.'" "dotted column"
unchanged "after the refused creates" "$MNT/t" "$SNAP"
ctl_status 1 "a table name with a dot" create x.y a:int8
has "$TMPD/err" "name 'x.y' contains '.'" "dotted table"
check "no x.y" test ! -e "$MNT/x.y"
# A new table whose schema is refused is removed again.
ctl_status 1 "a new table, one bad column" create newt a:int64 b:nosuch
check "a failed create leaves nothing" test ! -e "$MNT/newt"
ctl_status 1 "a new table over the memory limit" create newt --rows 1125899906842624 a:int64
has "$TMPD/err" "tablectl: newt: needs" "the daemon's reason"
has "$TMPD/err" "more memory" "the daemon's reason"
check "over the limit leaves nothing" test ! -e "$MNT/newt"

section "create: usage errors exit 2"
ctl_status 2 "no operand" create
has "$TMPD/err" "create: missing operand" "missing operand"
has "$TMPD/err" "Usage: tablectl [--mount DIR] create" "the command's usage"
ctl_status 2 "a negative row count" create t --rows -1
has "$TMPD/err" "--rows needs a row count, not '-1'" "negative rows"
ctl_status 2 "a row count that is no number" create t --rows 1x
ctl_status 2 "an option of another command" create t -n 3 b:int8
has "$TMPD/err" "option not valid for this command" "foreign option"
check "no b" test ! -e "$MNT/t/b"

# ---------------------------------------------------------------------------
section "ls: the tables sorted by name, with rows, columns and memory"
ctl_status 0 "create a0" create a0 --rows 1 x:int8
ctl_status 0 "ls" ls
check_eq "header" "NAME ROWS COLUMNS SIZE" "$(head -n 1 "$TMPD/out" | tr -s ' ')"
check_eq "rows" "a0 1 1 4.0 KiB|t 5 6 24.0 KiB|" \
	"$(tail -n +2 "$TMPD/out" | tr -s ' ' | sed 's/^ //' | tr '\n' '|')"
empty "$TMPD/err" "ls says nothing on stderr"
ctl_status 2 "ls with an operand" ls t
has "$TMPD/err" "ls: too many operands" "too many"

# ---------------------------------------------------------------------------
section "info: rows, version, columns"
VERSION=$(meta t 'm["version"]')
ctl_status 0 "info t" info t
has_line "$TMPD/out" '^table: +t$' "name"
has_line "$TMPD/out" '^rows: +5$' "rows"
has_line "$TMPD/out" "^version: +$VERSION\$" "version"
has_line "$TMPD/out" '^columns: +6 ' "columns"
has_line "$TMPD/out" '^a +int32 +<i4 +\[\] +no +20 +a$' "column a"
has_line "$TMPD/out" '^v +float32 +<f4 +\[2\] +no +40 +v$' "column v"
has_line "$TMPD/out" '^s +bytes4 +\|S4 +\[\] +no +20 +s$' "column s"
has_line "$TMPD/out" '^last error: .*cannot become int64' "the last refused change"
ctl_status 1 "info of a missing table" info nosuch
check_eq "its message" "tablectl: nosuch: no such table" "$(cat "$TMPD/err")"
mkdir "$MNT/bare"
# A table whose meta.json was unlinked (it has no columns) is no table.
rm "$MNT/bare/meta.json"
ctl_status 1 "info of a directory without meta.json" info bare
has "$TMPD/err" "bare: not a table (no meta.json)" "no meta.json"
rmdir "$MNT/bare"
ctl_status 1 "info of a bad name" info 'x/y'
ctl_status 2 "info without operand" info
ctl_status 2 "info with two operands" info t a0

# ---------------------------------------------------------------------------
section "head: the first rows as text"
check "fill v" py -c 'import numpy as np, sys
open(sys.argv[1], "r+b").write(np.arange(10, dtype="<f4").tobytes())' "$MNT/t/v"
printf 'abcd' | dd of="$MNT/t/s" conv=notrunc 2>/dev/null
ctl_status 0 "head t -n 2" head t -n 2
check_eq "three lines" 3 "$(wc -l <"$TMPD/out")"
check_eq "header" "a v s c d e" "$(head -n 1 "$TMPD/out" | tr -s ' ' | sed 's/ $//')"
check_eq "row 0" "1 [0, 1] abcd 0 0" "$(sed -n 2p "$TMPD/out" | tr -s ' ' | sed 's/ $//')"
check_eq "row 1" "2 [2, 3] 0 0" "$(sed -n 3p "$TMPD/out" | tr -s ' ' | sed 's/ $//')"
ctl_status 0 "head t: 10 rows by default, 5 here" head t
check_eq "header and 5 rows" 6 "$(wc -l <"$TMPD/out")"
ctl_status 0 "head -n 0" head t -n 0
check_eq "the header only" 1 "$(wc -l <"$TMPD/out")"
ctl_status 1 "head of a missing table" head nosuch
has "$TMPD/err" "nosuch: no such table" "missing table"
ctl_status 2 "head -n x" head t -n x
has "$TMPD/err" "-n needs a row count, not 'x'" "bad count"
ctl_status 2 "head without operand" head

# ---------------------------------------------------------------------------
section "import CSV: quoting as in RFC 4180, CRLF, blank lines"
# A quoted field holds commas, doubled quotes and a line break; CRLF line
# ends; blank lines between records are skipped; a UTF-8 byte order mark
# before the header is not part of the first name.
printf '\357\273\277id,text\r\n1,"a,b"\r\n\r\n2,"say ""hi"""\r\n3,"two\nlines"\r\n4,plain\r\n' \
	>"$TMPD/q.csv"
ctl_status 0 "import q.csv" import q "$TMPD/q.csv"
empty "$TMPD/out" "import prints nothing"
check_eq "q rows" 4 "$(meta q 'm["rows"]')"
check_eq "q types" "int64 utf8" "$(meta q 'ty["id"] + " " + ty["text"]')"
check_eq "values" "['a,b', 'say \"hi\"', 'two\\nlines', 'plain']" \
	"$(py -c 'import numpy as np, sys
o = np.fromfile(sys.argv[1], "<i8"); d = open(sys.argv[1] + ".data", "rb").read()
print([d[a:b].decode() for a, b in zip(o[:-1], o[1:])])' "$MNT/q/text")"
check_eq "ids" "1 2 3 4" "$(py -c 'import numpy as np, sys
print(*np.fromfile(sys.argv[1], "<i8"))' "$MNT/q/id")"
ctl_status 0 "export q" export q -
check_eq "export quotes what needs it" 'id,text|1,"a,b"|2,"say ""hi"""|3,"two|lines"|4,plain|' \
	"$(tr '\n' '|' <"$TMPD/out")"

section "import CSV: a malformed file names its line, exits 1, changes nothing"
ctl_status 0 "create m" create m --rows 2 n:int64 w:bytes4
SNAP=$TMPD/snap.m
snapshot "$MNT/m" >"$SNAP"
printf 'n,w\n1,a\n2\n' >"$TMPD/short.csv"
ctl_status 1 "a line with too few fields" import m "$TMPD/short.csv"
check_eq "its message" "tablectl: import: $TMPD/short.csv:3: expected 2 fields, got 1" "$(cat "$TMPD/err")"
printf 'n,w\n1,a,x\n' >"$TMPD/long.csv"
ctl_status 1 "a line with too many fields" import m "$TMPD/long.csv"
has "$TMPD/err" "long.csv:2: expected 2 fields, got 3" "too many fields"
printf 'n,w\n1,a\n2,"open\n3,b\n' >"$TMPD/open.csv"
ctl_status 1 "an unterminated quote" import m "$TMPD/open.csv"
has "$TMPD/err" "open.csv:3: unterminated quoted field" "the line the field starts on"
# Line numbers count blank lines and the lines of quoted line breaks.
printf 'n,w\n1,"x\ny"\n\n2,b\nzz,c\n' >"$TMPD/word.csv"
ctl_status 1 "a value of the wrong type" import m "$TMPD/word.csv"
check_eq "its message" "tablectl: import: $TMPD/word.csv:6: column 'n': not an integer" "$(cat "$TMPD/err")"
printf 'n,w\n1,toolong\n' >"$TMPD/wide.csv"
ctl_status 1 "text longer than the column" import m "$TMPD/wide.csv"
has "$TMPD/err" "wide.csv:2: column 'w':" "too long"
printf 'n,n\n1,2\n' >"$TMPD/dup.csv"
ctl_status 1 "a column named twice" import m "$TMPD/dup.csv"
has "$TMPD/err" "dup.csv:1: column 'n' appears twice" "twice"
printf 'n,a.b\n1,2\n' >"$TMPD/dot.csv"
ctl_status 1 "a bad column name" import m "$TMPD/dot.csv"
has "$TMPD/err" "dot.csv:1: name 'a.b' contains '.'" "bad name"
: >"$TMPD/empty.csv"
ctl_status 1 "an empty file" import m "$TMPD/empty.csv"
has "$TMPD/err" "empty.csv: empty file" "empty"
# The table has columns the file does not name: the rows must stay.
printf 'n\n1\n2\n3\n' >"$TMPD/rows.csv"
ctl_status 1 "other rows and columns not in the file" import m "$TMPD/rows.csv"
has "$TMPD/err" "m has 2 rows and columns not in the file, which has 3 rows" "rows"
unchanged "after the refused imports" "$MNT/m" "$SNAP"
ctl_status 1 "a malformed file for a new table" import newm "$TMPD/short.csv"
check "creates no table" test ! -e "$MNT/newm"
# Into an existing table: columns it has keep their type, rows follow.
printf 'w,n\nxy,7\nz,8\n' >"$TMPD/ok.csv"
ctl_status 0 "a good file into the existing table" import m "$TMPD/ok.csv"
check_eq "n" "7 8" "$(py -c 'import numpy as np, sys; print(*np.fromfile(sys.argv[1], "<i8"))' "$MNT/m/n")"
check_eq "types kept" "int64 bytes4" "$(meta m 'ty["n"] + " " + ty["w"]')"

section "import: files it cannot read"
ctl_status 1 "a missing file" import m "$TMPD/nosuch.csv"
has "$TMPD/err" "nosuch.csv: No such file or directory" "missing file"
printf 'x' >"$TMPD/file.txt"
ctl_status 1 "an unknown file type" import m "$TMPD/file.txt"
has "$TMPD/err" "unknown file type (expected .csv or .npy)" "file type"
ctl_status 1 "CSV from standard input" import m -
has "$TMPD/err" "cannot read CSV from standard input" "stdin"
ctl_status 1 "--column with CSV" import m "$TMPD/ok.csv" --column n
has "$TMPD/err" "--column applies to .npy files only" "--column"
ctl_status 1 "a bad table name" import 'a.b' "$TMPD/ok.csv"
check "no table a.b" test ! -e "$MNT/a.b"
ctl_status 2 "import with one operand" import m
has "$TMPD/err" "import: missing operand" "missing operand"
ctl_status 2 "import with -n" import m "$TMPD/ok.csv" -n 3

section "import and export .npy"
py -c 'import numpy as np, sys; np.save(sys.argv[1], np.arange(4, dtype="<f8"))' "$TMPD/price.npy"
ctl_status 0 "import price.npy: the column is named by the file" import p "$TMPD/price.npy"
check_eq "p's column" "price float64 4" "$(meta p 'm["columns"][0]["name"] + " " + ty["price"] + " " + str(m["rows"])')"
ctl_status 0 "--column names it" import p "$TMPD/price.npy" --column q
check_eq "q" "0.0 1.0 2.0 3.0" "$(py -c 'import numpy as np, sys; print(*np.fromfile(sys.argv[1], "<f8"))' "$MNT/p/q")"
py -c 'import numpy as np, sys; np.save(sys.argv[1], np.arange(4, dtype="<i4"))' "$TMPD/price.npy"
SNAP=$TMPD/snap.p
snapshot "$MNT/p" >"$SNAP"
ctl_status 1 "another type for an existing column" import p "$TMPD/price.npy"
has "$TMPD/err" "price" "names the column"
py -c 'import numpy as np, sys; np.save(sys.argv[1], np.zeros(3, dtype=">f8"))' "$TMPD/big.npy"
ctl_status 1 "a big-endian array" import p "$TMPD/big.npy"
printf 'not numpy' >"$TMPD/bad.npy"
ctl_status 1 "not a .npy file" import p "$TMPD/bad.npy"
has "$TMPD/err" "bad.npy" "names the file"
unchanged "after the refused .npy imports" "$MNT/p" "$SNAP"
ctl_status 0 "export one column to .npy" export p "$TMPD/q.npy" --column q
check_eq "np.load reads it" "float64 (4,) 6.0" \
	"$(py -c 'import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.shape, a.sum())' "$TMPD/q.npy")"
ctl_status 1 "which column?" export p "$TMPD/q2.npy"
has "$TMPD/err" "p has 2 columns: choose one with --column NAME" "needs --column"
check "nothing written" test ! -e "$TMPD/q2.npy"

# ---------------------------------------------------------------------------
section "export: errors"
ctl_status 0 "export one column as CSV" export p - --column q
check_eq "CSV of one column" "q|0|1|2|3|" "$(tr '\n' '|' <"$TMPD/out")"
ctl_status 1 "a missing table" export nosuch "$TMPD/n.csv"
has "$TMPD/err" "nosuch: no such table" "missing table"
ctl_status 1 "a missing column" export p - --column nosuch
has "$TMPD/err" "p: no column 'nosuch'" "missing column"
ctl_status 1 "an unknown file type" export p "$TMPD/p.txt"
has "$TMPD/err" "unknown file type" "file type"
ctl_status 1 "into a missing directory" export p "$TMPD/no/dir/p.csv"
check "nothing written" test ! -e "$TMPD/n.csv"
ctl_status 2 "export with one operand" export p
ctl_status 2 "export with three operands" export p a.csv b.csv

# ---------------------------------------------------------------------------
section "status: memory, data path, protection, tables and open files"
exec 3<"$MNT/t/a"
ctl_status 0 "status" status
exec 3<&-
has_line "$TMPD/out" "^mount: +$MNT \\(tablefs [0-9.]+\\)\$" "mount and version"
has_line "$TMPD/out" '^memory: +[0-9.]+ [KMG]iB used of [0-9.]+ [KMGT]iB' "memory"
has_line "$TMPD/out" '^data path: +(passthrough|page cache)' "data path"
has_line "$TMPD/out" '^crash protection: on \(serving process restarted 0 times\)$' "protection"
has_line "$TMPD/out" '^tables: +5$' "table count"
has_line "$TMPD/out" '^t +5 +6 +[0-9.]+ KiB +1$' "t with its open file"
has_line "$TMPD/out" '^a0 +1 +1 +4.0 KiB +0$' "a0, nothing open"
has "$TMPD/out" "last refused schema change:" "the reasons"
has_line "$TMPD/out" "^  t: column 'a' is int32 and cannot become int64" "t's reason"
ctl_status 2 "status with an operand" status t

# ---------------------------------------------------------------------------
section "rm: tables with their columns"
ctl_status 0 "rm two tables" rm a0 q
empty "$TMPD/out" "rm prints nothing"
check "a0 gone" test ! -e "$MNT/a0"
check "q gone" test ! -e "$MNT/q"
ctl_status 1 "a missing table" rm nosuch
check_eq "its message" "tablectl: nosuch: no such table" "$(cat "$TMPD/err")"
ctl_status 1 "one missing among others: the others go" rm nosuch m
check "m gone" test ! -e "$MNT/m"
has "$TMPD/err" "nosuch: no such table" "the missing one reported"
ctl_status 1 "a bad name" rm 'x.y'
ctl_status 1 ".status is no table" rm .status
check ".status stays" test -f "$MNT/.status"
ctl_status 2 "rm without operand" rm
has "$TMPD/err" "rm: missing operand" "missing operand"
ctl_status 0 "ls after rm" ls
check_eq "what is left" "p t " "$(tail -n +2 "$TMPD/out" | awk '{printf "%s ", $1}')"

# ---------------------------------------------------------------------------
section "a directory that is not a mount: every command fails, touches nothing"
PLAIN=$TMPD/plain
mkdir -p "$PLAIN/sub"
printf '{}' >"$PLAIN/sub/meta.json"
printf 'precious' >"$PLAIN/sub/data"
for args in "ls" "status" "info sub" "head sub" "rm sub" "create new a:int8" \
	"import new $TMPD/ok.csv" "export sub $TMPD/plain.csv"; do
	# shellcheck disable=SC2086 # the words are the arguments
	"$TABLECTL" --mount "$PLAIN" $args >"$TMPD/out" 2>"$TMPD/err"
	check_eq "$args on a plain directory" 1 "$?"
	check_eq "$args: the message" "tablectl: $PLAIN: not a tablefs mount (no .status)" "$(cat "$TMPD/err")"
done
check_eq "the directory as it was" "sub sub/data sub/meta.json " \
	"$(cd "$PLAIN" && find . -mindepth 1 | sed 's|^\./||' | sort | tr '\n' ' ')"
check_eq "its data" precious "$(cat "$PLAIN/sub/data")"
"$TABLECTL" --mount "$TMPD/nosuch" ls >"$TMPD/out" 2>"$TMPD/err"
check_eq "a missing mount" 1 "$?"
has "$TMPD/err" "$TMPD/nosuch: No such file or directory" "missing mount"
"$TABLECTL" --mount "$PLAIN/sub/data" ls >"$TMPD/out" 2>"$TMPD/err"
check_eq "a file as the mount" 1 "$?"
TABLEFS_MOUNT=$MNT "$TABLECTL" ls >"$TMPD/out" 2>"$TMPD/err"
check_eq "TABLEFS_MOUNT when no --mount" 0 "$?"
has_line "$TMPD/out" '^t +5 ' "TABLEFS_MOUNT's tables"
TABLEFS_MOUNT=$PLAIN "$TABLECTL" --mount "$MNT" ls >"$TMPD/out" 2>"$TMPD/err"
check_eq "--mount over TABLEFS_MOUNT" 0 "$?"

# ---------------------------------------------------------------------------
section "usage errors exit 2, before anything is touched"
ctl >"$TMPD/out" 2>"$TMPD/err"
check_eq "no command at all" 2 "$?"
has "$TMPD/err" "no command given" "no command"
ctl_status 2 "an unknown command" nosuch
has "$TMPD/err" "unknown command 'nosuch'" "unknown command"
has "$TMPD/err" "Try 'tablectl --help'" "points to --help"
ctl_status 2 "an unknown option" --bogus ls
has "$TMPD/err" "unknown option '--bogus'" "unknown option"
"$TABLECTL" --mount "$TMPD/nosuch" rm >/dev/null 2>&1
check_eq "a usage error comes before a missing mount" 2 "$?"
ctl_status 0 "--version" --version
has_line "$TMPD/out" '^tablectl \(tablefs\) [0-9]+\.[0-9]+' "version"
ctl_status 0 "-V" -V
check "t still there" test -d "$MNT/t"

finish
