/* The namespace of the filesystem: tables made, removed and renamed, columns
 * removed and renamed, directories listed.  (Columns are made by schema
 * documents, apply.c.) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog_impl.h"
#include "persist.h"
#include "views.h"
#include "log.h"
#include "names.h"

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
		tfs_fill_attr(fs, &t->dir, attr);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* Takes an empty table out of the catalog; lock held. */
static void table_unlink(struct tfs_fs *fs, struct table *t)
{
	tdelete(t, &fs->tables, tfs_table_cmp);
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
	t = tfs_table_find(fs, name);
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
/* Removes column i of t, the kernel having removed the name removed (or
 * none: NULL); lock held. */
static void column_remove(struct tfs_fs *fs, struct table *t, size_t i, const char *removed,
			  struct tfs_notes *notes)
{
	struct column *c = t->cols[i];

	memmove(&t->cols[i], &t->cols[i + 1], (t->ncols - i - 1) * sizeof(*t->cols));
	t->ncols--;
	fs->ncolumns--;
	tfs_table_changed(fs, t, notes);
	t->dir.mtime = t->dir.ctime = tfs_now();
	tfs_persist_table(fs, t);
	/* The kernel drops the name it removed itself.  It is told of the
	 * other files' names a moment after the reply (it holds the
	 * directory's lock until then, and rm -r, which listed them, unlinks
	 * them meanwhile), so that it lets their inodes, and memory, go. */
	for (int r = 0; r < TFS_NROLES; r++) {
		char file[TFS_FILE_NAME_MAX];
		if (!c->file[r])
			continue;
		tfs_role_file(c->def.name, (enum tfs_role)r, file);
		if (strcmp(file, removed ? removed : "") != 0)
			tfs_notes_add_deleted(notes, &t->dir, file, c->file[r]->ino);
		tfs_extent_retire(fs, c->file[r]);
	}
	free(c);
}

/* True when col, just deleted, had a file of role r: unlinking that name
 * again is done, not an error, because rm -r unlinks every name it listed
 * and a column's files go together.  Lock held. */
static bool gone_file(const struct table *t, const char *col, enum tfs_role r)
{
	for (size_t i = 0; i < t->ngone; i++)
		if (strcmp(t->gone[i].name, col) == 0 && tfs_coldef_has(&t->gone[i], r))
			return !tfs_coldef_plain(&t->gone[i]); /* one file: gone is gone */
	return false;
}

int tfs_unlink(struct tfs_fs *fs, tfs_ino_t dir, const char *name)
{
	char col[TFS_NAME_MAX + 1];
	enum tfs_role role;
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
		rc = tfs_table_find(fs, name)			 ? -EISDIR :
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
		/* The schema of a table with columns cannot go.  Without
		 * columns there is nothing to lose: rm -r (which readdir's
		 * order makes remove the columns first) and tools that replace
		 * the file (tar, cp) may unlink it, and it is gone until the
		 * table is, or until it is created again. */
		if (t->meta_unlinked)
			rc = -ENOENT;
		else if (t->ncols)
			rc = -EPERM;
		else
			t->meta_unlinked = true;
	} else if (tfs_role_parse(name, col, &role) < 0) {
		struct tfs_node *view;
		rc = tfs_view_lookup(fs, t, name, &view) == 0 ? -EPERM : -ENOENT;
	} else if ((i = tfs_column_find(t, col)) < 0 || !t->cols[i]->file[role]) {
		rc = gone_file(t, col, role) ? 0 : -ENOENT;
	} else {
		/* Any file of a column deletes the column: its files go
		 * together. */
		tfs_table_gone_add(t, &t->cols[i]->def);
		column_remove(fs, t, (size_t)i, name, &notes);
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
	t = tfs_table_find(fs, name);
	if (!t)
		return strcmp(name, TFS_STATUS_NAME) == 0 ? -EPERM : -ENOENT;
	old = tfs_table_find(fs, newname);
	if (old == t)
		return 0;
	if (old) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (old->ncols)
			return -ENOTEMPTY;
		table_unlink(fs, old);
	}
	tdelete(t, &fs->tables, tfs_table_cmp);
	strcpy(t->name, newname);
	if (!tsearch(t, &fs->tables, tfs_table_cmp)) {
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
	char why[TFS_WHY_MAX], col[TFS_NAME_MAX + 1];
	enum tfs_role role;
	ssize_t i, j;
	int rc;

	if (strcmp(name, TFS_META_NAME) == 0 || strcmp(newname, TFS_META_NAME) == 0)
		return -EPERM;
	/* A companion file moves with its column, never on its own. */
	if (tfs_role_parse(name, col, &role) == 0 && role != TFS_ROLE_MAIN)
		return tfs_column_find(t, col) >= 0 ? -EPERM : -ENOENT;
	rc = tfs_name_check(newname, why, sizeof(why));
	if (rc < 0) {
		tfs_log(TFS_LOG_INFO, "rename to '%s' refused: %s", newname, why);
		return rc;
	}
	i = tfs_column_find(t, name);
	if (i < 0)
		return -ENOENT;
	j = tfs_column_find(t, newname);
	if (j == i)
		return 0;
	if (j >= 0) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		column_remove(fs, t, (size_t)j, NULL, notes);
		if (j < i)
			i--;
	}
	for (int r = 0; r < TFS_NROLES; r++) {
		char file[TFS_FILE_NAME_MAX];
		if (!t->cols[i]->file[r])
			continue;
		t->cols[i]->file[r]->ctime = tfs_now();
		/* the companions' old names go too */
		tfs_role_file(name, (enum tfs_role)r, file);
		if (r != TFS_ROLE_MAIN)
			tfs_notes_add_later(notes, &t->dir, file);
	}
	strcpy(t->cols[i]->def.name, newname);
	tfs_table_changed(fs, t, notes);
	t->dir.mtime = t->dir.ctime = tfs_now();
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
	c.v = malloc((3 + (dir->kind == TFS_N_ROOT ? fs->ntables + 1 : t->ncols * TFS_NROLES)) *
		     sizeof(*c.v));
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
		 * the columns before it tries meta.json; a column's main file
		 * before its companions, which go with it. */
		for (size_t i = 0; i < t->ncols; i++) {
			for (int r = 0; r < TFS_NROLES; r++) {
				char file[TFS_FILE_NAME_MAX];
				if (!t->cols[i]->file[r])
					continue;
				tfs_role_file(t->cols[i]->def.name, (enum tfs_role)r, file);
				add_dirent(&c, file, t->cols[i]->file[r]->ino, S_IFREG);
			}
		}
		if (!t->meta_unlinked)
			add_dirent(&c, TFS_META_NAME, t->meta.ino, S_IFREG);
	}
	*ents = c.v;
	*n = c.n;
out:
	pthread_mutex_unlock(&fs->lock);
	return rc;
}
