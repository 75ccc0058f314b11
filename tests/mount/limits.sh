#!/bin/sh
# limits: --memory-limit: a schema change that would go over it fails with
# ENOSPC and leaves the table unchanged; df shows the limit as the size of
# the filesystem and the memory in use.
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon --memory-limit 1M
T=$MNT/m
META=$T/meta.json

section "df shows the limit"
set -- $(tfs statvfs "$MNT")
check_eq "statvfs total bytes (f_blocks * f_frsize)" 1048576 "$1"
check_eq "statvfs used bytes of an empty mount" 0 "$2"
check_eq "df -B1 size" 1048576 "$(df -B1 --output=size "$MNT" | tail -n 1 | tr -d ' ')"
check_eq ".status memory.limit" 1048576 \
	"$(py -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory"]["limit"])' "$MNT/.status")"

section "a schema over the limit: ENOSPC, table unchanged"
mkdir "$T" || fatal "mkdir $T"
SNAP=$TMPD/snap
snapshot "$T" >"$SNAP"
expect_errno "ENOSPC write" colcheck meta "$META" '{"rows": 2097152, "columns": [{"name": "big", "type": "int8"}]}'
unchanged "after a 2M column" "$T" "$SNAP"
check "no column big" test ! -e "$T/big"
expect_errno ENOSPC tfs writemeta "$T" '{"rows": 1024, "columns": [{"name": "big", "type": "float64", "shape": [256]}]}'
unchanged "after a 2M column from python" "$T" "$SNAP"

section "within the limit"
expect_ok colcheck meta "$META" '{"rows": 65536, "columns": [{"name": "a", "type": "int32"}]}'
check_eq "a size" 262144 "$(size_of "$T/a")"
check "fill a" tfs fill "$T" a 5 "$TMPD/a.ref"
set -- $(tfs statvfs "$MNT")
check "df used >= 256 KiB ($2)" test "$2" -ge 262144
check "df used <= limit ($2)" test "$2" -le 1048576
check_eq "df size unchanged" 1048576 "$1"
check_eq "df used = .status memory.used" \
	"$(py -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory"]["used"])' "$MNT/.status")" "$2"
snapshot "$T" >"$SNAP"

section "growing over the limit: ENOSPC, table unchanged"
expect_errno "ENOSPC write" colcheck meta "$META" '{"rows": 300000}'
unchanged "after rows 300000" "$T" "$SNAP"
expect_errno "ENOSPC write" colcheck meta "$META" '{"columns": [{"name": "b", "type": "float64", "shape": [2]}]}'
unchanged "after a new 1 MiB column next to a 256 KiB one" "$T" "$SNAP"
# Each half fits alone (960000 bytes; 256 KiB + 64 KiB), both together not.
expect_errno "ENOSPC write" colcheck meta "$META" '{"rows": 240000, "columns": [{"name": "b", "type": "int8"}]}'
unchanged "after rows 240000 and one more column" "$T" "$SNAP"
check "last_error names the reason" py -c '
import json, sys
t = [x for x in json.load(open(sys.argv[1]))["tables"] if x["name"] == "m"][0]
assert t["last_error"], t' "$MNT/.status"

section "the limit counts all tables"
mkdir "$MNT/m2" || fatal "mkdir m2"
expect_errno "ENOSPC write" colcheck meta "$MNT/m2/meta.json" '{"rows": 800000, "columns": [{"name": "c", "type": "int8"}]}'
expect_ok colcheck meta "$MNT/m2/meta.json" '{"rows": 500000, "columns": [{"name": "c", "type": "int8"}]}'
section "memory comes back after rm"
check "rm -r m" rm -r "$T"
expect_ok colcheck meta "$MNT/m2/meta.json" '{"rows": 1000000}'
check_eq "c size" 1000000 "$(size_of "$MNT/m2/c")"
section "mkdir with the whole limit in use: an empty table holds no column memory"
expect_ok colcheck meta "$MNT/m2/meta.json" '{"rows": 1048576}'
set -- $(tfs statvfs "$MNT")
check_eq "df used is the limit" 1048576 "$2"
check "mkdir m3 at the limit" mkdir "$MNT/m3"
check "rmdir m3" rmdir "$MNT/m3"
check "rm -r m2" rm -r "$MNT/m2"
set -- $(tfs statvfs "$MNT")
check_eq "df used after removing everything" 0 "$2"

# used: memory.used of .status, in bytes.
used() { py -c 'import json,sys; print(json.load(open(sys.argv[1]))["memory"]["used"])' "$MNT/.status"; }
# used_is BYTES: .status and df agree on BYTES in use.
used_is()
{
	[ "$(used)" = "$1" ] && set -- "$1" $(tfs statvfs "$MNT") && [ "$3" = "$1" ]
}

# no_handles TABLE: .status counts no open handle on TABLE.
no_handles()
{
	py -c '
import json, sys
t = [x for x in json.load(open(sys.argv[1]))["tables"] if x["name"] == sys.argv[2]]
sys.exit(0 if t and t[0]["open_handles"] == 0 else 1)' "$MNT/.status" "$1"
}

