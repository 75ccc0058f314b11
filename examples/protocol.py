#!/usr/bin/python3
"""The reader/writer protocol of tablefs, with a writer and a reader at work.

    protocol.py MOUNTPOINT [--seconds S] [--table NAME]
    protocol.py MOUNTPOINT writer|reader --table NAME --seconds S

tablefs does not synchronise values: like any shared memory, the processes
sharing a table agree on a lock.  The convention (tablefs(1), READERS AND
WRITERS):

  writers hold flock(TABLE/meta.json, LOCK_EX) while they change a table:
          its schema, its row count, or values that must be seen whole;
  readers hold flock(TABLE/meta.json, LOCK_SH) while they read, and read
          meta.json's "version" before and after: if it changed, something
          that does not take the lock changed the table, so read again.

Run with the mount alone, it creates a table and starts two processes for
S seconds (default 2).  The writer resizes the table to a new row count and
refills every column, again and again; into the column "check" it writes a
CRC-32 of the two data columns.  The reader reads the whole table again and
again and prints what it found, one JSON line per consistent read.  The
parent then checks that every consistent read is whole: all columns with the
table's row count, the data of one writer's pass only, and the stored
checksum equal to the one computed from the data read.  It prints a summary
and "ok", deletes the table, and exits 1 on any inconsistency.
Needs only /usr/bin/python3 and numpy.
"""

import argparse
import fcntl
import json
import os
import subprocess
import sys
import time
import zlib

import numpy as np

# Row r of a writer's pass g holds a = g * STRIDE + r: a reader that mixes
# two passes sees two values of g.
STRIDE = 1 << 32
SCHEMA = [
    {"name": "a", "type": "int64"},
    {"name": "b", "type": "float64"},
    {"name": "check", "type": "uint32"},
]


def read_meta(table):
    """meta.json as it is now.  It is generated when it is opened: open it
    anew after taking the lock, or what is read may predate the lock."""
    with open(os.path.join(table, "meta.json")) as f:
        return json.load(f)


def checksum(a, b):
    return zlib.crc32(b.tobytes(), zlib.crc32(a.tobytes()))


def update(table, lock, gen, rows):
    """One writer's pass: resize the table to rows and refill it, under
    LOCK_EX, so that no reader that locks sees it half done."""
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        # One document: applied whole (columns created or resized, new rows
        # zero) or refused with an error from write() or close().
        with open(os.path.join(table, "meta.json"), "w") as f:
            json.dump({"rows": rows, "columns": SCHEMA}, f)
        meta = read_meta(table)
        cols = {c["name"]: np.memmap(os.path.join(table, c["file"]), dtype=c["dtype"],
                                     mode="r+", shape=(meta["rows"], *c["shape"]))
                for c in meta["columns"]}
        cols["a"][:] = gen * STRIDE + np.arange(rows, dtype=np.int64)
        cols["b"][:] = cols["a"] * 0.5
        cols["check"][:] = checksum(cols["a"], cols["b"])
        for m in cols.values():
            m.flush()
        del cols  # unmapped before others may resize the table again
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)


def writer(table, seconds):
    rng = np.random.default_rng(os.getpid())
    end = time.monotonic() + seconds
    gen = 0
    with open(os.path.join(table, "meta.json")) as lock:
        while time.monotonic() < end:
            gen += 1
            update(table, lock, gen, int(rng.integers(1, 100_000)))
            time.sleep(0.002)  # flock is not fair: let readers in
    print(json.dumps({"writer_passes": gen}), flush=True)


