/* Derived views of a table, generated from the column memory on demand:
 *  - COLUMN.npy: the column as a NumPy .npy file (header, then its bytes);
 *  - table.arrow: the whole table as an Arrow IPC file (arrow_file.c).
 * A view shows one state: it is made on first lookup, pins the column
 * extents it shows, and is retired (still readable by whoever has it,
 * freed after) when its column or table changes.  Views are read-only, not
 * listed by readdir (ls, du, cp -r and rm -r see the data once), and served
 * through the page cache: unlike a raw column they cost a copy. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arrow_file.h"
#include "catalog_impl.h"
#include "views.h"
#include "npy.h"

static struct tfs_node *view_new(struct tfs_fs *fs, enum tfs_node_kind kind, mode_t mode,
				 uid_t uid, gid_t gid, size_t npins)
{
	struct tfs_node *view = calloc(1, sizeof(*view));

	if (!view)
		return NULL;
	view->pins = calloc(npins + 1, sizeof(*view->pins));
	if (!view->pins || tfs_node_init(fs, view, 0, kind, S_IFREG | (mode & 0444), uid, gid) < 0) {
		free(view->pins);
		free(view);
		return NULL;
	}
	view->linked = true;
	tfs_node_list_add(&fs->views, view);
	return view;
}

/* Read bits a view may have: never more than every column it shows allows
 * to the same class of user (table owner, table group, others), so that no
 * one reads through a view what the column would refuse them.  Where the
 * owners differ, the stricter class of the column counts. */
static mode_t view_mode(const struct tfs_node *dir, struct tfs_node *const *cols, size_t n)
{
	mode_t mode = dir->mode & 0444;

	for (size_t i = 0; i < n; i++) {
		const struct tfs_node *v = cols[i];
		mode_t other = v->mode & 04;
		mode_t group = v->gid == dir->gid ? (v->mode & 040) >> 3 : other;
		mode_t owner = v->uid == dir->uid ? (v->mode & 0400) >> 6 : group;
		mode &= owner << 6 | group << 3 | other;
	}
	return mode;
}

static void pin(struct tfs_node *view, struct tfs_node *v)
{
	v->nopen++;
	view->pins[view->npins++] = v;
}

static int npy_view(struct tfs_fs *fs, struct column *c, struct tfs_node **out)
{
	struct tfs_node *v = c->file[TFS_ROLE_MAIN], *view;
	char hdr[TFS_NPY_HEADER_MAX];
	size_t len;

	/* numpy has no type for text it could map: utf8 and binary columns
	 * are read from their offsets and data files, or from table.arrow.
	 * A category's view holds its codes, a nullable column's its values. */
	if (c->def.type.kind == TFS_UTF8 || c->def.type.kind == TFS_BINARY)
		return -ENOENT;
	len = tfs_npy_header(&c->def, v->store.size / c->def.itemsize, hdr);
	if (v->npy) {
		*out = v->npy;
		return 0;
	}
	view = view_new(fs, TFS_N_NPY, v->mode & 0444, v->uid, v->gid, 1);
	if (!view)
		return -ENOMEM;
	view->hdr = malloc(len);
	if (!view->hdr) {
		tfs_view_free(fs, view);
		return -ENOMEM;
	}
	memcpy(view->hdr, hdr, len);
	view->hdrlen = len;
	pin(view, v);
	v->npy = view;
	*out = view;
	return 0;
}

/* The memory of each file of column c, as the Arrow layout takes it. */
static void arrow_col(const struct column *c, struct tfs_arrow_col *a)
{
	const struct tfs_node *const *f = (const struct tfs_node *const *)c->file;

	memset(a, 0, sizeof(*a));
	a->def = &c->def;
	a->main = f[TFS_ROLE_MAIN]->store.size ? f[TFS_ROLE_MAIN]->store.map : NULL;
	if (f[TFS_ROLE_NULL] && f[TFS_ROLE_NULL]->store.size)
		a->nulls = f[TFS_ROLE_NULL]->store.map;
	if (f[TFS_ROLE_DATA] && f[TFS_ROLE_DATA]->store.size)
		a->data = f[TFS_ROLE_DATA]->store.map;
	if (f[TFS_ROLE_DICT])
		a->dict = f[TFS_ROLE_DICT]->store.map;
	if (f[TFS_ROLE_DICT_DATA] && f[TFS_ROLE_DICT_DATA]->store.size)
		a->dict_data = f[TFS_ROLE_DICT_DATA]->store.map;
}

/* Checks what writers put into t's offsets and codes; lock held.  0, or
 * -EIO with the reason made t's last_error. */
static int check_table(struct table *t)
{
	struct tfs_arrow_col col;
	char why[TFS_WHY_MAX];
	int rc;

	for (size_t i = 0; i < t->ncols; i++) {
		arrow_col(t->cols[i], &col);
		rc = tfs_arrow_check(&col, t->rows, why, sizeof(why));
		if (rc < 0) {
			tfs_table_refused(t, TFS_ARROW_NAME, rc, why);
			return rc;
		}
	}
	return 0;
}

