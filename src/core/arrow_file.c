#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "arrow_file.h"

/*
 * The file, as the Arrow columnar format specification describes it:
 *
 *   0        "ARROW1\0\0"
 *   8        Schema message:      0xFFFFFFFF, int32 n, Message flatbuffer, padding (n bytes)
 *   rb       RecordBatch message: 0xFFFFFFFF, int32 n, Message flatbuffer, padding
 *   body     the record batch body: every buffer at a multiple of 64, padded with zeros
 *            to the next multiple of 64; body itself starts at a multiple of 64
 *            (the padding of the RecordBatch message is chosen for that)
 *   ...      end-of-stream marker 0xFFFFFFFF 0x00000000
 *   ...      Footer flatbuffer (schema again, one Block for the record batch)
 *   size-10  int32 length of the Footer flatbuffer
 *   size-6   "ARROW1"
 *
 * Column i becomes ndim nested FixedSizeList fields over one leaf field of
 * its element type.  Nodes and buffers are listed depth first: each list
 * level has one node and one buffer (validity, absent); the leaf has one node
 * and two buffers (validity, absent; values: the column memory as it is, or
 * for bool the bools packed to bits on the fly).
 *
 * FlatBuffers are written with a small back-to-front builder: objects are
 * prepended, so anything referenced (strings, vectors, child tables) is
 * written before whatever refers to it, and offsets point forward.
 */

#define ALIGN	       64
#define MESSAGE_PREFIX 8 /* continuation marker + int32 metadata length */
#define FB_MAX_SLOTS   8

/* Arrow enum values (format/Schema.fbs, Message.fbs). */
enum {
	V5 = 4,
	HDR_SCHEMA = 1,
	HDR_RECORD_BATCH = 3,
	T_INT = 2,
	T_FLOAT = 3,
	T_BOOL = 6,
	T_TIMESTAMP = 10,
	T_FIXED_BINARY = 15,
	T_FIXED_LIST = 16,
	T_DURATION = 18,
};

static const unsigned char magic[8] = {'A', 'R', 'R', 'O', 'W', '1', 0, 0};

/* ---- little-endian stores ---- */

static void put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* ---- the FlatBuffers builder ---- */

/* A position is the number of bytes from the object to the end of the buffer
 * (the buffer grows towards its start), so it never changes as the buffer
 * grows; the final address of position p is size - p. */
struct fbb {
	unsigned char *buf; /* data lives in buf[cap - size, cap) */
	size_t cap, size, minalign;
	uint32_t slot[FB_MAX_SLOTS]; /* positions of the open table's fields, 0 = absent */
	unsigned nslot;
	size_t tstart;
	int err; /* -ENOMEM or -EINVAL (too big): every later call does nothing */
};

static bool fb_room(struct fbb *b, size_t n)
{
	size_t cap;
	unsigned char *nb;

	if (b->err)
		return false;
	if (b->cap - b->size >= n)
		return true;
	if (n > INT32_MAX - b->size) {
		b->err = -EINVAL; /* uoffsets are 32 bits */
		return false;
	}
	cap = b->cap ? b->cap : 256;
	while (cap - b->size < n)
		cap *= 2;
	nb = malloc(cap);
	if (!nb) {
		b->err = -ENOMEM;
		return false;
	}
	if (b->size)
		memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
	free(b->buf);
	b->buf = nb;
	b->cap = cap;
	return true;
}

static void fb_push(struct fbb *b, const void *p, size_t n)
{
	if (!n || !fb_room(b, n))
		return;
	b->size += n;
	if (p)
		memcpy(b->buf + b->cap - b->size, p, n);
	else
		memset(b->buf + b->cap - b->size, 0, n);
}

/* Pads so that after `extra` more bytes the size is a multiple of align. */
static void fb_prep(struct fbb *b, size_t align, size_t extra)
{
	if (align > b->minalign)
		b->minalign = align;
	fb_push(b, NULL, (align - (b->size + extra) % align) % align);
}

static uint32_t fb_pos(const struct fbb *b)
{
	return (uint32_t)b->size;
}

static uint32_t fb_scalar(struct fbb *b, uint64_t v, size_t n)
{
	unsigned char le[8];

	put64(le, v);
	fb_prep(b, n, 0);
	fb_push(b, le, n);
	return fb_pos(b);
}

