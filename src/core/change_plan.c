#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "change_plan.h"

#define WHY(...) snprintf(why, whylen, __VA_ARGS__)

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
	n = snprintf(buf, len, "%s%s", c->nullable ? "nullable " : "", t);
	for (unsigned i = 0; i < c->ndim && n > 0 && (size_t)n < len; i++)
		n += snprintf(buf + n, len - (size_t)n, "%s%llu", i ? "," : "[",
			      (unsigned long long)c->shape[i]);
	if (c->ndim && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "]");
}

/* What the document says of existing column k (d its entry): the sizes of
 * its data and dictionary files.  0 or -EINVAL. */
static int merge(struct tfs_coldef *k, const struct tfs_coldef *d, char *why, size_t whylen)
{
	char a[64], b[64];

	if (!tfs_coldef_same_layout(k, d)) {
		describe(k, a, sizeof(a));
		describe(d, b, sizeof(b));
		WHY("column '%s' is %s and cannot become %s (delete it and create it anew)",
		    d->name, a, b);
		return -EINVAL;
	}
	if (d->has_data_bytes)
		k->data_bytes = d->data_bytes;
	if (d->cats) {
		if (d->ncat < k->ncat) {
			WHY("column '%s': categories can be added, not taken away (it has %llu)",
			    d->name, (unsigned long long)k->ncat);
			return -EINVAL;
		}
		k->ncat = d->ncat;
		k->dict_bytes = d->dict_bytes;
		k->cats = d->cats;
	}
	return 0;
}

int tfs_plan_make(const struct tfs_coldef *const *cur, const bool *held, size_t ncur,
		  uint64_t cur_rows, const struct tfs_doc *doc, uint64_t used, uint64_t limit,
		  struct tfs_plan *plan, char *why, size_t whylen)
{
	uint64_t rows = doc->has_rows ? doc->rows : cur_rows;
	size_t n = ncur, k, max = ncur + doc->ncols;
	char a[64], b[64];
	int rc = -ENOMEM;

	memset(plan, 0, sizeof(*plan));
	plan->rows = rows;
	plan->changes = rows != cur_rows;
	plan->after = calloc(max + 1, sizeof(*plan->after));
	plan->doc = calloc(max + 1, sizeof(*plan->doc));
	plan->items = calloc(max * TFS_NROLES + 1, sizeof(*plan->items));
	if (!plan->after || !plan->doc || !plan->items) {
		WHY("out of memory");
		goto fail;
	}
	for (k = 0; k < ncur; k++) {
		plan->after[k] = *cur[k];
		plan->after[k].cats = NULL;
		plan->doc[k] = SIZE_MAX;
	}
	/* Document columns: match an existing one, or are new. */
	rc = -EINVAL;
	for (size_t d = 0; d < doc->ncols; d++) {
		const struct tfs_coldef *c = &doc->cols[d];
		for (k = 0; k < ncur; k++)
			if (strcmp(cur[k]->name, c->name) == 0)
				break;
		if (k < ncur) {
			if (merge(&plan->after[k], c, why, whylen) < 0)
				goto fail;
		} else {
			k = n++;
			plan->after[k] = *c;
		}
		plan->doc[k] = d;
	}
	plan->ncols = n;
	/* Every file of every column: kept, resized or made. */
	for (k = 0; k < n; k++) {
		for (int r = 0; r < TFS_NROLES; r++) {
			struct tfs_plan_item *it = &plan->items[plan->nitems];
			if (!tfs_coldef_has(&plan->after[k], (enum tfs_role)r))
				continue;
			plan->nitems++;
			it->col = k;
			it->role = (enum tfs_role)r;
			if (!tfs_coldef_file_bytes(&plan->after[k], it->role, rows, &it->new_bytes))
				goto too_big;
			if (k >= ncur) {
				it->action = TFS_CREATE;
				plan->add = add_sat(plan->add, tfs_mem_charge(it->new_bytes));
				plan->changes = 1;
				continue;
			}
			tfs_coldef_file_bytes(cur[k], it->role, cur_rows, &it->old_bytes);
			it->action = it->new_bytes == it->old_bytes ? TFS_KEEP : TFS_RESIZE;
			if (it->action == TFS_KEEP)
				continue;
			plan->changes = 1;
			/* A replaced extent someone still holds stays in
			 * memory: it frees nothing. */
			if (!held || !held[k * TFS_NROLES + (size_t)r])
				plan->release = add_sat(plan->release, tfs_mem_charge(it->old_bytes));
			plan->add = add_sat(plan->add, tfs_mem_charge(it->new_bytes));
		}
	}
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
	return rc;
}

void tfs_plan_free(struct tfs_plan *plan)
{
	free(plan->items);
	free(plan->after);
	free(plan->doc);
	plan->items = NULL;
	plan->after = NULL;
	plan->doc = NULL;
	plan->nitems = plan->ncols = 0;
}
