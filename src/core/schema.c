#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "schema.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* A write may end in the middle of a token; cJSON then reports an error in
 * the last few bytes.  Errors further back than this cannot be cured by more
 * input (strings are handled separately: they can be arbitrarily long). */
#define TOKEN_SLACK 8

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* JSON text holds no raw control characters but these; cJSON would take
 * any of them (even NUL) for white space. */
static bool has_control(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 && !is_space(p[i]))
			return true;
	return false;
}

static bool all_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(p[i]))
			return false;
	return true;
}

enum tfs_json_state tfs_json_state(const char *buf, size_t len)
{
	/* Closing brackets still expected, innermost last; deeper nesting
	 * than this is no schema document. */
	char expect[TFS_JSON_DEPTH_MAX];
	size_t i = 0, end = 0, depth = 0;
	bool in_string = false, escaped = false, closed = false;
	const char *err = NULL;
	cJSON *v;

	if (has_control(buf, len))
		return TFS_JSON_INVALID;
	while (i < len && is_space(buf[i]))
		i++;
	if (i == len)
		return TFS_JSON_INCOMPLETE;
	if (buf[i] != '{')
		return TFS_JSON_INVALID; /* a document is an object */
	/* Find where the top-level object closes, outside strings. */
	for (; i < len && !closed; i++) {
		char c = buf[i];
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (depth == sizeof(expect))
				return TFS_JSON_INVALID;
			expect[depth++] = c == '{' ? '}' : ']';
		} else if (c == '}' || c == ']') {
			if (expect[depth - 1] != c)
				return TFS_JSON_INVALID;
			if (--depth == 0) {
				closed = true;
				end = i + 1;
			}
		}
	}
	if (closed) {
		v = cJSON_ParseWithLength(buf, end);
		if (!v)
			return TFS_JSON_INVALID;
		cJSON_Delete(v);
		return all_space(buf + end, len - end) ? TFS_JSON_COMPLETE : TFS_JSON_INVALID;
	}
	if (in_string)
		return TFS_JSON_INCOMPLETE;
	v = cJSON_ParseWithLengthOpts(buf, len, &err, false);
	if (v) { /* cannot happen with an unclosed object, but be safe */
		cJSON_Delete(v);
		return TFS_JSON_INCOMPLETE;
	}
	if (err && (size_t)(err - buf) + TOKEN_SLACK < len)
		return TFS_JSON_INVALID;
	return TFS_JSON_INCOMPLETE;
}

/* True when an object has two members of one name: which one counts would
 * be a guess, so such a document is refused. */
static const char *duplicate_key(const cJSON *obj)
{
	for (const cJSON *a = obj->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (a->string && b->string && strcmp(a->string, b->string) == 0)
				return a->string;
	return NULL;
}

/* An escaped NUL (\u0000) would end the C string cJSON decodes it into,
 * and cut a name or type short without a word: refuse it. */
static bool has_escaped_nul(const char *p, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++)
		if (p[i] == '\\' && (p[i + 1] == 'u' || p[i + 1] == 'U') &&
		    memcmp(p + i + 2, "0000", 4) == 0)
			return true;
	return false;
}

int tfs_json_uint(const cJSON *n, uint64_t max, uint64_t *out)
{
	double d;

	if (!cJSON_IsNumber(n))
		return -EINVAL;
	d = n->valuedouble;
	if (isnan(d) || d < 0 || (isfinite(d) && d != floor(d)))
		return -EINVAL;
	/* 2^64 is (double)UINT64_MAX: the last bound keeps the cast defined */
	if (!isfinite(d) || d > (double)max || d >= 18446744073709551616.0)
		return -ERANGE;
	*out = (uint64_t)d;
	return 0;
}

/* The keys meta.json renders: a document read from it and written back
 * works, and a misspelt key ("row", "typ") is refused rather than
 * silently ignored. */
static const char *const doc_keys[] = {"format", "name", "version", "rows", "columns", NULL};
static const char *const column_keys[] = {
	"name", "type", "dtype", "shape", "itemsize", "nbytes", "file",
	"nullable", "data_nbytes", "categories", "files", NULL};

