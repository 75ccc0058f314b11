#!/bin/sh
# make check: runs the four examples of examples/ against a live mount and
# checks what they print.  tests/mount/lib.sh does the mounting, the waiting
# and the cleanup; a machine without a usable /dev/fuse skips (exit 77).
LC_ALL=C
export LC_ALL

# By hand, from the top of a built tree: sh examples/run_examples.sh
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
. "$top_srcdir/tests/mount/lib.sh"
READER=$top_builddir/examples/reader

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
check_eq "sha256sum of the column equals that of the bytes written" 1 \
	"$(printf '%s\n' "$out" | grep -E '^[0-9a-f]{64} ' | sort -u | wc -l)"
check_eq "refusals with EPERM (O_TRUNC, write past the end)" 2 \
	"$(lines "$out" 'Operation not permitted')"
check_eq "refusals with EINVAL (type change)" 1 "$(lines "$out" 'Invalid argument')"
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
# Grown by 500 rows: they are zeros, so the sum stays.
printf '{"rows": 1500}' >"$t/meta.json" || fatal "resize of $t"
out=$("$READER" "$t" price 2>&1)
check_eq "reader after the resize to 1500 rows" "rows 1500
sum 499500" "$out"
rc=0
"$READER" "$t" qty >/dev/null 2>&1 || rc=$?
check_eq "reader exit status on an int32 column" 1 "$rc"
rm -r "$t" || fail "rm -r $t"

section "examples/producer_consumer.py"
rc=0
out=$("$PYTHON3" "$top_srcdir/examples/producer_consumer.py" "$MNT" --rows 200000 --workers 3 2>&1) || rc=$?
printf '%s\n' "$out" | sed 's/^/    /'
check_eq "producer_consumer.py exit status" 0 "$rc"
check_eq "producer_consumer.py last line" ok "$(printf '%s\n' "$out" | tail -n 1)"
check_eq "columns whose sums equal numpy's" 3 "$(lines "$out" ': equal$')"
check_eq "tables left by producer_consumer.py" 0 "$(left 'example_[0-9]*')"

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
