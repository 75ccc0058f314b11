#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuse_ops.h"
#include "log.h"
#include "takeover.h"

/* FUSE node ids are the core's inode numbers, the root's included. */
_Static_assert(FUSE_ROOT_ID == TFS_ROOT_INO, "the root's node id");
_Static_assert(sizeof(fuse_ino_t) == sizeof(tfs_ino_t), "node ids are inode numbers");

static struct ll *ll_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct tfs_fs *fs_of(fuse_req_t req)
{
	return ll_of(req)->fs;
}

static void to_stat(const struct tfs_attr *a, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = a->ino;
	st->st_mode = a->mode;
	st->st_nlink = a->nlink;
	st->st_uid = a->uid;
	st->st_gid = a->gid;
	st->st_size = (off_t)a->size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((a->size + 511) / 512);
	st->st_atim = a->atime;
	st->st_mtim = a->mtime;
	st->st_ctim = a->ctime;
}

/* .status changes with everything: never cache its attributes.  meta.json's
 * are invalidated by the core whenever its table changes. */
static double attr_timeout(struct ll *ll, const struct tfs_attr *a)
{
	return a->kind == TFS_N_STATUS ? 0.0 : ll->attr_timeout;
}

static void fill_entry(struct ll *ll, const struct tfs_attr *a, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = a->ino;
	e->generation = a->ino; /* st_ino is never reused: see catalog_impl.h */
	to_stat(a, &e->attr);
	e->attr_timeout = attr_timeout(ll, a);
	/* A view's name leads to a new node whenever its column or table
	 * changes; looking it up each time costs less than invalidating it
	 * (which the handlers of the table's directory could not do). */
	e->entry_timeout = a->kind == TFS_N_NPY || a->kind == TFS_N_ARROW ? 0.0 : ll->entry_timeout;
}

static struct tfs_cred cred_of(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct tfs_cred c = {.uid = ctx->uid, .gid = ctx->gid, .umask = ctx->umask};

	return c;
}

static void reply_entry_or_err(fuse_req_t req, int rc, const struct tfs_attr *a)
{
	struct ll *ll = ll_of(req);
	struct fuse_entry_param e;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fill_entry(ll, a, &e);
	if (fuse_reply_entry(req, &e) != 0)
		tfs_forget(ll->fs, a->ino, 1); /* the kernel never got it */
}

static void ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct ll *ll = userdata;

	if (ll->restored)
		takeover_refresh_kernel(ll->se, ll->fs, ll->entry_timeout);

	/* Writes must reach the column memory at once, not sit in a cache:
	 * the kernel's writeback cache would also rule out passthrough. */
	conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	datapath_init(ll->dp, conn);
}

static void ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct ll *ll = ll_of(req);
	struct tfs_attr a;

	datapath_ready(ll->dp);
	reply_entry_or_err(req, tfs_lookup(ll->fs, parent, name, &a), &a);
}

static void ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	tfs_forget(fs_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		tfs_forget(fs_of(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct tfs_attr a;
	struct stat st;
	int rc;

	(void)fi;
	datapath_ready(ll->dp);
	rc = tfs_getattr(ll->fs, ino, &a);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	to_stat(&a, &st);
	fuse_reply_attr(req, &st, attr_timeout(ll, &a));
}

static struct timespec resolve_time(const struct timespec *ts, bool now)
{
	struct timespec t = *ts;

	if (now)
		clock_gettime(CLOCK_REALTIME, &t);
	return t;
}

static void ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *st, int to_set,
		       struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct tfs_setattr sa = {
		.set_mode = to_set & FUSE_SET_ATTR_MODE,
		.set_uid = to_set & FUSE_SET_ATTR_UID,
		.set_gid = to_set & FUSE_SET_ATTR_GID,
		.set_size = to_set & FUSE_SET_ATTR_SIZE,
		.set_atime = to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_ATIME_NOW),
		.set_mtime = to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW),
		.mode = st->st_mode,
		.uid = st->st_uid,
		.gid = st->st_gid,
		.size = (uint64_t)st->st_size,
		.atime = resolve_time(&st->st_atim, to_set & FUSE_SET_ATTR_ATIME_NOW),
		.mtime = resolve_time(&st->st_mtim, to_set & FUSE_SET_ATTR_MTIME_NOW),
	};
	struct tfs_attr a;
	struct stat out;
	int rc;

	rc = tfs_setattr(ll->fs, ino, fi ? fi->fh : 0, &sa, &a);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	to_stat(&a, &out);
	fuse_reply_attr(req, &out, attr_timeout(ll, &a));
}

