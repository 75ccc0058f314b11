#!/bin/bash
# tablefs CSV import benchmark: one command, root not needed.
#
#   bench/import.sh [--text] [--size 1G] [--dir /dev/shm] [--no-export] [--tablefs PATH]
#                   [--tablectl PATH]
#
# Writes a CSV of about --size bytes (header id,price,flag,ts,name: int64,
# float64, true/false, ISO-8601 timestamps with milliseconds, strings of 3-12
# letters) with a small C generator compiled on the spot, mounts a private
# tablefs, and measures on that same file: `tablectl import` (wall and CPU
# time, rows/s and MiB/s of CSV, peak RSS of tablectl), pandas.read_csv with
# default arguments and with parse_dates=["ts"] (the same types tablectl
# infers), then `tablectl export` of the table to CSV and of one column to
# .npy.  With --text (default size 100M, about 1.5 million rows) the CSV is
# text-heavy instead: id,city,sym,note,qty with a utf8 column of words
# (some non-ASCII), a category column of 50 symbols, quoted notes holding
# commas and quotes, and empty fields in sym, note and qty; pandas' second
# read gives sym dtype "category".  Python is /opt/tablefs-venv/bin/python
# when that venv exists (the tests' interpreter), else /usr/bin/python3.
# Prints a table and the ratios.  Whatever happens (failure, Ctrl-C) the
# trap stops the daemon, unmounts and deletes every file it made.  See
# bench/README.md, section "CSV import".

set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# The interpreter of the tests: scripts/install-deps's pinned venv.
PY=/usr/bin/python3
[ -x "${TABLEFS_VENV:-/opt/tablefs-venv}/bin/python3" ] && PY=${TABLEFS_VENV:-/opt/tablefs-venv}/bin/python3
TIME=/usr/bin/time
tablefs=$top/src/tablefs
tablectl=$top/src/tablectl
size=
dir=/dev/shm
export_too=1
text=0

usage() { sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; }

while [ $# -gt 0 ]; do
	opt=$1
	case $1 in
	-h | --help) usage; exit 0 ;;
	--size | --dir | --tablefs | --tablectl)
		[ $# -ge 2 ] || { echo "bench/import.sh: $1 needs a value" >&2; exit 2; }
		v=$2; shift ;;
	--size=* | --dir=* | --tablefs=* | --tablectl=*) v=${1#*=} ;;
	--no-export) export_too=0; shift; continue ;;
	--text) text=1; shift; continue ;;
	*) echo "bench/import.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	case $opt in
	--size*) size=$v ;;
	--dir*) dir=$v ;;
	--tablefs*) tablefs=$v ;;
	--tablectl*) tablectl=$v ;;
	esac
	shift
done

die() { echo "bench/import.sh: $*" >&2; exit 1; }

[ -n "$size" ] || { [ $text -eq 1 ] && size=100M || size=1G; }

# SIZE with an optional K/M/G/T suffix (powers of 1024) to bytes.
bytes=$(echo "$size" | awk '
	/^[0-9]+(\.[0-9]+)?[KkMmGgTt]?$/ {
		n = $0 + 0; s = toupper(substr($0, length($0)))
		m = s == "K" ? 2^10 : s == "M" ? 2^20 : s == "G" ? 2^30 : s == "T" ? 2^40 : 1
		printf "%.0f\n", n * m; ok = 1 }
	END { exit !ok }') || die "bad --size '$size' (bytes, or a K/M/G/T suffix)"
[ "$bytes" -ge 4096 ] || die "--size must be at least 4K"

# ---- preflight: everything that can fail before anything is made
[ -c /dev/fuse ] || die "/dev/fuse is missing (modprobe fuse, or a container without FUSE)"
[ -x "$tablefs" ] || die "no daemon at $tablefs: build first (cd $top && make -j2)"
[ -x "$tablectl" ] || die "no tablectl at $tablectl: build first (cd $top && make -j2)"
command -v fusermount3 >/dev/null || die "fusermount3 not found (apt-get install fuse3)"
[ -x $TIME ] || die "$TIME not found (apt-get install time)"
CC=${CC:-cc}
command -v "$CC" >/dev/null || die "no C compiler ($CC) for the CSV generator"
[ -x $PY ] || die "$PY not found"
$PY -c 'import numpy, pandas' 2>/dev/null ||
	die "$PY needs numpy and pandas (apt-get install python3-numpy python3-pandas)"
[ -d "$dir" ] && [ -w "$dir" ] || die "$dir is not a writable directory (--dir)"
# The CSV, and the exported CSV beside it for a moment: 2.2 times --size.
free=$(df -Pk "$dir" | awk 'NR == 2 { printf "%.0f\n", $4 * 1024 }')
need=$(awk -v b="$bytes" -v e="$export_too" 'BEGIN { printf "%.0f\n", b * (e ? 2.2 : 1.05) }')
[ "$free" -ge "$need" ] || die "$dir has $((free >> 20)) MiB free, needs $((need >> 20)) MiB"

# ---- state the trap undoes; set before the trap exists
work=""
data=""
mnt=""
daemon_pid=""

mounted() {
	awk -v m="$1" '$5 == m { for (i = 6; i < NF; i++) if ($i == "-") {
		if ($(i + 1) == "fuse.tablefs") f = 1; break } } END { exit !f }' /proc/self/mountinfo
}

