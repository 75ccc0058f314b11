#include "config.h"

#include <errno.h>
#include <limits.h>
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
 *   ...      for each category column, a DictionaryBatch message and its body
 *   rb       RecordBatch message: 0xFFFFFFFF, int32 n, Message flatbuffer, padding
 *   body     the record batch body: every buffer at a multiple of 64, padded with zeros
 *            to the next multiple of 64; body itself starts at a multiple of 64
 *            (the padding of each message is chosen for that)
 *   ...      end-of-stream marker 0xFFFFFFFF 0x00000000
 *   ...      Footer flatbuffer (schema again, a Block per dictionary and one for the
 *            record batch)
 *   size-10  int32 length of the Footer flatbuffer
 *   size-6   "ARROW1"
 *
 * A fixed-width column i becomes ndim nested FixedSizeList fields over one
 * leaf field of its element type.  Nodes and buffers are listed depth
 * first: each list level has one node and one buffer (validity); the leaf
 * has one node and two buffers (validity; values: the column memory as it
 * is, or for bool the bools packed to bits on the fly).  Validity is absent
 * except at the top level of a nullable column, where it is built on the
 * fly from the null mask.  utf8 and binary are LargeUtf8 and LargeBinary
 * (validity, the int64 offsets file, the data file); category is a field
 * of type LargeUtf8 with a DictionaryEncoding (int32 indices, id = column
 * index): validity (null mask and code -1) and the codes file in the record
 * batch, the dictionary files in its dictionary batch.  Offsets and codes
 * are checked again as they are served: writers may change them at any time.
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
	HDR_DICTIONARY_BATCH = 2,
	HDR_RECORD_BATCH = 3,
	T_INT = 2,
	T_FLOAT = 3,
	T_BOOL = 6,
	T_TIMESTAMP = 10,
	T_FIXED_BINARY = 15,
	T_FIXED_LIST = 16,
	T_DURATION = 18,
	T_LARGE_BINARY = 19,
	T_LARGE_UTF8 = 20,
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

/* Far from overflow in any sum of a few of them. */
#define BYTES_MAX (UINT64_C(1) << 62)

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
	case TFS_UTF8:
	case TFS_BINARY:
		return t->size == 8 && !d->ndim && d->data_bytes <= BYTES_MAX ? 0 : -EINVAL;
	case TFS_CATEGORY:
		return t->size == 4 && !d->ndim && d->dict_bytes <= BYTES_MAX &&
			       d->ncat < BYTES_MAX / 8
			   ? 0
			   : -EINVAL;
	}
	return -EINVAL;
}

/* Whether the Arrow field may hold nulls: a category's code -1 is one. */
static bool arrow_nullable(const struct tfs_coldef *d)
{
	return d->nullable || d->type.kind == TFS_CATEGORY;
}

/* Writes the type table of level `level` of column d; its union tag in *tag.
 * A category's type is that of its dictionary's values. */
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
	case TFS_UTF8:
	case TFS_CATEGORY:
		*tag = T_LARGE_UTF8;
		break;
	case TFS_BINARY:
		*tag = T_LARGE_BINARY;
		break;
	}
	return fb_end(b);
}

/* The DictionaryEncoding of a category column: int32 indices, unordered. */
static uint32_t put_dict_encoding(struct fbb *b, uint64_t id)
{
	uint32_t index;

	fb_start(b);
	fb_field(b, 0, 32, 4); /* bitWidth */
	fb_field(b, 1, 1, 1);  /* is_signed */
	index = fb_end(b);
	fb_start(b);
	fb_field(b, 0, id, 8);
	fb_field_ref(b, 1, index); /* indexType */
	fb_field(b, 2, 0, 1);	   /* isOrdered: false */
	return fb_end(b);
}

/* Writes the Field table of level `level` of column d (number id), its
 * children first. */
