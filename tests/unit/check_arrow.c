#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
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

/* Memory freed with the table. */
static void *keep(struct table *t, size_t n)
{
	void *p = calloc(n ? n : 1, 1);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(t->nextra, sizeof(t->extra) / sizeof(t->extra[0]));
	t->extra[t->nextra++] = p;
	return p;
}

/* Adds a column of a type that takes no shape; nullable gives it a mask
 * (filled by the caller). */
static struct tfs_arrow_col *add_col(struct table *t, const char *name, const char *type,
				     bool nullable)
{
	struct tfs_coldef *d = &t->def[t->ncols];
	struct tfs_arrow_col *c = &t->col[t->ncols];
	char why[TFS_WHY_MAX];

	ck_assert_uint_lt(t->ncols, MAXCOLS);
	ck_assert_msg(tfs_coldef_init(d, name, type, NULL, 0, why, sizeof(why)) == 0, "%s", why);
	d->nullable = nullable;
	memset(c, 0, sizeof(*c));
	c->def = d;
	if (nullable)
		c->nulls = keep(t, t->rows);
	t->defp[t->ncols++] = d;
	return c;
}

/* Offsets and bytes of n strings in the utf8 layout (NULL = empty). */
static void strings(struct table *t, const char *const *v, uint64_t n, int64_t **off, void **bytes,
		    uint64_t *nbytes)
{
	uint64_t total = 0;
	char *p;

	for (uint64_t i = 0; i < n; i++)
		total += v[i] ? strlen(v[i]) : 0;
	*off = keep(t, 8 * (n + 1));
	p = *bytes = total ? keep(t, total) : NULL;
	for (uint64_t i = 0; i < n; i++) {
		size_t len = v[i] ? strlen(v[i]) : 0;

		if (len)
			memcpy(p + (*off)[i], v[i], len);
		(*off)[i + 1] = (*off)[i] + (int64_t)len;
	}
	*nbytes = total;
}

/* A utf8 or binary column of t->rows values; a NULL value is a null when
 * the column is nullable, else empty. */
static struct tfs_arrow_col *add_text(struct table *t, const char *name, const char *type,
				      bool nullable, const char *const *v)
{
	struct tfs_arrow_col *c = add_col(t, name, type, nullable);
	int64_t *off;
	void *bytes;

	strings(t, v, t->rows, &off, &bytes, &t->def[t->ncols - 1].data_bytes);
	c->main = off;
	c->data = bytes;
	for (uint64_t i = 0; nullable && i < t->rows; i++)
		((unsigned char *)c->nulls)[i] = v[i] ? 0 : (unsigned char)(1 + i % 3);
	return c;
}

/* A category column of ncat categories and t->rows codes; mask may be NULL. */
static struct tfs_arrow_col *add_cat(struct table *t, const char *name, const char *const *cats,
				     uint64_t ncat, const int32_t *codes, const unsigned char *mask)
{
	struct tfs_arrow_col *c = add_col(t, name, "category", mask != NULL);
	struct tfs_coldef *d = &t->def[t->ncols - 1];
	int64_t *off;
	void *bytes;

	strings(t, cats, ncat, &off, &bytes, &d->dict_bytes);
	d->ncat = ncat;
	c->dict = off;
	c->dict_data = bytes;
	c->main = t->rows ? keep(t, 4 * t->rows) : NULL;
	if (t->rows)
		memcpy((void *)c->main, codes, 4 * t->rows);
	if (mask)
		memcpy((void *)c->nulls, mask, t->rows);
	return c;
}

/* Makes fixed-width column i nullable, with mask bytes from noise. */
static void nullable(struct table *t, size_t i, unsigned every)
{
	unsigned char *m = keep(t, t->rows);

	t->def[i].nullable = true;
	t->col[i].nulls = m;
	for (uint64_t r = 0; r < t->rows; r++)
		m[r] = rnd() % every ? 0 : (unsigned char)(1 + rnd() % 255);
}

/* Tables of every new kind: text with nulls (first row null in odd tables,
 * last row in even ones), binary, all-empty text, categories with nulls
 * and -1, none at all, or no nulls, and nullable fixed-width columns. */
