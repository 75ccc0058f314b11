/* The FUSE low-level handlers: each resolves its node, calls one core
 * function and replies exactly once. */
#ifndef TABLEFS_FUSE_OPS_H
#define TABLEFS_FUSE_OPS_H

#include <stdbool.h>

#include <fuse_lowlevel.h>

#include "datapath.h"
#include "catalog.h"

struct ll {
	struct tfs_fs *fs;
	struct fuse_session *se;
	struct datapath *dp;
	double entry_timeout; /* name -> node: the daemon invalidates changes */
	double attr_timeout; /* attributes of tables and column extents */
	bool restored; /* the catalog was taken over from an earlier process */
	/* Sends notifications after the reply: those of a single-threaded
	 * daemon, and the names a request's own directory lock covers. */
	struct ll_notifier *notifier;
	/* Sends the deletion of names a moment later (see hook_delete_later). */
	struct ll_notifier *deferred;
	bool singlethread;
};

/* The operations table passed to fuse_session_new with a struct ll. */
extern const struct fuse_lowlevel_ops tfs_ll_ops;

/* Core hooks that turn cache invalidations into kernel notifications. */
void tfs_ll_hooks(struct ll *ll, struct tfs_hooks *hooks);

/* Starts and stops the thread that sends kernel notifications for a
 * single-threaded daemon (around its session loop; see fuse_ops.c).  0 or -errno. */
int tfs_ll_notifier_start(struct ll *ll);
void tfs_ll_notifier_stop(struct ll *ll);

#endif