static uint32_t put_field(struct fbb *b, const struct tfs_coldef *d, size_t id, unsigned level)
{
	uint32_t child = 0, children, name, type, dict = 0;
	uint8_t tag = 0;

	if (level < d->ndim)
		child = put_field(b, d, id, level + 1);
	children = fb_vec_refs(b, &child, level < d->ndim ? 1 : 0);
	name = fb_string(b, level ? "item" : d->name);
	type = put_type(b, d, level, &tag);
	if (d->type.kind == TFS_CATEGORY)
		dict = put_dict_encoding(b, id);
	fb_start(b);
	fb_field_ref(b, 0, name);
	fb_field(b, 1, !level && arrow_nullable(d), 1); /* nullable */
	fb_field(b, 2, tag, 1);				 /* type_type */
	fb_field_ref(b, 3, type);
	if (dict)
		fb_field_ref(b, 4, dict);
	fb_field_ref(b, 5, children);
	return fb_end(b);
}

static uint32_t put_schema(struct fbb *b, const struct tfs_arrow_col *cols, size_t ncols)
{
	uint32_t *fields = calloc(ncols ? ncols : 1, sizeof(*fields));
	uint32_t vec;

	if (!fields) {
		b->err = -ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < ncols && !b->err; i++)
		fields[i] = put_field(b, cols[i].def, i, 0);
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

/* ---- the bodies of the batches ---- */

/* One buffer of a body, in depth-first order: a segment to be, at a place
 * in its body. */
struct buf {
	uint64_t off, len; /* within the body; len 0 for absent buffers */
	enum tfs_arrow_seg_kind kind;
	const void *ptr, *aux;
	uint64_t nbits, limit;
};

/* A record batch (the table's, or a category's dictionary), its FieldNodes
 * and buffers, and where its message and body land in the file. */
struct batch {
	uint64_t length;
	int64_t dict_id; /* a DictionaryBatch's id, or -1 for the record batch */
	size_t nnode, nbuf;
	uint64_t (*node)[2]; /* FieldNode: length, null_count */
	struct buf *buf;
	uint64_t body_len;
	struct fbb fb;
	uint64_t msg_off;
	size_t meta_len; /* message length after the prefix, padding included */
};

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

/* The offsets of an empty utf8 column whose file a caller left out. */
static const int64_t no_offsets[1];

static void add_node(struct batch *p, uint64_t length, uint64_t nulls)
{
	p->node[p->nnode][0] = length;
	p->node[p->nnode++][1] = nulls;
}

static int add_buf(struct batch *p, enum tfs_arrow_seg_kind kind, uint64_t len, const void *ptr,
		   const void *aux, uint64_t nbits, uint64_t limit)
{
	struct buf *q = &p->buf[p->nbuf++];

	if (len && !ptr && kind != TFS_ARROW_VALID)
		return -EINVAL; /* the memory of a file with bytes is missing */
	q->off = p->body_len;
	q->len = len;
	q->kind = kind;
	q->ptr = len ? ptr : NULL;
	q->aux = len ? aux : NULL;
	q->nbits = nbits;
	q->limit = limit;
	p->body_len += round_up(len, ALIGN);
	return p->body_len > BYTES_MAX ? -EINVAL : 0;
}

static int add_absent(struct batch *p)
{
	return add_buf(p, TFS_ARROW_ZERO, 0, NULL, NULL, 0, 0);
}

/* Rows of column c that are null: mask nonzero, or (category) code -1. */
static uint64_t null_count(const struct tfs_arrow_col *c, uint64_t rows)
{
	const unsigned char *mask = c->def->nullable ? c->nulls : NULL;
	const int32_t *codes = c->def->type.kind == TFS_CATEGORY ? c->main : NULL;
	uint64_t n = 0;

	if (!mask && !codes)
		return 0;
	for (uint64_t i = 0; i < rows; i++)
		n += (mask && mask[i]) || (codes && codes[i] == -1);
	return n;
}

/* Nodes and buffers a column adds to the record batch. */
static void count_col(const struct tfs_coldef *d, size_t *nnode, size_t *nbuf)
{
	switch (d->type.kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		*nnode += 1;
		*nbuf += 3;
		break;
	case TFS_CATEGORY:
		*nnode += 1;
		*nbuf += 2;
		break;
	default:
		*nnode += d->ndim + 1;
		*nbuf += d->ndim + 2;
		break;
	}
}

/* Adds column c's nodes and buffers to the record batch p. */
static int map_col(struct batch *p, const struct tfs_arrow_col *c, uint64_t rows)
{
	const struct tfs_coldef *d = c->def;
	uint64_t n = rows, bytes, len, nulls;
	int rc;

	if (rows && ((d->nullable && !c->nulls) || (d->type.kind == TFS_CATEGORY && !c->main)))
		return -EINVAL;
	nulls = null_count(c, rows);
	add_node(p, rows, nulls);
	if (arrow_nullable(d))
		rc = add_buf(p, TFS_ARROW_VALID, (rows + 7) / 8, d->nullable ? c->nulls : NULL,
			     d->type.kind == TFS_CATEGORY ? c->main : NULL, rows, 0);
	else
		rc = add_absent(p);
	if (rc)
		return rc;
	switch (d->type.kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		if (rows >= BYTES_MAX / 8)
			return -EINVAL;
		rc = add_buf(p, TFS_ARROW_OFFSETS, (rows + 1) * 8,
			     c->main ? c->main : rows ? NULL : no_offsets, NULL, 0, d->data_bytes);
		return rc ? rc : add_buf(p, TFS_ARROW_DATA, d->data_bytes, c->data, NULL, 0, 0);
	case TFS_CATEGORY:
		if (rows >= BYTES_MAX / 4)
			return -EINVAL;
		return add_buf(p, TFS_ARROW_CODES, rows * 4, c->main, NULL, 0, d->ncat);
	default:
		break;
	}
	if (d->itemsize && rows > BYTES_MAX / d->itemsize)
		return -EINVAL;
	bytes = rows * d->itemsize;
	for (unsigned l = 0; l < d->ndim; l++) {
		if (d->shape[l] && n > INT64_MAX / d->shape[l])
			return -EINVAL;
		n *= d->shape[l];
		add_node(p, n, 0);
		add_absent(p);
	}
	len = d->type.kind == TFS_BOOL ? (n + 7) / 8 : bytes;
	return add_buf(p, d->type.kind == TFS_BOOL ? TFS_ARROW_BITS : TFS_ARROW_DATA, len, c->main,
		       NULL, d->type.kind == TFS_BOOL ? n : 0, 0);
}

/* The dictionary batch of category column c (number id): one LargeUtf8
 * array of its categories. */
static int map_dict(struct batch *p, const struct tfs_arrow_col *c, size_t id)
{
	const struct tfs_coldef *d = c->def;
	const int64_t *dict = c->dict ? c->dict : d->ncat ? NULL : no_offsets;
	int rc;

	p->length = d->ncat;
	p->dict_id = (int64_t)id;
	add_node(p, d->ncat, 0);
	rc = add_absent(p);
	if (!rc)
		rc = add_buf(p, TFS_ARROW_OFFSETS, (d->ncat + 1) * 8, dict, NULL, 0, d->dict_bytes);
	if (!rc)
		rc = add_buf(p, TFS_ARROW_DATA, d->dict_bytes, c->dict_data, NULL, 0, 0);
	return rc;
}

static uint32_t put_record_batch(struct fbb *b, const struct batch *p)
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
	fb_field(b, 0, p->length, 8); /* length */
	fb_field_ref(b, 1, nodes);
	fb_field_ref(b, 2, buffers);
	return fb_end(b);
}