/* A uoffset to the object at position target (written earlier). */
static uint32_t fb_ref(struct fbb *b, uint32_t target)
{
	fb_prep(b, 4, 0);
	return fb_scalar(b, b->size + 4 - target, 4);
}

static uint32_t fb_string(struct fbb *b, const char *s)
{
	size_t n = strlen(s);

	fb_prep(b, 4, n + 1);
	fb_push(b, NULL, 1);
	fb_push(b, s, n);
	return fb_scalar(b, n, 4);
}

/* Vectors: fb_vec_start, then the elements pushed last first, then fb_vec_end. */
static void fb_vec_start(struct fbb *b, size_t n, size_t elemsize, size_t align)
{
	fb_prep(b, 4, n * elemsize);
	fb_prep(b, align, n * elemsize);
}

static uint32_t fb_vec_end(struct fbb *b, size_t n)
{
	return fb_scalar(b, n, 4);
}

static uint32_t fb_vec_refs(struct fbb *b, const uint32_t *targets, size_t n)
{
	fb_vec_start(b, n, 4, 4);
	for (size_t i = n; i-- > 0;)
		fb_ref(b, targets[i]);
	return fb_vec_end(b, n);
}

/* A vector of n structs of two int64 (FieldNode, Buffer). */
static uint32_t fb_vec_pairs(struct fbb *b, const uint64_t (*pairs)[2], size_t n)
{
	unsigned char s[16];

	fb_vec_start(b, n, 16, 8);
	for (size_t i = n; i-- > 0;) {
		put64(s, pairs[i][0]);
		put64(s + 8, pairs[i][1]);
		fb_push(b, s, 16);
	}
	return fb_vec_end(b, n);
}

/* Tables: fb_start, fields (scalars or references, any order), fb_end.
 * Only one table can be open: build what it refers to first. */
static void fb_start(struct fbb *b)
{
	memset(b->slot, 0, sizeof(b->slot));
	b->nslot = 0;
	b->tstart = b->size;
}

static void fb_mark(struct fbb *b, unsigned slot, uint32_t pos)
{
	b->slot[slot] = pos;
	if (slot + 1 > b->nslot)
		b->nslot = slot + 1;
}

/* Scalars are always written, even when equal to the schema's default. */
static void fb_field(struct fbb *b, unsigned slot, uint64_t v, size_t n)
{
	fb_mark(b, slot, fb_scalar(b, v, n));
}

static void fb_field_ref(struct fbb *b, unsigned slot, uint32_t target)
{
	fb_mark(b, slot, fb_ref(b, target));
}

/* Writes the table's vtable just before it (a fresh one per table) and
 * returns the table's position. */
static uint32_t fb_end(struct fbb *b)
{
	unsigned char vt[4 + 2 * FB_MAX_SLOTS];
	uint32_t table = fb_scalar(b, 0, 4); /* soffset to the vtable, patched below */
	size_t vtlen = 4 + 2 * (size_t)b->nslot;

	if (table - b->tstart > UINT16_MAX && !b->err)
		b->err = -EINVAL;
	put16(vt, (uint16_t)vtlen);
	put16(vt + 2, (uint16_t)(table - b->tstart));
	for (unsigned i = 0; i < b->nslot; i++)
		put16(vt + 4 + 2 * i, (uint16_t)(b->slot[i] ? table - b->slot[i] : 0));
	fb_prep(b, 2, vtlen);
	fb_push(b, vt, vtlen);
	if (!b->err)
		put32(b->buf + b->cap - table, fb_pos(b) - table);
	return table;
}

/* Finishes the buffer with root as its root table; 0 or -ENOMEM/-EINVAL. */
static int fb_finish(struct fbb *b, uint32_t root)
{
	fb_prep(b, b->minalign > 8 ? b->minalign : 8, 4);
	fb_ref(b, root);
	return b->err;
}

static const unsigned char *fb_bytes(const struct fbb *b)
{
	return b->buf + b->cap - b->size;
}

/* ---- Arrow schema ---- */

