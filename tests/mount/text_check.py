"""Text, binary, category and nullable columns read from a live mount by
real readers: numpy (np.memmap of the raw files), pyarrow (table.arrow, and
arrays built without a copy over the raw files) and pandas (a DataFrame in
and out).  Used by tests/mount/text.sh and tests/mount/corrupt.sh:

    python3 text_check.py SUBCOMMAND MOUNT [ARGS]

Each subcommand prints a FAIL line per failed check and "N passed, M failed"
last, and exits 1 if any check failed.  pyarrow is required: the project's
install script (scripts/install-deps) provides it, so a missing pyarrow is a
failure, not a skip.
"""
import errno
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa

PASSED = 0
FAILED = 0


def check(ok, what):
    global PASSED, FAILED
    if ok:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s" % what, flush=True)
    return ok


def done():
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(1 if FAILED else 0)


# ---- the raw files, as a numpy user reads and writes them ----------------

def mm(path, dtype, count, mode="r"):
    """np.memmap of COUNT elements; numpy cannot map an empty file."""
    if count == 0:
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode=mode, shape=(count,))


def meta(tdir):
    with open(tdir + "/meta.json") as f:
        return json.load(f)


def column(m, name):
    return next(c for c in m["columns"] if c["name"] == name)


def files(c):
    """role -> file entry of a column (SPEC: "files" lists every file of a
    new-kind or nullable column; an old-kind column is its one file)."""
    if "files" not in c:
        count = c["nbytes"] // np.dtype(c["dtype"]).itemsize
        return {"values": {"role": "values", "file": c["file"], "dtype": c["dtype"], "count": count,
                           "nbytes": c["nbytes"]}}
    return {f["role"]: f for f in c["files"]}


def raw_file(tdir, c, role, mode="r"):
    f = files(c)[role]
    return mm(tdir + "/" + f["file"], f["dtype"], f["count"], mode)


def text_values(offsets, data, binary):
    vals = []
    for i in range(len(offsets) - 1):
        b = bytes(data[offsets[i]:offsets[i + 1]])
        vals.append(b if binary else b.decode("utf-8"))
    return vals


def read_raw(tdir, name):
    """The values of a column as Python objects (None = missing), read from
    its raw files with np.memmap and meta.json alone."""
    m = meta(tdir)
    c = column(m, name)
    rows = m["rows"]
    if c["type"] in ("utf8", "binary"):
        offs = raw_file(tdir, c, "offsets")
        data = raw_file(tdir, c, "data")
        vals = text_values(offs, data, c["type"] == "binary")
    elif c["type"] == "category":
        codes = raw_file(tdir, c, "codes")
        cats = text_values(raw_file(tdir, c, "dict"), raw_file(tdir, c, "dict.data"), False)
        check(cats == c["categories"], "%s: dictionary files == meta.json categories" % name)
        vals = [None if k == -1 else cats[k] for k in codes.tolist()]
    else:
        a = mm(tdir + "/" + c["file"], c["dtype"], rows * int(np.prod(c["shape"], dtype=np.int64)))
        a = a.reshape((rows, *c["shape"]))
        vals = a.tolist()
    if c.get("nullable"):
        mask = raw_file(tdir, c, "null")
        vals = [None if k else v for k, v in zip(mask.tolist(), vals)]
    return vals


def encode(values, binary=False):
    """Offsets and data (utf8 layout) of a list of str/bytes/None."""
    bs = [b"" if v is None else (v if binary else v.encode("utf-8")) for v in values]
    offs = np.zeros(len(bs) + 1, dtype="<i8")
    if bs:
        np.cumsum([len(b) for b in bs], out=offs[1:])
    return offs, b"".join(bs)


def write_table(tdir, rows, cols):
    """Creates table TDIR (mkdir + meta.json per the SPEC) and fills its
    files through np.memmap.  COLS: dicts with name, type, optional shape,
    nullable, categories, and values (a list, None = missing)."""
    os.mkdir(tdir)
    doc = []
    for c in cols:
        d = {"name": c["name"], "type": c["type"]}
        if "shape" in c:
            d["shape"] = c["shape"]
        if c.get("nullable"):
            d["nullable"] = True
        if c["type"] in ("utf8", "binary"):
            d["data_nbytes"] = len(encode(c["values"], c["type"] == "binary")[1])
        if c["type"] == "category":
            d["categories"] = c["categories"]
        doc.append(d)
    with open(tdir + "/meta.json", "w") as f:
        json.dump({"rows": rows, "columns": doc}, f)
    m = meta(tdir)
    for c in cols:
        mc = column(m, c["name"])
        fill_column(tdir, mc, c["values"], c.get("categories"))
    return m


