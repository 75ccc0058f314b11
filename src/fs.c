#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs_impl.h"
#include "log.h"
#include "mem.h"
#include "names.h"

struct timespec tfs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static int table_cmp(const void *a, const void *b)
{
	return strcmp(((const struct table *)a)->name, ((const struct table *)b)->name);
}

/* The table named name, or NULL; lock held. */
static struct table *table_find(struct tfs_fs *fs, const char *name)
{
	struct table key;
	void *p;

	if (strlen(name) > TFS_NAME_MAX)
		return NULL;
	strcpy(key.name, name);
	p = tfind(&key, &fs->tables, table_cmp);
	return p ? *(struct table **)p : NULL;
}

/* Index of column name in t, or -1; lock held. */
static ssize_t column_find(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i]->def.name, name) == 0)
			return (ssize_t)i;
	return -1;
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

int tfs_fs_new(const struct tfs_config *cfg, struct tfs_fs **out)
{
	struct tfs_fs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -ENOMEM;
	pthread_mutex_init(&fs->lock, NULL);
	fs->cfg = *cfg;
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

/* Frees a table's own memory (its versions are freed on their own). */
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

static void free_version(struct tfs_fs *fs, struct tfs_node *v)
{
	if (v->backing_id > 0 && fs->cfg.hooks.version_gone)
		fs->cfg.hooks.version_gone(fs->cfg.hooks.ctx, v->backing_id);
	tfs_store_destroy(&v->store);
	fs->mem_used -= v->charge;
	tfs_node_unmap(fs, v);
	tfs_persist_drop(fs, TFS_REC_VERSION, v->ino);
	tfs_node_list_del(&fs->versions, v);
	free(v);
}

void tfs_fs_free(struct tfs_fs *fs)
{
	/* At unmount the kernel forgets nothing: free whatever is left. */
	tdestroy(fs->tables, no_free);
	tfs_handles_free(fs);
	while (fs->views) {
		fs->views->linked = false;
		fs->views->nlookup = fs->views->nopen = 0;
		tfs_view_free(fs, fs->views);
	}
	while (fs->versions)
		free_version(fs, fs->versions);
	while (fs->all_tables)
		free_table(fs, fs->all_tables);
	tdestroy(fs->nodes, no_free);
	pthread_mutex_destroy(&fs->lock);
	free(fs);
}

void tfs_node_maybe_free(struct tfs_fs *fs, struct tfs_node *node)
{
	struct table *t;

	if (node->nlookup || node->nopen)
		return;
	switch (node->kind) {
	case TFS_N_COLUMN:
		if (!node->col)
			free_version(fs, node);
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
			tfs_view_free(fs, node);
		return;
	case TFS_N_ROOT:
	case TFS_N_STATUS:
		return;
	}
}

int tfs_version_new(struct tfs_fs *fs, struct table *t, const char *colname, uint64_t size,
		    struct tfs_node **out)
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
	snprintf(label, sizeof(label), "tablefs:%s/%s", t->name, colname);
	rc = tfs_store_create(&v->store, size, label);
	if (rc < 0) {
		tfs_node_unmap(fs, v);
		free(v);
		return rc;
	}
	v->charge = tfs_mem_charge(size);
	v->owner = t;
	tfs_version_enter(fs, v);
	tfs_persist_version(fs, v);
	*out = v;
	return 0;
}

void tfs_version_enter(struct tfs_fs *fs, struct tfs_node *v)
{
	fs->mem_used += v->charge;
	tfs_node_list_add(&fs->versions, v);
}

void tfs_version_retire(struct tfs_fs *fs, struct tfs_node *v)
{
	tfs_view_retire(fs, v->npy);
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
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
	if (node)
		node->nopen++;
	if (dir)
		dir->nopen++;
	return 0;
}

void tfs_notes_flush(struct tfs_fs *fs, struct tfs_notes *notes, bool send)
{
	const struct tfs_hooks *h = &fs->cfg.hooks;

	for (size_t i = 0; send && i < notes->n; i++) {
		struct tfs_note *e = &notes->v[i];
		if (e->dir && h->inval_entry)
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
	tfs_view_retire(fs, arrow);
	t->version++;
	tfs_notes_add(notes, &t->meta, NULL, NULL);
}

void tfs_table_error(struct table *t, int err, const char *why)
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
	tfs_log(TFS_LOG_NOTICE, "table '%s': change refused (%s): %s", t->name, strerror(-err),
		why);
}

/* Exact length of a table's meta.json, rendered again only after a change,
 * so that ls -l shows the size cat will read; lock held. */
static uint64_t meta_length(struct table *t)
{
	size_t len = 0;

	if (t->meta_len_version != t->version || !t->meta_len)
		free(tfs_render_meta(t, &len));
	return t->meta_len;
}