/* The message of batch p, in its own builder. */
static int put_batch(struct batch *p)
{
	struct fbb *b = &p->fb;
	uint32_t rb = put_record_batch(b, p), hdr;

	if (p->dict_id < 0)
		return fb_finish(b, put_message(b, HDR_RECORD_BATCH, rb, p->body_len));
	fb_start(b);
	fb_field(b, 0, (uint64_t)p->dict_id, 8); /* id */
	fb_field_ref(b, 1, rb);			 /* data */
	fb_field(b, 2, 0, 1);			 /* isDelta: false */
	hdr = fb_end(b);
	return fb_finish(b, put_message(b, HDR_DICTIONARY_BATCH, hdr, p->body_len));
}

/* A vector of the Blocks of batches [0, n): offset, metaDataLength, bodyLength. */
static uint32_t put_blocks(struct fbb *b, const struct batch *p, size_t n)
{
	unsigned char block[24] = {0};

	fb_vec_start(b, n, 24, 8);
	for (size_t i = n; i-- > 0;) {
		put64(block, p[i].msg_off);
		put32(block + 8, (uint32_t)(p[i].meta_len + MESSAGE_PREFIX));
		put64(block + 16, p[i].body_len);
		fb_push(b, block, sizeof(block));
	}
	return fb_vec_end(b, n);
}

