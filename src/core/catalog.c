/* The catalog: nodes and their numbers, tables, columns and their
 * generations, lifetimes (lookup counts, pins, freeing), attributes, lookup
 * and setattr.  The ground floor of the core; see catalog_impl.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog_impl.h"
#include "log.h"
#include "mem.h"
#include "names.h"

struct timespec tfs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

int tfs_table_cmp(const void *a, const void *b)
{
	return strcmp(((const struct table *)a)->name, ((const struct table *)b)->name);
}

struct table *tfs_table_find(struct tfs_fs *fs, const char *name)
{
	struct table key;
	void *p;

	if (strlen(name) > TFS_NAME_MAX)
		return NULL;
	strcpy(key.name, name);
	p = tfind(&key, &fs->tables, tfs_table_cmp);
	return p ? *(struct table **)p : NULL;
}

ssize_t tfs_column_find(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i]->def.name, name) == 0)
			return (ssize_t)i;
	return -1;
}

int tfs_table_new(struct tfs_fs *fs, const char *name, tfs_ino_t dir_ino, tfs_ino_t meta_ino,
		  mode_t mode, uid_t uid, gid_t gid, struct table **out)
{
	struct table *t;
	int rc;

	if (tfs_table_find(fs, name) || strcmp(name, TFS_STATUS_NAME) == 0)
		return -EEXIST;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	strcpy(t->name, name);
	rc = tfs_node_init(fs, &t->dir, dir_ino, TFS_N_TABLE, S_IFDIR | (mode & 07777), uid, gid);
	if (rc < 0)
		goto out_free;
	rc = tfs_node_init(fs, &t->meta, meta_ino, TFS_N_META, S_IFREG, uid, gid);
	if (rc < 0)
		goto out_unmap_dir;
	t->dir.table = t->meta.table = t;
	t->version = 1;
	if (!tsearch(t, &fs->tables, tfs_table_cmp)) {
		rc = -ENOMEM;
		goto out_unmap_meta;
	}
	t->tnext = fs->all_tables;
	if (t->tnext)
		t->tnext->tprev = t;
	fs->all_tables = t;
	fs->ntables++;
	*out = t;
	return 0;

out_unmap_meta:
	tfs_node_unmap(fs, &t->meta);
out_unmap_dir:
	tfs_node_unmap(fs, &t->dir);
out_free:
	free(t);
	return rc;
}

void tfs_table_gone_add(struct table *t, const struct tfs_coldef *def)
{
	struct tfs_coldef *v;

	tfs_table_gone_del(t, def->name);
	v = realloc(t->gone, (t->ngone + 1) * sizeof(*v));
	if (!v)
		return; /* then it cannot be made again by name: no harm */
	t->gone = v;
	t->gone[t->ngone++] = *def;
}

void tfs_table_gone_del(struct table *t, const char *name)
{
	size_t j = 0;

	for (size_t i = 0; i < t->ngone; i++)
		if (name && strcmp(t->gone[i].name, name) != 0)
			t->gone[j++] = t->gone[i];
	t->ngone = j;
	if (!j) {
		free(t->gone);
		t->gone = NULL;
	}
}

static int node_cmp(const void *a, const void *b)
{
	tfs_ino_t x = ((const struct tfs_node *)a)->ino, y = ((const struct tfs_node *)b)->ino;

	return x < y ? -1 : x > y;
}

struct tfs_node *tfs_node_find(struct tfs_fs *fs, tfs_ino_t ino)
{
	struct tfs_node key = {.ino = ino};
	void *p = tfind(&key, &fs->nodes, node_cmp);

	return p ? *(struct tfs_node **)p : NULL;
}

