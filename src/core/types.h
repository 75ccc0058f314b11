/* Column element types: parsing of type names and numpy dtype strings, and
 * rendering back to both spellings.  Pure functions, no I/O. */
#ifndef TABLEFS_TYPES_H
#define TABLEFS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TFS_MAX_DIMS 8
#define TFS_TYPE_STR_MAX 32
/* Largest item (one row of one column) we accept: keeps rows * itemsize
 * arithmetic far from overflow and catches typos like shape [1e9]. */
#define TFS_ITEMSIZE_MAX (UINT64_C(1) << 31)

enum tfs_kind {
	TFS_BOOL,
	TFS_INT,
	TFS_UINT,
	TFS_FLOAT,
	TFS_DATETIME,
	TFS_TIMEDELTA,
	TFS_BYTES,
	/* Variable-length and dictionary kinds (several files per column, see
	 * schema.h): size is that of the main file's element, the int64
	 * offsets of utf8/binary and the int32 codes of category. */
	TFS_UTF8,
	TFS_BINARY,
	TFS_CATEGORY,
};

enum tfs_unit { TFS_UNIT_NONE, TFS_UNIT_S, TFS_UNIT_MS, TFS_UNIT_US, TFS_UNIT_NS };

struct tfs_type {
	enum tfs_kind kind;
	uint32_t size; /* bytes per element; N for bytesN */
	enum tfs_unit unit; /* datetime64 / timedelta64 only */
};

/* Parses a contract type name ("float64", "datetime64[ns]", "bytes16") or a
 * numpy dtype string ("<f8", "f8", "|S16", "<M8[ns]").  Returns 0, or -EINVAL
 * with a one-line reason in why (big-endian dtypes are refused). */
int tfs_type_parse(const char *s, struct tfs_type *out, char *why, size_t whylen);

/* Writes the contract type name ("float64", "bytes16") into buf. */
void tfs_type_name(const struct tfs_type *t, char *buf, size_t len);

/* Writes the numpy dtype string ("<f8", "|S16", "|b1") into buf. */
void tfs_type_dtype(const struct tfs_type *t, char *buf, size_t len);

/* The name of a time unit as it stands in "datetime64[ns]" and "1500 ms":
 * "s", "ms", "us" or "ns"; "" for TFS_UNIT_NONE. */
const char *tfs_unit_name(enum tfs_unit u);

/* The unit the n bytes at s name exactly ("s", "ms", "us" or "ns"), or
 * TFS_UNIT_NONE. */
enum tfs_unit tfs_unit_parse(const char *s, size_t n);

/* True for utf8, binary and category: kinds whose values are not the main
 * file's elements, which take no shape and have companion files. */
bool tfs_type_is_varlen(const struct tfs_type *t);

/* True when both describe the same stored type. */
bool tfs_type_equal(const struct tfs_type *a, const struct tfs_type *b);

#endif
