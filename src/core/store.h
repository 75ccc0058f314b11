/* Column storage: one sealed memfd per column extent.  Its size is fixed at
 * creation (F_SEAL_GROW | F_SEAL_SHRINK), so the kernel keeps it exact
 * whatever path a write takes. */
#ifndef TABLEFS_STORE_H
#define TABLEFS_STORE_H

#include <stdint.h>

struct tfs_store {
	int fd; /* memfd, sealed against growing and shrinking */
	void *map; /* MAP_SHARED mapping of all of it; NULL when size is 0 */
	uint64_t size;
};

/* Creates a zero-filled, sealed block of size bytes.  label names the memfd
 * (seen in /proc/PID/fd).  Returns 0, -ENOMEM or -errno of the failing call. */
int tfs_store_create(struct tfs_store *st, uint64_t size, const char *label);

/* Copies min(dst size, src size) bytes from src to dst. */
void tfs_store_copy(struct tfs_store *dst, const struct tfs_store *src);

/* Unmaps and closes; memory is freed once no other process holds it. */
void tfs_store_destroy(struct tfs_store *st);

#endif