def fill_column(tdir, mc, values, categories=None):
    rows = len(values)
    if mc.get("nullable"):
        mask = raw_file(tdir, mc, "null", "r+")
        mask[:] = [v is None for v in values]
    if mc["type"] in ("utf8", "binary"):
        offs, data = encode(values, mc["type"] == "binary")
        o = raw_file(tdir, mc, "offsets", "r+")
        o[:] = offs
        if data:
            d = raw_file(tdir, mc, "data", "r+")
            d[:] = np.frombuffer(data, dtype=np.uint8)
    elif mc["type"] == "category":
        idx = {s: i for i, s in enumerate(categories)}
        codes = raw_file(tdir, mc, "codes", "r+")
        codes[:] = [-1 if v is None else idx[v] for v in values]
    else:
        n = rows * int(np.prod(mc["shape"], dtype=np.int64))
        a = mm(tdir + "/" + mc["file"], mc["dtype"], n, "r+")
        zero = np.zeros(mc["shape"], dtype=mc["dtype"]).tolist()
        if n:
            a[:] = np.array([zero if v is None else v for v in values], dtype=mc["dtype"]).reshape(-1)


# ---- pyarrow ----------------------------------------------------------------

def open_arrow(tdir):
    """table.arrow through Arrow's own reader, mapped, not copied."""
    return pa.ipc.open_file(pa.memory_map(tdir + "/table.arrow")).read_all()


def mapping_of(addr, path):
    """The /proc/self/maps line of this process that holds ADDR, if it maps
    PATH."""
    real = os.path.realpath(path)
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if lo <= addr < hi:
                return len(parts) == 6 and parts[5].strip() == real
    return False


def validity(mask, codes=None):
    """An Arrow validity bitmap (1 = valid) from the null mask (and the -1
    codes of a category); None when every row is valid."""
    missing = np.zeros(0, dtype=bool)
    n = len(mask) if mask is not None else (len(codes) if codes is not None else 0)
    missing = np.zeros(n, dtype=bool)
    if mask is not None:
        missing |= np.asarray(mask, dtype=bool)
    if codes is not None:
        missing |= np.asarray(codes) == -1
    if not missing.any():
        return None
    return pa.py_buffer(np.packbits(~missing, bitorder="little"))


ARROW_FIXED = {"<i1": pa.int8(), "<i2": pa.int16(), "<i4": pa.int32(), "<i8": pa.int64(),
               "|i1": pa.int8(), "|u1": pa.uint8(), "<u2": pa.uint16(), "<u4": pa.uint32(),
               "<u8": pa.uint64(), "<f4": pa.float32(), "<f8": pa.float64(), "<f2": pa.float16()}


def zero_copy(tdir, name, keep):
    """A pyarrow array over np.memmap'ed files of column NAME, built with
    pa.Array.from_buffers: the offsets, data and values buffers are the
    mapping's own memory (checked), only the validity bitmap is built.
    KEEP collects the memmaps so they outlive the array."""
    m = meta(tdir)
    c = column(m, name)
    rows = m["rows"]
    mask = raw_file(tdir, c, "null") if c.get("nullable") else None

    def buf(role, what):
        f = files(c)[role]
        a = raw_file(tdir, c, role)
        keep.append(a)
        b = pa.py_buffer(a)
        if a.size:
            check(b.address == a.ctypes.data and mapping_of(b.address, tdir + "/" + f["file"])
                  and mapping_of(b.address + b.size - 1, tdir + "/" + f["file"]),
                  "%s: %s buffer is the mapping of %s" % (name, what, f["file"]))
        return b, a

    if c["type"] in ("utf8", "binary"):
        offs, _ = buf("offsets", "offsets")
        data, _ = buf("data", "data")
        ty = pa.large_string() if c["type"] == "utf8" else pa.large_binary()
        return pa.Array.from_buffers(ty, rows, [validity(mask), offs, data])
    if c["type"] == "category":
        codes_b, codes = buf("codes", "codes")
        doffs, d = buf("dict", "dictionary offsets")
        ddata, _ = buf("dict.data", "dictionary data")
        dictionary = pa.Array.from_buffers(pa.large_string(), len(d) - 1, [None, doffs, ddata])
        idx = pa.Array.from_buffers(pa.int32(), rows, [validity(mask, codes), codes_b])
        return pa.DictionaryArray.from_arrays(idx, dictionary)
    if c["dtype"] == "|b1" or c["shape"]:
        return None  # Arrow bools are bits, shapes are lists: no zero-copy array
    vals, _ = buf("values", "values")
    return pa.Array.from_buffers(ARROW_FIXED[c["dtype"]], rows, [validity(mask), vals])


