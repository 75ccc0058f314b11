/* Crash takeover on the FUSE connection: a new serving process answers the
 * kernel on the connection a dead one left (see supervisor.h).
 *
 * The kernel initialised the connection once, with the first process's
 * INIT.  A new process is fed that INIT again (kept by the supervisor), its
 * reply is kept from the kernel, and the kernel is then asked to resend
 * every request read and not answered (FUSE_NOTIFY_RESEND).  A resent
 * request may have been carried out before the crash; the rules for those
 * (takeover_settle_*) live here, in one place, and the FUSE handlers apply
 * them to what the core returned.  passthrough.c calls the hooks below from
 * its custom read and writev. */
#ifndef TABLEFS_TAKEOVER_H
#define TABLEFS_TAKEOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <fuse_lowlevel.h>

#include "catalog.h"

/* Starts a takeover with replay_init, the INIT request kept from an earlier
 * serving process of the same connection (NULL: a fresh mount). */
void takeover_begin(const void *replay_init, size_t len);

/* Reads the next request into buf: the replayed INIT first, if any, then,
 * once the takeover is settled, from fd.  Notes whether the request was
 * resent and keeps the kernel's own INIT.  Returns what read(2) does. */
ssize_t takeover_read(int fd, void *buf, size_t len);

/* True when the reply in iov answers the replayed INIT: the kernel, which
 * has been initialised all along, must not see it. */
bool takeover_swallows(const struct iovec *iov);

/* After the swallowed INIT reply: asks the kernel to resend what the dead
 * process left unanswered, then lets requests in. */
void takeover_settle(int fd);

/* The INIT request received from the kernel, or NULL before it came (and
 * in a serving process that took over: it replayed one kept already). */
const void *takeover_init_request(size_t *len);

/* After a takeover nothing the kernel caches may be older than the
 * catalog.  The dead process may have made a change (a resize: a column's
 * name now leads to a new extent) and died before it had the kernel drop
 * what it cached; the resent request finds the change made and changes
 * nothing, so nothing would drop it.  So: the attributes of every restored
 * node the kernel still holds are dropped (and the nodes it no longer holds
 * forgotten), and every name it caches.  Called from the INIT handler;
 * never waits for a request to be served. */
void takeover_refresh_kernel(struct fuse_session *se, struct tfs_fs *fs, double entry_timeout);

/* True while this thread handles a request the kernel sent again after a
 * serving process died: it may have been carried out already. */
bool takeover_resent(void);

/* The result of mkdir parent/name: a resent one that finds the table made
 * (by itself, before the crash) succeeds with its attributes in *a. */
int takeover_settle_mkdir(struct tfs_fs *fs, tfs_ino_t parent, const char *name, int rc,
			  struct tfs_attr *a);

/* The result of rmdir or unlink: a resent one that finds the name gone
 * succeeds. */
int takeover_settle_remove(int rc);

/* The result of rename to newparent/newname: a resent one that finds the
 * old name gone and the new one there succeeds. */
int takeover_settle_rename(struct tfs_fs *fs, tfs_ino_t newparent, const char *newname, int rc);

#endif
