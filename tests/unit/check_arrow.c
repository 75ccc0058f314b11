#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_file.h"
#include "suites.h"

#define MAXCOLS 10

/* A table under test: column definitions and their memory (for the new
 * kinds, every file of the column in col[]; extra[] is freed with it). */
struct table {
	struct tfs_coldef def[MAXCOLS];
	const struct tfs_coldef *defp[MAXCOLS];
	const void *data[MAXCOLS];
	unsigned char *mem[MAXCOLS];
	struct tfs_arrow_col col[MAXCOLS];
	void *extra[4 * MAXCOLS];
	size_t ncols, nextra;
	uint64_t rows;
	struct tfs_arrow_layout l;
	unsigned char *file; /* the whole file, rendered by one tfs_arrow_read */
};

static uint32_t seed = 12345;

static uint32_t rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 8;
}

/* Adds a column of the given type and per-row shape, filled with noise
 * (bools: 0, 1, 7 or 255).  A first dimension of 0 (which the schema
 * refuses, but a layout must survive) gives a column of no bytes. */
static void add(struct table *t, const char *name, const char *type, unsigned ndim, uint64_t a,
		uint64_t b)
{
	struct tfs_coldef *d = &t->def[t->ncols];
	uint64_t shape[2] = {a ? a : 1, b};
	char why[TFS_WHY_MAX];
	uint64_t n;

	ck_assert_msg(tfs_coldef_init(d, name, type, shape, ndim, why, sizeof(why)) == 0, "%s",
		      why);
	if (!a && ndim) {
		d->shape[0] = 0;
		d->itemsize = 0;
	}
	n = t->rows * d->itemsize;
	t->mem[t->ncols] = n ? malloc(n) : NULL;
	for (uint64_t i = 0; i < n; i++)
		t->mem[t->ncols][i] =
		    d->type.kind == TFS_BOOL ? "\0\1\7\377"[rnd() % 4] : (unsigned char)rnd();
	t->defp[t->ncols] = d;
	t->data[t->ncols] = t->mem[t->ncols];
	t->col[t->ncols].def = d;
	t->col[t->ncols].main = t->mem[t->ncols];
	t->ncols++;
}

/* Lays the table out and renders the whole file. */
static void lay(struct table *t)
{
	char why[TFS_WHY_MAX];

	for (size_t i = 0; i < t->ncols; i++)
		ck_assert_msg(tfs_arrow_check(&t->col[i], t->rows, why, sizeof(why)) == 0, "%s", why);
	ck_assert_int_eq(tfs_arrow_layout(t->col, t->ncols, t->rows, &t->l), 0);
	t->file = malloc(t->l.size);
	ck_assert_ptr_nonnull(t->file);
	ck_assert_int_eq(tfs_arrow_read(&t->l, 0, t->l.size, t->file), (ssize_t)t->l.size);
}

static void drop(struct table *t)
{
	tfs_arrow_free(&t->l);
	free(t->file);
	for (size_t i = 0; i < t->ncols; i++)
		free(t->mem[i]);
	for (size_t i = 0; i < t->nextra; i++)
		free(t->extra[i]);
	memset(t, 0, sizeof(*t));
}

/* Every table of the loop tests: a mix of every layout case. */
static void make(struct table *t, int which)
{
	static const uint64_t rows[] = {0, 1, 7, 8, 63, 64, 65, 1000};

	memset(t, 0, sizeof(*t));
	t->rows = rows[which];
	add(t, "i32", "int32", 0, 0, 0);
	add(t, "flag", "bool", 0, 0, 0);
	add(t, "v", "float32", 1, 3, 0);
	add(t, "m", "int16", 2, 2, 3);
	add(t, "bits", "bool", 1, 5, 0);
	add(t, "b5", "bytes5", 0, 0, 0);
	add(t, "ts", "datetime64[ns]", 0, 0, 0);
	add(t, "empty", "float64", 1, 0, 0);
	lay(t);
}
#define N_TABLES 8

/* ---- a small FlatBuffers reader, to check what the builder wrote ---- */

struct fb {
	const unsigned char *b;
	size_t len;
};

static uint64_t rd(struct fb f, size_t p, size_t n)
{
	uint64_t v = 0;

	ck_assert_uint_le(p + n, f.len);
	for (size_t i = n; i-- > 0;)
		v = v << 8 | f.b[p + i];
	return v;
}

