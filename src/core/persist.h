/* The catalog's state handed to the supervisor and taken back after a
 * crash (persist.c).  Internal to the core. */
#ifndef TABLEFS_PERSIST_H
#define TABLEFS_PERSIST_H

#include "catalog_impl.h"

/* Hand the state of an extent, a table or the root to the supervisor so
 * that a new serving process can take it over, or drop it; lock held.
 * No-ops when unsupervised. */
void tfs_persist_extent(struct tfs_fs *fs, struct tfs_node *v);
void tfs_persist_table(struct tfs_fs *fs, struct table *t);
void tfs_persist_root(struct tfs_fs *fs);
void tfs_persist_drop(struct tfs_fs *fs, enum tfs_record_kind kind, tfs_ino_t key);

#endif
