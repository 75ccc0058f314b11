#!/bin/sh
# tablectl with text, binary, category and nullable columns on a real mount:
# create in the NAME:TYPE[?] notation (categories in brackets); info shows
# nullable, files and categories; head prints NA, export an empty field
# ("" for an empty text); export, import and export again give the same
# CSV and the same bytes; CSV import infers utf8, category and nullable
# columns, grows the data file and the categories of existing columns,
# refuses invalid UTF-8 with its line and a missing value in a column that
# cannot hold one, changing nothing; .npy export of text is refused; broken
# offsets and codes are errors, not crashes.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon

# meta TABLE EXPR: a Python expression of meta.json (m) and the columns by
# name (col).
meta()
{
	py -c 'import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
col = {c["name"]: c for c in m["columns"]}
print(eval(sys.argv[2]))' "$MNT/$1" "$2"
}

# values TABLE COLUMN: the column's values as Python reads its files (None
# for a missing one).
values()
{
	py -c 'import json, sys
import numpy as np
t, name = sys.argv[1], sys.argv[2]
m = json.load(open(t + "/meta.json"))
c = [c for c in m["columns"] if c["name"] == name][0]
n = m["rows"]
mask = np.fromfile(t + "/" + name + ".null", "u1") if c.get("nullable") else np.zeros(n, "u1")
if c["type"] in ("utf8", "binary"):
    o = np.fromfile(t + "/" + name, "<i8"); d = open(t + "/" + name + ".data", "rb").read()
    v = [d[o[i]:o[i + 1]] for i in range(n)]
    v = [x.decode() for x in v] if c["type"] == "utf8" else v
elif c["type"] == "category":
    codes = np.fromfile(t + "/" + name, "<i4")
    v = [c["categories"][k] if k >= 0 else None for k in codes]
else:
    v = np.fromfile(t + "/" + name, c["dtype"]).tolist()
print([None if mask[i] else v[i] for i in range(n)])' "$MNT/$1" "$2"
}

section "create: NAME:utf8, binary, category[...] and a trailing ? for nullable"
check "create t" ctl create t --rows 4 'name:utf8?' blob:binary 'sym:category[AAPL,"a,b",MSFT]' \
	'qty:int64?' 'ok:bool?' plain:category
check_eq "types" "utf8 binary category int64 bool category" \
	"$(meta t '" ".join(c["type"] for c in m["columns"])')"
check_eq "nullable" "True False False True True False" \
	"$(meta t '" ".join(str(c.get("nullable", False)) for c in m["columns"])')"
check_eq "categories in the order given" "['AAPL', 'a,b', 'MSFT'] []" \
	"$(meta t 'str(col["sym"]["categories"]) + " " + str(col["plain"]["categories"])')"
check_eq "files" "name name.data name.null" "$(cd "$MNT/t" && echo name name.*)"
SNAP=$TMPD/snap.t
snapshot "$MNT/t" >"$SNAP"
ctl_status 1 "a category given twice" create t 'dup:category[a,b,a]'
has "$TMPD/err" "category 'a' given twice" "its message"
ctl_status 1 "a shape on utf8" create t 'bad:utf8[3]'
ctl_status 1 "a nullable mark that is not last" create t 'bad:int64?[2]'
unchanged "after the refused creates" "$MNT/t" "$SNAP"

section "new rows are missing: head prints NA, export an empty field"
ctl_status 0 "head t" head t
check_eq "a row of missing values" "NA    NA" \
	"$(sed -n 2p "$TMPD/out" | awk '{print $1 "    " $2}')"
ctl_status 0 "export t" export t -
check_eq "missing values export as empty fields, an empty binary as \"\"" ',"",,,,' \
	"$(sed -n 2p "$TMPD/out")"

section "info: type, nullable, files, categories"
ctl_status 0 "info t" info t
has "$TMPD/out" "NULLABLE" "the nullable column"
if grep -qE '^name +utf8 +<i8 +\[\] +yes +[0-9]+ +name name.data name.null$' "$TMPD/out"; then
	pass
else
	fail "info line of name: $(cat "$TMPD/out")"
