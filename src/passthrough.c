#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

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

static atomic_bool kernel_offers;
static void (*after_init_cb)(void *ctx);
static void *after_init_ctx;

/* What the current thread's next reply must carry. */
static _Thread_local unsigned armed_init_depth;
static _Thread_local int armed_backing_id;

static ssize_t shim_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n = read(fd, buf, len);
	const struct pt_in_header *h = buf;

	(void)userdata;
	if (n >= (ssize_t)(sizeof(*h) + sizeof(struct pt_init_in)) && h->opcode == PT_FUSE_INIT) {
		const struct pt_init_in *in = (const void *)(h + 1);
		atomic_store(&kernel_offers,
			     (in->flags & PT_INIT_EXT) && (in->flags2 & PT_FLAGS2_PASSTHROUGH));
	}
	return n;
}

static ssize_t write_init(int fd, struct iovec *iov, int count, unsigned depth)
{
	struct pt_init_out out;
	struct iovec copy[8];
	ssize_t n;

	if (count > 8 || iov[1].iov_len != sizeof(out))
		return writev(fd, iov, count); /* not the layout we know */
	memcpy(&out, iov[1].iov_base, sizeof(out));
	out.flags |= PT_INIT_EXT;
	out.flags2 |= PT_FLAGS2_PASSTHROUGH;
	out.max_stack_depth = depth;
	memcpy(copy, iov, (size_t)count * sizeof(*iov));
	copy[1].iov_base = &out;
	n = writev(fd, copy, count);
	/* The kernel processes INIT inside the write: it is settled now. */
	if (n >= 0 && after_init_cb)
		after_init_cb(after_init_ctx);
	return n;
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
	return writev(fd, copy, count);
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
	return writev(fd, iov, count);
}

int pt_shim_install(struct fuse_session *se, void (*after_init)(void *ctx), void *ctx)
{
	static const struct fuse_custom_io io = {.read = shim_read, .writev = shim_writev};

	after_init_cb = after_init;
	after_init_ctx = ctx;
	if (fuse_session_custom_io(se, &io, fuse_session_fd(se)) != 0)
		return -EINVAL;
	return 0;
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
