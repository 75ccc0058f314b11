/* Hand-over of the catalog to a supervisor, and its rebuilding in a new
 * serving process.
 *
 * Each extent, each table and the root is one record, replaced whole on
 * every change (see struct tfs_hooks).  Records are plain structs: they
 * are written and read by the same binary, the supervisor only keeps them.
 * An extent record travels with its memfd, which the supervisor holds, so
 * the bytes outlive the serving process.  Order of a change: new extents
 * first, then the table that points to them, then the drop of extents that
 * are gone; a process killed in between leaves a consistent catalog behind
 * (at worst an extent nothing points to: the next process frees it unless
 * the kernel still holds it, see tfs_forget_unknown). */
#include "config.h"

#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "catalog_impl.h"
#include "persist.h"
#include "log.h"

struct rec_times {
	struct timespec atime, mtime, ctime;
};

struct rec_root {
	uint32_t mode, uid, gid;
	struct rec_times t;
};

struct rec_extent {
	tfs_ino_t ino;
	uint64_t size, charge;
	uint32_t mode, uid, gid;
	int32_t backing_id;
	uint32_t role; /* enum tfs_role */
	struct rec_times t;
};

struct rec_table {
	tfs_ino_t dir_ino, meta_ino;
	uint64_t rows, version, ncols;
	uint32_t mode, uid, gid;
	struct rec_times t;
	char name[TFS_NAME_MAX + 1];
	char last_error[TFS_WHY_MAX];
	/* then ncols struct rec_column */
};

struct rec_column {
	struct tfs_coldef def; /* cats is NULL */
	tfs_ino_t extent_ino[TFS_NROLES]; /* 0 for a file the column has not */
};

static struct rec_times times_of(const struct tfs_node *n)
{
	struct rec_times t = {n->atime, n->mtime, n->ctime};

	return t;
}

static void set_times(struct tfs_node *n, const struct rec_times *t)
{
	n->atime = t->atime;
	n->mtime = t->mtime;
	n->ctime = t->ctime;
}

static bool supervised(const struct tfs_fs *fs)
{
	return fs->cfg.hooks.persist_put != NULL;
}

/* Records are sent as raw bytes: their padding is zeroed, not left as
 * whatever the stack held. */
void tfs_persist_extent(struct tfs_fs *fs, struct tfs_node *v)
{
	struct rec_extent r;

	memset(&r, 0, sizeof(r));
	r.ino = v->ino;
	r.size = v->store.size;
	r.charge = v->charge;
	r.mode = v->mode;
	r.uid = v->uid;
	r.gid = v->gid;
	r.backing_id = v->backing_id;
	r.role = v->role;
	r.t = times_of(v);
	if (supervised(fs))
		fs->cfg.hooks.persist_put(fs->cfg.hooks.ctx, TFS_REC_EXTENT, v->ino, &r, sizeof(r),
					  v->store.fd);
}

void tfs_persist_table(struct tfs_fs *fs, struct table *t)
{
	size_t len = sizeof(struct rec_table) + t->ncols * sizeof(struct rec_column);
	struct rec_table *r;
	struct rec_column *c;

	if (!supervised(fs))
		return;
	r = calloc(1, len);
	if (!r) {
		/* The change stands; only a restart would not see it. */
		tfs_log(TFS_LOG_ERR, "table '%s': out of memory handing it to the supervisor",
			t->name);
		return;
	}
	r->dir_ino = t->dir.ino;
	r->meta_ino = t->meta.ino;
	r->rows = t->rows;
	r->version = t->version;
	r->ncols = t->ncols;
	r->mode = t->dir.mode;
	r->uid = t->dir.uid;
	r->gid = t->dir.gid;
	r->t = times_of(&t->dir);
	strcpy(r->name, t->name);
	strcpy(r->last_error, t->last_error);
	c = (struct rec_column *)(r + 1);
	for (size_t i = 0; i < t->ncols; i++) {
		c[i].def = t->cols[i]->def;
		for (int k = 0; k < TFS_NROLES; k++)
			c[i].extent_ino[k] = t->cols[i]->file[k] ? t->cols[i]->file[k]->ino : 0;
	}
	fs->cfg.hooks.persist_put(fs->cfg.hooks.ctx, TFS_REC_TABLE, t->dir.ino, r, len, -1);
	free(r);
}

void tfs_persist_root(struct tfs_fs *fs)
{
	struct rec_root r;

	memset(&r, 0, sizeof(r));
	r.mode = fs->root.mode;
	r.uid = fs->root.uid;
	r.gid = fs->root.gid;
	r.t = times_of(&fs->root);
	if (supervised(fs))
		fs->cfg.hooks.persist_put(fs->cfg.hooks.ctx, TFS_REC_ROOT, TFS_ROOT_INO, &r,
					  sizeof(r), -1);
}

void tfs_persist_drop(struct tfs_fs *fs, enum tfs_record_kind kind, tfs_ino_t key)
{
	if (supervised(fs))
		fs->cfg.hooks.persist_drop(fs->cfg.hooks.ctx, kind, key);
}

static int restore_extent(struct tfs_fs *fs, const struct rec_extent *r, int fd)
{
	struct tfs_node *v;
	struct stat st;
	int rc;

	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size != r->size)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	rc = tfs_node_init(fs, v, r->ino, TFS_N_COLUMN, r->mode, r->uid, r->gid);
	if (rc < 0) {
		free(v);
		return rc;
	}
	v->store.fd = fd;
	v->store.size = r->size;
	if (r->size) {
		v->store.map = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (v->store.map == MAP_FAILED) {
			rc = -errno;
			tfs_node_unmap(fs, v);
			free(v);
			return rc;
		}
	}
	v->charge = r->charge;
	v->backing_id = r->backing_id;
	v->role = r->role < TFS_NROLES ? (enum tfs_role)r->role : TFS_ROLE_MAIN;
	v->nlookup = TFS_NLOOKUP_UNKNOWN;
	set_times(v, &r->t);
	tfs_extent_enter(fs, v);
	return 0;
}

