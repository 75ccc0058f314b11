#!/bin/sh
# tablefs demo: from a fresh Debian 12 machine to a mounted tablefs with a
# sample table in it.
#
#   sudo scripts/demo.sh [--remount]
#
# 1. installs what tablefs, its tests and examples need (scripts/install-deps:
#    apt-get for what is missing, npm for the pinned apache-arrow);
# 2. builds tablefs in this source tree (as the tree's owner, so that a later
#    build or `make check` by that user still works);
# 3. mounts tablefs at $TABLEFS_MOUNT (default /mnt/tables), the daemon
#    running from the build tree in the background, with -o allow_other so
#    that every user can reach it;
# 4. creates the table `trades` with tablectl and fills it from numpy;
# 5. prints what to try next.
#
# Running it again is safe: what is installed, built, mounted or created
# already is reused.  A live tablefs mount is kept as it is (--remount
# restarts the daemon, which drops every table in it); a dead one (its daemon
# gone) is unmounted and mounted again.
set -eu

MNT=${TABLEFS_MOUNT:-/mnt/tables}
TABLE=trades
ROWS=5000
# The interpreter of the tests: scripts/install-deps's pinned venv.
PY=/usr/bin/python3
[ -x "${TABLEFS_VENV:-/opt/tablefs-venv}/bin/python3" ] && PY=${TABLEFS_VENV:-/opt/tablefs-venv}/bin/python3

remount=no
for arg in "$@"; do
	case $arg in
	--remount) remount=yes ;;
	-h | --help)
		sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "usage: sudo $0 [--remount]" >&2
		exit 2
		;;
	esac
done

say() { printf '\n==> %s\n' "$*"; }
die() {
	printf 'demo.sh: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root to install packages and mount $MNT: run  sudo $0"

ORIG=$PWD
TOP=$(cd "$(dirname "$0")/.." && pwd -P)
grep -q '^AC_INIT(\[tablefs\]' "$TOP/configure.ac" 2>/dev/null ||
	die "$TOP does not look like the tablefs source tree"
# Build and create the table as the owner of the tree (the user who ran sudo,
# usually), so that the build tree and the table are theirs, not root's.
OWNER=$(stat -c %U "$TOP")
as_owner() {
	if [ "$OWNER" = root ]; then
		"$@"
	else
		runuser -u "$OWNER" -- "$@"
	fi
}

say "Dependencies"
"$TOP/scripts/install-deps"

say "Build (as $OWNER, in $TOP)"
cd "$TOP"
[ -x configure ] || as_owner autoreconf -fi
[ -f Makefile ] || as_owner ./configure
as_owner make -j"$(nproc)"
TABLEFS=$TOP/src/tablefs
TABLECTL=$TOP/src/tablectl

say "Mount at $MNT"
fstype=$(findmnt -n -o FSTYPE -M "$MNT" 2>/dev/null || true)
case $fstype in
"") ;;
fuse.tablefs)
	if [ "$remount" = yes ]; then
		echo "$MNT is a tablefs mount; unmounting it (--remount)"
		umount "$MNT"
	elif cat "$MNT/.status" >/dev/null 2>&1; then
		echo "$MNT is already a tablefs mount; reusing it (--remount restarts the daemon)"
	else
		echo "$MNT is a tablefs mount whose daemon is gone; unmounting it"
		umount "$MNT" 2>/dev/null || umount -l "$MNT"
	fi
	;;
*) die "$MNT is already mounted, as $fstype; unmount it or set TABLEFS_MOUNT" ;;
esac
if [ -z "$(findmnt -n -o FSTYPE -M "$MNT" 2>/dev/null || true)" ]; then
	[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
	[ -e /dev/fuse ] || die "no /dev/fuse: this kernel has no FUSE (in a container: --device /dev/fuse --cap-add SYS_ADMIN)"
	mkdir -p "$MNT"
	# Without -f the daemon mounts, then goes to the background; its
	# messages go to syslog (journalctl -t tablefs).
	"$TABLEFS" -o allow_other "$MNT" || die "$TABLEFS could not mount $MNT"
	tries=0
	until cat "$MNT/.status" >/dev/null 2>&1; do
		tries=$((tries + 1))
		[ "$tries" -le 100 ] || die "$MNT does not answer after 10 s"
		sleep 0.1
	done
	echo "mounted: $TABLEFS -o allow_other $MNT"
fi

say "Sample table $TABLE"
if [ -d "$MNT/$TABLE" ]; then
	echo "$MNT/$TABLE exists; left as it is"
else
	as_owner env TABLEFS_MOUNT="$MNT" "$TABLECTL" create "$TABLE" --rows "$ROWS" \
		'ts:datetime64[ns]' symbol:bytes8 price:float64 qty:int32 side:bytes1
	# Fill every column in place through np.memmap, dtype and shape taken
	# from meta.json.
	as_owner "$PY" - "$MNT/$TABLE" <<'EOF'
import json, sys
import numpy as np

table = sys.argv[1]
with open(table + "/meta.json") as f:
    meta = json.load(f)
n = meta["rows"]
col = {c["name"]: np.memmap("%s/%s" % (table, c["file"]), dtype=c["dtype"], mode="r+",
                            shape=(n, *c["shape"]))
       for c in meta["columns"]}
rng = np.random.default_rng(2026)
open_ns = np.datetime64("2026-11-20T09:30:00", "ns")
col["ts"][:] = open_ns + np.sort(rng.integers(0, 6 * 3600 * 10**9, n)).astype("m8[ns]")
col["symbol"][:] = rng.choice([b"ACME", b"GLOBEX", b"INITECH", b"UMBRELLA"], n)
col["price"][:] = np.round(100 + 0.05 * rng.standard_normal(n).cumsum(), 2)
col["qty"][:] = 100 * rng.integers(1, 50, n)
col["side"][:] = rng.choice([b"B", b"S"], n)
for m in col.values():
    m.flush()
print("filled %d rows of %s" % (n, ", ".join(col)))
EOF
fi

# Commands as the user can paste them from where they ran this script.
here=$TOP/
[ "$ORIG" = "$TOP" ] && here=
ctl=${here}src/tablectl
[ "$MNT" = /mnt/tables ] || ctl="TABLEFS_MOUNT=$MNT $ctl"
cat <<EOF

tablefs is mounted at $MNT, with the table $TABLE in it. Try:

  # one file per column, each exactly rows * itemsize bytes
  ls -l $MNT/$TABLE
  # rows, version, and the dtype and shape of each column
  cat $MNT/$TABLE/meta.json
  # the first rows as text; the daemon's memory use and data path
  $ctl head $TABLE -n 5
  $ctl status
  # the raw bytes of a float64 column
  od -A d -t f8 -N 40 $MNT/$TABLE/price
  # numpy straight over the shared memory, dtype and shape from meta.json
  python3 -c 'import json, numpy as np; t = "$MNT/$TABLE"; m = json.load(open(t + "/meta.json")); c = {c["name"]: c for c in m["columns"]}["price"]; print(np.memmap(t + "/" + c["file"], dtype=c["dtype"], mode="r", shape=(m["rows"], *c["shape"])).mean())'
  # the examples: a shell session, C, and numpy with multiprocessing
  sh ${here}examples/shell_session.sh $MNT
  ${here}examples/reader $MNT/$TABLE price
  python3 ${here}examples/producer_consumer.py $MNT

The daemon runs as root from $TABLEFS, with -o allow_other;
it logs to syslog (journalctl -t tablefs). To unmount, which ends the daemon
and frees every table:

  sudo umount $MNT
EOF