static void make_text(struct table *t, int which)
{
	static const uint64_t rows[] = {0, 1, 7, 8, 63, 64, 65, 1000};
	static const char *const words[] = {"", "a", "héllo", "日本", "x,y", "\"q\"", "line\nbreak"};
	static const char *const cats[] = {"AAPL", "MSFT", ""};
	const char **s, **bin;
	int32_t *codes, *codes0, *codes2;
	unsigned char *mask;
	char *bytes;

	memset(t, 0, sizeof(*t));
	t->rows = rows[which];
	bytes = keep(t, 4 * t->rows);
	s = keep(t, sizeof(*s) * t->rows);
	bin = keep(t, sizeof(*bin) * t->rows);
	codes = keep(t, 4 * t->rows);
	codes0 = keep(t, 4 * t->rows);
	codes2 = keep(t, 4 * t->rows);
	mask = keep(t, t->rows);
	for (uint64_t i = 0; i < t->rows; i++) {
		char *b = bytes + 4 * i;

		s[i] = rnd() % 4 ? words[rnd() % 7] : NULL;
		for (int k = 0; k < 3; k++)
			b[k] = (char)(1 + rnd() % 255); /* no NUL: strlen ends it */
		b[rnd() % 4] = 0;
		bin[i] = b;
		codes[i] = (int32_t)(rnd() % 4) - 1;
		codes0[i] = -1;
		codes2[i] = (int32_t)(rnd() % 2);
		mask[i] = rnd() % 5 == 0;
	}
	if (t->rows)
		s[which % 2 ? 0 : t->rows - 1] = NULL;
	add_text(t, "s", "utf8", true, s);
	add_text(t, "bin", "binary", false, bin);
	add_text(t, "e", "utf8", false, keep(t, sizeof(*s) * t->rows)); /* all empty */
	add_cat(t, "cat", cats, 3, codes, mask);
	add_cat(t, "cat0", NULL, 0, codes0, NULL);
	add(t, "q", "int64", 0, 0, 0);
	nullable(t, t->ncols - 1, 3);
	add(t, "nb", "bool", 0, 0, 0);
	nullable(t, t->ncols - 1, 2);
	add(t, "nv", "float32", 1, 3, 0);
	nullable(t, t->ncols - 1, 4);
	add_cat(t, "k", cats, 2, codes2, NULL);
	lay(t);
}

/* Table number which: make()'s, then make_text()'s. */
static void make_any(struct table *t, int which)
{
	if (which < N_TABLES)
		make(t, which);
	else
		make_text(t, which - N_TABLES);
}

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

/* Checks the Field at fp against level `level` of column d (number id). */
static void check_field(struct fb f, size_t fp, const struct tfs_coldef *d, size_t id,
			unsigned level)
{
	static const unsigned tags[] = {
	    [TFS_BOOL] = 6,	  [TFS_INT] = 2,	[TFS_UINT] = 2,	 [TFS_FLOAT] = 3,
	    [TFS_DATETIME] = 10,  [TFS_TIMEDELTA] = 18, [TFS_BYTES] = 15, [TFS_UTF8] = 20,
	    [TFS_BINARY] = 19,	  [TFS_CATEGORY] = 20,
	};
	bool cat = d->type.kind == TFS_CATEGORY;
	size_t child, type = deref(f, field(f, fp, 3));
	size_t nchild = vec(f, fp, 5, &child);

	ck_assert(str_eq(f, fp, 0, level ? "item" : d->name));
	ck_assert_uint_eq(scalar(f, fp, 1, 1), !level && (d->nullable || cat));
	if (!level && cat) {
		size_t enc = deref(f, field(f, fp, 4)), index = deref(f, field(f, enc, 1));

		ck_assert_uint_eq(scalar(f, enc, 0, 8), id);
		ck_assert_uint_eq(scalar(f, index, 0, 4), 32); /* int32 indices */
		ck_assert_uint_eq(scalar(f, index, 1, 1), 1);
		ck_assert_uint_eq(scalar(f, enc, 2, 1), 0); /* not ordered */
	} else {
		ck_assert_uint_eq(field(f, fp, 4), 0);
	}
	if (level < d->ndim) {
		ck_assert_uint_eq(scalar(f, fp, 2, 1), 16); /* FixedSizeList */
		ck_assert_uint_eq(scalar(f, type, 0, 4), d->shape[level]);
		ck_assert_uint_eq(nchild, 1);
		check_field(f, deref(f, child), d, id, level + 1);
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
	} else if (tfs_type_is_varlen(&d->type)) {
		ck_assert_uint_eq(field(f, type, 0), 0); /* LargeUtf8, LargeBinary: no fields */
	}
}

