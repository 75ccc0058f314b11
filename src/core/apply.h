/* Schema application (apply.c): the one home of a schema change.  Internal
 * to the core; tfs_apply is declared in catalog.h. */
#ifndef TABLEFS_APPLY_H
#define TABLEFS_APPLY_H

#include "catalog_impl.h"

/* Makes the column name, deleted from table dir since its row count last
 * changed, again, zero-filled, with its type and shape.  -EPERM if no such
 * column was deleted. */
int tfs_apply_recreate(struct tfs_fs *fs, tfs_ino_t dir, const char *name,
		       const struct tfs_cred *cred);

#endif
