"""Many processes at once against a live tablefs (stress.sh).

`$PYTHON3 stress.py run MNT SECONDS WORKERS SEED OUT`: WORKERS processes
for SECONDS do random operations on the shared tables s0..s7 (mmap and
pread/pwrite of columns, rows changes and new columns through meta.json,
renames of tables and columns, mkdir and rm -r of tables), and each one also
on a table of its own whose bytes it alone writes and checks.  A race with
another process (the column or table gone or resized meanwhile) may fail an
operation with ENOENT, ESTALE, EEXIST, ENOTEMPTY or ENOSPC; any other
error, an exception or a death by a signal (SIGBUS above all) fails the
run.  Prints the operations done by kind; OK or FAILED as its last line.

`$PYTHON3 stress.py check MNT`: every table is consistent (meta.json
parses, each column listed once and sized rows * itemsize, nothing else in
the directory).
"""

import errno
import json
import mmap
import multiprocessing
import os
import random
import signal
import sys
import time

import numpy as np

SHARED = ["s%d" % i for i in range(8)]
# A column's name says its type, so documents never ask for a type change
# even after renames (which stay within a type).
TYPES = {"i8": "int64", "f4": "float32", "u1": "uint8", "b16": "bytes16"}
COLS = ["%s_%d" % (p, i) for p in TYPES for i in range(3)]
RACE = {errno.ENOENT, errno.ESTALE, errno.EEXIST, errno.ENOTEMPTY, errno.ENOSPC}