/* The target of the uoffset at p. */
static size_t deref(struct fb f, size_t p)
{
	size_t t = p + rd(f, p, 4);

	ck_assert_uint_lt(t, f.len);
	return t;
}

static size_t root(struct fb f)
{
	return deref(f, 0);
}

/* Where field slot of the table at t is, or 0 when absent. */
static size_t field(struct fb f, size_t t, unsigned slot)
{
	size_t vt = (size_t)((int64_t)t - (int32_t)rd(f, t, 4));
	uint64_t vtlen = rd(f, vt, 2), objlen = rd(f, vt + 2, 2), o;

	ck_assert_uint_eq(vtlen % 2, 0);
	ck_assert_uint_le(t + objlen, f.len);
	if (4 + 2 * slot >= vtlen)
		return 0;
	o = rd(f, vt + 4 + 2 * slot, 2);
	ck_assert_uint_lt(o, objlen);
	return o ? t + o : 0;
}

static uint64_t scalar(struct fb f, size_t t, unsigned slot, size_t n)
{
	size_t p = field(f, t, slot);

	ck_assert_msg(p, "field %u absent", slot);
	ck_assert_uint_eq(p % n, 0); /* naturally aligned */
	return rd(f, p, n);
}

/* The vector in field slot: its length, and its first element in *first. */
static size_t vec(struct fb f, size_t t, unsigned slot, size_t *first)
{
	size_t v = deref(f, field(f, t, slot));

	ck_assert_uint_eq(v % 4, 0);
	*first = v + 4;
	return (size_t)rd(f, v, 4);
}

static int str_eq(struct fb f, size_t t, unsigned slot, const char *s)
{
	size_t p = deref(f, field(f, t, slot)), n = (size_t)rd(f, p, 4);

	ck_assert_uint_eq(f.b[p + 4 + n], 0);
	return n == strlen(s) && !memcmp(f.b + p + 4, s, n);
}

/* The encapsulated message at off: its flatbuffer; *next is where it ends. */
static struct fb message(const struct table *t, uint64_t off, uint64_t *next)
{
	struct fb all = {t->file, t->l.size}, m;
	uint64_t n;

	ck_assert_uint_eq(rd(all, off, 4), UINT32_MAX);
	n = rd(all, off + 4, 4);
	ck_assert_uint_eq(n % 8, 0);
	m.b = t->file + off + 8;
	m.len = n;
	*next = off + 8 + n;
	return m;
}

static struct fb footer(const struct table *t)
{
	struct fb all = {t->file, t->l.size}, f;

	ck_assert_mem_eq(t->file, "ARROW1\0\0", 8);
	ck_assert_mem_eq(t->file + t->l.size - 6, "ARROW1", 6);
	f.len = rd(all, t->l.size - 10, 4);
	f.b = t->file + t->l.size - 10 - f.len;
	ck_assert_uint_eq((uint64_t)(f.b - t->file) % 8, 0);
	ck_assert_uint_eq(rd(all, (size_t)(f.b - t->file) - 8, 4), UINT32_MAX); /* end of stream */
	ck_assert_uint_eq(rd(all, (size_t)(f.b - t->file) - 4, 4), 0);
	return f;
}

/* Checks the Field at fp against level `level` of column d. */
static void check_field(struct fb f, size_t fp, const struct tfs_coldef *d, unsigned level)
{
	static const unsigned tags[] = {
	    [TFS_BOOL] = 6,	 [TFS_INT] = 2,	       [TFS_UINT] = 2,	 [TFS_FLOAT] = 3,
	    [TFS_DATETIME] = 10, [TFS_TIMEDELTA] = 18, [TFS_BYTES] = 15,
	};
	size_t child, type = deref(f, field(f, fp, 3));
	size_t nchild = vec(f, fp, 5, &child);

	ck_assert(str_eq(f, fp, 0, level ? "item" : d->name));
	ck_assert_uint_eq(scalar(f, fp, 1, 1), 0); /* not nullable */
	if (level < d->ndim) {
		ck_assert_uint_eq(scalar(f, fp, 2, 1), 16); /* FixedSizeList */
		ck_assert_uint_eq(scalar(f, type, 0, 4), d->shape[level]);
		ck_assert_uint_eq(nchild, 1);
		check_field(f, deref(f, child), d, level + 1);
		return;
	}
	ck_assert_uint_eq(nchild, 0);
	ck_assert_uint_eq(scalar(f, fp, 2, 1), tags[d->type.kind]);
	if (d->type.kind == TFS_INT || d->type.kind == TFS_UINT) {
		ck_assert_uint_eq(scalar(f, type, 0, 4), 8 * d->type.size);
		ck_assert_uint_eq(scalar(f, type, 1, 1), d->type.kind == TFS_INT);
	} else if (d->type.kind == TFS_FLOAT) {
		ck_assert_uint_eq(scalar(f, type, 0, 2),
				  d->type.size / 4); /* HALF, SINGLE, DOUBLE */
	} else if (d->type.kind == TFS_BYTES) {
		ck_assert_uint_eq(scalar(f, type, 0, 4), d->type.size);
	} else if (d->type.kind == TFS_DATETIME || d->type.kind == TFS_TIMEDELTA) {
		ck_assert_uint_eq(scalar(f, type, 0, 2), d->type.unit - TFS_UNIT_S);
		ck_assert_uint_eq(field(f, type, 1), 0); /* no timezone */
	}
}