static void ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct tfs_cred cred = cred_of(req);
	struct tfs_attr a;
	int rc = tfs_mkdir(fs_of(req), parent, name, mode, &cred, &a);

	rc = takeover_settle_mkdir(fs_of(req), parent, name, rc, &a);
	reply_entry_or_err(req, rc, &a);
}

static void ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int rc = tfs_rmdir(fs_of(req), parent, name);

	fuse_reply_err(req, -takeover_settle_remove(rc));
}

static void ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	int rc = tfs_unlink(fs_of(req), parent, name);

	fuse_reply_err(req, -takeover_settle_remove(rc));
}

static void ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	int rc = tfs_rename(fs_of(req), parent, name, newparent, newname, flags);

	fuse_reply_err(req, -takeover_settle_rename(fs_of(req), newparent, newname, rc));
}

/* Columns are made by writing meta.json, which knows their type; files and
 * links cannot be made any other way. */
static void ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	(void)parent, (void)name, (void)mode, (void)rdev;
	fuse_reply_err(req, EPERM);
}

/* Creating a file by name brings back what a copying tool just unlinked
 * (see tfs_create); nothing else. */
static void ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct tfs_cred cred = cred_of(req);
	struct fuse_entry_param e;
	enum tfs_node_kind kind;
	struct tfs_attr a;
	tfs_fh_t fh;
	int rc = tfs_create(ll->fs, parent, name, fi->flags, &cred, &fh, &kind, &a);

	(void)mode; /* a column takes its table's mode, as one made by meta.json */
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = fh;
	datapath_open(ll->dp, ll->fs, kind, fi);
	fill_entry(ll, &a, &e);
	rc = fuse_reply_create(req, &e, fi);
	datapath_open_done(ll->dp);
	if (rc != 0) {
		/* Interrupted: no release and no forget will come. */
		tfs_release(ll->fs, a.ino, fh);
		tfs_forget(ll->fs, a.ino, 1);
	}
}

static void ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link, (void)parent, (void)name;
	fuse_reply_err(req, EPERM);
}

static void ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino, (void)newparent, (void)newname;
	fuse_reply_err(req, EPERM);
}

struct dir_snapshot {
	struct tfs_dirent *ents;
	size_t n;
};

static void ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_snapshot *d = calloc(1, sizeof(*d));
	int rc;

	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	rc = tfs_readdir(fs_of(req), ino, &d->ents, &d->n);
	if (rc < 0) {
		free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)d;
	if (fuse_reply_open(req, fi) != 0) {
		free(d->ents);
		free(d);
	}
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi, bool plus)
{
	struct ll *ll = ll_of(req);
	struct dir_snapshot *d = (struct dir_snapshot *)(uintptr_t)fi->fh;
	char *buf = malloc(size), *p = buf;
	size_t left = size;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = (size_t)off; i < d->n; i++) {
		const struct tfs_dirent *e = &d->ents[i];
		struct stat st = {.st_ino = e->ino, .st_mode = e->type};
		size_t len;

		if (!plus) {
			len = fuse_add_direntry(req, p, left, e->name, &st, (off_t)i + 1);
		} else if (i < 2) {
			/* "." and ".." are not looked up: no reference. */
			struct fuse_entry_param ep = {.attr = st};
			len = fuse_add_direntry_plus(req, p, left, e->name, &ep, (off_t)i + 1);
		} else {
			struct fuse_entry_param ep;
			struct tfs_attr a;
			if (tfs_lookup(ll->fs, ino, e->name, &a) < 0)
				continue; /* gone since opendir */
			fill_entry(ll, &a, &ep);
			len = fuse_add_direntry_plus(req, p, left, e->name, &ep, (off_t)i + 1);
			if (len > left)
				tfs_forget(ll->fs, a.ino, 1);
		}
		if (len > left)
			break;
		p += len;
		left -= len;
	}
	fuse_reply_buf(req, buf, size - left);
	free(buf);
}