int tfs_view_open_check(struct tfs_node *view)
{
	/* A retired view shows extents no longer current: nobody writes
	 * through their names any more, and who has them open was told. */
	if (view->kind != TFS_N_ARROW || !view->linked || view->table->removed ||
	    view->table->arrow != view)
		return 0;
	return check_table(view->table);
}

static int arrow_view(struct tfs_fs *fs, struct table *t, struct tfs_node **out)
{
	struct tfs_arrow_col *cols = calloc(t->ncols + 1, sizeof(*cols));
	struct tfs_node **files = calloc(t->ncols * TFS_NROLES + 1, sizeof(*files));
	struct tfs_node *view = NULL;
	size_t nfiles = 0;
	int rc = -ENOMEM;

	if (t->arrow) {
		*out = t->arrow;
		rc = 0;
		goto out;
	}
	if (!cols || !files)
		goto out;
	/* What writers put into offsets and codes is checked before a
	 * reader is handed a file that points by them. */
	rc = check_table(t);
	if (rc < 0)
		goto out;
	for (size_t i = 0; i < t->ncols; i++) {
		arrow_col(t->cols[i], &cols[i]);
		for (int r = 0; r < TFS_NROLES; r++)
			if (t->cols[i]->file[r])
				files[nfiles++] = t->cols[i]->file[r];
	}
	rc = -ENOMEM;
	view = view_new(fs, TFS_N_ARROW, view_mode(&t->dir, files, nfiles), t->dir.uid, t->dir.gid,
			nfiles);
	if (!view)
		goto out;
	view->table = t;
	view->layout = calloc(1, sizeof(*view->layout));
	if (!view->layout)
		goto out_view;
	rc = tfs_arrow_layout(cols, t->ncols, t->rows, view->layout);
	if (rc < 0)
		goto out_view;
	for (size_t i = 0; i < nfiles; i++)
		pin(view, files[i]);
	t->arrow = view;
	*out = view;
	goto out;

out_view:
	free(view->layout);
	view->layout = NULL;
	tfs_view_free(fs, view);
out:
	free(cols);
	free(files);
	return rc;
}

int tfs_view_lookup(struct tfs_fs *fs, struct table *t, const char *name, struct tfs_node **out)
{
	size_t len = strlen(name), slen = strlen(TFS_NPY_SUFFIX);
	char col[TFS_NAME_MAX + 1];

	if (strcmp(name, TFS_ARROW_NAME) == 0)
		return arrow_view(fs, t, out);
	if (len <= slen || len - slen > TFS_NAME_MAX ||
	    strcmp(name + len - slen, TFS_NPY_SUFFIX) != 0)
		return -ENOENT;
	memcpy(col, name, len - slen);
	col[len - slen] = '\0';
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i]->def.name, col) == 0)
			return npy_view(fs, t->cols[i], out);
	return -ENOENT;
}

void tfs_view_retire(struct tfs_fs *fs, struct tfs_node *view)
{
	if (!view)
		return;
	if (view->kind == TFS_N_NPY && view->pins[0]->npy == view)
		view->pins[0]->npy = NULL; /* the next lookup makes a new one */
	view->linked = false;
	tfs_node_maybe_free(fs, view);
}

/* Lets go of the extents the view shows and of its Arrow layout; lock
 * held.  Its header and size stay. */
static void view_release(struct tfs_fs *fs, struct tfs_node *view)
{
	struct tfs_node *v;

	for (size_t i = 0; i < view->npins; i++) {
		v = view->pins[i];
		if (v->npy == view)
			v->npy = NULL;
		v->nopen--;
		tfs_node_maybe_free(fs, v);
	}
	view->npins = 0;
	if (view->layout) {
		tfs_arrow_free(view->layout);
		free(view->layout);
		view->layout = NULL;
	}
}

void tfs_view_free(struct tfs_fs *fs, struct tfs_node *view)
{
	tfs_node_unmap(fs, view);
	tfs_node_list_del(&fs->views, view);
	view_release(fs, view);
	free(view->pins);
	free(view->hdr);
	free(view);
}

void tfs_view_hollow(struct tfs_fs *fs, struct tfs_node *view)
{
	if (view->hollow)
		return;
	view->store.size = tfs_view_size(view);
	view->hollow = true;
	view_release(fs, view);
}

uint64_t tfs_view_size(const struct tfs_node *view)
{
	if (view->hollow)
		return view->store.size;
	if (view->kind == TFS_N_ARROW)
		return view->layout->size;
	return view->hdrlen + view->pins[0]->store.size;
}

ssize_t tfs_view_read(const struct tfs_node *view, uint64_t off, size_t len, void *buf)
{
	uint64_t size = tfs_view_size(view);
	size_t n, head = 0;

	if (view->kind == TFS_N_ARROW)
		return tfs_arrow_read(view->layout, off, len, buf);
	if (off >= size)
		return 0;
	n = len < size - off ? len : (size_t)(size - off);
	if (off < view->hdrlen) {
		head = n < view->hdrlen - off ? n : (size_t)(view->hdrlen - off);
		memcpy(buf, view->hdr + off, head);
	}
	if (n > head)
		memcpy((char *)buf + head,
		       (const char *)view->pins[0]->store.map + (off + head - view->hdrlen),
		       n - head);
	return (ssize_t)n;
}