class Worker:
    def __init__(self, mnt, k, seed, deadline, out):
        self.mnt, self.k, self.deadline, self.out = mnt, k, deadline, out
        self.rng = random.Random(seed * 1000 + k)
        self.ops = {}
        self.held = []  # mappings kept while others resize and delete
        self.own = os.path.join(mnt, "own%d" % k)
        self.own_rows = 0
        self.own_data = np.zeros(0, dtype="<i8")

    def p(self, *parts):
        return os.path.join(self.mnt, *parts)

    def done(self, kind, err=None):
        key = kind if err is None else "%s:%s" % (kind, errno.errorcode.get(err, err))
        self.ops[key] = self.ops.get(key, 0) + 1

    def table(self):
        return self.rng.choice(SHARED)

    def column(self):
        return self.rng.choice(COLS)

    def existing(self):
        """A table and one of its columns as listed now (or a name that
        may not exist, now and then)."""
        t = self.table()
        names = [n for n in os.listdir(self.p(t)) if n != "meta.json"]
        if not names or self.rng.random() < 0.1:
            return t, self.column()
        return t, self.rng.choice(names)

    def meta(self, t, doc):
        fd = os.open(self.p(t, "meta.json"), os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, json.dumps(doc).encode())
        finally:
            os.close(fd)

    # Operations on the shared tables; each may lose a race.

    def op_mmap(self):
        t, c = self.existing()
        fd = os.open(self.p(t, c), os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            if not size:
                return
            m = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        off = self.rng.randrange(size)
        n = min(size - off, self.rng.randrange(1, 4096))
        m[off:off + n] = os.urandom(n)
        _ = m[self.rng.randrange(size)]
        if len(self.held) < 4 and self.rng.random() < 0.3:
            self.held.append(m)
        else:
            m.close()

    def op_touch_held(self):
        """A mapping outlives resizes and rm of its column: no SIGBUS."""
        if not self.held:
            return
        m = self.rng.choice(self.held)
        i = self.rng.randrange(len(m))
        m[i] = (m[i] + 1) & 0xFF
        _ = m[:].count(b"\0")
        if self.rng.random() < 0.3:
            self.held.remove(m)
            m.close()

    def op_pio(self):
        t, c = self.existing()
        fd = os.open(self.p(t, c), os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            if not size:
                return
            off = self.rng.randrange(size)
            n = min(size - off, self.rng.randrange(1, 8192))
            if self.rng.random() < 0.5:
                try:
                    os.pwrite(fd, os.urandom(n), off)
                except OSError as e:
                    # Shrunk since fstat: a write past the end is EPERM.
                    if e.errno != errno.EPERM:
                        raise
            else:
                os.pread(fd, n, off)
        finally:
            os.close(fd)

    def op_rows(self):
        self.meta(self.table(), {"rows": self.rng.choice([0, 1, 100, 4096, 20000,
                                                          self.rng.randrange(50000)])})

    def op_add(self):
        cols = [self.column() for _ in range(self.rng.randrange(1, 3))]
        doc = {"columns": [{"name": c, "type": TYPES[c.split("_")[0]]} for c in set(cols)]}
        if self.rng.random() < 0.3:
            doc["rows"] = self.rng.randrange(10000)
        self.meta(self.table(), doc)

    def op_rename_table(self):
        os.rename(self.p(self.table()), self.p(self.table()))

    def op_rename_column(self):
        t, c = self.existing()
        d = c.split("_")[0] + "_%d" % self.rng.randrange(3)
        os.rename(self.p(t, c), self.p(t, d))

    def op_mkdir(self):
        os.mkdir(self.p(self.table()))

    def op_rmr(self):
        t = self.table()
        for name in os.listdir(self.p(t)):
            if name != "meta.json":
                try:
                    os.unlink(self.p(t, name))
                except FileNotFoundError:
                    pass
        os.rmdir(self.p(t))

    def op_rm_column(self):
        t, c = self.existing()
        os.unlink(self.p(t, c))

    def op_read_meta(self):
        """Whatever the races, a meta.json read is one consistent state."""
        with open(self.p(self.table(), "meta.json"), "rb") as f:
            m = json.loads(f.read())
        for c in m["columns"]:
            if c["nbytes"] != m["rows"] * c["itemsize"]:
                raise AssertionError("inconsistent meta.json: %s" % m)

    # The worker's own table: only it writes, so every byte is known.

    def own_resize(self):
        rows = self.rng.choice([0, 1, 7, 512, 4096, self.rng.randrange(8192)])
        self.meta("own%d" % self.k, {"rows": rows})
        keep = min(rows, self.own_rows)
        new = np.zeros(rows, dtype="<i8")
        new[:keep] = self.own_data[:keep]
        self.own_data, self.own_rows = new, rows

    def own_write(self):
        if not self.own_rows:
            return
        i = self.rng.randrange(self.own_rows)
        v = self.rng.randrange(1, 1 << 62)
        path = os.path.join(self.own, "v")
        if self.rng.random() < 0.5:
            a = np.memmap(path, dtype="<i8", mode="r+", shape=(self.own_rows,))
            a[i] = v
            a.flush()
            del a
        else:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.pwrite(fd, np.int64(v).tobytes(), 8 * i)
            finally:
                os.close(fd)
        self.own_data[i] = v

    def own_check(self):
        path = os.path.join(self.own, "v")
        size = os.stat(path).st_size
        if size != 8 * self.own_rows:
            raise AssertionError("own%d/v: size %d, rows %d" % (self.k, size, self.own_rows))
        if self.rng.random() < 0.5:
            with open(path, "rb") as f:
                got = np.frombuffer(f.read(), dtype="<i8")
        else:
            got = np.array(np.memmap(path, dtype="<i8", mode="r")) if size else np.zeros(0)
        if not np.array_equal(got, self.own_data):
            bad = np.flatnonzero(got != self.own_data)
            raise AssertionError("own%d/v differs at %d rows, first %d: %d != %d" %
                                 (self.k, bad.size, bad[0], got[bad[0]], self.own_data[bad[0]]))

    def run(self):
        os.mkdir(self.own)
        self.meta("own%d" % self.k, {"columns": [{"name": "v", "type": "int64"}]})
        shared = [(self.op_mmap, 14), (self.op_touch_held, 6), (self.op_pio, 14),
                  (self.op_rows, 6), (self.op_add, 8), (self.op_rename_table, 1),
                  (self.op_rename_column, 3), (self.op_mkdir, 4), (self.op_rmr, 1),
                  (self.op_rm_column, 3), (self.op_read_meta, 8),
                  (self.own_resize, 3), (self.own_write, 10), (self.own_check, 3)]
        ops = [f for f, w in shared for _ in range(w)]
        parent = os.getppid()
        while time.monotonic() < self.deadline and os.getppid() == parent:
            op = self.rng.choice(ops)
            kind = op.__name__.replace("op_", "")
            try:
                op()
                self.done(kind)
            except OSError as e:
                if e.errno not in RACE or kind.startswith("own"):
                    raise
                self.done(kind, e.errno)
        self.own_check()
        for m in self.held:
            m.close()
        with open(self.out, "w") as f:
            json.dump(self.ops, f)


def worker_main(mnt, k, seed, deadline, out):
    try:
        Worker(mnt, k, seed, deadline, out).run()
    except BaseException as e:
        import traceback
        traceback.print_exc()
        print("worker %d: %s: %s" % (k, type(e).__name__, e), flush=True)
        os._exit(1)
    os._exit(0)


def run(mnt, seconds, n, seed, outdir):
    deadline = time.monotonic() + seconds
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=worker_main,
                         args=(mnt, k, seed, deadline, os.path.join(outdir, "ops.%d" % k)))
             for k in range(n)]

    def stop(signum, frame):
        for p in procs:
            if p.pid and p.is_alive():
                p.kill()
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for p in procs:
        p.start()
    bad = 0
    for k, p in enumerate(procs):
        p.join(seconds + 120)
        if p.exitcode is None:
            print("PROBLEM: worker %d still running: killed" % k)
            p.kill()
            p.join()
            bad += 1
        elif p.exitcode < 0:
            print("PROBLEM: worker %d died of signal %s" %
                  (k, signal.Signals(-p.exitcode).name))
            bad += 1
        elif p.exitcode:
            print("PROBLEM: worker %d failed (exit status %d)" % (k, p.exitcode))
            bad += 1
    total = {}
    for k in range(n):
        try:
            with open(os.path.join(outdir, "ops.%d" % k)) as f:
                for key, v in json.load(f).items():
                    total[key] = total.get(key, 0) + v
        except OSError:
            pass
    kinds = sorted({k.split(":")[0] for k in total})
    print("operations by %d processes in %d s: %d" % (n, seconds, sum(total.values())))
    for kind in kinds:
        ok = total.get(kind, 0)
        races = ", ".join("%s %d" % (k.split(":")[1], v) for k, v in sorted(total.items())
                          if k.startswith(kind + ":"))
        print("  %-14s %7d done%s" % (kind, ok, "; lost a race: " + races if races else ""))
    print("FAILED %d" % bad if bad else "OK")
    return 1 if bad else 0


