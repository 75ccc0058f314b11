"""Hostile meta.json documents and names against a live tablefs (hostile.sh).

Run as `$PYTHON3 hostile.py MNT SEED COUNT LIMIT [DAEMON_PID]`: writes COUNT
documents, generated from SEED, to the tables h0..h3 of the mount MNT (daemon
started with --memory-limit LIMIT bytes), then tries hostile names through
mkdir and rename, and prints OK or FAILED N as its last line (exit status 0,
1, or 77 without libcjson).  A model of every table (rows, version, columns
and their exact bytes; see hostile_model.py) says what each write and close
must return and what the table must hold after it.  With DAEMON_PID, the
serving process (its child) is checked after every document, so a crash
is pinned on the document that caused it.
"""

import errno
import json
import os
import random
import re
import sys
import time

import hostile_model as hm
from hostile_model import (DOC_MAX, NAME_MAX, WS, Table, json_state, parse_type, plan,
                           type_dtype, type_name, Refused)

TABLES = ["h0", "h1", "h2", "h3"]
problems = []


def problem(msg):
    problems.append(msg)
    if len(problems) <= 30:
        print("PROBLEM: " + msg, flush=True)


def errname(e):
    return errno.errorcode.get(e, "E%d" % e)


# Generating documents

GOOD_TYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64", "datetime64[s]", "datetime64[ns]",
              "timedelta64[ms]", "timedelta64[us]", "bytes1", "bytes16", "bytes3"]
GOOD_DTYPES = ["<f8", "f8", "float64", "|S16", "<M8[ns]", "?", "|b1", "<i4", "u2", "<m8[s]",
               "|u1", "i8", "d", "f", "=f4", ">i1", "|S7"]
BAD_TYPES = [">f8", "!i4", ">M8[ns]", "bytes0", "bytes01", "bytes2147483649", "|S0", "S",
             "datetime64", "datetime64[D]", "datetime64[ps]", "<M8", "M8[]", "timedelta64[]",
             "float128", "complex64", "<c16", "U10", "<U4", "O", "V8", "int 8", "INT8", "int8 ",
             " int8", "int08", "Int64", "g", "float64\u0000", "bytes-1", "bytes1e3", "",
             "<<f8", "f8<", "int7", "uint128", "b2", "..", "/", "float64/x", "\u00e9", "\\",
             "bytes99999999999999999999"]
COLNAMES = ["a", "b", "c", "price", "emb", "x_1", "Z-9", "n0", "q" * 128, "_"]
HOSTILE_NAMES = ["", ".", "..", "a.b", "meta.json", ".hidden", "a/b", "/", "../x", "-a", "-",
                 "a b", "a\tb", "a\nb", "a\u0000b", "a\u0001", "\u007f", "\u00e9t\u00e9",
                 "\udcff", "x" * 129, "y" * 300, "a\\b", "*", "a\"b", "'", "\u2603"]
TOKENS = [b'"', b"]", b"}", b"{", b"[", b",", b":", b"\\u0000", b"\x00", b"1e400", b"-1",
          b"18446744073709551616", b"9007199254740993", b"-0", b"1.5", b"[[[[[[[[", b"]]]]",
          b"null", b"true", b"false", b'"x"', b"..", b"/", b"\x01", b"\x1f", b"\x7f", b"\xff",
          b"\xc3\x28", b"\xed\xa0\x80", b'"rows"', b'"columns"', b'"name"', b'"type"',
          b'"shape"', b'"dtype"', b"\\", b"\\ud800", b"NaN", b"Infinity", b" ", b"\n",
          b"0x10", b"01", b"+1", b"1e9", b"{}", b"[]", b'"rows": -1,', b'"rows": 3,']
WEIRD_NUMS = [-1, -0.0, 0.5, 1.5, 1e400, -1e400, 2 ** 64, 2 ** 63, 2 ** 53, 2 ** 53 + 1,
              2 ** 31, 2 ** 31 + 1, 1e9, 1e18, "10", "", None, True, False, [], {}, [5],
              {"n": 1}, 12345678901234567890123]
WEIRD_SHAPES = [[0], [-1], [1e9, 1e9], [2] * 9, [2] * 8, [1.5], ["3"], [None], 3, 0, -3, "3",
                {}, [[2]], [2 ** 31], [2 ** 31 + 1], [2 ** 16, 2 ** 16], [True], [1e400], []]


def rand_rows(rng):
    r = rng.random()
    if r < 0.1:
        return 0
    if r < 0.8:
        return rng.randrange(1, 1200)
    if r < 0.95:
        return rng.randrange(1200, 40000)
    return rng.choice([100000, 1 << 20, 1 << 30, 1 << 53])


