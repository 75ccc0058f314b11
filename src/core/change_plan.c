#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "change_plan.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

/* rows * itemsize, or false when it does not fit in 63 bits. */
static bool column_bytes(uint64_t rows, uint64_t itemsize, uint64_t *out)
{
	if (itemsize && rows > (UINT64_C(1) << 62) / itemsize)
		return false;
	*out = rows * itemsize;
	return true;
}

/* a + b, or UINT64_MAX when that does not fit: a sum of charges that
 * overflows is over any limit. */
static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void describe(const struct tfs_coldef *c, char *buf, size_t len)
{
	char t[TFS_TYPE_STR_MAX];
	int n;

	tfs_type_name(&c->type, t, sizeof(t));
	n = snprintf(buf, len, "%s", t);
	for (unsigned i = 0; i < c->ndim && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s%llu", i ? "," : "[",
			      (unsigned long long)c->shape[i]);
	if (c->ndim && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "]");
}

int tfs_plan_make(const struct tfs_coldef *const *cur, const bool *held, size_t ncur,
		  uint64_t cur_rows, const struct tfs_doc *doc, uint64_t used, uint64_t limit,
		  struct tfs_plan *plan, char *why, size_t whylen)
{
	uint64_t rows = doc->has_rows ? doc->rows : cur_rows;
	size_t nnew = 0, k;
	char a[64], b[64];

	memset(plan, 0, sizeof(*plan));
	plan->rows = rows;
	plan->changes = rows != cur_rows;
	plan->items = calloc(ncur + doc->ncols + 1, sizeof(*plan->items));
	if (!plan->items) {
		WHY("out of memory");
		return -ENOMEM;
	}
	/* Existing columns: kept, or resized when the row count changes. */
	for (size_t i = 0; i < ncur; i++) {
		struct tfs_plan_item *it = &plan->items[i];
		it->cur = i;
		it->old_bytes = cur_rows * cur[i]->itemsize;
		if (!column_bytes(rows, cur[i]->itemsize, &it->new_bytes))
			goto too_big;
		it->action = rows == cur_rows ? TFS_KEEP : TFS_RESIZE;
		if (it->action == TFS_RESIZE) {
			/* A replaced extent someone still holds stays in
			 * memory: it frees nothing. */
			if (!held || !held[i])
				plan->release =
					add_sat(plan->release, tfs_mem_charge(it->old_bytes));
			plan->add = add_sat(plan->add, tfs_mem_charge(it->new_bytes));
		}
	}
	/* Document columns: must match an existing one exactly, or are new. */
	for (size_t d = 0; d < doc->ncols; d++) {
		const struct tfs_coldef *c = &doc->cols[d];
		for (k = 0; k < ncur; k++)
			if (strcmp(cur[k]->name, c->name) == 0)
				break;
		if (k < ncur) {
			if (!tfs_coldef_same_layout(cur[k], c)) {
				describe(cur[k], a, sizeof(a));
				describe(c, b, sizeof(b));
				WHY("column '%s' is %s and cannot become %s (delete it and create it "
				    "anew)",
				    c->name, a, b);
				goto fail;
			}
			continue;
		}
		struct tfs_plan_item *it = &plan->items[ncur + nnew++];
		it->action = TFS_CREATE;
		it->doc = d;
		if (!column_bytes(rows, c->itemsize, &it->new_bytes))
			goto too_big;
		plan->add = add_sat(plan->add, tfs_mem_charge(it->new_bytes));
		plan->changes = 1;
	}
	plan->nitems = ncur + nnew;
	if (!tfs_mem_fits(used, limit, plan->release, plan->add)) {
		tfs_size_format(plan->add - (plan->add < plan->release ? plan->add : plan->release),
				a, sizeof(a));
		tfs_size_format(limit - (used < limit ? used : limit), b, sizeof(b));
		WHY("needs %s more memory, %s left under the limit", a, b);
		tfs_plan_free(plan);
		return -ENOSPC;
	}
	return 0;

too_big:
	WHY("%llu rows do not fit in memory", (unsigned long long)rows);
	tfs_plan_free(plan);
	return -ENOSPC;
fail:
	tfs_plan_free(plan);
	return -EINVAL;
}

void tfs_plan_free(struct tfs_plan *plan)
{
	free(plan->items);
	plan->items = NULL;
	plan->nitems = 0;
}