fi
has "$TMPD/out" "sym (3): AAPL, a,b, MSFT" "the categories"
has "$TMPD/out" "plain (0):" "no categories"

section "values written through the files come out of head and export"
# Nulls first and last, an empty text, non-ASCII, a line break, a quote and
# a comma, a long text; binary with NUL, 0xff and a backslash.
check "fill t" py - "$MNT/t" <<'EOF'
import json, sys
import numpy as np
t = sys.argv[1]
doc = json.load(open(t + "/meta.json"))
names = [None, "", 'naïve "q", 日本\nx', None]
data = b"".join((s or "").encode() for s in names)
doc = {"rows": 4, "columns": [{"name": "name", "type": "utf8", "nullable": True,
                               "data_nbytes": len(data)},
                              {"name": "blob", "type": "binary", "data_nbytes": 6}]}
open(t + "/meta.json", "w").write(json.dumps(doc))
off = np.cumsum([0] + [len((s or "").encode()) for s in names]).astype("<i8")
open(t + "/name", "r+b").write(off.tobytes())
open(t + "/name.data", "r+b").write(data)
open(t + "/name.null", "r+b").write(bytes([1, 0, 0, 1]))
open(t + "/blob", "r+b").write(np.array([0, 3, 3, 6, 6], "<i8").tobytes())
open(t + "/blob.data", "r+b").write(b"a\x00\\\xff~b")
open(t + "/sym", "r+b").write(np.array([0, 1, -1, 2], "<i4").tobytes())
open(t + "/qty", "r+b").write(np.array([7, 0, -1, 2**63 - 1], "<i8").tobytes())
open(t + "/qty.null", "r+b").write(bytes([0, 1, 0, 0]))
open(t + "/ok", "r+b").write(bytes([1, 0, 0, 0]))
open(t + "/ok.null", "r+b").write(bytes([0, 0, 1, 0]))
EOF
ctl_status 0 "export t" export t "$TMPD/t.csv"
cat >"$TMPD/t.want.csv" <<'EOF'
name,blob,sym,qty,ok,plain
,a\x00\x5c,AAPL,7,true,
"","","a,b",,false,
"naïve ""q"", 日本
x",\xff~b,,-1,,
,"",MSFT,9223372036854775807,false,
EOF
check "export writes text as it is, binary escaped, missing as empty" cmp "$TMPD/t.want.csv" "$TMPD/t.csv"
ctl_status 0 "head t" head t
has "$TMPD/out" 'naïve "q", 日本\x0ax' "head escapes the line break"
has "$TMPD/out" 'a\x00\x5c' "head shows binary escaped"
check_eq "head: NA for missing values" 9 "$(grep -o 'NA' "$TMPD/out" | wc -l)"

section "export, import, export: the same CSV, the same values"
ctl_status 0 "import the export into a new table" import t2 "$TMPD/t.csv"
ctl_status 0 "export t2" export t2 "$TMPD/t2.csv"
check "the same CSV" cmp "$TMPD/t.csv" "$TMPD/t2.csv"
for c in name sym qty ok; do
	check_eq "values of $c" "$(values t $c)" "$(values t2 $c)"
done
# Texts longer than a block (16 MiB together): export reads them a row
# at a time.
py -c 'import sys
open(sys.argv[1], "w").write("big,n\n" + "".join(chr(97 + i) * (9 << 20) + ",%d\n" % i for i in range(2)))' "$TMPD/big.csv"
ctl_status 0 "import texts of 9 MiB" import big "$TMPD/big.csv"
ctl_status 0 "export them" export big "$TMPD/big.out.csv"
check "the same CSV" cmp "$TMPD/big.csv" "$TMPD/big.out.csv"
check_eq "big is utf8" utf8 "$(meta big 'col["big"]["type"]')"
check "rm big" ctl rm big
rm -f "$TMPD/big.csv" "$TMPD/big.out.csv"
# Into the table it came from: every column known, nothing changes.
SNAP=$TMPD/snap.t
snapshot "$MNT/t" >"$SNAP"
ctl_status 0 "import the export into t" import t "$TMPD/t.csv"
unchanged "t after importing its own export" "$MNT/t" "$SNAP"
# A create that names a text column the table has keeps its bytes.
check "create t with the columns it has" ctl create t 'name:utf8?' blob:binary
check_eq "name keeps its values" "[None, '', 'naïve \"q\", 日本\\nx', None]" "$(values t name)"

