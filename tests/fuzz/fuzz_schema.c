/* libFuzzer target: everything a write to meta.json reaches before any
 * memory is touched.  The input is a written document; it goes through the
 * completeness check, the parser and the planner (against a fixed table of
 * every kind: fixed width, shaped, bytes, nullable utf8, category), and the
 * plan is checked: each file of each column sized as its role and the rows
 * say, memory within the limit, categories only added, and the rendered
 * meta.json parses back to the same schema. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "schema.h"
#include "change_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			abort();                                                                   \
	} while (0)

#define NCUR 5

/* The dictionary of the current category column "cat": "a", "bcde". */
static const int64_t cat_offsets[] = {0, 1, 5};
static const struct tfs_dict_view cat_dict = {cat_offsets, "abcde"};

static const struct tfs_coldef *const *table(void)
{
	static struct tfs_coldef cols[NCUR];
	static const struct tfs_coldef *ptrs[NCUR];
	static int ready;
	const uint64_t shape[2] = {4, 2};

	if (!ready) {
		CHECK(tfs_coldef_init(&cols[0], "price", "float64", NULL, 0, NULL, 0) == 0);
		CHECK(tfs_coldef_init(&cols[1], "emb", "<f4", shape, 2, NULL, 0) == 0);
		CHECK(tfs_coldef_init(&cols[2], "sym", "bytes8", NULL, 0, NULL, 0) == 0);
		CHECK(tfs_coldef_init(&cols[3], "name", "utf8", NULL, 0, NULL, 0) == 0);
		cols[3].nullable = true;
		cols[3].data_bytes = 50;
		CHECK(tfs_coldef_init(&cols[4], "cat", "category", NULL, 0, NULL, 0) == 0);
		cols[4].ncat = 2;
		cols[4].dict_bytes = 5;
		for (int i = 0; i < NCUR; i++)
			ptrs[i] = &cols[i];
		ready = 1;
	}
	return ptrs;
}

static int same_def(const struct tfs_coldef *a, const struct tfs_coldef *b)
{
	return strcmp(a->name, b->name) == 0 && tfs_coldef_same_layout(a, b) &&
	       a->itemsize == b->itemsize && a->nullable == b->nullable;
}

/* The dictionary a category column of the plan renders: the document's
 * categories, else the current column's. */
static struct tfs_dict_view dict_of(const struct tfs_coldef *c, size_t k)
{
	static const int64_t none[] = {0};
	struct tfs_dict_view v = {none, ""};

	if (c->cats) {
		v.offsets = c->cats->offsets;
		v.bytes = c->cats->bytes;
	} else if (k == 4) {
		v = cat_dict;
	}
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	enum tfs_json_state state = tfs_json_state(text, size);
	const struct tfs_coldef *const *cur = table();
	const struct tfs_coldef *after[NCUR + 64];
	struct tfs_dict_view dicts[NCUR + 64];
	const uint64_t rows0 = 100, limit = UINT64_C(1) << 30;
	uint64_t used = 0, bytes;
	struct tfs_plan plan;
	struct tfs_doc doc, back;
	char why[TFS_WHY_MAX];
	size_t len, nfiles = 0;
	int all_kept = 1;
	char *rendered;
	int rc;

	for (size_t i = 0; i < NCUR; i++)
		for (int r = 0; r < TFS_NROLES; r++)
			if (tfs_coldef_has(cur[i], (enum tfs_role)r)) {
				CHECK(tfs_coldef_file_bytes(cur[i], (enum tfs_role)r, rows0, &bytes));
				used += tfs_mem_charge(bytes);
			}