static void check_schema(struct fb f, size_t schema, const struct table *t)
{
	size_t first;

	ck_assert_uint_eq(scalar(f, schema, 0, 2), 0); /* little-endian */
	ck_assert_uint_eq(vec(f, schema, 1, &first), t->ncols);
	for (size_t i = 0; i < t->ncols; i++)
		check_field(f, deref(f, first + 4 * i), t->defp[i], i, 0);
}

/* The segment that starts at off. */
static const struct tfs_arrow_seg *seg_at(const struct table *t, uint64_t off)
{
	for (size_t i = 0; i < t->l.nseg; i++)
		if (t->l.seg[i].off == off)
			return &t->l.seg[i];
	ck_abort_msg("no segment at %llu", (unsigned long long)off);
	return NULL;
}

/* Counts the buffers with bytes checked against their segments. */
static size_t nchecked;

/* Checks buffer k of the batch whose buffers vector starts at bufs: its
 * length, and if it has bytes, its segment. */
static void check_buf(const struct table *t, struct fb m, size_t bufs, size_t k, uint64_t body_off,
		      uint64_t wlen, enum tfs_arrow_seg_kind kind, const void *ptr, const void *aux,
		      uint64_t nbits, uint64_t limit)
{
	uint64_t off = rd(m, bufs + 16 * k, 8), len = rd(m, bufs + 16 * k + 8, 8);
	const struct tfs_arrow_seg *s;

	ck_assert_uint_eq(off % 64, 0);
	ck_assert_uint_eq(len, wlen);
	if (!len)
		return;
	s = seg_at(t, body_off + off);
	nchecked++;
	ck_assert_uint_eq(s->len, len);
	ck_assert_int_eq(s->kind, kind);
	ck_assert_ptr_eq(s->ptr, ptr);
	if (s->kind == TFS_ARROW_VALID)
		ck_assert_ptr_eq(s->aux, aux);
	if (s->kind == TFS_ARROW_VALID || s->kind == TFS_ARROW_BITS)
		ck_assert_uint_eq(s->nbits, nbits);
	if (s->kind == TFS_ARROW_OFFSETS || s->kind == TFS_ARROW_CODES)
		ck_assert_uint_eq(s->limit, limit);
}

/* The encapsulated message at off, which must hold a batch of the given
 * header type: its RecordBatch table in *rb, its body's offset in *body. */
static struct fb batch_message(const struct table *t, uint64_t off, unsigned hdr, uint64_t *body,
			       size_t *rb, size_t *m)
{
	struct fb f = message(t, off, body);

	*m = root(f);
	ck_assert_uint_eq(*body % 64, 0);
	ck_assert_uint_eq(scalar(f, *m, 0, 2), 4);
	ck_assert_uint_eq(scalar(f, *m, 1, 1), hdr);
	*rb = deref(f, field(f, *m, 2));
	return f;
}

/* Rows of column i that a reader sees null. */
static uint64_t want_nulls(const struct table *t, size_t i)
{
	const struct tfs_arrow_col *c = &t->col[i];
	uint64_t n = 0;

	for (uint64_t r = 0; r < t->rows; r++)
		n += (c->def->nullable && c->nulls[r]) ||
		     (c->def->type.kind == TFS_CATEGORY && ((const int32_t *)c->main)[r] == -1);
	return n;
}

/* Decodes every flatbuffer of the file and checks it against the table and
 * against the segments. */