def expected_arrow_type(c):
    if c["type"] == "utf8":
        return pa.large_string()
    if c["type"] == "binary":
        return pa.large_binary()
    if c["type"] == "category":
        return pa.dictionary(pa.int32(), pa.large_string())
    return None


def check_readers(tdir, expect):
    """EXPECT: name -> list of values.  The raw files, table.arrow and the
    zero-copy arrays all give those values."""
    m = meta(tdir)
    tname = os.path.basename(tdir)
    check(m["rows"] == len(next(iter(expect.values()))), "%s: rows" % tname)
    keep = []
    zc = {}
    for name, want in expect.items():
        got = read_raw(tdir, name)
        check(got == want, "%s.%s: raw files give the values written (%s)" % (tname, name, diff(got, want)))
        z = zero_copy(tdir, name, keep)
        if z is not None:
            z.validate(full=True)
            got = z.to_pylist()
            if column(m, name)["dtype"] == "<f2":
                got = [None if v is None else float(np.float16(v)) for v in got]
            check(got == want, "%s.%s: zero-copy array gives the values written (%s)"
                  % (tname, name, diff(got, want)))
            zc[name] = z
    try:
        t = open_arrow(tdir)
    except Exception as e:  # noqa: BLE001 - reported as a failure
        check(False, "%s: pa.ipc.open_file(table.arrow): %r" % (tname, e))
        return
    check(t.num_rows == m["rows"], "%s: table.arrow rows %d == %d" % (tname, t.num_rows, m["rows"]))
    for name, want in expect.items():
        c = column(m, name)
        col = t.column(name)
        et = expected_arrow_type(c)
        if et is not None:
            check(col.type == et, "%s.%s: arrow type %s, want %s" % (tname, name, col.type, et))
        got = col.to_pylist()
        if c["dtype"] == "<f2":
            got = [None if v is None else float(np.float16(v)) for v in got]
        check(got == want, "%s.%s: table.arrow gives the raw values (%s)" % (tname, name, diff(got, want)))
        check(col.null_count == sum(v is None for v in want),
              "%s.%s: null_count %d" % (tname, name, col.null_count))
        if name in zc:
            check(zc[name].equals(col.combine_chunks()),
                  "%s.%s: zero-copy array over the raw files equals table.arrow's" % (tname, name))
    del t, zc, keep


def diff(got, want):
    if got == want:
        return "equal"
    if len(got) != len(want):
        return "length %d != %d" % (len(got), len(want))
    i = next(i for i in range(len(got)) if got[i] != want[i])
    return "row %d: %r != %r" % (i, str(got[i])[:60], str(want[i])[:60])


# ---- pandas -----------------------------------------------------------------

def put_frame(tdir, df):
    """A small writer: DataFrame -> table TDIR.  Object/string columns
    become utf8, categoricals category, pandas' nullable Int64/boolean/
    Float64 nullable int64/bool/float64, numpy dtypes stay as they are."""
    cols = []
    for name, s in df.items():
        c = {"name": name}
        missing = s.isna().to_numpy()
        if isinstance(s.dtype, pd.CategoricalDtype):
            c.update(type="category", categories=[str(x) for x in s.cat.categories],
                     values=[None if k == -1 else str(s.cat.categories[k]) for k in s.cat.codes])
        elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
            c.update(type="utf8", values=[None if k else v for k, v in zip(missing, s.tolist())])
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            np_type = s.dtype.numpy_dtype
            zero = np_type.type(0)
            c.update(type=np_type.name, values=s.to_numpy(dtype=np_type, na_value=zero).tolist())
            c["values"] = [None if k else v for k, v in zip(missing, c["values"])]
        else:
            c.update(type=s.dtype.name, values=s.to_numpy().tolist())
        # pandas' nullable dtypes (and text with missing values) carry a mask;
        # a category's missing values are its -1 codes.
        if c["type"] != "category" and (missing.any() or isinstance(s.dtype, pd.api.extensions.ExtensionDtype)):
            c["nullable"] = True
        cols.append(c)
    write_table(tdir, len(df), cols)