def rand_column(rng, t):
    c = {"name": rng.choice(COLNAMES)}
    if t.cols and rng.random() < 0.4:
        # Restate an existing column (valid), sometimes with a twist.
        nm = rng.choice(sorted(t.cols))
        ty, sh = t.cols[nm][0], t.cols[nm][1]
        c = {"name": nm, "type": type_name(ty)}
        if sh or rng.random() < 0.3:
            c["shape"] = list(sh)
        if rng.random() < 0.3:
            c["dtype"] = type_dtype(ty)
        return c
    if rng.random() < 0.6:
        c["type"] = rng.choice(GOOD_TYPES)
    else:
        c["dtype"] = rng.choice(GOOD_DTYPES)
    r = rng.random()
    if r < 0.15:
        c["shape"] = [rng.randrange(1, 5)]
    elif r < 0.2:
        c["shape"] = [rng.randrange(1, 4), rng.randrange(1, 4)]
    elif r < 0.25:
        c["shape"] = []
    elif r < 0.28:
        c["shape"] = None
    return c


def base_doc(rng, t):
    """A valid-looking document as a Python object."""
    d = {}
    r = rng.random()
    if r < 0.3 or not t.cols:
        d["rows"] = rand_rows(rng)
    if r > 0.15:
        d["columns"] = [rand_column(rng, t) for _ in range(rng.randrange(0, 4))]
    elif r > 0.1:
        d["rows"] = rand_rows(rng)
    if rng.random() < 0.1:
        d["comment"] = "ignored"
    return d


def mutate_struct(rng, d, t):
    """One structured mutation of a document object (may return non-dict)."""
    cols = d.get("columns") if isinstance(d.get("columns"), list) else None
    col = rng.choice(cols) if cols and isinstance(cols[0], dict) else None
    k = rng.randrange(16)
    if k == 0 and col is not None:
        col["name"] = rng.choice(HOSTILE_NAMES)
    elif k == 1 and col is not None:
        key = "type" if "type" in col or rng.random() < 0.5 else "dtype"
        if rng.random() < 0.5:
            col[key] = rng.choice(BAD_TYPES)
        else:
            # An earlier mutation may have left any JSON value there.
            v = col.get(key)
            s = list(v if isinstance(v, str) and v else "int8")
            op = rng.randrange(3)
            i = rng.randrange(len(s))
            if op == 0:
                s[i] = chr(rng.randrange(32, 127))
            elif op == 1:
                del s[i]
            else:
                s.insert(i, s[i])
            col[key] = "".join(s)
    elif k == 2 and col is not None:
        col["shape"] = rng.choice(WEIRD_SHAPES)
    elif k == 3:
        d["rows"] = rng.choice(WEIRD_NUMS)
    elif k == 4 and col is not None:
        col.pop(rng.choice(["name", "type", "dtype", "shape"]), None)
    elif k == 5:
        d["columns"] = rng.choice([{}, "a", 5, None, [1, 2], [[{"name": "a", "type": "int8"}]],
                                   [None], [[]], True])
    elif k == 6 and col is not None:
        col[rng.choice(["name", "type", "dtype"])] = rng.choice(WEIRD_NUMS)
    elif k == 7 and cols:
        cols.append(dict(cols[0]) if isinstance(cols[0], dict) else cols[0])
    elif k == 8:
        d["columns"] = [{"name": "m%d" % i, "type": "int8"} for i in range(rng.randrange(20, 60))]
    elif k == 9:
        d["x"] = "@DEEP%d@" % rng.choice([10, 63, 64, 65, 100, 500])
    elif k == 10:
        # Sizes whose sum of charges passes 2^64.
        n = rng.choice([2, 3, 4, 5, 8])
        d["rows"] = 1 << 53
        d["columns"] = [{"name": "big%d" % i, "type": "bytes512"} for i in range(n)]
        if rng.random() < 0.5:
            d["columns"].append({"name": "small", "type": "int8"})
            d["rows"] = (1 << 53) - rng.choice([0, 1, 4096])
    elif k == 11:
        d["rows"] = rng.choice([2 ** 53, 2 ** 62, 2 ** 40]) // rng.choice([1, 2, 8])
    elif k == 12:
        return rng.choice([[], [d], "x", 1, None, True, [{"rows": 1}]])
    elif k == 13:
        d[rng.choice(["format", "name", "version", "file"])] = rng.choice(WEIRD_NUMS + ["x"])
    elif k == 14 and col is not None:
        col["name"] = "L" * rng.choice([127, 128, 129, 200, 4096, 70000])
    elif k == 15:
        d["columns"] = (cols or []) + [{"name": "dup", "type": "int8"},
                                       {"name": "dup", "type": rng.choice(["int8", "int16"])}]
    return d


def serialize(rng, d):
    kw = {}
    if rng.random() < 0.3:
        kw["indent"] = rng.choice([None, 0, 2, "\t"])
    if rng.random() < 0.3:
        kw["separators"] = (",", ":")
    text = json.dumps(d, ensure_ascii=rng.random() < 0.5, **kw)
    out = text.encode("utf-8", "surrogatepass")
    m = re.search(rb'"@DEEP([0-9]+)@"', out)
    if m:
        depth = int(m.group(1))
        out = out[:m.start()] + b"[" * depth + b"]" * depth + out[m.end():]
    if rng.random() < 0.2:
        out = rng.choice([b"\n", b" ", b"\r\n", b"\t"]) + out + rng.choice([b"\n", b"", b"  "])
    return out


