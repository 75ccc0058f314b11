/* The generated files' text: meta.json and .status (render.c).  Internal
 * to the core. */
#ifndef TABLEFS_RENDER_H
#define TABLEFS_RENDER_H

#include "catalog_impl.h"

/* Renders t's meta.json (malloc'd) and the root's .status; lock held. */
char *tfs_render_meta(struct table *t, size_t *len);
char *tfs_render_status(struct tfs_fs *fs, size_t *len);

#endif
