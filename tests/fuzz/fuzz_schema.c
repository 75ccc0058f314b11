/* libFuzzer target: everything a write to meta.json reaches before any
 * memory is touched.  The input is a written document; it goes through the
 * completeness check, the parser and the planner (against a fixed table),
 * and the plan is carried out on a model table whose invariants are then
 * checked: each column's size is rows * itemsize, memory stays within the
 * limit, and the rendered meta.json parses back to the same schema. */
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

static const struct tfs_coldef *table(size_t *n)
{
	static struct tfs_coldef cols[3];
	static const struct tfs_coldef *ptrs[3];
	static int ready;
	const uint64_t shape[2] = {4, 2};

	if (!ready) {
		CHECK(tfs_coldef_init(&cols[0], "price", "float64", NULL, 0, NULL, 0) == 0);
		CHECK(tfs_coldef_init(&cols[1], "emb", "<f4", shape, 2, NULL, 0) == 0);
		CHECK(tfs_coldef_init(&cols[2], "sym", "bytes8", NULL, 0, NULL, 0) == 0);
		for (int i = 0; i < 3; i++)
			ptrs[i] = &cols[i];
		ready = 1;
	}
	*n = 3;
	return (const struct tfs_coldef *)ptrs;
}

static int same_def(const struct tfs_coldef *a, const struct tfs_coldef *b)
{
	return strcmp(a->name, b->name) == 0 && tfs_type_equal(&a->type, &b->type) &&
	       a->ndim == b->ndim && a->itemsize == b->itemsize &&
	       memcmp(a->shape, b->shape, a->ndim * sizeof(a->shape[0])) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	enum tfs_json_state state = tfs_json_state(text, size);
	const struct tfs_coldef *const *cur;
	const struct tfs_coldef *after[3 + 64];
	const uint64_t rows0 = 100, limit = UINT64_C(1) << 30;
	uint64_t used = 0, model_used;
	struct tfs_plan plan;
	struct tfs_doc doc, back;
	char why[TFS_WHY_MAX];
	size_t ncur, nafter = 0, len;
	char *rendered;
	int rc;

	cur = (const struct tfs_coldef *const *)table(&ncur);
	for (size_t i = 0; i < ncur; i++)
		used += tfs_mem_charge(rows0 * cur[i]->itemsize);

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
	rc = tfs_plan_make(cur, NULL, ncur, rows0, &doc, used, limit, &plan, why, sizeof(why));
	if (rc < 0) {
		CHECK((rc == -EINVAL || rc == -ENOSPC) && why[0]);
		tfs_doc_free(&doc);
		return 0;
	}
	/* Carry the plan out on the model and check its invariants. */
	model_used = used;
	CHECK(plan.nitems >= ncur && plan.nitems <= ncur + doc.ncols);
	for (size_t i = 0; i < plan.nitems; i++) {
		const struct tfs_plan_item *it = &plan.items[i];
		const struct tfs_coldef *def =
			it->action == TFS_CREATE ? &doc.cols[it->doc] : cur[it->cur];
		CHECK(i < ncur ? it->action != TFS_CREATE && it->cur == i : it->action == TFS_CREATE);
		CHECK(it->new_bytes == plan.rows * def->itemsize);
		if (it->action == TFS_KEEP)
			CHECK(plan.rows == rows0);
		else if (it->action == TFS_RESIZE)
			model_used += tfs_mem_charge(it->new_bytes) - tfs_mem_charge(it->old_bytes);
		else
			model_used += tfs_mem_charge(it->new_bytes);
		after[nafter++] = def;
	}
	CHECK(model_used <= limit);
	CHECK(plan.changes == (plan.rows != rows0 || plan.nitems > ncur));
	/* Every document column now exists with the type it asked for. */
	for (size_t d = 0; d < doc.ncols; d++) {
		size_t k = 0;
		while (k < nafter && strcmp(after[k]->name, doc.cols[d].name) != 0)
			k++;
		CHECK(k < nafter && same_def(after[k], &doc.cols[d]));
	}
	/* The generated meta.json says exactly that, and parses back. */
	rendered = tfs_meta_render("t", plan.rows, 2, after, nafter, &len);
	CHECK(rendered);
	CHECK(tfs_json_state(rendered, len) == TFS_JSON_COMPLETE);
	CHECK(tfs_doc_parse(rendered, len, &back, why, sizeof(why)) == 0);
	CHECK(back.has_rows && back.rows == plan.rows && back.ncols == nafter);
	for (size_t i = 0; i < nafter; i++)
		CHECK(same_def(&back.cols[i], after[i]));
	free(rendered);
	tfs_doc_free(&back);
	tfs_plan_free(&plan);
	tfs_doc_free(&doc);
	return 0;
}