def mutate_bytes(rng, b):
    k = rng.randrange(8)
    if not b:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    i = rng.randrange(len(b) + 1)
    if k == 0:  # byte flip
        j = min(i, len(b) - 1)
        return b[:j] + bytes([b[j] ^ (1 << rng.randrange(8))]) + b[j + 1:]
    if k == 1:  # random byte
        j = min(i, len(b) - 1)
        return b[:j] + bytes([rng.randrange(256)]) + b[j + 1:]
    if k == 2:  # truncation
        return b[:i]
    if k in (3, 4):  # token insertion
        return b[:i] + rng.choice(TOKENS) + b[i:]
    if k == 5:  # span deletion
        j = rng.randrange(i, min(len(b), i + 20) + 1)
        return b[:i] + b[j:]
    if k == 6:  # span duplication
        j = rng.randrange(i, min(len(b), i + 30) + 1)
        return b[:j] + b[i:j] + b[j:]
    # a duplicated key at the front
    dup = rng.choice([b'"rows": -1, ', b'"rows": 7, ', b'"columns": 5, ',
                      b'"columns": [{"name": "a.b", "type": "int8"}], '])
    return b[:1] + dup + b[1:] if b[:1] == b"{" else dup + b


def make_doc(rng, t):
    """(bytes, label): one hostile document for table t."""
    r = rng.random()
    if r < 0.04:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300))), "random"
    if r < 0.07:
        return b"{" + bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200))), "random{"
    if r < 0.09:
        return t.text or b"{}", "roundtrip"
    if r < 0.11:
        a, b = serialize(rng, base_doc(rng, t)), serialize(rng, base_doc(rng, t))
        return a + rng.choice([b"", b" ", b"\n"]) + b, "two docs"
    d = base_doc(rng, t)
    label = "valid"
    if r < 0.45:
        for _ in range(rng.randrange(1, 3)):
            d = mutate_struct(rng, d, t) if isinstance(d, dict) else d
        label = "struct"
    b = serialize(rng, d)
    if r > 0.35 and r < 0.85:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            b = mutate_bytes(rng, b)
        label = "bytes" if label == "valid" else label + "+bytes"
    return b, label


def chunks_of(rng, b):
    r = rng.random()
    if r < 0.6 or len(b) < 2:
        return [b], "one write"
    if r < 0.95 or len(b) > 400:
        cuts = sorted(rng.sample(range(1, len(b)), min(len(b) - 1, rng.randrange(1, 6))))
        return [b[i:j] for i, j in zip([0] + cuts, cuts + [len(b)])], "chunks"
    return [b[i:i + 1] for i in range(len(b))], "byte by byte"


# Running them against the mount


def serving_pid(dpid):
    try:
        with open("/proc/%d/task/%d/children" % (dpid, dpid)) as f:
            return f.read().split()
    except OSError:
        return None


def show(b, n=160):
    return repr(b[:n]) + ("... (%d bytes)" % len(b) if len(b) > n else "")


