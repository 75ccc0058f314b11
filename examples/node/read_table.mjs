// read_table.mjs: reads a tablefs table from Node.js two ways and checks
// that they agree.
//
//   node read_table.mjs TABLEDIR
//
// 1. The raw columns: meta.json gives each column's numpy dtype, its
//    per-row shape and its file; the file is exactly rows * itemsize bytes
//    of little-endian values, read straight into the matching typed array
//    (Float64Array, Int32Array, BigInt64Array, ...).
// 2. The table.arrow view beside them (an Arrow IPC file the daemon derives
//    from the same memory, not listed by ls), read with Apache Arrow's
//    tableFromIPC.
//
// Prints, for each column, the sum of all its values from both (for a bool
// column the number of true values, for bytesN the sum of the bytes) and
// "equal" or "DIFFERENT"; "ok" at the end, or exits 1 on any difference.
// Needs Node.js 18 or later and, once, `npm install` in this directory.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tableFromIPC } from "apache-arrow";

const dir = process.argv[2];
if (!dir) {
  console.error("usage: node read_table.mjs TABLEDIR");
  process.exit(2);
}

// numpy dtype -> typed array over the raw bytes.  Columns are little-endian,
// as typed arrays are on every host Node.js runs on in practice.
const TYPED = {
  "|b1": Uint8Array, "|i1": Int8Array, "|u1": Uint8Array,
  "<i2": Int16Array, "<u2": Uint16Array, "<f2": Uint16Array,
  "<i4": Int32Array, "<u4": Uint32Array, "<f4": Float32Array,
  "<i8": BigInt64Array, "<u8": BigUint64Array, "<f8": Float64Array,
};

function typedArrayOf(dtype) {
  if (dtype.startsWith("|S")) return Uint8Array; // N bytes a value
  if (/^<[Mm]8\[/.test(dtype)) return BigInt64Array; // datetime64, timedelta64
  const T = TYPED[dtype];
  if (!T) throw new Error(`no typed array for dtype ${dtype}`);
  return T;
}

// float16 bits -> Number: the typed arrays have no Float16Array yet.
function half(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

// The sum of a flat sequence of values of a column, in order: BigInt for
// 64-bit integers (exact), Number otherwise (float16 converted first).
function sum(values, dtype) {
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    let s = 0n;
    for (const v of values) s += v;
    return s;
  }
  let s = 0;
  if (dtype === "<f2") for (const v of values) s += half(v);
  else for (const v of values) s += v;
  return s;
}

function rawColumn(meta, c) {
  const buf = readFileSync(join(dir, c.file));
  if (buf.length !== meta.rows * c.itemsize)
    throw new Error(`${c.file}: ${buf.length} bytes, not rows * itemsize = ${meta.rows * c.itemsize}`);
  // A fresh, aligned copy: a typed array needs its element alignment.
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  return new (typedArrayOf(c.dtype))(ab);
}

// All values of an Arrow column, row-major, as the same kind of typed array:
// a column with a per-row shape is nested FixedSizeLists, so walk down to
// the leaf data of each record batch and take its values buffer.
function arrowValues(vector, c) {
  const parts = [];
  for (const chunk of vector.data) {
    let d = chunk;
    let off = d.offset, len = d.length;
    while (d.children.length) { // FixedSizeList: listSize leaf values a row
      const size = d.type.listSize;
      d = d.children[0];
      off = d.offset + off * size;
      len *= size;
    }
    if (c.dtype === "|b1") { // Arrow packs booleans 8 to a byte
      const bits = new Uint8Array(len);
      for (let i = 0; i < len; i++) bits[i] = (d.values[(off + i) >> 3] >> ((off + i) & 7)) & 1;
      parts.push(bits);
    } else {
      const width = c.dtype.startsWith("|S") ? Number(c.dtype.slice(2)) : 1;
      parts.push(d.values.subarray(off * width, (off + len) * width));
    }
  }
  if (parts.length === 1) return parts[0];
  // No record batch (0 rows), or several: one array of the leaf's type.
  const T = parts.length ? parts[0].constructor : typedArrayOf(c.dtype);
  const all = new T(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { all.set(p, at); at += p.length; }
  return all;
}

const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
const table = tableFromIPC(readFileSync(join(dir, "table.arrow")));
console.log(`meta.json: ${meta.rows} rows, ${meta.columns.length} columns, version ${meta.version}`);
console.log(`table.arrow: ${table.numRows} rows, ${table.numCols} fields`);

let bad = 0;
if (table.numRows !== meta.rows) {
  console.log(`DIFFERENT row counts: meta.json ${meta.rows}, table.arrow ${table.numRows}`);
  bad++;
}
for (const c of meta.columns) {
  const field = table.schema.fields.find((f) => f.name === c.name);
  const vector = table.getChild(c.name);
  if (!field || !vector) {
    console.log(`${c.name}: MISSING from table.arrow`);
    bad++;
    continue;
  }
  let raw;
  try {
    raw = sum(rawColumn(meta, c), c.dtype);
  } catch (e) { // a size other than rows * itemsize: the table changed meanwhile
    console.log(`${c.name}: ${e.message}`);
    bad++;
    continue;
  }
  const arrow = sum(arrowValues(vector, c), c.dtype);
  const same = raw === arrow || (Number.isNaN(raw) && Number.isNaN(arrow));
  if (!same) bad++;
  const shape = c.shape.length ? `[${c.shape}]` : "";
  console.log(`${c.name} ${c.dtype}${shape} (arrow ${field.type}): raw sum ${raw}, arrow sum ${arrow}: ` +
              (same ? "equal" : "DIFFERENT"));
}
console.log(bad ? "FAILED" : "ok");
process.exit(bad ? 1 : 0);