static int restore_table(struct tfs_fs *fs, const struct rec_table *r, size_t len)
{
	const struct rec_column *c = (const struct rec_column *)(r + 1);
	struct table *t;
	int rc;

	if (len != sizeof(*r) + r->ncols * sizeof(*c))
		return -EINVAL;
	rc = tfs_table_new(fs, r->name, r->dir_ino, r->meta_ino, r->mode, r->uid, r->gid, &t);
	if (rc < 0)
		return rc;
	t->rows = r->rows;
	t->version = r->version;
	strcpy(t->last_error, r->last_error);
	set_times(&t->dir, &r->t);
	t->dir.nlookup = t->meta.nlookup = TFS_NLOOKUP_UNKNOWN;
	t->cols = calloc(r->ncols + 1, sizeof(*t->cols));
	if (!t->cols)
		return -ENOMEM;
	t->cap = r->ncols + 1;
	for (size_t i = 0; i < r->ncols; i++) {
		struct tfs_node *v[TFS_NROLES] = {0};
		struct column *col;
		bool lost = false;
		for (int k = 0; k < TFS_NROLES; k++) {
			if (!tfs_coldef_has(&c[i].def, (enum tfs_role)k))
				continue;
			v[k] = tfs_node_find(fs, c[i].extent_ino[k]);
			if (!v[k] || v[k]->kind != TFS_N_COLUMN || v[k]->col)
				lost = true;
		}
		if (lost) {
			tfs_log(TFS_LOG_ERR, "table '%s': column '%s' lost its memory in the restart",
				r->name, c[i].def.name);
			continue;
		}
		col = calloc(1, sizeof(*col));
		if (!col)
			return -ENOMEM;
		col->def = c[i].def;
		col->def.cats = NULL;
		for (int k = 0; k < TFS_NROLES; k++) {
			if (!v[k])
				continue;
			col->file[k] = v[k];
			v[k]->col = col;
			v[k]->role = (enum tfs_role)k;
			v[k]->owner = t;
		}
		t->cols[t->ncols++] = col;
		fs->ncolumns++;
	}
	return 0;
}

int tfs_restore(struct tfs_fs *fs, uint32_t kind, const void *blob, size_t len, int fd)
{
	const struct rec_root *root = blob;
	int rc = -EINVAL;

	pthread_mutex_lock(&fs->lock);
	switch (kind) {
	case TFS_REC_ROOT:
		if (len == sizeof(*root)) {
			fs->root.mode = root->mode;
			fs->root.uid = root->uid;
			fs->root.gid = root->gid;
			set_times(&fs->root, &root->t);
			rc = 0;
		}
		break;
	case TFS_REC_EXTENT:
		if (len == sizeof(struct rec_extent))
			rc = restore_extent(fs, blob, fd);
		break;
	case TFS_REC_TABLE:
		if (len >= sizeof(struct rec_table))
			rc = restore_table(fs, blob, len);
		break;
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

struct inos {
	tfs_ino_t *v;
	size_t n, cap;
};

static void collect_unknown(const void *p, VISIT which, void *ctx)
{
	const struct tfs_node *node = *(struct tfs_node *const *)p;
	struct inos *s = ctx;

	if ((which != postorder && which != leaf) || node->nlookup != TFS_NLOOKUP_UNKNOWN)
		return;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		tfs_ino_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return; /* such nodes stay until unmount: harmless */
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = node->ino;
}

void tfs_foreach_restored(struct tfs_fs *fs, void (*fn)(void *ctx, tfs_ino_t ino), void *ctx)
{
	struct inos s = {0};

	pthread_mutex_lock(&fs->lock);
	twalk_r(fs->nodes, collect_unknown, &s);
	pthread_mutex_unlock(&fs->lock);
	for (size_t i = 0; i < s.n; i++)
		fn(ctx, s.v[i]);
	free(s.v);
}

void tfs_forget_unknown(struct tfs_fs *fs, tfs_ino_t ino)
{
	struct tfs_node *node;

	pthread_mutex_lock(&fs->lock);
	node = tfs_node_find(fs, ino);
	if (node && node->nlookup == TFS_NLOOKUP_UNKNOWN) {
		node->nlookup = 0;
		tfs_node_maybe_free(fs, node);
	}
	pthread_mutex_unlock(&fs->lock);
}

void tfs_invalidate_names(struct tfs_fs *fs)
{
	struct tfs_notes notes = {0};

	pthread_mutex_lock(&fs->lock);
	for (struct table *t = fs->all_tables; t; t = t->tnext) {
		if (t->removed)
			continue;
		tfs_notes_add(&notes, NULL, &fs->root, t->name);
		tfs_notes_add(&notes, NULL, &t->dir, TFS_META_NAME);
		for (size_t i = 0; i < t->ncols; i++) {
			for (int k = 0; k < TFS_NROLES; k++) {
				char file[TFS_FILE_NAME_MAX];
				if (!t->cols[i]->file[k])
					continue;
				tfs_role_file(t->cols[i]->def.name, (enum tfs_role)k, file);
				tfs_notes_add(&notes, NULL, &t->dir, file);
			}
		}
	}
	pthread_mutex_unlock(&fs->lock);
	tfs_notes_flush(fs, &notes, true);
}