int tfs_node_init(struct tfs_fs *fs, struct tfs_node *node, tfs_ino_t ino, enum tfs_node_kind kind,
		  mode_t mode, uid_t uid, gid_t gid)
{
	node->kind = kind;
	node->ino = ino ? ino : fs->next_ino++;
	if (node->ino >= fs->next_ino)
		fs->next_ino = node->ino + 1;
	node->nlookup = 0;
	node->nopen = 0;
	node->mode = mode;
	node->uid = uid;
	node->gid = gid;
	node->atime = node->mtime = node->ctime = tfs_now();
	node->col = NULL;
	node->store.fd = -1;
	node->store.map = NULL;
	node->store.size = 0;
	node->charge = 0;
	node->backing_id = 0;
	return tsearch(node, &fs->nodes, node_cmp) ? 0 : -ENOMEM;
}

void tfs_node_unmap(struct tfs_fs *fs, struct tfs_node *node)
{
	tdelete(node, &fs->nodes, node_cmp);
}

static void no_free(void *p)
{
	(void)p;
}

int tfs_catalog_new(const struct tfs_config *cfg, const struct tfs_layers *up,
		    struct tfs_fs **out)
{
	struct tfs_fs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	fs->cfg = *cfg;
	fs->up = up;
	fs->next_ino = TFS_STATUS_INO + 1;
	fs->epoch = cfg->epoch;
	if (tfs_node_init(fs, &fs->root, TFS_ROOT_INO, TFS_N_ROOT, S_IFDIR | 01777, cfg->root_uid,
			  cfg->root_gid) < 0 ||
	    tfs_node_init(fs, &fs->status, TFS_STATUS_INO, TFS_N_STATUS, S_IFREG | 0444,
			  cfg->root_uid, cfg->root_gid) < 0) {
		tdestroy(fs->nodes, no_free);
		free(fs);
		return -ENOMEM;
	}
	*out = fs;
	return 0;
}

/* Frees a table's own memory (its extents are freed on their own). */
static void free_table(struct tfs_fs *fs, struct table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	tfs_node_unmap(fs, &t->dir);
	tfs_node_unmap(fs, &t->meta);
	if (t->tprev)
		t->tprev->tnext = t->tnext;
	else
		fs->all_tables = t->tnext;
	if (t->tnext)
		t->tnext->tprev = t->tprev;
	free(t->cols);
	free(t->gone);
	free(t);
}

void tfs_node_list_add(struct tfs_node **head, struct tfs_node *node)
{
	node->vprev = NULL;
	node->vnext = *head;
	if (node->vnext)
		node->vnext->vprev = node;
	*head = node;
}

void tfs_node_list_del(struct tfs_node **head, struct tfs_node *node)
{
	if (node->vprev)
		node->vprev->vnext = node->vnext;
	else
		*head = node->vnext;
	if (node->vnext)
		node->vnext->vprev = node->vprev;
}

static void free_extent(struct tfs_fs *fs, struct tfs_node *v)
{
	if (v->backing_id > 0 && fs->cfg.hooks.extent_gone)
		fs->cfg.hooks.extent_gone(fs->cfg.hooks.ctx, v->backing_id);
	tfs_store_destroy(&v->store);
	fs->mem_used -= v->charge;
	fs->nextents--;
	fs->up->drop(fs, TFS_REC_EXTENT, v->ino);
	tfs_node_unmap(fs, v);
	tfs_node_list_del(&fs->extents, v);
	free(v);
}

