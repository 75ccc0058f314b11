#!/bin/sh
# A tablefs session with nothing but the shell and coreutils.
#
#   shell_session.sh MOUNTPOINT
#
# Creates a table, gives it a schema, writes a column with dd, reads it back
# with od and sha256sum, shows what a column refuses, resizes the table and
# deletes it.  Each command is echoed before it runs.
set -eu

mnt=${1:?usage: shell_session.sh MOUNTPOINT}
t=$mnt/shell_demo_$$

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

say "cat $t/x | sha256sum; values | sha256sum"
cat "$t/x" | sha256sum
values | sha256sum

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
