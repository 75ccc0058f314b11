"""arrow_check.py PATH ROWS: reads the Arrow IPC file written by arrow_dump
with pyarrow (memory-mapped, as a user of table.arrow would), validates it
fully and checks the schema and every value (or null) of the columns of
several files, then converts the table to pandas.  The formulas mirror
arrow_dump.c.  Prints "N passed, N failed", exits 1 on any failure."""
import sys

import pyarrow as pa

path, rows = sys.argv[1], int(sys.argv[2])
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}" + (f": {detail}" if detail else ""))


words = ["a", "h\u00e9llo", "\u65e5\u672c", 'x,y"z\n']
cats = ["AAPL", "MSFT", "\u65e5\u672c", ""]


def text(i):
    return "" if i % 5 == 0 else words[i % 4] + str(i)


dict_type = pa.dictionary(pa.int32(), pa.large_string(), ordered=False)
# name: (type, value of row i or None for a null, nullable)
cols = {
    "s": (pa.large_string(), lambda i: None if i in (0, rows - 1) or i % 7 == 3 else text(i), True),
    "s_all": (pa.large_string(), lambda i: None, True),
    "s_none": (pa.large_string(), text, False),
    "blob": (pa.large_binary(),
             lambda i: None if i % 6 == 5 else bytes((i + 37 * j) & 0xFF for j in range(i % 4)), True),
    "sym": (dict_type, lambda i: None if i % 7 == 3 or i % 5 == 0 else cats[i % 5 - 1], True),
    "sym0": (dict_type, lambda i: None, True),
    "qty": (pa.int64(), lambda i: None if i % 4 == 1 else i * 3 - 100, True),
    "px": (pa.float64(), lambda i: None if i % 3 == 2 else i * 0.5 - 7, True),
    "ok": (pa.bool_(), lambda i: None if i % 5 == 4 else i % 2 == 0, True),
}

with pa.memory_map(path) as source:
    reader = pa.ipc.open_file(source)
    check("one record batch", reader.num_record_batches == 1)
    table = reader.read_all()
    try:
        table.validate(full=True)
        check("validate(full=True)", True)
    except pa.ArrowInvalid as e:
        check("validate(full=True)", False, str(e))
    check("num_rows", table.num_rows == rows, f"got {table.num_rows}")
    check("i64 still there", table.column("i64").to_pylist() == [i * (1 << 40) - 7 for i in range(rows)])
    for name, (typ, value, nullable) in cols.items():
        field = table.schema.field(name)
        check(f"{name}: type", field.type == typ, f"got {field.type}, want {typ}")
        check(f"{name}: nullable", field.nullable == nullable, f"got {field.nullable}")
        col = table.column(name)
        want = [value(i) for i in range(rows)]
        check(f"{name}: null_count", col.null_count == sum(v is None for v in want),
              f"got {col.null_count}")
        got = col.to_pylist()
        bad = [i for i in range(rows) if got[i] != want[i]]
        for i in bad[:3]:
            check(f"{name}[{i}]", False, f"got {got[i]!r}, want {want[i]!r}")
        check(f"{name}: every value", not bad, f"{len(bad)} wrong")
        if typ == dict_type and rows:
            chunk = col.chunk(0)
            check(f"{name}: dictionary", chunk.dictionary.to_pylist() == (cats if name == "sym" else []))
    try:
        import pandas  # noqa: F401  (only to know whether to_pandas can work)
    except ImportError:
        print("note: no pandas in this python, to_pandas not tried")
    else:
        df = table.to_pandas()
        check("pandas: category", str(df["sym"].dtype) == "category", str(df["sym"].dtype))
        check("pandas: categories", list(df["sym"].cat.categories) == cats)
        got = [None if v is None or v != v else v for v in df["s"].tolist()]
        check("pandas: values", got == [cols["s"][1](i) for i in range(rows)])
        del df
    del table, reader

print(f"{path} ({rows} rows, pyarrow {pa.__version__}): {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
