"""The model behind hostile.py: what the daemon must do with a document.

The JSON layer is cJSON itself (through ctypes), the library the daemon
parses with: what is JSON is not under test, what the daemon does with it
is.  Strings a document names are also decoded by Python's json, so a name
with an escaped NUL ("a\\u0000b") is judged as the name it is, not as the C
string cJSON hands over.  Everything above JSON (names, types, shapes, rows,
the memory limit, which column keeps which bytes) follows the contract,
written independently of the daemon's code.
"""

import ctypes
import ctypes.util
import json
import re

import numpy as np

DOC_MAX = 16 << 20
PAGE = 4096
ITEMSIZE_MAX = 1 << 31
MAX_DIMS = 8
NAME_MAX = 128
NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$")

# cJSON through ctypes: the JSON layer of the model


class CJ(ctypes.Structure):
    pass


CJ._fields_ = [("next", ctypes.POINTER(CJ)), ("prev", ctypes.POINTER(CJ)),
               ("child", ctypes.POINTER(CJ)), ("type", ctypes.c_int),
               ("valuestring", ctypes.c_char_p), ("valueint", ctypes.c_int),
               ("valuedouble", ctypes.c_double), ("string", ctypes.c_char_p)]
T_FALSE, T_TRUE, T_NULL, T_NUM, T_STR, T_ARR, T_OBJ = 1, 2, 4, 8, 16, 32, 64


def load_cjson():
    for name in (ctypes.util.find_library("cjson"), "libcjson.so.1", "libcjson.so"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.cJSON_ParseWithLengthOpts.restype = ctypes.POINTER(CJ)
        lib.cJSON_ParseWithLengthOpts.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                                  ctypes.POINTER(ctypes.c_char_p), ctypes.c_int]
        lib.cJSON_Delete.argtypes = [ctypes.POINTER(CJ)]
        return lib
    return None


CJSON = None


def init():
    """Loads cJSON; False when it is not installed."""
    global CJSON
    CJSON = load_cjson()
    return CJSON is not None


def cj_to_py(p, pytree):
    """The cJSON tree as Python values.  Objects keep every member in
    order (list of pairs); strings come from pytree (Python's decoding of
    the same text) where it has them, else cJSON's C string."""
    n = p.contents
    t = n.type & 0xFF
    if t == T_OBJ or t == T_ARR:
        out = []
        c = n.child
        i = 0
        pyitems = None
        if t == T_OBJ and isinstance(pytree, list):
            pyitems = pytree
        elif t == T_ARR and isinstance(pytree, list):
            pyitems = pytree
        while c:
            sub = pyitems[i] if pyitems is not None and i < len(pyitems) else None
            if t == T_OBJ:
                key = c.contents.string.decode("utf-8", "surrogateescape")
                pysub = sub[1] if isinstance(sub, tuple) else None
                out.append((key, cj_to_py(c, pysub)))
            else:
                out.append(cj_to_py(c, sub))
            c = c.contents.next
            i += 1
        return ("obj", out) if t == T_OBJ else ("arr", out)
    if t == T_STR:
        if isinstance(pytree, str):
            return ("str", pytree)
        return ("str", n.valuestring.decode("utf-8", "surrogateescape"))
    if t == T_NUM:
        return ("num", n.valuedouble)
    if t in (T_TRUE, T_FALSE):
        return ("bool", t == T_TRUE)
    if t == T_NULL:
        return ("null", None)
    return ("raw", None)


def py_tree(text):
    """Python's reading of text, objects as lists of (key, value) in order,
    or None where Python will not read it (cJSON is laxer in places)."""
    def hook(pairs):
        return [(k, v) for k, v in pairs]

    def noconst(x):
        raise ValueError(x)

    try:
        return json.loads(text.decode("utf-8", "surrogateescape"),
                          object_pairs_hook=hook, parse_constant=noconst)
    except (ValueError, RecursionError):
        return None


def cjson_parse(buf):
    """buf as a whole JSON value per cJSON (trailing white space allowed):
    the tree, or None."""
    end = ctypes.c_char_p()
    p = CJSON.cJSON_ParseWithLengthOpts(buf, len(buf), ctypes.byref(end), 0)
    if not p:
        return None
    try:
        # end points into our buffer: how far cJSON read.
        base = ctypes.cast(ctypes.c_char_p(buf), ctypes.c_void_p).value
        used = ctypes.cast(end, ctypes.c_void_p).value - base
        if buf[used:].strip(b" \t\r\n"):
            return None
        return cj_to_py(p, py_tree(buf))
    finally:
        CJSON.cJSON_Delete(p)


# The stream: when is a document complete


WS = b" \t\r\n"


CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def has_control(buf):
    return CONTROL.search(buf) is not None