def check(mnt):
    bad = 0
    for t in sorted(os.listdir(mnt)):
        if t.startswith("."):
            continue
        with open(os.path.join(mnt, t, "meta.json"), "rb") as f:
            m = json.loads(f.read())
        names = [c["name"] for c in m["columns"]]
        problems = []
        if m["name"] != t:
            problems.append("name %s" % m["name"])
        if len(set(names)) != len(names):
            problems.append("a column listed twice: %s" % names)
        listed = set(os.listdir(os.path.join(mnt, t)))
        if listed != set(names) | {"meta.json"}:
            problems.append("directory %s, meta.json %s" % (sorted(listed), sorted(names)))
        for c in m["columns"]:
            size = os.stat(os.path.join(mnt, t, c["file"])).st_size
            if not (c["nbytes"] == size == m["rows"] * c["itemsize"]):
                problems.append("column %s: size %d, nbytes %d, rows %d * itemsize %d" %
                                (c["name"], size, c["nbytes"], m["rows"], c["itemsize"]))
        for p in problems:
            print("PROBLEM: table %s: %s" % (t, p))
        bad += len(problems)
    print("FAILED %d" % bad if bad else "OK")
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "run":
        sys.exit(run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                     sys.argv[6]))
    sys.exit(check(sys.argv[2]))