static void ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dir_snapshot *d = (struct dir_snapshot *)(uintptr_t)fi->fh;

	(void)ino;
	free(d->ents);
	free(d);
	fuse_reply_err(req, 0);
}

static void ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct ll *ll = ll_of(req);
	struct tfs_cred cred = cred_of(req);
	enum tfs_node_kind kind;
	tfs_fh_t fh;
	int rc = tfs_open(ll->fs, ino, fi->flags, &cred, &fh, &kind);

	if (rc == 0) {
		fi->fh = fh;
		datapath_open(ll->dp, ll->fs, kind, fi);
	} else {
		fuse_reply_err(req, -rc);
		return;
	}
	rc = fuse_reply_open(req, fi);
	datapath_open_done(ll->dp);
	if (rc != 0)
		tfs_release(ll->fs, ino, fh); /* interrupted: no release will come */
}

static void ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct tfs_fs *fs = fs_of(req); /* req is gone once replied to */
	struct tfs_handle *hold;
	const void *data;
	void *to_free;
	size_t n;
	int rc = tfs_read(fs, ino, fi->fh, (uint64_t)off, size, &data, &n, &to_free, &hold);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, data, n);
	tfs_read_done(fs, hold);
	free(to_free);
}

static void ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	int rc = tfs_write(fs_of(req), ino, fi->fh, (uint64_t)off, buf, size);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_write(req, size);
}

static void ll_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, -tfs_flush(fs_of(req), ino, fi->fh));
}

static void ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	tfs_release(fs_of(req), ino, fi->fh);
	fuse_reply_err(req, 0);
}

/* The bytes are memory: there is nothing to make durable. */
static void ll_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)ino, (void)datasync, (void)fi;
	fuse_reply_err(req, 0);
}

static void ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct tfs_statfs s;
	struct statvfs v = {0};

	(void)ino;
	tfs_statfs(ll_of(req)->fs, &s);
	v.f_bsize = v.f_frsize = 4096;
	v.f_blocks = s.limit / 4096;
	v.f_bfree = v.f_bavail = s.used < s.limit ? (s.limit - s.used) / 4096 : 0;
	/* Inodes: the tables and columns there are, and as free the column
	 * files the open file limit still allows; df -i never shows a
	 * negative use. */
	uint64_t ffree = UINT32_MAX;
	if (s.max_extents)
		ffree = s.extents < s.max_extents ? s.max_extents - s.extents : 0;
	v.f_files = s.tables + s.columns + ffree;
	v.f_ffree = v.f_favail = ffree;
	v.f_namemax = TFS_NAME_MAX;
	fuse_reply_statfs(req, &v);
}

const struct fuse_lowlevel_ops tfs_ll_ops = {
	.init = ll_init,
	.lookup = ll_lookup,
	.forget = ll_forget,
	.forget_multi = ll_forget_multi,
	.getattr = ll_getattr,
	.setattr = ll_setattr,
	.mkdir = ll_mkdir,
	.rmdir = ll_rmdir,
	.unlink = ll_unlink,
	.rename = ll_rename,
	.mknod = ll_mknod,
	.create = ll_create,
	.symlink = ll_symlink,
	.link = ll_link,
	.opendir = ll_opendir,
	.readdir = ll_readdir,
	.readdirplus = ll_readdirplus,
	.releasedir = ll_releasedir,
	.open = ll_open,
	.read = ll_read,
	.write = ll_write,
	.flush = ll_flush,
	.release = ll_release,
	.fsync = ll_fsync,
	.statfs = ll_statfs,
};