def get_frame(tdir, dtypes):
    """A small reader: table TDIR -> DataFrame, the pandas dtype of each
    column as DTYPES says (tablefs keeps the values, the frame's author
    the choice between object and string text)."""
    m = meta(tdir)
    rows = m["rows"]
    out = {}
    for name, dtype in dtypes.items():
        c = column(m, name)
        mask = np.asarray(raw_file(tdir, c, "null"), dtype=bool) if c.get("nullable") else np.zeros(rows, bool)
        if c["type"] == "category":
            codes = np.asarray(raw_file(tdir, c, "codes"), dtype=np.int32)
            codes = np.where(mask, -1, codes)
            out[name] = pd.Categorical.from_codes(codes, categories=c["categories"])
        elif c["type"] == "utf8":
            if isinstance(dtype, pd.StringDtype):
                out[name] = pd.arrays.ArrowStringArray(zero_copy(tdir, name, []))
            else:
                out[name] = np.array(read_raw(tdir, name) + [None], dtype=object)[:-1]
        else:
            n = rows * int(np.prod(c["shape"], dtype=np.int64))
            values = np.asarray(mm(tdir + "/" + c["file"], c["dtype"], n))
            if isinstance(dtype, pd.api.extensions.ExtensionDtype):
                out[name] = pd.array(values, dtype=dtype)
                out[name][mask] = pd.NA
            else:
                out[name] = values.astype(dtype)
    return pd.DataFrame(out, index=pd.RangeIndex(rows))


def frame(rows, seed):
    rng = np.random.default_rng(seed)
    words = ["", "a", "zürich", "東京", "naïve café", "emoji 🙂", "x" * 300, "comma, \"quote\"\nnewline"]
    text = [words[i] for i in rng.integers(0, len(words), rows)]
    nulls = rng.random(rows) < 0.2
    if rows:
        nulls[0] = nulls[-1] = True
    obj = [None if k else v for k, v in zip(nulls, text)]
    return pd.DataFrame({
        "obj": pd.Series(obj, dtype=object),
        "s": pd.Series(text[::-1], dtype="string[pyarrow]").mask(pd.Series(nulls[::-1])),
        "n": pd.array(rng.integers(-2**40, 2**40, rows), dtype="Int64"),
        "b": pd.array(rng.random(rows) < 0.5, dtype="boolean"),
        "f": pd.array(rng.normal(size=rows), dtype="Float64"),
        "sym": pd.Categorical.from_codes(rng.integers(-1, 3, rows).astype(np.int32),
                                         categories=["AAPL", "MSFT", "Ünïcode"]),
        "plain": rng.integers(0, 100, rows).astype(np.int32),
    }).assign(n=lambda d: d["n"].mask(pd.Series(nulls)),
              b=lambda d: d["b"].mask(pd.Series(np.roll(nulls, 1))),
              f=lambda d: d["f"].mask(pd.Series(np.roll(nulls, 2))))


def cmd_pandas(mnt):
    for rows in (0, 1, 1000, 100003):
        df = frame(rows, rows)
        t = "%s/frame%d" % (mnt, rows)
        put_frame(t, df)
        back = get_frame(t, df.dtypes.to_dict())
        try:
            pd.testing.assert_frame_equal(back, df)
            check(True, "")
        except AssertionError as e:
            check(False, "pandas round trip of %d rows: %s" % (rows, str(e)[:800]))
        try:
            t_arrow = open_arrow(t)
        except OSError as e:
            check(False, "frame%d: pa.ipc.open_file(table.arrow): %r" % (rows, e))
            continue
        check(t_arrow.num_rows == rows, "frame%d: table.arrow rows" % rows)
        for name in ("obj", "n", "b", "f", "sym"):
            want = [None if pd.isna(v) else v for v in df[name].astype(object).tolist()]
            check(t_arrow.column(name).to_pylist() == want, "frame%d.%s: table.arrow values" % (rows, name))


# ---- the cases --------------------------------------------------------------

def null_patterns(rows):
    """Masks: first row, last row, all, none, and some in between."""
    first = [i == 0 for i in range(rows)]
    last = [i == rows - 1 for i in range(rows)]
    every = [True] * rows
    none = [False] * rows
    some = [i % 3 == 1 for i in range(rows)]
    return {"first": first, "last": last, "all": every, "none": none, "some": some}


