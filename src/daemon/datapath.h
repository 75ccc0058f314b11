/* The data path of column files: how an open column's bytes reach the
 * kernel.  Two ways, chosen at start-up and fixed for the mount:
 *  - passthrough: the kernel binds the open file to the column's memfd and
 *    reads, writes and mmaps go straight to those pages (zero copy);
 *  - page cache: the daemon serves reads and writes from its mapping of the
 *    memfd and the kernel caches pages (one copy).
 * meta.json and .status are always served by the daemon (direct I/O). */
#ifndef TABLEFS_DATAPATH_H
#define TABLEFS_DATAPATH_H

#include <stdbool.h>

#include <fuse_lowlevel.h>

#include "catalog.h"

struct datapath;

/* Creates the data path; want_passthrough false forces the page cache. */
int datapath_new(bool want_passthrough, struct datapath **out);

/* Frees the data path (after datapath_detach). */
void datapath_free(struct datapath *dp);

/* Hooks the mounted session (before its loop runs): passthrough needs to
 * see the INIT and OPEN replies on their way to the kernel.  replay_init:
 * the INIT request of an earlier serving process, when taking over. */
int datapath_attach(struct datapath *dp, struct fuse_session *se, const char *mountpoint,
		    const void *replay_init, size_t replay_len);

/* The session is ending: bindings die with the connection. */
void datapath_detach(struct datapath *dp);

/* Called from the init handler: settles the mode from what the kernel offers. */
void datapath_init(struct datapath *dp, struct fuse_conn_info *conn);

/* Called at the start of every lookup and getattr; acts once, on the first
 * request after INIT has taken effect in the kernel. */
void datapath_ready(struct datapath *dp);

/* "passthrough" or "page cache", and the reason, for logs and status. */
const char *datapath_mode(const struct datapath *dp);
const char *datapath_reason(const struct datapath *dp);

/* Fills fi for an open of a node of kind, open as fi->fh: cache flags, and
 * the passthrough binding of a column. */
void datapath_open(struct datapath *dp, struct tfs_fs *fs, enum tfs_node_kind kind,
		   struct fuse_file_info *fi);

/* Called once the open reply is sent (or failed): forgets per-reply state. */
void datapath_open_done(struct datapath *dp);

/* A column extent is gone: releases its kernel binding if it had one. */
void datapath_extent_gone(struct datapath *dp, int backing_id);

#endif