static uint64_t status_length(struct tfs_fs *fs)
{
	size_t len = 0;

	free(tfs_render_status(fs, &len));
	return len;
}

/* Attributes of node; lock held. */
static void fill_attr(struct tfs_fs *fs, const struct tfs_node *node, struct tfs_attr *a)
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
		a->nlink = t->removed ? 0 : 1;
		a->size = meta_length(node->table);
		break;
	case TFS_N_COLUMN:
		a->size = node->store.size;
		a->nlink = node->col ? 1 : 0;
		break;
	case TFS_N_STATUS:
		a->size = status_length(fs);
		break;
	case TFS_N_NPY:
	case TFS_N_ARROW:
		a->size = tfs_view_size(node);
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
		fill_attr(fs, node, attr);
		rc = 0;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* Finds name in dir; lock held.  No reference taken. */
static int lookup_locked(struct tfs_fs *fs, struct tfs_node *dir, const char *name,
			 struct tfs_node **out)
{
	struct table *t;
	ssize_t i;

	switch (dir->kind) {
	case TFS_N_ROOT:
		if (strcmp(name, TFS_STATUS_NAME) == 0) {
			*out = &fs->status;
			return 0;
		}
		t = table_find(fs, name);
		if (!t)
			return -ENOENT;
		*out = &t->dir;
		return 0;
	case TFS_N_TABLE:
		t = dir->table;
		if (t->removed)
			return -ENOENT;
		if (strcmp(name, TFS_META_NAME) == 0) {
			*out = &t->meta;
			return 0;
		}
		if (strchr(name, '.'))
			return tfs_view_lookup(fs, t, name, out);
		i = column_find(t, name);
		if (i < 0)
			return -ENOENT;
		*out = t->cols[i]->cur;
		return 0;
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
		node->nlookup++;
		fill_attr(fs, node, attr);
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
		node->nlookup = n >= node->nlookup ? 0 : node->nlookup - n;
		tfs_node_maybe_free(fs, node);
	}
	pthread_mutex_unlock(&fs->lock);
}

int tfs_setattr(struct tfs_fs *fs, tfs_ino_t ino, const struct tfs_setattr *sa,
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
	if (node->kind == TFS_N_STATUS || node->kind == TFS_N_NPY || node->kind == TFS_N_ARROW ||
	    (node->kind == TFS_N_META && (sa->set_mode || sa->set_uid || sa->set_gid))) {
		rc = -EPERM; /* generated; meta.json takes its table's owner and mode */
		goto out;
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
		/* meta.json: truncation precedes a new document; nothing to do. */
	}
	if (node->kind == TFS_N_META)
		node = &node->table->dir;
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
			tfs_view_retire(fs, node->table->arrow);
			node->table->arrow = NULL;
		} else if (node->kind == TFS_N_COLUMN && node->col) {
			tfs_view_retire(fs, node->npy);
			tfs_view_retire(fs, node->owner->arrow);
			node->owner->arrow = NULL;
		}
	}
	if (node->kind == TFS_N_TABLE)
		tfs_persist_table(fs, node->table);
	else if (node->kind == TFS_N_COLUMN)
		tfs_persist_version(fs, node);
	else if (node->kind == TFS_N_ROOT)
		tfs_persist_root(fs);
out:
	if (rc == 0)
		fill_attr(fs, node, attr);
	pthread_mutex_unlock(&fs->lock);
	tfs_notes_flush(fs, &notes, true);
	return rc;
}

