#!/bin/sh
# hostile: thousands of mutated meta.json documents (byte flips,
# truncations, stray tokens, huge and negative numbers, deep nesting,
# duplicated keys, hostile names and types, weird shapes, random bytes),
# written whole, in pieces, byte by byte or left for close, to four tables;
# then hostile names through mkdir, rename and mv.  Every write and close
# returns what a model of the contract says (success, or EINVAL, ENOSPC,
# EFBIG with the table byte for byte as before), every table holds what the
# model holds, the serving process never dies (a crash would be hidden by
# the supervisor's restart), a table nobody wrote keeps its bytes, and the
# daemon counts no internal error.
#
# HOSTILE_SEED=N replays a run (its seed is printed); HOSTILE_DOCS=N sets
# how many documents (default 10000).
. "${top_srcdir:-.}/tests/mount/lib.sh"

: "${HOSTILE_DOCS:=10000}"
if [ -z "${HOSTILE_SEED:-}" ]; then
	HOSTILE_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
LIMIT=4194304
: "${TABLECTL:=$top_builddir/src/tablectl}"

serving_pid() { pgrep -P "$DPID" | head -n 1; }

start_daemon --memory-limit "$LIMIT"
note "seed $HOSTILE_SEED (HOSTILE_SEED=$HOSTILE_SEED replays this run), $HOSTILE_DOCS documents"

section "a control table nobody writes"
C=$MNT/ctl
mkdir "$C" || fatal "mkdir $C"
expect_ok colcheck meta "$C/meta.json" \
	'{"rows": 3000, "columns": [{"name": "v", "type": "int64"}, {"name": "s", "type": "bytes8"}]}'
check "fill v" tfs fill "$C" v 41 "$TMPD/v.ref"
check "fill s" tfs fill "$C" s 42 "$TMPD/s.ref"
snapshot "$C" >"$TMPD/ctl.snap"
SERVING=$(serving_pid)
[ -n "$SERVING" ] || fatal "no serving process under $DPID"

section "mutated documents"
"$PYTHON3" "$PYDIR/hostile.py" "$MNT" "$HOSTILE_SEED" "$HOSTILE_DOCS" "$LIMIT" "$DPID" \
	>"$TMPD/hostile.out" 2>&1
st=$?
sed 's/^/  /' "$TMPD/hostile.out" | head -n 150
case $st in
0) pass ;;
77) skip "hostile.py: $(tail -n 1 "$TMPD/hostile.out")" ;;
*) fail "hostile documents (seed $HOSTILE_SEED): exit status $st" ;;
esac

section "hostile names through mv"
for n in 'a.b' '..x' 'x/y' '-x' "$(printf 'a\001b')" \
	"$(printf '%0129d' 0)" 'meta.json'; do
	mv -T "$MNT/h1" "$MNT/$n" 2>/dev/null && fail "mv h1 to '$n' succeeded"
	mv -T "$MNT/ctl/v" "$MNT/ctl/$n" 2>/dev/null && fail "mv ctl/v to '$n' succeeded"
	mkdir "$MNT/$n" 2>/dev/null && fail "mkdir '$n' succeeded"
done
pass
check_eq "the mount root after hostile names" ".status ctl h0 h1 h2 h3" "$(ls -A "$MNT" | tr '\n' ' ' | sed 's/ $//')"

section "afterwards"
check_eq "the serving process never died (pid $SERVING)" "$SERVING" "$(serving_pid)"
check "the supervisor is alive" kill -0 "$DPID"
unchanged "control table" "$C" "$TMPD/ctl.snap"
for t in "$MNT"/*/; do
	sizes_match_meta "${t%/}"
done
check "every table reads back through tablectl" "$TABLECTL" --mount "$MNT" ls

finish
