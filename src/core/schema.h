/* meta.json: parsing of written schema documents and rendering of the
 * generated one.  Uses cJSON for parsing; knows nothing of storage. */
#ifndef TABLEFS_SCHEMA_H
#define TABLEFS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "types.h"

#define TFS_FORMAT "tablefs-1"
/* Largest schema document accepted through a write to meta.json. */
#define TFS_DOC_MAX (16u << 20)
#define TFS_WHY_MAX 256
/* Deepest nesting of a schema document (it needs 3 levels). */
#define TFS_JSON_DEPTH_MAX 64
/* Most rows a document may give: 2^53, past which a JSON number is no
 * longer an exact whole count. */
#define TFS_ROWS_MAX (UINT64_C(1) << 53)

/* The files of a column.  A column is its main file, named as the column,
 * and, for some kinds, companion files named COLUMN.SUFFIX:
 *   fixed width  values (rows * itemsize)      + .null if nullable
 *   utf8/binary  offsets (rows + 1 int64)      + .data (the bytes), + .null
 *   category     codes (rows int32, -1 = none) + .dict (ncat + 1 int64
 *                offsets) and .dict.data (the categories' bytes), + .null
 * .null holds one byte per row, nonzero for a missing value.  The
 * dictionary files are read-only: codes never change meaning. */
enum tfs_role {
	TFS_ROLE_MAIN,
	TFS_ROLE_DATA,
	TFS_ROLE_NULL,
	TFS_ROLE_DICT,
	TFS_ROLE_DICT_DATA,
	TFS_NROLES
};

/* Longest suffix a companion file adds to its column's name, and the
 * buffer for a file's name. */
#define TFS_SUFFIX_MAX 10
#define TFS_FILE_NAME_MAX (TFS_NAME_MAX + TFS_SUFFIX_MAX + 1)

/* The categories a written document gives a category column, in the
 * layout of its dictionary files: n + 1 offsets into bytes. */
struct tfs_cats {
	uint64_t n;
	int64_t *offsets;
	char *bytes;
};

/* One column as described by a schema: name, type and per-row shape. */
struct tfs_coldef {
	char name[TFS_NAME_MAX + 1];
	struct tfs_type type;
	unsigned ndim;
	uint64_t shape[TFS_MAX_DIMS];
	uint64_t itemsize; /* type.size * product(shape): the main file's row */
	bool nullable; /* has a .null file */
	uint64_t data_bytes; /* utf8/binary: size of the .data file */
	uint64_t ncat, dict_bytes; /* category: number of categories, their bytes */
	/* Only in a parsed document: whether it gave data_nbytes and
	 * categories (cats, owned by the document; NULL elsewhere). */
	bool has_data_bytes;
	const struct tfs_cats *cats;
};

/* True when the column has a file of role r. */
bool tfs_coldef_has(const struct tfs_coldef *c, enum tfs_role r);

/* Size in bytes of c's file of role r at rows rows (0 for one it has
 * not); false when it does not fit in 62 bits. */
bool tfs_coldef_file_bytes(const struct tfs_coldef *c, enum tfs_role r, uint64_t rows,
			   uint64_t *out);

/* The suffix of a role's file after the column name: "", ".data", ".null",
 * ".dict", ".dict.data". */
const char *tfs_role_suffix(enum tfs_role r);

/* Writes the name of column col's file of role r ("col", "col.data") into
 * buf, TFS_FILE_NAME_MAX bytes. */
void tfs_role_file(const char *col, enum tfs_role r, char *buf);

/* The role's name in meta.json's "files": "values", "offsets" or "codes"
 * for the main file (by kind), else the suffix without its dot. */
const char *tfs_role_name(const struct tfs_coldef *c, enum tfs_role r);

/* The numpy dtype of c's file of role r ("<i8", "|u1", "|b1"...). */
void tfs_role_dtype(const struct tfs_coldef *c, enum tfs_role r, char *buf, size_t len);

/* Splits a file name into its column's name (col, TFS_NAME_MAX + 1 bytes)
 * and role; -ENOENT when the suffix names no role (a view, or nothing). */
int tfs_role_parse(const char *file, char *col, enum tfs_role *r);

/* True when c renders and behaves as a column did before companion files:
 * fixed width and not nullable. */
bool tfs_coldef_plain(const struct tfs_coldef *c);

/* A parsed document written to meta.json. */
struct tfs_doc {
	bool has_rows;
	uint64_t rows;
	size_t ncols;
	struct tfs_coldef *cols;
	struct tfs_cats *cats; /* ncols of them: the categories cols[i].cats points to */
};

enum tfs_json_state { TFS_JSON_COMPLETE, TFS_JSON_INCOMPLETE, TFS_JSON_INVALID };

/* Tells whether buf holds one complete JSON value, a prefix of one (more
 * writes may complete it), or something that can never become valid. */
enum tfs_json_state tfs_json_state(const char *buf, size_t len);

struct cJSON;

/* Reads a JSON number that is a whole number in [0, max] into *out: 0,
 * -ERANGE (a whole number above max, or beyond any double) or -EINVAL (n
 * NULL, not a number, a fraction, negative). */
int tfs_json_uint(const struct cJSON *n, uint64_t max, uint64_t *out);

/* Parses and validates a written document (names, types, shapes, duplicate
 * names, keys: those meta.json renders and no others).  Returns 0, or -EINVAL with the reason in why; on error doc is
 * left empty. */
int tfs_doc_parse(const char *buf, size_t len, struct tfs_doc *doc, char *why, size_t whylen);

/* Length of the UTF-8 sequence at buf (n > 0 bytes left), its code point in
 * *cp (cp may be NULL); 0 when it is invalid: a bad lead or continuation
 * byte, cut short, an overlong form, a surrogate, past U+10FFFF. */
size_t tfs_utf8_char(const void *buf, size_t n, uint32_t *cp);

/* True when the n bytes at buf are valid UTF-8. */
bool tfs_utf8_valid(const void *buf, size_t n);

/* Frees what tfs_doc_parse allocated (the categories too). */
void tfs_doc_free(struct tfs_doc *doc);

/* Fills def from a name, type string and shape; checks each. 0 or -EINVAL. */
int tfs_coldef_init(struct tfs_coldef *def, const char *name, const char *type,
		    const uint64_t *shape, unsigned ndim, char *why, size_t whylen);

/* True when a and b store the same type with the same per-row shape. */
bool tfs_coldef_same_layout(const struct tfs_coldef *a, const struct tfs_coldef *b);

/* The categories of a category column to render: its dictionary files. */
struct tfs_dict_view {
	const int64_t *offsets; /* ncat + 1 */
	const char *bytes;
};

/* Renders the generated meta.json for a table; dicts[i] is column i's
 * dictionary (only read for category columns).  Returns a malloc'd string
 * (length in *len) or NULL when out of memory. */
char *tfs_meta_render(const char *table, uint64_t rows, uint64_t version,
		      const struct tfs_coldef *const *cols, const struct tfs_dict_view *dicts,
		      size_t ncols, size_t *len);

#endif