class Runner:
    def __init__(self, mnt, limit, dpid, rng):
        self.mnt = mnt
        self.limit = limit
        self.dpid = dpid
        self.rng = rng
        self.tables = {}
        self.counts = {}
        self.serving = serving_pid(dpid) if dpid else None

    def count(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    def path(self, t, *rest):
        return os.path.join(self.mnt, t.name, *rest)

    def used(self):
        return sum(t.used() for t in self.tables.values())

    def resync(self, t):
        """Takes the table as it is now into the model."""
        with open(self.path(t, "meta.json"), "rb") as f:
            t.text = f.read()
        m = json.loads(t.text)
        t.rows, t.version, t.cols = m["rows"], m["version"], {}
        for c in m["columns"]:
            with open(self.path(t, c["file"]), "rb") as f:
                data = bytearray(f.read())
            t.cols[c["name"]] = [parse_type(c["type"]), tuple(c["shape"]), c["itemsize"], data]

    def verify(self, t, what, changed):
        """The table is what the model says; changed: whether its version
        must have grown (else meta.json must be byte for byte as before)."""
        bad = []
        try:
            with open(self.path(t, "meta.json"), "rb") as f:
                text = f.read()
            m = json.loads(text)
        except (OSError, ValueError) as e:
            problem("%s: %s: meta.json unreadable: %s" % (what, t.name, e))
            return False
        if not changed and text != t.text:
            bad.append("meta.json changed:\n%s\n-- was --\n%s" % (text.decode(errors="replace"),
                                                                  t.text.decode(errors="replace")))
        if changed and not m.get("version", -1) > t.version:
            bad.append("version %s did not grow from %s" % (m.get("version"), t.version))
        if m.get("rows") != t.rows:
            bad.append("rows %s, expected %s" % (m.get("rows"), t.rows))
        if m.get("name") != t.name or m.get("format") != "tablefs-1":
            bad.append("name/format %s/%s" % (m.get("name"), m.get("format")))
        try:
            st = os.stat(self.path(t, "meta.json"))
            if st.st_size != len(text):
                bad.append("meta.json st_size %d != %d bytes read" % (st.st_size, len(text)))
        except OSError as e:
            bad.append("stat meta.json: %s" % e)
        seen = {}
        for c in m.get("columns", []):
            if c["name"] in seen:
                bad.append("column %s listed twice" % c["name"])
            seen[c["name"]] = c
        if set(seen) != set(t.cols):
            bad.append("columns %s, expected %s" % (sorted(seen), sorted(t.cols)))
        try:
            listed = set(os.listdir(self.path(t)))
        except OSError as e:
            listed = set()
            bad.append("listdir: %s" % e)
        if listed != set(t.cols) | {"meta.json"}:
            bad.append("directory lists %s" % sorted(listed))
        for nm, (ty, sh, item, data) in t.cols.items():
            c = seen.get(nm)
            if c is None:
                continue
            want = {"type": type_name(ty), "dtype": type_dtype(ty), "shape": list(sh),
                    "itemsize": item, "nbytes": t.rows * item, "file": nm}
            got = {k: c.get(k) for k in want}
            if got != want:
                bad.append("column %s is %s, expected %s" % (nm, got, want))
            try:
                size = os.stat(self.path(t, nm)).st_size
                if size != t.rows * item:
                    bad.append("column %s: stat size %d != rows*itemsize %d" %
                               (nm, size, t.rows * item))
                with open(self.path(t, nm), "rb") as f:
                    content = f.read()
                if content != data:
                    diff = next((i for i in range(min(len(content), len(data)))
                                 if content[i] != data[i]), min(len(content), len(data)))
                    bad.append("column %s: %d bytes read, expected %d, first difference at %d"
                               % (nm, len(content), len(data), diff))
            except OSError as e:
                bad.append("column %s: %s" % (nm, e))
        if bad:
            problem("%s: table %s:\n    %s" % (what, t.name, "\n    ".join(bad)))
            self.resync(t)
            return False
        t.text, t.version = text, m["version"]
        return True

    def apply(self, t, doc):
        """The model applies doc: 'OK' (model updated) or an errno name."""
        try:
            rows, new, changes = plan(doc, t, self.used(), self.limit)
        except Refused as e:
            return e.err, False
        for c in t.cols.values():
            n = rows * c[2]
            c[3] = c[3][:n] + bytearray(max(0, n - len(c[3])))
        t.rows = rows
        for nm, ty, sh, item in new:
            t.cols[nm] = [ty, sh, item, bytearray(rows * item)]
        return "OK", changes

    def next_verdict(self, t, pending, rest):
        """The model's verdict on the document being written when it is
        next applied, had the remaining chunks been written (no model
        change)."""
        for ch in rest:
            st = json_state(pending)
            if st != "incomplete":
                break
            pending += ch
        saved = (t.rows, {k: [v[0], v[1], v[2], v[3]] for k, v in t.cols.items()})
        verdict, _ = self.apply(t, pending)
        t.rows, t.cols = saved
        return verdict

    def write_doc(self, t, doc, chunks, label):
        rng = self.rng
        flags = rng.choice([os.O_WRONLY | os.O_TRUNC] * 6 + [os.O_WRONLY, os.O_RDWR,
                                                           os.O_WRONLY | os.O_APPEND])
        use_pwrite = rng.random() < 0.15
        fd = os.open(self.path(t, "meta.json"), flags)
        pending = b""
        changed = False
        applied = False  # a document was applied or refused on this fd
        failed = None
        where = None
        for i, ch in enumerate(chunks):
            pending += ch
            st = json_state(pending)
            try:
                if use_pwrite:
                    n = os.pwrite(fd, ch, rng.randrange(0, 1 << 20))
                else:
                    n = os.write(fd, ch)
                got = "OK" if n == len(ch) else "short write %d of %d" % (n, len(ch))
            except OSError as e:
                got = errname(e.errno)
            if st == "incomplete":
                want = "OK"
                if got == "EINVAL" and self.next_verdict(t, pending, chunks[i + 1:]) != "OK":
                    want = "EINVAL"  # seen as hopeless before its end: allowed
            else:
                want, ch_changed = self.apply(t, pending)
                changed |= want == "OK" and ch_changed
                applied = True
                pending = b""
            if got != want:
                try:
                    os.close(fd)
                except OSError:
                    pass
                self.mismatch(t, doc, chunks, i, want, got, label)
                return
            if got != "OK":
                failed, where = got, "write"
                break
        try:
            os.close(fd)
            got = "OK"
        except OSError as e:
            got = errname(e.errno)
        # A refusal holds for the open file: close(2) returns it again.
        want = failed or "OK"
        # White space after a document ends it; alone, it is an empty
        # document (refused).
        if failed is None and (pending.strip(WS) or (pending and not applied)):
            want, ch_changed = self.apply(t, pending)
            changed |= want == "OK" and ch_changed
            if want != "OK":
                failed, where = want, "close"
        if got != want:
            self.mismatch(t, doc, chunks, "close", want, got, label)
            return
        self.count("%s at %s" % (failed, where) if failed else "applied")
        if failed and failed not in ("EINVAL", "ENOSPC", "EFBIG"):
            problem("errno %s is not one a schema change may fail with" % failed)
        self.verify(t, "after %s document %s" % (label, show(doc)), changed)

    def mismatch(self, t, doc, chunks, at, want, got, label):
        self.count("mismatch")
        problem("%s document to %s, %d chunk(s) %s: %s expected %s, got %s: %s" %
                (label, t.name, len(chunks), [len(c) for c in chunks], "close" if at == "close"
                 else "write %d" % at, want, got, show(doc, 300)))
        self.resync(t)

    def poke_data(self, t):
        """Puts bytes into a column, so that keeping data means something."""
        if not t.cols or not t.rows:
            return
        nm = self.rng.choice(sorted(t.cols))
        data = t.cols[nm][3]
        off = self.rng.randrange(len(data))
        n = self.rng.randrange(1, len(data) - off + 1)
        buf = os.urandom(n)
        fd = os.open(self.path(t, nm), os.O_WRONLY)
        try:
            os.pwrite(fd, buf, off)
        finally:
            os.close(fd)
        data[off:off + n] = buf

    def drop_columns(self, t, keep):
        """rm of columns until keep are left (fewer columns, faster checks)."""
        names = sorted(t.cols)
        self.rng.shuffle(names)
        for nm in names[keep:]:
            os.unlink(self.path(t, nm))
            del t.cols[nm]
            self.count("rm column")
        self.verify(t, "after rm of columns", True)

    def status(self):
        with open(os.path.join(self.mnt, ".status"), "rb") as f:
            raw = f.read()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problem(".status is not UTF-8 (JSON must be): %r at byte %d" %
                    (raw[max(0, e.start - 80):e.start + 20], e.start))
        return json.loads(raw.decode("utf-8", "replace"))

    def check_all(self, what):
        for t in self.tables.values():
            self.verify(t, what, False)
        # A column version replaced while a file of it was open stays
        # charged until the kernel releases and forgets it, which close(2)
        # does not wait for: the charge must come down to the current
        # columns' soon after, and never stay above it.
        deadline = time.monotonic() + 10
        s = self.status()
        while s["memory"]["used"] > self.used() and time.monotonic() < deadline:
            time.sleep(0.05)
            s = self.status()
        if s["memory"]["used"] != self.used():
            problem("%s: .status memory.used %d, the tables' columns are charged %d" %
                    (what, s["memory"]["used"], self.used()))
        if s["internal_errors"]:
            problem("%s: internal_errors %d" % (what, s["internal_errors"]))

    def big_docs(self, t):
        """Documents at and past the 16 MiB limit: EFBIG, the table kept."""
        for what, doc in (("16 MiB + 1 in a string", b'{"x": "' + b"a" * (DOC_MAX - 8) + b'"}'),
                          ("16 MiB + 1 of white space", b" " * (DOC_MAX + 1))):
            fd = os.open(self.path(t, "meta.json"), os.O_WRONLY | os.O_TRUNC)
            off, got = 0, "OK"
            # One write(2) reaches the daemon in pieces; a short count
            # means a later piece was refused: its error comes next.
            while off < len(doc):
                try:
                    off += os.write(fd, doc[off:])
                except OSError as e:
                    got = errname(e.errno)
                    break
            try:
                os.close(fd)
                cgot = "OK"
            except OSError as e:
                cgot = errname(e.errno)
            # The kernel hands a long write(2) over in pieces and reports
            # a refused later piece as a short count; the refusal holds for
            # every later write on that open file and is close(2)'s too.
            if got != "EFBIG" or cgot != "EFBIG":
                problem("%s: write %s after %d bytes, close %s; expected EFBIG, EFBIG" %
                        (what, got, off, cgot))
            self.count("big doc: %s after %d MiB" % (got, off >> 20))
            self.verify(t, "after a document of " + what, False)
        pad = DOC_MAX - len(b'{"rows": 5, "pad": ""}')
        doc = b'{"rows": 5, "pad": "' + b"p" * pad + b'"}'
        fd = os.open(self.path(t, "meta.json"), os.O_WRONLY | os.O_TRUNC)
        got = "OK"
        try:
            off = 0
            while off < len(doc):
                off += os.write(fd, doc[off:])
        except OSError as e:
            got = errname(e.errno)
        try:
            os.close(fd)
        except OSError as e:
            got = got if got != "OK" else "close " + errname(e.errno)
        want, changed = self.apply(t, doc)
        if got != want:
            problem("a valid document of exactly 16 MiB: %s, expected %s" % (got, want))
            self.resync(t)
        else:
            self.count("applied")
            self.verify(t, "after a valid document of 16 MiB", changed)

    def names(self):
        """Hostile names through mkdir and rename: all refused, nothing made."""
        def attempt(fn, *args):
            try:
                fn(*args)
                return "OK"
            except OSError as e:
                return errname(e.errno)

        before = {t: sorted(os.listdir(self.path(self.tables[t]))) for t in self.tables}
        root = sorted(os.listdir(self.mnt))
        t = self.tables["h0"]
        if not t.cols:
            self.write_doc(t, b'{"columns": [{"name": "nm", "type": "int8"}]}',
                           [b'{"columns": [{"name": "nm", "type": "int8"}]}'], "setup")
            before["h0"] = sorted(os.listdir(self.path(t)))
        col = sorted(t.cols)[0]
        # An empty name cannot be spelt in a path; ../x would leave the mount.
        fs_names = [n for n in HOSTILE_NAMES if n and "\0" not in n and not n.startswith("../")]
        fs_names += ["z" * 129, "z" * 255, "z" * 256, "a..b", "x.npy", "h0.arrow", "..a",
                     "a\u00ff", "\u001b[31m", "-rf", "--help", "a\rb", "\udc80\udc81"]
        for n in fs_names:
            nb = n.encode("utf-8", "surrogateescape")
            if n in (".", ".."):
                base = {"EEXIST", "EBUSY"}
            elif "/" in n:
                base = {"ENOENT", "EEXIST", "EBUSY", "EINVAL"} if n == "/" else {"ENOENT"}
            elif len(nb) > NAME_MAX:
                base = {"ENAMETOOLONG"}
            else:
                base = {"EINVAL"}
            if n == "/":
                base |= {"ENOTEMPTY", "EXDEV"}
            top, tdir = self.mnt + "/" + n, self.path(t) + "/" + n
            tries = [("mkdir", os.mkdir, (top,), base - {"EBUSY"}),
                     ("rename table", os.rename, (self.path(t), top), base - {"EEXIST"}),
                     ("rename column", os.rename, (self.path(t, col), tdir),
                      base | ({"EPERM"} if n == "meta.json" else set())),
                     ("mkdir in a table", os.mkdir, (tdir,), base | {"EPERM"})]
            if "/" in n:
                # the path goes through a column: not a directory
                tries[2] = tries[2][:3] + (tries[2][3] | {"ENOTDIR"},)
                tries[3] = tries[3][:3] + (tries[3][3] | {"ENOTDIR"},)
            if n == "meta.json":
                tries[3] = tries[3][:3] + (tries[3][3] | {"EEXIST"},)
            for what, fn, args, allowed in tries:
                got = attempt(fn, *args)
                self.count("name refused" if got in allowed else "name mismatch")
                if got not in allowed:
                    problem("%s to %r: %s, expected %s" % (what, n[:40], got,
                                                           " or ".join(sorted(allowed))))
        for what, args, allowed in (
                ("rename meta.json", (self.path(t, "meta.json"), self.path(t, "x")),
                 {"EINVAL", "EPERM"}),
                ("rename column across tables", (self.path(t, col), self.path(self.tables["h1"],
                                                                                col)), {"EXDEV"}),
                ("rename meta.json across tables", (self.path(t, "meta.json"),
                                                    self.path(self.tables["h1"], "meta.json")),
                 {"EXDEV", "EINVAL", "EPERM"})):
            got = attempt(os.rename, *args)
            self.count("name refused" if got in allowed else "name mismatch")
            if got not in allowed:
                problem("%s: %s, expected %s" % (what, got, " or ".join(sorted(allowed))))
        if sorted(os.listdir(self.mnt)) != root:
            problem("the mount root changed: %s, was %s" % (sorted(os.listdir(self.mnt)), root))
        for name, tb in self.tables.items():
            now = sorted(os.listdir(self.path(tb)))
            if now != before[name]:
                problem("table %s changed: %s, was %s" % (name, now, before[name]))
        self.check_all("after the hostile names")


# The schema forms of text, binary, category and nullable columns.  The
# model above knows only fixed-width columns, so these run on a table of
# their own, NEW_TABLE, against an oracle of consistency: a refused document
# changes nothing (meta.json byte for byte, the files and their bytes); an
# accepted one leaves every file that meta.json lists sized as its kind and
# rows say, nothing else in the directory, categories that start with the
# old ones, and a table.arrow that reads to its end.

NEW_TABLE = "n0"
NEW_COLS = ["s", "b", "k", "q", "f", "m"]
NEW_TYPES = ["utf8", "binary", "category", "string", "large_string", "large_binary", "int64",
             "bool", "float32", "bytes4", "int16"]
WEIRD_CATS = [["a", "a"], ["a", "b", "a"], [1, 2], [None], ["a", None], [{}], [[]], "a", 5, None,
              {"a": 1}, [True], [""], ["", ""], ["x\u0000y"], ["\udcff"], ["\u00e9", "e\u0301"]]
WEIRD_NBYTES = [-1, 0.5, 1e400, 2 ** 63, 2 ** 64, 2 ** 53 + 1, "10", None, True, [], {}, 1 << 40,
                5 << 20, (4 << 20) - 1]


def new_column(rng, cur):
    """A column document: a restatement of a current column (maybe changed),
    or a new one, valid or not."""
    if cur and rng.random() < 0.5:
        c = dict(rng.choice(cur))
        for k in ("dtype", "itemsize", "nbytes", "file", "shape"):
            if rng.random() < 0.7:
                c.pop(k, None)
        if rng.random() < 0.4:
            c.pop("files", None)
        r = rng.random()
        if c.get("type") in ("utf8", "binary") and r < 0.3:
            c["data_nbytes"] = rng.choice([0, 1, 17, 4096, rng.randrange(100000)])
        elif c.get("type") == "category" and r < 0.5:
            old = list(c.get("categories", []))
            k = rng.randrange(6)
            if k == 0:
                c["categories"] = old + ["n%d" % rng.randrange(50) for _ in range(rng.randrange(1, 4))]
            elif k == 1:
                c["categories"] = old[1:]  # shrinking: codes would change meaning
            elif k == 2:
                c["categories"] = old[::-1] + ["z"]
            elif k == 3:
                c["categories"] = old + old[:1]
            elif k == 4:
                c["categories"] = []
            else:
                c.pop("categories", None)
        elif r < 0.6:
            c["nullable"] = not c.get("nullable", False)
        elif r < 0.7:
            c["type"] = rng.choice(NEW_TYPES)
        return c
    c = {"name": rng.choice(NEW_COLS), "type": rng.choice(NEW_TYPES)}
    if rng.random() < 0.5:
        c["nullable"] = rng.random() < 0.8
    if c["type"] in ("utf8", "binary", "string", "large_string", "large_binary") and rng.random() < 0.7:
        c["data_nbytes"] = rng.choice([0, 3, 1000, rng.randrange(200000)])
    if c["type"] == "category" and rng.random() < 0.9:
        n = rng.choice([0, 1, 2, 5, 40])
        c["categories"] = ["c%d" % i for i in range(n)]
    if c["type"] in ("int16", "float32") and rng.random() < 0.2:
        c["shape"] = [rng.randrange(1, 4)]
    return c


def new_mutate(rng, c):
    k = rng.randrange(12)
    if k == 0:
        c["categories"] = rng.choice(WEIRD_CATS)
    elif k == 1:
        c["data_nbytes"] = rng.choice(WEIRD_NBYTES)
    elif k == 2:
        c["nullable"] = rng.choice([1, 0, "true", None, [], {}, "yes"])
    elif k == 3:
        c["shape"] = rng.choice([[2], [1], [0], [2, 2], 3])
    elif k == 4:
        c["categories"] = ["h%d" % i for i in range(rng.choice([1000, 100000, 1 << 20]))]
    elif k == 5:
        c["categories"] = ["L" * rng.choice([1000, 1 << 20, (4 << 20) + 1])]
    elif k == 6:
        c["files"] = rng.choice([[], 5, [{"role": "data", "file": "x", "nbytes": 1 << 40}],
                                 [{"role": "bogus"}], None, "x"])
    elif k == 7:
        c["dtype"] = rng.choice(["<i8", "<i4", "|u1", "O", "<U4"])
    elif k == 8:
        c["type"] = rng.choice(["utf8?", "Utf8", "string[pyarrow]", "category[int8]", "str",
                                "dictionary", "large_utf8", "object"])
    elif k == 9:
        c["data_nbytes"] = 2 ** 62
    elif k == 10:
        c["name"] = c.get("name", "s") + rng.choice([".data", ".null", ".dict", ".dict.data", ".npy"])
    else:
        c["categories"] = ["x%d" % i for i in range(rng.randrange(1, 5))]
        c["type"] = rng.choice(["int64", "utf8", "binary"])
    return c


def expected_files(m):
    """file -> size from the kind and the rows, for every column of m."""
    rows = m["rows"]
    out = {}
    for c in m["columns"]:
        shape_n = 1
        for d in c["shape"]:
            shape_n *= d
        fs = c.get("files")
        if fs is None:
            out[c["file"]] = (c["nbytes"], rows * c["itemsize"])
            continue
        cats = c.get("categories", [])
        for f in fs:
            want = {"values": rows * c["itemsize"], "offsets": (rows + 1) * 8, "codes": rows * 4,
                    "null": rows, "data": c.get("data_nbytes"), "dict": (len(cats) + 1) * 8,
                    "dict.data": sum(len(x.encode("utf-8", "surrogatepass")) for x in cats)}.get(f["role"])
            out[f["file"]] = (f["nbytes"], want)
    return out


def table_state(path):
    with open(path + "/meta.json", "rb") as f:
        text = f.read()
    files = {}
    for n in sorted(os.listdir(path)):
        if n != "meta.json":
            with open(path + "/" + n, "rb") as f:
                files[n] = f.read()
    return text, files


def new_forms(run, rng, count):
    """COUNT documents of the new schema forms to NEW_TABLE (made here and
    removed at the end)."""
    path = os.path.join(run.mnt, NEW_TABLE)
    os.mkdir(path)
    for i in range(count):
        text, files = table_state(path)
        m = json.loads(text)
        cur = m["columns"]
        doc = {}
        if rng.random() < 0.3:
            doc["rows"] = rng.choice([0, 1, 2, 7, 100, rng.randrange(3000)])
        cols = [new_column(rng, cur) for _ in range(rng.randrange(1, 4))]
        if cols and rng.random() < 0.4:
            new_mutate(rng, rng.choice(cols))
        if cols or "rows" not in doc:
            doc["columns"] = cols
        if rng.random() < 0.05:
            doc = m  # written back as rendered
        b = json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        what = "new-form document #%d %s" % (i, show(b, 300))
        got = "OK"
        try:
            fd = os.open(path + "/meta.json", os.O_WRONLY | os.O_TRUNC)
        except OSError as e:
            problem("%s: open meta.json: %s" % (what, errname(e.errno)))
            break
        try:
            off = 0
            while off < len(b):
                off += os.write(fd, b[off:])
        except OSError as e:
            got = errname(e.errno)
        try:
            os.close(fd)
        except OSError as e:
            got = got if got != "OK" else errname(e.errno)
        run.count("new form " + got)
        if run.serving is not None and serving_pid(run.dpid) != run.serving:
            problem("the serving process changed after %s" % what)
            break
        text2, files2 = table_state(path)
        if got != "OK":
            if got not in ("EINVAL", "ENOSPC", "EFBIG", "E2BIG", "ENAMETOOLONG"):
                problem("%s: refused with %s" % (what, got))
            if text2 != text or files2 != files:
                problem("%s: refused (%s) but the table changed" % (what, got))
            continue
        m2 = json.loads(text2)
        sizes = expected_files(m2)
        if set(files2) != set(sizes):
            problem("%s: directory %s, meta.json lists %s" % (what, sorted(files2), sorted(sizes)))
        for f, (nbytes, want) in sizes.items():
            if f in files2 and not (len(files2[f]) == nbytes == want):
                problem("%s: %s has %d bytes, meta.json %s, its kind and rows %s" %
                        (what, f, len(files2[f]), nbytes, want))
        old = {c["name"]: c for c in cur}
        for c in m2["columns"]:
            o = old.get(c["name"])
            if o and o["type"] != c["type"]:
                problem("%s: %s changed type %s -> %s" % (what, c["name"], o["type"], c["type"]))
            if o and o.get("nullable", False) != c.get("nullable", False):
                problem("%s: %s changed nullable" % (what, c["name"]))
            if o and c["type"] == "category" and c["categories"][:len(o["categories"])] != o["categories"]:
                problem("%s: categories of %s %s do not start with %s" %
                        (what, c["name"], c["categories"][:10], o["categories"][:10]))
            if c["type"] == "category" and len(set(c["categories"])) != len(c["categories"]):
                problem("%s: duplicate categories accepted" % what)
        try:
            with open(path + "/table.arrow", "rb") as f:
                while f.read(1 << 20):
                    pass
            run.count("new form table.arrow read")
        except OSError as e:
            problem("%s: table.arrow after it: %s" % (what, errname(e.errno)))
        if len(problems) > 200:
            break
    for n in os.listdir(path):
        if n != "meta.json":
            os.unlink(path + "/" + n)
    os.rmdir(path)


def main():
    mnt, seed, n, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    dpid = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if not hm.init():
        print("SKIP: libcjson not found")
        sys.exit(77)
    rng = random.Random(seed)
    run = Runner(mnt, limit, dpid, rng)
    for name in sorted(os.listdir(mnt)):
        if not name.startswith("."):
            run.tables[name] = Table(name)
    for name in TABLES:
        if name not in run.tables:
            os.mkdir(os.path.join(mnt, name))
            run.tables[name] = Table(name)
    for t in run.tables.values():
        run.resync(t)
    targets = [run.tables[x] for x in TABLES]
    t0 = time.monotonic()
    for i in range(n):
        t = rng.choice(targets)
        doc, label = make_doc(rng, t)
        chunks, how = chunks_of(rng, doc)
        run.count("doc " + label)
        run.count("via " + how)
        run.write_doc(t, doc, chunks, "%s #%d (%s)" % (label, i, how))
        if run.serving is not None and serving_pid(dpid) != run.serving:
            problem("the serving process changed (%s -> %s) after document #%d to %s: %s" %
                    (run.serving, serving_pid(dpid), i, t.name, show(doc, 400)))
            break
        r = rng.random()
        if r < 0.3:
            run.poke_data(t)
        elif (r < 0.33 and t.cols) or len(t.cols) > 12:
            run.drop_columns(t, rng.randrange(len(t.cols)) if len(t.cols) <= 12 else 6)
        elif r < 0.35 and t.rows > 2000:
            run.write_doc(t, b'{"rows": 100}', [b'{"rows": 100}'], "shrink")
        if i % 500 == 499:
            run.check_all("after %d documents" % (i + 1))
        if len(problems) > 200:
            break
    print("%d documents in %.1f s" % (n, time.monotonic() - t0))
    run.big_docs(targets[0])
    run.names()
    run.check_all("at the end")
    new_forms(run, rng, max(50, n // 5))
    run.check_all("after the new schema forms")
    for k in sorted(run.counts):
        print("  %-40s %d" % (k, run.counts[k]))
    if run.counts.get("ENOSPC at write", 0) == 0 or run.counts.get("EINVAL at close", 0) == 0:
        problem("the documents never hit ENOSPC or an error at close: the generator is broken")
    if problems:
        print("FAILED %d" % len(problems))
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
