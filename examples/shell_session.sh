#!/bin/sh
# A tablefs session with nothing but the shell and coreutils.
#
#   shell_session.sh MOUNTPOINT
#
# Creates a table, gives it a schema, writes a column with dd, reads it back
# with od, dd and sha256sum and as rows with tablectl head, peeks at the
# derived views, shows what a column refuses, resizes the table and deletes
# it.  Each command is echoed before it runs.  tablectl is $TABLECTL if set
# (make check sets it; by hand from a built tree: TABLECTL=src/tablectl),
# else the one on the PATH.
set -eu

mnt=${1:?usage: shell_session.sh MOUNTPOINT}
name=shell_demo_$$
t=$mnt/$name
tablectl=${TABLECTL:-tablectl}

say() { printf '\n$ %s\n' "$*"; }
run() {
	say "$@"
	"$@"
}

# Four little-endian float64 values, 1.5 -2.25 1000 0.125, as octal escapes
# (the only byte escapes POSIX printf knows).
values() {
	printf '\0\0\0\0\0\0\370\77\0\0\0\0\0\0\2\300\0\0\0\0\0\100\217\100\0\0\0\0\0\0\300\77'
}

# A table is a directory: mkdir makes an empty one, 0 rows and no columns.
run mkdir "$t"

# Writing meta.json changes the schema; its columns appear at once,
# zero-filled, each exactly rows * itemsize bytes.
schema='{"rows": 4, "columns": [{"name": "x", "type": "float64"}, {"name": "n", "type": "int32"}]}'
say "printf '%s\\n' '$schema' > $t/meta.json"
printf '%s\n' "$schema" >"$t/meta.json"
run ls -l "$t"
run cat "$t/meta.json"

# Write in place.  conv=notrunc matters: without it dd opens the column with
# O_TRUNC, and a column never changes size that way (EPERM).
say "values | dd of=$t/x conv=notrunc status=none"
values | dd of="$t/x" conv=notrunc status=none
run od -A d -t f8 "$t/x"

# One row: row 2 of a float64 column is the 8 bytes at offset 16.
say "dd if=$t/x bs=8 skip=2 count=1 status=none | od -A n -t f8"
dd if="$t/x" bs=8 skip=2 count=1 status=none | od -A n -t f8

say "cat $t/x | sha256sum; values | sha256sum"
cat "$t/x" | sha256sum
values | sha256sum

# tablectl does nothing a user could not: head reads meta.json and the
# columns, and prints rows as text.
run "$tablectl" --mount "$mnt" head "$name"

# Derived read-only views, not listed by ls but there by name: x.npy is a
# .npy header followed by the bytes of x; table.arrow an Arrow IPC file.
say "head -c 6 $t/x.npy | od -A n -c; tail -c 32 $t/x.npy | cmp - $t/x && echo same bytes"
head -c 6 "$t/x.npy" | od -A n -c
tail -c 32 "$t/x.npy" | cmp - "$t/x" && echo same bytes
say "head -c 6 $t/table.arrow; echo"
head -c 6 "$t/table.arrow"
echo

# What a column refuses.  Each refusal leaves the table as it was.
say "values | dd of=$t/x status=none    # no conv=notrunc"
if values | dd of="$t/x" status=none 2>&1; then
	echo "unexpected: truncating a column succeeded" >&2
	exit 1
fi
say "printf x | dd of=$t/x bs=1 seek=32 conv=notrunc status=none    # past the end"
if printf x | dd of="$t/x" bs=1 seek=32 conv=notrunc status=none 2>&1; then
	echo "unexpected: writing past the end of a column succeeded" >&2
	exit 1
fi
say "echo '{\"columns\": [{\"name\": \"x\", \"type\": \"int8\"}]}' | dd of=$t/meta.json status=none"
if echo '{"columns": [{"name": "x", "type": "int8"}]}' | dd of="$t/meta.json" status=none 2>&1; then
	echo "unexpected: changing the type of a column succeeded" >&2
	exit 1
fi
run od -A d -t f8 "$t/x"

# A new row count resizes every column; the new rows are zeros.
say "printf '{\"rows\": 6}\\n' > $t/meta.json"
printf '{"rows": 6}\n' >"$t/meta.json"
run ls -l "$t"
run od -A d -t f8 "$t/x"

# rm -r works: the columns go first, then meta.json and the table.
run rm -r "$t"
