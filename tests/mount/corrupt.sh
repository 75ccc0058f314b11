#!/bin/sh
# corrupt: a writer puts bad offsets (decreasing, past the data end, huge,
# negative, first != 0) or bad codes (negative other than -1, >= the number
# of categories) into a table through mmap.  table.arrow then fails with EIO
# (opened before or after), .status names the column, tablectl head answers
# with an error, another table still reads, and once the bytes are repaired
# the view works again.  The daemon must serve throughout, no internal error.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon
"$PYTHON3" -c 'import pyarrow' 2>/dev/null ||
	fatal "$PYTHON3 has no pyarrow: run scripts/install-deps (tests/requirements.txt) and ./configure again"
serving=$(pgrep -P "$DPID" | head -n 1)

section "corrupted offsets and codes"
"$PYTHON3" -X faulthandler "$PYDIR/text_check.py" corrupt "$MNT" "$TABLECTL" >"$TMPD/py.out" 2>&1
grep -E '^FAIL' "$TMPD/py.out" | head -n 40
tail -n 15 "$TMPD/py.out" | grep -v '^FAIL' | sed 's/^/    /'
check_eq "text_check.py corrupt" "0 failed" "$(tail -n 1 "$TMPD/py.out" | sed 's/.*, //')"
check_eq "the serving process never died" "$serving" "$(pgrep -P "$DPID" | head -n 1)"

finish
