"""Python side of the tablefs mount tests: what a numpy user does.

Run as `$PYTHON3 tfs.py SUBCOMMAND ARGS...`.  Prints one line ending in OK
or an errno name (what lib.sh's expect_errno compares), or a PROBLEM line
per mismatch and exit status 1.  Helpers that another process must wait for
signal readiness by creating a file and wait for a "go" file: no sleeps
that a test's result depends on.
"""

import errno
import fcntl
import json
import os
import sys
import time

import numpy as np

# Every type of the contract: (what a document says, key, shape, expected
# type name, expected numpy dtype string).
ALL_TYPES = [
    ("bool", "type", [], "bool", "|b1"),
    ("int8", "type", [], "int8", "|i1"),
    ("int16", "type", [], "int16", "<i2"),
    ("int32", "type", [], "int32", "<i4"),
    ("int64", "type", [], "int64", "<i8"),
    ("uint8", "type", [], "uint8", "|u1"),
    ("uint16", "type", [], "uint16", "<u2"),
    ("uint32", "type", [], "uint32", "<u4"),
    ("uint64", "type", [], "uint64", "<u8"),
    ("float16", "type", [], "float16", "<f2"),
    ("float32", "type", [], "float32", "<f4"),
    ("float64", "type", [], "float64", "<f8"),
    ("datetime64[s]", "type", [], "datetime64[s]", "<M8[s]"),
    ("datetime64[ms]", "type", [], "datetime64[ms]", "<M8[ms]"),
    ("datetime64[us]", "type", [], "datetime64[us]", "<M8[us]"),
    ("datetime64[ns]", "type", [], "datetime64[ns]", "<M8[ns]"),
    ("timedelta64[s]", "type", [], "timedelta64[s]", "<m8[s]"),
    ("timedelta64[ms]", "type", [], "timedelta64[ms]", "<m8[ms]"),
    ("timedelta64[us]", "type", [], "timedelta64[us]", "<m8[us]"),
    ("timedelta64[ns]", "type", [], "timedelta64[ns]", "<m8[ns]"),
    ("bytes16", "type", [], "bytes16", "|S16"),
    ("bytes1", "type", [], "bytes1", "|S1"),
    ("float64", "type", [3], "float64", "<f8"),
    ("int16", "type", [2, 2], "int16", "<i2"),
    # numpy spellings, given as "dtype"
    ("<f8", "dtype", [], "float64", "<f8"),
    ("f8", "dtype", [], "float64", "<f8"),
    ("float64", "dtype", [], "float64", "<f8"),
    ("|S16", "dtype", [], "bytes16", "|S16"),
    ("<M8[ns]", "dtype", [], "datetime64[ns]", "<M8[ns]"),
    ("?", "dtype", [], "bool", "|b1"),
    ("|b1", "dtype", [], "bool", "|b1"),
    ("<f4", "dtype", [4], "float32", "<f4"),
]


def errname(e):
    return errno.errorcode.get(e.errno, "E%s" % e.errno) if e.errno else "E?"


def problem(msg):
    print("PROBLEM: " + msg)
    problem.count += 1


problem.count = 0


def done():
    if problem.count:
        print("FAILED %d" % problem.count)
        sys.exit(1)
    print("OK")
    sys.exit(0)


def read_meta(table):
    with open(os.path.join(table, "meta.json")) as f:
        return json.load(f)


def write_meta(table, doc):
    """json.dump into meta.json as a user would; returns OK or errno name."""
    try:
        with open(os.path.join(table, "meta.json"), "w") as f:
            json.dump(doc, f)
    except OSError as e:
        return errname(e)
    return "OK"


def column(meta, name):
    for c in meta["columns"]:
        if c["name"] == name:
            return c
    return None


def open_column(table, name, mode="r"):
    m = read_meta(table)
    c = column(m, name)
    if c is None:
        raise SystemExit("PROBLEM: no column %s in %s" % (name, table))
    return np.memmap(os.path.join(table, c["file"]), dtype=c["dtype"], mode=mode,
                     shape=(m["rows"], *c["shape"]))