	rc = tfs_doc_parse(text, size, &doc, why, sizeof(why));
	/* A document seen as complete JSON fails, if at all, for its schema;
	 * one seen as invalid never parses. */
	if (state == TFS_JSON_INVALID)
		CHECK(rc < 0);
	if (rc < 0) {
		CHECK(rc == -EINVAL && why[0]);
		CHECK(doc.cols == NULL && doc.ncols == 0);
		return 0;
	}
	CHECK(state != TFS_JSON_INVALID);
	if (doc.ncols > 64) {
		tfs_doc_free(&doc);
		return 0;
	}
	/* What the parser accepted is a coherent column of its kind. */
	for (size_t d = 0; d < doc.ncols; d++) {
		const struct tfs_coldef *c = &doc.cols[d];
		if (c->cats) {
			CHECK(c->type.kind == TFS_CATEGORY && c->cats->n == c->ncat);
			CHECK(c->cats->offsets[0] == 0 && (uint64_t)c->cats->offsets[c->ncat] == c->dict_bytes);
			for (uint64_t k = 0; k < c->ncat; k++)
				CHECK(c->cats->offsets[k] <= c->cats->offsets[k + 1]);
		}
		if (c->type.kind == TFS_UTF8 || c->type.kind == TFS_BINARY || c->type.kind == TFS_CATEGORY)
			CHECK(c->ndim == 0);
		if (c->has_data_bytes)
			CHECK(c->type.kind == TFS_UTF8 || c->type.kind == TFS_BINARY);
	}
	rc = tfs_plan_make(cur, NULL, NCUR, rows0, &doc, used, limit, &plan, why, sizeof(why));
	if (rc < 0) {
		CHECK((rc == -EINVAL || rc == -ENOSPC) && why[0]);
		tfs_doc_free(&doc);
		return 0;
	}
	/* Every file of every column, sized as its role and the rows say. */
	CHECK(plan.ncols >= NCUR && plan.ncols <= NCUR + doc.ncols);
	for (size_t k = 0; k < plan.ncols; k++) {
		const struct tfs_coldef *c = &plan.after[k];
		if (k < NCUR) {
			CHECK(same_def(c, cur[k]));
			/* never fewer categories (that they begin with the
			 * current ones is apply.c's check: it has their bytes) */
			CHECK(c->ncat >= cur[k]->ncat);
		}
		for (int r = 0; r < TFS_NROLES; r++)
			nfiles += tfs_coldef_has(c, (enum tfs_role)r);
		after[k] = c;
		dicts[k] = dict_of(c, k);
	}
	CHECK(plan.nitems == nfiles);
	for (size_t i = 0; i < plan.nitems; i++) {
		const struct tfs_plan_item *it = &plan.items[i];
		CHECK(it->col < plan.ncols && tfs_coldef_has(&plan.after[it->col], it->role));
		CHECK(tfs_coldef_file_bytes(&plan.after[it->col], it->role, plan.rows, &bytes));
		CHECK(it->new_bytes == bytes);
		if (it->role == TFS_ROLE_MAIN)
			CHECK(it->new_bytes ==
			      (plan.after[it->col].type.kind == TFS_UTF8 ||
					       plan.after[it->col].type.kind == TFS_BINARY ?
				       plan.rows + 1 :
				       plan.rows) *
				      plan.after[it->col].itemsize);
		if (it->role == TFS_ROLE_NULL)
			CHECK(it->new_bytes == plan.rows);
		if (it->col >= NCUR) {
			CHECK(it->action == TFS_CREATE);
			all_kept = 0;
			continue;
		}
		CHECK(tfs_coldef_file_bytes(cur[it->col], it->role, rows0, &bytes));
		CHECK(it->old_bytes == bytes);
		CHECK(it->action == (it->new_bytes == it->old_bytes ? TFS_KEEP : TFS_RESIZE));
		all_kept &= it->action == TFS_KEEP;
	}
	CHECK(tfs_mem_fits(used, limit, plan.release, plan.add));
	if (plan.rows != rows0 || !all_kept)
		CHECK(plan.changes);
	/* Every document column now exists as it asked. */
	for (size_t d = 0; d < doc.ncols; d++) {
		size_t k = 0;
		while (k < plan.ncols && strcmp(after[k]->name, doc.cols[d].name) != 0)
			k++;
		CHECK(k < plan.ncols && tfs_coldef_same_layout(after[k], &doc.cols[d]));
		if (doc.cols[d].has_data_bytes)
			CHECK(after[k]->data_bytes == doc.cols[d].data_bytes);
		if (doc.cols[d].cats)
			CHECK(after[k]->ncat == doc.cols[d].ncat);
	}
	/* The generated meta.json says exactly that, and parses back. */
	rendered = tfs_meta_render("t", plan.rows, 2, after, dicts, plan.ncols, &len);
	CHECK(rendered);
	CHECK(tfs_json_state(rendered, len) == TFS_JSON_COMPLETE);
	CHECK(tfs_doc_parse(rendered, len, &back, why, sizeof(why)) == 0);
	CHECK(back.has_rows && back.rows == plan.rows && back.ncols == plan.ncols);
	for (size_t i = 0; i < plan.ncols; i++) {
		const struct tfs_coldef *b = &back.cols[i], *a = after[i];
		CHECK(same_def(b, a));
		if (tfs_coldef_has(a, TFS_ROLE_DATA))
			CHECK(b->has_data_bytes && b->data_bytes == a->data_bytes);
		if (a->type.kind == TFS_CATEGORY) {
			CHECK(b->cats && b->ncat == a->ncat && b->dict_bytes == a->dict_bytes);
			CHECK(memcmp(b->cats->offsets, dicts[i].offsets, (a->ncat + 1) * sizeof(int64_t)) == 0);
			CHECK(a->dict_bytes == 0 || memcmp(b->cats->bytes, dicts[i].bytes, a->dict_bytes) == 0);
		}
	}
	free(rendered);
	tfs_doc_free(&back);
	tfs_plan_free(&plan);
	tfs_doc_free(&doc);
	return 0;
}