cleanup() {
	local rc=$? i
	trap '' INT TERM HUP
	if [ -n "$mnt" ] && mounted "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || {
			echo "bench/import.sh: $mnt busy, unmounting lazily" >&2
			fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null
		}
	fi
	if [ -n "$daemon_pid" ]; then
		for i in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
		kill -TERM "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	[ -n "$data" ] && rm -rf "$data"
	if [ -n "$work" ]; then
		[ -n "$mnt" ] && rmdir "$mnt" 2>/dev/null
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

work=$(mktemp -d /tmp/tablefs-import.XXXXXX) || die "mktemp failed"
data=$(mktemp -d "$dir/tablefs-import.XXXXXX") || die "mktemp in $dir failed"
mnt=$work/mnt
mkdir "$mnt"
csv=$data/bench.csv

# ---- the generator: deterministic (fixed xorshift seed), about 1 GB/s
cat >"$work/gen.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t state = 88172645463325252ull;

static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	static const char *const syms[] = {
	    "AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "BRK.B", "JPM", "V",
	    "UNH",  "XOM",  "JNJ",  "WMT",  "MA",   "PG",   "HD",   "CVX",   "MRK", "ABBV",
	    "KO",   "PEP",  "AVGO", "COST", "LLY",  "ORCL", "MCD",  "CSCO",  "ACN", "ABT",
	    "TMO",  "DHR",  "NKE",  "TXN",  "NEE",  "PM",   "LIN",  "UPS",   "RTX", "HON",
	    "AMGN", "IBM",  "QCOM", "SBUX", "CAT",  "GS",   "INTU", "AMD",   "BA",  "SAP"};
	static const char *const accents[] = {"\xc3\xa9", "\xc3\xbc", "\xc3\xb8", "\xe2\x82\xac"};
	int text = argc > 2 && argv[2][0] == 't';
	const char *head = text ? "id,city,sym,note,qty\n" : "id,price,flag,ts,name\n";
	unsigned long long target = argc > 1 ? strtoull(argv[1], NULL, 10) : 0;
	unsigned long long done = strlen(head), row = 0;
	size_t n = 0;

	fputs(head, stdout);
	while (text && done < target) {
		char city[40], note[64];
		int len = 4 + (int)(next() % 11), c = 0, k;
		uint64_t r = next();

		for (int i = 0; i < len; i++)
			city[c++] = (char)('a' + next() % 26);
		if (r % 8 == 0) { /* some non-ASCII */
			const char *a = accents[(r >> 8) % 4];
			while (*a)
				city[c++] = *a++;
		}
		city[c] = '\0';
		/* a note: empty one time in 10, else quoted with a comma, at times a quote */
		if ((r >> 16) % 10 == 0)
			note[0] = '\0';
		else
			snprintf(note, sizeof(note), "\"lot %llu, %s%s\"", (unsigned long long)(r >> 40),
				 (r >> 20) % 4 ? "filled" : "said \"\"ok\"\"", (r >> 24) % 3 ? "" : " late");
		k = snprintf(buf + n, sizeof(buf) - n, "%llu,%s,%s,%s,", row++, city,
			     (r >> 28) % 33 == 0 ? "" : syms[(r >> 32) % 50], note);
		if ((r >> 36) % 20)
			k += snprintf(buf + n + k, sizeof(buf) - n - k, "%llu", (unsigned long long)(next() % 100000));
		buf[n + k++] = '\n';
		n += (size_t)k;
		done += (unsigned long long)k;
		if (n > sizeof(buf) - 256) {
			if (fwrite(buf, 1, n, stdout) != n)
				return 1;
			n = 0;
		}
	}
	while (!text && done < target) {
		char name[16];
		int len = 3 + (int)(next() % 10), k;
		long long id = (long long)(next() >> 20) - (1ll << 43);
		double price = (double)(next() % 100000000) / 1000.0;
		time_t t = (time_t)(1500000000 + next() % 300000000);
		struct tm tm;

		for (int i = 0; i < len; i++)
			name[i] = (char)('a' + next() % 26);
		name[len] = '\0';
		gmtime_r(&t, &tm);
		k = snprintf(buf + n, sizeof(buf) - n,
			     "%lld,%.3f,%s,%04d-%02d-%02dT%02d:%02d:%02d.%03d,%s\n", id, price,
			     next() & 1 ? "true" : "false", tm.tm_year + 1900, tm.tm_mon + 1,
			     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(next() % 1000), name);
		n += (size_t)k;
		done += (unsigned long long)k;
		if (n > sizeof(buf) - 256) {
			if (fwrite(buf, 1, n, stdout) != n)
				return 1;
			n = 0;
		}
	}
	return fwrite(buf, 1, n, stdout) != n || fflush(stdout) ? 1 : 0;
}
EOF
"$CC" -O2 -o "$work/gen" "$work/gen.c" 2>"$work/cc.log" || { cat "$work/cc.log" >&2; die "cannot compile the generator"; }

