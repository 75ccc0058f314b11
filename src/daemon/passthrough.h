/* The session's I/O shim: kernel FUSE passthrough for libfuse < 3.17.1,
 * which has no API for it; its custom read and writev also carry the
 * takeover of a connection by a new serving process (takeover.h).
 *
 * libfuse 3.14 lets a session do its I/O on /dev/fuse through custom read
 * and writev functions, and every reply goes through writev synchronously in
 * the thread that replies.  So a handler can "arm" the reply it is about to
 * send, and the shim edits it on its way to the kernel:
 *  - the INIT reply gets FUSE_INIT_EXT, FUSE_PASSTHROUGH and a stack depth;
 *  - an OPEN reply gets FOPEN_PASSTHROUGH and the backing id.
 * Requests pass through the custom read, where the INIT request tells
 * whether the kernel offers passthrough at all.  Layouts are the kernel's
 * FUSE ABI (include/uapi/linux/fuse.h, protocol 7.40). */
#ifndef TABLEFS_PASSTHROUGH_H
#define TABLEFS_PASSTHROUGH_H

#include <stdbool.h>

#include <fuse_lowlevel.h>

/* Routes the session's /dev/fuse I/O through the shim; call after
 * fuse_session_mount(), before the loop.  after_init(ctx) runs once the
 * kernel has taken the INIT reply, in the thread that sent it.  With
 * replay_init (an INIT request kept from an earlier serving process of the
 * same connection), the session is fed that instead of waiting for one, its
 * reply is kept from the kernel, and the kernel is then asked to resend the
 * requests left unanswered.  0 or -errno. */
int pt_shim_install(struct fuse_session *se, void (*after_init)(void *ctx), void *ctx,
		    const void *replay_init, size_t replay_init_len);

/* True when the kernel's INIT request offered passthrough. */
bool pt_shim_kernel_offers(void);

/* The next INIT reply sent by this thread asks for passthrough. */
void pt_shim_arm_init(unsigned max_stack_depth);

/* The next OPEN reply sent by this thread binds the file to backing_id. */
void pt_shim_arm_open(int backing_id);

/* Forgets whatever this thread armed (after the reply, sent or not). */
void pt_shim_disarm(void);

#endif
