/* Per-open handles (fi->fh): open, create, read, write, flush, release
 * of every file, and the collection of a document written to meta.json
 * until it is complete and handed to apply.c. */
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
#include "persist.h"
#include "handles.h"
#include "log.h"
#include "mem.h"
#include "render.h"
#include "views.h"

/* Per-open state (fi->fh).  meta.json and .status are rendered once per
 * open and served from that snapshot; a document written to meta.json is
 * collected here until it is complete. */
struct tfs_handle {
	tfs_fh_t id; /* (epoch << 40) | sequence */
	struct tfs_node *node; /* pinned by nopen */
	char *snap; /* META, STATUS: rendered at open */
	size_t snaplen;
	char *doc; /* META: document being written */
	size_t doclen, doccap;
	uint64_t written; /* META: bytes written since open or truncation to 0 */
	/* META: the refusal of a document written through this handle.  It
	 * holds for every later write and close on the handle: the rest of a
	 * document cut into several writes, or a buffered writer sending its
	 * last chunk again at close, must not read as a new document (and
	 * overwrite the reason).  Cleared by truncation to 0. */
	int doc_error;
	bool applied; /* META: a document was applied or refused through it */
	unsigned busy; /* reads whose reply still points into it; fs lock */
	bool released; /* the kernel released it: freed once not busy; fs lock */
	bool writer;
	struct tfs_cred cred;
};

/* The table a handle is open on, if it still has one; lock held. */
static struct table *handle_table(const struct tfs_handle *h)
{
	const struct tfs_node *n = h->node;

	if (n->kind == TFS_N_NPY)
		n = n->pins[0];
	switch (n->kind) {
	case TFS_N_META:
	case TFS_N_ARROW:
		return n->table->removed ? NULL : n->table;
	case TFS_N_COLUMN:
		return n->col ? n->owner : NULL;
	default:
		return NULL;
	}
}

static void zero_handles(const void *p, VISIT which, void *ctx)
{
	(void)ctx;
	if (which == postorder || which == leaf)
		(*(struct table *const *)p)->open_handles = 0;
}

static void count_handle(const void *p, VISIT which, void *ctx)
{
	struct table *t;

	(void)ctx;
	if ((which == postorder || which == leaf) && (t = handle_table(*(struct tfs_handle *const *)p)))
		t->open_handles++;
}

void tfs_handles_count(struct tfs_fs *fs)
{
	twalk_r(fs->tables, zero_handles, NULL);
	twalk_r(fs->handles, count_handle, NULL);
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

	tfs_handles_count(fs);
	free(tfs_render_status(fs, &len));
	return len;
}

uint64_t tfs_generated_size(struct tfs_fs *fs, const struct tfs_node *node)
{
	return node->kind == TFS_N_META ? meta_length(node->table) : status_length(fs);
}

static int handle_cmp(const void *a, const void *b)
{
	tfs_fh_t x = ((const struct tfs_handle *)a)->id, y = ((const struct tfs_handle *)b)->id;

	return x < y ? -1 : x > y;
}

/* Makes a handle on node: meta.json and .status are rendered now; lock held. */
static int handle_new(struct tfs_fs *fs, struct tfs_node *node, tfs_fh_t id, bool writing,
		      const struct tfs_cred *cred, struct tfs_handle **out)
{
	struct tfs_handle *h = calloc(1, sizeof(*h));
	int rc = 0;

	if (!h)
		return -ENOMEM;
	h->id = id;
	h->node = node;
	h->cred = *cred;
	h->writer = writing;
	switch (node->kind) {
	case TFS_N_ROOT:
	case TFS_N_TABLE:
		rc = -EISDIR;
		break;
	case TFS_N_COLUMN:
		break;
	case TFS_N_META:
		if (node->table->removed)
			rc = -ENOENT;
		else if (!(h->snap = tfs_render_meta(node->table, &h->snaplen)))
			rc = -ENOMEM;
		break;
	case TFS_N_STATUS:
		if (writing) {
			rc = -EPERM;
			break;
		}
		tfs_handles_count(fs);
		if (!(h->snap = tfs_render_status(fs, &h->snaplen)))
			rc = -ENOMEM;
		break;
	case TFS_N_NPY:
	case TFS_N_ARROW:
		if (writing)
			rc = -EPERM; /* derived from the columns */
		break;
	}
	if (rc == 0 && !tsearch(h, &fs->handles, handle_cmp))
		rc = -ENOMEM;
	if (rc < 0) {
		free(h->snap);
		free(h);
		return rc;
	}
	node->nopen++;
	*out = h;
	return 0;
}