static void check_schema(struct fb f, size_t schema, const struct table *t)
{
	size_t first;

	ck_assert_uint_eq(scalar(f, schema, 0, 2), 0); /* little-endian */
	ck_assert_uint_eq(vec(f, schema, 1, &first), t->ncols);
	for (size_t i = 0; i < t->ncols; i++)
		check_field(f, deref(f, first + 4 * i), t->defp[i], 0);
}

/* Decodes every flatbuffer of the file and checks it against the table and
 * against the segments. */
static void check_metadata(const struct table *t)
{
	struct fb ft = footer(t), sm, rm;
	size_t m, rb, blocks, nodes, bufs, seg = 1;
	uint64_t rb_off, body_off, body_len, k = 0;

	m = root(ft);
	ck_assert_uint_eq(scalar(ft, m, 0, 2), 4); /* V5 */
	check_schema(ft, deref(ft, field(ft, m, 1)), t);
	ck_assert_uint_eq(vec(ft, m, 2, &blocks), 0);
	ck_assert_uint_eq(vec(ft, m, 3, &blocks), 1);
	rb_off = rd(ft, blocks, 8);
	body_len = rd(ft, blocks + 16, 8);

	sm = message(t, 8, &rb_off);
	m = root(sm);
	ck_assert_uint_eq(scalar(sm, m, 0, 2), 4);
	ck_assert_uint_eq(scalar(sm, m, 1, 1), 1); /* Schema */
	ck_assert_uint_eq(scalar(sm, m, 3, 8), 0);
	check_schema(sm, deref(sm, field(sm, m, 2)), t);

	ck_assert_uint_eq(rb_off, rd(ft, blocks, 8));
	rm = message(t, rb_off, &body_off);
	ck_assert_uint_eq(rd(ft, blocks + 8, 4), body_off - rb_off);
	ck_assert_uint_eq(body_off % 64, 0);
	ck_assert_uint_eq(body_off + body_len + 8 + ft.len + 10, t->l.size);
	m = root(rm);
	ck_assert_uint_eq(scalar(rm, m, 0, 2), 4);
	ck_assert_uint_eq(scalar(rm, m, 1, 1), 3); /* RecordBatch */
	ck_assert_uint_eq(scalar(rm, m, 3, 8), body_len);
	rb = deref(rm, field(rm, m, 2));
	ck_assert_uint_eq(scalar(rm, rb, 0, 8), t->rows);
	vec(rm, rb, 1, &nodes);
	vec(rm, rb, 2, &bufs);
	ck_assert_uint_eq(nodes % 8, 0);
	ck_assert_uint_eq(bufs % 8, 0);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct tfs_coldef *d = t->defp[i];
		uint64_t n = t->rows;

		for (unsigned lv = 0; lv <= d->ndim; lv++, k++) {
			ck_assert_uint_eq(rd(rm, nodes + 16 * k, 8), n);	  /* length */
			ck_assert_uint_eq(rd(rm, nodes + 16 * k + 8, 8), 0);	  /* null_count */
			ck_assert_uint_eq(rd(rm, bufs + 16 * (k + i) + 8, 8), 0); /* no validity */
			n *= lv < d->ndim ? d->shape[lv] : 1;
		}
		uint64_t off = rd(rm, bufs + 16 * (k + i), 8),
			 len = rd(rm, bufs + 16 * (k + i) + 8, 8);

		ck_assert_uint_eq(off % 64, 0);
		ck_assert_uint_eq(len, d->type.kind == TFS_BOOL ? (n + 7) / 8 : n * d->type.size);
		if (!len)
			continue;
		ck_assert_uint_eq(t->l.seg[seg].off, body_off + off);
		ck_assert_uint_eq(t->l.seg[seg].len, len);
		ck_assert_int_eq(t->l.seg[seg].kind,
				 d->type.kind == TFS_BOOL ? TFS_ARROW_BITS : TFS_ARROW_DATA);
		ck_assert_ptr_eq(t->l.seg[seg].ptr, t->data[i]);
		seg += len % 64 ? 2 : 1;
	}
	ck_assert_uint_eq(seg, t->l.nseg - 1);
}

