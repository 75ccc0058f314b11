#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

#include "io_full.h"

/* Moves len bytes through one of the four calls (at *off, or at the file
 * position when off is NULL) until all went, the file ended (reads) or an
 * error other than EINTR came. */
static ssize_t transfer(int fd, char *buf, size_t len, const uint64_t *off, bool wr)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		if (!off)
			n = wr ? write(fd, buf + done, len - done)
			       : read(fd, buf + done, len - done);
		else
			n = wr ? pwrite(fd, buf + done, len - done, (off_t)(*off + done))
			       : pread(fd, buf + done, len - done, (off_t)(*off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return wr ? -EIO : (ssize_t)done;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t tfs_read_full(int fd, void *buf, size_t len)
{
	return transfer(fd, buf, len, NULL, false);
}

int tfs_write_full(int fd, const void *buf, size_t len)
{
	ssize_t n = transfer(fd, (char *)buf, len, NULL, true);

	return n < 0 ? (int)n : 0;
}

ssize_t tfs_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return transfer(fd, buf, len, &off, false);
}

int tfs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n = transfer(fd, (char *)buf, len, &off, true);

	return n < 0 ? (int)n : 0;
}
