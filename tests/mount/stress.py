"""Many processes at once against a live tablefs (stress.sh).

`$PYTHON3 stress.py run MNT SECONDS WORKERS SEED OUT`: WORKERS processes
for SECONDS do random operations on the shared tables s0..s7 (mmap and
pread/pwrite of columns and their companion files, rows changes, new columns
and data file sizes through meta.json, renames of tables and columns, mkdir
and rm -r of tables, reads of table.arrow), and each one also on a table of
its own, with a utf8 and a nullable column, whose bytes it alone writes and
checks.  A race with another process (the column or table gone or resized
meanwhile) may fail an operation with ENOENT, ESTALE, EEXIST, ENOTEMPTY or
ENOSPC; table.arrow may also fail with EIO, since others write random bytes
into offsets and codes; any other error, an exception or a death by a signal
(SIGBUS above all) fails the run.  Prints the operations done by kind; OK or
FAILED as its last line.

`$PYTHON3 stress.py check MNT`: every table is consistent (meta.json
parses, each column listed once, each of its files sized as meta.json
says, nothing else in the directory).
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
TYPES = {"i8": {"type": "int64"}, "f4": {"type": "float32"}, "u1": {"type": "uint8"},
         "b16": {"type": "bytes16"}, "t": {"type": "utf8"},
         "tn": {"type": "utf8", "nullable": True}, "ni4": {"type": "int32", "nullable": True},
         "k": {"type": "category", "categories": ["a", "b", "c"]},
         "bn": {"type": "binary", "nullable": True}}
COLS = ["%s_%d" % (p, i) for p in TYPES for i in range(3)]
# EXDEV: a column renamed within "its" table while the table was renamed
# or made anew between the kernel's two lookups of the table's name.
RACE = {errno.ENOENT, errno.ESTALE, errno.EEXIST, errno.ENOTEMPTY, errno.ENOSPC, errno.EXDEV}
DTYPE_SIZE = {"<i8": 8, "<i4": 4, "|b1": 1, "|u1": 1}


def file_sizes(m, c):
    """file -> (size meta.json gives, size by rows and kind) of a column."""
    rows = m["rows"]
    out = {}
    for f in c.get("files") or [{"role": "values", "file": c["file"], "nbytes": c["nbytes"]}]:
        want = {"values": rows * c["itemsize"], "offsets": (rows + 1) * 8, "codes": rows * 4,
                "null": rows, "data": c.get("data_nbytes"), "dict": (len(c.get("categories", [])) + 1) * 8,
                "dict.data": sum(len(x.encode()) for x in c.get("categories", []))}[f["role"]]
        out[f["file"]] = (f["nbytes"], want)
    return out


class Worker:
    def __init__(self, mnt, k, seed, deadline, out):
        self.mnt, self.k, self.deadline, self.out = mnt, k, deadline, out
        self.rng = random.Random(seed * 1000 + k)
        self.ops = {}
        self.held = []  # mappings kept while others resize and delete
        self.own = os.path.join(mnt, "own%d" % k)
        self.own_rows = 0
        self.own_data = np.zeros(0, dtype="<i8")
        # The nullable int32 m: values and mask.
        self.own_m = np.zeros(0, dtype="<i4")
        self.own_mmask = np.zeros(0, dtype=bool)
        # The nullable utf8 s: offsets, data, mask.
        self.own_offs = np.zeros(1, dtype="<i8")
        self.own_sdata = b""
        self.own_smask = np.zeros(0, dtype=bool)

    def p(self, *parts):
        return os.path.join(self.mnt, *parts)

    def done(self, kind, err=None):
        key = kind if err is None else "%s:%s" % (kind, errno.errorcode.get(err, err))
        self.ops[key] = self.ops.get(key, 0) + 1

    def table(self):
        return self.rng.choice(SHARED)

    def column(self):
        return self.rng.choice(COLS)

    def existing(self, companions=False):
        """A table and one of its columns as listed now (or a name that
        may not exist, now and then); with COMPANIONS, any of its files
        but the read-only dictionaries."""
        t = self.table()
        names = [n for n in os.listdir(self.p(t)) if n != "meta.json" and
                 ("." not in n or companions and not n.endswith((".dict", ".dict.data")))]
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
        t, c = self.existing(True)
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
        t, c = self.existing(True)
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
        doc = {"columns": []}
        for c in set(cols):
            d = dict(TYPES[c.split("_")[0]], name=c)
            if d["type"] in ("utf8", "binary") and self.rng.random() < 0.7:
                d["data_nbytes"] = self.rng.choice([0, 1, 100, 65536, self.rng.randrange(200000)])
            doc["columns"].append(d)
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
            sizes = file_sizes(m, c)
            if any(a != b for a, b in sizes.values()) or c["nbytes"] != sizes[c["file"]][0]:
                raise AssertionError("inconsistent meta.json: %s" % m)

    def op_view(self):
        """table.arrow reads to the end, or fails with EIO when another
        process wrote bad offsets or codes: never a crash, never garbage
        sizes."""
        try:
            with open(self.p(self.table(), "table.arrow"), "rb") as f:
                while f.read(1 << 20):
                    pass
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            # Counted as a lost race by the caller.
            raise OSError(errno.EIO, "table.arrow") from None

    # The worker's own table: only it writes, so every byte is known.

    def own_resize(self):
        rows = self.rng.choice([0, 1, 7, 512, 4096, self.rng.randrange(8192)])
        self.meta("own%d" % self.k, {"rows": rows})
        keep = min(rows, self.own_rows)
        new = np.zeros(rows, dtype="<i8")
        new[:keep] = self.own_data[:keep]
        self.own_data, self.own_rows = new, rows
        # New rows of a nullable column: missing, zero or empty under the mask.
        m = np.zeros(rows, dtype="<i4")
        m[:keep] = self.own_m[:keep]
        mm = np.ones(rows, dtype=bool)
        mm[:keep] = self.own_mmask[:keep]
        self.own_m, self.own_mmask = m, mm
        offs = np.full(rows + 1, self.own_offs[keep], dtype="<i8")
        offs[:keep + 1] = self.own_offs[:keep + 1]
        sm = np.ones(rows, dtype=bool)
        sm[:keep] = self.own_smask[:keep]
        self.own_offs, self.own_smask = offs, sm

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
        # m: a value, or a null.
        if self.rng.random() < 0.3:
            fd = os.open(os.path.join(self.own, "m.null"), os.O_WRONLY)
            try:
                os.pwrite(fd, b"\1", i)
            finally:
                os.close(fd)
            self.own_mmask[i] = True
        else:
            a = np.memmap(os.path.join(self.own, "m"), dtype="<i4", mode="r+", shape=(self.own_rows,))
            k = np.memmap(os.path.join(self.own, "m.null"), dtype="|b1", mode="r+", shape=(self.own_rows,))
            a[i] = v & 0x7FFFFFFF
            k[i] = False
            del a, k
            self.own_m[i] = v & 0x7FFFFFFF
            self.own_mmask[i] = False

    def own_text(self):
        """Rewrites s whole: new strings (some missing), the data file
        sized for them through meta.json, then offsets, data and mask by
        np.memmap."""
        rows = self.own_rows
        words = ["", "x", "é", "東京", "abc" * 20]
        vals = [self.rng.choice(words) for _ in range(rows)]
        mask = np.array([self.rng.random() < 0.2 for _ in range(rows)], dtype=bool)
        data = "".join(vals).encode()
        offs = np.zeros(rows + 1, dtype="<i8")
        np.cumsum([len(v.encode()) for v in vals], out=offs[1:])
        self.meta("own%d" % self.k, {"columns": [{"name": "s", "type": "utf8", "nullable": True,
                                                   "data_nbytes": len(data)}]})
        self.own_offs, self.own_sdata = offs, data
        a = np.memmap(os.path.join(self.own, "s"), dtype="<i8", mode="r+", shape=(rows + 1,))
        a[:] = offs
        del a
        if data:
            d = np.memmap(os.path.join(self.own, "s.data"), dtype="u1", mode="r+", shape=(len(data),))
            d[:] = np.frombuffer(data, dtype="u1")
            del d
        if rows:
            k = np.memmap(os.path.join(self.own, "s.null"), dtype="|b1", mode="r+", shape=(rows,))
            k[:] = mask
            del k
        self.own_smask = mask

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

        def read(name, dtype):
            with open(os.path.join(self.own, name), "rb") as f:
                return np.frombuffer(f.read(), dtype=dtype)
        for name, dtype, want in (("m", "<i4", self.own_m), ("m.null", "|b1", self.own_mmask),
                                  ("s", "<i8", self.own_offs), ("s.null", "|b1", self.own_smask)):
            got = read(name, dtype)
            if name == "m":  # the value under a null is the writer's business
                got = np.where(self.own_mmask, 0, got) if got.size == want.size else got
                want = np.where(self.own_mmask, 0, want)
            if not np.array_equal(got, want):
                raise AssertionError("own%d/%s: %s != %s" % (self.k, name, got[:20], want[:20]))
        sdata = read("s.data", "u1").tobytes()
        if sdata[:len(self.own_sdata)] != self.own_sdata:
            raise AssertionError("own%d/s.data differs" % self.k)

    def run(self):
        os.mkdir(self.own)
        self.meta("own%d" % self.k, {"columns": [{"name": "v", "type": "int64"},
                                                  {"name": "m", "type": "int32", "nullable": True},
                                                  {"name": "s", "type": "utf8", "nullable": True}]})
        shared = [(self.op_mmap, 14), (self.op_touch_held, 6), (self.op_pio, 14),
                  (self.op_rows, 6), (self.op_add, 8), (self.op_rename_table, 1),
                  (self.op_rename_column, 3), (self.op_mkdir, 4), (self.op_rmr, 1),
                  (self.op_rm_column, 3), (self.op_read_meta, 8),
                  (self.op_view, 3), (self.own_resize, 3), (self.own_write, 10),
                  (self.own_text, 2), (self.own_check, 3)]
        ops = [f for f, w in shared for _ in range(w)]
        parent = os.getppid()
        while time.monotonic() < self.deadline and os.getppid() == parent:
            op = self.rng.choice(ops)
            kind = op.__name__.replace("op_", "")
            try:
                op()
                self.done(kind)
            except OSError as e:
                if (e.errno not in RACE and not (kind == "view" and e.errno == errno.EIO)) or \
                        kind.startswith("own"):
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
        files = {f for c in m["columns"] for f in file_sizes(m, c)}
        if listed != files | {"meta.json"}:
            problems.append("directory %s, meta.json %s" % (sorted(listed), sorted(files)))
        for c in m["columns"]:
            for f, (nbytes, want) in file_sizes(m, c).items():
                size = os.stat(os.path.join(mnt, t, f)).st_size
                if not (nbytes == size == want):
                    problems.append("column %s: file %s: size %d, nbytes %d, want %d (rows %d)" %
                                    (c["name"], f, size, nbytes, want, m["rows"]))
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
