"""Mixed load for tests/mount/crashloop.sh, one role per process.

    crashloop.py setup MNT
    crashloop.py ROLE MNT STOPFILE OUTFILE

Each role runs until STOPFILE exists, remembering every change the mount
acknowledged, then (the serving process having been killed several times
meanwhile) checks that every one of them is there and writes a one-line
summary to OUTFILE.  Exit status 0 when nothing acknowledged was lost.

Roles:
  mmap    writes i + 1 into slot i % SLOTS of map/x through a MAP_SHARED
          mapping, i = 0, 1, ...
  pwrite  the same into pw/y with pwrite(2) on one long-held fd
  mkdir   makes a table every 2 ms, every 8th with a schema
  resize  writes {"rows": R} to rs/meta.json, R = 1, 2, ..., then opens rs/c
          by name: it must be R rows long at once (an acknowledged resize is
          visible), and writes R into its last slot through that open
"""
import errno
import json
import mmap
import os
import sys
import time

import numpy as np

SLOTS = 1 << 14
TEXT = "crash-proof text, ünïcode".encode()


def setup(mnt):
    for name, col in (("map", "x"), ("pw", "y")):
        os.mkdir(os.path.join(mnt, name))
        with open(os.path.join(mnt, name, "meta.json"), "w") as f:
            f.write(json.dumps({"rows": SLOTS, "columns": [{"name": col, "type": "int64"}]}))
    os.mkdir(os.path.join(mnt, "rs"))
    with open(os.path.join(mnt, "rs", "meta.json"), "w") as f:
        f.write(json.dumps({"rows": 0, "columns": [
            {"name": "c", "type": "int64"},
            {"name": "s", "type": "utf8", "nullable": True, "data_nbytes": len(TEXT)}]}))
    with open(os.path.join(mnt, "rs", "s.data"), "r+b") as f:
        f.write(TEXT)


def expected(i):
    """The column after writes 0 .. i - 1 (write k puts k + 1 in slot k % SLOTS)."""
    s = np.arange(SLOTS)
    full, rem = divmod(i, SLOTS)
    last = np.where(s < rem, full * SLOTS + s, (full - 1) * SLOTS + s)
    return np.where(last >= 0, last + 1, 0)


def stopped(stop):
    return os.path.exists(stop)


def role_mmap(mnt, stop):
    path = os.path.join(mnt, "map", "x")
    fd = os.open(path, os.O_RDWR)
    m = mmap.mmap(fd, SLOTS * 8, mmap.MAP_SHARED)
    x = np.frombuffer(m, dtype="<i8")
    i = 0
    while not stopped(stop):
        x[i % SLOTS] = i + 1
        i += 1
        if i % 256 == 0:
            time.sleep(0.001)
    del x
    m.close()
    os.close(fd)
    got = np.fromfile(path, dtype="<i8")
    bad = int(np.count_nonzero(got != expected(i)))
    return "mmap writes %d wrong %d" % (i, bad), bad == 0


def role_pwrite(mnt, stop):
    path = os.path.join(mnt, "pw", "y")
    fd = os.open(path, os.O_RDWR)
    i = 0
    while not stopped(stop):
        os.pwrite(fd, np.int64(i + 1).tobytes(), 8 * (i % SLOTS))
        i += 1
        if i % 64 == 0:
            time.sleep(0.001)
    os.close(fd)
    got = np.fromfile(path, dtype="<i8")
    bad = int(np.count_nonzero(got != expected(i)))
    return "pwrite writes %d wrong %d" % (i, bad), bad == 0


def role_mkdir(mnt, stop):
    made = []
    k = 0
    while not stopped(stop):
        name = os.path.join(mnt, "d%d" % k)
        os.mkdir(name)
        if k % 8 == 0:
            with open(name + "/meta.json", "w") as f:
                f.write(json.dumps({"rows": 3, "columns": [{"name": "c", "type": "int32"}]}))
        made.append(k)
        k += 1
        time.sleep(0.002)
    lost = []
    for k in made:
        name = os.path.join(mnt, "d%d" % k)
        try:
            m = json.load(open(name + "/meta.json"))
        except OSError:
            lost.append(k)
            continue
        if k % 8 == 0 and (m["rows"] != 3 or [c["name"] for c in m["columns"]] != ["c"] or
                           os.path.getsize(name + "/c") != 12):
            lost.append(k)
    return "mkdir tables %d lost %s" % (len(made), lost[:10]), not lost


def role_resize(mnt, stop):
    meta = os.path.join(mnt, "rs", "meta.json")
    col = os.path.join(mnt, "rs", "c")
    stale = []
    r = 0
    while not stopped(stop):
        with open(meta, "w") as f:
            f.write(json.dumps({"rows": r + 1}))
        r += 1
        fd = os.open(col, os.O_RDWR)
        size = os.fstat(fd).st_size
        if size != 8 * r:
            stale.append((r, size // 8))
        else:
            os.pwrite(fd, np.int64(r).tobytes(), 8 * (r - 1))
        os.close(fd)
        # the text column's mask: row r - 1 present
        fd = os.open(col[:-1] + "s.null", os.O_RDWR)
        if os.fstat(fd).st_size == r:
            os.pwrite(fd, b"\0", r - 1)
        os.close(fd)
    got = np.fromfile(col, dtype="<i8")
    # every file of the text column came through the crashes
    offsets = np.fromfile(col[:-1] + "s", dtype="<i8")
    mask = np.fromfile(col[:-1] + "s.null", dtype="u1")
    text = open(col[:-1] + "s.data", "rb").read()
    if offsets.size != r + 1 or offsets.any() or text != TEXT or mask.size != r or \
            [j for j in np.nonzero(mask)[0] if (int(j) + 1) not in dict(stale)]:
        stale.append(("text column", offsets.size, mask.size, text))
    rows = json.load(open(meta))["rows"]
    want = np.arange(1, r + 1)
    bad = [] if got.size != r else \
        [(int(j) + 1, int(got[j])) for j in np.nonzero(got != want)[0] if (int(j) + 1) not in
         dict(stale)][:10]
    ok = not stale and rows == r and got.size == r and not bad
    return ("resize rows %d meta %d file %d stale-opens %s wrong %s" %
            (r, rows, got.size, stale[:10], bad)), ok


ROLES = {"mmap": role_mmap, "pwrite": role_pwrite, "mkdir": role_mkdir, "resize": role_resize}


def main():
    if sys.argv[1] == "setup":
        setup(sys.argv[2])
        return 0
    role, mnt, stop, out = sys.argv[1:5]
    try:
        line, ok = ROLES[role](mnt, stop)
    except OSError as e:
        import traceback
        where = traceback.extract_tb(e.__traceback__)[-1]
        line, ok = "%s: %s (%s) at line %d: %s" % (role, e, errno.errorcode.get(e.errno, "?"),
                                                  where.lineno, where.line), False
    with open(out, "w") as f:
        f.write(line + "\n")
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
