#!/usr/bin/python3
"""Measurements of the tablefs benchmark.

Run it through bench/run, which checks the machine, mounts two tablefs
daemons (passthrough and --no-passthrough), unmounts them whatever happens
and draws the chart.  This file measures; `tfbench.py child ...` is the fresh
process that several measurements need (a scan, a write or an attach that
must start with nothing mapped).  What each figure means: bench/README.md.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

import numpy as np

PY = "/usr/bin/python3"
HERE = os.path.abspath(__file__)
GIB = float(1 << 30)
MIB = float(1 << 20)
DTYPE = "<f8"
ITEM = 8


def now():
    return time.perf_counter()


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def parse_size(s):
    s = s.strip().upper().rstrip("B").rstrip("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    if s and s[-1] in mult:
        return int(float(s[:-1]) * mult[s[-1]])
    return int(s)


def fmt_size(n):
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= div * 0.999:  # 10 columns of 1 MiB / 80 bytes rows: "1 MiB"
            v = n / div
            return ("%.0f %s" % (v, unit)) if abs(v - round(v)) < 0.01 else ("%.1f %s" % (v, unit))
    return "%d B" % n


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Fresh-process children.  Each prints one JSON object on stdout.


def read_schema(d):
    with open(os.path.join(d, "meta.json")) as f:
        m = json.load(f)
    return m, [(os.path.join(d, c["file"]), c["dtype"]) for c in m["columns"]]


def child_scan(d):
    """Cold scan (first touch in this process), warm scan (the same
    expression again: new mappings of pages that are now resident) and hot
    scan (the mappings of a previous pass, so no page faults at all)."""
    _, files = read_schema(d)

    def scan():
        return [float(np.memmap(f, dtype=dt, mode="r").sum()) for f, dt in files]

    t0 = now()
    s_cold = scan()
    t1 = now()
    s_warm = scan()
    t2 = now()
    maps = [np.memmap(f, dtype=dt, mode="r") for f, dt in files]
    for a in maps:
        a.sum()
    t3 = now()
    s_hot = [float(a.sum()) for a in maps]
    t4 = now()
    nbytes = sum(a.nbytes for a in maps)
    print(json.dumps({"cold_s": t1 - t0, "warm_s": t2 - t1, "hot_s": t4 - t3,
                      "bytes": nbytes, "sums": s_cold,
                      "consistent": s_cold == s_warm == s_hot}))


def child_noop(d):
    """Loads what every child loads, so that after drop_caches the page
    cache holds the interpreter and numpy again before memory is read."""
    print(json.dumps({"numpy": np.__version__}))


def child_prefault(d):
    """Touches N bytes of anonymous memory once: in a VM the first touch of
    guest RAM is slow, and must not be charged to whichever store is first."""
    a = np.ones(int(d) // 8)
    print(json.dumps({"bytes": a.nbytes}))


def child_write(d):
    """Fills every column with its own value (column j: j + 1) through a
    MAP_SHARED mapping and flushes it (msync), one column after another."""
    _, files = read_schema(d)
    t0 = now()
    nbytes = 0
    for j, (f, dt) in enumerate(files):
        a = np.memmap(f, dtype=dt, mode="r+")
        a.fill(j + 1)
        a.flush()
        nbytes += a.nbytes
        del a
    t1 = now()
    print(json.dumps({"s": t1 - t0, "bytes": nbytes}))


def child_attach(d):
    """The attach code a client runs, timed after interpreter start."""
    t0 = now()
    with open(os.path.join(d, "meta.json")) as f:
        m = json.load(f)
    cols = {c["name"]: np.memmap(os.path.join(d, c["file"]), dtype=c["dtype"], mode="r",
                                 shape=(m["rows"], *c["shape"]))
            for c in m["columns"]}
    t1 = now()
    assert len(cols) == len(m["columns"])
    print(json.dumps({"s": t1 - t0, "columns": len(cols), "rows": m["rows"]}))


# Hand-off tasks: module level so that Pool can name them.  Each returns the
# sum of rows [lo, hi) of every column.

def task_tablefs(arg):
    d, lo, hi = arg
    m, files = read_schema(d)
    s = 0.0
    for f, dt in files:
        s += float(np.memmap(f, dtype=dt, mode="r")[lo:hi].sum())
    return s


def task_memmap(arg):
    files, dt, lo, hi = arg
    s = 0.0
    for f in files:
        s += float(np.memmap(f, dtype=dt, mode="r")[lo:hi].sum())
    return s


def task_pickle(arg):
    df, lo, hi = arg
    s = 0.0
    for name in df.columns:
        s += float(df[name].to_numpy()[lo:hi].sum())
    return s


def task_shm(arg):
    from multiprocessing import shared_memory
    name, ncols, rows, lo, hi = arg
    # Python < 3.13 registers an attached segment as if this process owned
    # it.  Harmless here: the workers share the parent's tracker (started
    # before the Pool), whose registry is a set, so this repeats the
    # parent's registration and the parent's unlink clears it.
    shm = shared_memory.SharedMemory(name=name)
    s = 0.0
    for j in range(ncols):
        a = np.ndarray((rows,), dtype=DTYPE, buffer=shm.buf, offset=j * rows * ITEM)
        s += float(a[lo:hi].sum())
        del a
    shm.close()
    return s


def task_noop(arg):
    return 0.0


def child_handoff(args):
    """Hand-off of one table to a Pool of workers created beforehand, by
    four methods; times pool.map from dispatch to the last result."""
    import multiprocessing as mp
    from multiprocessing import resource_tracker, shared_memory

    import pandas as pd

    # The tracker and the Pool exist before any data does: forked workers
    # inherit nothing of the table, and attach to the parent's tracker.
    resource_tracker.ensure_running()
    ctx = mp.get_context("fork")
    pool = ctx.Pool(args.workers)
    shm = None
    out = {}
    try:
        pool.map(task_noop, range(args.workers * 4), chunksize=1)
        m, files = read_schema(args.pt)
        rows, ncols = m["rows"], len(m["columns"])
        paths = [f for f, _ in files]
        # The DataFrame and the segment are filled beforehand (untimed).
        df = pd.DataFrame({c["name"]: np.array(np.memmap(f, dtype=dt, mode="r"))
                           for c, (f, dt) in zip(m["columns"], files)})
        shm = shared_memory.SharedMemory(name=args.shm_name, create=True,
                                         size=rows * ncols * ITEM)
        for j, name in enumerate(df.columns):
            dst = np.ndarray((rows,), dtype=DTYPE, buffer=shm.buf, offset=j * rows * ITEM)
            dst[:] = df[name].to_numpy()
            del dst
        _, shm_files = read_schema(args.shmdir)
        shm_paths = [f for f, _ in shm_files]
        expect = float(sum(df[c].to_numpy().sum() for c in df.columns))
        w = args.workers

        def ranges(split):
            if split == "full":
                return [(0, rows)] * w
            return [(rows * i // w, rows * (i + 1) // w) for i in range(w)]

        methods = [
            ("tablefs passthrough", task_tablefs, lambda lo, hi: (args.pt, lo, hi)),
            ("tablefs page cache", task_tablefs, lambda lo, hi: (args.pc, lo, hi)),
            ("np.memmap /dev/shm", task_memmap, lambda lo, hi: (shm_paths, DTYPE, lo, hi)),
            ("shared_memory", task_shm, lambda lo, hi: (args.shm_name, ncols, rows, lo, hi)),
            ("pickle DataFrame", task_pickle, lambda lo, hi: (df, lo, hi)),
        ]
        for split in ("range", "full"):
            res = {}
            want = expect if split == "range" else expect * w
            for label, fn, mk in methods:
                reps = args.pickle_repeats if fn is task_pickle else args.repeats
                tasks = [mk(lo, hi) for lo, hi in ranges(split)]
                times = []
                for r in range(reps + 1):  # the first is a warm-up
                    t0 = now()
                    got = pool.map(fn, tasks, chunksize=1)
                    t1 = now()
                    if abs(sum(got) - want) > 1e-6 * abs(want):
                        raise SystemExit("hand-off %s/%s: sum %r, expected %r"
                                         % (label, split, sum(got), want))
                    if r:
                        times.append(t1 - t0)
                res[label] = {"median_s": median(times), "times_s": times}
                log("  hand-off %-5s %-20s %8.4f s" % (split, label, median(times)))
            out[split] = res
        out["bytes"] = rows * ncols * ITEM
        out["rows"] = rows
        out["columns"] = ncols
        out["workers"] = w
    finally:
        pool.terminate()
        pool.join()
        if shm is not None:
            shm.close()
            shm.unlink()
    print(json.dumps(out))


# --------------------------------------------------------------------------
# The orchestrator.


def run_child(*argv):
    p = subprocess.run([PY, HERE, "child", *argv], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit("child %s failed (%d):\n%s" % (argv[0], p.returncode, p.stderr))
    return json.loads(p.stdout.strip().splitlines()[-1])


def meminfo():
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            out[k] = int(v.split()[0]) * 1024
    return out


def drop_caches():
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("3\n")


def served_io(st):
    """The daemon's count of READ/WRITE requests it served (None off tablefs
    or if the daemon does not report them)."""
    if not st.tablefs:
        return None
    return read_status(st.root).get("served_io")


def read_status(mnt):
    with open(os.path.join(mnt, ".status")) as f:
        return json.load(f)


class Store:
    """Where a table lives: a tablefs mount, or a plain directory in /dev/shm
    holding one file per column and a meta.json written by the benchmark."""

    def __init__(self, key, label, root, tablefs):
        self.key, self.label, self.root, self.tablefs = key, label, root, tablefs

    def create(self, name, rows, ncols):
        d = os.path.join(self.root, name)
        os.mkdir(d)
        cols = [{"name": "c%d" % j, "type": "float64"} for j in range(ncols)]
        if self.tablefs:
            with open(os.path.join(d, "meta.json"), "w") as f:
                f.write(json.dumps({"rows": rows, "columns": cols}))
        else:
            for c in cols:
                with open(os.path.join(d, c["name"]), "wb") as f:
                    f.truncate(rows * ITEM)
            doc = {"rows": rows, "columns": [
                {"name": c["name"], "type": "float64", "dtype": DTYPE, "shape": [],
                 "itemsize": ITEM, "nbytes": rows * ITEM, "file": c["name"]} for c in cols]}
            with open(os.path.join(d, "meta.json"), "w") as f:
                json.dump(doc, f)
        return d

    def delete(self, d):
        if not os.path.isdir(d):
            return
        if self.tablefs:
            # Columns first: meta.json can only go once the table is empty.
            for e in os.listdir(d):
                if e != "meta.json":
                    os.unlink(os.path.join(d, e))
            os.unlink(os.path.join(d, "meta.json"))
            os.rmdir(d)
        else:
            shutil.rmtree(d)


def phase_store(st, args, rows, ncols, res):
    """Write, cold/warm scan, memory and attach for one store."""
    r = res.setdefault("stores", {}).setdefault(st.key, {"label": st.label})
    log("%s: %d x %s columns (%s)" % (st.label, ncols, fmt_size(rows * ITEM),
                                      fmt_size(rows * ITEM * ncols)))
    # Baseline in the state the last scan leaves: caches dropped, then the
    # interpreter and numpy read back in by one fresh process.
    drop_caches()
    run_child("noop", "-")
    mi0 = meminfo()
    d = st.create("scan", rows, ncols)
    io0 = served_io(st)
    try:
        writes = [run_child("write", d) for _ in range(args.write_repeats)]
        r["write_first_gibs"] = writes[0]["bytes"] / GIB / writes[0]["s"]
        over = [w["bytes"] / GIB / w["s"] for w in writes[1:]]
        r["write_over_gibs"] = median(over)
        r["write_over_all_gibs"] = over
        log("  write: first touch %.2f GiB/s, overwrite %.2f GiB/s"
            % (r["write_first_gibs"], r["write_over_gibs"]))
        io1 = served_io(st)
        expect = [float(rows * (j + 1)) for j in range(ncols)]
        scans, dropped = [], []
        for _ in range(args.scan_repeats):
            a = meminfo()
            drop_caches()
            b = meminfo()
            dropped.append((a["Cached"] - a["Shmem"]) - (b["Cached"] - b["Shmem"]))
            s = run_child("scan", d)
            if s["sums"] != expect or not s["consistent"]:
                raise SystemExit("%s: scan sums %r, expected %r" % (st.label, s["sums"], expect))
            scans.append(s)
        nb = scans[0]["bytes"]
        for k in ("cold", "warm", "hot"):
            v = [nb / GIB / s[k + "_s"] for s in scans]
            r["scan_%s_gibs" % k] = median(v)
            r["scan_%s_all_gibs" % k] = v
        r["drop_caches_freed_bytes"] = dropped
        log("  scan: cold %.2f, warm %.2f, hot %.2f GiB/s" % (
            r["scan_cold_gibs"], r["scan_warm_gibs"], r["scan_hot_gibs"]))
        mi1 = meminfo()
        io2 = served_io(st)
        if io0 is not None:
            # Requests the daemon served itself (zero in passthrough mode):
            # their mean size shows the kernel's readahead and writeback.
            r["served_io_writes"] = {k: io1.get(k, 0) - io0.get(k, 0) for k in io1}
            r["served_io_scans"] = {k: io2.get(k, 0) - io1.get(k, 0) for k in io2}
            for k in ("served_io_writes", "served_io_scans"):
                v = r[k]
                log("  %s: %d reads (mean %.0f KiB), %d writes (mean %.0f KiB)" % (
                    k[10:], v.get("reads", 0), v.get("read_bytes", 0) / 1024 / max(1, v.get("reads", 0)),
                    v.get("writes", 0), v.get("write_bytes", 0) / 1024 / max(1, v.get("writes", 0))))
        d_shmem = mi1["Shmem"] - mi0["Shmem"]
        d_cache = (mi1["Cached"] - mi1["Shmem"]) - (mi0["Cached"] - mi0["Shmem"])
        r["memory"] = {"table_bytes": nb, "delta_shmem": d_shmem,
                       "delta_nonshmem_cached": d_cache,
                       "ratio": (d_shmem + d_cache) / nb}
        if st.tablefs:
            r["memory"]["status_used"] = read_status(st.root)["memory"]["used"]
        log("  memory: %.3f bytes of RAM per table byte (shmem %+.0f MiB, other cache %+.0f MiB)"
            % (r["memory"]["ratio"], d_shmem / MIB, d_cache / MIB))

        small_rows = max(1, args.attach_small // (ITEM * ncols))
        ds = st.create("attach_small", small_rows, ncols)
        try:
            run_child("write", ds)
            t_small, t_big = [], []
            for _ in range(args.attach_repeats):
                t_small.append(run_child("attach", ds)["s"])
                t_big.append(run_child("attach", d)["s"])
        finally:
            st.delete(ds)
        r["attach_small_ms"] = median(t_small) * 1e3
        r["attach_big_ms"] = median(t_big) * 1e3
        r["attach_small_all_ms"] = [t * 1e3 for t in t_small]
        r["attach_big_all_ms"] = [t * 1e3 for t in t_big]
        r["attach_small_bytes"] = small_rows * ITEM * ncols
        r["attach_big_bytes"] = nb
        log("  attach: %s %.3f ms, %s %.3f ms (median of %d)" % (
            fmt_size(small_rows * ITEM * ncols), r["attach_small_ms"], fmt_size(nb),
            r["attach_big_ms"], args.attach_repeats))
    finally:
        st.delete(d)


def time_cmd(argv, repeats, warmups=2):
    env = dict(os.environ, LC_ALL="C")
    ts = []
    for i in range(warmups + repeats):
        t0 = now()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
        t1 = now()
        if i >= warmups:
            ts.append(t1 - t0)
    return ts


def phase_metadata(st, args, res):
    r = res["stores"][st.key]
    d = os.path.join(st.root, "wide")
    ncols = args.wide_columns
    if st.tablefs:
        os.mkdir(d)
        t0 = now()
        with open(os.path.join(d, "meta.json"), "w") as f:
            f.write(json.dumps({"rows": 1000, "columns": [
                {"name": "c%04d" % j, "type": "float64"} for j in range(ncols)]}))
        r["wide_create_ms"] = (now() - t0) * 1e3
    else:
        t0 = now()
        st.create("wide", 1000, ncols)
        r["wide_create_ms"] = (now() - t0) * 1e3
    try:
        if len(os.listdir(d)) != ncols + 1:
            raise SystemExit("%s: wide table lists %d entries" % (st.label, len(os.listdir(d))))
        ts = time_cmd(["ls", "-l", d], args.ls_repeats)
        r["ls_ms"] = median(ts) * 1e3
        r["ls_all_ms"] = [t * 1e3 for t in ts]
    finally:
        if st.tablefs:
            st.delete(d)
        else:
            shutil.rmtree(d)
    base = os.path.join(st.root, "many") if not st.tablefs else st.root
    if not st.tablefs:
        os.mkdir(base)
    names = [os.path.join(base, "t%05d" % i) for i in range(args.tables)]
    try:
        marks = []
        t0 = now()
        for i, n in enumerate(names):
            os.mkdir(n)
            if i % 1000 == 999:
                marks.append(now())
        t1 = now()
        for n in names:
            os.rmdir(n)
        t2 = now()
    finally:
        for n in names:
            if os.path.isdir(n):
                os.rmdir(n)
        if not st.tablefs:
            os.rmdir(base)
    r["mkdir_ops"] = args.tables / (t1 - t0)
    # Per 1,000 tables: a rate that falls as the count grows means O(n).
    r["mkdir_ops_per_1000"] = [1000 / (b - a) for a, b in zip([t0] + marks, marks)]
    r["rmdir_ops"] = args.tables / (t2 - t1)
    log("%s: ls -l of %d columns %.1f ms; mkdir %.0f/s, rmdir %.0f/s" % (
        st.label, ncols, r["ls_ms"], r["mkdir_ops"], r["rmdir_ops"]))


def phase_handoff(stores, args, ncols, res):
    rows = args.handoff_size // (ITEM * ncols)
    log("hand-off: %s table to %d workers" % (fmt_size(rows * ITEM * ncols), args.workers))
    made = []
    try:
        for st in stores:
            d = st.create("handoff", rows, ncols)
            made.append((st, d))
            run_child("write", d)
        pt, pc, sh = (d for _, d in made)
        argv = ["handoff", "--pt", pt, "--pc", pc, "--shmdir", sh,
                "--workers", str(args.workers), "--repeats", str(args.handoff_repeats),
                "--pickle-repeats", str(args.pickle_repeats), "--shm-name", args.shm_name]
        p = subprocess.run([PY, HERE, "child", *argv], stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise SystemExit("hand-off child failed (%d)" % p.returncode)
        res["handoff"] = json.loads(p.stdout.strip().splitlines()[-1])
    finally:
        for st, d in made:
            st.delete(d)


def ratio(a, b):
    try:
        return a / b
    except (TypeError, ZeroDivisionError):
        return float("nan")


def report(res, args):
    S = res["stores"]
    pt, pc, sh = S["pt"], S["pc"], S["shm"]
    lines = []
    p = lines.append
    p("")
    p("tablefs benchmark  %s  (%s, %s, %d CPUs, kernel %s)" % (
        res["env"]["date"], res["env"]["tablefs_version"], res["env"]["git"],
        res["env"]["cpus"], res["env"]["kernel"]))
    p("table: %d float64 columns x %d rows = %s; single-threaded scans; medians"
      % (res["columns"], res["rows"], fmt_size(res["table_bytes"])))
    p("")
    hdr = "%-34s %12s %12s %12s %8s %8s" % ("measurement", "passthrough", "page cache",
                                            "/dev/shm", "pt/shm", "pc/shm")
    p(hdr)
    p("-" * len(hdr))

    def row(label, key, fmt="%12.2f"):
        a, b, c = pt.get(key), pc.get(key), sh.get(key)
        p("%-34s %s %s %s %8.2f %8.2f" % (label, fmt % a, fmt % b, fmt % c,
                                          ratio(a, c), ratio(b, c)))

    row("1. scan cold (GiB/s)", "scan_cold_gibs")
    row("1. scan warm (GiB/s)", "scan_warm_gibs")
    row("1. scan hot, same mapping (GiB/s)", "scan_hot_gibs")
    row("2. write first touch (GiB/s)", "write_first_gibs")
    row("2. write overwrite (GiB/s)", "write_over_gibs")
    row("3. attach %s (ms)" % fmt_size(pt["attach_small_bytes"]), "attach_small_ms", "%12.3f")
    row("3. attach %s (ms)" % fmt_size(pt["attach_big_bytes"]), "attach_big_ms", "%12.3f")
    row("5. ls -l, %d columns (ms)" % args.wide_columns, "ls_ms", "%12.1f")
    row("5. mkdir (tables/s)", "mkdir_ops", "%12.0f")
    row("5. rmdir (tables/s)", "rmdir_ops", "%12.0f")
    p("%-34s %12.3f %12.3f %12.3f %8.2f %8.2f" % (
        "6. RAM per table byte", pt["memory"]["ratio"], pc["memory"]["ratio"],
        sh["memory"]["ratio"], ratio(pt["memory"]["ratio"], sh["memory"]["ratio"]),
        ratio(pc["memory"]["ratio"], sh["memory"]["ratio"])))
    v, w = pc.get("served_io_scans"), pc.get("served_io_writes")
    if v and w:
        p("page cache: the daemon served %d READs of %.0f KiB on average for %d cold scans,"
          % (v["reads"], v["read_bytes"] / 1024 / max(1, v["reads"]), len(pc["scan_cold_all_gibs"])))
        p("  and %d READs + %d WRITEs of %.0f KiB on average for %d writes of the table."
          % (w["reads"], w["writes"], w["write_bytes"] / 1024 / max(1, w["writes"]),
             len(pc["write_over_all_gibs"]) + 1))
    p("")
    h = res["handoff"]
    p("4. hand-off of a %s table to %d workers (Pool created beforehand; time of pool.map)"
      % (fmt_size(h["bytes"]), h["workers"]))
    hdr = "%-22s %14s %9s %9s %14s %9s" % ("method", "row range (s)", "x memmap",
                                           "pickle/x", "whole (s)", "x memmap")
    p(hdr)
    p("-" * len(hdr))
    base_r = h["range"]["np.memmap /dev/shm"]["median_s"]
    base_f = h["full"]["np.memmap /dev/shm"]["median_s"]
    pick_r = h["range"]["pickle DataFrame"]["median_s"]
    for m in h["range"]:
        a, b = h["range"][m]["median_s"], h["full"][m]["median_s"]
        p("%-22s %14.4f %9.2f %9.1f %14.4f %9.2f" % (m, a, ratio(a, base_r), ratio(pick_r, a),
                                                     b, ratio(b, base_f)))
    p("  row range: worker i sums rows [i*n/8, (i+1)*n/8) of every column (one table's work"
      " in all);")
    p("  whole: every worker sums every column entirely (8 tables' work); same for all methods.")
    p("")
    p("targets")
    hdr = "%-54s %16s  %s" % ("target", "measured", "result")
    p(hdr)
    p("-" * len(hdr))
    for t in res["targets"]:
        p("%-54s %16s  %s" % (t["target"], t["measured"], "met" if t["met"] else "MISSED"))
    return "\n".join(lines)


def targets(res):
    S = res["stores"]
    h = res["handoff"]
    T = []

    def t(name, value, met):
        T.append({"target": name, "measured": value, "met": bool(met)})

    for key, lab in (("pt", "passthrough"), ("pc", "page cache")):
        s = S[key]
        t("attach %s <= 1 ms median [%s]" % (fmt_size(s["attach_small_bytes"]), lab),
          "%.3f ms" % s["attach_small_ms"], s["attach_small_ms"] <= 1.0)
        t("attach %s <= 1 ms, <= 1.2x %s [%s]" % (fmt_size(s["attach_big_bytes"]),
                                                  fmt_size(s["attach_small_bytes"]), lab),
          "%.3f ms %.2fx" % (s["attach_big_ms"], s["attach_big_ms"] / s["attach_small_ms"]),
          s["attach_big_ms"] <= 1.0 and s["attach_big_ms"] <= 1.2 * s["attach_small_ms"])
    base = h["range"]["np.memmap /dev/shm"]["median_s"]
    pick = h["range"]["pickle DataFrame"]["median_s"]
    for lab in ("passthrough", "page cache"):
        v = h["range"]["tablefs " + lab]["median_s"]
        t("hand-off <= 1.1x np.memmap on /dev/shm [%s]" % lab, "%.2fx" % (v / base),
          v <= 1.1 * base)
        t("hand-off >= 50x faster than pickle [%s]" % lab, "%.1fx" % (pick / v), pick / v >= 50)
    for key, lab in (("pt", "passthrough"), ("pc", "page cache")):
        t("ls -l of %d columns < 50 ms [%s]" % (res["wide_columns"], lab),
          "%.1f ms" % S[key]["ls_ms"], S[key]["ls_ms"] < 50)
    t("RAM per table byte <= 1.05 [passthrough]", "%.3f" % S["pt"]["memory"]["ratio"],
      S["pt"]["memory"]["ratio"] <= 1.05)
    t("cold scan >= 3 GiB/s [page cache]", "%.2f GiB/s" % S["pc"]["scan_cold_gibs"],
      S["pc"]["scan_cold_gibs"] >= 3.0)
    res["targets"] = T


def write_plot_data(res, out):
    S = res["stores"]
    order = (("pt", "passthrough"), ("pc", "page cache"), ("shm", "/dev/shm"))
    with open(os.path.join(out, "throughput.dat"), "w") as f:
        f.write("# store scan_cold scan_warm write_first write_overwrite (GiB/s)\n")
        for k, lab in order:
            s = S[k]
            f.write('"%s" %.4f %.4f %.4f %.4f\n' % (lab, s["scan_cold_gibs"], s["scan_warm_gibs"],
                                                    s["write_first_gibs"], s["write_over_gibs"]))
    with open(os.path.join(out, "attach.dat"), "w") as f:
        f.write("# store attach_small_ms attach_big_ms\n")
        for k, lab in order:
            f.write('"%s" %.4f %.4f\n' % (lab, S[k]["attach_small_ms"], S[k]["attach_big_ms"]))
    with open(os.path.join(out, "memory.dat"), "w") as f:
        f.write("# store ram_per_table_byte\n")
        for k, lab in order:
            f.write('"%s" %.4f\n' % (lab, S[k]["memory"]["ratio"]))
    with open(os.path.join(out, "handoff.dat"), "w") as f:
        f.write("# method row_range_s whole_s\n")
        for m in res["handoff"]["range"]:
            lab = {"tablefs passthrough": "tablefs\\npassthrough",
                   "tablefs page cache": "tablefs\\npage cache",
                   "np.memmap /dev/shm": "np.memmap\\n/dev/shm",
                   "shared_memory": "shared\\nmemory",
                   "pickle DataFrame": "pickle\\nDataFrame"}.get(m, m)
            f.write('"%s" %.5f %.5f\n' % (lab,
                                          res["handoff"]["range"][m]["median_s"],
                                          res["handoff"]["full"][m]["median_s"]))


    h = res["handoff"]
    with open(os.path.join(out, "labels.gp"), "w") as f:
        f.write('table = "%s"\nsmall = "%s"\nhandoff = "%s"\nworkers = %d\nwhen = "%s"\n' % (
            fmt_size(res["table_bytes"]), fmt_size(S["pt"]["attach_small_bytes"]),
            fmt_size(h["bytes"]), h["workers"], res["env"]["date"]))


def environment(args):
    def sh(argv):
        try:
            return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True).stdout.strip()
        except OSError:
            return ""
    import pandas as pd
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    top = os.path.dirname(os.path.dirname(HERE))
    git = sh(["git", "-C", top, "describe", "--always", "--dirty"]) or "unknown"
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "kernel": platform.release(),
            "cpu": cpu, "cpus": os.cpu_count(), "ram_bytes": meminfo()["MemTotal"],
            "python": platform.python_version(), "numpy": np.__version__,
            "pandas": pd.__version__, "git": git,
            "tablefs_version": sh([args.tablefs, "--version"]).splitlines()[0]
            if args.tablefs else ""}


def main_run(args):
    def on_signal(signum, frame):
        raise SystemExit("interrupted by signal %d" % signum)
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(s, on_signal)

    if args.quick:
        args.size = args.size or "64M"
        args.handoff_size = args.handoff_size or "32M"
        args.tables = args.tables or 1000
        args.scan_repeats = args.scan_repeats or 2
        args.write_repeats = args.write_repeats or 2
        args.attach_repeats = args.attach_repeats or 5
        args.handoff_repeats = args.handoff_repeats or 3
        args.pickle_repeats = args.pickle_repeats or 1
        args.ls_repeats = args.ls_repeats or 3
    args.size = parse_size(args.size or "1G")
    args.handoff_size = min(parse_size(args.handoff_size or "256M"), args.size)
    args.attach_small = parse_size(args.attach_small)
    args.tables = args.tables or 10000
    args.scan_repeats = args.scan_repeats or 3
    args.write_repeats = max(2, args.write_repeats or 4)
    args.attach_repeats = args.attach_repeats or 20
    args.handoff_repeats = args.handoff_repeats or 5
    args.pickle_repeats = args.pickle_repeats or 3
    args.ls_repeats = args.ls_repeats or 7
    ncols = args.columns
    if ncols < 1 or args.workers < 1 or args.size < ncols * ITEM:
        raise SystemExit("need --columns >= 1, --workers >= 1 and --size >= 8 bytes per column")
    # Page-cache mode holds a table twice (the daemon's memfd and the
    # kernel's cache of the FUSE file): the peak is 2 x --size.
    if 2 * args.size > meminfo()["MemAvailable"] * 0.8:
        raise SystemExit("--size %s needs 2 x that in free RAM" % fmt_size(args.size))
    rows = args.size // (ITEM * ncols)
    os.makedirs(args.out, exist_ok=True)

    stores = [Store("pt", "passthrough", args.pt, True),
              Store("pc", "page cache", args.pc, True),
              Store("shm", "/dev/shm", args.shmdir, False)]
    res = {"env": environment(args), "rows": rows, "columns": ncols,
           "table_bytes": rows * ncols * ITEM, "wide_columns": args.wide_columns,
           "tables": args.tables, "quick": bool(args.quick),
           "settings": {k: v for k, v in vars(args).items() if isinstance(v, (int, str, bool))}}
    for st in stores[:2]:
        status = read_status(st.root)
        want = "passthrough" if st.key == "pt" else "page cache"
        res.setdefault("data_path", {})[st.key] = status["data_path"]
        if status["data_path"] != want:
            log("warning: mount %s serves columns through %r, not %r (%s)" % (
                st.root, status["data_path"], want, status.get("data_path_reason")))
    res["status_before"] = {st.key: read_status(st.root)["memory"] for st in stores[:2]}
    run_child("prefault", str(2 * args.size + args.handoff_size))
    # The /dev/shm reference first, then each mount, so that at most one
    # full-size table (two copies of it in page-cache mode) exists at a time.
    for st in (stores[2], stores[0], stores[1]):
        phase_store(st, args, rows, ncols, res)
    for st in stores:
        phase_metadata(st, args, res)
    phase_handoff(stores, args, ncols, res)
    res["status_after"] = {st.key: read_status(st.root) for st in stores[:2]}
    for st in stores[:2]:
        left = res["status_after"][st.key]
        if left["tables"] or left["memory"]["used"]:
            log("warning: %s still reports tables %r, %d bytes used" % (
                st.label, [x["name"] for x in left["tables"]], left["memory"]["used"]))
        if left.get("internal_errors"):
            log("warning: %s reports %d internal errors" % (st.label, left["internal_errors"]))
    targets(res)
    write_plot_data(res, args.out)
    text = report(res, args)
    res["report"] = text
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(args.out, "results.txt"), "w") as f:
        f.write(text + "\n")
    print(text, flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--pt", required=True, help="passthrough mount")
    r.add_argument("--pc", required=True, help="--no-passthrough mount")
    r.add_argument("--shmdir", required=True, help="empty directory in /dev/shm")
    r.add_argument("--shm-name", required=True, help="name of the shared_memory segment")
    r.add_argument("--out", required=True)
    r.add_argument("--tablefs", default="")
    r.add_argument("--quick", action="store_true")
    r.add_argument("--size")
    r.add_argument("--columns", type=int, default=10)
    r.add_argument("--workers", type=int, default=8)
    r.add_argument("--handoff-size")
    r.add_argument("--attach-small", default="1M")
    r.add_argument("--wide-columns", type=int, default=1000)
    r.add_argument("--tables", type=int)
    for k in ("scan", "write", "attach", "handoff", "pickle", "ls"):
        r.add_argument("--%s-repeats" % k, type=int)
    c = sub.add_parser("child")
    c.add_argument("what", choices=["scan", "write", "attach", "handoff", "noop", "prefault"])
    c.add_argument("dir", nargs="?")
    c.add_argument("--pt")
    c.add_argument("--pc")
    c.add_argument("--shmdir")
    c.add_argument("--workers", type=int)
    c.add_argument("--repeats", type=int)
    c.add_argument("--pickle-repeats", type=int)
    c.add_argument("--shm-name")
    args = ap.parse_args()
    if args.cmd == "run":
        main_run(args)
    elif args.what == "handoff":
        def on_signal(signum, frame):
            raise SystemExit(1)
        signal.signal(signal.SIGTERM, on_signal)
        child_handoff(args)
    else:
        {"scan": child_scan, "write": child_write, "attach": child_attach,
         "noop": child_noop, "prefault": child_prefault}[args.what](args.dir)


if __name__ == "__main__":
    main()