int tfs_table_new(struct tfs_fs *fs, const char *name, tfs_ino_t dir_ino, tfs_ino_t meta_ino,
		  mode_t mode, uid_t uid, gid_t gid, struct table **out)
{
	struct table *t;
	int rc;

	if (table_find(fs, name) || strcmp(name, TFS_STATUS_NAME) == 0)
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
	if (!tsearch(t, &fs->tables, table_cmp)) {
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

int tfs_mkdir(struct tfs_fs *fs, tfs_ino_t dir, const char *name, mode_t mode,
	      const struct tfs_cred *cred, struct tfs_attr *attr)
{
	char why[TFS_WHY_MAX];
	struct table *t;
	int rc;

	if (dir != TFS_ROOT_INO)
		return -EPERM; /* tables hold columns, not directories */
	rc = tfs_name_check(name, why, sizeof(why));
	if (rc < 0) {
		tfs_log(TFS_LOG_INFO, "mkdir '%s' refused: %s", name, why);
		return rc;
	}
	pthread_mutex_lock(&fs->lock);
	rc = tfs_table_new(fs, name, 0, 0, mode, cred->uid, cred->gid, &t);
	if (rc == 0) {
		fs->root.mtime = fs->root.ctime = tfs_now();
		t->dir.nlookup++;
		tfs_persist_table(fs, t);
		fill_attr(fs, &t->dir, attr);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* Takes an empty table out of the catalog; lock held. */
static void table_unlink(struct tfs_fs *fs, struct table *t)
{
	tdelete(t, &fs->tables, table_cmp);
	fs->ntables--;
	t->removed = true;
	tfs_persist_drop(fs, TFS_REC_TABLE, t->dir.ino);
	fs->root.mtime = fs->root.ctime = tfs_now();
	tfs_node_maybe_free(fs, &t->dir);
}

int tfs_rmdir(struct tfs_fs *fs, tfs_ino_t dir, const char *name)
{
	struct table *t;
	int rc = 0;

	if (dir != TFS_ROOT_INO)
		return -ENOENT; /* no directories in tables */
	pthread_mutex_lock(&fs->lock);
	t = table_find(fs, name);
	if (!t)
		rc = strcmp(name, TFS_STATUS_NAME) == 0 ? -ENOTDIR : -ENOENT;
	else if (t->ncols)
		rc = -ENOTEMPTY;
	else
		table_unlink(fs, t);
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* Removes column i of t; lock held. */
static void column_remove(struct tfs_fs *fs, struct table *t, size_t i, struct tfs_notes *notes)
{
	struct column *c = t->cols[i];

	memmove(&t->cols[i], &t->cols[i + 1], (t->ncols - i - 1) * sizeof(*t->cols));
	t->ncols--;
	fs->ncolumns--;
	tfs_table_changed(fs, t, notes);
	t->dir.mtime = t->dir.ctime = tfs_now();
	tfs_persist_table(fs, t);
	tfs_version_retire(fs, c->cur);
	free(c);
}

int tfs_unlink(struct tfs_fs *fs, tfs_ino_t dir, const char *name)
{
	struct tfs_notes notes = {0};
	struct tfs_node *d;
	struct table *t;
	ssize_t i;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	d = tfs_node_find(fs, dir);
	if (!d) {
		rc = -ESTALE;
		goto out;
	}
	if (d->kind == TFS_N_ROOT) {
		rc = table_find(fs, name)			 ? -EISDIR :
		     strcmp(name, TFS_STATUS_NAME) == 0 ? -EPERM :
							  -ENOENT;
		goto out;
	}
	if (d->kind != TFS_N_TABLE) {
		rc = -ENOTDIR;
		goto out;
	}
	t = d->table;
	if (t->removed) {
		rc = -ENOENT;
	} else if (strcmp(name, TFS_META_NAME) == 0) {
		/* Generated, it cannot go; but rm -r of a table must work, and
		 * readdir lists it after the columns for that. */
		rc = t->ncols ? -EPERM : 0;
	} else if (strchr(name, '.')) {
		struct tfs_node *view;
		rc = tfs_view_lookup(fs, t, name, &view) == 0 ? -EPERM : -ENOENT;
	} else if ((i = column_find(t, name)) < 0) {
		rc = -ENOENT;
	} else {
		column_remove(fs, t, (size_t)i, &notes);
	}
out:
	pthread_mutex_unlock(&fs->lock);
	tfs_notes_flush(fs, &notes, true);
	return rc;
}

static int rename_table(struct tfs_fs *fs, const char *name, const char *newname, unsigned flags,
			struct tfs_notes *notes)
{
	struct table *t, *old;
	char why[TFS_WHY_MAX];
	int rc;

	rc = tfs_name_check(newname, why, sizeof(why));
	if (rc < 0) {
		tfs_log(TFS_LOG_INFO, "rename to '%s' refused: %s", newname, why);
		return rc;
	}
	t = table_find(fs, name);
	if (!t)
		return strcmp(name, TFS_STATUS_NAME) == 0 ? -EPERM : -ENOENT;
	old = table_find(fs, newname);
	if (old == t)
		return 0;
	if (old) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (old->ncols)
			return -ENOTEMPTY;
		table_unlink(fs, old);
	}
	tdelete(t, &fs->tables, table_cmp);
	strcpy(t->name, newname);
	if (!tsearch(t, &fs->tables, table_cmp)) {
		/* Cannot fail for want of memory: tdelete just freed a node. */
		tfs_log(TFS_LOG_ERR, "table '%s' lost from the catalog on rename", newname);
		return -ENOMEM;
	}
	tfs_table_changed(fs, t, notes);
	t->dir.ctime = fs->root.mtime = fs->root.ctime = tfs_now();
	tfs_persist_table(fs, t);
	return 0;
}

static int rename_column(struct tfs_fs *fs, struct table *t, const char *name, const char *newname,
			 unsigned flags, struct tfs_notes *notes)
{
	char why[TFS_WHY_MAX];
	ssize_t i, j;
	int rc;

	if (strcmp(name, TFS_META_NAME) == 0 || strcmp(newname, TFS_META_NAME) == 0)
		return -EPERM;
	rc = tfs_name_check(newname, why, sizeof(why));
	if (rc < 0) {
		tfs_log(TFS_LOG_INFO, "rename to '%s' refused: %s", newname, why);
		return rc;
	}
	i = column_find(t, name);
	if (i < 0)
		return -ENOENT;
	j = column_find(t, newname);
	if (j == i)
		return 0;
	if (j >= 0) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		column_remove(fs, t, (size_t)j, notes);
		if (j < i)
			i--;
	}
	strcpy(t->cols[i]->def.name, newname);
	tfs_table_changed(fs, t, notes);
	t->dir.mtime = t->dir.ctime = t->cols[i]->cur->ctime = tfs_now();
	tfs_persist_table(fs, t);
	return 0;
}

int tfs_rename(struct tfs_fs *fs, tfs_ino_t dirino, const char *name, tfs_ino_t newdirino,
	       const char *newname, unsigned flags)
{
	struct tfs_notes notes = {0};
	struct tfs_node *dir, *newdir;
	int rc;

	if (flags & ~(unsigned)RENAME_NOREPLACE)
		return -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT */
	pthread_mutex_lock(&fs->lock);
	dir = tfs_node_find(fs, dirino);
	newdir = tfs_node_find(fs, newdirino);
	if (!dir || !newdir)
		rc = -ESTALE;
	else if (dir->kind != newdir->kind)
		rc = -EXDEV;
	else if (dir->kind == TFS_N_ROOT)
		rc = rename_table(fs, name, newname, flags, &notes);
	else if (dir->kind != TFS_N_TABLE)
		rc = -ENOTDIR;
	else if (dir != newdir)
		rc = -EXDEV; /* a column belongs to its table's rows */
	else if (dir->table->removed)
		rc = -ENOENT;
	else
		rc = rename_column(fs, dir->table, name, newname, flags, &notes);
	pthread_mutex_unlock(&fs->lock);
	tfs_notes_flush(fs, &notes, true);
	return rc;
}

struct collect {
	struct tfs_dirent *v;
	size_t n;
};

static void add_dirent(struct collect *c, const char *name, uint64_t ino, mode_t type)
{
	struct tfs_dirent *e = &c->v[c->n++];

	snprintf(e->name, sizeof(e->name), "%s", name);
	e->ino = ino;
	e->type = type;
}

static void collect_table(const void *p, VISIT which, void *ctx)
{
	const struct table *t = *(struct table *const *)p;

	if (which == postorder || which == leaf)
		add_dirent(ctx, t->name, t->dir.ino, S_IFDIR);
}

int tfs_readdir(struct tfs_fs *fs, tfs_ino_t ino, struct tfs_dirent **ents, size_t *n)
{
	struct collect c = {0};
	struct tfs_node *dir;
	struct table *t;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	dir = tfs_node_find(fs, ino);
	if (!dir) {
		rc = -ESTALE;
		goto out;
	}
	t = dir->table;
	if (dir->kind != TFS_N_ROOT && dir->kind != TFS_N_TABLE) {
		rc = -ENOTDIR;
		goto out;
	}
	if (dir->kind == TFS_N_TABLE && t->removed) {
		rc = -ENOENT;
		goto out;
	}
	c.v = malloc((3 + (dir->kind == TFS_N_ROOT ? fs->ntables + 1 : t->ncols)) * sizeof(*c.v));
	if (!c.v) {
		rc = -ENOMEM;
		goto out;
	}
	add_dirent(&c, ".", dir->ino, S_IFDIR);
	add_dirent(&c, "..", fs->root.ino, S_IFDIR);
	if (dir->kind == TFS_N_ROOT) {
		add_dirent(&c, TFS_STATUS_NAME, fs->status.ino, S_IFREG);
		twalk_r(fs->tables, collect_table, &c);
	} else {
		/* Columns first and meta.json last, so that rm -r removes
		 * the columns before it tries meta.json. */
		for (size_t i = 0; i < t->ncols; i++)
			add_dirent(&c, t->cols[i]->def.name, t->cols[i]->cur->ino, S_IFREG);
		add_dirent(&c, TFS_META_NAME, t->meta.ino, S_IFREG);
	}
	*ents = c.v;
	*n = c.n;
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

void tfs_statfs(struct tfs_fs *fs, struct tfs_statfs *st)
{
	pthread_mutex_lock(&fs->lock);
	st->limit = fs->cfg.mem_limit;
	st->used = fs->mem_used;
	st->tables = fs->ntables;
	st->columns = fs->ncolumns;
	pthread_mutex_unlock(&fs->lock);
}