def json_state(buf):
    """'complete', 'invalid' (certainly, whatever follows) or 'incomplete'
    for the bytes written so far; 'deep' when nesting passes 64 levels
    (no schema document is that deep: the daemon may apply what it has)."""
    if has_control(buf):
        return "invalid"
    s = buf.lstrip(WS)
    if not s:
        return "incomplete"
    if s[:1] != b"{":
        return "invalid"
    stack = []
    in_str = esc = False
    for i, c in enumerate(s):
        if in_str:
            if esc:
                esc = False
            elif c == 0x5C:
                esc = True
            elif c == 0x22:
                in_str = False
        elif c == 0x22:
            in_str = True
        elif c in b"{[":
            stack.append(0x7D if c == 0x7B else 0x5D)
            if len(stack) > 64:
                return "deep"
        elif c in b"}]":
            if not stack or stack.pop() != c:
                return "invalid"
            if not stack:
                return "complete"
    return "incomplete"


# Types, names, shapes: the contract

KINDS = {"b": "bool", "i": "int", "u": "uint", "f": "float", "M": "datetime", "m": "timedelta",
         "S": "bytes"}
UNITS = ("s", "ms", "us", "ns")
CONTRACT = {"bool": ("bool", 1), "float": ("float", 8), "int": ("int", 8)}
for _b in (8, 16, 32, 64):
    CONTRACT["int%d" % _b] = ("int", _b // 8)
    CONTRACT["uint%d" % _b] = ("uint", _b // 8)
for _b in (16, 32, 64):
    CONTRACT["float%d" % _b] = ("float", _b // 8)
CODES = {"b1", "?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8",
         "b", "B", "h", "H", "i", "I", "l", "L", "q", "Q", "e", "f", "d"}


def count(s):
    if not re.fullmatch(r"[1-9][0-9]*", s):
        return 0
    n = int(s)
    return n if n <= ITEMSIZE_MAX else 0


def parse_type(s):
    """(kind, size, unit) of a type or dtype string, or None."""
    if "\0" in s or not s:
        return None
    if s in CONTRACT:
        k, n = CONTRACT[s]
        return (k, n, "")
    for pre, kind in (("datetime64", "datetime"), ("timedelta64", "timedelta")):
        if s.startswith(pre):
            u = s[len(pre):]
            return (kind, 8, u[1:-1]) if u[:1] == "[" and u[-1:] == "]" and u[1:-1] in UNITS else None
    if s.startswith("bytes"):
        n = count(s[5:])
        return ("bytes", n, "") if n else None
    big = s[0] in ">!"
    code = s[1:] if s[0] in "<>=|!" else s
    if code in CODES:
        # numpy says what the code means (x86_64 Linux sizes).
        dt = np.dtype(code)
        t = (KINDS[dt.kind], dt.itemsize, "")
    elif code[:2] in ("M8", "m8"):
        u = code[2:]
        if not (u[:1] == "[" and u[-1:] == "]" and u[1:-1] in UNITS):
            return None
        t = ("datetime" if code[0] == "M" else "timedelta", 8, u[1:-1])
    elif code[:1] == "S" and len(code) > 1:
        n = count(code[1:])
        if not n:
            return None
        t = ("bytes", n, "")
    else:
        return None
    if big and t[1] > 1 and t[0] != "bytes":
        return None
    return t


def type_name(t):
    k, n, u = t
    if k == "bool":
        return "bool"
    if k in ("int", "uint", "float"):
        return "%s%d" % (k, n * 8)
    if k in ("datetime", "timedelta"):
        return "%s64[%s]" % (k, u)
    return "bytes%d" % n


def type_dtype(t):
    k, n, u = t
    if k == "bool":
        return "|b1"
    if k in ("int", "uint", "float"):
        return "%s%s%d" % ("|" if n == 1 else "<", k[0] if k != "float" else "f", n)
    if k in ("datetime", "timedelta"):
        return "<%s8[%s]" % ("M" if k == "datetime" else "m", u)
    return "|S%d" % n


def name_ok(s):
    if len(s.encode("utf-8", "surrogateescape")) > NAME_MAX:
        return False
    return bool(NAME_RE.fullmatch(s))


def whole(v, maxv):
    """A JSON number that is a whole number in [0, maxv], as C sees it."""
    if v[0] != "num":
        return None
    d = v[1]
    if d != d or d in (float("inf"), float("-inf")) or d < 0 or d != int(d) or d > maxv:
        return None
    return int(d)


def get(obj, key):
    for k, v in obj[1]:
        if k == key:
            return v
    return None


def has_duplicate_key(obj):
    """An object with two members of one name is refused, whole."""
    keys = [k for k, _ in obj[1]]
    return len(keys) != len(set(keys))


ESCAPED_NUL = re.compile(rb"\\[uU]0000")

# The keys meta.json renders: any other key is refused (a misspelling).
DOC_KEYS = {"format", "name", "version", "rows", "columns"}
COLUMN_KEYS = {"name", "type", "dtype", "shape", "itemsize", "nbytes", "file"}


def has_unknown_key(obj, keys):
    return any(k not in keys for k, _ in obj[1])


def charge(n):
    return (n + PAGE - 1) // PAGE * PAGE


class Refused(Exception):
    def __init__(self, err, why):
        Exception.__init__(self, why)
        self.err = err


def parse_column(c):
    if c[0] != "obj":
        raise Refused("EINVAL", "column not an object")
    if has_duplicate_key(c):
        raise Refused("EINVAL", "duplicate key in a column")
    if has_unknown_key(c, COLUMN_KEYS):
        raise Refused("EINVAL", "unknown key in a column")
    name, typ, dtyp, shape = get(c, "name"), get(c, "type"), get(c, "dtype"), get(c, "shape")
    if name is None or name[0] != "str":
        raise Refused("EINVAL", "no name")
    for v in (typ, dtyp):
        if v is not None and v[0] != "str":
            raise Refused("EINVAL", "type not a string")
    if typ is None and dtyp is None:
        raise Refused("EINVAL", "no type")
    dims = []
    if shape is not None and shape[0] == "num":
        d = whole(shape, ITEMSIZE_MAX)
        if d is None:
            raise Refused("EINVAL", "bad shape")
        dims = [d]
    elif shape is not None and shape[0] != "null":
        if shape[0] != "arr":
            raise Refused("EINVAL", "shape not an array")
        for v in shape[1]:
            d = whole(v, ITEMSIZE_MAX)
            if d is None or len(dims) == MAX_DIMS:
                raise Refused("EINVAL", "bad shape")
            dims.append(d)
    nm = name[1]
    if not name_ok(nm):
        raise Refused("ENAMETOOLONG" if len(nm.encode("utf-8", "surrogateescape")) > NAME_MAX
                      else "EINVAL", "bad name")
    t = parse_type((typ or dtyp)[1])
    if t is None:
        raise Refused("EINVAL", "bad type")
    item = t[1]
    for d in dims:
        if d == 0 or item * d > ITEMSIZE_MAX:
            raise Refused("EINVAL", "bad shape")
        item *= d
    if typ is not None and dtyp is not None and parse_type(dtyp[1]) != t:
        raise Refused("EINVAL", "type and dtype disagree")
    return nm, t, tuple(dims), item


class Table:
    def __init__(self, name):
        self.name = name
        self.rows = 0
        self.version = None
        self.cols = {}  # name -> [type, shape, itemsize, bytearray]
        self.text = None

    def used(self):
        return sum(charge(self.rows * c[2]) for c in self.cols.values())


def plan(doc, t, used, limit):
    """What applying the document doc (bytes) to table t does: returns
    (rows, new columns [(name, type, shape, itemsize)], changes) or raises
    Refused.  'unsure' in the error means the daemon may go either way."""
    if has_control(doc):
        raise Refused("EINVAL", "control character")
    # One rule whether written at once or in pieces: what the stream check
    # does not see as one complete document (too deep, say) is refused.
    if json_state(doc) != "complete":
        raise Refused("EINVAL", "not one complete document")
    if ESCAPED_NUL.search(doc):
        raise Refused("EINVAL", "escaped NUL")
    root = cjson_parse(doc)
    if root is None:
        raise Refused("EINVAL", "not JSON")
    if root[0] != "obj":
        raise Refused("EINVAL", "not an object")
    if has_duplicate_key(root):
        raise Refused("EINVAL", "duplicate key")
    if has_unknown_key(root, DOC_KEYS):
        raise Refused("EINVAL", "unknown key")
    rows = t.rows
    r = get(root, "rows")
    if r is not None:
        rows = whole(r, 1 << 53)
        if rows is None:
            raise Refused("EINVAL", "bad rows")
    cols = get(root, "columns")
    if cols is not None and cols[0] != "arr":
        raise Refused("EINVAL", "columns not an array")
    parsed = []
    for c in cols[1] if cols else []:
        try:
            pc = parse_column(c)
        except Refused as e:
            # A bad name is EINVAL in a document whatever its length.
            raise Refused("EINVAL", e.args[0])
        if any(p[0] == pc[0] for p in parsed):
            raise Refused("EINVAL", "duplicate column")
        parsed.append(pc)
    lim = 1 << 62
    release = add = 0
    for c in t.cols.values():
        if rows * c[2] > lim:
            raise Refused("ENOSPC", "too big")
        if rows != t.rows:
            release += charge(t.rows * c[2])
            add += charge(rows * c[2])
    new = []
    for nm, ty, sh, item in parsed:
        if nm in t.cols:
            if t.cols[nm][0] != ty or t.cols[nm][1] != sh:
                raise Refused("EINVAL", "type change")
            continue
        if rows * item > lim:
            raise Refused("ENOSPC", "too big")
        add += charge(rows * item)
        new.append((nm, ty, sh, item))
    if add > limit or max(used - release, 0) > limit - add:
        raise Refused("ENOSPC", "over the limit")
    return rows, new, rows != t.rows or bool(new)