/* The footer; the record batch is the last of the nbatch batches. */
static uint32_t put_footer(struct fbb *b, const struct tfs_arrow_col *cols, size_t ncols,
			   const struct batch *p, size_t nbatch)
{
	uint32_t schema, dicts, batches;

	batches = put_blocks(b, p + nbatch - 1, 1);
	dicts = put_blocks(b, p, nbatch - 1);
	schema = put_schema(b, cols, ncols);
	fb_start(b);
	fb_field(b, 0, V5, 2);
	fb_field_ref(b, 1, schema);
	fb_field_ref(b, 2, dicts);
	fb_field_ref(b, 3, batches);
	return fb_end(b);
}

/* ---- the layout ---- */

/* Adds a segment for b; with join, one for metadata extends the metadata
 * segment before it. */
static int add_seg(struct tfs_arrow_layout *l, size_t cap, const struct buf *b, bool join)
{
	struct tfs_arrow_seg *s = l->nseg ? &l->seg[l->nseg - 1] : NULL;

	if (!b->len)
		return 0;
	if (join && s && b->kind == TFS_ARROW_BYTES && s->kind == TFS_ARROW_BYTES &&
	    (const unsigned char *)s->ptr + s->len == b->ptr) {
		s->len += b->len;
		l->size += b->len;
		return 0;
	}
	if (l->nseg == cap)
		return -EINVAL; /* cannot happen: cap counts every segment */
	s = &l->seg[l->nseg++];
	s->off = l->size;
	s->len = b->len;
	s->kind = b->kind;
	s->ptr = b->ptr;
	s->aux = b->aux;
	s->nbits = b->nbits;
	s->limit = b->limit;
	l->size += b->len;
	return 0;
}

