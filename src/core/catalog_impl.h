/* The catalog's data structures, internal to the core (src/core): every
 * core file may include this, the daemon and tablectl never do (they see
 * catalog.h).
 *
 * Layers of the core; calls only go down
 * --------------------------------------
 *   filesystem.c                 assembles the layers (tfs_fs_new/free)
 *   handles.c                    per-open handles: open, read, write, release
 *   apply.c  namespace.c         schema changes; mkdir, rename, unlink, readdir
 *   persist.c views.c render.c   supervisor records; .npy/.arrow; JSON text
 *   catalog.c                    nodes, tables, columns, lifetimes
 *   schema.c change_plan.c store.c types.c names.c mem.c npy.c arrow_file.c
 *                                pure helpers, no catalog
 * A file calls functions of the rows below it only.  The catalog, the ground
 * floor, knows nothing of persistence, views, rendering or handles: where
 * its own work must reach them (an extent freed is dropped from the
 * supervisor, a view looked up or retired, the size of a generated file),
 * it calls the hooks in struct tfs_layers, which filesystem.c fills in.
 *
 * Nodes, node ids and inode numbers
 * ---------------------------------
 * Everything the kernel can hold an inode for is a struct tfs_node: the
 * root, each table directory, each table's meta.json, the root's .status,
 * and each column *extent*.  A column's bytes never change size, so a change
 * of row count makes a new extent (a new sealed memfd) and therefore a new
 * node; the old node lives on, with its old bytes, for whoever still has it
 * open or mapped, and is freed when the last of them lets go.  ("Version"
 * names only a table's counter, meta.json's "version".)
 *
 * A node's inode number is also its FUSE node id: a 64-bit counter, never
 * reused while the filesystem is mounted (it is carried over when a new
 * serving process takes over, see persist.c and src/daemon/supervisor.c), so a resized column shows a
 * new st_ino and the FUSE generation can simply equal it.  Requests are
 * resolved through fs->nodes, a map from number to node; a number with no
 * node is stale (ESTALE), never a dangling pointer.  A node lives while any
 * of these hold: the kernel's lookup count (nlookup, dropped by forget),
 * open handles and internal pins (nopen), or being reachable from the
 * catalog.  Root and .status have fixed numbers (TFS_ROOT_INO, TFS_STATUS_INO).
 *
 * Open files are named by handle ids, not pointers, for the same reason:
 * (epoch << 40 | sequence), where the epoch changes with each serving
 * process, so ids the kernel holds from an earlier one are recognised.
 *
 * Locking: one mutex, fs->lock, guards the catalog and every field marked
 * "lock" below.  The bytes of an extent are shared memory and take no lock:
 * its store is immutable once created (fixed size, fixed mapping).
 */
#ifndef TABLEFS_CATALOG_IMPL_H
#define TABLEFS_CATALOG_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "catalog.h"
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
	/* COLUMN extents only: */
	struct column *col; /* while current, its column; NULL once replaced or deleted; lock */
	enum tfs_role role; /* which of its column's files it is; constant */
	struct tfs_store store; /* immutable after creation */
	uint64_t charge; /* memory charged for it */
	int backing_id; /* data path state, guarded by the data path */
	struct tfs_node *npy; /* its .npy view, once looked up; lock */
	struct table *owner; /* COLUMN: its table, valid while col is set; lock */
	/* Views (NPY, ARROW) only; immutable once made but for linked: */
	bool linked; /* the current view of its column or table; lock */
	struct tfs_node **pins; /* the extents it shows, pinned (nopen) */
	size_t npins;
	char *hdr; /* NPY: the header before the column's bytes */
	size_t hdrlen;
	struct tfs_arrow_layout *layout; /* ARROW */
	struct tfs_node *vprev, *vnext; /* all extents, or all views, for teardown; lock */
	/* A retired view that only the kernel's lookup count still holds: the
	 * extents it showed are unpinned at once, so that they count against
	 * the limit no longer than someone can read them; the node stays,
	 * with its size, until the kernel forgets it, and refuses to be
	 * opened (ESTALE: the kernel looks the name up again).  lock */
	bool hollow;
};

/* A column is one file or several (schema.h, enum tfs_role): each file
 * has its own current extent, resized on its own (a change of row count
 * leaves a utf8 column's .data as it is). */
struct column {
	struct tfs_coldef def; /* name, type, shape, sizes of the files; cats NULL; lock */
	struct tfs_node *file[TFS_NROLES]; /* current extent of each file it has, else NULL; lock */
};