static int time_unit(enum tfs_unit u)
{
	switch (u) {
	case TFS_UNIT_S:
		return 0;
	case TFS_UNIT_MS:
		return 1;
	case TFS_UNIT_US:
		return 2;
	case TFS_UNIT_NS:
		return 3;
	default:
		return -1;
	}
}

/* Checks what the Arrow metadata can express of a column. */
static int check_def(const struct tfs_coldef *d)
{
	const struct tfs_type *t = &d->type;
	uint64_t n = t->size;

	if (d->ndim > TFS_MAX_DIMS || !t->size)
		return -EINVAL;
	for (unsigned i = 0; i < d->ndim; i++) {
		if (d->shape[i] > INT32_MAX)
			return -EINVAL;
		if (d->shape[i] && n > UINT64_MAX / d->shape[i])
			return -EINVAL;
		n *= d->shape[i];
	}
	if (n != d->itemsize)
		return -EINVAL;
	switch (t->kind) {
	case TFS_BOOL:
		return t->size == 1 ? 0 : -EINVAL;
	case TFS_INT:
	case TFS_UINT:
		return t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8 ? 0 : -EINVAL;
	case TFS_FLOAT:
		return t->size == 2 || t->size == 4 || t->size == 8 ? 0 : -EINVAL;
	case TFS_DATETIME:
	case TFS_TIMEDELTA:
		return t->size == 8 && time_unit(t->unit) >= 0 ? 0 : -EINVAL;
	case TFS_BYTES:
		return t->size <= INT32_MAX ? 0 : -EINVAL;
	}
	return -EINVAL;
}

/* Writes the type table of level `level` of column d; its union tag in *tag. */
static uint32_t put_type(struct fbb *b, const struct tfs_coldef *d, unsigned level, uint8_t *tag)
{
	const struct tfs_type *t = &d->type;

	fb_start(b);
	if (level < d->ndim) {
		*tag = T_FIXED_LIST;
		fb_field(b, 0, d->shape[level], 4); /* listSize */
		return fb_end(b);
	}
	switch (t->kind) {
	case TFS_BOOL:
		*tag = T_BOOL;
		break;
	case TFS_INT:
	case TFS_UINT:
		*tag = T_INT;
		fb_field(b, 0, 8 * t->size, 4);	       /* bitWidth */
		fb_field(b, 1, t->kind == TFS_INT, 1); /* is_signed */
		break;
	case TFS_FLOAT:
		*tag = T_FLOAT;
		fb_field(b, 0, t->size == 2 ? 0 : t->size == 4 ? 1 : 2, 2); /* precision */
		break;
	case TFS_DATETIME:
	case TFS_TIMEDELTA:
		*tag = t->kind == TFS_DATETIME ? T_TIMESTAMP : T_DURATION;
		fb_field(b, 0, (uint64_t)time_unit(t->unit), 2); /* unit; no timezone */
		break;
	case TFS_BYTES:
		*tag = T_FIXED_BINARY;
		fb_field(b, 0, t->size, 4); /* byteWidth */
		break;
	}
	return fb_end(b);
}

/* Writes the Field table of level `level` of column d, its children first. */
static uint32_t put_field(struct fbb *b, const struct tfs_coldef *d, unsigned level)
{
	uint32_t child = 0, children, name, type;
	uint8_t tag = 0;

	if (level < d->ndim)
		child = put_field(b, d, level + 1);
	children = fb_vec_refs(b, &child, level < d->ndim ? 1 : 0);
	name = fb_string(b, level ? "item" : d->name);
	type = put_type(b, d, level, &tag);
	fb_start(b);
	fb_field_ref(b, 0, name);
	fb_field(b, 1, 0, 1);	/* nullable: false */
	fb_field(b, 2, tag, 1); /* type_type */
	fb_field_ref(b, 3, type);
	fb_field_ref(b, 5, children);
	return fb_end(b);
}

static uint32_t put_schema(struct fbb *b, const struct tfs_coldef *const *defs, size_t ncols)
{
	uint32_t *fields = calloc(ncols ? ncols : 1, sizeof(*fields));
	uint32_t vec;

	if (!fields) {
		b->err = -ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < ncols && !b->err; i++)
		fields[i] = put_field(b, defs[i], 0);
	vec = fb_vec_refs(b, fields, ncols);
	free(fields);
	fb_start(b);
	fb_field(b, 0, 0, 2); /* endianness: Little */
	fb_field_ref(b, 1, vec);
	return fb_end(b);
}

