#include "config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "schema.h"
#include "suites.h"

/* ---- tfs_json_state ---- */

static enum tfs_json_state state(const char *s)
{
	return tfs_json_state(s, strlen(s));
}

START_TEST(state_complete)
{
	ck_assert_int_eq(state("{}"), TFS_JSON_COMPLETE);
	ck_assert_int_eq(state("{\"rows\": 5}"), TFS_JSON_COMPLETE);
	/* echo adds a newline; editors may add more */
	ck_assert_int_eq(state("{\"rows\": 5}\n"), TFS_JSON_COMPLETE);
	ck_assert_int_eq(state("  \n{\"rows\": 5}\r\n\t "), TFS_JSON_COMPLETE);
	ck_assert_int_eq(state("{\"a\": \"}{][\"}"), TFS_JSON_COMPLETE);
	ck_assert_int_eq(state("{\"a\": \"\\\"}\"}"), TFS_JSON_COMPLETE);
	ck_assert_int_eq(state("{\"a\": \"\\\\\"}"), TFS_JSON_COMPLETE);
	ck_assert_int_eq(state("{\"columns\": [{\"name\": \"a\", \"shape\": [[]]}]}"),
			 TFS_JSON_COMPLETE);
}
END_TEST

START_TEST(state_incomplete)
{
	ck_assert_int_eq(state(""), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(state("   \n"), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(state("{"), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(state("{\"rows\": 5"), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(state("{\"a\": \"}"), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(state("{\"a\": \"\\\"}"), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(state("{\"columns\": [{}]"), TFS_JSON_INCOMPLETE);
}
END_TEST

/* Every proper prefix of a document may still be completed by more
 * writes: none of them may be applied early or refused. */
START_TEST(state_every_prefix_incomplete)
{
	static const char doc[] =
	    "{\n  \"rows\": 1000,\n  \"columns\": [\n"
	    "    {\"name\": \"price\", \"type\": \"float64\", \"shape\": []},\n"
	    "    {\"name\": \"emb\", \"dtype\": \"<f4\", \"shape\": [128], \"note\": \"a "
	    "\\\"}\\\\\"}\n"
	    "  ]\n}\n";
	size_t n = strlen(doc), end = n;

	while (end > 0 && (doc[end - 1] == '\n'))
		end--;
	for (size_t i = 0; i < end; i++)
		ck_assert_msg(tfs_json_state(doc, i) == TFS_JSON_INCOMPLETE,
			      "prefix of %zu bytes not incomplete", i);
	for (size_t i = end; i <= n; i++)
		ck_assert_msg(tfs_json_state(doc, i) == TFS_JSON_COMPLETE, "%zu bytes not complete",
			      i);
}
END_TEST

START_TEST(state_invalid)
{
	ck_assert_int_eq(state("}"), TFS_JSON_INVALID);
	ck_assert_int_eq(state("]"), TFS_JSON_INVALID);
	ck_assert_int_eq(state("{}}"), TFS_JSON_INVALID);
	ck_assert_int_eq(state("{\"rows\": 5}]"), TFS_JSON_INVALID);
	ck_assert_int_eq(state("{\"rows\": [5}"), TFS_JSON_INVALID);
	ck_assert_int_eq(state("{\"rows\": 5} {\"rows\": 6}"), TFS_JSON_INVALID);
	ck_assert_int_eq(state("{\"rows\": 5} x"), TFS_JSON_INVALID);
}
END_TEST

/* Only len bytes count, whatever follows them in memory. */
START_TEST(state_respects_len)
{
	static const char buf[] = "{\"rows\": 5}}}}";

	ck_assert_int_eq(tfs_json_state(buf, 11), TFS_JSON_COMPLETE);
	ck_assert_int_eq(tfs_json_state(buf, 10), TFS_JSON_INCOMPLETE);
	ck_assert_int_eq(tfs_json_state(buf, 12), TFS_JSON_INVALID);
}
END_TEST

/* ---- tfs_doc_parse ---- */

static int parse(const char *s, struct tfs_doc *doc, char *why)
{
	why[0] = '\0';
	return tfs_doc_parse(s, strlen(s), doc, why, TFS_WHY_MAX);
}

/* Found by the mount test of hostile documents: each must be refused the same
 * way whether it arrives in one write or several. */
START_TEST(doc_refused_whole)
{
	static const char *const bad[] = {
		"{\"columns\": [{\"name\": \"a\\u0000b\", \"type\": \"int8\"}]}",
		"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\\u0000junk\"}]}",
		"{\"rows\": 1, \"rows\": 2}",
		"{\"columns\": [{\"name\": \"a\", \"name\": \"b\", \"type\": \"int8\"}]}",
		"{\"rows\": 1}{\"rows\": 2}",
		"{\"rows\": 1",
	};
	char deep[300], why[TFS_WHY_MAX];
	struct tfs_doc doc;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i], &doc, why) == -EINVAL, "accepted: %s", bad[i]);
		ck_assert(why[0] != '\0');
		ck_assert_ptr_null(doc.cols);
	}
	/* Deeper than any schema document: refused, as the stream check does. */
	n += (size_t)sprintf(deep, "{\"x\": ");
	for (int i = 0; i < 70; i++)
		deep[n++] = '[';
	for (int i = 0; i < 70; i++)
		deep[n++] = ']';
	strcpy(deep + n, "}");
	ck_assert_int_eq(tfs_json_state(deep, strlen(deep)), TFS_JSON_INVALID);
	ck_assert_int_eq(parse(deep, &doc, why), -EINVAL);
}
END_TEST

START_TEST(doc_full)
{
	struct tfs_doc doc;
	char why[TFS_WHY_MAX];

	ck_assert_int_eq(parse("{\"rows\": 10, \"columns\": ["
			       "{\"name\": \"price\", \"type\": \"float64\"},"
			       "{\"name\": \"emb\", \"dtype\": \"<f4\", \"shape\": [128]},"
			       "{\"name\": \"img\", \"type\": \"uint8\", \"shape\": [4, 3, 2]},"
			       "{\"name\": \"ts\", \"type\": \"datetime64[ns]\", \"shape\": []},"
			       "{\"name\": \"tag\", \"dtype\": \"|S16\"}]}",
			       &doc, why),
			 0);
	ck_assert(doc.has_rows);
	ck_assert_uint_eq(doc.rows, 10);
	ck_assert_uint_eq(doc.ncols, 5);
	ck_assert_ptr_nonnull(doc.cols);

	ck_assert_str_eq(doc.cols[0].name, "price");
	ck_assert_int_eq(doc.cols[0].type.kind, TFS_FLOAT);
	ck_assert_uint_eq(doc.cols[0].type.size, 8);
	ck_assert_uint_eq(doc.cols[0].ndim, 0);
	ck_assert_uint_eq(doc.cols[0].itemsize, 8);

	ck_assert_str_eq(doc.cols[1].name, "emb");
	ck_assert_int_eq(doc.cols[1].type.kind, TFS_FLOAT);
	ck_assert_uint_eq(doc.cols[1].type.size, 4);
	ck_assert_uint_eq(doc.cols[1].ndim, 1);
	ck_assert_uint_eq(doc.cols[1].shape[0], 128);
	ck_assert_uint_eq(doc.cols[1].itemsize, 512);

	ck_assert_str_eq(doc.cols[2].name, "img");
	ck_assert_uint_eq(doc.cols[2].ndim, 3);
	ck_assert_uint_eq(doc.cols[2].shape[0], 4);
	ck_assert_uint_eq(doc.cols[2].shape[1], 3);
	ck_assert_uint_eq(doc.cols[2].shape[2], 2);
	ck_assert_uint_eq(doc.cols[2].itemsize, 24);

	ck_assert_int_eq(doc.cols[3].type.kind, TFS_DATETIME);
	ck_assert_int_eq(doc.cols[3].type.unit, TFS_UNIT_NS);
	ck_assert_uint_eq(doc.cols[3].ndim, 0);
	ck_assert_uint_eq(doc.cols[3].itemsize, 8);

	ck_assert_int_eq(doc.cols[4].type.kind, TFS_BYTES);
	ck_assert_uint_eq(doc.cols[4].itemsize, 16);
	tfs_doc_free(&doc);
}
END_TEST

START_TEST(doc_optional_parts)
{
	struct tfs_doc doc;
	char why[TFS_WHY_MAX];

	ck_assert_int_eq(parse("{}", &doc, why), 0);
	ck_assert(!doc.has_rows);
	ck_assert_uint_eq(doc.ncols, 0);
	tfs_doc_free(&doc);

	ck_assert_int_eq(parse("{\"rows\": 0}\n", &doc, why), 0);
	ck_assert(doc.has_rows);
	ck_assert_uint_eq(doc.rows, 0);
	ck_assert_uint_eq(doc.ncols, 0);
	tfs_doc_free(&doc);

	ck_assert_int_eq(parse("{\"columns\": [{\"name\": \"a\", \"type\": \"int8\"}]}", &doc, why),
			 0);
	ck_assert(!doc.has_rows);
	ck_assert_uint_eq(doc.ncols, 1);
	ck_assert_uint_eq(doc.cols[0].itemsize, 1);
	tfs_doc_free(&doc);

	/* numpy's spelling of a 1-D shape, and type with a dtype that agrees */
	ck_assert_int_eq(parse("{\"columns\": [{\"name\": \"a\", \"type\": \"float64\","
			       " \"dtype\": \"<f8\", \"shape\": 3}]}",
			       &doc, why),
			 0);
	ck_assert_uint_eq(doc.cols[0].ndim, 1);
	ck_assert_uint_eq(doc.cols[0].shape[0], 3);
	ck_assert_uint_eq(doc.cols[0].itemsize, 24);
	tfs_doc_free(&doc);

	ck_assert_int_eq(parse("{\"rows\": 3, \"columns\": []}", &doc, why), 0);
	ck_assert(doc.has_rows);
	ck_assert_uint_eq(doc.rows, 3);
	ck_assert_uint_eq(doc.ncols, 0);
	tfs_doc_free(&doc);
}
END_TEST

/* Fields a reader sees in meta.json are ignored on the way back in, so a
 * read document may be edited and written back. */
START_TEST(doc_ignores_other_fields)
{
	struct tfs_doc doc;
	char why[TFS_WHY_MAX];

	ck_assert_int_eq(
	    parse("{\"format\": \"tablefs-1\", \"name\": \"t\", \"version\": 7, \"rows\": 2, "
		  "\"columns\": [{\"name\": \"x\", \"type\": \"int32\", \"dtype\": \"<i4\", "
		  "\"shape\": [], \"itemsize\": 99, \"nbytes\": 1, \"file\": \"zzz\"}]}",
		  &doc, why),
	    0);
	ck_assert_uint_eq(doc.ncols, 1);
	ck_assert_str_eq(doc.cols[0].name, "x");
	ck_assert_uint_eq(doc.cols[0].itemsize, 4);
	tfs_doc_free(&doc);
}
END_TEST

START_TEST(doc_respects_len)
{
	static const char buf[] = "{\"rows\": 5}garbage";
	struct tfs_doc doc;
	char why[TFS_WHY_MAX] = "";

	ck_assert_int_eq(tfs_doc_parse(buf, 11, &doc, why, sizeof(why)), 0);
	ck_assert_uint_eq(doc.rows, 5);
	tfs_doc_free(&doc);
	ck_assert_int_eq(tfs_doc_parse(buf, sizeof(buf) - 1, &doc, why, sizeof(why)), -EINVAL);
}
END_TEST

static const struct bad_doc {
	const char *json;
	const char *reason; /* substring the reason must contain */
} bad_docs[] = {
    {"", ""},
    {"{", ""},
    {"{\"rows\": 5,}", ""},
    {"[1]", ""},
    {"5", ""},
    {"\"rows\"", ""},
    {"{\"rows\": -1}", "rows"},
    {"{\"rows\": 1.5}", "rows"},
    {"{\"rows\": \"5\"}", "rows"},
    {"{\"rows\": null}", "rows"},
    {"{\"rows\": 1e30}", "\"rows\" too large: at most 9007199254740992"},
    {"{\"rows\": 9007199254740994}", "too large"},
    {"{\"rows\": 1e400}", "too large"},
    {"{\"rows\": -1e400}", "whole number"},
    {"{\"row\": 5}", "unknown key \"row\""},
    {"{\"rows\": 5, \"column\": []}", "unknown key \"column\""},
    {"{\"columns\": [{\"name\": \"a\", \"typ\": \"int8\", \"type\": \"int8\"}]}",
     "unknown key \"typ\""},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"comment\": {}}]}",
     "unknown key \"comment\""},
    {" \n\t ", "empty document"},
    {"\xef\xbb\xbf{\"rows\": 1}", "byte order mark"},
    {"{\"rows\": 1, \"columns\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
     "nested too deeply"},
    {"{\"columns\": {}}", "columns"},
    {"{\"columns\": [5]}", ""},
    {"{\"columns\": [{\"type\": \"int8\"}]}", "name"},
    {"{\"columns\": [{\"name\": 5, \"type\": \"int8\"}]}", "name"},
    {"{\"columns\": [{\"name\": \"a\"}]}", "a"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": 8}]}", "a"},
    {"{\"columns\": [{\"name\": \"a.b\", \"type\": \"int8\"}]}", "a.b"},
    {"{\"columns\": [{\"name\": \"meta\", \"type\": \"int8\"}, {\"name\": \"-x\", \"type\": "
     "\"int8\"}]}",
     "-x"},
    {"{\"columns\": [{\"name\": \"\", \"type\": \"int8\"}]}", ""},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"xyz\"}]}", "unknown type 'xyz'"},
    {"{\"columns\": [{\"name\": \"a\", \"dtype\": \">f8\"}]}", "big-endian"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\"}, {\"name\": \"a\", \"type\": "
     "\"int8\"}]}",
     "a"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": \"3\"}]}", "shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": [0]}]}", "shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": [2, -3]}]}", "shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"float64\", \"dtype\": \"<f4\"}]}", "a"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": [-1]}]}", "shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": [1.5]}]}", "shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": [\"2\"]}]}", "shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": "
     "[1,1,1,1,1,1,1,1,1]}]}",
     "a"},
    /* one row of one column over TFS_ITEMSIZE_MAX */
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"float64\", \"shape\": [268435457]}]}", "a"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"float64\", \"shape\": [1e9]}]}", "a"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": [4294967296, "
     "4294967296]}]}",
     "shape dimension too large: a row may be at most 2147483648 bytes"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"shape\": 1e300}]}",
     "too large"},
    /* text, categories, nulls */
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"utf8\", \"shape\": [2]}]}", "no shape"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"nullable\": 1}]}",
     "\"nullable\" must be true or false"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"int8\", \"data_nbytes\": 5}]}",
     "only for utf8 and binary"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"utf8\", \"data_nbytes\": -5}]}",
     "whole number"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"utf8\", \"data_nbytes\": 1e30}]}",
     "too large"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"utf8\", \"categories\": []}]}",
     "only for category"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"category\", \"categories\": \"x\"}]}",
     "array of strings"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"category\", \"categories\": [\"x\", 1]}]}",
     "categories[1] is not a string"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"category\", \"categories\": [\"x\", \"y\", "
     "\"x\"]}]}",
     "\"x\" appears twice"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"category\", \"categories\": [\"\xff\"]}]}",
     "not valid UTF-8"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"utf8\", \"dtype\": \"<i4\"}]}", "<i8"},
    {"{\"columns\": [{\"name\": \"a\", \"type\": \"utf8\", \"files\": 3}]}", "files"},
};

