#!/bin/sh
# make check: runs every example of examples/ against a live mount and
# checks what they print: the shell session, C (reader.c), Python
# (producer_consumer.py, protocol.py, pandas_frame.py), Node.js
# (node/read_table.mjs) and Java (java/ReadColumn.java).  tests/mount/lib.sh
# does the mounting, the waiting and the cleanup; a machine without a usable
# /dev/fuse skips (exit 77).  A missing language is a failure, not a skip:
# the examples are part of what is tested.  Needs, besides the build:
#   python3-numpy python3-pandas nodejs npm openjdk-17-jdk-headless (Debian 12)
#   cd examples/node && npm install
LC_ALL=C
export LC_ALL

# By hand, from the top of a built tree: sh examples/run_examples.sh
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/mount/lib.sh"
READER=$(cd "$top_builddir" && pwd)/examples/reader
: "${TABLECTL:=$top_builddir/src/tablectl}"
export TABLECTL

# has TEXT REGEX DESCRIPTION: TEXT has a line matching the extended REGEX.
has()
{
	if printf '%s\n' "$1" | grep -Eq -- "$2"; then
		pass
	else
		fail "$3: no line matching '$2'"
	fi
}

# lines TEXT REGEX: how many lines of TEXT match the extended REGEX.
lines() { printf '%s\n' "$1" | grep -Ec -- "$2"; }

# left PATTERN: how many entries of the mount match the glob PATTERN.
left()
{
	set -- "$MNT"/$1
	if [ -e "$1" ]; then echo $#; else echo 0; fi
}

# ls_size SIZE NAME: the regex of an ls -l line for file NAME of SIZE bytes.
ls_size() { printf ' %s +[A-Za-z]+ +[0-9]+ +[0-9:]+ %s$' "$1" "$2"; }

start_daemon
[ -x "$READER" ] || fatal "examples/reader not built: $READER"

