#!/usr/bin/python3
"""A pandas DataFrame over the shared memory of a tablefs table, not a copy.

    pandas_frame.py MOUNTPOINT [--rows N] [--workers N] [--keep]

Creates a table with a float64, an int32, a datetime64[ns] and a bool column
and fills it through np.memmap.  Then builds a DataFrame whose columns are
those memmaps, pd.DataFrame(columns, copy=False), and shows that nothing was
copied, three ways:

  - np.shares_memory(df[name].to_numpy(), memmap) holds for every column,
    before and after pandas computed aggregates and a groupby;
  - another process, given nothing but the table's path, writes a value
    through its own mapping, and the DataFrame, not rebuilt, shows it;
  - a multiprocessing pool of workers each builds its own DataFrame over the
    same files (checking it is zero-copy too) and runs a groupby on a range
    of rows; only the path and two row numbers go to a worker, only the small
    result comes back.

The parent adds the workers' groupby results and checks them against its own
groupby over the whole DataFrame and against the values computed from the
formula that filled the table.  Prints "ok" at the end; exits 1 on any
mismatch.  Needs /usr/bin/python3 with numpy and pandas (Debian 12:
python3-numpy python3-pandas).
"""

import argparse
import fcntl
import json
import multiprocessing
import os
import sys

import numpy as np
import pandas as pd

SCHEMA = [
    {"name": "price", "type": "float64"},
    {"name": "qty", "type": "int32"},
    {"name": "ts", "type": "datetime64[ns]"},
    {"name": "flag", "type": "bool"},
]
START = np.datetime64("2026-11-20T09:30:00", "ns")
MARK = 1234.5  # the value another process writes into price[0]


def generate(lo, hi):
    """Rows [lo, hi) of the table.  Prices are whole quarters, so every sum
    is exact in float64 whatever order pandas adds them in."""
    i = np.arange(lo, hi, dtype=np.int64)
    return {
        "price": (i % 1000) * 0.25,
        "qty": ((i % 7) - 3).astype(np.int32),
        "ts": START + i * np.timedelta64(1, "s"),
        "flag": i % 3 == 0,
    }


def read_meta(table):
    with open(os.path.join(table, "meta.json")) as f:
        return json.load(f)


def map_columns(table, meta, mode):
    """One np.memmap per column, dtype and shape from meta.json."""
    return {c["name"]: np.memmap(os.path.join(table, c["file"]), dtype=c["dtype"],
                                 mode=mode, shape=(meta["rows"], *c["shape"]))
            for c in meta["columns"]}


def open_frame(table):
    """meta.json, the memmaps, and a DataFrame made of them.  copy=False
    matters: pandas 1.5 copies a dict of arrays by default.  Each column has
    its own dtype here; pandas keeps one block per array given and does not
    merge them (a merge would copy; np.shares_memory would tell)."""
    meta = read_meta(table)
    cols = map_columns(table, meta, "r")
    return meta, cols, pd.DataFrame(cols, copy=False)


def shared(df, cols):
    """The columns of df whose values are the memory of their memmap."""
    return [k for k in cols if np.shares_memory(df[k].to_numpy(), cols[k])]


def produce(table, rows):
    """Creates the table and fills it, under the writers' lock."""
    os.mkdir(table)
    meta_path = os.path.join(table, "meta.json")
    with open(meta_path) as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with open(meta_path, "w") as f:
            json.dump({"rows": rows, "columns": SCHEMA}, f)
        meta = read_meta(table)
        # "r+": the columns exist, each exactly rows * itemsize bytes.
        cols = map_columns(table, meta, "r+")
        for name, values in generate(0, rows).items():
            cols[name][:] = values
            cols[name].flush()
        del cols
        fcntl.flock(lock, fcntl.LOCK_UN)


def poke(table, value):
    """price[0] = value, from a process that shares nothing with the parent
    but the path."""
    meta = read_meta(table)
    price = map_columns(table, meta, "r+")["price"]
    price[0] = value
    price.flush()


