#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store.h"

int tfs_store_create(struct tfs_store *st, uint64_t size, const char *label)
{
	int rc;

	st->map = NULL;
	st->size = size;
	/* Not MFD_NOEXEC_SEAL etc.: keep to what every 6.x kernel has. */
	st->fd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (st->fd < 0)
		return -errno;
	if (ftruncate(st->fd, (off_t)size) < 0)
		goto out_errno;
	/* After this no write, truncate or mapping can change the size:
	 * the guarantee holds even for I/O that bypasses the daemon. */
	if (fcntl(st->fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		goto out_errno;
	if (size) {
		st->map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, st->fd, 0);
		if (st->map == MAP_FAILED) {
			st->map = NULL;
			goto out_errno;
		}
	}
	return 0;

out_errno:
	rc = errno == EFBIG ? -ENOSPC : -errno;
	close(st->fd);
	st->fd = -1;
	return rc;
}

void tfs_store_copy(struct tfs_store *dst, const struct tfs_store *src)
{
	uint64_t n = dst->size < src->size ? dst->size : src->size;
	off_t pos = 0, data, hole;

	/* Copy the written ranges only: reading a hole through a mapping would
	 * allocate it, and the destination's holes already read as zeros. */
	while ((uint64_t)pos < n) {
		data = lseek(src->fd, pos, SEEK_DATA);
		if (data < 0 && errno != ENXIO)
			data = pos; /* no hole information: copy it all */
		else if (data < 0 || (uint64_t)data >= n)
			break; /* only holes remain */
		hole = lseek(src->fd, data, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole > n)
			hole = (off_t)n;
		memcpy((char *)dst->map + data, (const char *)src->map + data,
		       (size_t)(hole - data));
		pos = hole;
	}
}

void tfs_store_destroy(struct tfs_store *st)
{
	if (st->map)
		munmap(st->map, st->size);
	if (st->fd >= 0)
		close(st->fd);
	st->map = NULL;
	st->fd = -1;
}
