/* Schema application: a document written to meta.json, parsed and planned
 * (schema.c, change_plan.c), carried out on the catalog: new column
 * generations made and filled, the table persisted, the replaced ones
 * retired.  The one home of a schema change. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apply.h"
#include "catalog_impl.h"
#include "change_plan.h"
#include "log.h"
#include "persist.h"

/* Pins the extents plan would replace, to write their dirty pages back
 * before the copy; lock held.  Returns how many. */
static size_t pin_replaced(struct table *t, const struct tfs_plan *plan, struct tfs_notes *notes)
{
	size_t n = 0;

	for (size_t i = 0; i < plan->nitems; i++) {
		const struct tfs_plan_item *it = &plan->items[i];
		if (it->action == TFS_RESIZE &&
		    tfs_notes_add(notes, t->cols[it->col]->file[it->role], NULL, NULL) == 0)
			n++;
	}
	return n;
}

/* Refuses a plan that needs more column extents, each an open memfd,
 * than the daemon may hold; lock held.  0 or -ENOSPC with the reason. */
static int check_extents(struct tfs_fs *fs, const struct tfs_plan *plan, char *why,
			  size_t whylen)
{
	uint64_t max = fs->cfg.max_extents, need = 0;

	for (size_t i = 0; i < plan->nitems; i++)
		if (plan->items[i].action != TFS_KEEP)
			need++;
	if (!max || (fs->nextents <= max && need <= max - fs->nextents))
		return 0;
	snprintf(why, whylen,
		 "needs %llu more column files, %llu left: the daemon holds one open file per "
		 "column file (and per replaced version still open), at most %llu (its open file "
		 "limit, RLIMIT_NOFILE, less a reserve)",
		 (unsigned long long)need,
		 (unsigned long long)(fs->nextents < max ? max - fs->nextents : 0),
		 (unsigned long long)max);
	return -ENOSPC;
}

/* Categories given for an existing category column must begin with the
 * ones it has: codes never change meaning.  Lock held; 0 or -EINVAL. */
static int check_categories(const struct table *t, const struct tfs_doc *doc, char *why,
			    size_t whylen)
{
	for (size_t d = 0; d < doc->ncols; d++) {
		const struct tfs_coldef *c = &doc->cols[d];
		ssize_t k = c->cats ? tfs_column_find(t, c->name) : -1;
		const struct column *col;
		if (k < 0)
			continue;
		col = t->cols[k];
		if (col->def.type.kind != TFS_CATEGORY)
			continue; /* the plan refuses the type change */
		if (c->ncat < col->def.ncat ||
		    (col->def.ncat &&
		     (memcmp(c->cats->offsets, col->file[TFS_ROLE_DICT]->store.map,
			     (col->def.ncat + 1) * sizeof(int64_t)) != 0 ||
		      (col->def.dict_bytes &&
		       memcmp(c->cats->bytes, col->file[TFS_ROLE_DICT_DATA]->store.map,
			      col->def.dict_bytes) != 0)))) {
			snprintf(why, whylen,
				 "column '%s': the categories must begin with the %llu it has, in "
				 "order (codes never change meaning; new ones go at the end)",
				 c->name, (unsigned long long)col->def.ncat);
			return -EINVAL;
		}
	}
	return 0;
}

/* Fills what a new extent of def's file of role r holds beyond its first
 * from bytes (copied from the replaced one, or none): new rows are missing
 * where the column can say so (mask 1, code -1), empty text, zeros. */
static void fill_new(struct tfs_node *v, const struct tfs_coldef *def, enum tfs_role r,
		     uint64_t from)
{
	unsigned char *p = v->store.map;
	uint64_t size = v->store.size;

	if (from >= size && r != TFS_ROLE_DICT && r != TFS_ROLE_DICT_DATA)
		return;
	switch (r) {
	case TFS_ROLE_MAIN:
		if (def->type.kind == TFS_CATEGORY) {
			memset(p + from, 0xff, size - from); /* int32 -1 */
		} else if (tfs_type_is_varlen(&def->type) && from >= sizeof(int64_t)) {
			/* the new offsets repeat the last: empty values */
			int64_t last;
			memcpy(&last, p + from - sizeof(last), sizeof(last));
			for (uint64_t o = from; o + sizeof(last) <= size; o += sizeof(last))
				memcpy(p + o, &last, sizeof(last));
		}
		break;
	case TFS_ROLE_NULL:
		memset(p + from, 1, size - from);
		break;
	case TFS_ROLE_DICT:
		if (def->cats)
			memcpy(p, def->cats->offsets, size);
		break;
	case TFS_ROLE_DICT_DATA:
		if (def->cats && size)
			memcpy(p, def->cats->bytes, size);
		break;
	default:
		break; /* memory comes zeroed */
	}
}

