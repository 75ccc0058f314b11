#!/bin/sh
# tablectl on a real mount: export then import gives back the same bytes for
# every type, every datetime unit and the int64 extremes; CSV inference picks
# a type that holds every value exactly; UTF-8 text comes out as it went in;
# errors name their cause and exit 1; a failed export leaves its target as
# it was; "tablectl CMD --help" prints that command's usage.  Also tablefs's
# exit status for a mount point that does not exist.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon

# type_of TABLE COLUMN: the column's type in meta.json.
type_of()
{
	py -c 'import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
print([c["type"] for c in m["columns"] if c["name"] == sys.argv[2]][0])' "$MNT/$1" "$2"
}

section "tablefs: a mount point that does not exist is a failure (1), none a usage error (2)"
"$TABLEFS" -f "$TMPD/no/such/dir" >/dev/null 2>&1
check_eq "tablefs with a missing mount point" 1 "$?"
"$TABLEFS" -f >/dev/null 2>&1
check_eq "tablefs without a mount point" 2 "$?"

section "tablectl COMMAND --help: the command's usage, exit 0"
for c in create ls info head import export rm status; do
	ctl_status 0 "$c --help" "$c" --help
	has "$TMPD/out" "Usage: tablectl [--mount DIR] $c" "$c --help"
done
ctl_status 0 "help export" help export
has "$TMPD/out" "Usage: tablectl [--mount DIR] export" "help export"
ctl_status 0 "--help" --help
has "$TMPD/out" "Commands:" "--help"
ctl_status 2 "an unknown command" nosuch --help
ctl_status 2 "a missing operand" head
has "$TMPD/err" "Usage: tablectl [--mount DIR] head" "a usage error shows the command's usage"

section "export then import: the same bytes for every type and value"
check "create rt" ctl create rt --rows 3000 b:bool i8:int8 i16:int16 i64:int64 u8:uint8 \
	u64:uint64 f16:float16 f32:float32 f64:float64 'ds:datetime64[s]' 'dms:datetime64[ms]' \
	'dus:datetime64[us]' 'dns:datetime64[ns]' 'ts:timedelta64[s]' 'tns:timedelta64[ns]' \
	s:bytes12 'v:float32[3]' 'sv:bytes4[2]' 'dv:datetime64[s][2]'
# Every column gets its extremes first, then random values over its whole
# range (floats: every finite value, infinities, -0 and subnormals; bytes:
# any byte, valid UTF-8 or not).
check "fill rt" py - "$MNT/rt" <<'EOF'
import json, sys
import numpy as np
t = sys.argv[1]
m = json.load(open(t + "/meta.json"))
rng = np.random.default_rng(8)
n = m["rows"]
for c in m["columns"]:
    dt = np.dtype(c["dtype"])
    shape = (n,) + tuple(c.get("shape", []))
    count = int(np.prod(shape))
    if dt.kind == "b":
        a = rng.integers(0, 2, count).astype(dt)
    elif dt.kind in "iumM":
        base = np.dtype(np.int64) if dt.kind in "mM" else dt
        info = np.iinfo(base)
        wide = np.int64 if info.min < 0 else np.uint64
        raw = rng.integers(info.min, info.max, count, dtype=wide, endpoint=True)
        small = rng.integers(0 if info.min == 0 else -10**6, 10**6, count).astype(wide)
        raw = np.where(np.arange(count) % 2 == 0, raw, small)
        raw[:4] = [info.min, info.min + 1, info.max - 1, info.max]
        a = raw.astype(base).view(dt)
    elif dt.kind == "f":
        bits = rng.integers(0, 2 ** (8 * dt.itemsize) - 1, count, dtype=np.uint64, endpoint=True)
        bits = bits.astype("u%d" % dt.itemsize)
        a = bits.view(dt)
        a[~np.isfinite(a)] = 1.5
        a[:6] = [np.inf, -np.inf, -0.0, 0.0, np.finfo(dt).smallest_subnormal, np.finfo(dt).max]
    else:
        a = rng.integers(0, 256, count * dt.itemsize, dtype=np.uint8)
        words = "héllo naïve 日本 € x,y \"q\" a\\b".encode()
        a[: len(words)] = np.frombuffer(words, np.uint8)
        a = a.view(dt)
    with open(t + "/" + c["file"], "r+b") as f:
        f.write(a.reshape(shape).tobytes())
EOF
ctl_status 0 "export rt" export rt "$TMPD/rt.csv"
mkdir "$TMPD/empty"
# The same schema, no rows: import fills it from the CSV.
check "create rt2" ctl create rt2 b:bool i8:int8 i16:int16 i64:int64 u8:uint8 \
	u64:uint64 f16:float16 f32:float32 f64:float64 'ds:datetime64[s]' 'dms:datetime64[ms]' \
	'dus:datetime64[us]' 'dns:datetime64[ns]' 'ts:timedelta64[s]' 'tns:timedelta64[ns]' \
	s:bytes12 'v:float32[3]' 'sv:bytes4[2]' 'dv:datetime64[s][2]'
