#!/bin/sh
# basic: the mount root, empty tables, creating columns through meta.json
# (python json.dump and shell printf), every type of the contract, and data
# written by one process read back by others (read(2), cat, mmap).
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon

section "mount root: mode 1777, owned by the daemon's user, fsname tablefs"
check_eq "root mode" 1777 "$(stat -c %a "$MNT")"
check_eq "root owner" "$(id -u):$(id -g)" "$(stat -c %u:%g "$MNT")"
fsname=$(awk -v m="$MNT" '$5 == m { for (i = 7; i <= NF; i++) if ($i == "-") print $(i + 2) }' /proc/self/mountinfo)
check_eq "fsname in mountinfo" tablefs "$fsname"
check_eq "a new mount has no tables" "" "$(ls "$MNT")"

section "mkdir makes an empty table"
T=$MNT/empty
check "mkdir $T" mkdir "$T"
check "$T is a directory" test -d "$T"
check_eq "ls of an empty table" meta.json "$(ls "$T")"
check_eq "format" tablefs-1 "$(meta_field "$T" 'm["format"]')"
check_eq "name" empty "$(meta_field "$T" 'm["name"]')"
check_eq "rows" 0 "$(meta_field "$T" 'm["rows"]')"
check_eq "columns" "[]" "$(meta_field "$T" 'm["columns"]')"
check_eq "version is an integer" True "$(meta_field "$T" 'type(m["version"]) is int')"
check_eq "meta.json st_size == bytes read" "$(wc -c <"$T/meta.json")" "$(size_of "$T/meta.json")"
check_eq "meta.json is a regular file" "regular file" "$(stat -c %F "$T/meta.json")"
check_eq "ls of the root" empty "$(ls "$MNT")"

section "every type of the contract (python json.dump into meta.json)"
mkdir "$MNT/types" || fatal "mkdir types"
check "meta.json fields for every type" tfs alltypes "$MNT/types" 5
sizes_match_meta "$MNT/types"

section "columns from the shell: printf > meta.json"
S=$MNT/shell
mkdir "$S" || fatal "mkdir shell"
printf '{"rows": 4, "columns": [{"name": "x", "type": "int64"}, {"name": "v", "type": "float32", "shape": [3]}]}' \
	>"$S/meta.json"
check "printf > meta.json succeeded" test $? = 0
check_eq "rows" 4 "$(meta_field "$S" 'm["rows"]')"
check_eq "x size" 32 "$(size_of "$S/x")"
check_eq "v size" 48 "$(size_of "$S/v")"
check_eq "v shape" "[3]" "$(meta_field "$S" '[c["shape"] for c in m["columns"] if c["name"] == "v"][0]')"
check_eq "new columns are zero" "$(head -c 48 /dev/zero | sha256sum)" "$(sha256sum <"$S/v")"
sizes_match_meta "$S"

section "a document in several write(2) calls is applied once complete"
{
	printf '{"rows": '
	printf '6, "columns": [{"name": "y", '
	printf '"dtype": "<i2"}]}'
} >"$S/meta.json"
check_eq "rows after a split write" 6 "$(meta_field "$S" 'm["rows"]')"
check_eq "y size" 12 "$(size_of "$S/y")"
expect_ok colcheck meta "$S/meta.json" '{"rows": 8}' 3
check_eq "rows after 3-byte writes" 8 "$(meta_field "$S" 'm["rows"]')"
check_eq "x resized too" 64 "$(size_of "$S/x")"
sizes_match_meta "$S"

section "documents as people write them"
echo '{"rows": 9}' >"$S/meta.json" || fail "echo (trailing newline) > meta.json"
check_eq "rows after echo" 9 "$(meta_field "$S" 'm["rows"]')"
py -c 'import json, sys
json.dump({"rows": 10, "columns": [{"name": "p", "type": "uint16", "shape": [2]}]}, open(sys.argv[1], "w"), indent=2)' \
	"$S/meta.json" || fail "json.dump(indent=2)"
check_eq "rows after a pretty-printed document" 10 "$(meta_field "$S" 'm["rows"]')"
check_eq "p size" 40 "$(size_of "$S/p")"
# Braces, brackets and quotes inside strings, one byte per write(2) (in
# fields meta.json renders, which a written document may carry).
expect_ok colcheck meta "$S/meta.json" \
	'{"name": "}{ ]\" [", "columns": [{"name": "q", "type": "int8", "file": "a}b{c\\"}], "rows": 11}' 1
check_eq "rows after a tricky document" 11 "$(meta_field "$S" 'm["rows"]')"
check_eq "q size" 11 "$(size_of "$S/q")"
sizes_match_meta "$S"

section "fill in one process (np.memmap r+), read in others"
D=$MNT/data
mkdir "$D" || fatal "mkdir data"
expect_ok tfs writemeta "$D" \
	'{"rows": 50000, "columns": [{"name": "price", "type": "float64"}, {"name": "emb", "type": "float32", "shape": [16]}, {"name": "n", "type": "float64"}]}'