def case_columns(rows, seed):
    rng = np.random.default_rng(seed)
    pool = ["", "a", "zürich", "東京", "Ελλάδα", "🙂🙃", "tab\tnl\n", "x" * 100]
    text = [pool[i] for i in rng.integers(0, len(pool), rows)]
    if rows > 2:
        text[1] = ""
    blob = [bytes(rng.integers(0, 256, int(rng.integers(0, 9))).astype(np.uint8)) for _ in range(rows)]
    cats = ["AAPL", "MSFT", "", "Ünïcode"]
    sym = [cats[i] for i in rng.integers(0, len(cats), rows)]
    ints = rng.integers(-2**62, 2**62, rows).tolist()
    floats = rng.normal(size=rows).tolist()
    bools = (rng.random(rows) < 0.5).tolist()
    cols = [
        {"name": "t", "type": "utf8", "values": text},
        {"name": "blob", "type": "binary", "values": blob},
        {"name": "sym", "type": "category", "categories": cats, "values": sym},
        {"name": "plain", "type": "float64", "values": floats},
    ]
    for pname, mask in null_patterns(rows).items():
        def nul(vals):
            return [None if k else v for k, v in zip(mask, vals)]
        cols += [
            {"name": "t_" + pname, "type": "utf8", "nullable": True, "values": nul(text)},
            {"name": "i_" + pname, "type": "int64", "nullable": True, "values": nul(ints)},
        ]
    some = null_patterns(rows)["some"]
    cols += [
        {"name": "blob_n", "type": "binary", "nullable": True, "values": [None if k else v for k, v in zip(some, blob)]},
        {"name": "sym_n", "type": "category", "nullable": True, "categories": cats,
         "values": [None if k else v for k, v in zip(some[::-1], sym)]},
        {"name": "f_n", "type": "float64", "nullable": True, "values": [None if k else v for k, v in zip(some, floats)]},
        {"name": "b_n", "type": "bool", "nullable": True, "values": [None if k else v for k, v in zip(some, bools)]},
        {"name": "u8_n", "type": "uint8", "nullable": True, "values": [None if k else i % 256 for i, k in enumerate(some)]},
        {"name": "i32_n", "type": "int32", "nullable": True, "values": [None if k else i for i, k in enumerate(some)]},
        {"name": "vec_n", "type": "int16", "shape": [2], "nullable": True,
         "values": [None if k else [i % 100, -(i % 100)] for i, k in enumerate(some)]},
    ]
    return cols


def cmd_cases(mnt):
    for rows in (0, 1, 2, 37, 100003):
        t = "%s/case%d" % (mnt, rows)
        cols = case_columns(rows, rows)
        write_table(t, rows, cols)
        check_readers(t, {c["name"]: c["values"] for c in cols})
    # Strings of 1 MiB, empty strings around them, non-ASCII text.
    big = ["é" * (1 << 19), "", "x" * (1 << 20), None, "", "naïve ✓"]
    t = mnt + "/big"
    write_table(t, len(big), [{"name": "s", "type": "utf8", "nullable": True, "values": big},
                              {"name": "b", "type": "binary", "values": [b"\0" * (1 << 20), b"", b"\xff", b"", b"", b"z"]}])
    check_readers(t, {"s": big, "b": [b"\0" * (1 << 20), b"", b"\xff", b"", b"", b"z"]})
    check(meta(t)["columns"][0]["data_nbytes"] == 2 * (1 << 20) + len("naïve ✓".encode()),
          "big: data_nbytes")


