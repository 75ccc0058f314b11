#!/bin/sh
# views: COLUMN.npy (np.load needs nothing else) and table.arrow (Apache
# Arrow's reader) from a live mount, for every type of the contract, equal
# value for value to the raw columns; read-only, not listed, new after a
# change, the old one still readable by whoever has it open.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
T=$MNT/all
mkdir "$T" || fatal "mkdir"
"$PYTHON3" - "$T" <<'PY' || fatal "cannot create the table"
import json, sys
import numpy as np
t = sys.argv[1]
types = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
         "float16", "float32", "float64", "bytes5"] + \
        ["datetime64[%s]" % u for u in ("s", "ms", "us", "ns")] + \
        ["timedelta64[%s]" % u for u in ("s", "ms", "us", "ns")]
cols = [{"name": "c%d" % i, "type": ty} for i, ty in enumerate(types)]
cols += [{"name": "vec", "type": "float32", "shape": [3]},
         {"name": "mat", "type": "int16", "shape": [2, 3]},
         {"name": "tvec", "type": "datetime64[ns]", "shape": [2]}]
rows = 37
with open(t + "/meta.json", "w") as f:
    json.dump({"rows": rows, "columns": cols}, f)
m = json.load(open(t + "/meta.json"))
rng = np.random.default_rng(7)
for c in m["columns"]:
    a = np.memmap(t + "/" + c["file"], dtype=c["dtype"], mode="r+", shape=(rows, *c["shape"]))
    n = a.size
    if a.dtype.kind == "b":
        a[...] = (rng.integers(0, 2, n) == 1).reshape(a.shape)
    elif a.dtype.kind == "S":
        a[...] = [bytes(rng.integers(33, 127, rng.integers(0, 6)).astype(np.uint8)) for _ in range(n)]
    elif a.dtype.kind in "Mm":
        a.view("<i8")[...] = rng.integers(-2**40, 2**40, n).reshape(a.shape)
    elif a.dtype.kind == "f":
        a[...] = rng.normal(size=n).reshape(a.shape) * 1000
    else:
        info = np.iinfo(a.dtype)
        a[...] = rng.integers(info.min, info.max, n, dtype=a.dtype, endpoint=True).reshape(a.shape)
    a.flush()
PY

section "COLUMN.npy: np.load(mmap_mode='r') equals the raw column, every type"
check "np.load of every column" "$PYTHON3" - "$T" <<'PY'
import json, sys
import numpy as np
t = sys.argv[1]
m = json.load(open(t + "/meta.json"))
for c in m["columns"]:
    raw = np.memmap(t + "/" + c["file"], dtype=c["dtype"], mode="r", shape=(m["rows"], *c["shape"]))
    v = np.load(t + "/" + c["name"] + ".npy", mmap_mode="r")
    assert v.dtype == raw.dtype and v.shape == raw.shape, (c, v.dtype, v.shape)
    assert raw.tobytes() == v.tobytes(), c["name"]
PY

section "table.arrow: Apache Arrow reads every type and value"
if command -v node >/dev/null && has_arrow "$top_srcdir/tests/node_modules"; then
	out=$(node_run "$top_srcdir/tests/node_modules" "$top_srcdir/tests/mount/views_check.mjs" "$T" 2>&1)
	check_eq "arrow and raw columns agree" "0 failed" "$(printf '%s\n' "$out" | tail -n 1 | sed 's/.*, //')"
	printf '%s\n' "$out" | grep FAIL | head -n 10
	note "$(printf '%s\n' "$out" | tail -n 1)"
else
	fail "node with apache-arrow is needed (cd tests && npm install)"
fi

section "views are derived: read-only, not listed, never removable"
check_eq "ls lists no view" "" "$(ls "$T" | grep -v '^meta\.json$' | grep '\.')"
expect_errno EPERM colcheck open "$T/c0.npy" rw
expect_errno EPERM colcheck open "$T/table.arrow" rw
check "rm of a view is refused" sh -c "! rm '$T/table.arrow' 2>/dev/null"
check_eq "unknown .npy" "" "$(ls "$T/nosuch.npy" 2>/dev/null)"
check_eq "table.arrow is read-only" 444 "$(stat -c %a "$T/table.arrow")"

section "views show the column memory as it is now, to whom the columns allow"
exec 5<"$T/table.arrow"
check "reading .status with table.arrow open" "$PYTHON3" -c 'import json,sys; json.load(open(sys.argv[1]))' "$MNT/.status"
exec 5<&-
check_eq "serving process unchanged" "$(pgrep -P "$DPID")" "$(pgrep -P "$DPID")"
"$PYTHON3" -c 'import numpy as np, sys; a = np.memmap(sys.argv[1], dtype="<f8", mode="r+"); a[0] = 4242.0; a.flush()' "$T/c11"
check_eq "a fresh read of the .npy sees a new value" 4242.0 \
	"$("$PYTHON3" -c 'import numpy as np,sys; print(np.load(sys.argv[1], mmap_mode="r")[0])' "$T/c11.npy")"
expect_errno EPERM colcheck chmod "$T/table.arrow" 0644
chmod 0755 "$T" && chmod 0644 "$T/c12"
check_eq "arrow readable by others while every column is" 444 "$(stat -c %a "$T/table.arrow")"
chmod 0600 "$T/c12"
check_eq "arrow no longer readable by others once a column is not" 400 "$(stat -c %a "$T/table.arrow")"
check_eq "nor that column's .npy" 400 "$(stat -c %a "$T/c12.npy")"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	start_daemon -o allow_other
	P=$MNT/p
	mkdir "$P" && chmod 0755 "$P" &&
		printf '{"rows": 2, "columns": [{"name": "open", "type": "int8"}, {"name": "secret", "type": "int8"}]}' >"$P/meta.json"
	chmod 0600 "$P/secret"
	check "another user reads an open column's .npy" as_user 65534 cat "$P/open.npy"
	check "but not the table.arrow that holds a 0600 column" sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups cat '$P/table.arrow' >/dev/null 2>&1"
	check "nor the 0600 column's .npy" sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups cat '$P/secret.npy' >/dev/null 2>&1"
	stop_daemon
	MNT=${T%/all}
fi

section "a change makes a new view; an open one keeps its state"
"$PYTHON3" - "$T" "$TMPD" <<'PY' >"$TMPD/old.out" 2>&1 &
import os, sys, time, mmap
t, sig = sys.argv[1], sys.argv[2]
fd = os.open(t + "/c11.npy", os.O_RDONLY)
before = os.pread(fd, 1 << 20, 0)
open(sig + "/ready", "w").close()
while not os.path.exists(sig + "/go"):
    time.sleep(0.01)
after = os.pread(fd, 1 << 20, 0)
print("same" if before == after else "changed", len(before))
PY
OLD=$!
wait_for 10 "$OLD" test -e "$TMPD/ready" || fail "reader did not start"
printf '{"rows": 40}' >"$T/meta.json"
touch "$TMPD/go"
wait "$OLD"
check_eq "an open .npy keeps the old state" "same 424" "$(cat "$TMPD/old.out")"
check_eq "a new lookup shows the new rows" "(40,)" \
	"$("$PYTHON3" -c 'import numpy as np,sys; print(np.load(sys.argv[1], mmap_mode="r").shape)' "$T/c11.npy")"
check "arrow shows the new rows" "$PYTHON3" -c '
import sys, struct
d = open(sys.argv[1], "rb").read()
assert d[:6] == b"ARROW1" and d[-6:] == b"ARROW1"' "$T/table.arrow"
check "rm -r of a table with views looked up" rm -r "$T"

finish
