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

/* One column as described by a schema: name, type and per-row shape. */
struct tfs_coldef {
	char name[TFS_NAME_MAX + 1];
	struct tfs_type type;
	unsigned ndim;
	uint64_t shape[TFS_MAX_DIMS];
	uint64_t itemsize; /* type.size * product(shape) */
};

/* A parsed document written to meta.json. */
struct tfs_doc {
	bool has_rows;
	uint64_t rows;
	size_t ncols;
	struct tfs_coldef *cols;
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

/* Frees what tfs_doc_parse allocated. */
void tfs_doc_free(struct tfs_doc *doc);

/* Fills def from a name, type string and shape; checks each. 0 or -EINVAL. */
int tfs_coldef_init(struct tfs_coldef *def, const char *name, const char *type,
		    const uint64_t *shape, unsigned ndim, char *why, size_t whylen);

/* True when a and b store the same type with the same per-row shape. */
bool tfs_coldef_same_layout(const struct tfs_coldef *a, const struct tfs_coldef *b);

/* Renders the generated meta.json for a table.  Returns a malloc'd string
 * (length in *len) or NULL when out of memory. */
char *tfs_meta_render(const char *table, uint64_t rows, uint64_t version,
		      const struct tfs_coldef *const *cols, size_t ncols, size_t *len);

#endif
