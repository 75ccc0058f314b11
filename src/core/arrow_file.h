/* The Arrow IPC file format (Feather v2) of a table, described rather than
 * built: a list of segments (metadata bytes, column memory, zero padding,
 * bools to bit-pack, validity bitmaps to build from null masks and codes,
 * offsets and codes to check as they are copied) from which any byte range
 * of the file is produced on demand.  Every buffer is 64-byte aligned in the file, so Arrow readers can
 * map it without copying.  Pure: no I/O, no locking. */
#ifndef TABLEFS_ARROW_FILE_H
#define TABLEFS_ARROW_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "schema.h"

/* One contiguous piece of the file: bytes [off, off+len). */
struct tfs_arrow_seg {
	uint64_t off, len;
	enum tfs_arrow_seg_kind {
		TFS_ARROW_BYTES, /* ptr into the layout's own metadata blob */
		TFS_ARROW_DATA,	 /* ptr into a column's memory, copied as is */
		TFS_ARROW_ZERO,	 /* padding; ptr is NULL */
		TFS_ARROW_BITS,	 /* ptr to nbits 1-byte bools (nonzero = true), packed LSB first */
		/* A validity bitmap of nbits rows, packed LSB first: a row's bit
		 * is 1 unless its byte in the null mask ptr is nonzero or its
		 * int32 code in aux is -1 (either may be NULL: not looked at). */
		TFS_ARROW_VALID,
		/* ptr to len / 8 int64 offsets into a buffer of limit bytes,
		 * each checked as it is served: the first 0, none below the one
		 * before it, none past limit; else the read fails with EIO. */
		TFS_ARROW_OFFSETS,
		/* ptr to len / 4 int32 codes, each checked as it is served: -1
		 * or below limit (the number of categories), else EIO.  A -1 is
		 * served as 0 when limit > 0 (the row is null in its bitmap, so
		 * its index is unspecified), so that no reader can be handed an
		 * index outside the dictionary. */
		TFS_ARROW_CODES,
	} kind;
	const void *ptr;
	uint64_t nbits; /* BITS and VALID: number of rows; len == ceil(nbits / 8) */
	const void *aux; /* VALID: the codes, or NULL */
	uint64_t limit;	 /* OFFSETS: bytes the offsets point into; CODES: categories */
};

/* A laid-out file: segments in file order, covering [0, size) without gaps. */
struct tfs_arrow_layout {
	uint64_t size;
	size_t nseg;
	struct tfs_arrow_seg *seg;
	unsigned char *meta;
	size_t metalen;
};

/* One column of the table to lay out: its schema and the memory of each of
 * its files (NULL where the file is empty or absent; see schema.h). */
struct tfs_arrow_col {
	const struct tfs_coldef *def;
	const void *main; /* values; utf8/binary: rows + 1 int64 offsets; category: rows int32 codes */
	const unsigned char *nulls; /* nullable: rows bytes, nonzero = missing; else NULL */
	const void *data; /* utf8/binary: def->data_bytes bytes */
	const int64_t *dict; /* category: def->ncat + 1 offsets into dict_data */
	const void *dict_data; /* category: def->dict_bytes bytes */
};

/* Checks what a writer may have broken in a column of rows rows: offsets
 * (the first 0, never decreasing, the last inside the data file) and codes
 * (-1 or below ncat), and a category's dictionary offsets.  0, or -EIO with
 * a one-line reason naming the column, the row and the value in why (also
 * for a file the column should have and col lacks). */
int tfs_arrow_check(const struct tfs_arrow_col *col, uint64_t rows, char *why, size_t whylen);

/* Lays out the Arrow IPC file of a table of ncols columns with rows rows
 * (which tfs_arrow_check passed): LargeUtf8/LargeBinary, validity bitmaps
 * from the null masks, dictionary batches for category columns (id = the
 * column's index), null counts as the masks and codes are now.  A table of
 * fixed-width, non-nullable columns is the file it always was.
 * 0 or -ENOMEM/-EINVAL (a column Arrow cannot express, or memory missing). */
int tfs_arrow_layout(const struct tfs_arrow_col *cols, size_t ncols, uint64_t rows,
		     struct tfs_arrow_layout *out);

/* Copies bytes [off, off+len) of the file into buf (clipped at size);
 * returns the bytes copied, or -EIO when offsets or codes in that range
 * are no longer valid (a writer changed them after the layout). */
ssize_t tfs_arrow_read(const struct tfs_arrow_layout *l, uint64_t off, size_t len, void *buf);

/* Frees what tfs_arrow_layout allocated and empties the layout; safe on an empty one. */
void tfs_arrow_free(struct tfs_arrow_layout *l);

#endif
