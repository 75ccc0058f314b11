#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "fuse_abi.h"
#include "passthrough.h"
#include "takeover.h"

static atomic_bool kernel_offers;
static void (*after_init_cb)(void *ctx);
static void *after_init_ctx;

/* What the current thread's next reply must carry. */
static _Thread_local unsigned armed_init_depth;
static _Thread_local int armed_backing_id;

static ssize_t shim_read(int fd, void *buf, size_t len, void *userdata)
{
	const struct pt_in_header *h = buf;
	ssize_t n = takeover_read(fd, buf, len);

	(void)userdata;
	if (n >= (ssize_t)(sizeof(*h) + sizeof(struct pt_init_in)) && h->opcode == PT_FUSE_INIT) {
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

/* Writes a reply, except the one takeover.c swallows.  Once INIT is
 * settled (after_init when settle is set), a takeover asks the kernel to
 * resend what the previous serving process left unanswered. */
static ssize_t send_or_swallow(int fd, struct iovec *iov, int count, bool settle)
{
	ssize_t n;

	if (!takeover_swallows(iov)) {
		n = writev(fd, iov, count);
		/* The kernel processes INIT inside the write: settled now. */
		if (settle && n >= 0 && after_init_cb)
			after_init_cb(after_init_ctx);
		return n;
	}
	if (settle && after_init_cb)
		after_init_cb(after_init_ctx);
	takeover_settle(fd);
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
	takeover_begin(replay_init, replay_init_len);
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