static uint32_t put_message(struct fbb *b, uint8_t tag, uint32_t header, uint64_t body_len)
{
	fb_start(b);
	fb_field(b, 0, V5, 2);
	fb_field(b, 1, tag, 1); /* header_type */
	fb_field_ref(b, 2, header);
	fb_field(b, 3, body_len, 8);
	return fb_end(b);
}

/* ---- the record batch body ---- */

/* One buffer of the body, in depth-first order. */
struct buf {
	uint64_t off, len; /* within the body */
	const void *ptr;   /* NULL for absent validity buffers */
	uint64_t nbits;	   /* bools to pack, or 0 for bytes copied as is */
};

/* Where each FieldNode and buffer of the record batch body goes. */
struct body_map {
	size_t nnode, nbuf;
	uint64_t (*node)[2]; /* FieldNode: length, null_count */
	struct buf *buf;
	uint64_t body_len;
};

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

static int map_body(struct body_map *p, const struct tfs_coldef *const *defs, const void *const *data,
		     size_t ncols, uint64_t rows)
{
	size_t nnode = 0;
	uint64_t off = 0;

	for (size_t i = 0; i < ncols; i++)
		nnode += defs[i]->ndim + 1;
	p->node = calloc(nnode ? nnode : 1, sizeof(*p->node));
	p->buf = calloc(nnode + ncols + 1, sizeof(*p->buf));
	if (!p->node || !p->buf)
		return -ENOMEM;
	for (size_t i = 0; i < ncols; i++) {
		const struct tfs_coldef *d = defs[i];
		uint64_t n = rows, bytes, len;

		if (d->itemsize && rows > (UINT64_C(1) << 62) / d->itemsize)
			return -EINVAL;
		bytes = rows * d->itemsize;
		if (bytes && !data[i])
			return -EINVAL;
		for (unsigned l = 0; l <= d->ndim; l++) {
			p->node[p->nnode][0] = n;
			p->node[p->nnode++][1] = 0;
			p->buf[p->nbuf++].off = off; /* validity: absent */
			if (l == d->ndim)
				break;
			if (d->shape[l] && n > INT64_MAX / d->shape[l])
				return -EINVAL;
			n *= d->shape[l];
		}
		len = d->type.kind == TFS_BOOL ? (n + 7) / 8 : bytes;
		p->buf[p->nbuf].off = off;
		p->buf[p->nbuf].len = len;
		p->buf[p->nbuf].ptr = len ? data[i] : NULL;
		p->buf[p->nbuf++].nbits = d->type.kind == TFS_BOOL ? n : 0;
		off += round_up(len, ALIGN);
	}
	p->body_len = off;
	return 0;
}

static uint32_t put_record_batch(struct fbb *b, const struct body_map *p, uint64_t rows)
{
	uint64_t(*bufs)[2] = calloc(p->nbuf ? p->nbuf : 1, sizeof(*bufs));
	uint32_t nodes, buffers;

	if (!bufs) {
		b->err = -ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < p->nbuf; i++) {
		bufs[i][0] = p->buf[i].off;
		bufs[i][1] = p->buf[i].len;
	}
	buffers = fb_vec_pairs(b, (const uint64_t(*)[2])bufs, p->nbuf);
	free(bufs);
	nodes = fb_vec_pairs(b, (const uint64_t(*)[2])p->node, p->nnode);
	fb_start(b);
	fb_field(b, 0, rows, 8); /* length */
	fb_field_ref(b, 1, nodes);
	fb_field_ref(b, 2, buffers);
	return fb_end(b);
}

static uint32_t put_footer(struct fbb *b, const struct tfs_coldef *const *defs, size_t ncols,
			   uint64_t rb_off, uint32_t rb_meta, uint64_t body_len)
{
	unsigned char block[24] = {0};
	uint32_t schema, dicts, batches;

	fb_vec_start(b, 1, 24, 8);
	put64(block, rb_off);
	put32(block + 8, rb_meta);
	put64(block + 16, body_len);
	fb_push(b, block, sizeof(block));
	batches = fb_vec_end(b, 1);
	fb_vec_start(b, 0, 24, 8);
	dicts = fb_vec_end(b, 0);
	schema = put_schema(b, defs, ncols);
	fb_start(b);
	fb_field(b, 0, V5, 2);
	fb_field_ref(b, 1, schema);
	fb_field_ref(b, 2, dicts);
	fb_field_ref(b, 3, batches);
	return fb_end(b);
}