int tfs_open(struct tfs_fs *fs, tfs_ino_t ino, int flags, const struct tfs_cred *cred,
	     tfs_fh_t *fh, enum tfs_node_kind *kind)
{
	struct tfs_handle *h;
	struct tfs_node *node;
	int rc;

	pthread_mutex_lock(&fs->lock);
	node = tfs_node_find(fs, ino);
	if (!node || node->hollow) {
		/* A replaced view: the kernel looks the name up again and
		 * opens what it names now. */
		rc = -ESTALE;
	} else if (node->kind == TFS_N_COLUMN && (flags & O_TRUNC)) {
		/* Truncating would change rows * itemsize behind the schema:
		 * to create anew, delete the column and write meta.json. */
		rc = -EPERM;
	} else if (node->kind == TFS_N_COLUMN && tfs_role_readonly(node->role) &&
		   (flags & O_ACCMODE) != O_RDONLY) {
		/* A category's dictionary: codes never change meaning. */
		rc = -EPERM;
	} else if ((rc = tfs_view_open_check(node)) < 0) {
		/* broken since the view was made: refused before a reader
		 * maps it, rather than failing its reads */
	} else {
		rc = handle_new(fs, node, fs->epoch << 40 | ++fs->next_fh,
				(flags & O_ACCMODE) != O_RDONLY, cred, &h);
		if (rc == 0) {
			*fh = h->id;
			*kind = node->kind;
		}
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

/* The handle fh on ino.  One the kernel holds from an earlier serving
 * process is taken over: made anew on the same node, for reading and
 * writing (the kernel checked the access when it was opened), with the
 * node's owner as the writer of any column it creates.  Lock held. */
static int handle_get(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, struct tfs_handle **out)
{
	struct tfs_handle key = {.id = fh};
	struct tfs_node *node;
	struct tfs_cred cred;
	void *p = tfind(&key, &fs->handles, handle_cmp);

	if (p) {
		*out = *(struct tfs_handle **)p;
		return 0;
	}
	if (fh >> 40 == fs->epoch)
		return -EBADF;
	node = tfs_node_find(fs, ino);
	if (!node || node->hollow)
		return -ESTALE;
	cred.uid = node->kind == TFS_N_META ? node->table->dir.uid : node->uid;
	cred.gid = node->kind == TFS_N_META ? node->table->dir.gid : node->gid;
	cred.umask = 022;
	return handle_new(fs, node, fh, node->kind != TFS_N_STATUS, &cred, out);
}

/* handle_get taking the lock: the handle stays valid unlocked, as the
 * kernel sends no release while other requests on it are in flight. */
static int handle_of(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, struct tfs_handle **out)
{
	int rc;

	pthread_mutex_lock(&fs->lock);
	rc = handle_get(fs, ino, fh, out);
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

int tfs_bind(struct tfs_fs *fs, tfs_fh_t fh, int (*bind)(void *ctx, int fd), void *ctx)
{
	struct tfs_handle key = {.id = fh};
	struct tfs_node *v;
	void *p;
	int id;

	pthread_mutex_lock(&fs->lock);
	p = tfind(&key, &fs->handles, handle_cmp);
	if (!p || (v = (*(struct tfs_handle **)p)->node)->kind != TFS_N_COLUMN) {
		pthread_mutex_unlock(&fs->lock);
		return -EBADF;
	}
	if (v->backing_id == 0) {
		id = bind(ctx, v->store.fd);
		if (id < 0)
			tfs_log(TFS_LOG_WARNING, "column served through the page cache: "
						 "passthrough binding refused (%s)",
				strerror(-id));
		v->backing_id = id > 0 ? id : -1;
		tfs_persist_extent(fs, v);
	}
	id = v->backing_id;
	pthread_mutex_unlock(&fs->lock);
	return id;
}

int tfs_read(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, uint64_t off, size_t size,
	     const void **data, size_t *n, void **to_free, struct tfs_handle **hold)
{
	struct tfs_handle *h;
	const char *base;
	uint64_t len;
	int rc;

	*to_free = NULL;
	*hold = NULL;
	/* The reply is written from the handle's memory after this returns:
	 * hold the handle until tfs_read_done, a release meanwhile waits. */
	pthread_mutex_lock(&fs->lock);
	rc = handle_get(fs, ino, fh, &h);
	if (rc == 0) {
		h->busy++;
		*hold = h;
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc < 0)
		return rc;
	if (h->node->kind == TFS_N_NPY || h->node->kind == TFS_N_ARROW) {
		len = tfs_view_size(h->node);
		size = off >= len ? 0 : size < len - off ? size : (size_t)(len - off);
		*to_free = malloc(size ? size : 1);
		if (!*to_free)
			return -ENOMEM;
		ssize_t got = tfs_view_read(h->node, off, size, *to_free);
		if (got < 0) {
			/* offsets or codes a writer broke since the view was made */
			pthread_mutex_lock(&fs->lock);
			if (h->node->kind == TFS_N_ARROW && !h->node->table->removed)
				tfs_table_refused(h->node->table, "a read of " TFS_ARROW_NAME,
						  (int)got,
						  "offsets or codes were broken after the view was "
						  "made (a writer changed them)");
			pthread_mutex_unlock(&fs->lock);
			return (int)got;
		}
		*n = (size_t)got;
		*data = *to_free;
		return 0;
	}
	if (h->node->kind == TFS_N_COLUMN) {
		base = h->node->store.map;
		len = h->node->store.size;
	} else {
		base = h->snap;
		len = h->snaplen;
	}
	if (off >= len) {
		*data = base;
		*n = 0;
		return 0;
	}
	*data = base + off;
	*n = size < len - off ? size : (size_t)(len - off);
	if (h->node->kind == TFS_N_COLUMN) {
		atomic_fetch_add(&fs->reads, 1);
		atomic_fetch_add(&fs->read_bytes, *n);
	}
	return 0;
}

/* Applies and forgets the document collected in h; its error is returned. */
static int apply_pending(struct tfs_fs *fs, struct tfs_handle *h)
{
	int rc = tfs_apply(fs, h->node->table->dir.ino, h->doc, h->doclen, &h->cred);

	h->doclen = 0;
	h->applied = true;
	return rc;
}

/* Records why a document too long for meta.json was refused. */
static void refuse_big(struct tfs_fs *fs, struct tfs_handle *h)
{
	char why[TFS_WHY_MAX];

	snprintf(why, sizeof(why), "document larger than %u bytes", TFS_DOC_MAX);
	pthread_mutex_lock(&fs->lock);
	if (!h->node->table->removed)
		tfs_table_error(h->node->table, -EFBIG, why);
	pthread_mutex_unlock(&fs->lock);
}

static int meta_write(struct tfs_fs *fs, struct tfs_handle *h, const void *buf, size_t size)
{
	int rc;

	if (!h->writer)
		return -EBADF;
	if (h->doc_error)
		return h->doc_error;
	if (size > TFS_DOC_MAX - h->doclen) {
		h->doclen = 0;
		h->doc_error = -EFBIG;
		refuse_big(fs, h);
		return -EFBIG;
	}
	if (h->doclen + size > h->doccap) {
		size_t cap = h->doccap ? h->doccap : 4096;
		while (cap < h->doclen + size)
			cap *= 2;
		char *d = realloc(h->doc, cap);
		if (!d)
			return -ENOMEM;
		h->doc = d;
		h->doccap = cap;
	}
	memcpy(h->doc + h->doclen, buf, size);
	h->doclen += size;
	h->written += size;
	switch (tfs_json_state(h->doc, h->doclen)) {
	case TFS_JSON_INCOMPLETE:
		return 0; /* more to come, or applied at close */
	case TFS_JSON_COMPLETE:
	case TFS_JSON_INVALID:
		break;
	}
	rc = apply_pending(fs, h);
	if (rc < 0)
		h->doc_error = rc;
	return rc;
}

int tfs_write(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, uint64_t off, const void *buf,
	      size_t size)
{
	struct tfs_handle *h;
	struct tfs_node *v;
	int rc = handle_of(fs, ino, fh, &h);

	if (rc < 0)
		return rc;
	v = h->node;

	switch (v->kind) {
	case TFS_N_COLUMN:
		/* The size is rows * itemsize: a write that would not fit
		 * entirely changes nothing, with the seal's own errno. */
		if (off > v->store.size || size > v->store.size - off ||
		    tfs_role_readonly(v->role))
			return -EPERM;
		if (size)
			memcpy((char *)v->store.map + off, buf, size);
		atomic_fetch_add(&fs->writes, 1);
		atomic_fetch_add(&fs->write_bytes, size);
		return 0;
	case TFS_N_META:
		return meta_write(fs, h, buf, size);
	default:
		return -EPERM;
	}
}

int tfs_flush(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh)
{
	struct tfs_handle *h;
	size_t i = 0;
	int rc = handle_of(fs, ino, fh, &h);

	if (rc < 0)
		return rc;
	if (h->node->kind != TFS_N_META)
		return 0;
	if (h->doc_error)
		return h->doc_error;
	if (!h->doclen)
		return 0;
	while (i < h->doclen && strchr(" \t\r\n", h->doc[i]))
		i++;
	/* White space after a document ends it (a newline written on its
	 * own); white space alone is an empty document. */
	if (i == h->doclen && h->applied) {
		h->doclen = 0;
		return 0;
	}
	rc = apply_pending(fs, h);
	if (rc < 0)
		h->doc_error = rc;
	return rc;
}

int tfs_meta_truncate(struct tfs_fs *fs, struct tfs_node *meta, tfs_fh_t fh, uint64_t size)
{
	struct tfs_handle *h = NULL;
	int rc;

	if (fh) {
		rc = handle_get(fs, meta->ino, fh, &h);
		if (rc < 0)
			return rc;
	}
	if (size == 0) {
		/* Editors truncate before writing the file again: what they
		 * write next is a new document. */
		if (h && h->writer) {
			h->doclen = 0;
			h->written = 0;
			h->doc_error = 0;
		}
		return 0;
	}
	/* After the document, a writer may cut the file to what it wrote
	 * (Python's truncate(), rsync --inplace): the document stands. */
	if ((h && size == h->written) || size == meta->table->meta_len)
		return 0;
	tfs_log(TFS_LOG_INFO, "truncate of %s/meta.json to %llu bytes refused: it is generated",
		meta->table->name, (unsigned long long)size);
	return -EPERM;
}

static void handle_free(void *p)
{
	struct tfs_handle *h = p;

	free(h->snap);
	free(h->doc);
	free(h);
}

/* Lets the handle and its node go once released and no reply uses them;
 * lock held.  True when h was freed. */
static bool handle_settle(struct tfs_fs *fs, struct tfs_handle *h)
{
	if (!h->released || h->busy)
		return false;
	h->node->nopen--;
	tfs_node_maybe_free(fs, h->node);
	return true;
}

void tfs_read_done(struct tfs_fs *fs, struct tfs_handle *hold)
{
	bool gone;

	if (!hold)
		return;
	pthread_mutex_lock(&fs->lock);
	hold->busy--;
	gone = handle_settle(fs, hold);
	pthread_mutex_unlock(&fs->lock);
	if (gone)
		handle_free(hold);
}

void tfs_release(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh)
{
	struct tfs_handle key = {.id = fh}, *h = NULL;
	bool gone = false;
	void *p;

	(void)ino; /* a handle of an earlier process: nothing to release */
	pthread_mutex_lock(&fs->lock);
	p = tfind(&key, &fs->handles, handle_cmp);
	if (p) {
		h = *(struct tfs_handle **)p;
		tdelete(h, &fs->handles, handle_cmp);
		h->released = true;
		gone = handle_settle(fs, h);
	}
	pthread_mutex_unlock(&fs->lock);
	if (gone)
		handle_free(h);
}

void tfs_handles_free(struct tfs_fs *fs)
{
	tdestroy(fs->handles, handle_free);
	fs->handles = NULL;
}

int tfs_create(struct tfs_fs *fs, tfs_ino_t dir, const char *name, int flags,
	       const struct tfs_cred *cred, tfs_fh_t *fh, enum tfs_node_kind *kind,
	       struct tfs_attr *attr)
{
	char col[TFS_NAME_MAX + 1];
	enum tfs_role role;
	struct tfs_handle *h;
	struct tfs_node *d, *node = NULL;
	struct table *t;
	ssize_t i;
	int rc = 0;

	pthread_mutex_lock(&fs->lock);
	d = tfs_node_find(fs, dir);
	if (!d) {
		rc = -ESTALE;
	} else if (d->kind != TFS_N_TABLE) {
		rc = -EPERM; /* tables are made by mkdir, .status is there */
	} else if ((t = d->table)->removed) {
		rc = -ENOENT;
	} else if (strcmp(name, TFS_META_NAME) == 0) {
		if (t->meta_unlinked) {
			t->meta_unlinked = false;
			node = &t->meta;
		} else {
			rc = -EEXIST;
		}
	} else if (tfs_column_find(t, name) >= 0) {
		rc = -EEXIST;
	} else if (tfs_role_parse(name, col, &role) == 0 && role != TFS_ROLE_MAIN) {
		/* Companion files come and go with their column. */
		i = tfs_column_find(t, col);
		rc = i >= 0 && t->cols[i]->file[role] ? -EEXIST : -EPERM;
	} else {
		rc = 1; /* a deleted column, or nothing */
	}
	pthread_mutex_unlock(&fs->lock);
	if (rc == 1) {
		rc = tfs_apply_recreate(fs, dir, name, cred);
		if (rc == -EPERM)
			tfs_log(TFS_LOG_INFO, "creating '%s' in a table refused: columns are "
					      "made by writing meta.json", name);
		if (rc < 0)
			return rc;
		pthread_mutex_lock(&fs->lock);
		d = tfs_node_find(fs, dir);
		if (!d || (t = d->table)->removed || (i = tfs_column_find(t, name)) < 0)
			rc = -ENOENT; /* deleted again meanwhile */
		else
			node = t->cols[i]->file[TFS_ROLE_MAIN];
		pthread_mutex_unlock(&fs->lock);
	}
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&fs->lock);
	rc = handle_new(fs, node, fs->epoch << 40 | ++fs->next_fh, (flags & O_ACCMODE) != O_RDONLY,
			cred, &h);
	if (rc == 0) {
		if (node->nlookup != TFS_NLOOKUP_UNKNOWN) /* see tfs_lookup */
			node->nlookup++;
		*fh = h->id;
		*kind = node->kind;
		tfs_fill_attr(fs, node, attr);
	}
	pthread_mutex_unlock(&fs->lock);
	return rc;
}

