/* The supervisor: a small process that outlives the serving process.
 *
 * It holds what must not die with a crash: the mount's /dev/fuse
 * connection, every column memfd, and the catalog as records (see
 * persist.c).  It parses no user input and touches no column: it keeps
 * records it is handed and forks serving processes.  A serving process that
 * dies by a signal (SIGKILL, SIGSEGV, abort, the OOM killer) is replaced at
 * once by a fresh fork, which rebuilds the catalog from the records it
 * inherits and takes over the same connection; the kernel re-sends the
 * requests the dead one left unanswered (FUSE_NOTIFY_RESEND, Linux 6.9). */
#ifndef TABLEFS_SUPERVISOR_H
#define TABLEFS_SUPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The FUSE INIT request as the kernel sent it, kept for replay. */
#define SUPERVISE_REC_FUSE_INIT 0x100

/* Runs serve(ctx, epoch) in a forked serving process, again after every
 * crash, until one returns normally or a stop signal arrives.  Returns 0
 * after a clean stop, 1 when serving processes kept dying. */
int supervise(int (*serve)(void *ctx, unsigned epoch), void *ctx);

/* In a serving process: hands a record (and fd, if >= 0) to the supervisor
 * and returns once it is kept.  Without a supervisor, does nothing. */
void supervise_put(uint32_t kind, uint64_t key, const void *blob, size_t len, int fd);

/* In a serving process: the supervisor forgets a record (closing its fd). */
void supervise_drop(uint32_t kind, uint64_t key);

/* In a serving process: true while every change reaches the supervisor.
 * False, with *why, once the supervisor is gone or the record channel
 * failed (logged once, when it happens): from then on a crash of this
 * process loses the mount.  Records go one whole message at a time, from
 * any thread. */
bool supervise_protected(const char **why);

/* In a serving process: calls fn for each record the supervisor held when
 * it was forked, by kind then key.  fd is the process's own descriptor. */
void supervise_foreach(void (*fn)(void *ctx, uint32_t kind, uint64_t key, const void *blob,
				  size_t len, int fd),
		       void *ctx);

/* Frees every record (the supervisor, at exit). */
void supervise_release(void);

/* The record (kind, key) the supervisor held at fork, or NULL. */
const void *supervise_get(uint32_t kind, uint64_t key, size_t *len);

#endif
