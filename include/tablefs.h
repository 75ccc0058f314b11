/* tablefs.h: helpers for C programs that use a tablefs mount.
 *
 * Header-only, no library to link: a column is a plain file, so mapping one
 * is open + fstat + mmap.  The size of the mapping is the column's exact
 * size, rows * itemsize; meta.json (beside the columns) gives rows, dtype and
 * per-row shape.  The mapping stays valid after the column is resized or
 * deleted (it keeps the old version); re-map to see a new version, which
 * meta.json's "version" announces. */
#ifndef TABLEFS_H
#define TABLEFS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define TABLEFS_FORMAT "tablefs-1"
#define TABLEFS_NAME_MAX 128
#define TABLEFS_DEFAULT_MOUNT "/mnt/tables"

struct tablefs_map {
	void *data; /* NULL for an empty column */
	size_t size; /* bytes: rows * itemsize */
};

/* Maps column of table under mount (NULL: TABLEFS_DEFAULT_MOUNT), shared,
 * read-only or writable.  Returns 0 or a negative errno. */
static inline int tablefs_map_column(const char *mount, const char *table, const char *column,
				     int writable, struct tablefs_map *m)
{
	char path[4096];
	struct stat st;
	int fd, err;

	m->data = NULL;
	m->size = 0;
	if (snprintf(path, sizeof(path), "%s/%s/%s", mount ? mount : TABLEFS_DEFAULT_MOUNT, table,
		     column) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto out_errno;
	m->size = (size_t)st.st_size;
	if (m->size) {
		m->data = mmap(NULL, m->size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED,
			       fd, 0);
		if (m->data == MAP_FAILED) {
			m->data = NULL;
			goto out_errno;
		}
	}
	close(fd); /* the mapping keeps the column alive */
	return 0;

out_errno:
	err = errno;
	close(fd);
	m->size = 0;
	return -err;
}

/* Unmaps what tablefs_map_column mapped. */
static inline void tablefs_unmap_column(struct tablefs_map *m)
{
	if (m->data)
		munmap(m->data, m->size);
	m->data = NULL;
	m->size = 0;
}

#endif
