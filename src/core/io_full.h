/* Whole transfers over read(2)/write(2) and pread(2)/pwrite(2): a short
 * transfer or EINTR is resumed, so a caller sees all of it, the end of the
 * file, or an errno.  For the daemon's channels and tablectl's files alike. */
#ifndef TABLEFS_IO_FULL_H
#define TABLEFS_IO_FULL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads len bytes: returns how many, fewer only at the end of the file, or
 * -errno. */
ssize_t tfs_read_full(int fd, void *buf, size_t len);

/* Writes len bytes: 0, or -errno (-EIO when write(2) took nothing). */
int tfs_write_full(int fd, const void *buf, size_t len);

/* Reads len bytes at off: returns how many, fewer only at the end of the
 * file, or -errno. */
ssize_t tfs_pread_full(int fd, void *buf, size_t len, uint64_t off);

/* Writes len bytes at off: 0, or -errno (-EIO when pwrite(2) took nothing). */
int tfs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

#endif