struct table {
	struct tfs_node dir, meta; /* freed with the table */
	char name[TFS_NAME_MAX + 1]; /* lock */
	uint64_t rows; /* lock */
	/* meta.json's "version": counts changes of schema or name.  The only
	 * meaning of "version" in the code; a column's memfd is an extent. */
	uint64_t version; /* lock */
	struct column **cols; /* in schema order; lock */
	size_t ncols, cap; /* lock */
	char last_error[TFS_WHY_MAX]; /* reason of the last refused change; lock */
	uint64_t meta_len, meta_len_version; /* meta.json's length at that version; lock */
	struct tfs_node *arrow; /* its table.arrow view of this version, once looked up; lock */
	uint64_t open_handles; /* scratch of tfs_render_status; lock */
	bool removed; /* rmdir'ed; freed once both nodes are unreferenced; lock */
	/* meta.json of a table without columns was unlinked (rm -r, or a tool
	 * replacing the file): absent until rmdir, or until created again by
	 * name, which is how tar and cp write it back.  lock */
	bool meta_unlinked;
	/* Columns deleted by unlink since the row count last changed: creating
	 * a file by one of these names makes the column again, zero-filled,
	 * with its type and shape, so that a tool that replaces a file by
	 * unlinking and re-creating it (tar -x) writes the bytes back into
	 * a column, not into nothing.  lock */
	struct tfs_coldef *gone;
	size_t ngone;
	struct table *tprev, *tnext; /* all tables, removed ones too; lock */
};

/* What the layers above the catalog do for it; filesystem.c fills in every
 * field.  Each but teardown is called with fs->lock held. */
struct tfs_layers {
	/* persist.c: hand an extent, a table or the root to the supervisor,
	 * or drop a record (no-ops when unsupervised). */
	void (*save_extent)(struct tfs_fs *fs, struct tfs_node *v);
	void (*save_table)(struct tfs_fs *fs, struct table *t);
	void (*save_root)(struct tfs_fs *fs);
	void (*drop)(struct tfs_fs *fs, enum tfs_record_kind kind, tfs_ino_t key);
	/* views.c: see views.h. */
	int (*view_lookup)(struct tfs_fs *fs, struct table *t, const char *name,
			   struct tfs_node **out);
	void (*view_retire)(struct tfs_fs *fs, struct tfs_node *view);
	void (*view_free)(struct tfs_fs *fs, struct tfs_node *view);
	void (*view_hollow)(struct tfs_fs *fs, struct tfs_node *view);
	uint64_t (*view_size)(const struct tfs_node *view);
	/* handles.c: the size of meta.json or .status, and their truncation. */
	uint64_t (*generated_size)(struct tfs_fs *fs, const struct tfs_node *node);
	int (*meta_truncate)(struct tfs_fs *fs, struct tfs_node *meta, tfs_fh_t fh,
			     uint64_t size);
	/* At unmount, before the catalog frees its own: free the handles and
	 * views the layers hold. */
	void (*teardown)(struct tfs_fs *fs);
};

struct tfs_fs {
	pthread_mutex_t lock;
	const struct tfs_layers *up; /* constant */
	void *nodes; /* tsearch tree of struct tfs_node *, by ino; lock */
	void *handles; /* tsearch tree of struct tfs_handle *, by id; lock */
	uint64_t epoch; /* of this serving process, in handle ids */
	uint64_t next_fh; /* lock */
	struct tfs_config cfg;
	struct tfs_node root, status;
	void *tables; /* tsearch tree of struct table *, by name; lock */
	uint64_t ntables; /* lock */
	uint64_t ncolumns; /* current columns of all tables; lock */
	uint64_t mem_used; /* charge of all live extents; lock */
	uint64_t nextents; /* extents holding memory (a memfd each); lock */
	uint64_t next_ino; /* lock */
	struct tfs_node *extents; /* every live column extent; lock */
	struct tfs_node *views; /* every live view; lock */
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
		char name[TFS_FILE_NAME_MAX];
		bool later; /* an entry sent after the reply (tfs_hooks) */
		tfs_ino_t deleted; /* later: the deleted entry's node, else 0 */
	} *v;
};

/* Makes an empty catalog (root and .status) whose layers above are up;
 * 0 or -ENOMEM.  tfs_fs_new (filesystem.c) is the public constructor. */
int tfs_catalog_new(const struct tfs_config *cfg, const struct tfs_layers *up,
		    struct tfs_fs **out);

/* Frees the catalog and, through up->teardown, what the layers hold. */
void tfs_catalog_free(struct tfs_fs *fs);

/* Fills in a fresh node's identity and times and enters it in the node map
 * under ino (0: the next free number); lock held.  0 or -ENOMEM. */
int tfs_node_init(struct tfs_fs *fs, struct tfs_node *node, tfs_ino_t ino, enum tfs_node_kind kind,
		  mode_t mode, uid_t uid, gid_t gid);