ctl_status 0 "import the export" import rt2 "$TMPD/rt.csv"
for c in b i8 i16 i64 u8 u64 f16 f32 f64 ds dms dus dns ts tns s v sv dv; do
	if cmp -s "$MNT/rt/$c" "$MNT/rt2/$c"; then
		pass
	else
		fail "column $c differs after export and import: $(cmp "$MNT/rt/$c" "$MNT/rt2/$c" 2>&1)"
	fi
done
ctl_status 0 "export rt2" export rt2 "$TMPD/rt2.csv"
check "a second export is the same text" cmp "$TMPD/rt.csv" "$TMPD/rt2.csv"
# The extremes of each unit as export writes them.
has "$TMPD/rt.csv" "292277026596-12-04T15:30:07" "datetime64[s] max"
has "$TMPD/rt.csv" "-292277022657-01-27T08:29:53" "datetime64[s] min"
has "$TMPD/rt.csv" "1677-09-21T00:12:43.145224193" "datetime64[ns] min"
has "$TMPD/rt.csv" "héllo naïv," "UTF-8 in bytes"

section "the extremes of each unit, years outside 0..9999 and counts with a unit import into their units"
check "create dt" ctl create dt 'ns:datetime64[ns]' 's:datetime64[s]' 'ms:datetime64[ms]'
cat >"$TMPD/dt.csv" <<'EOF'
ns,s,ms
1677-09-21T00:12:43.145224193,10000-01-01T00:00:00,292278994-08-17T07:12:55.807
2262-04-11T23:47:16.854775807,-0001-01-01T00:00:00,-5000-01-01T00:00:00.001
NaT,9223372036854775807 s,-292275055-05-16T16:47:04.193
EOF
ctl_status 0 "import dt.csv" import dt "$TMPD/dt.csv"
ctl_status 0 "export dt" export dt "$TMPD/dt.out.csv"
cat >"$TMPD/dt.want.csv" <<'EOF'
ns,s,ms
1677-09-21T00:12:43.145224193,10000-01-01T00:00:00,292278994-08-17T07:12:55.807
2262-04-11T23:47:16.854775807,-0001-01-01T00:00:00,-5000-01-01T00:00:00.001
NaT,292277026596-12-04T15:30:07,-292275055-05-16T16:47:04.193
EOF
check "dt exports as it was imported" cmp "$TMPD/dt.want.csv" "$TMPD/dt.out.csv"
check_eq "datetime64[ns] min as numpy reads it" "-9223372036854775807" \
	"$(py -c 'import numpy as np, sys; print(np.fromfile(sys.argv[1], "<M8[ns]")[0].astype("i8"))' "$MNT/dt/ns")"
SNAP=$TMPD/snap.dt
snapshot "$MNT/dt" >"$SNAP"
printf 'ns\n1677-09-21T00:12:43.145224192\n' >"$TMPD/low.csv"
ctl_status 1 "a time before datetime64[ns]'s range" import dt "$TMPD/low.csv"
has "$TMPD/err" "low.csv:2: column 'ns': out of range for datetime64[ns]" "out of range time"
unchanged "after the refused import" "$MNT/dt" "$SNAP"

section "inference holds every value exactly"
cat >"$TMPD/inf.csv" <<'EOF'
big,neg,ok,words,caps,bits,flags,when,day,later,huge,mix
9223372036854775807,-1,9007199254740992,true,TRUE,0,true,2024-01-02T03:04:05+02:00,2024-01-02,3000-01-01T00:00:00.000001,18446744073709551617,9007199254740993
9223372036854775808,5,0.5,false,False,1,0,2024-01-02T01:04:05Z,1999-12-31,1000-01-01T00:00:00,1,0.5
18446744073709551615,7,,True,FALSE,1,1,2024-01-02 01:04:05.5-00:30,0001-01-01,NaT,2,1
EOF
ctl_status 0 "import inf.csv" import inf "$TMPD/inf.csv"
has "$TMPD/err" "column 'huge' stored as text (utf8): integers that neither" "note for a column no number type holds"
has "$TMPD/err" "column 'mix' stored as text (utf8)" "note for integers float64 would round"
for pair in big:uint64 neg:int64 ok:float64 words:bool caps:bool bits:int64 flags:bool \
	'when:datetime64[ns]' 'day:datetime64[s]' 'later:datetime64[us]' huge:utf8 mix:utf8; do
	check_eq "type of ${pair%%:*}" "${pair#*:}" "$(type_of inf "${pair%%:*}")"
done
ctl_status 0 "head inf" head inf
has "$TMPD/out" "18446744073709551615" "uint64 max in head"
has "$TMPD/out" "9223372036854775808" "2^63 in head"
check_eq "offsets converted to UTC" "2024-01-02T01:04:05.000000000 2024-01-02T01:04:05.000000000 2024-01-02T01:34:05.500000000" \
	"$(py -c 'import numpy as np, sys; print(*np.fromfile(sys.argv[1], "<M8[ns]"))' "$MNT/inf/when")"
