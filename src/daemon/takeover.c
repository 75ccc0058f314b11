/* Crash takeover on the FUSE connection: INIT capture and replay, the gate
 * that holds requests until the kernel has been asked to resend, the
 * refresh of what the kernel caches, and the rules for resent requests.
 * See takeover.h. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "fuse_abi.h"
#include "log.h"
#include "takeover.h"

/* The kernel's INIT request, as first received (for takeover_init_request). */
static unsigned char init_request[256];
static size_t init_request_len;
/* An INIT to feed the session instead of reading one (a takeover). */
static const unsigned char *replay;
static size_t replay_len;
static atomic_bool replay_pending;
/* Closed during a takeover, from the start until the replayed INIT is
 * answered and the kernel asked to resend: no other request is read
 * meanwhile.  libfuse serves requests as soon as INIT begins, before the
 * init handler ran, and answers EIO to those read before INIT; and the
 * kernel resends every request read but not answered when asked, those
 * of this process too, which would then be carried out twice at once. */
static atomic_bool gate_closed;
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;

/* Whether the request this thread read last was sent again.  libfuse
 * processes a request in the thread that read it. */
static _Thread_local bool current_resent;

static void gate_open(void)
{
	pthread_mutex_lock(&gate_lock);
	atomic_store(&gate_closed, false);
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_wait(void)
{
	if (!atomic_load(&gate_closed))
		return;
	pthread_mutex_lock(&gate_lock);
	while (atomic_load(&gate_closed))
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

void takeover_begin(const void *replay_init, size_t len)
{
	replay = replay_init;
	replay_len = len;
	atomic_store(&replay_pending, replay_init != NULL);
	atomic_store(&gate_closed, replay_init != NULL);
}

ssize_t takeover_read(int fd, void *buf, size_t len)
{
	struct pt_in_header *h = buf;
	bool replayed = false;
	ssize_t n = 0;

	if (atomic_exchange(&replay_pending, false)) {
		if (replay_len <= len) {
			memcpy(buf, replay, replay_len);
			h->unique = PT_REPLAY_UNIQUE;
			n = (ssize_t)replay_len;
			replayed = true;
		} else {
			gate_open(); /* no replay: the session fails at the next request */
		}
	}
	if (!replayed) {
		gate_wait();
		n = read(fd, buf, len);
	}
	current_resent = n >= (ssize_t)sizeof(*h) && (h->unique & PT_UNIQUE_RESEND) &&
			 h->unique != PT_REPLAY_UNIQUE;
	/* Only the kernel's own INIT is kept: the supervisor has a replayed one. */
	if (!replayed && n >= (ssize_t)(sizeof(*h) + sizeof(struct pt_init_in)) &&
	    h->opcode == PT_FUSE_INIT && (size_t)n <= sizeof(init_request)) {
		memcpy(init_request, buf, (size_t)n);
		init_request_len = (size_t)n;
	}
	return n;
}

bool takeover_swallows(const struct iovec *iov)
{
	const struct pt_out_header *h = iov[0].iov_base;

	return h->unique == PT_REPLAY_UNIQUE;
}

void takeover_settle(int fd)
{
	struct pt_out_header resend = {sizeof(resend), PT_NOTIFY_RESEND, 0};

	if (write(fd, &resend, sizeof(resend)) < 0)
		fuse_log(FUSE_LOG_WARNING, "tablefs: the kernel cannot resend requests (%s): "
					   "any left by the previous process fail\n",
			 strerror(errno));
	gate_open();
}

const void *takeover_init_request(size_t *len)
{
	*len = init_request_len;
	return init_request_len ? init_request : NULL;
}

/* Has the kernel of the session on fd treat every name it caches as
 * stale: each is looked up again at its next use (FUSE_NOTIFY_INC_EPOCH).
 * Takes no lock in the kernel, so it may be sent while requests wait.
 * 0, or -errno (-EINVAL before Linux 6.16). */
static int drop_all_names(int fd)
{
	struct pt_out_header h = {sizeof(h), PT_NOTIFY_INC_EPOCH, 0};

	return write(fd, &h, sizeof(h)) < 0 ? -errno : 0;
}

struct probe {
	struct fuse_session *se;
	struct tfs_fs *fs;
};

/* A node taken over from an earlier serving process: does the kernel still
 * hold it?  Invalidating an inode it does not have answers ENOENT. */
static void probe_restored(void *ctx, tfs_ino_t ino)
{
	struct probe *p = ctx;

	if (fuse_lowlevel_notify_inval_inode(p->se, ino, -1, 0) == -ENOENT)
		tfs_forget_unknown(p->fs, ino);
}

/* Kernels without FUSE_NOTIFY_INC_EPOCH: every name, one at a time, from a
 * thread of its own.  Dropping a name takes its directory's lock in the
 * kernel, which a request left by the dead process may hold until it is
 * resent and served: no request handler may wait for that. */
static void *drop_names_main(void *arg)
{
	tfs_invalidate_names(arg);
	tfs_log(TFS_LOG_INFO, "takeover: the kernel's cached names are dropped");
	return NULL;
}

void takeover_refresh_kernel(struct fuse_session *se, struct tfs_fs *fs, double entry_timeout)
{
	struct probe p = {se, fs};
	pthread_t t;
	int rc;

	tfs_foreach_restored(fs, probe_restored, &p);
	rc = drop_all_names(fuse_session_fd(se));
	if (rc == 0)
		return;
	tfs_log(TFS_LOG_INFO, "takeover: the kernel cannot drop all cached names at once (%s): "
			      "dropping them one by one",
		strerror(-rc));
	rc = pthread_create(&t, NULL, drop_names_main, fs);
	if (rc == 0)
		pthread_detach(t);
	else
		tfs_log(TFS_LOG_ERR, "takeover: cannot drop the kernel's cached names (%s): a "
				     "change made just before the crash may stay unseen for %g s",
			strerror(rc), entry_timeout);
}

bool takeover_resent(void)
{
	return current_resent;
}

int takeover_settle_mkdir(struct tfs_fs *fs, tfs_ino_t parent, const char *name, int rc,
			  struct tfs_attr *a)
{
	if (rc == -EEXIST && current_resent)
		return tfs_lookup(fs, parent, name, a);
	return rc;
}

int takeover_settle_remove(int rc)
{
	return rc == -ENOENT && current_resent ? 0 : rc;
}

int takeover_settle_rename(struct tfs_fs *fs, tfs_ino_t newparent, const char *newname, int rc)
{
	struct tfs_attr a;

	if (rc == -ENOENT && current_resent && tfs_lookup(fs, newparent, newname, &a) == 0) {
		tfs_forget(fs, a.ino, 1); /* the lookup's reference: no entry is replied */
		return 0;
	}
	return rc;
}