def cmd_resize(mnt):
    t = mnt + "/rs"
    cats = ["lo", "hi"]
    cols = [
        {"name": "u", "type": "utf8", "values": ["ab", "", "çd", "e", "fgh"]},
        {"name": "un", "type": "utf8", "nullable": True, "values": ["p", None, "q", "", None]},
        {"name": "bn", "type": "binary", "nullable": True, "values": [b"\x00", None, b"", b"\xff\xfe", b"z"]},
        {"name": "n", "type": "int64", "nullable": True, "values": [1, None, 3, 4, 5]},
        {"name": "c", "type": "category", "categories": cats, "values": ["lo", "hi", None, "hi", "lo"]},
        {"name": "cn", "type": "category", "nullable": True, "categories": cats, "values": [None, "hi", "lo", None, "lo"]},
        {"name": "x", "type": "float32", "values": [0.5, 1.5, 2.5, 3.5, 4.5]},
    ]
    write_table(t, 5, cols)
    want = {c["name"]: c["values"] for c in cols}
    check_readers(t, want)
    m = meta(t)
    # A reader keeps its mappings of the old files across the resizes.
    old = {c["name"]: {r: np.array(raw_file(t, column(m, c["name"]), r)) for r in files(column(m, c["name"]))}
           for c in cols}
    maps = {c["name"]: {r: raw_file(t, column(m, c["name"]), r) for r in files(column(m, c["name"])) if
                        files(column(m, c["name"]))[r]["count"]} for c in cols}
    data_before = m and column(m, "u")["data_nbytes"]

    with open(t + "/meta.json", "w") as f:
        json.dump({"rows": 9}, f)
    grown = {k: v + ([""] * 4 if k == "u" else [None] * 4) for k, v in want.items()}
    grown["x"] = want["x"] + [0.0] * 4
    check_readers(t, grown)
    m2 = meta(t)
    check(column(m2, "u")["data_nbytes"] == data_before, "grow: data file keeps its size")
    offs = raw_file(t, column(m2, "u"), "offsets")
    check(offs[5:].tolist() == [offs[5]] * 5, "grow: new offsets repeat the last one")
    nm = raw_file(t, column(m2, "n"), "null")
    nv = raw_file(t, column(m2, "n"), "values")
    check(nm[5:].tolist() == [True] * 4 and nv[5:].tolist() == [0] * 4,
          "grow: new rows of a nullable int64 are masked, value 0")
    check(raw_file(t, column(m2, "c"), "codes")[5:].tolist() == [-1] * 4, "grow: new category codes are -1")
    un = column(m2, "un")
    check(raw_file(t, un, "offsets")[5:].tolist() == [raw_file(t, un, "offsets")[5]] * 5,
          "grow: new rows of a nullable utf8 are empty under the mask")
    for name, roles in maps.items():
        for r, a in roles.items():
            check(np.array_equal(np.array(a), old[name][r]),
                  "old mapping of %s (%s) unchanged after a resize" % (name, r))

    with open(t + "/meta.json", "w") as f:
        json.dump({"rows": 2}, f)
    shrunk = {k: v[:2] for k, v in grown.items()}
    check_readers(t, shrunk)
    m3 = meta(t)
    check(column(m3, "u")["data_nbytes"] == data_before, "shrink: data file keeps its size")
    check(os.path.getsize(t + "/u.data") == data_before, "shrink: size of u.data")
    check(os.path.getsize(t + "/u") == 3 * 8 and os.path.getsize(t + "/un.null") == 2,
          "shrink: per-row files cut")
    for name, roles in maps.items():
        for r, a in roles.items():
            check(np.array_equal(np.array(a), old[name][r]),
                  "old mapping of %s (%s) unchanged after a shrink" % (name, r))

    # data_nbytes: only the data file changes, keeping its first bytes.
    with open(t + "/meta.json", "w") as f:
        json.dump({"columns": [{"name": "u", "type": "utf8", "data_nbytes": 100}]}, f)
    m4 = meta(t)
    check(column(m4, "u")["data_nbytes"] == 100 and os.path.getsize(t + "/u.data") == 100,
          "data_nbytes 100 resizes u.data")
    check(bytes(raw_file(t, column(m4, "u"), "data")[:data_before]) == bytes(old["u"]["data"]),
          "data_nbytes grow keeps the bytes")
    check(read_raw(t, "u") == shrunk["u"], "data_nbytes grow keeps the values")
    with open(t + "/meta.json", "w") as f:
        json.dump({"columns": [{"name": "u", "type": "utf8", "data_nbytes": 2}]}, f)
    check(os.path.getsize(t + "/u.data") == 2 and read_raw(t, "u") == ["ab", ""],
          "data_nbytes shrink to 2 keeps the first bytes")
    del maps

    # A rendered document written back is accepted and changes nothing.
    before = meta(t)
    with open(t + "/meta.json", "w") as f:
        json.dump(before, f)
    after = meta(t)
    check({k: v for k, v in after.items() if k != "version"} == {k: v for k, v in before.items() if k != "version"},
          "meta.json written back as rendered changes nothing")

    # mv of a column moves its companion files; rm deletes them.
    os.rename(t + "/un", t + "/vn")
    ls = sorted(os.listdir(t))
    check("vn" in ls and "vn.data" in ls and "vn.null" in ls and not any(x.startswith("un") for x in ls),
          "mv un vn moves its companion files: %s" % ls)
    check(read_raw(t, "vn") == shrunk["un"], "mv keeps the values")
    os.rename(t + "/cn", t + "/kn")
    ls = sorted(os.listdir(t))
    check({"kn", "kn.dict", "kn.dict.data", "kn.null"} <= set(ls) and not any(x.startswith("cn") for x in ls),
          "mv cn kn moves the dictionary and mask: %s" % ls)
    check(read_raw(t, "kn") == shrunk["cn"], "mv of a category keeps the values")
    os.unlink(t + "/vn")
    ls = sorted(os.listdir(t))
    check(not any(x.startswith("vn") for x in ls), "rm vn removes vn.data and vn.null: %s" % ls)
    check("vn" not in [c["name"] for c in meta(t)["columns"]], "rm vn removes the column")
    os.unlink(t + "/kn")
    check(not any(x.startswith("kn") for x in os.listdir(t)), "rm kn removes its dictionary files")
    check_readers(t, {k: shrunk[k] for k in ("u", "bn", "n", "c", "x")} | {"u": ["ab", ""]})

    # The dictionary files are read-only: codes never change meaning.
    for f in ("c.dict", "c.dict.data"):
        st = os.stat(t + "/" + f)
        check(st.st_mode & 0o222 == 0, "%s has no write bit (%o)" % (f, st.st_mode))
        for flags in (os.O_RDWR, os.O_WRONLY):
            try:
                fd = os.open(t + "/" + f, flags)
                os.close(fd)
                check(False, "open(%s, %d) succeeded" % (f, flags))
            except OSError as e:
                check(e.errno in (errno.EPERM, errno.EACCES) if os.geteuid() else e.errno == errno.EPERM,
                      "open(%s) for writing: %s, want EPERM" % (f, errno.errorcode.get(e.errno)))
        try:
            np.memmap(t + "/" + f, dtype="u1", mode="r+")
            check(False, "np.memmap(%s, r+) succeeded" % f)
        except OSError as e:
            check(e.errno in (errno.EPERM, errno.EACCES), "memmap r+ of %s: %s" % (f, e))
    # Adding categories is a schema change that keeps the codes.
    with open(t + "/meta.json", "w") as f:
        json.dump({"columns": [{"name": "c", "type": "category", "categories": ["lo", "hi", "new"]}]}, f)
    check(column(meta(t), "c")["categories"] == ["lo", "hi", "new"], "categories extended")
    check(read_raw(t, "c") == shrunk["c"], "extending categories keeps the values")
    for bad in (["hi", "lo"], ["lo"], ["lo", "hi", "lo"], ["lo", "hi", 3]):
        try:
            with open(t + "/meta.json", "w") as f:
                json.dump({"columns": [{"name": "c", "type": "category", "categories": bad}]}, f)
            check(False, "categories %r accepted" % bad)
        except OSError as e:
            check(e.errno == errno.EINVAL, "categories %r: %s, want EINVAL" % (bad, e))
    check(column(meta(t), "c")["categories"] == ["lo", "hi", "new"], "refused categories change nothing")