/* ---- tests ---- */

START_TEST(empty_table)
{
	struct table t;

	memset(&t, 0, sizeof(t));
	lay(&t);
	ck_assert_uint_eq(t.l.nseg, 2);
	ck_assert_int_eq(t.l.seg[0].kind, TFS_ARROW_BYTES);
	ck_assert_int_eq(t.l.seg[1].kind, TFS_ARROW_BYTES);
	ck_assert_uint_eq(t.l.seg[0].len + t.l.seg[1].len, t.l.size);
	ck_assert_uint_eq(t.l.metalen, t.l.size);
	check_metadata(&t);
	drop(&t);
}
END_TEST

/* FNV-1a of n bytes. */
static uint64_t fnv(const unsigned char *p, uint64_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (uint64_t i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* Tables of fixed-width, non-nullable columns are byte for byte what they
 * were before utf8, binary, category and nullable columns: sizes and
 * checksums of make()'s tables (noise from a fresh seed) as the layout
 * wrote them when fixed width was all it knew. */
START_TEST(plain_unchanged)
{
	static const struct {
		uint64_t size, fnv;
	} want[N_TABLES] = {
	    {2690, UINT64_C(0x3403b2700c3e96e3)},  {3138, UINT64_C(0x15f986dda82fad08)},
	    {3266, UINT64_C(0x4835195bfeffe622)},  {3266, UINT64_C(0x23d031c793750a15)},
	    {5442, UINT64_C(0xecb03068fc4294f2)},  {5442, UINT64_C(0x69f412851f83744e)},
	    {5762, UINT64_C(0x1c7357fe73450d8c)},  {44610, UINT64_C(0x332391bcfadd6a23)},
	};
	struct table t;

	seed = 12345;
	make(&t, _i);
	ck_assert_uint_eq(t.l.size, want[_i].size);
	ck_assert_uint_eq(fnv(t.file, t.l.size), want[_i].fnv);
	drop(&t);
}
END_TEST

/* Exact segments of a small table: data, padding to 64, packed bools. */
START_TEST(sizes)
{
	static const struct {
		enum tfs_arrow_seg_kind kind;
		uint64_t len;
	} want[] = {
	    {TFS_ARROW_DATA, 40},  {TFS_ARROW_ZERO, 24},  {TFS_ARROW_BITS, 2},
	    {TFS_ARROW_ZERO, 62},  {TFS_ARROW_DATA, 120}, {TFS_ARROW_ZERO, 8},
	    {TFS_ARROW_DATA, 320},
	};
	struct table t;
	uint64_t head;

	memset(&t, 0, sizeof(t));
	t.rows = 10;
	add(&t, "x", "int32", 0, 0, 0);
	add(&t, "b", "bool", 0, 0, 0);
	add(&t, "v", "float32", 1, 3, 0);
	add(&t, "w", "uint64", 1, 0, 0);  /* no bytes at all */
	add(&t, "z", "float64", 2, 2, 2); /* a multiple of 64: no padding */
	lay(&t);
	ck_assert_uint_eq(t.l.nseg, 9);
	head = t.l.seg[0].len;
	ck_assert_uint_eq(head % 64, 0);
	for (size_t i = 0; i < 7; i++) {
		ck_assert_int_eq(t.l.seg[i + 1].kind, want[i].kind);
		ck_assert_uint_eq(t.l.seg[i + 1].len, want[i].len);
	}
	ck_assert_uint_eq(t.l.seg[3].nbits, 10);
	ck_assert_uint_eq(t.l.size, head + 64 + 64 + 128 + 320 + t.l.seg[8].len);
	ck_assert_uint_eq(t.l.metalen, head + t.l.seg[8].len);
	ck_assert_ptr_eq(t.l.seg[0].ptr, t.l.meta);
	ck_assert_ptr_eq(t.l.seg[8].ptr, t.l.meta + head);
	check_metadata(&t);
	drop(&t);
}
END_TEST

START_TEST(coverage_and_alignment)
{
	struct table t;
	uint64_t end = 0;

	make(&t, _i);
	for (size_t i = 0; i < t.l.nseg; i++) {
		const struct tfs_arrow_seg *s = &t.l.seg[i];

		ck_assert_uint_eq(s->off, end); /* no gap, no overlap */
		ck_assert_uint_gt(s->len, 0);
		end += s->len;
		if (s->kind == TFS_ARROW_DATA || s->kind == TFS_ARROW_BITS) {
			ck_assert_uint_eq(s->off % 64, 0);
			ck_assert_ptr_nonnull(s->ptr);
		}
		if (s->kind == TFS_ARROW_BITS)
			ck_assert_uint_eq(s->len, (s->nbits + 7) / 8);
		if (s->kind == TFS_ARROW_ZERO)
			ck_assert_uint_eq((s->off + s->len) % 64, 0);
	}
	ck_assert_uint_eq(end, t.l.size);
	ck_assert_int_eq(t.l.seg[0].kind, TFS_ARROW_BYTES);
	ck_assert_int_eq(t.l.seg[t.l.nseg - 1].kind, TFS_ARROW_BYTES);
	check_metadata(&t);
	drop(&t);
}
END_TEST

/* The file holds the columns: DATA as is, bools packed LSB first. */
START_TEST(contents)
{
	struct table t;

	make(&t, _i);
	for (size_t i = 0; i < t.l.nseg; i++) {
		const struct tfs_arrow_seg *s = &t.l.seg[i];
		const unsigned char *got = t.file + s->off, *in = s->ptr;

		if (s->kind == TFS_ARROW_DATA)
			ck_assert_mem_eq(got, s->ptr, s->len);
		if (s->kind == TFS_ARROW_ZERO)
			for (uint64_t j = 0; j < s->len; j++)
				ck_assert_uint_eq(got[j], 0);
		if (s->kind != TFS_ARROW_BITS)
			continue;
		for (uint64_t j = 0; j < 8 * s->len; j++)
			ck_assert_uint_eq(got[j / 8] >> (j % 8) & 1, j < s->nbits && in[j]);
	}
	drop(&t);
}
END_TEST

START_TEST(bit_packing)
{
	static const unsigned char bools[11] = {1, 0, 7, 0, 0, 255, 0, 1, 0, 1, 2};
	struct tfs_coldef d;
	struct tfs_arrow_col c = {.def = &d, .main = bools};
	struct tfs_arrow_layout l;
	char why[TFS_WHY_MAX];
	unsigned char out[3] = {0xaa, 0xaa, 0xaa};

	ck_assert_int_eq(tfs_coldef_init(&d, "b", "bool", NULL, 0, why, sizeof(why)), 0);
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 11, &l), 0);
	ck_assert_int_eq(l.seg[1].kind, TFS_ARROW_BITS);
	ck_assert_int_eq(tfs_arrow_read(&l, l.seg[1].off, 3, out), 3);
	ck_assert_uint_eq(out[0], 0xa5); /* 1010 0101 */
	ck_assert_uint_eq(out[1], 0x06);
	ck_assert_uint_eq(out[2], 0);
	ck_assert_int_eq(tfs_arrow_read(&l, l.seg[1].off + 1, 1, out), 1);
	ck_assert_uint_eq(out[0], 0x06);
	tfs_arrow_free(&l);
}
END_TEST