/* The first member of obj not named in keys, or NULL. */
static const char *unknown_key(const cJSON *obj, const char *const *keys)
{
	for (const cJSON *m = obj->child; m; m = m->next) {
		size_t k = 0;
		while (keys[k] && strcmp(keys[k], m->string) != 0)
			k++;
		if (!keys[k])
			return m->string;
	}
	return NULL;
}

/* Deepest nesting of objects and arrays outside strings. */
static size_t nesting_depth(const char *p, size_t n)
{
	size_t depth = 0, max = 0;
	bool in_string = false, escaped = false;

	for (size_t i = 0; i < n; i++) {
		if (in_string) {
			if (escaped)
				escaped = false;
			else if (p[i] == '\\')
				escaped = true;
			else if (p[i] == '"')
				in_string = false;
		} else if (p[i] == '"') {
			in_string = true;
		} else if (p[i] == '{' || p[i] == '[') {
			if (++depth > max)
				max = depth;
		} else if ((p[i] == '}' || p[i] == ']') && depth) {
			depth--;
		}
	}
	return max;
}

static const char *const role_suffix[TFS_NROLES] = {
	[TFS_ROLE_MAIN] = "",	    [TFS_ROLE_DATA] = ".data",		 [TFS_ROLE_NULL] = ".null",
	[TFS_ROLE_DICT] = ".dict", [TFS_ROLE_DICT_DATA] = ".dict.data",
};

const char *tfs_role_suffix(enum tfs_role r)
{
	return role_suffix[r];
}

void tfs_role_file(const char *col, enum tfs_role r, char *buf)
{
	snprintf(buf, TFS_FILE_NAME_MAX, "%s%s", col, role_suffix[r]);
}

bool tfs_coldef_has(const struct tfs_coldef *c, enum tfs_role r)
{
	switch (r) {
	case TFS_ROLE_MAIN:
		return true;
	case TFS_ROLE_DATA:
		return c->type.kind == TFS_UTF8 || c->type.kind == TFS_BINARY;
	case TFS_ROLE_NULL:
		return c->nullable;
	case TFS_ROLE_DICT:
	case TFS_ROLE_DICT_DATA:
		return c->type.kind == TFS_CATEGORY;
	default:
		return false;
	}
}

bool tfs_coldef_plain(const struct tfs_coldef *c)
{
	return !c->nullable && !tfs_type_is_varlen(&c->type);
}

/* a * b into *out, or false past 2^62: far from overflow in any sum. */
static bool mul62(uint64_t a, uint64_t b, uint64_t *out)
{
	if (b && a > (UINT64_C(1) << 62) / b)
		return false;
	*out = a * b;
	return true;
}

bool tfs_coldef_file_bytes(const struct tfs_coldef *c, enum tfs_role r, uint64_t rows,
			   uint64_t *out)
{
	*out = 0;
	if (!tfs_coldef_has(c, r))
		return true;
	switch (r) {
	case TFS_ROLE_MAIN:
		if (c->type.kind == TFS_UTF8 || c->type.kind == TFS_BINARY)
			return rows < (UINT64_C(1) << 62) && mul62(rows + 1, 8, out);
		return mul62(rows, c->itemsize, out);
	case TFS_ROLE_DATA:
		*out = c->data_bytes;
		return true;
	case TFS_ROLE_NULL:
		*out = rows;
		return true;
	case TFS_ROLE_DICT:
		return mul62(c->ncat + 1, 8, out);
	case TFS_ROLE_DICT_DATA:
		*out = c->dict_bytes;
		return true;
	default:
		return true;
	}
}

const char *tfs_role_name(const struct tfs_coldef *c, enum tfs_role r)
{
	if (r != TFS_ROLE_MAIN)
		return role_suffix[r] + 1;
	switch (c->type.kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		return "offsets";
	case TFS_CATEGORY:
		return "codes";
	default:
		return "values";
	}
}

void tfs_role_dtype(const struct tfs_coldef *c, enum tfs_role r, char *buf, size_t len)
{
	switch (r) {
	case TFS_ROLE_MAIN:
		tfs_type_dtype(&c->type, buf, len);
		break;
	case TFS_ROLE_NULL:
		snprintf(buf, len, "|b1");
		break;
	case TFS_ROLE_DICT:
		snprintf(buf, len, "<i8");
		break;
	default:
		snprintf(buf, len, "|u1");
		break;
	}
}

