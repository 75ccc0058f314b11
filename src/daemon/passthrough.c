#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdio.h>

#include "passthrough.h"

/* FUSE ABI, from the kernel's include/uapi/linux/fuse.h (protocol 7.40);
 * Debian 12's headers predate passthrough. */
#define PT_FUSE_INIT 26
#define PT_INIT_EXT (UINT32_C(1) << 30)
#define PT_FLAGS2_PASSTHROUGH (UINT32_C(1) << (37 - 32))
#define PT_FOPEN_PASSTHROUGH (UINT32_C(1) << 7)
/* What may accompany FOPEN_PASSTHROUGH: DIRECT_IO, PARALLEL_DIRECT_WRITES
 * and NOFLUSH; KEEP_CACHE or NONSEEKABLE make the open fail. */
#define PT_FOPEN_ALLOWED ((UINT32_C(1) << 0) | (UINT32_C(1) << 6) | (UINT32_C(1) << 5))

struct pt_in_header { /* struct fuse_in_header */
	uint32_t len, opcode;
	uint64_t unique, nodeid;
	uint32_t uid, gid, pid;
	uint16_t total_extlen, padding;
};
struct pt_init_in { /* struct fuse_init_in */
	uint32_t major, minor, max_readahead, flags, flags2;
};
struct pt_out_header { /* struct fuse_out_header */
	uint32_t len;
	int32_t error;
	uint64_t unique;
};
struct pt_init_out { /* struct fuse_init_out */
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2, max_stack_depth;
	uint32_t unused[6];
};
struct pt_open_out { /* struct fuse_open_out */
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};
_Static_assert(sizeof(struct pt_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct pt_out_header) == 16, "fuse_out_header");
_Static_assert(sizeof(struct pt_init_out) == 64, "fuse_init_out");
_Static_assert(offsetof(struct pt_init_out, flags2) == 32, "fuse_init_out.flags2");
_Static_assert(offsetof(struct pt_init_out, max_stack_depth) == 36, "max_stack_depth");
_Static_assert(sizeof(struct pt_open_out) == 16, "fuse_open_out");

/* struct fuse_out_header.error of FUSE_NOTIFY_RESEND and
 * FUSE_NOTIFY_INC_EPOCH (protocol 7.44, Linux 6.16) notifications. */
#define PT_NOTIFY_RESEND 7
#define PT_NOTIFY_INC_EPOCH 8
/* The unique of a replayed INIT: the kernel's are even, never all ones. */
#define PT_REPLAY_UNIQUE UINT64_MAX

static atomic_bool kernel_offers;
static void (*after_init_cb)(void *ctx);
static void *after_init_ctx;
/* The kernel's INIT request, as first received (for pt_shim_init_request). */
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

/* The kernel marks the requests it sends again (FUSE_NOTIFY_RESEND). */
#define PT_UNIQUE_RESEND (UINT64_C(1) << 63)

/* Whether the request this thread read last was sent again. */
static _Thread_local bool current_resent;

/* What the current thread's next reply must carry. */
static _Thread_local unsigned armed_init_depth;
static _Thread_local int armed_backing_id;

static ssize_t shim_read(int fd, void *buf, size_t len, void *userdata)
{
	struct pt_in_header *h = buf;
	bool replayed = false;
	ssize_t n;

	(void)userdata;
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
	/* libfuse processes a request in the thread that read it. */
	current_resent = n >= (ssize_t)sizeof(*h) && (h->unique & PT_UNIQUE_RESEND) &&
			 h->unique != PT_REPLAY_UNIQUE;
	if (n >= (ssize_t)(sizeof(*h) + sizeof(struct pt_init_in)) && h->opcode == PT_FUSE_INIT) {
		/* Only the kernel's own: the supervisor keeps it already. */
		if (!replayed && (size_t)n <= sizeof(init_request)) {
			memcpy(init_request, buf, (size_t)n);
			init_request_len = (size_t)n;
		}
		const struct pt_init_in *in = (const void *)(h + 1);
		atomic_store(&kernel_offers,
			     (in->flags & PT_INIT_EXT) && (in->flags2 & PT_FLAGS2_PASSTHROUGH));
	}
	return n;
}

static ssize_t iov_len(const struct iovec *iov, int count)
{
	size_t n = 0;

	for (int i = 0; i < count; i++)
		n += iov[i].iov_len;
	return (ssize_t)n;
}

/* Writes a reply, except that to a replayed INIT: the kernel, which has
 * been initialised all along, must not see a second one.  Once INIT is
 * settled (after_init when settle is set), the kernel is asked to send
 * again every request the previous serving process took and never
 * answered. */