/* Any range read alone equals the same range of the whole file. */
START_TEST(random_reads)
{
	struct table t;
	unsigned char *buf;

	make(&t, _i);
	buf = malloc(t.l.size + 100);
	for (int k = 0; k < 3000; k++) {
		uint64_t off = rnd() % (t.l.size + 50);
		size_t len = k % 3 ? rnd() % 300 : rnd() % (t.l.size + 100);
		size_t want = off >= t.l.size ? 0 : len < t.l.size - off ? len : t.l.size - off;

		memset(buf, 0xee, t.l.size + 100);
		ck_assert_int_eq(tfs_arrow_read(&t.l, off, len, buf), (ssize_t)want);
		if (want)
			ck_assert_mem_eq(buf, t.file + off, want);
		ck_assert_uint_eq(buf[want], 0xee); /* nothing written past the end */
	}
	ck_assert_int_eq(tfs_arrow_read(&t.l, UINT64_MAX, 10, buf), 0);
	free(buf);
	drop(&t);
}
END_TEST

/* 2^40 rows: 64-bit sizes and offsets, without touching the (absent) data. */
START_TEST(huge)
{
	static const unsigned char nothing[1];
	struct tfs_coldef d[2];
	struct tfs_arrow_col c[2] = {{.def = &d[0], .main = nothing}, {.def = &d[1], .main = nothing}};
	struct tfs_arrow_layout l;
	char why[TFS_WHY_MAX];
	uint64_t rows = UINT64_C(1) << 40, tail;
	unsigned char end[16];

	ck_assert_int_eq(tfs_coldef_init(&d[0], "x", "int64", NULL, 0, why, sizeof(why)), 0);
	ck_assert_int_eq(tfs_coldef_init(&d[1], "b", "bool", NULL, 0, why, sizeof(why)), 0);
	ck_assert_int_eq(tfs_arrow_layout(c, 2, rows, &l), 0);
	ck_assert_uint_eq(l.nseg, 4);
	ck_assert_uint_eq(l.seg[1].len, 8 * rows);
	ck_assert_uint_eq(l.seg[2].off, l.seg[1].off + 8 * rows);
	ck_assert_uint_eq(l.seg[2].len, rows / 8);
	ck_assert_uint_eq(l.seg[2].nbits, rows);
	tail = l.seg[3].len;
	ck_assert_uint_eq(l.size, l.seg[0].len + 8 * rows + rows / 8 + tail);
	ck_assert_int_eq(tfs_arrow_read(&l, l.size - 16, 100, end), 16);
	ck_assert_mem_eq(end + 10, "ARROW1", 6);
	tfs_arrow_free(&l);
}
END_TEST

