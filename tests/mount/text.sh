#!/bin/sh
# text: utf8, binary, category and nullable columns read from a live mount by
# real readers, as issue 10 promises: numpy (np.memmap of the offsets, data,
# mask, codes and dictionary files meta.json lists), pyarrow
# (pa.ipc.open_file over table.arrow, and pa.Array.from_buffers over the
# mapped files, whose buffers must be the mappings' own memory), pandas (a
# DataFrame of object, string[pyarrow], Int64, boolean, Float64 and category
# columns in and out, assert_frame_equal) and Apache Arrow for JavaScript.
# Nulls first, last, everywhere and nowhere; empty and 1 MiB strings;
# non-ASCII text; 0, 1 and 100,003 rows.  Resizes give empty values, -1 codes
# and nulls; old mappings survive them; mv and rm take the companion files
# along; the dictionary files refuse writes.  The helper is text_check.py;
# pyarrow comes from scripts/install-deps, so its absence is a failure.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
"$PYTHON3" -c 'import pyarrow' 2>/dev/null ||
	fatal "$PYTHON3 has no pyarrow: run scripts/install-deps (tests/requirements.txt) and ./configure again"

# pycheck SUBCOMMAND ARGS: text_check.py's checks; its FAIL lines are shown.
pycheck()
{
	_sub=$1
	shift
	"$PYTHON3" "$PYDIR/text_check.py" "$_sub" "$MNT" "$@" >"$TMPD/py.out" 2>&1
	_rc=$?
	grep -E '^FAIL' "$TMPD/py.out" | head -n 30
	[ $_rc = 0 ] || tail -n 15 "$TMPD/py.out" | grep -v '^FAIL' | sed 's/^/    /'
	check_eq "text_check.py $_sub" "0 failed" "$(tail -n 1 "$TMPD/py.out" | sed 's/.*, //')"
	note "$_sub: $(tail -n 1 "$TMPD/py.out")"
}

section "every kind, nulls in every position, 0 / 1 / 2 / 37 / 100,003 rows, 1 MiB strings"
pycheck cases

section "Apache Arrow for JavaScript reads the same values"
if command -v node >/dev/null && has_arrow "$top_srcdir/tests/node_modules"; then
	out=$(node_run "$top_srcdir/tests/node_modules" "$top_srcdir/tests/mount/text_check.mjs" \
		"$MNT"/case0 "$MNT"/case1 "$MNT"/case37 "$MNT"/case100003 "$MNT"/big 2>&1)
	check_eq "arrow (js) and raw files agree" "0 failed" "$(printf '%s\n' "$out" | tail -n 1 | sed 's/.*, //')"
	printf '%s\n' "$out" | grep -E 'FAIL|Error' | head -n 10
	note "$(printf '%s\n' "$out" | tail -n 1)"
else
	fail "node with apache-arrow is needed (cd tests && npm install)"
fi

section "pandas: a DataFrame goes in and comes back equal"
pycheck pandas

section "the files on disk: sizes as meta.json says"
for t in case37 big; do
	check "$t: every file listed with its nbytes" "$PYTHON3" - "$MNT/$t" <<'PY'
import json, os, sys
t = sys.argv[1]
m = json.load(open(t + "/meta.json"))
listed = {"meta.json"}
for c in m["columns"]:
    for f in c.get("files", [{"file": c["file"], "nbytes": c["nbytes"]}]):
        assert os.path.getsize(t + "/" + f["file"]) == f["nbytes"], f
        listed.add(f["file"])
assert set(os.listdir(t)) == listed, sorted(set(os.listdir(t)) ^ listed)
PY
done
rm -rf "$MNT"/case* "$MNT"/big "$MNT"/frame*

section "resize, mv, rm, read-only dictionaries"
pycheck resize
expect_errno EPERM colcheck open "$MNT/rs/c.dict" rw
expect_errno EPERM colcheck open "$MNT/rs/c.dict.data" rw

finish