static void check_metadata(const struct table *t)
{
	struct fb ft = footer(t), sm, rm;
	size_t m, rb, blocks, dblocks, ndict, nodes, bufs, k = 0, b = 0, ncat = 0, nseg = 0;
	uint64_t next, rb_off, body_off, body_len;

	nchecked = 0;
	m = root(ft);
	ck_assert_uint_eq(scalar(ft, m, 0, 2), 4); /* V5 */
	check_schema(ft, deref(ft, field(ft, m, 1)), t);
	ndict = vec(ft, m, 2, &dblocks);
	ck_assert_uint_eq(vec(ft, m, 3, &blocks), 1);
	rb_off = rd(ft, blocks, 8);
	body_len = rd(ft, blocks + 16, 8);

	sm = message(t, 8, &next);
	m = root(sm);
	ck_assert_uint_eq(scalar(sm, m, 0, 2), 4);
	ck_assert_uint_eq(scalar(sm, m, 1, 1), 1); /* Schema */
	ck_assert_uint_eq(scalar(sm, m, 3, 8), 0);
	check_schema(sm, deref(sm, field(sm, m, 2)), t);

	/* A dictionary batch per category column, in column order, right
	 * after the schema. */
	for (size_t i = 0; i < t->ncols; i++) {
		const struct tfs_arrow_col *c = &t->col[i];
		const struct tfs_coldef *d = c->def;
		uint64_t boff, dlen = rd(ft, dblocks + 24 * ncat + 16, 8);
		size_t db, dm;
		struct fb f;

		if (d->type.kind != TFS_CATEGORY)
			continue;
		ck_assert_uint_lt(ncat, ndict);
		ck_assert_uint_eq(rd(ft, dblocks + 24 * ncat, 8), next);
		f = batch_message(t, next, 2, &boff, &db, &dm); /* DictionaryBatch */
		ck_assert_uint_eq(rd(ft, dblocks + 24 * ncat + 8, 4), boff - next);
		ck_assert_uint_eq(scalar(f, dm, 3, 8), dlen);
		ck_assert_uint_eq(scalar(f, db, 0, 8), i); /* id */
		ck_assert_uint_eq(scalar(f, db, 2, 1), 0); /* not a delta */
		rb = deref(f, field(f, db, 1));
		ck_assert_uint_eq(scalar(f, rb, 0, 8), d->ncat);
		ck_assert_uint_eq(vec(f, rb, 1, &nodes), 1);
		ck_assert_uint_eq(rd(f, nodes, 8), d->ncat);
		ck_assert_uint_eq(rd(f, nodes + 8, 8), 0);
		ck_assert_uint_eq(vec(f, rb, 2, &bufs), 3);
		check_buf(t, f, bufs, 0, boff, 0, TFS_ARROW_ZERO, NULL, NULL, 0, 0);
		check_buf(t, f, bufs, 1, boff, (d->ncat + 1) * 8, TFS_ARROW_OFFSETS, c->dict, NULL,
			  0, d->dict_bytes);
		check_buf(t, f, bufs, 2, boff, d->dict_bytes, TFS_ARROW_DATA, c->dict_data, NULL, 0,
			  0);
		next = boff + dlen;
		ncat++;
	}
	ck_assert_uint_eq(ncat, ndict);

	ck_assert_uint_eq(rb_off, next);
	rm = batch_message(t, rb_off, 3, &body_off, &rb, &m); /* RecordBatch */
	ck_assert_uint_eq(rd(ft, blocks + 8, 4), body_off - rb_off);
	ck_assert_uint_eq(body_off + body_len + 8 + ft.len + 10, t->l.size);
	ck_assert_uint_eq(scalar(rm, m, 3, 8), body_len);
	ck_assert_uint_eq(scalar(rm, rb, 0, 8), t->rows);
	vec(rm, rb, 1, &nodes);
	vec(rm, rb, 2, &bufs);
	ck_assert_uint_eq(nodes % 8, 0);
	ck_assert_uint_eq(bufs % 8, 0);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct tfs_arrow_col *c = &t->col[i];
		const struct tfs_coldef *d = c->def;
		bool cat = d->type.kind == TFS_CATEGORY;
		uint64_t n = t->rows, vlen = d->nullable || cat ? (n + 7) / 8 : 0;

		ck_assert_uint_eq(rd(rm, nodes + 16 * k, 8), n);
		ck_assert_uint_eq(rd(rm, nodes + 16 * k + 8, 8), want_nulls(t, i));
		k++;
		check_buf(t, rm, bufs, b++, body_off, vlen, TFS_ARROW_VALID,
			  d->nullable ? c->nulls : NULL, cat ? c->main : NULL, n, 0);
		if (tfs_type_is_varlen(&d->type)) {
			if (cat) {
				check_buf(t, rm, bufs, b++, body_off, 4 * n, TFS_ARROW_CODES,
					  c->main, NULL, 0, d->ncat);
				continue;
			}
			check_buf(t, rm, bufs, b++, body_off, 8 * (n + 1), TFS_ARROW_OFFSETS,
				  c->main, NULL, 0, d->data_bytes);
			check_buf(t, rm, bufs, b++, body_off, d->data_bytes, TFS_ARROW_DATA,
				  c->data, NULL, 0, 0);
			continue;
		}
		for (unsigned lv = 0; lv < d->ndim; lv++, k++) {
			n *= d->shape[lv];
			ck_assert_uint_eq(rd(rm, nodes + 16 * k, 8), n);     /* length */
			ck_assert_uint_eq(rd(rm, nodes + 16 * k + 8, 8), 0); /* null_count */
			check_buf(t, rm, bufs, b++, body_off, 0, TFS_ARROW_ZERO, NULL, NULL, 0, 0);
		}
		if (d->type.kind == TFS_BOOL)
			check_buf(t, rm, bufs, b++, body_off, (n + 7) / 8, TFS_ARROW_BITS,
				  t->data[i], NULL, n, 0);
		else
			check_buf(t, rm, bufs, b++, body_off, n * d->type.size, TFS_ARROW_DATA,
				  t->data[i], NULL, 0, 0);
	}
	/* Every segment that is not metadata or padding is a buffer above. */
	for (size_t i = 0; i < t->l.nseg; i++)
		nseg += t->l.seg[i].kind != TFS_ARROW_BYTES && t->l.seg[i].kind != TFS_ARROW_ZERO;
	ck_assert_uint_eq(nseg, nchecked);
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

	make_any(&t, _i);
	for (size_t i = 0; i < t.l.nseg; i++) {
		const struct tfs_arrow_seg *s = &t.l.seg[i];

		ck_assert_uint_eq(s->off, end); /* no gap, no overlap */
		ck_assert_uint_gt(s->len, 0);
		end += s->len;
		if (s->kind != TFS_ARROW_BYTES && s->kind != TFS_ARROW_ZERO) {
			ck_assert_uint_eq(s->off % 64, 0);
			ck_assert(s->ptr || s->aux);
		}
		if (s->kind == TFS_ARROW_BITS || s->kind == TFS_ARROW_VALID)
			ck_assert_uint_eq(s->len, (s->nbits + 7) / 8);
		if (s->kind == TFS_ARROW_OFFSETS)
			ck_assert_uint_eq(s->len % 8, 0);
		if (s->kind == TFS_ARROW_CODES)
			ck_assert_uint_eq(s->len % 4, 0);
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

	make_any(&t, _i);
	for (size_t i = 0; i < t.l.nseg; i++) {
		const struct tfs_arrow_seg *s = &t.l.seg[i];
		const unsigned char *got = t.file + s->off, *in = s->ptr;
		const int32_t *codes = s->kind == TFS_ARROW_CODES ? s->ptr : s->aux;

		switch (s->kind) {
		case TFS_ARROW_DATA:
		case TFS_ARROW_OFFSETS: /* offsets as they are */
			ck_assert_mem_eq(got, s->ptr, s->len);
			break;
		case TFS_ARROW_ZERO:
			for (uint64_t j = 0; j < s->len; j++)
				ck_assert_uint_eq(got[j], 0);
			break;
		case TFS_ARROW_BITS:
			for (uint64_t j = 0; j < 8 * s->len; j++)
				ck_assert_uint_eq(got[j / 8] >> (j % 8) & 1, j < s->nbits && in[j]);
			break;
		case TFS_ARROW_VALID: /* 1 = present: mask byte 0 and code not -1 */
			for (uint64_t j = 0; j < 8 * s->len; j++)
				ck_assert_uint_eq(got[j / 8] >> (j % 8) & 1,
						  j < s->nbits && (!in || !in[j]) &&
						      (!codes || codes[j] != -1));
			break;
		case TFS_ARROW_CODES: /* a -1 under a null bit is 0 when 0 is a category */
			for (uint64_t j = 0; j < s->len / 4; j++) {
				int32_t v;

				memcpy(&v, got + 4 * j, 4);
				ck_assert_int_eq(v, codes[j] == -1 && s->limit ? 0 : codes[j]);
			}
			break;
		case TFS_ARROW_BYTES:
			break;
		}
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

	make_any(&t, _i);
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

/* ---- offsets and codes a writer broke ---- */

/* A table of one utf8 column ["a", "bc", "", "def", ""] (6 bytes) and one
 * category column of categories ["x", "yy"] and codes [0, -1, 1, 1, 0]. */
static void make_small(struct table *t)
{
	static const char *const v[] = {"a", "bc", "", "def", ""};
	static const char *const cats[] = {"x", "yy"};
	static const int32_t codes[] = {0, -1, 1, 1, 0};

	memset(t, 0, sizeof(*t));
	t->rows = 5;
	add_text(t, "city", "utf8", false, v);
	add_cat(t, "sym", cats, 2, codes, NULL);
}

/* tfs_arrow_check of column i fails with EIO and a reason holding each of
 * the strings in want (NULL-terminated). */
static void check_fails(struct table *t, size_t i, const char *const *want)
{
	char why[TFS_WHY_MAX] = "";

	ck_assert_int_eq(tfs_arrow_check(&t->col[i], t->rows, why, sizeof(why)), -EIO);
	for (; *want; want++)
		ck_assert_msg(strstr(why, *want), "'%s' lacks '%s'", why, *want);
}

static void check_passes(struct table *t, size_t i)
{
	char why[TFS_WHY_MAX] = "";

	ck_assert_msg(tfs_arrow_check(&t->col[i], t->rows, why, sizeof(why)) == 0, "%s", why);
}

START_TEST(check_offsets)
{
	static const struct {
		unsigned at;
		int64_t v;
		const char *want[5];
	} bad[] = {
	    {0, 1, {"column 'city' row 0", "first offset is 1", NULL}},
	    {0, -8, {"column 'city' row 0", "-8", NULL}},
	    {3, 1, {"column 'city' row 2", "end offset 1 is below its start offset 3", NULL}},
	    {5, 7, {"column 'city' row 4", "end offset 7", "past the end", "6 bytes"}},
	    {2, INT64_MAX, {"row 1", "9223372036854775807", "past the end", NULL}},
	    {4, INT64_MIN, {"row 3", "-9223372036854775808", "below", NULL}},
	    {5, 5, {"row 4", "end offset 5 is below its start offset 6", NULL}},
	};
	struct table t;
	int64_t *off;

	make_small(&t);
	off = (int64_t *)t.col[0].main;
	check_passes(&t, 0);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int64_t keep_v = off[bad[k].at];

		off[bad[k].at] = bad[k].v;
		check_fails(&t, 0, bad[k].want);
		off[bad[k].at] = keep_v;
		check_passes(&t, 0);
	}
	/* The last offset may stop short of the end of the data file. */
	t.def[0].data_bytes = 100;
	check_passes(&t, 0);
	t.def[0].data_bytes = 5;
	check_fails(&t, 0, (const char *const[]){"row 3", "end offset 6", "(5 bytes)", NULL});
	t.def[0].data_bytes = 6;
	/* A binary column is checked the same way. */
	t.def[0].type.kind = TFS_BINARY;
	off[1] = 2;
	off[2] = 1;
	check_fails(&t, 0, (const char *const[]){"row 1", "below", NULL});
	drop(&t);
}
END_TEST

/* Empty values, no data file at all, and no rows are all fine. */
START_TEST(check_empty)
{
	static const char *const none[3];
	struct table t;

	memset(&t, 0, sizeof(t));
	t.rows = 3;
	add_text(&t, "e", "utf8", true, none);
	ck_assert_uint_eq(t.def[0].data_bytes, 0);
	ck_assert_ptr_null(t.col[0].data);
	check_passes(&t, 0);
	((int64_t *)t.col[0].main)[3] = 1; /* past an empty data file */
	check_fails(&t, 0, (const char *const[]){"row 2", "(0 bytes)", NULL});
	((int64_t *)t.col[0].main)[3] = 0;
	t.col[0].nulls = NULL;
	check_fails(&t, 0, (const char *const[]){"column 'e'", "null mask is missing", NULL});
	t.rows = 0;
	t.col[0].main = NULL; /* no rows: the offsets file may be left out */
	check_passes(&t, 0);
	t.rows = 1;
	t.def[0].nullable = false;
	check_fails(&t, 0, (const char *const[]){"column 'e'", "offsets file is missing", NULL});
	t.rows = 3;
	drop(&t);
}
END_TEST

START_TEST(check_codes)
{
	static const int32_t bad[] = {-2, 2, INT32_MAX, INT32_MIN, 3};
	struct table t;
	int32_t *codes;
	int64_t *dict;

	make_small(&t);
	codes = (int32_t *)t.col[1].main;
	check_passes(&t, 1);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		char v[32];

		snprintf(v, sizeof(v), "code %ld ", (long)bad[k]);
		codes[3] = bad[k];
		check_fails(&t, 1,
			    (const char *const[]){"column 'sym' row 3", v, "2 categories", NULL});
	}
	codes[3] = -1;
	check_passes(&t, 1);
	/* No categories: only -1 is a code. */
	t.def[1].ncat = 0;
	t.def[1].dict_bytes = 0;
	for (unsigned i = 0; i < 5; i++)
		codes[i] = -1;
	check_passes(&t, 1);
	codes[4] = 0;
	check_fails(&t, 1, (const char *const[]){"row 4", "code 0 ", "0 categories", NULL});
	codes[4] = -1;
	/* The dictionary is checked like offsets. */
	t.def[1].ncat = 2;
	t.def[1].dict_bytes = 3;
	dict = (int64_t *)t.col[1].dict;
	dict[2] = 0;
	check_fails(&t, 1, (const char *const[]){"column 'sym' dictionary category 1", "end offset 0",
						 "below", NULL});
	dict[2] = 9;
	check_fails(&t, 1, (const char *const[]){"dictionary category 1", "past the end", NULL});
	dict[2] = 3;
	check_passes(&t, 1);
	drop(&t);
}
END_TEST