ctl_status 0 "export inf" export inf "$TMPD/inf.out.csv"
check_eq "huge exported as it was" "18446744073709551617 1 2" "$(cut -d, -f11 "$TMPD/inf.out.csv" | tail -n 3 | tr '\n' ' ' | sed 's/ $//')"
check "create i" ctl create i n:int64 'u:uint8'
SNAP=$TMPD/snap.i
snapshot "$MNT/i" >"$SNAP"
printf 'n\n9223372036854775808\n' >"$TMPD/over.csv"
ctl_status 1 "an int64 out of range" import i "$TMPD/over.csv"
has "$TMPD/err" "over.csv:2: column 'n': out of range for int64" "int64 out of range"
printf 'n\n12abc\n' >"$TMPD/word.csv"
ctl_status 1 "not an integer" import i "$TMPD/word.csv"
has "$TMPD/err" "word.csv:2: column 'n': not an integer" "not an integer"
unchanged "after the refused imports" "$MNT/i" "$SNAP"

section "UTF-8 text: the CSV that goes in comes out"
# Written as export writes it: a field with a comma or a quote is quoted.
cat >"$TMPD/text.csv" <<'EOF'
name,note
héllo,"naïve, ""quoted"""
日本語,€ 5
tab\x09and\\backslash,\xff\xfe
EOF
ctl_status 0 "import text.csv" import text "$TMPD/text.csv"
check_eq "type of name" utf8 "$(type_of text name)"
ctl_status 0 "export text" export text "$TMPD/text.out.csv"
check "text.csv comes out as it went in" cmp "$TMPD/text.csv" "$TMPD/text.out.csv"
check_eq "stored bytes" "68c3a96c6c6f" "$(head -c 6 "$MNT/text/name.data" | od -An -tx1 | tr -d ' \n')"
ctl_status 0 "head text" head text
has "$TMPD/out" "日本語" "head prints UTF-8"
has "$TMPD/out" '\xff\xfe' "head escapes invalid UTF-8"

section "a failed export leaves an existing target as it was"
printf 'precious\n' >"$TMPD/keep.csv"
chmod 640 "$TMPD/keep.csv"
# A file size limit makes the write fail part way (EFBIG, the signal
# ignored), after the target would have been truncated.
(trap '' XFSZ; ulimit -f 8; "$TABLECTL" --mount "$MNT" export rt "$TMPD/keep.csv") >/dev/null 2>"$TMPD/err"
check_eq "export over the size limit fails" 1 "$?"
check_eq "the target keeps its bytes" precious "$(cat "$TMPD/keep.csv")"
printf 'precious\n' >"$TMPD/keep.npy"
(trap '' XFSZ; ulimit -f 8; "$TABLECTL" --mount "$MNT" export rt "$TMPD/keep.npy" --column s) >/dev/null 2>"$TMPD/err"
check_eq ".npy export over the size limit fails" 1 "$?"
check_eq "the .npy target keeps its bytes" precious "$(cat "$TMPD/keep.npy")"
check_eq "no temporary file left" "keep.csv keep.npy" "$(cd "$TMPD" && ls -a | grep keep | tr '\n' ' ' | sed 's/ $//')"
ctl_status 0 "a good export replaces it" export dt "$TMPD/keep.csv"
check "the new content" cmp "$TMPD/dt.want.csv" "$TMPD/keep.csv"
check_eq "the target keeps its mode" 640 "$(stat -c %a "$TMPD/keep.csv")"
ln -s keep.csv "$TMPD/link.csv"
ctl_status 0 "export through a symlink" export inf "$TMPD/link.csv"
check "the link stays a link" test -L "$TMPD/link.csv"
check "the file it points to is replaced" cmp "$TMPD/inf.out.csv" "$TMPD/keep.csv"
ctl_status 0 "export to a new file" export dt "$TMPD/new.csv"
check "a new file" cmp "$TMPD/dt.want.csv" "$TMPD/new.csv"
ctl_status 0 "export to standard output" export dt -
check "stdout" cmp "$TMPD/dt.want.csv" "$TMPD/out"

section "numpy's datetime64[D] is refused with a way out"
py -c 'import numpy as np, sys; np.save(sys.argv[1], np.array(["2024-01-02"], "datetime64[D]"))' "$TMPD/day.npy"
ctl_status 1 "a datetime64[D] .npy" import days "$TMPD/day.npy"
has "$TMPD/err" "astype('datetime64[s]')" "the way out"
check "no table left" test ! -e "$MNT/days"

section "info"
ctl_status 0 "info inf" info inf
has "$TMPD/out" "datetime64[us]" "info shows the inferred unit"
has "$TMPD/out" "<M8[us]" "info shows the dtype"
ctl_status 1 "info of a missing table" info nosuch

finish
