/* Derived read-only views of the catalog: COLUMN.npy and table.arrow
 * (views.c).  Internal to the core. */
#ifndef TABLEFS_VIEWS_H
#define TABLEFS_VIEWS_H

#include "catalog_impl.h"

/* Finds or makes the derived view name of t (table.arrow, COLUMN.npy);
 * -ENOENT when name is none; lock held. */
int tfs_view_lookup(struct tfs_fs *fs, struct table *t, const char *name, struct tfs_node **out);

/* The view no longer shows the current state: it lives on for whoever has
 * it, then goes; lock held. */
void tfs_view_retire(struct tfs_fs *fs, struct tfs_node *view);

/* Frees an unlinked, unreferenced view and unpins what it showed; lock held. */
void tfs_view_free(struct tfs_fs *fs, struct tfs_node *view);

/* Unpins what an unlinked view without open handles showed, keeping the
 * node (hollow) for the kernel's lookup count; lock held. */
void tfs_view_hollow(struct tfs_fs *fs, struct tfs_node *view);

/* Checks again, as a view is opened, what writers may have broken since it
 * was made (table.arrow: offsets and codes); lock held.  0 or -EIO. */
int tfs_view_open_check(struct tfs_node *view);

/* Size of a view in bytes. */
uint64_t tfs_view_size(const struct tfs_node *view);

/* Copies bytes [off, off + len) of a view into buf; returns how many. */
ssize_t tfs_view_read(const struct tfs_node *view, uint64_t off, size_t len, void *buf);

#endif