#define N_BAD_DOCS ((int)(sizeof(bad_docs) / sizeof(bad_docs[0])))

START_TEST(doc_bad)
{
	const struct bad_doc *b = &bad_docs[_i];
	struct tfs_doc doc;
	char why[TFS_WHY_MAX];

	memset(&doc, 0x5a, sizeof(doc));
	ck_assert_msg(parse(b->json, &doc, why) == -EINVAL, "accepted: %s", b->json);
	ck_assert_msg(why[0] != '\0', "no reason for %s", b->json);
	ck_assert_msg(strstr(why, b->reason), "reason for %s is '%s'", b->json, why);
	/* left empty: nothing to free, safe to free */
	ck_assert_uint_eq(doc.ncols, 0);
	ck_assert_ptr_null(doc.cols);
	tfs_doc_free(&doc);
}
END_TEST

START_TEST(doc_itemsize_limit)
{
	struct tfs_doc doc;
	char why[TFS_WHY_MAX];

	/* exactly TFS_ITEMSIZE_MAX bytes per row is still fine */
	ck_assert_int_eq(parse("{\"columns\": [{\"name\": \"a\", \"type\": \"float64\","
			       " \"shape\": [268435456]}]}",
			       &doc, why),
			 0);
	ck_assert_uint_eq(doc.cols[0].itemsize, TFS_ITEMSIZE_MAX);
	tfs_doc_free(&doc);
	ck_assert_int_eq(parse("{\"columns\": [{\"name\": \"a\", \"type\": \"int8\","
			       " \"shape\": [1,2,1,2,1,2,1,2]}]}",
			       &doc, why),
			 0);
	ck_assert_uint_eq(doc.cols[0].ndim, TFS_MAX_DIMS);
	ck_assert_uint_eq(doc.cols[0].itemsize, 16);
	tfs_doc_free(&doc);
}
END_TEST