/* Takes node out of the node map before it is freed; lock held. */
void tfs_node_unmap(struct tfs_fs *fs, struct tfs_node *node);

/* Orders tables by name (the tsearch tree fs->tables). */
int tfs_table_cmp(const void *a, const void *b);

/* The table named name, or NULL; lock held. */
struct table *tfs_table_find(struct tfs_fs *fs, const char *name);

/* Index of column name in t, or -1; lock held. */
ssize_t tfs_column_find(const struct table *t, const char *name);

/* Attributes of node; lock held. */
void tfs_fill_attr(struct tfs_fs *fs, const struct tfs_node *node, struct tfs_attr *a);

/* Adds node to, or takes it off, a list of nodes (extents or views) linked
 * through vprev/vnext; lock held. */
void tfs_node_list_add(struct tfs_node **head, struct tfs_node *node);
void tfs_node_list_del(struct tfs_node **head, struct tfs_node *node);

/* The node numbered ino, or NULL; lock held. */
struct tfs_node *tfs_node_find(struct tfs_fs *fs, tfs_ino_t ino);

/* Frees node (and its table, for TABLE/META) if nothing holds it any more;
 * caller holds the lock. */
void tfs_node_maybe_free(struct tfs_fs *fs, struct tfs_node *node);

/* Creates an extent of size bytes for the file of role r of column colname;
 * caller holds the lock. */
int tfs_extent_new(struct tfs_fs *fs, struct table *t, const char *colname, enum tfs_role r,
		    uint64_t size, struct tfs_node **out);

/* True when the column's file of role r is read-only to everyone: the
 * dictionary of a category column (codes never change meaning). */
bool tfs_role_readonly(enum tfs_role r);

/* Unlinks the current extent of col from the catalog (replaced or deleted). */
void tfs_extent_retire(struct tfs_fs *fs, struct tfs_node *v);

/* True when the current extent v would stay allocated once replaced: an
 * open handle, a mapping or a view someone has open holds it (views nobody
 * has open let go of what they show when retired; the kernel's own
 * reference goes with the entry invalidated by the change); lock held. */
bool tfs_extent_held(const struct tfs_node *v);

/* Adds a notification: of an inode (node, dir NULL) or of the entry name
 * in dir (node NULL); pins what it names.  Lock held. */
int tfs_notes_add(struct tfs_notes *notes, struct tfs_node *node, struct tfs_node *dir,
		  const char *name);

/* Adds the notification of the entry name in dir to send after the reply
 * (see tfs_hooks.inval_entry_later); pins dir.  Lock held. */
int tfs_notes_add_later(struct tfs_notes *notes, struct tfs_node *dir, const char *name);

/* Adds the notification that the entry name in dir, of node child, was
 * deleted, to send after the reply; pins dir.  Lock held. */
int tfs_notes_add_deleted(struct tfs_notes *notes, struct tfs_node *dir, const char *name,
			  tfs_ino_t child);

/* Sends the notifications, then drops the pins; lock NOT held. */
void tfs_notes_flush(struct tfs_fs *fs, struct tfs_notes *notes, bool send);

/* Counts a change of t's schema or name (a new version) and has the
 * kernel's cached attributes of its meta.json dropped; lock held. */
void tfs_table_changed(struct tfs_fs *fs, struct table *t, struct tfs_notes *notes);



/* Remembers def as a column t just deleted (see struct table); lock held. */
void tfs_table_gone_add(struct table *t, const struct tfs_coldef *def);

/* Forgets the deleted column name, or all of them (name NULL); lock held. */
void tfs_table_gone_del(struct table *t, const char *name);


/* A kernel reference count nobody knows: that of a node taken over from an
 * earlier serving process.  The first forget from the kernel clears it. */
#define TFS_NLOOKUP_UNKNOWN UINT64_MAX


/* Makes a table with the given node numbers (0: new ones) and enters it in
 * the catalog; lock held.  *out or -ENOMEM / -EEXIST. */
int tfs_table_new(struct tfs_fs *fs, const char *name, tfs_ino_t dir_ino, tfs_ino_t meta_ino,
		  mode_t mode, uid_t uid, gid_t gid, struct table **out);

/* Enters an extent node with store st (taken over) in the extent list and
 * the memory accounting; lock held. */
void tfs_extent_enter(struct tfs_fs *fs, struct tfs_node *v);

/* Current time for timestamps. */
struct timespec tfs_now(void);

/* Records and logs why a change to t was refused; lock held. */
void tfs_table_error(struct table *t, int err, const char *why);

/* The same for what else of t was refused ("table.arrow"): the reason
 * becomes its last_error in .status; lock held. */
void tfs_table_refused(struct table *t, const char *what, int err, const char *why);

#endif