section "import infers utf8, category and nullable columns"
py - "$TMPD/inf.csv" <<'EOF'
import sys
rows = ["id,city,sym,qty,price,flag,note"]
for i in range(40):
    rows.append(",".join([str(i), "city%d" % i, ["AAPL", "MSFT", ""][i % 3],
                          "" if i % 7 == 0 else str(i * 3), "" if i == 39 else "%d.5" % i,
                          "" if i == 0 else ["true", "false"][i % 2], '"x, ""%d"""' % i]))
open(sys.argv[1], "w").write("\r\n".join(rows) + "\r\n")
EOF
ctl_status 0 "import inf.csv" import inf "$TMPD/inf.csv"
check_eq "inferred types" "int64 utf8 category? int64? float64? bool? utf8" \
	"$(meta inf '" ".join(c["type"] + ("?" if c.get("nullable") else "") for c in m["columns"])')"
check_eq "categories sorted" "['AAPL', 'MSFT']" "$(meta inf 'col["sym"]["categories"]')"
check_eq "sym is nullable: it had empty fields" "True" "$(meta inf 'col["sym"].get("nullable", False)')"
check_eq "sym values" "['AAPL', 'MSFT', None, 'AAPL']" \
	"$(values inf sym | py -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[:4])')"
check_eq "qty values" "[None, 3, 6]" \
	"$(values inf qty | py -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[:3])')"
check_eq "note values" "['x, \"0\"', 'x, \"1\"']" \
	"$(values inf note | py -c 'import ast,sys; print(ast.literal_eval(sys.stdin.read())[:2])')"
check_eq "data_nbytes of city" 230 "$(meta inf 'col["city"]["data_nbytes"]')"

section "import into existing text and category columns: the data file and categories grow"
printf 'id,city,sym,qty,price,flag,note\n1,a much longer city name,NVDA,,,,n\n2,b,AAPL,5,1,true,\n3,,ZZZ,6,2,false,m\n' \
	>"$TMPD/more.csv"
ctl_status 0 "import more.csv" import inf "$TMPD/more.csv"
check_eq "rows" 3 "$(meta inf 'm["rows"]')"
check_eq "categories keep their codes, new ones after" "['AAPL', 'MSFT', 'NVDA', 'ZZZ']" \
	"$(meta inf 'col["sym"]["categories"]')"
check_eq "sym values" "['NVDA', 'AAPL', 'ZZZ']" "$(values inf sym)"
check_eq "city values: not nullable, an empty field is an empty text" "['a much longer city name', 'b', '']" "$(values inf city)"
check_eq "city data_nbytes" 24 "$(meta inf 'col["city"]["data_nbytes"]')"
check_eq "note: not nullable, an empty field is an empty text" "['n', '', 'm']" "$(values inf note)"

section "bad input names its line and changes nothing"
SNAP=$TMPD/snap.inf
snapshot "$MNT/inf" >"$SNAP"
printf 'id,city\n1,ok\n2,"two\nlines \377"\n' >"$TMPD/bad.csv"
ctl_status 1 "invalid UTF-8 in a text column" import inf "$TMPD/bad.csv"
check_eq "its message" "tablectl: import: $TMPD/bad.csv:4: column 'city': invalid UTF-8 (byte 0xff): text columns hold UTF-8 only; convert the file (iconv) or store the bytes in a binary column" \
	"$(cat "$TMPD/err")"