/* Carries out a plan; lock held.  All memory is allocated before anything
 * changes, so a failure leaves the table as it was. */
static int execute(struct tfs_fs *fs, struct table *t, const struct tfs_plan *plan,
		   const struct tfs_cred *cred, struct tfs_notes *notes)
{
	struct tfs_node **fresh = calloc(plan->nitems + 1, sizeof(*fresh));
	size_t ncur = t->ncols, nnew = plan->ncols - ncur;
	struct column **made = calloc(nnew + 1, sizeof(*made));
	struct timespec now = tfs_now();
	char file[TFS_FILE_NAME_MAX];
	int rc = -ENOMEM;

	if (!fresh || !made)
		goto out_free;
	for (size_t i = 0; i < plan->nitems; i++) {
		const struct tfs_plan_item *it = &plan->items[i];
		if (it->action == TFS_KEEP)
			continue;
		rc = tfs_extent_new(fs, t, plan->after[it->col].name, it->role, it->new_bytes,
				    &fresh[i]);
		if (rc < 0)
			goto out_undo;
	}
	for (size_t k = 0; k < nnew; k++) {
		made[k] = calloc(1, sizeof(**made));
		if (!made[k]) {
			rc = -ENOMEM;
			goto out_undo;
		}
	}
	if (t->ncols + nnew > t->cap) {
		size_t cap = t->cap ? t->cap : 8;
		while (cap < t->ncols + nnew)
			cap *= 2;
		struct column **cols = realloc(t->cols, cap * sizeof(*cols));
		if (!cols) {
			rc = -ENOMEM;
			goto out_undo;
		}
		t->cols = cols;
		t->cap = cap;
	}
	/* Nothing can fail from here on.  Replaced extents are retired only
	 * once the table pointing to the new ones is persisted. */
	for (size_t i = 0; i < plan->nitems; i++) {
		const struct tfs_plan_item *it = &plan->items[i];
		const struct tfs_coldef *def = &plan->after[it->col];
		struct tfs_node *v = fresh[i];
		struct column *c;
		if (it->action == TFS_KEEP)
			continue;
		c = it->col < ncur ? t->cols[it->col] : made[it->col - ncur];
		if (it->action == TFS_RESIZE) {
			struct tfs_node *old = c->file[it->role];
			tfs_store_copy(&v->store, &old->store);
			fill_new(v, def, it->role, it->old_bytes);
			v->mode = old->mode;
			v->uid = old->uid;
			v->gid = old->gid;
			fresh[i] = old;
		} else {
			fill_new(v, def, it->role, 0);
			v->mode = S_IFREG | (t->dir.mode & 0666);
			if (tfs_role_readonly(it->role))
				v->mode &= ~(mode_t)0222;
			v->uid = cred->uid;
			v->gid = cred->gid;
		}
		v->col = c;
		c->file[it->role] = v;
		if (it->action == TFS_RESIZE) {
			/* A name made new needs no dropping; and a create in
			 * the table (tar's) holds the kernel's directory lock,
			 * which dropping a name waits for. */
			tfs_role_file(def->name, it->role, file);
			tfs_notes_add(notes, NULL, &t->dir, file);
		}
	}
	for (size_t k = 0; k < plan->ncols; k++) {
		struct column *c = k < ncur ? t->cols[k] : made[k - ncur];
		c->def = plan->after[k];
		c->def.cats = NULL;
		c->def.has_data_bytes = false;
		if (k >= ncur) {
			t->cols[t->ncols++] = c;
			fs->ncolumns++;
			tfs_table_gone_del(t, c->def.name);
		}
	}
	if (plan->rows != t->rows)
		tfs_table_gone_del(t, NULL);
	t->meta_unlinked = false;
	t->rows = plan->rows;
	tfs_table_changed(fs, t, notes);
	t->dir.mtime = t->dir.ctime = now;
	t->last_error[0] = '\0';
	tfs_notes_add(notes, &t->dir, NULL, NULL);
	for (size_t i = 0; i < plan->nitems; i++) {
		const struct tfs_plan_item *it = &plan->items[i];
		if (it->action != TFS_KEEP)
			tfs_persist_extent(fs, t->cols[it->col]->file[it->role]);
	}
	tfs_persist_table(fs, t);
	for (size_t i = 0; i < plan->nitems; i++)
		if (plan->items[i].action == TFS_RESIZE)
			tfs_extent_retire(fs, fresh[i]);
	rc = 0;
	goto out_free;

out_undo:
	for (size_t k = 0; k < nnew; k++)
		free(made[k]);
	for (size_t i = 0; i < plan->nitems; i++)
		if (fresh[i])
			tfs_node_maybe_free(fs, fresh[i]);
out_free:
	free(made);
	free(fresh);
	return rc;
}