START_TEST(doc_size_limit)
{
	size_t n = TFS_DOC_MAX + 16;
	char *buf = malloc(n + 1), why[TFS_WHY_MAX] = "";
	struct tfs_doc doc;
	int rc;

	ck_assert_ptr_nonnull(buf);
	/* valid JSON, but more than anyone writes as a schema */
	memset(buf, ' ', n);
	memcpy(buf + n - 11, "{\"rows\": 1}", 11);
	buf[n] = '\0';
	rc = tfs_doc_parse(buf, n, &doc, why, sizeof(why));
	ck_assert_int_eq(rc, -EINVAL);
	ck_assert(why[0] != '\0');
	free(buf);
}
END_TEST

/* ---- tfs_coldef_init ---- */

START_TEST(coldef_good)
{
	static const uint64_t shape[] = {3, 4};
	struct tfs_coldef def;
	char why[TFS_WHY_MAX] = "";

	ck_assert_int_eq(tfs_coldef_init(&def, "price", "float64", NULL, 0, why, sizeof(why)), 0);
	ck_assert_str_eq(def.name, "price");
	ck_assert_int_eq(def.type.kind, TFS_FLOAT);
	ck_assert_uint_eq(def.ndim, 0);
	ck_assert_uint_eq(def.itemsize, 8);

	ck_assert_int_eq(tfs_coldef_init(&def, "m", "<i2", shape, 2, why, sizeof(why)), 0);
	ck_assert_uint_eq(def.ndim, 2);
	ck_assert_uint_eq(def.shape[0], 3);
	ck_assert_uint_eq(def.shape[1], 4);
	ck_assert_uint_eq(def.itemsize, 24);

	ck_assert_int_eq(tfs_coldef_init(&def, "s", "bytes16", shape, 1, why, sizeof(why)), 0);
	ck_assert_uint_eq(def.itemsize, 48);
}
END_TEST