START_TEST(invalid)
{
	struct tfs_coldef d;
	struct tfs_arrow_col c = {.def = &d};
	struct tfs_arrow_layout l;
	char why[TFS_WHY_MAX];
	uint64_t shape[2] = {1, 4};

	ck_assert_int_eq(tfs_coldef_init(&d, "x", "int32", NULL, 0, why, sizeof(why)), 0);
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 3, &l), -EINVAL); /* no data */
	ck_assert_uint_eq(l.size, 0);
	ck_assert_ptr_null(l.seg);
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 0, &l), 0); /* none needed */
	tfs_arrow_free(&l);
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, UINT64_MAX, &l), -EINVAL);
	d.itemsize = 8; /* disagrees with the type */
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 0, &l), -EINVAL);
	d.itemsize = 4;
	d.type.kind = TFS_DATETIME; /* a datetime must be 8 bytes with a unit */
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 0, &l), -EINVAL);
	ck_assert_int_eq(tfs_coldef_init(&d, "x", "int8", shape, 2, why, sizeof(why)), 0);
	d.shape[0] = 0;
	d.itemsize = 0;
	d.shape[1] = UINT64_C(1) << 40; /* listSize is 32 bits */
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 0, &l), -EINVAL);
	c.def = NULL;
	ck_assert_int_eq(tfs_arrow_layout(&c, 1, 0, &l), -EINVAL);
	ck_assert_int_eq(tfs_arrow_layout(NULL, 1, 0, &l), -EINVAL);
	tfs_arrow_free(&l);
	tfs_arrow_free(&l); /* an empty layout frees twice */
}
END_TEST

Suite *arrow_suite(void)
{
	Suite *s = suite_create("arrow");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, empty_table);
	tcase_add_test(tc, sizes);
	tcase_add_loop_test(tc, coverage_and_alignment, 0, N_TABLES);
	tcase_add_test(tc, huge);
	tcase_add_test(tc, invalid);
	tcase_add_loop_test(tc, plain_unchanged, 0, N_TABLES);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_loop_test(tc, contents, 0, N_TABLES);
	tcase_add_test(tc, bit_packing);
	tcase_add_loop_test(tc, random_reads, 0, N_TABLES);
	suite_add_tcase(s, tc);
	return s;
}