void tfs_catalog_free(struct tfs_fs *fs)
{
	/* At unmount the kernel forgets nothing: free whatever is left. */
	tdestroy(fs->tables, no_free);
	fs->up->teardown(fs);
	while (fs->extents)
		free_extent(fs, fs->extents);
	while (fs->all_tables)
		free_table(fs, fs->all_tables);
	tdestroy(fs->nodes, no_free);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

void tfs_node_maybe_free(struct tfs_fs *fs, struct tfs_node *node)
{
	struct table *t;

	if (node->nopen)
		return;
	if (node->nlookup) {
		/* A retired view only the kernel still knows (its name is
		 * looked up anew each time, so the kernel may keep the old
		 * entry long): the extents it showed go now, not at the
		 * forget.  A replaced column extent waits for its forget,
		 * which its invalidated entry brings soon; until then a
		 * racing open may still get it. */
		if ((node->kind == TFS_N_NPY || node->kind == TFS_N_ARROW) && !node->linked)
			fs->up->view_hollow(fs, node);
		return;
	}
	switch (node->kind) {
	case TFS_N_COLUMN:
		if (!node->col)
			free_extent(fs, node);
		return;
	case TFS_N_TABLE:
	case TFS_N_META:
		t = node->table;
		if (!t->removed || t->dir.nlookup || t->dir.nopen || t->meta.nlookup || t->meta.nopen)
			return;
		free_table(fs, t);
		return;
	case TFS_N_NPY:
	case TFS_N_ARROW:
		if (!node->linked)
			fs->up->view_free(fs, node);
		return;
	case TFS_N_ROOT:
	case TFS_N_STATUS:
		return;
	}
}

bool tfs_role_readonly(enum tfs_role r)
{
	return r == TFS_ROLE_DICT || r == TFS_ROLE_DICT_DATA;
}

int tfs_extent_new(struct tfs_fs *fs, struct table *t, const char *colname, enum tfs_role r,
		    uint64_t size, struct tfs_node **out)
{
	char label[2 * TFS_NAME_MAX + 16];
	struct tfs_node *v = calloc(1, sizeof(*v));
	int rc;

	if (!v)
		return -ENOMEM;
	rc = tfs_node_init(fs, v, 0, TFS_N_COLUMN, S_IFREG | 0644, 0, 0);
	if (rc < 0) {
		free(v);
		return rc;
	}
	snprintf(label, sizeof(label), "tablefs:%s/%s%s", t->name, colname, tfs_role_suffix(r));
	v->role = r;
	rc = tfs_store_create(&v->store, size, label);
	if (rc < 0) {
		tfs_node_unmap(fs, v);
		free(v);
		return rc;
	}
	v->charge = tfs_mem_charge(size);
	v->owner = t;
	tfs_extent_enter(fs, v);
	fs->up->save_extent(fs, v);
	*out = v;
	return 0;
}

void tfs_extent_enter(struct tfs_fs *fs, struct tfs_node *v)
{
	fs->mem_used += v->charge;
	fs->nextents++;
	tfs_node_list_add(&fs->extents, v);
}

bool tfs_extent_held(const struct tfs_node *v)
{
	const struct tfs_node *arrow = v->owner ? v->owner->arrow : NULL;
	uint64_t n = v->nopen;

	/* The current views are retired with the extent; without open
	 * handles they let go of it then. */
	if (v->npy && !v->npy->nopen && n)
		n--;
	for (size_t i = 0; arrow && !arrow->nopen && i < arrow->npins && n; i++)
		if (arrow->pins[i] == v)
			n--;
	return n > 0;
}

void tfs_extent_retire(struct tfs_fs *fs, struct tfs_node *v)
{
	fs->up->view_retire(fs, v->npy);
	v->col = NULL;
	tfs_node_maybe_free(fs, v);
}

int tfs_notes_add(struct tfs_notes *notes, struct tfs_node *node, struct tfs_node *dir,
		  const char *name)
{
	if (notes->n == notes->cap) {
		size_t cap = notes->cap ? notes->cap * 2 : 8;
		struct tfs_note *v = realloc(notes->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		notes->v = v;
		notes->cap = cap;
	}
	struct tfs_note *e = &notes->v[notes->n++];
	e->node = node;
	e->dir = dir;
	e->later = false;
	e->deleted = 0;
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	if (node)
		node->nopen++;
	if (dir)
		dir->nopen++;
	return 0;
}

int tfs_notes_add_later(struct tfs_notes *notes, struct tfs_node *dir, const char *name)
{
	int rc = tfs_notes_add(notes, NULL, dir, name);

	if (rc == 0)
		notes->v[notes->n - 1].later = true;
	return rc;
}

int tfs_notes_add_deleted(struct tfs_notes *notes, struct tfs_node *dir, const char *name,
			  tfs_ino_t child)
{
	int rc = tfs_notes_add_later(notes, dir, name);

	if (rc == 0)
		notes->v[notes->n - 1].deleted = child;
	return rc;
}

void tfs_notes_flush(struct tfs_fs *fs, struct tfs_notes *notes, bool send)
{
	const struct tfs_hooks *h = &fs->cfg.hooks;

	for (size_t i = 0; send && i < notes->n; i++) {
		struct tfs_note *e = &notes->v[i];
		if (e->dir && e->deleted && h->delete_later)
			h->delete_later(h->ctx, e->dir->ino, e->deleted, e->name);
		else if (e->dir && e->later && !e->deleted && h->inval_entry_later)
			h->inval_entry_later(h->ctx, e->dir->ino, e->name);
		else if (e->dir && !e->later && h->inval_entry)
			h->inval_entry(h->ctx, e->dir->ino, e->name);
		else if (!e->dir && h->inval_inode)
			h->inval_inode(h->ctx, e->node->ino);
	}
	pthread_mutex_lock(&fs->lock);
	for (size_t i = 0; i < notes->n; i++) {
		struct tfs_note *e = &notes->v[i];
		if (e->node) {
			e->node->nopen--;
			tfs_node_maybe_free(fs, e->node);
		}
		if (e->dir) {
			e->dir->nopen--;
			tfs_node_maybe_free(fs, e->dir);
		}
	}
	pthread_mutex_unlock(&fs->lock);
	free(notes->v);
	notes->v = NULL;
	notes->n = notes->cap = 0;
}

void tfs_table_changed(struct tfs_fs *fs, struct table *t, struct tfs_notes *notes)
{
	struct tfs_node *arrow = t->arrow;

	t->arrow = NULL;
	fs->up->view_retire(fs, arrow);
	t->version++;
	tfs_notes_add(notes, &t->meta, NULL, NULL);
}

void tfs_table_error(struct table *t, int err, const char *why)
{
	tfs_table_refused(t, "change", err, why);
}

void tfs_table_refused(struct table *t, const char *what, int err, const char *why)
{
	size_t j = 0;

	/* The reason may quote what was written: keep it printable ASCII,
	 * so that .status stays valid JSON and logs stay readable. */
	for (const unsigned char *p = (const unsigned char *)why;
	     *p && j + 4 < sizeof(t->last_error); p++) {
		if (*p >= 0x20 && *p < 0x7f)
			t->last_error[j++] = (char)*p;
		else
			j += (size_t)snprintf(t->last_error + j, sizeof(t->last_error) - j, "\\x%02x",
					      *p);
	}
	t->last_error[j] = '\0';
	why = t->last_error;
	tfs_log(TFS_LOG_NOTICE, "table '%s': %s refused (%s): %s", t->name, what, strerror(-err),
		why);
}

void tfs_fill_attr(struct tfs_fs *fs, const struct tfs_node *node, struct tfs_attr *a)
{
	struct table *t = node->table;

	memset(a, 0, sizeof(*a));
	a->ino = node->ino;
	a->kind = node->kind;
	a->mode = node->mode;
	a->uid = node->uid;
	a->gid = node->gid;
	a->atime = node->atime;
	a->mtime = node->mtime;
	a->ctime = node->ctime;
	a->nlink = 1;
	switch (node->kind) {
	case TFS_N_ROOT:
		a->nlink = 2 + fs->ntables;
		a->size = fs->ntables;
		break;
	case TFS_N_TABLE:
		a->nlink = t->removed ? 0 : 2;
		a->size = t->ncols + 1;
		break;
	case TFS_N_META:
		/* meta.json mirrors its table: who may change the table may
		 * change its schema. */
		a->mode = S_IFREG | (t->dir.mode & 0666);
		a->uid = t->dir.uid;
		a->gid = t->dir.gid;
		a->mtime = t->dir.mtime;
		a->ctime = t->dir.ctime;
		a->nlink = t->removed || t->meta_unlinked ? 0 : 1;
		a->size = fs->up->generated_size(fs, node);
		break;
	case TFS_N_COLUMN:
		a->size = node->store.size;
		a->nlink = node->col ? 1 : 0;
		break;
	case TFS_N_STATUS:
		a->size = fs->up->generated_size(fs, node);
		break;
	case TFS_N_NPY:
	case TFS_N_ARROW:
		a->size = fs->up->view_size(node);
		a->nlink = node->linked ? 1 : 0;
		break;
	}
}

int tfs_getattr(struct tfs_fs *fs, tfs_ino_t ino, struct tfs_attr *attr)
{
	struct tfs_node *node;
	int rc = -ESTALE;

	pthread_mutex_lock(&fs->lock);
	node = tfs_node_find(fs, ino);
	if (node) {
		tfs_fill_attr(fs, node, attr);
		rc = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* Finds name in dir; lock held.  No reference taken. */
static int lookup_locked(struct tfs_fs *fs, struct tfs_node *dir, const char *name,
			 struct tfs_node **out)
{
	char col[TFS_NAME_MAX + 1];
	enum tfs_role role;
	struct table *t;
	ssize_t i;

	switch (dir->kind) {
	case TFS_N_ROOT:
		if (strcmp(name, TFS_STATUS_NAME) == 0) {
			*out = &fs->status;
			return 0;
		}
		t = tfs_table_find(fs, name);
		if (!t)
			return -ENOENT;
		*out = &t->dir;
		return 0;
	case TFS_N_TABLE:
		t = dir->table;
		if (t->removed)
			return -ENOENT;
		if (strcmp(name, TFS_META_NAME) == 0) {
			if (t->meta_unlinked)
				return -ENOENT;
			*out = &t->meta;
			return 0;
		}
		if (tfs_role_parse(name, col, &role) == 0) {
			i = tfs_column_find(t, col);
			if (i >= 0 && t->cols[i]->file[role]) {
				*out = t->cols[i]->file[role];
				return 0;
			}
			return -ENOENT;
		}
		return fs->up->view_lookup(fs, t, name, out);
	default:
		return -ENOTDIR;
	}
}

int tfs_lookup(struct tfs_fs *fs, tfs_ino_t dir, const char *name, struct tfs_attr *attr)
{
	struct tfs_node *node, *d;
	int rc = -ESTALE;

	if (strlen(name) > TFS_NAME_MAX + 16)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&fs->lock);
	d = tfs_node_find(fs, dir);
	if (d)
		rc = lookup_locked(fs, d, name, &node);
	if (rc == 0) {
		/* A count nobody knows stays unknown: the kernel holds the
		 * node either way, and its forget comes once for all. */
		if (node->nlookup != TFS_NLOOKUP_UNKNOWN)
			node->nlookup++;
		tfs_fill_attr(fs, node, attr);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

void tfs_forget(struct tfs_fs *fs, tfs_ino_t ino, uint64_t n)
{
	struct tfs_node *node;

	pthread_mutex_lock(&fs->lock);
	node = tfs_node_find(fs, ino);
	if (node) {
		/* A node taken over from an earlier serving process has an
		 * unknown count: the kernel forgets an inode all at once. */
		if (node->nlookup == TFS_NLOOKUP_UNKNOWN || n >= node->nlookup)
			node->nlookup = 0;
		else
			node->nlookup -= n;
		tfs_node_maybe_free(fs, node);
	}
	pthread_mutex_unlock(&fs->lock);
}

int tfs_setattr(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, const struct tfs_setattr *sa,
		struct tfs_attr *attr)
{
	struct timespec now = tfs_now();
	struct tfs_notes notes = {0};
	struct tfs_node *node;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	node = tfs_node_find(fs, ino);
	if (!node) {
		rc = -ESTALE;
		goto out;
	}
	if (node->kind == TFS_N_STATUS || node->kind == TFS_N_NPY || node->kind == TFS_N_ARROW) {
		rc = -EPERM; /* generated */
		goto out;
	}
	if (node->kind == TFS_N_META) {
		/* It takes its table's owner and mode: setting those it has
		 * already (as tar and editors do after writing) is a no-op. */
		struct tfs_attr cur;
		tfs_fill_attr(fs, node, &cur);
		if ((sa->set_mode && (sa->mode & 07777) != (cur.mode & 07777)) ||
		    (sa->set_uid && sa->uid != cur.uid) || (sa->set_gid && sa->gid != cur.gid)) {
			rc = -EPERM;
			goto out;
		}
	}
	if (sa->set_size) {
		if (node->kind == TFS_N_COLUMN && sa->size != node->store.size) {
			tfs_log(TFS_LOG_INFO, "truncate of a column to %llu bytes refused: its "
					      "size is rows * itemsize (%llu)",
				(unsigned long long)sa->size,
				(unsigned long long)node->store.size);
			rc = -EPERM;
			goto out;
		}
		if (node->kind == TFS_N_TABLE || node->kind == TFS_N_ROOT) {
			rc = -EISDIR;
			goto out;
		}
		if (node->kind == TFS_N_META &&
		    (rc = fs->up->meta_truncate(fs, node, fh, sa->size)) < 0)
			goto out;
	}
	if (node->kind == TFS_N_META) {
		/* Its times are its table's (touch works); the reply is about
		 * meta.json itself, a file. */
		struct table *t = node->table;
		if (sa->set_atime)
			node->atime = sa->atime;
		if (sa->set_mtime)
			t->dir.mtime = sa->mtime;
		if (sa->set_atime || sa->set_mtime) {
			t->dir.ctime = now;
			fs->up->save_table(fs, t);
		}
		goto out;
	}
	if (sa->set_mode)
		node->mode = (node->mode & S_IFMT) | (sa->mode & 07777);
	if (sa->set_uid)
		node->uid = sa->uid;
	if (sa->set_gid)
		node->gid = sa->gid;
	if (sa->set_atime)
		node->atime = sa->atime;
	if (sa->set_mtime)
		node->mtime = sa->mtime;
	if (sa->set_mode || sa->set_uid || sa->set_gid || sa->set_atime || sa->set_mtime)
		node->ctime = now;
	/* meta.json mirrors its table's owner and mode; views take their
	 * read bits from what they show, so new ones are made. */
	if (sa->set_mode || sa->set_uid || sa->set_gid) {
		if (node->kind == TFS_N_TABLE) {
			tfs_notes_add(&notes, &node->table->meta, NULL, NULL);
			fs->up->view_retire(fs, node->table->arrow);
			node->table->arrow = NULL;
		} else if (node->kind == TFS_N_COLUMN && node->col) {
			fs->up->view_retire(fs, node->npy);
			fs->up->view_retire(fs, node->owner->arrow);
			node->owner->arrow = NULL;
		}
	}
	if (node->kind == TFS_N_TABLE)
		fs->up->save_table(fs, node->table);
	else if (node->kind == TFS_N_COLUMN)
		fs->up->save_extent(fs, node);
	else if (node->kind == TFS_N_ROOT)
		fs->up->save_root(fs);
out:
	if (rc == 0)
		tfs_fill_attr(fs, node, attr);
	pthread_mutex_unlock(&fs->lock);
	tfs_notes_flush(fs, &notes, true);
	return rc;
}

void tfs_statfs(struct tfs_fs *fs, struct tfs_statfs *st)
{
	pthread_mutex_lock(&fs->lock);
	st->limit = fs->cfg.mem_limit;
	st->used = fs->mem_used;
	st->tables = fs->ntables;
	st->columns = fs->ncolumns;
	st->max_extents = fs->cfg.max_extents;
	st->extents = fs->nextents;
	pthread_mutex_unlock(&fs->lock);
}