/* Reads whose range touches offset or code element e of the segment at
 * seg (elements of size bytes) fail with EIO; others succeed. */
static void reads_fail(const struct table *t, const struct tfs_arrow_seg *seg, uint64_t e,
		       size_t size)
{
	unsigned char buf[64];
	uint64_t at = seg->off + e * size;

	ck_assert_int_eq(tfs_arrow_read(&t->l, 0, t->l.size, t->file), -EIO);
	ck_assert_int_eq(tfs_arrow_read(&t->l, at, size, buf), -EIO);
	ck_assert_int_eq(tfs_arrow_read(&t->l, at + size - 1, 1, buf), -EIO); /* one byte of it */
	ck_assert_int_eq(tfs_arrow_read(&t->l, at > 3 ? at - 3 : 0, 5, buf), -EIO);
	if (e)
		ck_assert_int_eq(tfs_arrow_read(&t->l, seg->off, size * e, buf), (ssize_t)(size * e));
	ck_assert_int_eq(tfs_arrow_read(&t->l, seg->off + seg->len, 8, buf), 8);
}

/* A writer breaks offsets or codes after the layout: reads of them fail. */
START_TEST(read_rechecks)
{
	static const struct {
		unsigned at;
		int64_t v;
	} bad[] = {{0, 1}, {3, 1}, {5, 7}, {2, INT64_MAX}, {4, -1}};
	static const int32_t badcode[] = {-2, 2, INT32_MIN, INT32_MAX};
	const struct tfs_arrow_seg *offs = NULL, *codes = NULL;
	unsigned char buf[64];
	struct table t;
	int64_t *off;
	int32_t *code;

	make_small(&t);
	lay(&t);
	off = (int64_t *)t.col[0].main;
	code = (int32_t *)t.col[1].main;
	for (size_t i = 0; i < t.l.nseg; i++) {
		if (t.l.seg[i].ptr == off)
			offs = &t.l.seg[i];
		if (t.l.seg[i].ptr == code && t.l.seg[i].kind == TFS_ARROW_CODES)
			codes = &t.l.seg[i];
	}
	ck_assert_ptr_nonnull(offs);
	ck_assert_ptr_nonnull(codes);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		int64_t keep_v = off[bad[k].at];

		off[bad[k].at] = bad[k].v;
		reads_fail(&t, offs, bad[k].at, 8);
		off[bad[k].at] = keep_v;
		ck_assert_int_eq(tfs_arrow_read(&t.l, 0, t.l.size, t.file), (ssize_t)t.l.size);
	}
	/* An offset is checked against the one before it even when a read
	 * starts at it: offsets[3] = 1 below offsets[2] = 3. */
	off[3] = 1;
	ck_assert_int_eq(tfs_arrow_read(&t.l, offs->off + 24, 16, buf), -EIO);
	off[3] = 3;
	off[2] = 9; /* now offsets[3] = 3 is below offsets[2] */
	ck_assert_int_eq(tfs_arrow_read(&t.l, offs->off + 24, 8, buf), -EIO);
	off[2] = 3;
	for (size_t k = 0; k < sizeof(badcode) / sizeof(badcode[0]); k++) {
		code[2] = badcode[k];
		reads_fail(&t, codes, 2, 4);
	}
	/* A code that became -1 is served as 0 (a category) and null in the
	 * bitmap, whatever the null count said. */
	code[2] = -1;
	ck_assert_int_eq(tfs_arrow_read(&t.l, codes->off, 20, buf), 20);
	ck_assert_mem_eq(buf, "\0\0\0\0\0\0\0\0\0\0\0\0\1\0\0\0\0\0\0\0", 20);
	ck_assert_int_eq(tfs_arrow_read(&t.l, codes[-2].off, 1, buf), 1);
	ck_assert_int_eq(codes[-2].kind, TFS_ARROW_VALID);
	ck_assert_uint_eq(buf[0], 0x19); /* rows 0, 3, 4 */
	drop(&t);
}
END_TEST