/* ---- the layout ---- */

static int add_seg(struct tfs_arrow_layout *l, size_t cap, enum tfs_arrow_seg_kind kind,
		   uint64_t len, const void *ptr, uint64_t nbits)
{
	struct tfs_arrow_seg *s;

	if (!len)
		return 0;
	if (l->nseg == cap)
		return -EINVAL; /* cannot happen: cap counts every segment */
	s = &l->seg[l->nseg++];
	s->off = l->size;
	s->len = len;
	s->kind = kind;
	s->ptr = ptr;
	s->nbits = nbits;
	l->size += len;
	return 0;
}

/* Writes an encapsulated message (prefix, flatbuffer, metalen - fblen zeros). */
static unsigned char *put_encapsulated(unsigned char *p, const struct fbb *b, size_t metalen)
{
	put32(p, UINT32_MAX);
	put32(p + 4, (uint32_t)metalen);
	memcpy(p + MESSAGE_PREFIX, fb_bytes(b), b->size);
	memset(p + MESSAGE_PREFIX + b->size, 0, metalen - b->size);
	return p + MESSAGE_PREFIX + metalen;
}

static int build(struct tfs_arrow_layout *l, const struct tfs_coldef *const *defs, size_t ncols,
		 uint64_t rows, const struct body_map *p, struct fbb fb[3])
{
	size_t schema_meta, rb_meta, head, tail, cap;
	uint64_t rb_off, body_off;
	unsigned char *q;
	int rc;

	rc = fb_finish(&fb[0], put_message(&fb[0], HDR_SCHEMA, put_schema(&fb[0], defs, ncols), 0));
	if (rc)
		return rc;
	rc = fb_finish(&fb[1], put_message(&fb[1], HDR_RECORD_BATCH,
					   put_record_batch(&fb[1], p, rows), p->body_len));
	if (rc)
		return rc;
	schema_meta = round_up(fb[0].size, 8);
	rb_off = sizeof(magic) + MESSAGE_PREFIX + schema_meta;
	body_off = round_up(rb_off + MESSAGE_PREFIX + fb[1].size, ALIGN);
	rb_meta = body_off - rb_off - MESSAGE_PREFIX;
	if (rb_meta + MESSAGE_PREFIX > INT32_MAX)
		return -EINVAL;
	rc = fb_finish(&fb[2], put_footer(&fb[2], defs, ncols, rb_off,
					  (uint32_t)(rb_meta + MESSAGE_PREFIX), p->body_len));
	if (rc)
		return rc;

	head = body_off;
	tail = 8 + fb[2].size + 4 + 6;
	l->metalen = head + tail;
	l->meta = malloc(l->metalen);
	cap = 2 + 2 * p->nbuf;
	l->seg = calloc(cap, sizeof(*l->seg));
	if (!l->meta || !l->seg)
		return -ENOMEM;
	memcpy(l->meta, magic, sizeof(magic));
	q = put_encapsulated(l->meta + sizeof(magic), &fb[0], schema_meta);
	q = put_encapsulated(q, &fb[1], rb_meta);
	put32(q, UINT32_MAX); /* end of stream */
	put32(q + 4, 0);
	memcpy(q + 8, fb_bytes(&fb[2]), fb[2].size);
	put32(q + 8 + fb[2].size, (uint32_t)fb[2].size);
	memcpy(q + 12 + fb[2].size, magic, 6);

	rc = add_seg(l, cap, TFS_ARROW_BYTES, head, l->meta, 0);
	for (size_t i = 0; i < p->nbuf && !rc; i++) {
		const struct buf *bf = &p->buf[i];

		if (!bf->len)
			continue;
		rc = add_seg(l, cap, bf->nbits ? TFS_ARROW_BITS : TFS_ARROW_DATA, bf->len, bf->ptr,
			     bf->nbits);
		if (!rc)
			rc = add_seg(l, cap, TFS_ARROW_ZERO, round_up(bf->len, ALIGN) - bf->len,
				     NULL, 0);
	}
	if (!rc)
		rc = add_seg(l, cap, TFS_ARROW_BYTES, tail, l->meta + head, 0);
	return rc;
}

