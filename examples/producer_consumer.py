#!/usr/bin/python3
"""One producer, several consumers, one table in tablefs.

    producer_consumer.py MOUNTPOINT [--rows N] [--workers N] [--keep]

A producer process creates a table by writing its schema to meta.json and
fills the columns through np.memmap.  Worker processes then map the columns
read-only, each summing its own range of rows; nothing but a path and two row
numbers travels between processes.  The parent adds the partial sums and
checks that they equal numpy's sums over the same data, generated again from
the same seed.

Prints one line per column and "ok" at the end; exits 1 on a mismatch.
Needs only /usr/bin/python3 and numpy.
"""

import argparse
import fcntl
import json
import multiprocessing
import os
import sys

import numpy as np

SEED = 20261121

# Prices are whole quarters: every partial sum is then exact in float64, so
# the workers' total equals numpy's whatever order the rows are added in.
SCHEMA = [
    {"name": "price", "type": "float64"},
    {"name": "qty", "type": "int32"},
    {"name": "emb", "type": "float32", "shape": [4]},
]


def generate(rows):
    """The table's data, the same on every call for the same row count."""
    rng = np.random.default_rng(SEED)
    return {
        "price": rng.integers(1, 400_000, rows) / 4.0,
        "qty": rng.integers(-1000, 1000, rows, dtype=np.int32),
        "emb": rng.integers(0, 64, (rows, 4)).astype(np.float32),
    }


def read_meta(table):
    with open(os.path.join(table, "meta.json")) as f:
        return json.load(f)


def map_column(table, meta, col, mode):
    """np.memmap of one column, with dtype and shape taken from meta.json."""
    shape = (meta["rows"], *col["shape"])
    return np.memmap(os.path.join(table, col["file"]), dtype=col["dtype"],
                     mode=mode, shape=shape)


def produce(table, rows):
    """Creates the table and fills it.  Runs in its own process."""
    os.mkdir(table)
    meta_path = os.path.join(table, "meta.json")
    # The writers' lock: held while the schema or the data change, so that a
    # reader holding LOCK_SH never sees a half-written table.
    with open(meta_path) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # One JSON document; an invalid one fails in write() or close().
        with open(meta_path, "w") as f:
            json.dump({"rows": rows, "columns": SCHEMA}, f)
        meta = read_meta(table)
        data = generate(rows)
        for col in meta["columns"]:
            # "r+": the column exists, with exactly rows * itemsize bytes.
            # "w+" would truncate it, which tablefs refuses (EPERM).
            m = map_column(table, meta, col, "r+")
            m[:] = data[col["name"]]
            m.flush()
            del m
        fcntl.flock(lock, fcntl.LOCK_UN)


def partial_sums(args):
    """Sums rows [lo, hi) of every column.  Runs in a worker process."""
    table, lo, hi = args
    while True:
        with open(os.path.join(table, "meta.json")) as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            meta = json.load(f)
            sums = {}
            for col in meta["columns"]:
                m = map_column(table, meta, col, "r")
                # Integers are summed as int64: int32 would overflow.
                acc = np.int64 if m.dtype.kind in "iu" else np.float64
                sums[col["name"]] = m[lo:hi].sum(dtype=acc)
                del m
            fcntl.flock(f, fcntl.LOCK_UN)
        # A changed version means the schema or row count changed while we
        # read: what we summed may be stale, so start again.
        if read_meta(table)["version"] == meta["version"]:
            return sums


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mountpoint")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--keep", action="store_true",
                    help="leave the table in place at the end")
    args = ap.parse_args()

    table = os.path.join(args.mountpoint, "example_%d" % os.getpid())
    # spawn, not fork: the workers inherit nothing, they find the data by
    # its path alone, as unrelated processes would.
    ctx = multiprocessing.get_context("spawn")

    producer = ctx.Process(target=produce, args=(table, args.rows))
    producer.start()
    producer.join()
    if producer.exitcode != 0:
        print("producer failed", file=sys.stderr)
        return 1

    meta = read_meta(table)
    print("table %s: %d rows, %d columns, version %d"
          % (table, meta["rows"], len(meta["columns"]), meta["version"]))

    bounds = np.linspace(0, meta["rows"], args.workers + 1).astype(int)
    tasks = [(table, int(lo), int(hi)) for lo, hi in zip(bounds, bounds[1:])]
    with ctx.Pool(args.workers) as pool:
        parts = pool.map(partial_sums, tasks)

    expected = generate(args.rows)
    failed = 0
    for col in meta["columns"]:
        name = col["name"]
        got = sum(p[name] for p in parts)
        want = expected[name].sum(dtype=type(got))
        same = got == want
        failed += not same
        print("%-6s %-8s sum over %d workers %s, numpy %s: %s"
              % (name, col["dtype"], args.workers, got, want,
                 "equal" if same else "DIFFERENT"))

    if not args.keep:
        # Columns first, then the table: rmdir refuses a table with columns.
        for col in meta["columns"]:
            os.unlink(os.path.join(table, col["file"]))
        os.rmdir(table)

    print("ok" if not failed else "FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
