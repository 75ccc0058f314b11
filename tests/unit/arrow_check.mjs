// arrow_check.mjs PATH ROWS: reads the Arrow IPC file written by arrow_dump
// with Apache Arrow's JavaScript implementation and checks the schema, the
// length and every value (or null) of every column.  The formulas mirror
// arrow_dump.c.
// Prints "N passed, N failed" and exits non-zero on any failure.
import { readFileSync } from 'node:fs';
import { tableFromIPC, Type, Precision, TimeUnit } from 'apache-arrow';

const [path, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);
let passed = 0;
let failed = 0;

function check(what, ok, detail = '') {
	if (ok) {
		passed++;
	} else {
		failed++;
		console.log(`FAIL: ${what}${detail ? ': ' + detail : ''}`);
	}
}

function eq(what, got, want) {
	check(what, got === want, `got ${String(got)}, want ${String(want)}`);
}

const u8 = (x) => x & 0xff;
const i8 = (x) => (x << 24) >> 24;
const i16 = (x) => (x << 16) >> 16;
const half = (i) => (i % 1000) * 0.5 - 4;

// Column number k (its index in arrow_dump.c's table), name, type check and
// value of row i (for lists: the list of element values).
const int = (bits, signed) => (t) => t.typeId === Type.Int && t.bitWidth === bits && t.isSigned === signed;
const cols = [
	['i8', int(8, true), (i) => i8(i * 3 - 7)],
	['i16', int(16, true), (i) => i16(i * 300 - 7000)],
	['i32', int(32, true), (i) => (i * 100000 - 1000000) | 0],
	['i64', int(64, true), (i) => BigInt(i) * (1n << 40n) - 7n],
	['u8', int(8, false), (i) => u8(i * 7)],
	['u16', int(16, false), (i) => (i * 1801) & 0xffff],
	['u32', int(32, false), (i) => (i * 123456789) % 2 ** 32],
	['u64', int(64, false), (i) => (1n << 63n) + BigInt(i) * 3n],
	['f16', (t) => t.typeId === Type.Float && t.precision === Precision.HALF, half],
	['f32', (t) => t.typeId === Type.Float && t.precision === Precision.SINGLE, (i) => i * 0.25 - 3],
	['f64', (t) => t.typeId === Type.Float && t.precision === Precision.DOUBLE, (i) => i / 3 - 1e10],
	['flag', (t) => t.typeId === Type.Bool, (i) => i % 3 === 0],
];
const units = [TimeUnit.SECOND, TimeUnit.MILLISECOND, TimeUnit.MICROSECOND, TimeUnit.NANOSECOND];
['s', 'ms', 'us', 'ns'].forEach((u, j) => {
	const k = cols.length;
	cols.push([`ts_${u}`, (t) => t.typeId === Type.Timestamp && t.unit === units[j] && !t.timezone,
		(i) => 1700000000n + BigInt(i) * 12345n + BigInt(k), 'raw']);
});
['s', 'ms', 'us', 'ns'].forEach((u, j) => {
	const k = cols.length;
	cols.push([`td_${u}`, (t) => t.typeId === Type.Duration && t.unit === units[j],
		(i) => BigInt(i) * 1000003n - 5n - BigInt(k)]);
});
cols.push(['b5', (t) => t.typeId === Type.FixedSizeBinary && t.byteWidth === 5,
	(i) => [u8(i), u8(i + 1), u8(i + 2), u8(255 - (i % 256)), 65 + (i % 26)]]);
const fsl = (n, child) => (t) => t.typeId === Type.FixedSizeList && t.listSize === n &&
	t.children.length === 1 && t.children[0].name === 'item' && !t.children[0].nullable &&
	child(t.children[0].type);
cols.push(['vec', fsl(3, (t) => t.typeId === Type.Float && t.precision === Precision.SINGLE),
	(i) => [0, 1, 2].map((j) => (i % 10000) * 3 + j + 0.5)]);
cols.push(['mat', fsl(2, fsl(3, int(16, true))),
	(i) => [0, 1].map((a) => [0, 1, 2].map((b) => i16((i % 100) * 100 + a * 10 + b - 1000)))]);

// The columns of several files: [name, type check, value of row i (null
// for a null), nullable].
const words = ['a', 'héllo', '日本', 'x,y"z\n'];
const cats = ['AAPL', 'MSFT', '日本', ''];
const text = (i) => (i % 5 === 0 ? '' : words[i % 4] + String(i));
const large = (t) => t.typeId === Type.LargeUtf8;
const dict = (t) => t.typeId === Type.Dictionary && t.dictionary.typeId === Type.LargeUtf8 &&
	t.indices.typeId === Type.Int && t.indices.bitWidth === 32 && t.indices.isSigned && !t.isOrdered;
cols.push(['s', large, (i) => (i === 0 || i === rows - 1 || i % 7 === 3 ? null : text(i)), true]);
cols.push(['s_all', large, () => null, true]);
cols.push(['s_none', large, text, false]);
cols.push(['blob', (t) => t.typeId === Type.LargeBinary,
	(i) => (i % 6 === 5 ? null : Array.from({ length: i % 4 }, (_, j) => u8(i + 37 * j))), true]);
cols.push(['sym', dict, (i) => (i % 7 === 3 || i % 5 === 0 ? null : cats[(i % 5) - 1]), true]);
cols.push(['sym0', dict, () => null, true]);
cols.push(['qty', int(64, true), (i) => (i % 4 === 1 ? null : BigInt(i * 3 - 100)), true]);
cols.push(['px', (t) => t.typeId === Type.Float && t.precision === Precision.DOUBLE,
	(i) => (i % 3 === 2 ? null : i * 0.5 - 7), true]);
cols.push(['ok', (t) => t.typeId === Type.Bool, (i) => (i % 5 === 4 ? null : i % 2 === 0), true]);

// Turns what Vector.get returns (Vector, typed array, scalar) into plain values.
function plain(v) {
	if (v === null || typeof v !== 'object') return v;
	if (typeof v.toArray === 'function') v = v.toArray();
	return Array.from(v, (x) => plain(x));
}

function same(a, b) {
	if (Array.isArray(b))
		return Array.isArray(a) && a.length === b.length && a.every((x, j) => same(x, b[j]));
	return a === b;
}

const table = tableFromIPC(readFileSync(path));
eq('numRows', table.numRows, rows);
eq('one record batch', table.batches.length, 1);
eq('column count', table.numCols, cols.length);

cols.forEach(([name, typeOk, value, how], k) => {
	const field = table.schema.fields[k];
	const nullable = how === true;
	eq(`field ${k} name`, field?.name, name);
	if (!field) return;
	check(`${name}: type`, typeOk(field.type), String(field.type));
	eq(`${name}: nullable`, field.nullable, nullable);
	const col = table.getChild(name);
	eq(`${name}: length`, col.length, rows);
	let nulls = 0;
	for (let i = 0; i < rows; i++) nulls += value(i) === null;
	eq(`${name}: nullCount`, col.nullCount, nulls);
	const raw = how === 'raw' ? col.data[0].values : null;
	let bad = 0;
	for (let i = 0; i < rows; i++) {
		const got = raw ? raw[i] : plain(col.get(i));
		const want = value(i);
		if (!same(got, want) && bad++ < 3)
			check(`${name}[${i}]`, false, `got ${JSON.stringify(got, (_, x) => typeof x === 'bigint' ? `${x}n` : x)}, want ${want}`);
	}
	check(`${name}: every value`, bad === 0, `${bad} wrong`);
});

console.log(`${path} (${rows} rows): ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