static int layout_plain(const struct tfs_coldef *const *defs, const void *const *data, size_t ncols,
		     uint64_t rows, struct tfs_arrow_layout *out)
{
	struct fbb fb[3];
	struct body_map p;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(fb, 0, sizeof(fb));
	memset(&p, 0, sizeof(p));
	if (rows > INT64_MAX || (ncols && (!defs || !data)))
		return -EINVAL;
	for (size_t i = 0; i < ncols; i++) {
		rc = defs[i] ? check_def(defs[i]) : -EINVAL;
		if (rc)
			return rc;
	}
	rc = map_body(&p, defs, data, ncols, rows);
	if (!rc)
		rc = build(out, defs, ncols, rows, &p, fb);
	for (int i = 0; i < 3; i++)
		free(fb[i].buf);
	free(p.node);
	free(p.buf);
	if (rc)
		tfs_arrow_free(out);
	return rc;
}

/* Packs bools [8 * first, 8 * (first + n)) of bits (nbits of them) into out. */
static void pack_bits(const unsigned char *bits, uint64_t nbits, uint64_t first, size_t n,
		      unsigned char *out)
{
	for (size_t j = 0; j < n; j++) {
		uint64_t base = 8 * (first + j);
		unsigned v = 0;

		for (unsigned k = 0; k < 8 && base + k < nbits; k++)
			v |= (unsigned)(bits[base + k] != 0) << k;
		out[j] = (unsigned char)v;
	}
}

ssize_t tfs_arrow_read(const struct tfs_arrow_layout *l, uint64_t off, size_t len, void *buf)
{
	unsigned char *out = buf;
	size_t lo = 0, hi = l->nseg, done = 0;

	if (off >= l->size)
		return 0;
	if (len > l->size - off)
		len = (size_t)(l->size - off);
	while (hi - lo > 1) { /* the last segment starting at or before off */
		size_t mid = lo + (hi - lo) / 2;

		if (l->seg[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; i < l->nseg && done < len; i++) {
		const struct tfs_arrow_seg *s = &l->seg[i];
		uint64_t in = off + done - s->off;
		size_t n = (size_t)(s->len - in < len - done ? s->len - in : len - done);

		switch (s->kind) {
		case TFS_ARROW_BYTES:
		case TFS_ARROW_DATA:
			memcpy(out + done, (const unsigned char *)s->ptr + in, n);
			break;
		case TFS_ARROW_ZERO:
			memset(out + done, 0, n);
			break;
		case TFS_ARROW_BITS:
			pack_bits(s->ptr, s->nbits, in, n, out + done);
			break;
		}
		done += n;
	}
	return (ssize_t)done;
}

/* Interim: plain columns only, until the new kinds are laid out. */
int tfs_arrow_check(const struct tfs_arrow_col *col, uint64_t rows, char *why, size_t whylen)
{
	(void)rows;
	if (!tfs_coldef_plain(col->def)) {
		snprintf(why, whylen, "column '%s': not yet in table.arrow", col->def->name);
		return -EIO;
	}
	return 0;
}

int tfs_arrow_layout(const struct tfs_arrow_col *cols, size_t ncols, uint64_t rows,
		     struct tfs_arrow_layout *out)
{
	const struct tfs_coldef **defs = calloc(ncols + 1, sizeof(*defs));
	const void **data = calloc(ncols + 1, sizeof(*data));
	int rc = -ENOMEM;

	if (defs && data) {
		for (size_t i = 0; i < ncols; i++) {
			defs[i] = cols[i].def;
			data[i] = cols[i].main;
		}
		rc = layout_plain(defs, data, ncols, rows, out);
	}
	free(defs);
	free(data);
	return rc;
}

void tfs_arrow_free(struct tfs_arrow_layout *l)
{
	free(l->seg);
	free(l->meta);
	memset(l, 0, sizeof(*l));
}