/* Applies doc, parsed with result rc (the reason in why); frees it. */
static int apply_doc(struct tfs_fs *fs, tfs_ino_t dir, struct tfs_doc *docp, int rc, char *why,
		     size_t whylen, const struct tfs_cred *cred)
{
	struct tfs_node *node;
	struct table *t;
	const struct tfs_coldef **cur = NULL;
	bool *held = NULL;
	struct tfs_notes notes = {0};
	struct tfs_plan plan = {0};
	struct tfs_doc doc = *docp;
	uint64_t laundered = 0;
	int attempt;

	pthread_mutex_lock(&fs->lock);
	node = tfs_node_find(fs, dir);
	if (!node || node->kind != TFS_N_TABLE) {
		rc = node ? -ENOTDIR : -ESTALE;
		goto out_unlock;
	}
	t = node->table;
	if (rc < 0)
		goto out_error;
	for (attempt = 0;; attempt++) {
		if (t->removed) {
			rc = -ENOENT;
			goto out_unlock;
		}
		free(cur);
		free(held);
		cur = malloc((t->ncols + 1) * sizeof(*cur));
		held = malloc((t->ncols + 1) * TFS_NROLES * sizeof(*held));
		if (!cur || !held) {
			rc = -ENOMEM;
			snprintf(why, whylen, "out of memory");
			goto out_error;
		}
		for (size_t i = 0; i < t->ncols; i++) {
			cur[i] = &t->cols[i]->def;
			for (int r = 0; r < TFS_NROLES; r++)
				held[i * TFS_NROLES + (size_t)r] =
					t->cols[i]->file[r] && tfs_extent_held(t->cols[i]->file[r]);
		}
		rc = check_categories(t, &doc, why, whylen);
		if (rc < 0)
			goto out_error;
		rc = tfs_plan_make(cur, held, t->ncols, t->rows, &doc, fs->mem_used,
				   fs->cfg.mem_limit, &plan, why, whylen);
		if (rc < 0)
			goto out_error;
		if (!plan.changes)
			goto out_unlock;
		rc = check_extents(fs, &plan, why, whylen);
		if (rc < 0)
			goto out_error;
		/* Pages written through page-cache mappings may not have
		 * reached the daemon yet: have the kernel write them back
		 * (without our lock, it needs other requests served) before
		 * the copy.  Retried if the table changed meanwhile. */
		if (attempt < 3 && laundered != t->version + 1 &&
		    pin_replaced(t, &plan, &notes)) {
			laundered = t->version + 1;
			tfs_plan_free(&plan);
			pthread_mutex_unlock(&fs->lock);
			tfs_notes_flush(fs, &notes, true);
			pthread_mutex_lock(&fs->lock);
			continue;
		}
		break;
	}
	rc = execute(fs, t, &plan, cred, &notes);
	if (rc < 0) {
		snprintf(why, whylen, "cannot allocate shared memory: %s", strerror(-rc));
		goto out_error;
	}
	goto out_unlock;

out_error:
	tfs_table_error(t, rc, why);
out_unlock:
	pthread_mutex_unlock(&fs->lock);
	tfs_notes_flush(fs, &notes, rc == 0);
	tfs_plan_free(&plan);
	tfs_doc_free(&doc);
	free(cur);
	free(held);
	return rc;
}

int tfs_apply(struct tfs_fs *fs, tfs_ino_t dir, const char *text, size_t len,
	      const struct tfs_cred *cred)
{
	char why[TFS_WHY_MAX];
	struct tfs_doc doc;
	int rc = tfs_doc_parse(text, len, &doc, why, sizeof(why));

	return apply_doc(fs, dir, &doc, rc, why, sizeof(why), cred);
}

int tfs_apply_recreate(struct tfs_fs *fs, tfs_ino_t dir, const char *name,
			   const struct tfs_cred *cred)
{
	char why[TFS_WHY_MAX];
	struct tfs_doc doc = {.ncols = 1};
	struct tfs_node *d;
	struct table *t;

	doc.cols = calloc(1, sizeof(*doc.cols));
	if (!doc.cols)
		return -ENOMEM;
	pthread_mutex_lock(&fs->lock);
	d = tfs_node_find(fs, dir);
	t = d && d->kind == TFS_N_TABLE ? d->table : NULL;
	/* Only columns that are one file: the others' companion files
	 * (and a category's dictionary) are gone with them. */
	for (size_t i = 0; t && i < t->ngone; i++)
		if (strcmp(t->gone[i].name, name) == 0 && tfs_coldef_plain(&t->gone[i])) {
			doc.cols[0] = t->gone[i];
			break;
		}
	pthread_mutex_unlock(&fs->lock);
	if (!doc.cols[0].name[0]) {
		free(doc.cols);
		return -EPERM;
	}
	/* Without rows: the row count stays whatever it is by now. */
	return apply_doc(fs, dir, &doc, 0, why, sizeof(why), cred);
}