START_TEST(coldef_bad)
{
	static const uint64_t big[] = {UINT64_C(1) << 32, UINT64_C(1) << 32};
	static const uint64_t over[] = {(TFS_ITEMSIZE_MAX / 8) + 1};
	static const uint64_t many[TFS_MAX_DIMS + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	char name[TFS_NAME_MAX + 2];
	struct tfs_coldef def;
	char why[TFS_WHY_MAX];

	ck_assert_int_eq(tfs_coldef_init(&def, "a.b", "int8", NULL, 0, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "a.b"));
	ck_assert_int_eq(tfs_coldef_init(&def, "a", "xyz", NULL, 0, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "unknown type 'xyz'"));
	ck_assert_int_eq(tfs_coldef_init(&def, "a", ">i4", NULL, 0, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "big-endian"));
	ck_assert_int_eq(tfs_coldef_init(&def, "a", "int8", big, 2, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(tfs_coldef_init(&def, "a", "float64", over, 1, why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(
	    tfs_coldef_init(&def, "a", "int8", many, TFS_MAX_DIMS + 1, why, sizeof(why)), -EINVAL);
	/* in a document a long name is just a bad name: EINVAL */
	memset(name, 'n', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(tfs_coldef_init(&def, name, "int8", NULL, 0, why, sizeof(why)), -EINVAL);
}
END_TEST

/* ---- tfs_meta_render ---- */

static const cJSON *field(const cJSON *obj, const char *key)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, key);

	ck_assert_msg(f != NULL, "no field '%s'", key);
	return f;
}

static void check_num(const cJSON *obj, const char *key, double want)
{
	const cJSON *f = field(obj, key);

	ck_assert_msg(cJSON_IsNumber(f), "'%s' is not a number", key);
	ck_assert_msg(f->valuedouble == want, "'%s' is %.17g, want %.17g", key, f->valuedouble,
		      want);
}

static void check_str(const cJSON *obj, const char *key, const char *want)
{
	const cJSON *f = field(obj, key);

	ck_assert_msg(cJSON_IsString(f), "'%s' is not a string", key);
	ck_assert_str_eq(f->valuestring, want);
}

/* Checks one rendered column object against the definition it came from. */
static void check_col(const cJSON *c, const struct tfs_coldef *def, uint64_t rows)
{
	const cJSON *shape, *dim;
	char buf[TFS_TYPE_STR_MAX];
	unsigned i = 0;

	check_str(c, "name", def->name);
	tfs_type_name(&def->type, buf, sizeof(buf));
	check_str(c, "type", buf);
	tfs_type_dtype(&def->type, buf, sizeof(buf));
	check_str(c, "dtype", buf);
	shape = field(c, "shape");
	ck_assert(cJSON_IsArray(shape));
	ck_assert_int_eq(cJSON_GetArraySize(shape), (int)def->ndim);
	cJSON_ArrayForEach(dim, shape)
	{
		ck_assert(cJSON_IsNumber(dim));
		ck_assert(dim->valuedouble == (double)def->shape[i++]);
	}
	check_num(c, "itemsize", (double)def->itemsize);
	check_num(c, "nbytes", (double)(rows * def->itemsize));
	check_str(c, "file", def->name);
}

static void mkdef(struct tfs_coldef *def, const char *name, const char *type, const uint64_t *shape,
		  unsigned ndim)
{
	char why[TFS_WHY_MAX];

	ck_assert_msg(tfs_coldef_init(def, name, type, shape, ndim, why, sizeof(why)) == 0, "%s",
		      why);
}

START_TEST(render_fields)
{
	static const uint64_t s128[] = {128}, s23[] = {2, 3};
	struct tfs_coldef defs[4];
	const struct tfs_coldef *cols[4] = {&defs[0], &defs[1], &defs[2], &defs[3]};
	const cJSON *arr, *c;
	size_t len = 0;
	char *text;
	cJSON *root;
	int i = 0;

	mkdef(&defs[0], "price", "float64", NULL, 0);
	mkdef(&defs[1], "emb", "<f4", s128, 1);
	mkdef(&defs[2], "when", "datetime64[ms]", s23, 2);
	mkdef(&defs[3], "tag", "|S16", NULL, 0);
	text = tfs_meta_render("trades", 1000, 7, cols, NULL, 4, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, strlen(text));

	root = cJSON_ParseWithLength(text, len);
	ck_assert_msg(root != NULL, "rendered meta.json does not parse:\n%s", text);
	ck_assert(cJSON_IsObject(root));
	check_str(root, "format", TFS_FORMAT);
	check_str(root, "name", "trades");
	check_num(root, "rows", 1000);
	check_num(root, "version", 7);
	arr = field(root, "columns");
	ck_assert(cJSON_IsArray(arr));
	ck_assert_int_eq(cJSON_GetArraySize(arr), 4);
	cJSON_ArrayForEach(c, arr)
	{
		ck_assert(cJSON_IsObject(c));
		check_col(c, &defs[i++], 1000);
	}
	cJSON_Delete(root);
	free(text);
}
END_TEST

/* 2-space indent, one column object per line, a final newline: readable
 * with cat and diffable line by line. */
START_TEST(render_layout)
{
	struct tfs_coldef defs[2];
	const struct tfs_coldef *cols[2] = {&defs[0], &defs[1]};
	size_t len;
	char *text, *line, *save = NULL;
	int ncol_lines = 0;

	mkdef(&defs[0], "a", "int8", NULL, 0);
	mkdef(&defs[1], "b", "uint16", NULL, 0);
	text = tfs_meta_render("t", 3, 1, cols, NULL, 2, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(len > 0 && text[len - 1] == '\n', "no final newline:\n%s", text);
	ck_assert_msg(strncmp(text, "{\n  \"", 5) == 0, "not 2-space indented:\n%s", text);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strstr(line, "\"dtype\""))
			continue;
		ncol_lines++;
		ck_assert_msg(strstr(line, "\"name\"") && strstr(line, "\"nbytes\"") &&
				  strstr(line, "\"file\"") && strchr(line, '{') &&
				  strchr(line, '}'),
			      "column not on one line: %s", line);
	}
	ck_assert_int_eq(ncol_lines, 2);
	free(text);
}
END_TEST

START_TEST(render_empty_table)
{
	size_t len;
	char *text = tfs_meta_render("empty", 0, 0, NULL, NULL, 0, &len);
	cJSON *root;
	const cJSON *arr;

	ck_assert_ptr_nonnull(text);
	root = cJSON_ParseWithLength(text, len);
	ck_assert_ptr_nonnull(root);
	check_str(root, "name", "empty");
	check_num(root, "rows", 0);
	check_num(root, "version", 0);
	arr = field(root, "columns");
	ck_assert(cJSON_IsArray(arr));
	ck_assert_int_eq(cJSON_GetArraySize(arr), 0);
	cJSON_Delete(root);
	free(text);
}
END_TEST

/* Sizes are exact integers in the text: no exponent, no rounding through
 * a double, even past 2^53. */
START_TEST(render_exact_integers)
{
	static const uint64_t s512[] = {512};
	struct tfs_coldef def;
	const struct tfs_coldef *cols[1] = {&def};
	size_t len;
	char *text;

	mkdef(&def, "emb", "uint8", s512, 1);
	text = tfs_meta_render("big", 3000000000u, 4294967297u, cols, NULL, 1, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "3000000000"), "%s", text);
	ck_assert_msg(strstr(text, "4294967297"), "%s", text);
	ck_assert_msg(strstr(text, "1536000000000"), "%s", text);
	ck_assert_msg(!strstr(text, "e+"), "exponent in %s", text);
	free(text);

	mkdef(&def, "flag", "bool", NULL, 0);
	text = tfs_meta_render("huge", UINT64_C(9007199254740993), 1, cols, NULL, 1, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "9007199254740993"), "%s", text);
	free(text);
}
END_TEST

/* What meta.json shows can be written back unchanged: same columns. */
START_TEST(render_parse_round_trip)
{
	static const uint64_t s4[] = {4};
	struct tfs_coldef defs[2];
	const struct tfs_coldef *cols[2] = {&defs[0], &defs[1]};
	char why[TFS_WHY_MAX] = "";
	struct tfs_doc doc;
	size_t len;
	char *text;

	mkdef(&defs[0], "x", "timedelta64[us]", NULL, 0);
	mkdef(&defs[1], "v", "float16", s4, 1);
	text = tfs_meta_render("t", 42, 3, cols, NULL, 2, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(tfs_json_state(text, len), TFS_JSON_COMPLETE);
	ck_assert_msg(tfs_doc_parse(text, len, &doc, why, sizeof(why)) == 0, "%s", why);
	ck_assert(doc.has_rows);
	ck_assert_uint_eq(doc.rows, 42);
	ck_assert_uint_eq(doc.ncols, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_str_eq(doc.cols[i].name, defs[i].name);
		ck_assert(tfs_type_equal(&doc.cols[i].type, &defs[i].type));
		ck_assert_uint_eq(doc.cols[i].ndim, defs[i].ndim);
		ck_assert_uint_eq(doc.cols[i].itemsize, defs[i].itemsize);
	}
	tfs_doc_free(&doc);
	free(text);
}
END_TEST

/* ---- tfs_json_uint ---- */

static int json_uint(const char *text, uint64_t max, uint64_t *out)
{
	cJSON *v = cJSON_Parse(text);
	int rc;

	ck_assert_ptr_nonnull(v);
	rc = tfs_json_uint(v, max, out);
	cJSON_Delete(v);
	return rc;
}

START_TEST(json_uint_bounds)
{
	uint64_t v = 7;

	ck_assert_int_eq(json_uint("0", 10, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(json_uint("10", 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(json_uint("1e1", 10, &v), 0);
	ck_assert_uint_eq(v, 10);
	ck_assert_int_eq(json_uint("9007199254740992", UINT64_MAX, &v), 0);
	ck_assert_uint_eq(v, UINT64_C(9007199254740992));
	v = 7;
	ck_assert_int_eq(json_uint("11", 10, &v), -ERANGE);
	ck_assert_int_eq(json_uint("-1", 10, &v), -EINVAL);
	ck_assert_int_eq(json_uint("1.5", 10, &v), -EINVAL);
	ck_assert_int_eq(json_uint("\"3\"", 10, &v), -EINVAL);
	ck_assert_int_eq(json_uint("null", 10, &v), -EINVAL);
	/* 2^64 does not fit even when max is UINT64_MAX */
	ck_assert_int_eq(json_uint("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(json_uint("1e300", UINT64_MAX, &v), -ERANGE);
	ck_assert_int_eq(tfs_json_uint(NULL, 10, &v), -EINVAL);
	ck_assert_uint_eq(v, 7); /* untouched on refusal */
}
END_TEST

START_TEST(doc_new_kinds)
{
	const char *s = "{\"rows\": 2, \"columns\": ["
			"{\"name\": \"s\", \"type\": \"string\", \"nullable\": true, \"data_nbytes\": 9},"
			"{\"name\": \"b\", \"type\": \"binary\"},"
			"{\"name\": \"c\", \"type\": \"category\", \"categories\": [\"\\u00e9t\\u00e9\", \"\", "
			"\"x\"]},"
			"{\"name\": \"n\", \"type\": \"int64\", \"nullable\": false}]}";
	struct tfs_doc doc;
	char why[TFS_WHY_MAX];

	ck_assert_msg(parse(s, &doc, why) == 0, "%s", why);
	ck_assert_uint_eq(doc.ncols, 4);
	ck_assert_int_eq(doc.cols[0].type.kind, TFS_UTF8);
	ck_assert(doc.cols[0].nullable && doc.cols[0].has_data_bytes);
	ck_assert_uint_eq(doc.cols[0].data_bytes, 9);
	ck_assert(tfs_coldef_has(&doc.cols[0], TFS_ROLE_NULL));
	ck_assert(!doc.cols[1].has_data_bytes && !doc.cols[1].nullable);
	ck_assert_ptr_null(doc.cols[1].cats);
	ck_assert_ptr_nonnull(doc.cols[2].cats);
	ck_assert_uint_eq(doc.cols[2].ncat, 3);
	ck_assert_uint_eq(doc.cols[2].dict_bytes, 6); /* "été" is 5 bytes of UTF-8, "x" 1 */
	ck_assert_int_eq(doc.cols[2].cats->offsets[1], 5);
	ck_assert_int_eq(doc.cols[2].cats->offsets[2], 5);
	ck_assert_int_eq(doc.cols[2].cats->offsets[3], 6);
	ck_assert_int_eq(memcmp(doc.cols[2].cats->bytes, "\xc3\xa9t\xc3\xa9x", 6), 0);
	ck_assert(tfs_coldef_plain(&doc.cols[3]));
	tfs_doc_free(&doc);
}
END_TEST

/* Rendered and parsed back: the same columns; a plain column renders no
 * new key. */
START_TEST(render_new_kinds)
{
	struct tfs_coldef c[3];
	const struct tfs_coldef *cols[3] = {&c[0], &c[1], &c[2]};
	int64_t off[3] = {0, 2, 5};
	struct tfs_dict_view dicts[3] = {{0}, {off, "a\"\\\nz"}, {0}};
	char why[TFS_WHY_MAX];
	struct tfs_doc doc;
	size_t len;
	char *text;

	ck_assert_int_eq(tfs_coldef_init(&c[0], "s", "utf8", NULL, 0, why, sizeof(why)), 0);
	c[0].nullable = true;
	c[0].data_bytes = 7;
	ck_assert_int_eq(tfs_coldef_init(&c[1], "k", "category", NULL, 0, why, sizeof(why)), 0);
	c[1].ncat = 2;
	c[1].dict_bytes = 5;
	ck_assert_int_eq(tfs_coldef_init(&c[2], "p", "float64", NULL, 0, why, sizeof(why)), 0);
	text = tfs_meta_render("t", 3, 1, cols, dicts, 3, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strstr(text, "\"nbytes\": 32, \"file\": \"s\", \"nullable\": true, "
				   "\"data_nbytes\": 7, \"files\": [{\"role\": \"offsets\""),
		      "%s", text);
	ck_assert_msg(strstr(text, "{\"role\": \"null\", \"file\": \"s.null\", \"dtype\": \"|b1\", "
				   "\"count\": 3, \"nbytes\": 3}"),
		      "%s", text);
	ck_assert_msg(strstr(text, "\"categories\": [\"a\\\"\", \"\\\\\\u000az\"]"), "%s", text);
	ck_assert_msg(strstr(text, "{\"role\": \"dict.data\", \"file\": \"k.dict.data\", \"dtype\": "
				   "\"|u1\", \"count\": 5, \"nbytes\": 5}"),
		      "%s", text);
	ck_assert_msg(strstr(text, "\"nbytes\": 24, \"file\": \"p\"}"), "%s", text);
	ck_assert_msg(parse(text, &doc, why) == 0, "%s: %s", why, text);
	ck_assert_uint_eq(doc.ncols, 3);
	ck_assert(doc.cols[0].nullable && doc.cols[0].data_bytes == 7);
	ck_assert_uint_eq(doc.cols[1].ncat, 2);
	ck_assert_int_eq(memcmp(doc.cols[1].cats->bytes, "a\"\\\nz", 5), 0);
	tfs_doc_free(&doc);
	free(text);
}
END_TEST

Suite *meta_suite(void)
{
	Suite *s = suite_create("meta");
	TCase *tc = tcase_create("json_state");

	tcase_add_test(tc, state_complete);
	tcase_add_test(tc, state_incomplete);
	tcase_add_test(tc, state_every_prefix_incomplete);
	tcase_add_test(tc, state_invalid);
	tcase_add_test(tc, state_respects_len);
	suite_add_tcase(s, tc);

	tc = tcase_create("doc_parse");
	tcase_add_test(tc, doc_full);
	tcase_add_test(tc, doc_optional_parts);
	tcase_add_test(tc, doc_ignores_other_fields);
	tcase_add_test(tc, doc_respects_len);
	tcase_add_loop_test(tc, doc_bad, 0, N_BAD_DOCS);
	tcase_add_test(tc, doc_itemsize_limit);
	tcase_add_test(tc, doc_size_limit);
	tcase_add_test(tc, doc_new_kinds);
	suite_add_tcase(s, tc);

	tc = tcase_create("json_uint");
	tcase_add_test(tc, json_uint_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("coldef");
	tcase_add_test(tc, coldef_good);
	tcase_add_test(tc, coldef_bad);
	suite_add_tcase(s, tc);

	tc = tcase_create("render");
	tcase_add_test(tc, doc_refused_whole);
	tcase_add_test(tc, render_fields);
	tcase_add_test(tc, render_layout);
	tcase_add_test(tc, render_empty_table);
	tcase_add_test(tc, render_exact_integers);
	tcase_add_test(tc, render_parse_round_trip);
	tcase_add_test(tc, render_new_kinds);
	suite_add_tcase(s, tc);
	return s;
}