echo "writing a CSV of $((bytes >> 20)) MiB in $dir ..." >&2
"$work/gen" "$bytes" "$([ $text -eq 1 ] && echo text || echo numbers)" >"$csv" || die "cannot write $csv"
csv_bytes=$(stat -c %s "$csv")

# ---- the daemon
"$tablefs" -f "$mnt" >"$work/tablefs.log" 2>&1 &
daemon_pid=$!
for i in $(seq 100); do
	mounted "$mnt" && break
	kill -0 "$daemon_pid" 2>/dev/null || break
	sleep 0.1
done
mounted "$mnt" || { cat "$work/tablefs.log" >&2; die "tablefs did not mount $mnt"; }
data_path=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["data_path"])' "$mnt/.status")

# ---- measuring.  Each result: "wall_s peak_rss_kib user_s sys_s" in $work/NAME.t
# runs LABEL NAME CMD...: runs CMD under /usr/bin/time; its output in NAME.out/err.
runs() {
	local label=$1 name=$2
	shift 2
	echo "$label ..." >&2
	if ! $TIME -o "$work/$name.t" -f '%e %M %U %S' "$@" >"$work/$name.out" 2>"$work/$name.err"; then
		cat "$work/$name.err" >&2
		die "$label failed"
	fi
}

runs "tablectl import" import "$tablectl" --mount "$mnt" import bench "$csv"
rows=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["rows"])' "$mnt/bench/meta.json")
types=$("$tablectl" --mount "$mnt" info bench | awk 'f && !NF { exit }
	f { printf "%s%s %s%s", s, $1, $2, $5 == "yes" ? "?" : ""; s = ", " } /^NAME/ { f = 1 }')

# The pandas process prints read_csv's own time and the rows it read; its
# peak RSS includes the interpreter and pandas, measured alone as "baseline".
pyread='
import sys, time
import pandas as pd
kw = ({"parse_dates": ["ts"]} if sys.argv[2] == "dates" else
      {"dtype": {"sym": "category"}} if sys.argv[2] == "cats" else {})
t = time.perf_counter()
df = pd.read_csv(sys.argv[1], **kw)
t = time.perf_counter() - t
print(f"{t:.3f} {len(df)} " + ", ".join(f"{c} {d}" for c, d in df.dtypes.items()))
'
runs "python3 + import pandas (baseline)" base $PY -c 'import pandas'
runs "pandas.read_csv" pandas $PY -c "$pyread" "$csv" plain
if [ $text -eq 1 ]; then
	second='pandas.read_csv(dtype={sym: category})'
	runs "$second" pdates $PY -c "$pyread" "$csv" cats
else
	second='pandas.read_csv(parse_dates=[ts])'
	runs "$second" pdates $PY -c "$pyread" "$csv" dates
fi

if [ $export_too -eq 1 ]; then
	rm -f "$csv" # room for the export in the same directory
	runs "tablectl export CSV" expcsv "$tablectl" --mount "$mnt" export bench "$data/out.csv"
	exp_bytes=$(stat -c %s "$data/out.csv")
	rm -f "$data/out.csv"
	npycol=ts
	[ $text -eq 1 ] && npycol=sym
	runs "tablectl export .npy" expnpy "$tablectl" --mount "$mnt" export bench "$data/$npycol.npy" --column $npycol
	npy_bytes=$(stat -c %s "$data/$npycol.npy")
	rm -f "$data/$npycol.npy"
fi

# ---- the report
for n in pandas pdates; do
	read -r _ prow _ <"$work/$n.out"
	[ "$prow" = "$rows" ] || die "pandas read $prow rows, tablectl $rows ($n)"
done
read -r _ _ pdtypes <"$work/pandas.out"

echo
echo "tablefs CSV import benchmark  $(date '+%Y-%m-%d %H:%M')  ($("$tablefs" --version 2>/dev/null | head -1)," \
	"$(nproc) CPUs, kernel $(uname -r), pandas $($PY -c 'import pandas; print(pandas.__version__)'))"
echo "CSV: $csv_bytes bytes ($((csv_bytes >> 20)) MiB), $rows rows, in $dir; data path: $data_path"
echo "tablectl inferred: $types"
echo "pandas inferred:   $pdtypes"
echo

# row LABEL NAME BYTES ROWS [TIME]: one line of the table; TIME overrides the wall time.
row() {
	local t rss user sys
	read -r t rss user sys <"$work/$2.t"
	[ $# -ge 5 ] && t=$5
	awk -v l="$1" -v t="$t" -v r="$rss" -v u="$user" -v s="$sys" -v b="$3" -v n="$4" 'BEGIN {
		printf "%-40s %9.2f %10s %9s %9.1f %9.2f\n", l, t,
			(n > 0 && t > 0) ? sprintf("%.0f", n / t) : "-",
			(b > 0 && t > 0) ? sprintf("%.1f", b / 1048576 / t) : "-", r / 1024, u + s }'
}
printf "%-40s %9s %10s %9s %9s %9s\n" "step" "time (s)" "rows/s" "MiB/s" "RSS (MiB)" "CPU (s)"
printf -- '-%.0s' $(seq 91); echo
row "tablectl import (2 passes)" import "$csv_bytes" "$rows"
row "python3 + import pandas (baseline)" base 0 0
row "pandas.read_csv" pandas "$csv_bytes" "$rows" "$(cut -d' ' -f1 "$work/pandas.out")"
row "$second" pdates "$csv_bytes" "$rows" "$(cut -d' ' -f1 "$work/pdates.out")"
if [ $export_too -eq 1 ]; then
	row "tablectl export CSV" expcsv "$exp_bytes" "$rows"
	row "tablectl export .npy ($npycol)" expnpy "$npy_bytes" "$rows"
fi
echo "  time: wall time of the tablectl process; for pandas, of read_csv alone (without"
echo "  starting Python); MiB/s: of the CSV read or written (.npy: of the file);"
echo "  RSS: peak resident set of the process (/usr/bin/time); CPU: user + system time of"
echo "  the process (for pandas including starting Python and importing pandas)."
read -r ti ri _ <"$work/import.t"
read -r _ rp _ <"$work/pandas.t"
read -r _ rd _ <"$work/pdates.t"
tp=$(cut -d' ' -f1 "$work/pandas.out")
td=$(cut -d' ' -f1 "$work/pdates.out")
awk -v ti="$ti" -v tp="$tp" -v td="$td" -v ri="$ri" -v rp="$rp" -v rd="$rd" 'BEGIN {
	printf "\ntablectl import vs pandas.read_csv: %.2fx its speed (%.2fx against the second read), %.3fx its peak RSS (%.3fx)\n",
		tp / ti, td / ti, ri / rp, ri / rd }'
