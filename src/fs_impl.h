/* Private to fs.c and fs_io.c: the catalog's data structures.
 *
 * Nodes, node ids and inode numbers
 * ---------------------------------
 * Everything the kernel can hold an inode for is a struct tfs_node: the
 * root, each table directory, each table's meta.json, the root's .status,
 * and each column *version*.  A column's bytes never change size, so a change
 * of row count makes a new version (a new sealed memfd) and therefore a new
 * node; the old node lives on, with its old bytes, for whoever still has it
 * open or mapped, and is freed when the last of them lets go.
 *
 * The FUSE layer uses a node's address as the FUSE node id (as libfuse's
 * passthrough_ll does), so resolving a request costs nothing.  The address
 * stays valid while any of these hold: the kernel's lookup count (nlookup,
 * dropped by forget), open handles and internal pins (nopen), or the node
 * being reachable from the catalog.  st_ino is separate: a 64-bit counter
 * never reused while the daemon runs, so a resized column shows a new st_ino
 * and the FUSE generation can simply equal st_ino.
 *
 * Locking: one mutex, fs->lock, guards the catalog and every field marked
 * "lock" below.  The bytes of a version are shared memory and take no lock:
 * its store is immutable once created (fixed size, fixed mapping).
 */
#ifndef TABLEFS_FS_IMPL_H
#define TABLEFS_FS_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "fs.h"
#include "store.h"

struct table;
struct column;

struct tfs_node {
	enum tfs_node_kind kind;
	uint64_t ino; /* st_ino; constant */
	uint64_t nlookup; /* kernel references; lock */
	uint64_t nopen; /* open handles and internal pins; lock */
	mode_t mode; /* permission bits and type; lock (META: unused) */
	uid_t uid; /* lock (META: unused) */
	gid_t gid; /* lock (META: unused) */
	struct timespec atime, mtime, ctime; /* lock */
	struct table *table; /* TABLE, META: the table they belong to */
	/* COLUMN versions only: */
	struct column *col; /* while current, its column; NULL once replaced or deleted; lock */
	struct tfs_store store; /* immutable after creation */
	uint64_t charge; /* memory charged for it */
	int backing_id; /* data path state, guarded by the data path */
	struct tfs_node *vprev, *vnext; /* all versions, for teardown; lock */
};

struct column {
	struct tfs_coldef def; /* name, type, shape; lock */
	struct tfs_node *cur; /* the current version; lock */
};

struct table {
	struct tfs_node dir, meta; /* freed with the table */
	char name[TFS_NAME_MAX + 1]; /* lock */
	uint64_t rows, version; /* lock */
	struct column **cols; /* in schema order; lock */
	size_t ncols, cap; /* lock */
	char last_error[TFS_WHY_MAX]; /* reason of the last refused change; lock */
	uint64_t meta_len, meta_len_version; /* meta.json's length at that version; lock */
	bool removed; /* rmdir'ed; freed once both nodes are unreferenced; lock */
	struct table *tprev, *tnext; /* all tables, removed ones too; lock */
};

struct tfs_fs {
	pthread_mutex_t lock;
	struct tfs_config cfg;
	struct tfs_node root, status;
	void *tables; /* tsearch tree of struct table *, by name; lock */
	uint64_t ntables; /* lock */
	uint64_t ncolumns; /* current columns of all tables; lock */
	uint64_t mem_used; /* charge of all live versions; lock */
	uint64_t next_ino; /* lock */
	struct tfs_node *versions; /* every live column version; lock */
	struct table *all_tables; /* every table not yet freed; lock */
	/* Column I/O the daemon served itself (none under passthrough). */
	atomic_uint_fast64_t reads, read_bytes, writes, write_bytes;
};

/* Pins collected under the lock and released after it, with the kernel
 * notifications they were pinned for. */
struct tfs_notes {
	size_t n, cap;
	struct tfs_note {
		struct tfs_node *node; /* inode to invalidate, pinned (nopen); or NULL */
		struct tfs_node *dir; /* directory of an entry to invalidate, pinned; or NULL */
		char name[TFS_NAME_MAX + 1];
	} *v;
};

/* Fills in a fresh node's identity and times; caller holds the lock. */
void tfs_node_init(struct tfs_fs *fs, struct tfs_node *node, enum tfs_node_kind kind, mode_t mode,
		   uid_t uid, gid_t gid);

/* Frees node (and its table, for TABLE/META) if nothing holds it any more;
 * caller holds the lock. */
void tfs_node_maybe_free(struct tfs_fs *fs, struct tfs_node *node);

/* Creates a column version of size bytes; caller holds the lock. */
int tfs_version_new(struct tfs_fs *fs, struct table *t, const char *colname, uint64_t size,
		    struct tfs_node **out);

/* Unlinks the current version of col from the catalog (replaced or deleted). */
void tfs_version_retire(struct tfs_fs *fs, struct tfs_node *v);

/* Adds a notification: of an inode (node, dir NULL) or of the entry name
 * in dir (node NULL); pins what it names.  Lock held. */
int tfs_notes_add(struct tfs_notes *notes, struct tfs_node *node, struct tfs_node *dir,
		  const char *name);

/* Sends the notifications, then drops the pins; lock NOT held. */
void tfs_notes_flush(struct tfs_fs *fs, struct tfs_notes *notes, bool send);

/* Counts a change of t's schema or name (a new version) and has the
 * kernel's cached attributes of its meta.json dropped; lock held. */
void tfs_table_changed(struct table *t, struct tfs_notes *notes);

/* Current time for timestamps. */
struct timespec tfs_now(void);

/* Renders t's meta.json (malloc'd) and the root's .status; lock held. */
char *tfs_render_meta(struct table *t, size_t *len);
char *tfs_render_status(struct tfs_fs *fs, size_t *len);

/* Records and logs why a change to t was refused; lock held. */
void tfs_table_error(struct table *t, int err, const char *why);

#endif