int tfs_role_parse(const char *file, char *col, enum tfs_role *r)
{
	const char *dot = strchr(file, '.');
	size_t n = dot ? (size_t)(dot - file) : strlen(file);

	if (n == 0 || n > TFS_NAME_MAX)
		return -ENOENT;
	for (int i = 0; i < TFS_NROLES; i++) {
		if (strcmp(dot ? dot : "", role_suffix[i]) == 0) {
			memcpy(col, file, n);
			col[n] = '\0';
			*r = (enum tfs_role)i;
			return 0;
		}
	}
	return -ENOENT;
}

int tfs_coldef_init(struct tfs_coldef *def, const char *name, const char *type,
		    const uint64_t *shape, unsigned ndim, char *why, size_t whylen)
{
	char reason[TFS_WHY_MAX];
	uint64_t item;
	int rc;

	memset(def, 0, sizeof(*def));
	rc = tfs_name_check(name, reason, sizeof(reason));
	if (rc < 0) {
		WHY("column name: %s", reason);
		return -EINVAL;
	}
	rc = tfs_type_parse(type, &def->type, reason, sizeof(reason));
	if (rc < 0) {
		WHY("column '%s': %s", name, reason);
		return -EINVAL;
	}
	if (ndim && tfs_type_is_varlen(&def->type)) {
		WHY("column '%s': a %s column takes no shape (one value per row)", name, type);
		return -EINVAL;
	}
	if (ndim > TFS_MAX_DIMS) {
		WHY("column '%s': shape has %u dimensions, at most %d are supported", name, ndim,
		    TFS_MAX_DIMS);
		return -EINVAL;
	}
	item = def->type.size;
	for (unsigned i = 0; i < ndim; i++) {
		if (shape[i] == 0 || shape[i] > TFS_ITEMSIZE_MAX || item * shape[i] > TFS_ITEMSIZE_MAX) {
			WHY("column '%s': shape dimension %u must be 1..%llu and the row at most %llu "
			    "bytes",
			    name, i, (unsigned long long)TFS_ITEMSIZE_MAX,
			    (unsigned long long)TFS_ITEMSIZE_MAX);
			return -EINVAL;
		}
		item *= shape[i];
		def->shape[i] = shape[i];
	}
	def->ndim = ndim;
	def->itemsize = item;
	strcpy(def->name, name);
	return 0;
}

/* One dimension of a column's shape; false with the reason in why. */
static bool shape_dim(const cJSON *d, const char *col, uint64_t *out, char *why, size_t whylen)
{
	switch (tfs_json_uint(d, TFS_ITEMSIZE_MAX, out)) {
	case 0:
		return true;
	case -ERANGE:
		WHY("column '%s': shape dimension too large: a row may be at most %llu bytes", col,
		    (unsigned long long)TFS_ITEMSIZE_MAX);
		return false;
	default:
		break;
	}
	WHY("column '%s': shape must hold whole numbers >= 1", col);
	return false;
}

bool tfs_coldef_same_layout(const struct tfs_coldef *a, const struct tfs_coldef *b)
{
	if (!tfs_type_equal(&a->type, &b->type) || a->ndim != b->ndim ||
	    a->nullable != b->nullable)
		return false;
	for (unsigned i = 0; i < a->ndim; i++)
		if (a->shape[i] != b->shape[i])
			return false;
	return true;
}

