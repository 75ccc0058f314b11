// Reads a live table two ways and checks they agree value for value: the
// raw column files read into typed arrays with the schema from meta.json
// (what any Node.js program can do), and table.arrow through Apache
// Arrow's reader.  Prints "N passed, M failed"; exits 1 on any failure.
//   node views_check.mjs TABLEDIR
import { readFileSync } from "node:fs";
import { tableFromIPC } from "apache-arrow";

const dir = process.argv[2];
const meta = JSON.parse(readFileSync(`${dir}/meta.json`, "utf8"));
const table = tableFromIPC(readFileSync(`${dir}/table.arrow`));
let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) passed++; else { failed++; console.log(`FAIL: ${what}`); } };

// Typed-array view of a raw column, by numpy dtype.
const arrays = {
  "|b1": Uint8Array, "|i1": Int8Array, "|u1": Uint8Array, "<i2": Int16Array, "<u2": Uint16Array,
  "<i4": Int32Array, "<u4": Uint32Array, "<i8": BigInt64Array, "<u8": BigUint64Array,
  "<f2": Uint16Array, "<f4": Float32Array, "<f8": Float64Array,
};
function rawColumn(c) {
  const buf = readFileSync(`${dir}/${c.file}`);
  check(buf.length === meta.rows * c.itemsize, `${c.name}: file size is rows * itemsize`);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  if (c.dtype.startsWith("|S")) return new Uint8Array(ab);
  const T = c.dtype.startsWith("<M8") || c.dtype.startsWith("<m8") ? BigInt64Array : arrays[c.dtype];
  return new T(ab);
}

check(table.numRows === meta.rows, `rows ${table.numRows} == ${meta.rows}`);
check(table.schema.fields.length === meta.columns.length, "one field per column");
for (const c of meta.columns) {
  const raw = rawColumn(c);
  const col = table.getChild(c.name);
  check(col !== null, `${c.name}: present in table.arrow`);
  if (!col) continue;
  const perRow = c.shape.reduce((a, b) => a * b, 1);
  const width = c.dtype.startsWith("|S") ? Number(c.dtype.slice(2)) : 1;
  let bad = 0;
  for (let r = 0; r < meta.rows; r++) {
    // Flatten the Arrow value of row r (nested FixedSizeLists) to scalars.
    const flat = [];
    const walk = (v, depth) => {
      if (depth < c.shape.length) { for (const x of v) walk(x, depth + 1); } else flat.push(v);
    };
    walk(col.get(r), 0);
    for (let k = 0; k < perRow; k++) {
      const i = r * perRow + k;
      let want, got = flat[k];
      if (c.dtype.startsWith("|S")) {
        want = Buffer.from(raw.subarray(i * width, (i + 1) * width));
        got = Buffer.from(got);
        if (!want.equals(got)) bad++;
        continue;
      }
      if (c.dtype === "|b1") { want = raw[i] !== 0; }
      else if (c.dtype.startsWith("<M8") || c.dtype.startsWith("<m8")) {
        // Arrow's get() converts time to milliseconds: compare raw int64s.
        got = col.data[0].children.length ? null : col.data[0].values[i];
        want = raw[i];
      } else if (c.dtype === "<f2") {
        got = col.data[0].children.length ? null : col.data[0].values[i];
        want = raw[i];
      } else want = raw[i];
      if (c.shape.length && (c.dtype.startsWith("<M8") || c.dtype.startsWith("<m8") || c.dtype === "<f2")) {
        let d = col.data[0];
        while (d.children.length) d = d.children[0];
        got = d.values[i];
      }
      if (!(got === want || (Number.isNaN(got) && Number.isNaN(want)))) bad++;
    }
  }
  check(bad === 0, `${c.name} (${c.type}${JSON.stringify(c.shape)}): ${bad} values differ`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
