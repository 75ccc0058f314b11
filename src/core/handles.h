/* Per-open handles (handles.c).  Internal to the core; the public entry
 * points (tfs_open, tfs_read, ...) are in catalog.h. */
#ifndef TABLEFS_HANDLES_H
#define TABLEFS_HANDLES_H

#include "catalog_impl.h"

/* truncate/ftruncate of meta.json to size, through handle fh (0: by
 * path); lock held.  See tfs_setattr. */
int tfs_meta_truncate(struct tfs_fs *fs, struct tfs_node *meta, tfs_fh_t fh, uint64_t size);

/* Frees every open handle (at teardown). */
void tfs_handles_free(struct tfs_fs *fs);

/* Size of meta.json or .status (node) as an open would render it now, so
 * that ls -l shows the size cat will read; lock held.  (A layer hook.) */
uint64_t tfs_generated_size(struct tfs_fs *fs, const struct tfs_node *node);

/* Counts the open handles of each table into its open_handles, for
 * .status; lock held. */
void tfs_handles_count(struct tfs_fs *fs);

#endif