size_t tfs_utf8_char(const void *buf, size_t n, uint32_t *out)
{
	const unsigned char *p = buf;
	size_t len = p[0] < 0x80		      ? 1
		     : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
		     : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		     : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
						    : 0;
	uint32_t cp;

	if (!len || len > n)
		return 0;
	cp = len == 1 ? p[0] : p[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (out)
		*out = cp;
	return len;
}

bool tfs_utf8_valid(const void *buf, size_t n)
{
	const unsigned char *p = buf;

	for (size_t i = 0, k; i < n; i += k)
		if (!(k = tfs_utf8_char(p + i, n - i, NULL)))
			return false;
	return true;
}

static int cmp_cat(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Most categories a column may have: codes are int32. */
#define TFS_NCAT_MAX INT32_MAX

/* The "categories" of a category column into cats, in the layout of its
 * dictionary files; 0 or -EINVAL / -ENOMEM with the reason. */
static int parse_categories(const cJSON *list, const char *col, struct tfs_cats *cats, char *why,
			    size_t whylen)
{
	size_t n = 0, bytes = 0, k = 0;
	const char **sorted = NULL;
	const cJSON *e;

	if (!cJSON_IsArray(list)) {
		WHY("column '%s': \"categories\" must be an array of strings", col);
		return -EINVAL;
	}
	cJSON_ArrayForEach(e, list)
	{
		if (!cJSON_IsString(e)) {
			WHY("column '%s': categories[%zu] is not a string", col, n);
			return -EINVAL;
		}
		if (!tfs_utf8_valid(e->valuestring, strlen(e->valuestring))) {
			WHY("column '%s': categories[%zu] is not valid UTF-8", col, n);
			return -EINVAL;
		}
		bytes += strlen(e->valuestring);
		n++;
	}
	if (n > TFS_NCAT_MAX) {
		WHY("column '%s': more than %d categories", col, TFS_NCAT_MAX);
		return -EINVAL;
	}
	cats->offsets = malloc((n + 1) * sizeof(*cats->offsets));
	cats->bytes = malloc(bytes + 1);
	sorted = malloc((n + 1) * sizeof(*sorted));
	if (!cats->offsets || !cats->bytes || !sorted) {
		free(sorted);
		WHY("out of memory");
		return -ENOMEM;
	}
	cats->n = n;
	cats->offsets[0] = 0;
	bytes = 0;
	cJSON_ArrayForEach(e, list)
	{
		size_t len = strlen(e->valuestring);
		memcpy(cats->bytes + bytes, e->valuestring, len);
		bytes += len;
		sorted[k++] = e->valuestring;
		cats->offsets[k] = (int64_t)bytes;
	}
	qsort(sorted, n, sizeof(*sorted), cmp_cat);
	for (k = 1; k < n; k++) {
		if (strcmp(sorted[k - 1], sorted[k]) == 0) {
			WHY("column '%s': category \"%.64s\" appears twice", col, sorted[k]);
			free(sorted);
			return -EINVAL;
		}
	}
	free(sorted);
	return 0;
}

/* The keys of a column of the new kinds: nullable, data_nbytes, categories
 * (files is only shown); def already has its type. */
static int parse_kind_keys(const cJSON *c, struct tfs_coldef *def, struct tfs_cats *cats,
			   char *why, size_t whylen)
{
	const cJSON *nullable = cJSON_GetObjectItemCaseSensitive(c, "nullable");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(c, "data_nbytes");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(c, "categories");
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(c, "files");
	int rc;

	if (nullable && !cJSON_IsBool(nullable)) {
		WHY("column '%s': \"nullable\" must be true or false", def->name);
		return -EINVAL;
	}
	def->nullable = cJSON_IsTrue(nullable);
	if (files && !cJSON_IsArray(files)) {
		WHY("column '%s': \"files\" must be an array", def->name);
		return -EINVAL;
	}
	if (data) {
		if (def->type.kind != TFS_UTF8 && def->type.kind != TFS_BINARY) {
			WHY("column '%s': \"data_nbytes\" is only for utf8 and binary columns",
			    def->name);
			return -EINVAL;
		}
		switch (tfs_json_uint(data, UINT64_C(1) << 62, &def->data_bytes)) {
		case 0:
			break;
		case -ERANGE:
			WHY("column '%s': \"data_nbytes\" too large", def->name);
			return -EINVAL;
		default:
			WHY("column '%s': \"data_nbytes\" must be a whole number >= 0", def->name);
			return -EINVAL;
		}
		def->has_data_bytes = true;
	}
	if (list) {
		if (def->type.kind != TFS_CATEGORY) {
			WHY("column '%s': \"categories\" is only for category columns", def->name);
			return -EINVAL;
		}
		rc = parse_categories(list, def->name, cats, why, whylen);
		if (rc < 0)
			return rc;
		def->ncat = cats->n;
		def->dict_bytes = (uint64_t)cats->offsets[cats->n];
		def->cats = cats;
	}
	return 0;
}

/* One column object of a written document. */
static int parse_column(const cJSON *c, size_t idx, struct tfs_coldef *def, struct tfs_cats *cats,
			char *why, size_t whylen)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
	const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(c, "dtype");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(c, "shape");
	uint64_t dims[TFS_MAX_DIMS];
	unsigned ndim = 0;
	const cJSON *d;
	int rc;

	if (!cJSON_IsObject(c)) {
		WHY("columns[%zu] is not an object", idx);
		return -EINVAL;
	}
	if (duplicate_key(c)) {
		WHY("columns[%zu] has \"%.32s\" twice", idx, duplicate_key(c));
		return -EINVAL;
	}
	if (unknown_key(c, column_keys)) {
		WHY("columns[%zu]: unknown key \"%.32s\" (a column has name, type or dtype, "
		    "shape, nullable, data_nbytes, categories; and itemsize, nbytes, file, "
		    "files as meta.json shows them)",
		    idx, unknown_key(c, column_keys));
		return -EINVAL;
	}
	if (!cJSON_IsString(name)) {
		WHY("columns[%zu] has no \"name\" string", idx);
		return -EINVAL;
	}
	if (type && !cJSON_IsString(type)) {
		WHY("column '%s': \"type\" must be a string", name->valuestring);
		return -EINVAL;
	}
	if (dtype && !cJSON_IsString(dtype)) {
		WHY("column '%s': \"dtype\" must be a string", name->valuestring);
		return -EINVAL;
	}
	if (!type && !dtype) {
		WHY("column '%s' has neither \"type\" nor \"dtype\"", name->valuestring);
		return -EINVAL;
	}
	if (cJSON_IsNumber(shape)) {
		if (!shape_dim(shape, name->valuestring, &dims[0], why, whylen))
			return -EINVAL;
		ndim = 1;
	} else if (shape && !cJSON_IsNull(shape)) {
		if (!cJSON_IsArray(shape)) {
			WHY("column '%s': \"shape\" must be an array", name->valuestring);
			return -EINVAL;
		}
		cJSON_ArrayForEach(d, shape)
		{
			if (ndim == TFS_MAX_DIMS) {
				WHY("column '%s': shape has more than %d dimensions",
				    name->valuestring, TFS_MAX_DIMS);
				return -EINVAL;
			}
			if (!shape_dim(d, name->valuestring, &dims[ndim], why, whylen))
				return -EINVAL;
			ndim++;
		}
	}
	rc = tfs_coldef_init(def, name->valuestring, type ? type->valuestring : dtype->valuestring,
			     dims, ndim, why, whylen);
	if (rc == 0 && type && dtype && tfs_type_is_varlen(&def->type)) {
		/* meta.json shows the dtype of the main file: offsets, codes */
		char main[TFS_TYPE_STR_MAX];
		tfs_type_dtype(&def->type, main, sizeof(main));
		if (strcmp(main, dtype->valuestring) != 0) {
			WHY("column '%s': \"dtype\" of a %s column is %s (its %s)",
			    name->valuestring, type->valuestring, main,
			    def->type.kind == TFS_CATEGORY ? "codes" : "offsets");
			return -EINVAL;
		}
	} else if (rc == 0 && type && dtype) {
		struct tfs_type t2;
		char reason[TFS_WHY_MAX];
		if (tfs_type_parse(dtype->valuestring, &t2, reason, sizeof(reason)) < 0) {
			WHY("column '%s': %s", name->valuestring, reason);
			return -EINVAL;
		}
		if (!tfs_type_equal(&t2, &def->type)) {
			WHY("column '%s': \"type\" %s and \"dtype\" %s disagree", name->valuestring,
			    type->valuestring, dtype->valuestring);
			return -EINVAL;
		}
	}
	if (rc == 0)
		rc = parse_kind_keys(c, def, cats, why, whylen);
	return rc;
}

int tfs_doc_parse(const char *buf, size_t len, struct tfs_doc *doc, char *why, size_t whylen)
{
	const cJSON *rows, *cols, *c;
	const char *end = NULL;
	cJSON *root;
	size_t n = 0, i = 0;
	int rc = -EINVAL;

	memset(doc, 0, sizeof(*doc));
	if (len > TFS_DOC_MAX) {
		WHY("document larger than %u bytes", TFS_DOC_MAX);
		return -EINVAL;
	}
	if (all_space(buf, len)) {
		WHY("empty document");
		return -EINVAL;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		WHY("invalid JSON: byte order mark (U+FEFF) not allowed; write UTF-8 without it");
		return -EINVAL;
	}
	/* The same rules whether the document came in one write or many:
	 * tfs_json_state decides when a written document is complete. */
	switch (tfs_json_state(buf, len)) {
	case TFS_JSON_COMPLETE:
		break;
	case TFS_JSON_INCOMPLETE:
		WHY("invalid JSON: the document is incomplete");
		return -EINVAL;
	case TFS_JSON_INVALID:
		if (nesting_depth(buf, len) > TFS_JSON_DEPTH_MAX)
			WHY("invalid document: nested too deeply (more than %d levels)",
			    TFS_JSON_DEPTH_MAX);
		else
			WHY("invalid JSON");
		return -EINVAL;
	}
	if (has_escaped_nul(buf, len)) {
		WHY("invalid document: NUL character (\\u0000)");
		return -EINVAL;
	}
	root = cJSON_ParseWithLengthOpts(buf, len, &end, false);
	if (!root) {
		WHY("invalid JSON");
		return -EINVAL;
	}
	if (!all_space(end, len - (size_t)(end - buf))) {
		WHY("invalid JSON: more after the document");
		goto out_root;
	}
	if (!cJSON_IsObject(root)) {
		WHY("the document must be a JSON object");
		goto out_root;
	}
	if (duplicate_key(root)) {
		WHY("\"%.32s\" appears twice in the document", duplicate_key(root));
		goto out_root;
	}
	if (unknown_key(root, doc_keys)) {
		WHY("unknown key \"%.32s\" (a document has rows and columns; and format, name, "
		    "version as meta.json shows them)",
		    unknown_key(root, doc_keys));
		goto out_root;
	}
	rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
	if (rows) {
		/* 2^53: beyond, a JSON number is no longer a whole count. */
		switch (tfs_json_uint(rows, TFS_ROWS_MAX, &doc->rows)) {
		case 0:
			break;
		case -ERANGE:
			WHY("\"rows\" too large: at most %llu", (unsigned long long)TFS_ROWS_MAX);
			goto out_root;
		default:
			WHY("\"rows\" must be a whole number >= 0");
			goto out_root;
		}
		doc->has_rows = true;
	}
	cols = cJSON_GetObjectItemCaseSensitive(root, "columns");
	if (cols && !cJSON_IsArray(cols)) {
		WHY("\"columns\" must be an array");
		goto out_root;
	}
	n = cols ? (size_t)cJSON_GetArraySize(cols) : 0;
	if (n) {
		doc->cols = calloc(n, sizeof(*doc->cols));
		doc->cats = calloc(n, sizeof(*doc->cats));
		if (!doc->cols || !doc->cats) {
			WHY("out of memory");
			rc = -ENOMEM;
			goto out_cols;
		}
	}
	cJSON_ArrayForEach(c, cols)
	{
		rc = parse_column(c, i, &doc->cols[i], &doc->cats[i], why, whylen);
		if (rc < 0)
			goto out_cols;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(doc->cols[j].name, doc->cols[i].name) == 0) {
				WHY("column '%s' appears twice", doc->cols[i].name);
				rc = -EINVAL;
				goto out_cols;
			}
		}
		i++;
	}
	doc->ncols = n;
	cJSON_Delete(root);
	return 0;