static void send_inval_inode(struct ll *ll, tfs_ino_t ino)
{
	int rc = fuse_lowlevel_notify_inval_inode(ll->se, ino, 0, 0);

	if (rc < 0 && rc != -ENOENT)
		tfs_log(TFS_LOG_WARNING, "cannot invalidate a cached inode: %s", strerror(-rc));
}

static void send_inval_entry(struct ll *ll, tfs_ino_t dir, const char *name)
{
	int rc = fuse_lowlevel_notify_inval_entry(ll->se, dir, name, strlen(name));

	if (rc < 0 && rc != -ENOENT)
		tfs_log(TFS_LOG_WARNING, "cannot invalidate cached name '%s': %s", name,
			strerror(-rc));
}

static void send_delete(struct ll *ll, tfs_ino_t dir, tfs_ino_t child, const char *name)
{
	int rc = fuse_lowlevel_notify_delete(ll->se, dir, child, name, strlen(name));

	if (rc < 0 && rc != -ENOENT)
		tfs_log(TFS_LOG_WARNING, "cannot drop deleted name '%s': %s", name, strerror(-rc));
}

/* Notifications are sent from the request handler that caused them, before
 * it replies: whoever changed a table sees the change at once (a column
 * opened by name right after a resize is the new extent).  The kernel may
 * need other requests served meanwhile: it takes the directory's lock to
 * drop a name (a lookup may hold it, waiting for us), and writes dirty pages
 * back before dropping them.  The multithreaded loop serves those in other
 * threads.  A single-threaded daemon (-s) cannot, so there notifications go
 * to a thread of their own and land a moment after the reply; so do, in
 * every daemon, those of names under the directory lock the request itself
 * holds (the companion files of a column renamed or removed). */
struct ll_note {
	struct ll_note *next;
	tfs_ino_t ino; /* the directory, for an entry; else the inode */
	tfs_ino_t child; /* a deleted entry's inode; else 0 */
	struct timespec when; /* not sent before (CLOCK_MONOTONIC) */
	bool entry;
	char name[];
};

struct ll_notifier {
	struct ll *ll;
	double delay; /* seconds each note waits; constant */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ll_note *head, **tail; /* lock */
	bool stop; /* lock */
};

/* Now on the monotonic clock, plus seconds. */
static struct timespec mono_after(double seconds)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)seconds;
	t.tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