static ssize_t send_or_swallow(int fd, struct iovec *iov, int count, bool settle)
{
	const struct pt_out_header *h = iov[0].iov_base;
	struct pt_out_header resend = {sizeof(resend), PT_NOTIFY_RESEND, 0};
	ssize_t n;

	if (h->unique != PT_REPLAY_UNIQUE) {
		n = writev(fd, iov, count);
		/* The kernel processes INIT inside the write: settled now. */
		if (settle && n >= 0 && after_init_cb)
			after_init_cb(after_init_ctx);
		return n;
	}
	if (settle && after_init_cb)
		after_init_cb(after_init_ctx);
	if (write(fd, &resend, sizeof(resend)) < 0)
		fuse_log(FUSE_LOG_WARNING, "tablefs: the kernel cannot resend requests (%s): "
					   "any left by the previous process fail\n",
			 strerror(errno));
	gate_open();
	return iov_len(iov, count);
}

static ssize_t write_init(int fd, struct iovec *iov, int count, unsigned depth)
{
	struct pt_init_out out;
	struct iovec copy[8];

	if (count > 8 || iov[1].iov_len != sizeof(out))
		return send_or_swallow(fd, iov, count, false); /* not a layout we know */
	memcpy(&out, iov[1].iov_base, sizeof(out));
	out.flags |= PT_INIT_EXT;
	out.flags2 |= PT_FLAGS2_PASSTHROUGH;
	out.max_stack_depth = depth;
	memcpy(copy, iov, (size_t)count * sizeof(*iov));
	copy[1].iov_base = &out;
	return send_or_swallow(fd, copy, count, true);
}

static ssize_t write_open(int fd, struct iovec *iov, int count, int backing_id)
{
	struct pt_open_out out;
	struct iovec copy[2];

	memcpy(&out, iov[1].iov_base, sizeof(out));
	out.open_flags = (out.open_flags & PT_FOPEN_ALLOWED) | PT_FOPEN_PASSTHROUGH;
	out.backing_id = backing_id;
	memcpy(copy, iov, (size_t)count * sizeof(*iov));
	copy[1].iov_base = &out;
	return send_or_swallow(fd, copy, count, false);
}

static ssize_t shim_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	const struct pt_out_header *h = iov[0].iov_base;
	unsigned depth = armed_init_depth;
	int backing_id = armed_backing_id;

	(void)userdata;
	armed_init_depth = 0;
	armed_backing_id = 0;
	/* Only a successful reply with its argument in iov[1] is edited; an
	 * error reply passes as it is and the arming is dropped. */
	if (depth && count >= 2 && h->error == 0)
		return write_init(fd, iov, count, depth);
	if (backing_id > 0 && count == 2 && h->error == 0 &&
	    iov[1].iov_len == sizeof(struct pt_open_out))
		return write_open(fd, iov, count, backing_id);
	return send_or_swallow(fd, iov, count, false);
}

int pt_shim_install(struct fuse_session *se, void (*after_init)(void *ctx), void *ctx,
		    const void *replay_init, size_t replay_init_len)
{
	static const struct fuse_custom_io io = {.read = shim_read, .writev = shim_writev};

	after_init_cb = after_init;
	after_init_ctx = ctx;
	replay = replay_init;
	replay_len = replay_init_len;
	atomic_store(&replay_pending, replay_init != NULL);
	atomic_store(&gate_closed, replay_init != NULL);
	if (fuse_session_custom_io(se, &io, fuse_session_fd(se)) != 0)
		return -EINVAL;
	return 0;
}

int pt_drop_all_names(int fd)
{
	struct pt_out_header h = {sizeof(h), PT_NOTIFY_INC_EPOCH, 0};

	return write(fd, &h, sizeof(h)) < 0 ? -errno : 0;
}

const void *pt_shim_init_request(size_t *len)
{
	*len = init_request_len;
	return init_request_len ? init_request : NULL;
}

bool pt_shim_resent(void)
{
	return current_resent;
}

bool pt_shim_kernel_offers(void)
{
	return atomic_load(&kernel_offers);
}

void pt_shim_arm_init(unsigned max_stack_depth)
{
	armed_init_depth = max_stack_depth;
}

void pt_shim_arm_open(int backing_id)
{
	armed_backing_id = backing_id;
}

void pt_shim_disarm(void)
{
	armed_init_depth = 0;
	armed_backing_id = 0;
}