out_cols:
	doc->ncols = n;
	tfs_doc_free(doc);
out_root:
	cJSON_Delete(root);
	return rc;
}

void tfs_doc_free(struct tfs_doc *doc)
{
	for (size_t i = 0; doc->cats && i < doc->ncols; i++) {
		free(doc->cats[i].offsets);
		free(doc->cats[i].bytes);
	}
	free(doc->cats);
	free(doc->cols);
	memset(doc, 0, sizeof(*doc));
}

/* Writes the n bytes at p as a JSON string (valid UTF-8 assumed). */
static void json_string(FILE *f, const char *p, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* The keys a column of the new kinds adds after "file". */
static void render_kind_keys(FILE *f, const struct tfs_coldef *c, const struct tfs_dict_view *dict,
			     uint64_t rows)
{
	char dtype[TFS_TYPE_STR_MAX];
	uint64_t bytes;
	bool first = true;

	if (c->nullable)
		fprintf(f, ", \"nullable\": true");
	if (tfs_coldef_has(c, TFS_ROLE_DATA))
		fprintf(f, ", \"data_nbytes\": %llu", (unsigned long long)c->data_bytes);
	if (c->type.kind == TFS_CATEGORY) {
		fprintf(f, ", \"categories\": [");
		for (uint64_t k = 0; k < c->ncat && dict && dict->offsets; k++) {
			fprintf(f, "%s", k ? ", " : "");
			json_string(f, (dict->bytes ? dict->bytes : "") + dict->offsets[k],
				    (size_t)(dict->offsets[k + 1] - dict->offsets[k]));
		}
		fprintf(f, "]");
	}
	fprintf(f, ", \"files\": [");
	for (int r = 0; r < TFS_NROLES; r++) {
		if (!tfs_coldef_has(c, (enum tfs_role)r))
			continue;
		tfs_coldef_file_bytes(c, (enum tfs_role)r, rows, &bytes);
		tfs_role_dtype(c, (enum tfs_role)r, dtype, sizeof(dtype));
		/* every element of these files is a whole number of bytes */
		uint64_t item = r == TFS_ROLE_MAIN ? c->itemsize : r == TFS_ROLE_DICT ? 8 : 1;
		fprintf(f,
			"%s{\"role\": \"%s\", \"file\": \"%s%s\", \"dtype\": \"%s\", \"count\": %llu, "
			"\"nbytes\": %llu}",
			first ? "" : ", ", tfs_role_name(c, (enum tfs_role)r), c->name,
			tfs_role_suffix((enum tfs_role)r), dtype,
			(unsigned long long)(item ? bytes / item : 0), (unsigned long long)bytes);
		first = false;
	}
	fprintf(f, "]");
}

char *tfs_meta_render(const char *table, uint64_t rows, uint64_t version,
		      const struct tfs_coldef *const *cols, const struct tfs_dict_view *dicts,
		      size_t ncols, size_t *len)
{
	char type[TFS_TYPE_STR_MAX], dtype[TFS_TYPE_STR_MAX];
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);

	if (!f)
		return NULL;
	/* Names and type strings are plain ASCII without quotes or
	 * backslashes (checked on entry), so they need no escaping;
	 * categories do. */
	fprintf(f, "{\n  \"format\": \"%s\",\n  \"name\": \"%s\",\n  \"rows\": %llu,\n"
		   "  \"version\": %llu,\n  \"columns\": [",
		TFS_FORMAT, table, (unsigned long long)rows, (unsigned long long)version);
	for (size_t i = 0; i < ncols; i++) {
		const struct tfs_coldef *c = cols[i];
		uint64_t main_bytes;
		tfs_type_name(&c->type, type, sizeof(type));
		tfs_type_dtype(&c->type, dtype, sizeof(dtype));
		tfs_coldef_file_bytes(c, TFS_ROLE_MAIN, rows, &main_bytes);
		fprintf(f, "%s\n    {\"name\": \"%s\", \"type\": \"%s\", \"dtype\": \"%s\", \"shape\": [",
			i ? "," : "", c->name, type, dtype);
		for (unsigned d = 0; d < c->ndim; d++)
			fprintf(f, "%s%llu", d ? ", " : "", (unsigned long long)c->shape[d]);
		fprintf(f, "], \"itemsize\": %llu, \"nbytes\": %llu, \"file\": \"%s\"",
			(unsigned long long)c->itemsize, (unsigned long long)main_bytes, c->name);
		if (!tfs_coldef_plain(c))
			render_kind_keys(f, c, dicts ? &dicts[i] : NULL, rows);
		fprintf(f, "}");
	}
	fprintf(f, "%s]\n}\n", ncols ? "\n  " : "");
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	*len = outlen;
	return out;
}
