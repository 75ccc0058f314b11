/* The kernel's FUSE ABI as far as the daemon edits or writes raw messages
 * (passthrough.c, takeover.c): layouts from include/uapi/linux/fuse.h,
 * pinned by _Static_assert.  Debian 12's headers predate passthrough. */
#ifndef TABLEFS_FUSE_ABI_H
#define TABLEFS_FUSE_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Protocol 7.40. */
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
/* The kernel marks the requests it sends again (FUSE_NOTIFY_RESEND). */
#define PT_UNIQUE_RESEND (UINT64_C(1) << 63)

#endif