check "fill price" tfs fill "$D" price 1 "$TMPD/price.ref"
check "fill emb" tfs fill "$D" emb 2 "$TMPD/emb.ref"
check "verify price from another python process" tfs verify "$D" price 1
check "verify emb from another python process" tfs verify "$D" emb 2
check_eq "cat price | sha256sum" "$(sha256sum <"$TMPD/price.ref")" "$(cat "$D/price" | sha256sum)"
check_eq "cat emb | sha256sum" "$(sha256sum <"$TMPD/emb.ref")" "$(cat "$D/emb" | sha256sum)"
same_content "$D/price" "$TMPD/price.ref"
same_content "$D/emb" "$TMPD/emb.ref"
check_eq "hash via mmap == hash via read" "$(colcheck readhash "$D/emb")" "$(colcheck hash "$D/emb")"
check_eq "stat -c %s price" 400000 "$(size_of "$D/price")"
check_eq "stat -c %s emb" 3200000 "$(size_of "$D/emb")"
sizes_match_meta "$D"
py -c 'import numpy as np, sys
a = np.memmap(sys.argv[1], dtype="<f8", mode="r+", shape=(50000,))
a[:] = np.arange(50000)
a.flush()' "$D/n" || fail "filling n with arange"
check_eq "sum of n through mmap (colcheck)" "400000 1249975000" "$(colcheck sum "$D/n" f8)"
check_eq "dd of row 49999 of n" "49999" "$(dd if="$D/n" bs=8 skip=49999 count=1 2>/dev/null |
	py -c 'import sys, struct; print(int(struct.unpack("<d", sys.stdin.buffer.read())[0]))')"

section "large write(2) and read(2) calls"
head -c 3200000 /dev/urandom >"$TMPD/emb.new"
check "dd bs=1M into emb" dd if="$TMPD/emb.new" of="$D/emb" bs=1M conv=notrunc status=none
same_content "$D/emb" "$TMPD/emb.new"
check_eq "dd bs=1M read" "$(sha256sum <"$TMPD/emb.new")" "$(dd if="$D/emb" bs=1M status=none | sha256sum)"
check_eq "dd bs=7 read" "$(sha256sum <"$TMPD/emb.new")" "$(dd if="$D/emb" bs=7 status=none | sha256sum)"
check "fsync of a column" py -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR); os.pwrite(fd, b"x" * 8, 0); os.fsync(fd); os.close(fd)' "$D/emb"
check_eq "meta.json read 7 bytes at a time" "$(cat "$D/meta.json")" "$(dd if="$D/meta.json" bs=7 status=none)"

section "writes with write(2) are read back by mmap and the other way round"
expect_ok colcheck pwrite "$D/price" 8 8 0
check_eq "price[1] via numpy after pwrite of zeros" 0.0 \
	"$(py -c 'import numpy as np, sys; print(np.memmap(sys.argv[1], dtype="<f8", mode="r")[1])' "$D/price")"
expect_ok colcheck mapwrite "$D/price" 17 171
check_eq "byte 17 via dd after a shared-map write" 171 \
	"$(dd if="$D/price" bs=1 skip=17 count=1 2>/dev/null | od -An -tu1 | tr -d ' ')"

section "cp -r of a table out of the mount"
check "cp -r data" cp -r "$D" "$TMPD/copy"
for f in meta.json price emb n; do
	check "copy of $f is exact" cmp "$D/$f" "$TMPD/copy/$f"
done
rm -rf "$TMPD/copy"

section "the bytes are reachable through the mount alone"
# Every file the daemon (supervisor and serving process) holds open is
# anonymous (memfd, pipe, socket) or a device; none is a path another
# process could open.  (Under a wrapper such as valgrind, the wrapper's own
# files are there too: not checked then.)
if [ -z "$TABLEFS_WRAPPER" ]; then
	for fd in /proc/"$DPID"/fd/* $(for p in $(pgrep -P "$DPID"); do echo /proc/"$p"/fd/*; done); do
		case ${fd##*/} in 0 | 1 | 2) continue ;; esac
		l=$(readlink "$fd") || continue
		case $l in
		/memfd:* | memfd:* | pipe:* | socket:* | anon_inode:* | /dev/fuse | /dev/null | /dev/pts/* | "$DLOG") pass ;;
		*) fail "the daemon holds $l open" ;;
		esac
	done
	check "the serving process holds column memory" sh -c "ls -l /proc/$(pgrep -P "$DPID" | head -n 1)/fd | grep -q memfd:tablefs"
fi

section ".status"
check "status is JSON with the tables" py -c '
import json, sys
s = json.load(open(sys.argv[1] + "/.status"))
assert s["format"] == "tablefs-1", s["format"]
assert s["data_path"] in ("page cache", "passthrough"), s["data_path"]
assert s["memory"]["used"] >= 400000 + 3200000 + 400000, s["memory"]
assert s["memory"]["limit"] > s["memory"]["used"], s["memory"]
t = {x["name"]: x for x in s["tables"]}
assert set(t) == {"empty", "types", "shell", "data"}, sorted(t)
assert t["data"]["rows"] == 50000 and t["data"]["columns"] == 3, t["data"]
pages = lambda n: (n + 4095) // 4096 * 4096
assert t["data"]["bytes"] == 2 * pages(400000) + pages(3200000), t["data"]
assert t["shell"]["bytes"] == sum(pages(c["nbytes"]) for c in
    json.load(open(sys.argv[1] + "/shell/meta.json"))["columns"]), t["shell"]
assert s["memory"]["used"] == sum(x["bytes"] for x in s["tables"]), s["memory"]
assert t["empty"]["columns"] == 0 and t["empty"]["last_error"] is None, t["empty"]
' "$MNT"
note "data path: $(py -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["data_path"], "-", s["data_path_reason"])' "$MNT/.status" 2>&1)"
check_eq "ls of the root lists every table" "data empty shell types" \
	"$(ls "$MNT" | tr '\n' ' ' | sed 's/ $//')"

finish