section "a closed .npy view does not keep a replaced version"
# 100000 int32 rows: 392 KiB; each resize must free the version it
# replaces once its view is closed, whatever the kernel still caches.
mkdir "$MNT/v" || fatal "mkdir v"
expect_ok colcheck meta "$MNT/v/meta.json" '{"rows": 100000, "columns": [{"name": "x", "type": "int32"}]}'
for i in 1 2 3 4; do
	check "read x.npy before resize $i" py -c 'open(__import__("sys").argv[1], "rb").read(16)' "$MNT/v/x.npy"
	expect_ok colcheck meta "$MNT/v/meta.json" "{\"rows\": $((100000 + i * 1024))}"
	want=$(((100000 + i * 1024) * 4))
	want=$(((want + 4095) / 4096 * 4096))
	check "resize $i: used is the new version alone ($want), got $(used)" \
		wait_for 10 "" used_is "$want"
done
check "rm -r v" rm -r "$MNT/v"
check "nothing used after rm -r v" wait_for 10 "" used_is 0

section "a mapped version counts until unmapped"
# 131072 int32 rows: 512 KiB, mapped by a process; growing to 516 KiB
# needs 1028 KiB while the mapping keeps the old version.
mkdir "$MNT/p" || fatal "mkdir p"
expect_ok colcheck meta "$MNT/p/meta.json" '{"rows": 131072, "columns": [{"name": "x", "type": "int32"}]}'
check "fill p/x" tfs fill "$MNT/p" x 7 "$TMPD/p.ref"
expect_ok py -c '
import errno, mmap, os, sys
t = sys.argv[1]
fd = os.open(t + "/x", os.O_RDWR)
m = mmap.mmap(fd, 0)
os.close(fd)
ref = open(sys.argv[2], "rb").read()
try:
    with open(t + "/meta.json", "w") as f:
        f.write("{\"rows\": 132096}")
    print("PROBLEM: resize over the limit accepted while the old version is mapped")
except OSError as e:
    print("mapped resize:", errno.errorcode[e.errno])
    if e.errno != errno.ENOSPC:
        print("PROBLEM: expected ENOSPC")
        sys.exit(1)
if m[:] != ref:
    print("PROBLEM: the mapping changed")
    sys.exit(1)
m.close()
print("OK")' "$MNT/p" "$TMPD/p.ref"
check_eq "p rows after the refused resize" 131072 "$(meta_field "$MNT/p" 'm["rows"]')"
check "used is p/x alone" used_is 524288
# The kernel releases the mapping's file after munmap, in the background.
check "p has no open handle once unmapped" wait_for 10 "" no_handles p
expect_ok colcheck meta "$MNT/p/meta.json" '{"rows": 132096}'
check "used is the new version alone" wait_for 10 "" used_is 528384
check "p/x keeps its data" tfs verify "$MNT/p" x 7 524288
check "rm -r p" rm -r "$MNT/p"

section "column files: the open file limit, raised to its hard limit"
# Each column version is an open memfd of the daemon.  Started with a soft
# limit of 100 and a hard one of 300, it raises the soft one to 300 and
# keeps 64 for itself: 236 column files.
TABLEFS_WRAPPER="prlimit --nofile=100:300" start_daemon
status_field() { py -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$MNT/.status" "$1"; }
check_eq ".status column_files.limit" 236 "$(status_field 'd["column_files"]["limit"]')"
check_eq ".status column_files.used" 0 "$(status_field 'd["column_files"]["used"]')"
cols_doc() { py -c '
import json, sys
print(json.dumps({"rows": 1, "columns": [{"name": "%s%d" % (sys.argv[1], i), "type": "int8"} for i in range(int(sys.argv[2]))]}))' "$1" "$2"; }
mkdir "$MNT/f" || fatal "mkdir f"
SNAP=$TMPD/snap
snapshot "$MNT/f" >"$SNAP"
expect_errno "ENOSPC write" colcheck meta "$MNT/f/meta.json" "$(cols_doc c 300)"
unchanged "after 300 columns" "$MNT/f" "$SNAP"
check "last_error names the open file limit" py -c '
import json, sys
t = [x for x in json.load(open(sys.argv[1]))["tables"] if x["name"] == "f"][0]
assert "RLIMIT_NOFILE" in (t["last_error"] or ""), t' "$MNT/.status"
expect_ok colcheck meta "$MNT/f/meta.json" "$(cols_doc c 236)"
check_eq ".status column_files.used" 236 "$(status_field 'd["column_files"]["used"]')"
mkdir "$MNT/g" || fatal "mkdir g"
expect_errno "ENOSPC write" colcheck meta "$MNT/g/meta.json" "$(cols_doc d 1)"
# df -i: tables and columns used, the column files left free; never negative.
set -- $(df --output=itotal,iused,iavail "$MNT" | tail -n 1)
check_eq "df -i used: 2 tables, 236 columns" 238 "$2"
check_eq "df -i free" 0 "$3"
check "rm -r f" rm -r "$MNT/f"
check "column files come back" wait_for 10 "" eval '[ "$(status_field "d[\"column_files\"][\"used\"]")" = 0 ]'
expect_ok colcheck meta "$MNT/g/meta.json" "$(cols_doc d 1)"

finish