def pattern(seed, nbytes):
    """Deterministic bytes that differ from zero almost everywhere."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, size=nbytes, dtype=np.uint8)


def wait_file(path, timeout=60):
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > end:
            raise SystemExit("PROBLEM: timed out waiting for " + path)
        time.sleep(0.01)


def signal_ready(path, text="ready"):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.rename(tmp, path)


# Subcommands


def cmd_writemeta(table, doc):
    """writemeta TABLE JSON: json.dump the document into meta.json."""
    print(write_meta(table, json.loads(doc)))


def cmd_alltypes(table, rows):
    """alltypes TABLE ROWS: one column of every type; checks meta.json."""
    rows = int(rows)
    cols = []
    for i, (spec, key, shape, _, _) in enumerate(ALL_TYPES):
        c = {"name": "c%02d" % i, key: spec}
        if shape or i % 2:
            c["shape"] = shape
        cols.append(c)
    r = write_meta(table, {"rows": rows, "columns": cols})
    if r != "OK":
        problem("writing the schema: " + r)
        done()
    with open(os.path.join(table, "meta.json"), "rb") as f:
        raw = f.read()
    st = os.stat(os.path.join(table, "meta.json"))
    if st.st_size != len(raw):
        problem("meta.json st_size %d but %d bytes read" % (st.st_size, len(raw)))
    m = json.loads(raw)
    for k, v in (("format", "tablefs-1"), ("name", os.path.basename(table)), ("rows", rows)):
        if m.get(k) != v:
            problem("meta.json %s: expected %r, got %r" % (k, v, m.get(k)))
    if not isinstance(m.get("version"), int) or isinstance(m.get("version"), bool):
        problem("meta.json version is not an integer: %r" % (m.get("version"),))
    if len(m.get("columns", [])) != len(ALL_TYPES):
        problem("expected %d columns, got %d" % (len(ALL_TYPES), len(m.get("columns", []))))
    names = [c.get("name") for c in m.get("columns", [])]
    if names != sorted(names):
        print("NOTE: columns listed in the order %s" % names)
    # "one column object per line": each column parses alone from its line
    lines = [ln.strip().rstrip(",") for ln in raw.decode().splitlines()]
    one_line = 0
    for ln in lines:
        if ln.startswith("{") and ln.endswith("}") and '"file"' in ln:
            try:
                json.loads(ln)
                one_line += 1
            except ValueError:
                pass
    if one_line != len(ALL_TYPES):
        problem("%d of %d column objects are on one line each" % (one_line, len(ALL_TYPES)))
    for i, (spec, key, shape, tname, dtype) in enumerate(ALL_TYPES):
        name = "c%02d" % i
        c = column(m, name)
        what = "column %s (%s %r shape %r)" % (name, key, spec, shape)
        if c is None:
            problem(what + " missing")
            continue
        itemsize = np.dtype(dtype).itemsize * int(np.prod(shape, dtype=np.int64))
        expect = {"name": name, "type": tname, "dtype": dtype, "shape": shape,
                  "itemsize": itemsize, "nbytes": rows * itemsize, "file": name}
        for k, v in expect.items():
            if c.get(k) != v:
                problem("%s: %s expected %r, got %r" % (what, k, v, c.get(k)))
        path = os.path.join(table, c.get("file", name))
        size = os.stat(path).st_size
        if size != rows * itemsize:
            problem("%s: st_size %d, expected %d" % (what, size, rows * itemsize))
        try:
            a = np.memmap(path, dtype=c["dtype"], mode="r", shape=(m["rows"], *c["shape"]))
            if a.nbytes != size:
                problem("%s: memmap of %d bytes, file %d" % (what, a.nbytes, size))
            if np.frombuffer(a.tobytes(), dtype=np.uint8).any():
                problem("%s: a new column is not zero-filled" % what)
            if a.dtype != np.dtype(dtype):
                problem("%s: memmap dtype %s" % (what, a.dtype))
            del a
        except Exception as e:  # noqa: BLE001 - any failure is the finding
            problem("%s: np.memmap with its dtype failed: %s" % (what, e))
    done()


def cmd_fill(table, name, seed, ref=None):
    """fill TABLE COL SEED [REF]: fill via memmap r+; REF gets a copy."""
    a = open_column(table, name, "r+")
    raw = a.view(np.uint8).reshape(-1) if a.size else np.zeros(0, np.uint8)
    raw[:] = pattern(int(seed), raw.size)
    a.flush()
    if ref:
        with open(ref, "wb") as f:
            f.write(raw.tobytes())
    del raw, a
    print("OK")


def cmd_verify(table, name, seed, nbytes=None):
    """verify TABLE COL SEED [NBYTES]: the column holds pattern(SEED) on its
    first NBYTES (default: all) bytes and zeros after them."""
    a = open_column(table, name, "r")
    got = np.frombuffer(a.tobytes(), dtype=np.uint8)
    n = got.size if nbytes is None else min(int(nbytes), got.size)
    want = pattern(int(seed), n if nbytes is None else int(nbytes))[:n]
    if not np.array_equal(got[:n], want):
        bad = int(np.nonzero(got[:n] != want)[0][0])
        problem("%s/%s: data differs at byte %d" % (table, name, bad))
    if got[n:].any():
        bad = int(np.nonzero(got[n:])[0][0]) + n
        problem("%s/%s: byte %d past the old data is not zero" % (table, name, bad))
    done()


def cmd_mapper(path, ready, go):
    """mapper COLPATH READY GO: maps the column shared read-only, keeps a copy,
    signals READY, waits for GO, then reads every byte of the mapping and
    compares.  A SIGBUS kills it (exit status 135 from the shell)."""
    size = os.stat(path).st_size
    a = np.memmap(path, dtype=np.uint8, mode="r", shape=(size,))
    before = np.array(a)
    signal_ready(ready, "%d" % size)
    wait_file(go)
    after = np.array(a)  # touches every page of the old mapping
    if after.size != size or not np.array_equal(before, after):
        problem("mapping of %s changed after resize/delete" % path)
    if not before.any():
        problem("mapper saw only zeros (test set-up)")
    done()


def cmd_mapwriter(path, ready, go, seed, ref):
    """mapwriter COLPATH READY GO SEED REF: writes pattern(SEED) through a
    shared writable mapping, without msync, keeps it mapped, signals READY
    (REF gets the bytes), waits for GO, checks the mapping still holds
    them."""
    size = os.stat(path).st_size
    a = np.memmap(path, dtype=np.uint8, mode="r+", shape=(size,))
    data = pattern(int(seed), size)
    a[:] = data
    with open(ref, "wb") as f:
        f.write(data.tobytes())
    signal_ready(ready, "%d" % size)
    wait_file(go)
    if not np.array_equal(np.array(a), data):
        problem("the writer's own mapping of %s changed" % path)
    done()


def cmd_mapstress(path, n):
    """mapstress COLPATH N: N times open, fstat, map and read the whole
    int64 column while another process resizes it: no SIGBUS, and every row
    i holds i + 1 or 0 (the data it was filled with, or a new zero row)."""
    import mmap
    maps = 0
    for i in range(int(n)):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        size = os.fstat(fd).st_size
        if size:
            mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
            a = np.frombuffer(mm, dtype="<i8")
            idx = np.arange(1, a.size + 1, dtype=np.int64)
            bad = np.nonzero((a != idx) & (a != 0))[0]
            if bad.size:
                problem("map %d of %d bytes: row %d holds %d" % (i, size, bad[0], a[bad[0]]))
            del a
            mm.close()
            maps += 1
        os.close(fd)
    if not maps:
        problem("never mapped anything")
    done()


def cmd_watch(path, ready, go, off, byte):
    """watch COLPATH READY GO OFF BYTE: a shared mapping sees a write made by
    another process: after GO, mapping[OFF] == BYTE."""
    size = os.stat(path).st_size
    a = np.memmap(path, dtype=np.uint8, mode="r", shape=(size,))
    first = int(a[int(off)])
    signal_ready(ready, "%d" % first)
    wait_file(go)
    got = int(a[int(off)])
    if got != int(byte):
        problem("shared mapping of %s: byte %s is %d, expected %s (another process wrote it)"
                % (path, off, got, byte))
    done()


def cmd_holdlock(path, kind, ready, go):
    """holdlock PATH flock|lockf READY GO: holds an exclusive lock until GO."""
    fd = os.open(path, os.O_RDWR)
    if kind == "flock":
        fcntl.flock(fd, fcntl.LOCK_EX)
    else:
        fcntl.lockf(fd, fcntl.LOCK_EX)
    signal_ready(ready)
    wait_file(go)
    os.close(fd)
    print("OK")


def cmd_trylock(path, kind):
    """trylock PATH flock|lockf: non-blocking exclusive lock, OK or errno."""
    fd = os.open(path, os.O_RDWR)
    try:
        if kind == "flock":
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        print(errname(e))
        return
    finally:
        os.close(fd)
    print("OK")


def cmd_wplus(table, name):
    """wplus TABLE COL: np.memmap(mode="w+") on an existing column."""
    m = read_meta(table)
    c = column(m, name)
    try:
        np.memmap(os.path.join(table, name), dtype=c["dtype"], mode="w+",
                  shape=(m["rows"], *c["shape"]))
    except OSError as e:
        print(errname(e))
        return
    print("OK")


def cmd_private(table, name):
    """private TABLE COL: a MAP_PRIVATE (mode "c") mapping written all over;
    the file seen through a new open and a new shared map is unchanged."""
    path = os.path.join(table, name)
    with open(path, "rb") as f:
        before = f.read()
    a = open_column(table, name, "c")
    raw = a.view(np.uint8).reshape(-1)
    raw[:] = np.bitwise_not(raw)
    a.flush()
    with open(path, "rb") as f:
        after = f.read()
    if after != before:
        problem("MAP_PRIVATE writes reached the file (read(2))")
    b = np.memmap(path, dtype=np.uint8, mode="r")
    if b.tobytes() != before:
        problem("MAP_PRIVATE writes reached the file (shared map)")
    if raw.tobytes() == before:
        problem("the private mapping did not take the writes")
    del a, b, raw
    done()


def cmd_rename(a, b):
    """rename A B: os.rename, OK or errno name."""
    try:
        os.rename(a, b)
    except OSError as e:
        print(errname(e))
        return
    print("OK")


def cmd_statvfs(path):
    """statvfs PATH: total and used bytes as df computes them."""
    s = os.statvfs(path)
    print("%d %d" % (s.f_blocks * s.f_frsize, (s.f_blocks - s.f_bfree) * s.f_frsize))


def cmd_manycols(table, n, rows):
    """manycols TABLE N ROWS: one meta.json write with N int32 columns."""
    cols = [{"name": "col%04d" % i, "type": "int32"} for i in range(int(n))]
    print(write_meta(table, {"rows": int(rows), "columns": cols}))


def cmd_rowsloop(table, n):
    """rowsloop TABLE N: N schema changes of rows (1..N), via json.dump."""
    for i in range(int(n)):
        r = write_meta(table, {"rows": 1 + (i * 7919) % 5000})
        if r != "OK":
            problem("rows change %d: %s" % (i, r))
    done()


def cmd_metaloop(table, n):
    """metaloop TABLE N: N reads of meta.json while another process changes
    it: each read is one whole valid document; nbytes = rows * itemsize; a
    column's size is always a whole number of rows."""
    for i in range(int(n)):
        with open(os.path.join(table, "meta.json"), "rb") as f:
            raw = f.read()
        try:
            m = json.loads(raw)
        except ValueError as e:
            problem("read %d: meta.json is not valid JSON (%s): %r" % (i, e, raw[:200]))
            continue
        for c in m["columns"]:
            if c["nbytes"] != m["rows"] * c["itemsize"]:
                problem("read %d: %s nbytes %d != %d * %d"
                        % (i, c["name"], c["nbytes"], m["rows"], c["itemsize"]))
            size = os.stat(os.path.join(table, c["file"])).st_size
            if size % c["itemsize"]:
                problem("read %d: %s size %d is not whole rows" % (i, c["name"], size))
    done()


def cmd_snapshot(table):
    """snapshot TABLE: an open meta.json keeps the document it was opened
    with, even when the schema changes between two read(2) calls."""
    path = os.path.join(table, "meta.json")
    fd = os.open(path, os.O_RDONLY)
    first = os.read(fd, 10)
    before = read_meta(table)
    r = write_meta(table, {"rows": before["rows"] + 1})
    if r != "OK":
        problem("rows change: " + r)
    rest = b""
    while True:
        b = os.read(fd, 3)
        if not b:
            break
        rest += b
    os.close(fd)
    try:
        m = json.loads(first + rest)
        if m["version"] != before["version"] or m["rows"] != before["rows"]:
            problem("an open meta.json changed under its reader: %r" % (m,))
    except ValueError:
        problem("read of an open meta.json across a change is not JSON: %r" % (first + rest))
    if read_meta(table)["rows"] != before["rows"] + 1:
        problem("a new open does not show the change")
    done()


def main():
    cmds = {k[4:]: v for k, v in globals().items() if k.startswith("cmd_")}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print("usage: tfs.py {%s} ARGS..." % "|".join(sorted(cmds)), file=sys.stderr)
        sys.exit(2)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
