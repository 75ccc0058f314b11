// Reads the text, binary, category and nullable columns of a live table two
// ways and checks they agree value for value: the raw files that meta.json's
// "files" lists (offsets, data, null mask, codes, dictionary), decoded by
// hand as any Node.js program can, and table.arrow through Apache Arrow's
// reader.  Prints "N passed, M failed"; exits 1 on any failure.
//   node text_check.mjs TABLEDIR...
import { readFileSync } from "node:fs";
import { tableFromIPC, Type } from "apache-arrow";

let passed = 0, failed = 0;
const check = (ok, what) => { if (ok) passed++; else { failed++; console.log(`FAIL: ${what}`); } };
const typed = { "<i8": BigInt64Array, "<i4": Int32Array, "<i2": Int16Array, "<f8": Float64Array,
  "<f4": Float32Array, "|u1": Uint8Array, "|b1": Uint8Array, "|i1": Int8Array, "<u2": Uint16Array,
  "<u4": Uint32Array, "<u8": BigUint64Array };

for (const dir of process.argv.slice(2)) {
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, "utf8"));
  const table = tableFromIPC(readFileSync(`${dir}/table.arrow`));
  check(table.numRows === meta.rows, `${dir}: rows ${table.numRows} == ${meta.rows}`);
  for (const c of meta.columns) {
    if (!c.files) continue; // old kinds: views_check.mjs covers them
    const file = (role) => {
      const f = c.files.find((x) => x.role === role);
      const b = readFileSync(`${dir}/${f.file}`);
      check(b.length === f.nbytes, `${c.name}.${role}: size ${b.length} == nbytes ${f.nbytes}`);
      const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
      return new typed[f.dtype](ab);
    };
    const mask = c.nullable ? file("null") : null;
    const text = (offs, data, i, binary) => {
      const v = data.subarray(Number(offs[i]), Number(offs[i + 1]));
      return binary ? Buffer.from(v).toString("hex") : Buffer.from(v).toString("utf8");
    };
    let want;
    if (c.type === "utf8" || c.type === "binary") {
      const offs = file("offsets"), data = file("data");
      want = (i) => text(offs, data, i, c.type === "binary");
    } else if (c.type === "category") {
      const codes = file("codes"), doffs = file("dict"), ddata = file("dict.data");
      const cats = c.categories.map((_, k) => text(doffs, ddata, k, false));
      check(JSON.stringify(cats) === JSON.stringify(c.categories), `${c.name}: dictionary files == categories`);
      want = (i) => (codes[i] === -1 ? null : cats[codes[i]]);
    } else if (c.shape.length === 0) {
      const vals = file("values");
      want = (i) => (c.dtype === "|b1" ? vals[i] !== 0 : vals[i]);
    } else continue;
    const col = table.getChild(c.name);
    check(col !== null, `${c.name}: present in table.arrow`);
    if (!col) continue;
    const tid = col.type.typeId;
    const wantType = { utf8: Type.LargeUtf8, binary: Type.LargeBinary, category: Type.Dictionary }[c.type];
    if (wantType !== undefined) check(tid === wantType, `${c.name}: arrow type ${col.type} for ${c.type}`);
    let bad = 0, nulls = 0, first = "";
    for (let r = 0; r < meta.rows; r++) {
      const w = mask && mask[r] ? null : want(r);
      let g = col.get(r);
      if (g !== null && c.type === "binary") g = Buffer.from(g).toString("hex");
      if (w === null) nulls++;
      if (!(g === w || (typeof g === "number" && Number.isNaN(g) && Number.isNaN(w)))) {
        if (!bad) first = `row ${r}: ${String(g).slice(0, 40)} != ${String(w).slice(0, 40)}`;
        bad++;
      }
    }
    check(bad === 0, `${dir} ${c.name} (${c.type}${c.nullable ? "?" : ""}): ${bad} values differ; ${first}`);
    check(col.nullCount === nulls, `${c.name}: nullCount ${col.nullCount} == ${nulls}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