static bool mono_past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void *notifier_main(void *arg)
{
	struct ll_notifier *n = arg;
	struct ll *ll = n->ll;
	struct ll_note *e;

	pthread_mutex_lock(&n->lock);
	for (;;) {
		while (!n->head && !n->stop)
			pthread_cond_wait(&n->wake, &n->lock);
		if (!n->head)
			break;
		/* a deferred note waits for its time (at stop, no longer) */
		if (!n->stop && !mono_past(&n->head->when)) {
			pthread_cond_timedwait(&n->wake, &n->lock, &n->head->when);
			continue;
		}
		e = n->head;
		n->head = e->next;
		if (!n->head)
			n->tail = &n->head;
		pthread_mutex_unlock(&n->lock);
		if (e->child)
			send_delete(ll, e->ino, e->child, e->name);
		else if (e->entry)
			send_inval_entry(ll, e->ino, e->name);
		else
			send_inval_inode(ll, e->ino);
		free(e);
		pthread_mutex_lock(&n->lock);
	}
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

static void notifier_stop(struct ll_notifier *n)
{
	if (!n)
		return;
	pthread_mutex_lock(&n->lock);
	n->stop = true; /* what is queued still goes out */
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
	pthread_join(n->thread, NULL);
	pthread_cond_destroy(&n->wake);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

/* A thread that sends the notifications queued to it, each delay seconds
 * after it was queued. */
static int notifier_start(struct ll *ll, double delay, struct ll_notifier **out)
{
	struct ll_notifier *n = calloc(1, sizeof(*n));
	pthread_condattr_t attr;
	int rc;

	if (!n)
		return -ENOMEM;
	n->ll = ll;
	n->delay = delay;
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&n->wake, &attr);
	pthread_condattr_destroy(&attr);
	n->tail = &n->head;
	rc = pthread_create(&n->thread, NULL, notifier_main, n);
	if (rc != 0) {
		pthread_cond_destroy(&n->wake);
		pthread_mutex_destroy(&n->lock);
		free(n);
		return -rc;
	}
	*out = n;
	return 0;
}

/* How long the names of a deleted column's other files stay with the
 * kernel: rm -r, which listed them, unlinks them itself meanwhile (and
 * finds them); after it, the kernel is told they are gone, so that it
 * lets their inodes, and the memory, go. */
#define DELETED_NAMES_GRACE 1.0

int tfs_ll_notifier_start(struct ll *ll)
{
	int rc = notifier_start(ll, 0, &ll->notifier);

	if (rc == 0) {
		rc = notifier_start(ll, DELETED_NAMES_GRACE, &ll->deferred);
		if (rc < 0) {
			notifier_stop(ll->notifier);
			ll->notifier = NULL;
		}
	}
	return rc;
}

void tfs_ll_notifier_stop(struct ll *ll)
{
	notifier_stop(ll->notifier);
	notifier_stop(ll->deferred);
	ll->notifier = ll->deferred = NULL;
}

/* Queues a notification for the notifier thread (single-threaded daemon). */
static void queue_note(struct ll_notifier *n, tfs_ino_t ino, tfs_ino_t child, const char *name)
{
	struct ll_note *e = malloc(sizeof(*e) + (name ? strlen(name) : 0) + 1);

	if (!e) {
		tfs_log(TFS_LOG_WARNING, "cannot queue a cache invalidation: out of memory");
		return;
	}
	e->next = NULL;
	e->ino = ino;
	e->child = child;
	e->when = mono_after(n->delay);
	e->entry = name != NULL;
	strcpy(e->name, name ? name : "");
	pthread_mutex_lock(&n->lock);
	*n->tail = e;
	n->tail = &e->next;
	pthread_cond_signal(&n->wake);
	pthread_mutex_unlock(&n->lock);
}

static void hook_inval_inode(void *ctx, tfs_ino_t ino)
{
	struct ll *ll = ctx;

	if (ll->singlethread && ll->notifier)
		queue_note(ll->notifier, ino, 0, NULL);
	else
		send_inval_inode(ll, ino);
}

static void hook_inval_entry(void *ctx, tfs_ino_t dir, const char *name)
{
	struct ll *ll = ctx;

	if (ll->singlethread && ll->notifier)
		queue_note(ll->notifier, dir, 0, name);
	else
		send_inval_entry(ll, dir, name);
}

static void hook_inval_entry_later(void *ctx, tfs_ino_t dir, const char *name)
{
	struct ll *ll = ctx;

	if (ll->notifier)
		queue_note(ll->notifier, dir, 0, name);
}

static void hook_delete_later(void *ctx, tfs_ino_t dir, tfs_ino_t child, const char *name)
{
	struct ll *ll = ctx;

	if (ll->deferred)
		queue_note(ll->deferred, dir, child, name);
}

static void hook_extent_gone(void *ctx, int backing_id)
{
	datapath_extent_gone(((struct ll *)ctx)->dp, backing_id);
}

static void hook_data_path(void *ctx, const char **mode, const char **why)
{
	struct ll *ll = ctx;

	*mode = datapath_mode(ll->dp);
	*why = datapath_reason(ll->dp);
}

void tfs_ll_hooks(struct ll *ll, struct tfs_hooks *hooks)
{
	hooks->data_path = hook_data_path;
	hooks->ctx = ll;
	hooks->inval_inode = hook_inval_inode;
	hooks->inval_entry = hook_inval_entry;
	hooks->inval_entry_later = hook_inval_entry_later;
	hooks->delete_later = hook_delete_later;
	hooks->extent_gone = hook_extent_gone;
}