printf 'id,sym\n1,AAPL\n2,\377x\n' >"$TMPD/badsym.csv"
ctl_status 1 "invalid UTF-8 in a category column" import inf "$TMPD/badsym.csv"
has "$TMPD/err" "badsym.csv:3: column 'sym': invalid UTF-8 (byte 0xff)" "its message"
printf 'id,city\n,x\n' >"$TMPD/noid.csv"
ctl_status 1 "a missing value in a column that is not nullable" import inf "$TMPD/noid.csv"
has "$TMPD/err" "noid.csv:2: column 'id': a missing value (empty field) in a column that is not nullable" "its message"
unchanged "after the refused imports" "$MNT/inf" "$SNAP"
printf 'x,y\n1,ok\n2,\300\257\n' >"$TMPD/bad2.csv"
ctl_status 1 "invalid UTF-8 in a new table" import fresh "$TMPD/bad2.csv"
has "$TMPD/err" "bad2.csv:3: column 'y': invalid UTF-8 (byte 0xc0)" "its message"
check "no table left" test ! -e "$MNT/fresh"

section ".npy export: text refused, category as codes, nullable as values"
ctl_status 1 "a utf8 column to .npy" export inf "$TMPD/city.npy" --column city
has "$TMPD/err" "column 'city' is utf8: a .npy file holds fixed-width values only" "its message"
check "no .npy left" test ! -e "$TMPD/city.npy"
ctl_status 0 "a category column to .npy" export inf "$TMPD/sym.npy" --column sym
has "$TMPD/err" "the .npy holds its int32 codes" "the note"
check_eq "the codes" "int32 [2, 0, 3]" \
	"$(py -c 'import numpy as np, sys; a = np.load(sys.argv[1]); print(a.dtype, a.tolist())' "$TMPD/sym.npy")"
ctl_status 0 "a nullable column to .npy" export inf "$TMPD/qty.npy" --column qty
has "$TMPD/err" "which are missing is in qty.null" "the note"

section "broken offsets and codes: an error, exit 1, the daemon serves on"
check "create c" ctl create c --rows 3 s:utf8 'k:category[a,b]'
printf '{"columns": [{"name": "s", "type": "utf8", "data_nbytes": 10}]}' >"$MNT/c/meta.json"
py -c 'import numpy as np, sys
open(sys.argv[1] + "/s", "r+b").write(np.array([0, 5, 2, 9], "<i8").tobytes())' "$MNT/c"
ctl_status 1 "head of decreasing offsets" head c
has "$TMPD/err" "s: offsets corrupt at row 1" "its message"
ctl_status 1 "export of decreasing offsets" export c "$TMPD/c.csv"
check "no export left" test ! -e "$TMPD/c.csv"
py -c 'import numpy as np, sys
open(sys.argv[1] + "/s", "r+b").write(np.array([0, 3, 11, 11], "<i8").tobytes())' "$MNT/c"
ctl_status 1 "head of offsets past the data" head c
has "$TMPD/err" "s: offsets corrupt at row 1: 11 after 3 (data holds 10 bytes)" "its message"
py -c 'import numpy as np, sys
open(sys.argv[1] + "/s", "r+b").write(np.array([0, 2**62, -1, 0], "<i8").tobytes())' "$MNT/c"
ctl_status 1 "head of a huge offset" head c
has "$TMPD/err" "s: offsets corrupt at row 0: 4611686018427387904 after 0" "its message"
py -c 'import numpy as np, sys
open(sys.argv[1] + "/s", "r+b").write(np.array([7, 7, 7, 7], "<i8").tobytes())' "$MNT/c"
ctl_status 1 "head of offsets that do not start at 0" head c
has "$TMPD/err" "s: offsets corrupt: the first is 7, not 0" "its message"
py -c 'import numpy as np, sys
open(sys.argv[1] + "/s", "r+b").write(np.array([0, 0, 0, 0], "<i8").tobytes())
open(sys.argv[1] + "/k", "r+b").write(np.array([0, 7, -1], "<i4").tobytes())' "$MNT/c"
ctl_status 1 "head of a code out of range" head c
has "$TMPD/err" "k: code 7 at row 1 is not one of its 2 categories" "its message"
py -c 'import numpy as np, sys
open(sys.argv[1] + "/k", "r+b").write(np.array([0, 1, -5], "<i4").tobytes())' "$MNT/c"
ctl_status 1 "head of a negative code" head c
has "$TMPD/err" "k: code -5 at row 2" "its message"
ctl_status 0 "the daemon serves on" ls

finish