static int add_bytes(struct tfs_arrow_layout *l, size_t cap, const unsigned char *p, size_t len,
		     bool join)
{
	struct buf b = {.len = len, .kind = TFS_ARROW_BYTES, .ptr = p};

	return add_seg(l, cap, &b, join);
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

/* Places the messages and bodies, writes the metadata blob and the segments. */
static int build(struct tfs_arrow_layout *l, const struct tfs_arrow_col *cols, size_t ncols,
		 struct batch *p, size_t nbatch)
{
	struct fbb schema, footer;
	size_t schema_meta, tail, cap = 3;
	uint64_t pos;
	unsigned char *q;
	int rc;

	memset(&schema, 0, sizeof(schema));
	memset(&footer, 0, sizeof(footer));
	rc = fb_finish(&schema, put_message(&schema, HDR_SCHEMA, put_schema(&schema, cols, ncols), 0));
	schema_meta = round_up(schema.size, 8);
	pos = sizeof(magic) + MESSAGE_PREFIX + schema_meta;
	l->metalen = pos;
	for (size_t i = 0; i < nbatch && !rc; i++) {
		uint64_t body_off;

		rc = put_batch(&p[i]);
		if (rc)
			break;
		p[i].msg_off = pos;
		body_off = round_up(pos + MESSAGE_PREFIX + p[i].fb.size, ALIGN);
		p[i].meta_len = body_off - pos - MESSAGE_PREFIX;
		if (p[i].meta_len + MESSAGE_PREFIX > INT32_MAX)
			rc = -EINVAL;
		l->metalen += MESSAGE_PREFIX + p[i].meta_len;
		pos = body_off + p[i].body_len;
		cap += 1 + 2 * p[i].nbuf;
	}
	if (!rc)
		rc = fb_finish(&footer, put_footer(&footer, cols, ncols, p, nbatch));
	if (rc)
		goto out;

	tail = 8 + footer.size + 4 + 6;
	l->metalen += tail;
	l->meta = malloc(l->metalen);
	l->seg = calloc(cap, sizeof(*l->seg));
	rc = -ENOMEM;
	if (!l->meta || !l->seg)
		goto out;
	memcpy(l->meta, magic, sizeof(magic));
	q = put_encapsulated(l->meta + sizeof(magic), &schema, schema_meta);
	rc = add_bytes(l, cap, l->meta, (size_t)(q - l->meta), false);
	for (size_t i = 0; i < nbatch && !rc; i++) {
		unsigned char *m = q;

		q = put_encapsulated(q, &p[i].fb, p[i].meta_len);
		/* The messages before the first body make one segment. */
		rc = add_bytes(l, cap, m, (size_t)(q - m), true);
		for (size_t k = 0; k < p[i].nbuf && !rc; k++) {
			const struct buf *bf = &p[i].buf[k];
			struct buf pad = {.len = round_up(bf->len, ALIGN) - bf->len,
					  .kind = TFS_ARROW_ZERO};

			rc = add_seg(l, cap, bf, false);
			if (!rc)
				rc = add_seg(l, cap, &pad, false);
		}
	}
	if (rc)
		goto out;
	put32(q, UINT32_MAX); /* end of stream */
	put32(q + 4, 0);
	memcpy(q + 8, fb_bytes(&footer), footer.size);
	put32(q + 8 + footer.size, (uint32_t)footer.size);
	memcpy(q + 12 + footer.size, magic, 6);
	rc = add_bytes(l, cap, q, tail, false);
out:
	free(schema.buf);
	free(footer.buf);
	return rc;
}

int tfs_arrow_layout(const struct tfs_arrow_col *cols, size_t ncols, uint64_t rows,
		     struct tfs_arrow_layout *out)
{
	size_t nbatch = 1, nnode = 0, nbuf = 0;
	struct batch *p = NULL, *rb;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (rows > INT64_MAX || (ncols && !cols))
		return -EINVAL;
	for (size_t i = 0; i < ncols; i++) {
		rc = cols[i].def ? check_def(cols[i].def) : -EINVAL;
		if (rc)
			return rc;
		nbatch += cols[i].def->type.kind == TFS_CATEGORY;
		count_col(cols[i].def, &nnode, &nbuf);
	}
	/* The dictionary batches (one node, three buffers each), then the
	 * record batch. */
	rc = -ENOMEM;
	p = calloc(nbatch, sizeof(*p));
	if (!p)
		goto out;
	for (size_t i = 0; i < nbatch; i++) {
		bool last = i == nbatch - 1;

		p[i].node = calloc(last ? nnode + 1 : 1, sizeof(*p[i].node));
		p[i].buf = calloc(last ? nbuf + 1 : 3, sizeof(*p[i].buf));
		if (!p[i].node || !p[i].buf)
			goto out;
	}
	rb = &p[nbatch - 1];
	rb->length = rows;
	rb->dict_id = -1;
	rc = 0;
	for (size_t i = 0, k = 0; i < ncols && !rc; i++) {
		rc = map_col(rb, &cols[i], rows);
		if (!rc && cols[i].def->type.kind == TFS_CATEGORY)
			rc = map_dict(&p[k++], &cols[i], i);
	}
	if (!rc)
		rc = build(out, cols, ncols, p, nbatch);
out:
	for (size_t i = 0; p && i < nbatch; i++) {
		free(p[i].node);
		free(p[i].buf);
		free(p[i].fb.buf);
	}
	free(p);
	if (rc)
		tfs_arrow_free(out);
	return rc;
}

/* ---- checks ---- */

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* Checks n int64 offsets into limit bytes; what names the column, unit
 * the thing each value is ("row", "category"). */
static int check_offsets(const int64_t *o, uint64_t n, uint64_t limit, const char *what,
			 const char *unit, char *why, size_t whylen)
{
	if (!o) {
		WHY("%s: its offsets file is missing", what);
		return -EIO;
	}
	if (o[0] != 0) {
		WHY("%s %s 0: the first offset is %lld, not 0", what, unit, (long long)o[0]);
		return -EIO;
	}
	for (uint64_t j = 1; j < n; j++) {
		if (o[j] < o[j - 1]) {
			WHY("%s %s %llu: end offset %lld is below its start offset %lld", what,
			    unit, (unsigned long long)(j - 1), (long long)o[j], (long long)o[j - 1]);
			return -EIO;
		}
		if ((uint64_t)o[j] > limit) {
			WHY("%s %s %llu: end offset %lld is past the end of the data (%llu bytes)",
			    what, unit, (unsigned long long)(j - 1), (long long)o[j],
			    (unsigned long long)limit);
			return -EIO;
		}
	}
	return 0;
}

int tfs_arrow_check(const struct tfs_arrow_col *col, uint64_t rows, char *why, size_t whylen)
{
	const struct tfs_coldef *d = col->def;
	char what[TFS_NAME_MAX + 32];
	int rc;

	snprintf(what, sizeof(what), "column '%s'", d->name);
	if (d->nullable && rows && !col->nulls) {
		WHY("%s: its null mask is missing", what);
		return -EIO;
	}
	switch (d->type.kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		if (!col->data && d->data_bytes) {
			WHY("%s: its data file is missing", what);
			return -EIO;
		}
		return check_offsets(col->main ? col->main : rows ? NULL : no_offsets, rows + 1,
				     d->data_bytes, what, "row", why, whylen);
	case TFS_CATEGORY:
		if (!col->dict_data && d->dict_bytes) {
			WHY("%s: its dictionary data file is missing", what);
			return -EIO;
		}
		snprintf(what, sizeof(what), "column '%s' dictionary", d->name);
		rc = check_offsets(col->dict ? col->dict : d->ncat ? NULL : no_offsets, d->ncat + 1,
				   d->dict_bytes, what, "category", why, whylen);
		if (rc)
			return rc;
		if (rows && !col->main) {
			WHY("column '%s': its codes file is missing", d->name);
			return -EIO;
		}
		for (uint64_t i = 0; i < rows; i++) {
			int32_t c = ((const int32_t *)col->main)[i];

			if (c != -1 && (c < 0 || (uint64_t)c >= d->ncat)) {
				WHY("column '%s' row %llu: code %ld is neither -1 (missing) nor one "
				    "of the %llu categories",
				    d->name, (unsigned long long)i, (long)c,
				    (unsigned long long)d->ncat);
				return -EIO;
			}
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- reading ---- */

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

/* Validity bytes [first, first + n) of segment s. */
static void pack_valid(const struct tfs_arrow_seg *s, uint64_t first, size_t n, unsigned char *out)
{
	const unsigned char *mask = s->ptr;
	const int32_t *codes = s->aux;

	for (size_t j = 0; j < n; j++) {
		uint64_t base = 8 * (first + j);
		unsigned v = 0;

		for (unsigned k = 0; k < 8 && base + k < s->nbits; k++) {
			uint64_t r = base + k;

			v |= (unsigned)((!mask || !mask[r]) && (!codes || codes[r] != -1)) << k;
		}
		out[j] = (unsigned char)v;
	}
}

/* Copies the bytes of element e (size bytes, value at le) that fall in
 * [in, in + n) of the segment to out (which holds that range). */
static void put_part(const unsigned char *le, uint64_t e, size_t size, uint64_t in, size_t n,
		     unsigned char *out)
{
	uint64_t lo = e * size > in ? e * size : in;
	uint64_t hi = (e + 1) * size < in + n ? (e + 1) * size : in + n;

	memcpy(out + (lo - in), le + (lo - e * size), (size_t)(hi - lo));
}

/* Element e of a segment of size-byte elements, as served in out (which
 * holds bytes [in, in + n)): read from out when all its bytes are there;
 * else read once from the segment and its bytes in range written to out,
 * so that what is checked is what is served. */
static int64_t served(const struct tfs_arrow_seg *s, uint64_t e, size_t size, uint64_t in,
		      size_t n, unsigned char *out)
{
	int64_t v64;
	int32_t v32;

	if (e * size >= in && (e + 1) * size <= in + n) {
		if (size == 8) {
			memcpy(&v64, out + (e * size - in), 8);
			return v64;
		}
		memcpy(&v32, out + (e * size - in), 4);
		return v32;
	}
	if (size == 8) {
		v64 = ((const volatile int64_t *)s->ptr)[e];
		put_part((const unsigned char *)&v64, e, 8, in, n, out);
		return v64;
	}
	v32 = ((const volatile int32_t *)s->ptr)[e];
	put_part((const unsigned char *)&v32, e, 4, in, n, out);
	return v32;
}

/* Bytes [in, in + n) of an offsets segment: copied, then each offset the
 * copy holds checked (with the one before it). */
static int serve_offsets(const struct tfs_arrow_seg *s, uint64_t in, size_t n, unsigned char *out)
{
	uint64_t first = in / 8, last = (in + n - 1) / 8;
	int64_t prev = first ? ((const volatile int64_t *)s->ptr)[first - 1] : 0;

	memcpy(out, (const unsigned char *)s->ptr + in, n);
	for (uint64_t e = first; e <= last; e++) {
		int64_t v = served(s, e, 8, in, n, out);

		if (v < prev || (uint64_t)v > s->limit || (!e && v))
			return -EIO;
		prev = v;
	}
	return 0;
}

/* Bytes [in, in + n) of a codes segment: copied, then each code the copy
 * holds checked, a -1 made 0 when 0 is a category. */
static int serve_codes(const struct tfs_arrow_seg *s, uint64_t in, size_t n, unsigned char *out)
{
	static const int32_t zero;
	uint64_t first = in / 4, last = (in + n - 1) / 4;

	memcpy(out, (const unsigned char *)s->ptr + in, n);
	for (uint64_t e = first; e <= last; e++) {
		int64_t v = served(s, e, 4, in, n, out);

		if (v == -1 && s->limit)
			put_part((const unsigned char *)&zero, e, 4, in, n, out);
		else if (v != -1 && (v < 0 || (uint64_t)v >= s->limit))
			return -EIO;
	}
	return 0;
}

ssize_t tfs_arrow_read(const struct tfs_arrow_layout *l, uint64_t off, size_t len, void *buf)
{
	unsigned char *out = buf;
	size_t lo = 0, hi = l->nseg, done = 0;
	int rc = 0;

	if (off >= l->size)
		return 0;
	if (len > l->size - off)
		len = (size_t)(l->size - off);
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	while (hi - lo > 1) { /* the last segment starting at or before off */
		size_t mid = lo + (hi - lo) / 2;

		if (l->seg[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (size_t i = lo; i < l->nseg && done < len && !rc; i++) {
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
		case TFS_ARROW_VALID:
			pack_valid(s, in, n, out + done);
			break;
		case TFS_ARROW_OFFSETS:
			rc = serve_offsets(s, in, n, out + done);
			break;
		case TFS_ARROW_CODES:
			rc = serve_codes(s, in, n, out + done);
			break;
		}
		done += n;
	}
	return rc ? rc : (ssize_t)done;
}

void tfs_arrow_free(struct tfs_arrow_layout *l)
{
	free(l->seg);
	free(l->meta);
	memset(l, 0, sizeof(*l));
}