# ---- hostile offsets and codes ---------------------------------------------

def read_view(path):
    """Opens and reads PATH to the end: None, or the errno that stopped it."""
    try:
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass
        return None
    except OSError as e:
        return e.errno


def table_status(mnt, name):
    with open(mnt + "/.status") as f:
        st = json.load(f)
    tables = st.get("tables", [])
    if isinstance(tables, dict):
        return tables.get(name, {})
    return next((x for x in tables if x.get("name") == name), {})


MAP_VIEW = """
import sys, pyarrow as pa
try:
    pa.ipc.open_file(pa.memory_map(sys.argv[1])).read_all().validate(full=True)
except OSError as e:
    print(e)
    sys.exit(3)
print("read without an error")
"""


def cmd_corrupt(mnt, tablectl):
    good = mnt + "/good"
    gvals = {"s": ["one", "two", None], "k": ["x", None, "y"]}
    write_table(good, 3, [{"name": "s", "type": "utf8", "nullable": True, "values": gvals["s"]},
                          {"name": "k", "type": "category", "categories": ["x", "y"], "values": gvals["k"]}])
    bad = mnt + "/bad"
    # Names that are no part of an English word, so that .status can be
    # searched for them.
    bvals = {"city": ["ab", "cde", "", "f"], "blob": [b"\x01", b"", b"\x02\x03", b""],
             "sym": ["p", "q", None, "r"], "symn": ["p", None, "r", "q"]}
    write_table(bad, 4, [{"name": "city", "type": "utf8", "values": bvals["city"]},
                         {"name": "blob", "type": "binary", "nullable": True, "values": bvals["blob"]},
                         {"name": "sym", "type": "category", "categories": ["p", "q", "r"],
                          "values": bvals["sym"]},
                         {"name": "symn", "type": "category", "nullable": True, "categories": ["p", "q", "r"],
                          "values": bvals["symn"]}])
    # Corrupted before anyone opened the view: the open itself refuses,
    # and .status says which column and row.
    fresh = mnt + "/fresh"
    write_table(fresh, 3, [{"name": "town", "type": "utf8", "values": ["a", "bb", "ccc"]}])
    o = raw_file(fresh, column(meta(fresh), "town"), "offsets", "r+")
    o[2] = 0
    o.flush()
    try:
        os.close(os.open(fresh + "/table.arrow", os.O_RDONLY))
        check(False, "fresh: open of table.arrow over decreasing offsets succeeded")
    except OSError as e:
        check(e.errno == errno.EIO, "fresh: open of table.arrow: %s, want EIO" % e)
    reason = str(table_status(mnt, "fresh").get("last_error") or "")
    check(re.search(r"(?<!\w)town(?!\w)", reason) and re.search(r"\brow [0-9]", reason),
          "fresh: .status last_error names the column and the row: %r" % reason)
    r = subprocess.run([sys.executable, "-c", MAP_VIEW, fresh + "/table.arrow"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 3, "fresh: pyarrow gets an exception: exit %d" % r.returncode)
    o[2] = 3
    o.flush()
    del o
    check_readers(fresh, {"town": ["a", "bb", "ccc"]})

    check_readers(bad, bvals)
    if read_view(bad + "/table.arrow") is not None:
        check(False, "bad: table.arrow must read before it is corrupted: nothing more to test")
        done()
    m = meta(bad)
    # column, role, index, bad value
    corruptions = [
        ("city", "offsets", 2, 1, "decreasing"),
        ("city", "offsets", 4, 7, "last past the data end"),
        ("city", "offsets", 2, 1 << 62, "huge"),
        ("city", "offsets", 0, 1, "first != 0"),
        ("city", "offsets", 1, -1, "negative"),
        ("city", "offsets", 3, -(1 << 63), "INT64_MIN"),
        ("blob", "offsets", 1, 4, "past the data end, under a null mask"),
        ("sym", "codes", 0, -2, "negative code other than -1"),
        ("sym", "codes", 3, 3, "code == ncategories"),
        ("sym", "codes", 1, 2**31 - 1, "INT32_MAX code"),
        ("symn", "codes", 1, 5, "bad code under the null mask"),
    ]
    for col, role, i, value, what in corruptions:
        a = raw_file(bad, column(m, col), role, "r+")
        saved = a[i]
        # A reader that opened table.arrow before the corruption.
        pre = open(bad + "/table.arrow", "rb")
        a[i] = value
        a.flush()
        e = read_view(bad + "/table.arrow")
        check(e == errno.EIO, "%s %s (%s): table.arrow gives %s, want EIO"
              % (col, role, what, errno.errorcode.get(e, e)))
        try:
            while pre.read(1 << 20):
                pass
            check(False, "%s (%s): a table.arrow opened before reads without an error" % (col, what))
        except OSError as err:
            check(err.errno == errno.EIO, "%s (%s): open table.arrow read: %s" % (col, what, err))
        pre.close()
        # pyarrow maps the view: a failure must come from the open, as an
        # exception, never as SIGBUS on a page of the mapping.  In a child,
        # so that a SIGBUS is reported, not fatal to this test.
        r = subprocess.run([sys.executable, "-c", MAP_VIEW, bad + "/table.arrow"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 3, "%s (%s): pa.memory_map + ipc.open_file of the corrupted view: %s"
              % (col, what, "exit %d %s" % (r.returncode, r.stdout.strip()[-200:]) if r.returncode >= 0
                 else "killed by " + signal.Signals(-r.returncode).name))
        st = table_status(mnt, "bad")
        reason = str(st.get("last_error") or "")
        check(re.search(r"(?<!\w)%s(?!\w)" % col, reason),
              "%s (%s): .status last_error names the column: %r" % (col, what, reason))
        r = subprocess.run([tablectl, "--mount", mnt, "head", "bad"], capture_output=True, text=True, timeout=60)
        check(r.returncode > 0 and r.stderr.strip(), "%s (%s): tablectl head bad: exit %d, stderr %r"
              % (col, what, r.returncode, r.stderr[-200:]))
        r = subprocess.run([tablectl, "--mount", mnt, "head", "good"], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and "two" in r.stdout, "%s (%s): tablectl head good still works: %d %r"
              % (col, what, r.returncode, r.stderr[-200:]))
        try:
            check(open_arrow(good).column("s").to_pylist() == gvals["s"], "good table still reads")
        except OSError as err:
            check(False, "%s (%s): the good table's view fails too: %s" % (col, what, err))
        # The raw files still read: only the views refuse.
        check(os.path.getsize(bad + "/" + column(m, col)["file"]) > 0, "raw file still there")
        a[i] = saved
        a.flush()
        del a
        e = read_view(bad + "/table.arrow")
        check(e is None, "%s (%s): repaired table.arrow reads (%s)" % (col, what, errno.errorcode.get(e, e)))
        check_readers(bad, bvals)
    # The npy view of the codes serves the bytes as they are: no check needed.
    check(np.load(bad + "/sym.npy", mmap_mode="r").tolist() == [0, 1, -1, 2], "sym.npy gives the codes")
    e = read_view(bad + "/city.npy")
    check(e == errno.ENOENT, "city.npy does not exist for utf8: %s" % errno.errorcode.get(e, e))


def main():
    cmd = sys.argv[1]
    mnt = sys.argv[2]
    if cmd == "cases":
        cmd_cases(mnt)
    elif cmd == "pandas":
        cmd_pandas(mnt)
    elif cmd == "resize":
        cmd_resize(mnt)
    elif cmd == "corrupt":
        cmd_corrupt(mnt, sys.argv[3])
    else:
        sys.exit("unknown subcommand " + cmd)
    done()


if __name__ == "__main__":
    main()