def read_once(table, lock):
    """One read of the whole table under LOCK_SH.  Returns a report, or
    None when the version changed while reading (read again)."""
    fcntl.flock(lock, fcntl.LOCK_SH)
    try:
        meta = read_meta(table)
        rows = meta["rows"]
        data = {}
        for c in meta["columns"]:
            path = os.path.join(table, c["file"])
            # A size other than rows * itemsize: the table changed between
            # meta.json and here (a writer that does not lock).
            if os.path.getsize(path) != rows * c["itemsize"]:
                return None
            m = np.memmap(path, dtype=c["dtype"], mode="r", shape=(rows, *c["shape"]))
            data[c["name"]] = np.array(m)  # a private copy, then unmap
            del m
        if read_meta(table)["version"] != meta["version"]:
            return None
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
    a, b, check = data["a"], data["b"], data["check"]
    return {
        "version": meta["version"],
        "rows": rows,
        "lengths": [len(v) for v in data.values()],
        "passes": sorted({int(g) for g in np.unique(a // STRIDE)}),
        "rows_in_order": bool(np.array_equal(a % STRIDE, np.arange(rows))),
        "b_is_half_a": bool(np.array_equal(b, a * 0.5)),
        "stored_checks": sorted({int(v) for v in np.unique(check)}),
        "computed_check": checksum(a, b),
    }


def reader(table, seconds):
    end = time.monotonic() + seconds
    retries = 0
    with open(os.path.join(table, "meta.json")) as lock:
        while time.monotonic() < end:
            report = read_once(table, lock)
            if report is None:
                retries += 1
            else:
                print(json.dumps(report), flush=True)
            time.sleep(0.001)
    print(json.dumps({"reader_retries": retries}), flush=True)


def problems(r):
    """What is wrong with a consistent read, as text (empty: nothing)."""
    bad = []
    if r["lengths"] != [r["rows"]] * len(SCHEMA):
        bad.append("column lengths %s, rows %d" % (r["lengths"], r["rows"]))
    if len(r["passes"]) != 1:
        bad.append("data of writer passes %s mixed" % r["passes"])
    if not r["rows_in_order"] or not r["b_is_half_a"]:
        bad.append("values not as written")
    if r["stored_checks"] != [r["computed_check"]]:
        bad.append("checksum stored %s, computed %d"
                   % (r["stored_checks"], r["computed_check"]))
    return bad


def run(mount, table_name, seconds):
    table = os.path.join(mount, table_name)
    os.mkdir(table)
    procs = {}
    try:
        with open(os.path.join(table, "meta.json")) as lock:
            update(table, lock, 0, 1000)  # consistent from the start
        for role in ("writer", "reader"):
            procs[role] = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), mount, role,
                 "--table", table_name, "--seconds", str(seconds)],
                stdout=subprocess.PIPE, text=True)
        out = {role: p.communicate(timeout=seconds + 60)[0] for role, p in procs.items()}
        failed = [role for role, p in procs.items() if p.returncode != 0]
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
                p.wait()
        # As tablectl rm does: the columns, then the table, under LOCK_EX.
        with open(os.path.join(table, "meta.json")) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            for c in read_meta(table)["columns"]:
                os.unlink(os.path.join(table, c["file"]))
        os.rmdir(table)
    if failed:
        print("FAILED: %s exited with an error" % " and ".join(failed))
        return 1

    reports = [json.loads(line) for line in out["reader"].splitlines()]
    reads = [r for r in reports if "version" in r]
    passes = json.loads(out["writer"].splitlines()[-1])["writer_passes"]
    retries = reports[-1]["reader_retries"]
    bad = 0
    for r in reads:
        for why in problems(r):
            bad += 1
            print("inconsistent read at version %d: %s" % (r["version"], why))
    print("writer: %d passes (resize and refill)" % passes)
    print("reader: %d consistent reads of %d versions, %d retried" %
          (len(reads), len({r["version"] for r in reads}), retries))
    print("inconsistent reads: %d" % bad)
    if not reads:
        print("FAILED: the reader never completed a read")
        return 1
    print("ok" if not bad else "FAILED")
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mountpoint")
    ap.add_argument("role", nargs="?", choices=("writer", "reader"),
                    help="run one side only, on an existing table")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--table", default="example_protocol_%d" % os.getpid())
    args = ap.parse_args()
    table = os.path.join(args.mountpoint, args.table)
    if args.role == "writer":
        writer(table, args.seconds)
    elif args.role == "reader":
        reader(table, args.seconds)
    else:
        return run(args.mountpoint, args.table, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