/* Exact bitmaps and null counts of nullable columns. */
START_TEST(validity)
{
	static const unsigned char mask[10] = {1, 0, 0, 5, 0, 0, 0, 0, 0, 1};
	static const int32_t codes[10] = {0, 0, -1, 0, 0, 0, 0, 0, -1, 0};
	static const char *const cats[] = {"c"};
	static const char *const text[10] = {NULL, "", "é", NULL, "b", "", "", "", "", NULL};
	struct table t;
	unsigned char buf[2];

	memset(&t, 0, sizeof(t));
	t.rows = 10;
	add(&t, "q", "int64", 0, 0, 0);
	t.def[0].nullable = true;
	t.col[0].nulls = mask;
	add_cat(&t, "c", cats, 1, codes, mask);
	add_text(&t, "s", "utf8", true, text);
	add(&t, "p", "int32", 0, 0, 0);
	t.col[3].nulls = mask; /* not nullable: a mask is not looked at */
	lay(&t);
	check_metadata(&t); /* null counts: 3, 5, 3, 0 */
	ck_assert_uint_eq(want_nulls(&t, 0), 3);
	ck_assert_uint_eq(want_nulls(&t, 1), 5);
	ck_assert_uint_eq(want_nulls(&t, 2), 3);
	for (size_t i = 0; i < t.l.nseg; i++) {
		const struct tfs_arrow_seg *s = &t.l.seg[i];

		if (s->kind != TFS_ARROW_VALID)
			continue;
		ck_assert_int_eq(tfs_arrow_read(&t.l, s->off, 2, buf), 2);
		if (s->aux) { /* the category: rows 0, 2, 3, 8, 9 null */
			ck_assert_uint_eq(buf[0], 0xf2);
			ck_assert_uint_eq(buf[1], 0x00);
		} else { /* rows 0, 3, 9 null */
			ck_assert_uint_eq(buf[0], 0xf6);
			ck_assert_uint_eq(buf[1], 0x01);
		}
	}
	drop(&t);
}
END_TEST

Suite *arrow_suite(void)
{
	Suite *s = suite_create("arrow");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, empty_table);
	tcase_add_test(tc, sizes);
	tcase_add_loop_test(tc, coverage_and_alignment, 0, 2 * N_TABLES);
	tcase_add_test(tc, huge);
	tcase_add_test(tc, invalid);
	tcase_add_loop_test(tc, plain_unchanged, 0, N_TABLES);
	suite_add_tcase(s, tc);
	tc = tcase_create("read");
	tcase_add_loop_test(tc, contents, 0, 2 * N_TABLES);
	tcase_add_test(tc, bit_packing);
	tcase_add_loop_test(tc, random_reads, 0, 2 * N_TABLES);
	tcase_add_test(tc, read_rechecks);
	tcase_add_test(tc, validity);
	suite_add_tcase(s, tc);
	tc = tcase_create("check");
	tcase_add_test(tc, check_offsets);
	tcase_add_test(tc, check_empty);
	tcase_add_test(tc, check_codes);
	suite_add_tcase(s, tc);
	return s;
}
