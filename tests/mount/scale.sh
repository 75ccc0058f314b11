#!/bin/sh
# scale: 1,000 tables (mkdir loop, ls, rm), and one table of 1,000 columns
# made by one meta.json write (ls -l with exact sizes, rm -r).
. "${top_srcdir:-.}/tests/mount/lib.sh"

start_daemon

section "1000 tables"
i=0
while [ $i -lt 1000 ]; do
	mkdir "$MNT/t$i" || fail "mkdir t$i"
	i=$((i + 1))
done
check_eq "ls | wc -l" 1000 "$(ls "$MNT" | wc -l)"
check_eq "ls -U | sort -u | wc -l (no duplicates from readdir)" 1000 "$(ls -U "$MNT" | sort -u | wc -l)"
check_eq "find -maxdepth 1 -type d" 1000 "$(find "$MNT" -mindepth 1 -maxdepth 1 -type d | wc -l)"
check_eq "meta.json of t999" t999 "$(meta_field "$MNT/t999" 'm["name"]')"
check_eq "tables in .status" 1000 \
	"$(py -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["tables"]))' "$MNT/.status")"
check "rm -r of 1000 tables" rm -r "$MNT"/t*
check_eq "root empty" "" "$(ls "$MNT")"

section "a table of 1000 columns, one meta.json write"
T=$MNT/wide
mkdir "$T" || fatal "mkdir $T"
expect_ok tfs manycols "$T" 1000 10
check_eq "ls | wc -l (columns + meta.json)" 1001 "$(ls "$T" | wc -l)"
check_eq "columns in meta.json" 1000 "$(meta_field "$T" 'len(m["columns"])')"
check_eq "ls -l: every column 40 bytes" "1000 40" \
	"$(LC_ALL=C ls -l "$T" | awk 'NR > 1 && $9 != "meta.json" { n++; s[$5] = 1 } END { for (k in s) print n, k }')"
sizes_match_meta "$T"
check_eq "meta.json has one line per column" 1000 "$(grep -c '"file"' "$T/meta.json")"
check "write and read back a column in the middle" sh -c \
	'"$1" pwrite "$2/col0500" 0 40 7 >/dev/null && [ "$(od -An -tu1 -v "$2/col0500" | tr -s " \n" "  " | sed "s/^ //; s/ $//")" = "$(printf "7 %.0s" $(seq 40) | sed "s/ $//")" ]' \
	sh "$COLCHECK" "$T"
expect_ok colcheck meta "$T/meta.json" '{"rows": 20}'
check_eq "every column resized" "1000 80" \
	"$(LC_ALL=C ls -l "$T" | awk 'NR > 1 && $9 != "meta.json" { n++; s[$5] = 1 } END { for (k in s) print n, k }')"
check "rm -r of the wide table" rm -r "$T"
check "wide is gone" test ! -e "$T"

finish
