/* The Arrow IPC file format (Feather v2) of a table, described rather than
 * built: a list of segments (metadata bytes, column memory, zero padding,
 * bools to bit-pack) from which any byte range of the file is produced on
 * demand.  Every buffer is 64-byte aligned in the file, so Arrow readers can
 * map it without copying.  Pure: no I/O, no locking. */
#ifndef TABLEFS_ARROW_FILE_H
#define TABLEFS_ARROW_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"

/* One contiguous piece of the file: bytes [off, off+len). */
struct tfs_arrow_seg {
	uint64_t off, len;
	enum tfs_arrow_seg_kind {
		TFS_ARROW_BYTES, /* ptr into the layout's own metadata blob */
		TFS_ARROW_DATA,	 /* ptr into a column's memory, copied as is */
		TFS_ARROW_ZERO,	 /* padding; ptr is NULL */
		TFS_ARROW_BITS,	 /* ptr to nbits 1-byte bools (nonzero = true), packed LSB first */
	} kind;
	const void *ptr;
	uint64_t nbits; /* BITS only: number of bools; len == ceil(nbits / 8) */
};

/* A laid-out file: segments in file order, covering [0, size) without gaps. */
struct tfs_arrow_layout {
	uint64_t size;
	size_t nseg;
	struct tfs_arrow_seg *seg;
	unsigned char *meta;
	size_t metalen;
};

/* Lays out the Arrow IPC file of a table: ncols columns (defs[i], data[i] pointing at
 * rows*defs[i]->itemsize bytes, NULL when that is 0). 0 or -ENOMEM/-EINVAL. */
int tfs_arrow_layout(const struct tfs_coldef *const *defs, const void *const *data, size_t ncols,
		     uint64_t rows, struct tfs_arrow_layout *out);

/* Copies bytes [off, off+len) of the file into buf (clipped at size); returns bytes copied. */
size_t tfs_arrow_read(const struct tfs_arrow_layout *l, uint64_t off, size_t len, void *buf);

/* Frees what tfs_arrow_layout allocated and empties the layout; safe on an empty one. */
void tfs_arrow_free(struct tfs_arrow_layout *l);

#endif