section "examples/shell_session.sh"
rc=0
out=$(sh "$top_srcdir/examples/shell_session.sh" "$MNT" 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "shell_session.sh exit status" 0 "$rc"
has "$out" "$(ls_size 32 x)" "ls -l after the schema (x: 4 rows * 8 bytes)"
has "$out" "$(ls_size 16 n)" "ls -l after the schema (n: 4 rows * 4 bytes)"
has "$out" '^0000000 +1\.5 +-2\.25$' "od of the written column"
has "$out" '^0000016 +1000 +0\.125$' "od of the written column"
has "$out" '^ +1000$' "dd of row 2 alone"
has "$out" '^ +x +n$' "tablectl head: the header"
has "$out" '^ +1\.5 +0$' "tablectl head: row 0"
has "$out" '^-2\.25 +0$' "tablectl head: row 1"
has "$out" '^ +1000 +0$' "tablectl head: row 2"
has "$out" '^0\.125 +0$' "tablectl head: row 3"
has "$out" '^ +223 +N +U +M +P +Y$' "x.npy starts with the .npy magic"
has "$out" '^same bytes$' "x.npy ends with the bytes of x"
has "$out" '^ARROW1$' "table.arrow starts with the Arrow magic"
check_eq "sha256sum of the column equals that of the bytes written" 1 \
	"$(printf '%s\n' "$out" | grep -E '^[0-9a-f]{64} ' | sort -u | wc -l)"
check_eq "refusals with EPERM (O_TRUNC, write past the end)" 2 \
	"$(lines "$out" 'Operation not permitted')"
# dd reports the refusal at write(2) and again at close(2), where it holds too.
check_eq "refusals with EINVAL (type change), at write and at close" 2 \
	"$(lines "$out" 'Invalid argument')"
has "$out" "$(ls_size 48 x)" "ls -l after the resize to 6 rows"
has "$out" '^0000032 +0 +0$' "od after the resize: the new rows are zeros"
has "$out" '^0000048$' "od after the resize: 6 rows"
check_eq "tables left by shell_session.sh" 0 "$(left 'shell_demo_*')"

section "examples/reader"
t=$MNT/reader_example
mkdir "$t" || fatal "mkdir $t"
printf '{"rows": 1000, "columns": [{"name": "price", "type": "float64"}, {"name": "qty", "type": "int32"}]}' \
	>"$t/meta.json" || fatal "schema of $t"
"$PYTHON3" -c 'import sys, numpy as np
m = np.memmap(sys.argv[1], dtype="<f8", mode="r+", shape=(1000,))
m[:] = np.arange(1000)
m.flush()' "$t/price" || fatal "filling $t/price"
out=$("$READER" "$t" price 2>&1)
check_eq "reader on 1000 rows" "rows 1000
sum 499500" "$out"
out=$(cd "$MNT" && "$READER" reader_example/ price 2>&1)
check_eq "reader on a relative path with a slash" "rows 1000
sum 499500" "$out"
# Grown by 500 rows: they are zeros, so the sum stays.
printf '{"rows": 1500}' >"$t/meta.json" || fatal "resize of $t"
out=$("$READER" "$t" price 2>&1)
check_eq "reader after the resize to 1500 rows" "rows 1500
sum 499500" "$out"
rc=0
"$READER" "$t" qty >/dev/null 2>&1 || rc=$?
check_eq "reader exit status on an int32 column" 1 "$rc"
c_out=$("$READER" "$t" price 2>&1)

section "examples/java/ReadColumn.java"
# The same table as the C reader: both must print the same.
if ! command -v javac >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
	fail "javac and java not found: the Java example needs a JDK (Debian 12: apt-get install openjdk-17-jdk-headless)"
elif ! javac -d "$TMPD/java" "$top_srcdir/examples/java/ReadColumn.java" >"$TMPD/javac.out" 2>&1; then
	fail "javac examples/java/ReadColumn.java failed:"
	sed 's/^/    /' "$TMPD/javac.out"
else
	pass
	out=$(java -cp "$TMPD/java" ReadColumn "$t" price 2>&1)
	check_eq "ReadColumn on 1500 rows" "rows 1500
sum 499500" "$out"
	check_eq "ReadColumn prints what the C reader prints" "$c_out" "$out"
	rc=0
	java -cp "$TMPD/java" ReadColumn "$t" qty >/dev/null 2>&1 || rc=$?
	check_eq "ReadColumn exit status on an int32 column" 1 "$rc"
	# Values that are not integers, in a table of its own.
	tj=$MNT/java_example
	mkdir "$tj" || fatal "mkdir $tj"
	printf '{"rows": 100000, "columns": [{"name": "v", "type": "float64"}]}' >"$tj/meta.json" ||
		fatal "schema of $tj"
	"$PYTHON3" -c 'import sys, numpy as np
m = np.memmap(sys.argv[1], dtype="<f8", mode="r+", shape=(100000,))
m[:] = np.arange(100000) * 0.25 - 3000.125
m.flush()' "$tj/v" || fatal "filling $tj/v"
	out=$(java -cp "$TMPD/java" ReadColumn "$tj" v 2>&1)
	check_eq "ReadColumn on 100000 rows of quarters" "rows 100000
sum 949975000" "$out"
	rm -r "$tj" || fail "rm -r $tj"
fi
rm -r "$t" || fail "rm -r $t"

section "examples/node/read_table.mjs"
# One column of each kind of typed array, with sums known exactly.
tn=$MNT/node_example
mkdir "$tn" || fatal "mkdir $tn"
"$PYTHON3" - "$tn" <<'EOF_PY' || fatal "filling $tn"
import json, sys
import numpy as np
t = sys.argv[1]
schema = [{"name": "price", "type": "float64"}, {"name": "qty", "type": "int32"},
          {"name": "big", "type": "int64"}, {"name": "ts", "type": "datetime64[ns]"},
          {"name": "flag", "type": "bool"}, {"name": "emb", "type": "float32", "shape": [3]},
          {"name": "h", "type": "float16"}, {"name": "tag", "type": "bytes4"}]
with open(t + "/meta.json", "w") as f:
    json.dump({"rows": 1000, "columns": schema}, f)
i = np.arange(1000, dtype=np.int64)
values = {"price": i * 0.25, "qty": i - 500, "big": i << 40, "ts": i, "flag": i % 3 == 0,
          "emb": np.repeat(i % 7, 3).reshape(1000, 3), "h": (i % 4) * 0.5, "tag": b"ab"}
with open(t + "/meta.json") as f:
    meta = json.load(f)
for c in meta["columns"]:
    m = np.memmap(t + "/" + c["file"], dtype=c["dtype"], mode="r+",
                  shape=(meta["rows"], *c["shape"]))
    m[:] = values[c["name"]] if c["name"] != "ts" else values["ts"].view("<M8[ns]")
    m.flush()
EOF_PY
if ! command -v node >/dev/null 2>&1; then
	fail "node not found: the Node.js example needs it (Debian 12: apt-get install nodejs npm)"
elif ! has_arrow "$top_srcdir/examples/node/node_modules"; then
	fail "examples/node/node_modules/apache-arrow is missing: run 'cd examples/node && npm install' before make check"
else
	rc=0
	out=$(node_run "$top_srcdir/examples/node/node_modules" "$top_srcdir/examples/node/read_table.mjs" \
		"$tn" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	check_eq "read_table.mjs exit status" 0 "$rc"
	check_eq "read_table.mjs last line" ok "$(printf '%s\n' "$out" | tail -n 1)"
	has "$out" '^table\.arrow: 1000 rows, 8 fields$' "table.arrow's shape"
	for want in \
		'price <f8 \(arrow Float64\): raw sum 124875, arrow sum 124875' \
		'qty <i4 \(arrow Int32\): raw sum -500, arrow sum -500' \
		'big <i8 \(arrow Int64\): raw sum 549206058074112000, arrow sum 549206058074112000' \
		'ts <M8\[ns\] \(arrow Timestamp<NANOSECOND>\): raw sum 499500, arrow sum 499500' \
		'flag \|b1 \(arrow Bool\): raw sum 334, arrow sum 334' \
		'emb <f4\[3\] \(arrow FixedSizeList\[3\]<Float32>\): raw sum 8991, arrow sum 8991' \
		'h <f2 \(arrow Float16\): raw sum 750, arrow sum 750' \
		'tag \|S4 \(arrow FixedSizeBinary\[4\]\): raw sum 195000, arrow sum 195000'; do
		has "$out" "^$want: equal\$" "read_table.mjs: the column's sums"
	done
fi
rm -r "$tn" || fail "rm -r $tn"

section "examples/producer_consumer.py"
rc=0
out=$("$PYTHON3" "$top_srcdir/examples/producer_consumer.py" "$MNT" --rows 200000 --workers 3 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "producer_consumer.py exit status" 0 "$rc"
check_eq "producer_consumer.py last line" ok "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "columns whose sums equal numpy's" 3 "$(lines "$out" ': equal$')"
check_eq "tables left by producer_consumer.py" 0 "$(left 'example_[0-9]*')"

section "examples/pandas_frame.py"
if ! "$PYTHON3" -c 'import pandas' 2>/dev/null; then
	fail "$PYTHON3 has no pandas: the pandas example needs it (Debian 12: apt-get install python3-pandas)"
else
	rc=0
	out=$("$PYTHON3" "$top_srcdir/examples/pandas_frame.py" "$MNT" --rows 100000 --workers 3 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/    /'
	check_eq "pandas_frame.py exit status" 0 "$rc"
	check_eq "pandas_frame.py last line" ok "$(printf '%s\n' "$out" | tail -n 1)"
	has "$out" '^dtypes: price float64, qty int32, ts datetime64\[ns\], flag bool$' "the frame's dtypes"
	check_eq "DataFrame columns that share memory with their memmap" 4 \
		"$(lines "$out" ' zero-copy: shares memory with its memmap$')"
	has "$out" '^after describe\(\) and groupby\(\): 4 of 4 columns still share memory$' \
		"no copy after aggregates"
	has "$out" 'shows 0\.0 -> 1234\.5: seen$' "another process's write seen in the DataFrame"
	has "$out" 'each frame zero-copy: yes$' "the workers' frames are zero-copy"
	has "$out" '^False +66666 +8324916\.75 +-5 +2026-11-20 09:30:01 +2026-11-21 13:16:38$' \
		"groupby of the workers, flag False"
	has "$out" '^True +33334 +4162583\.25 +0 +2026-11-20 09:30:00 +2026-11-21 13:16:39$' \
		"groupby of the workers, flag True"
	check_eq "workers' groupby equal to the parent's and to the expected" 2 "$(lines "$out" ': equal$')"
fi
check_eq "tables left by pandas_frame.py" 0 "$(left 'frame_*')"

section "examples/protocol.py"
rc=0
out=$("$PYTHON3" "$top_srcdir/examples/protocol.py" "$MNT" --seconds 2 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "protocol.py exit status" 0 "$rc"
check_eq "protocol.py last line" ok "$(printf '%s\n' "$out" | tail -n 1)"
has "$out" '^writer: [1-9][0-9]* passes' "the writer resized and refilled the table"
has "$out" '^reader: [1-9][0-9]* consistent reads' "the reader completed reads"
has "$out" '^inconsistent reads: 0$' "every consistent read was whole"
check_eq "tables left by protocol.py" 0 "$(left 'example_protocol_*')"

finish