def group(df):
    return df.groupby("flag").agg(rows=("qty", "size"), price=("price", "sum"),
                                  qty=("qty", "sum"), first=("ts", "min"),
                                  last=("ts", "max"))


def combine(parts):
    """Adds groupby results of disjoint row ranges."""
    both = pd.concat(parts)
    g = both.groupby(level=0)
    return pd.DataFrame({"rows": g["rows"].sum(), "price": g["price"].sum(),
                         "qty": g["qty"].sum(), "first": g["first"].min(),
                         "last": g["last"].max()})


def worker(args):
    """A groupby over rows [lo, hi) of the worker's own zero-copy frame."""
    table, lo, hi = args
    with open(os.path.join(table, "meta.json")) as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        meta, cols, df = open_frame(table)
        zero_copy = len(shared(df, cols)) == len(cols)
        part = group(df.iloc[lo:hi])
        fcntl.flock(lock, fcntl.LOCK_UN)
    if read_meta(table)["version"] != meta["version"]:
        raise RuntimeError("the table changed while a worker read it")
    return os.getpid(), zero_copy, part


def run(table, rows, nworkers):
    # spawn, not fork: children inherit nothing and find the data by path,
    # as unrelated processes would.
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=produce, args=(table, rows))
    p.start()
    p.join()
    if p.exitcode != 0:
        print("producer failed")
        return 1

    meta, cols, df = open_frame(table)
    print("table %s: %d rows, version %d" % (table, meta["rows"], meta["version"]))
    print("dtypes: " + ", ".join("%s %s" % (k, t) for k, t in df.dtypes.items()))
    failed = 0
    for k in cols:
        ok = k in shared(df, cols)
        failed += not ok
        print("%-6s zero-copy: %s" % (k, "shares memory with its memmap" if ok else "COPIED"))

    # Aggregates must not copy the frame behind our back either.
    whole = group(df)
    df.describe()
    still = shared(df, cols)
    failed += len(still) != len(cols)
    print("after describe() and groupby(): %d of %d columns still share memory"
          % (len(still), len(cols)))

    before = df.at[0, "price"]
    p = ctx.Process(target=poke, args=(table, MARK))
    p.start()
    p.join()
    after = df.at[0, "price"]
    seen = p.exitcode == 0 and after == MARK
    failed += not seen
    print("process %d wrote price[0] = %s through its own mapping; the frame, not rebuilt, "
          "shows %s -> %s: %s" % (p.pid, MARK, before, after, "seen" if seen else "NOT SEEN"))
    poke(table, before)
    failed += df.at[0, "price"] != before

    bounds = np.linspace(0, rows, nworkers + 1).astype(int)
    tasks = [(table, int(lo), int(hi)) for lo, hi in zip(bounds, bounds[1:])]
    with ctx.Pool(nworkers) as pool:
        results = pool.map(worker, tasks)
    pids = {pid for pid, _, _ in results}
    zero_copy = all(z for _, z, _ in results)
    failed += not zero_copy
    print("workers: %d tasks in %d processes, each frame zero-copy: %s"
          % (len(tasks), len(pids), "yes" if zero_copy else "NO"))
    combined = combine([part for _, _, part in results])

    expected = group(pd.DataFrame(generate(0, rows)))
    print(combined.to_string())
    for what, other in (("the parent's groupby", whole), ("the expected values", expected)):
        same = combined.equals(other.astype(combined.dtypes))
        failed += not same
        print("workers' groupby equals %s: %s" % (what, "equal" if same else "DIFFERENT"))
    del df, cols
    return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mountpoint")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--keep", action="store_true",
                    help="leave the table in place at the end")
    args = ap.parse_args()
    if args.rows < 1:
        ap.error("--rows must be at least 1")

    table = os.path.join(args.mountpoint, "frame_%d" % os.getpid())
    try:
        failed = run(table, args.rows, args.workers)
    finally:
        if not args.keep and os.path.isdir(table):
            # Columns first: rmdir refuses a table that has columns.
            for c in read_meta(table)["columns"]:
                os.unlink(os.path.join(table, c["file"]))
            os.rmdir(table)
    print("ok" if not failed else "FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
