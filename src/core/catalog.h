/* The table filesystem core: the catalog of tables and columns, their nodes
 * (what the kernel knows as inodes), open handles and schema changes.  Knows
 * nothing of FUSE: the FUSE layer (src/daemon/fuse_ops.c) translates requests into these calls
 * and gets told through struct tfs_hooks when the kernel's caches must drop
 * something.  Every function returns 0 or a negative errno. */
#ifndef TABLEFS_CATALOG_H
#define TABLEFS_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "schema.h"

struct tfs_fs;
struct tfs_handle;

/* The kernel names nodes by inode number (the FUSE node id) and open files
 * by handle id (fi->fh).  Both stay meaningful across a restart of the
 * serving process, which pointers would not (see catalog_impl.h). */
typedef uint64_t tfs_ino_t;
typedef uint64_t tfs_fh_t;

#define TFS_ROOT_INO 1
#define TFS_STATUS_INO 2

/* Name of the root's status file (JSON: memory, data path, per-table use and
 * last errors).  The dot keeps it apart from every table name. */
#define TFS_STATUS_NAME ".status"
#define TFS_META_NAME "meta.json"

/* Calls the core makes into the FUSE layer.  Each is made without the core's
 * lock held, so it may send kernel notifications that wait for requests. */
struct tfs_hooks {
	void *ctx;
	/* Drop cached attributes and pages of node; dirty pages are written
	 * back first (the kernel launders them into the daemon). */
	void (*inval_inode)(void *ctx, tfs_ino_t ino);
	/* Drop the kernel's name -> node entry name in dir. */
	void (*inval_entry)(void *ctx, tfs_ino_t dir, const char *name);
	/* The same, sent after the reply to the request at hand: for names
	 * in the directory the request itself has locked in the kernel
	 * (a rename or unlink there; dropping them at once would wait for
	 * that lock, held until we reply). */
	void (*inval_entry_later)(void *ctx, tfs_ino_t dir, const char *name);
	/* The entry name in dir, of node child, was deleted: sent a moment
	 * after the reply (a tool that listed the name may unlink it
	 * meanwhile), the kernel drops it and lets the inode go. */
	void (*delete_later)(void *ctx, tfs_ino_t dir, tfs_ino_t child, const char *name);
	/* A column extent is gone: release what the data path tied to it. */
	void (*extent_gone)(void *ctx, int backing_id);
	/* The data path in force and why, for .status. */
	void (*data_path)(void *ctx, const char **mode, const char **why);
	/* Hand-over of state to a supervisor that outlives the serving
	 * process (optional): put replaces record (kind, key) with blob and,
	 * where fd >= 0, a descriptor to keep; drop deletes the record.  Both
	 * return once the record is safe, and are called with the core's lock
	 * held: they must not call back into the core. */
	void (*persist_put)(void *ctx, uint32_t kind, uint64_t key, const void *blob, size_t len,
			    int fd);
	void (*persist_drop)(void *ctx, uint32_t kind, uint64_t key);
	/* Whether a crash of the serving process would lose nothing (the
	 * supervisor takes every change), and if not, why; for .status. */
	bool (*crash_protection)(void *ctx, const char **why);
};

/* Kinds of persisted records, in the order they must be restored; the
 * values are the supervisor protocol's. */
enum tfs_record_kind { TFS_REC_ROOT = 1, TFS_REC_EXTENT = 2, TFS_REC_TABLE = 3 };

struct tfs_config {
	uint64_t epoch; /* 0 for the first serving process, then 1, 2, ...: restarts */
	uint64_t mem_limit; /* bytes */
	/* Column extents the daemon may hold at once, each an open memfd
	 * (the open file limit less a reserve); 0: no limit. */
	uint64_t max_extents;
	uid_t root_uid; /* owner of the mount root */
	gid_t root_gid;
	struct tfs_hooks hooks;
};

/* Who is asking: the credentials of the calling process. */
struct tfs_cred {
	uid_t uid;
	gid_t gid;
	mode_t umask;
};

enum tfs_node_kind {
	TFS_N_ROOT,
	TFS_N_TABLE,
	TFS_N_META,
	TFS_N_COLUMN,
	TFS_N_STATUS,
	TFS_N_NPY, /* COLUMN.npy: a column as a NumPy file (derived, read-only) */
	TFS_N_ARROW, /* table.arrow: the table as an Arrow IPC file (derived, read-only) */
};

/* Names of the derived views in a table directory. */
#define TFS_ARROW_NAME "table.arrow"
#define TFS_NPY_SUFFIX ".npy"

struct tfs_attr {
	tfs_ino_t ino; /* st_ino and FUSE node id: never reused while mounted */
	enum tfs_node_kind kind;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	nlink_t nlink;
	uint64_t size;
	struct timespec atime, mtime, ctime;
};

/* What a setattr asks to change. */
struct tfs_setattr {
	bool set_mode, set_uid, set_gid, set_size, set_atime, set_mtime;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint64_t size;
	struct timespec atime, mtime; /* already resolved from UTIME_NOW */
};

struct tfs_dirent {
	char name[TFS_NAME_MAX + 16];
	uint64_t ino;
	mode_t type; /* S_IFDIR or S_IFREG */
};

struct tfs_statfs {
	uint64_t limit, used, tables, columns;
	uint64_t max_extents, extents; /* column extents: allowed (0: no limit), held */
};

/* Creates an empty filesystem (the root only).  *out or -ENOMEM. */
int tfs_fs_new(const struct tfs_config *cfg, struct tfs_fs **out);

/* Frees everything; no node or handle may be used afterwards. */
void tfs_fs_free(struct tfs_fs *fs);

/* Rebuilds one record's state in a new filesystem, before it serves: roots,
 * then extents, then tables.  fd (extents) becomes the filesystem's.  Node
 * numbers are kept; the kernel's references to them are unknown, so every
 * restored node stays until the kernel forgets it (tfs_forget), or until
 * tfs_forget_unknown says the kernel never had it. */
int tfs_restore(struct tfs_fs *fs, uint32_t kind, const void *blob, size_t len, int fd);

/* Calls fn for every node restored by tfs_restore that nothing but an
 * unknown kernel reference holds; fn may call tfs_forget_unknown. */
void tfs_foreach_restored(struct tfs_fs *fs, void (*fn)(void *ctx, tfs_ino_t ino), void *ctx);

/* The kernel has no reference to restored node ino: it may go. */
void tfs_forget_unknown(struct tfs_fs *fs, tfs_ino_t ino);

/* Has the kernel drop every name it may cache: each table's, and each
 * table's meta.json and columns' (through the inval_entry hook, lock not
 * held).  After a takeover, on kernels that cannot drop them all at once
 * (before FUSE_NOTIFY_INC_EPOCH). */
void tfs_invalidate_names(struct tfs_fs *fs);

/* Every call that names a node by number fails with -ESTALE when no such
 * node exists (any more). */

/* Looks name up in dir and takes one kernel reference on the result. */
int tfs_lookup(struct tfs_fs *fs, tfs_ino_t dir, const char *name, struct tfs_attr *attr);

/* Drops n kernel references taken by lookup, mkdir or a handed-out entry. */
void tfs_forget(struct tfs_fs *fs, tfs_ino_t ino, uint64_t n);

/* Attributes of ino; -ESTALE for a number with no node. */
int tfs_getattr(struct tfs_fs *fs, tfs_ino_t ino, struct tfs_attr *attr);

/* chmod, chown, utimes and truncate, through open handle fh (0: by path).
 * A column's size cannot change (-EPERM unless the size asked is its
 * size).  meta.json's times are its table's; truncating it to 0 through a
 * handle starts a new document on that handle (what editors do before they
 * write the file again), to the length written through the handle or to
 * its own length does nothing, to any other size is -EPERM. */
int tfs_setattr(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, const struct tfs_setattr *sa,
		struct tfs_attr *attr);

/* Creates an empty table; takes one kernel reference on it. */
int tfs_mkdir(struct tfs_fs *fs, tfs_ino_t dir, const char *name, mode_t mode,
	      const struct tfs_cred *cred, struct tfs_attr *attr);

/* Deletes an empty table (no columns); -ENOTEMPTY otherwise. */
int tfs_rmdir(struct tfs_fs *fs, tfs_ino_t dir, const char *name);

/* Deletes a column.  meta.json can be unlinked only from a table without
 * columns (so that rm -r works); it is then absent until the table is
 * removed or meta.json is created again (tfs_create). */
int tfs_unlink(struct tfs_fs *fs, tfs_ino_t dir, const char *name);

/* Renames a table, or a column within its table.  flags: RENAME_NOREPLACE. */
int tfs_rename(struct tfs_fs *fs, tfs_ino_t dir, const char *name, tfs_ino_t newdir,
	       const char *newname, unsigned flags);

/* Snapshot of a directory's entries, "." and ".." first (malloc'd array). */
int tfs_readdir(struct tfs_fs *fs, tfs_ino_t dir, struct tfs_dirent **ents, size_t *n);

/* Memory, tables, columns and column extents, used and allowed (df, df -i). */
void tfs_statfs(struct tfs_fs *fs, struct tfs_statfs *st);

/* open(2) with O_CREAT of a name that does not exist in table dir: the
 * name of a column the table deleted since its row count last changed
 * makes that column again (zero-filled, same type and shape), meta.json
 * unlinked from an empty table comes back; anything else is -EPERM, as
 * columns are made by schema documents.  Opens the result like tfs_open
 * and takes one kernel reference on it. */
int tfs_create(struct tfs_fs *fs, tfs_ino_t dir, const char *name, int flags,
	       const struct tfs_cred *cred, tfs_fh_t *fh, enum tfs_node_kind *kind,
	       struct tfs_attr *attr);

/* Opens ino with open(2) flags; *kind says what was opened.  Columns refuse
 * O_TRUNC (-EPERM); meta.json takes a snapshot for reading and collects
 * written documents. */
int tfs_open(struct tfs_fs *fs, tfs_ino_t ino, int flags, const struct tfs_cred *cred,
	     tfs_fh_t *fh, enum tfs_node_kind *kind);

/* Binds the column extent open as fh for kernel passthrough, once per
 * extent: bind(ctx, memfd) registers it and returns a backing id > 0 or
 * -errno; later opens of the extent reuse that id.  Returns the id, or
 * -errno when the extent cannot be bound: it is then served through the
 * page cache for all its life, as one inode never mixes the two. */
int tfs_bind(struct tfs_fs *fs, tfs_fh_t fh, int (*bind)(void *ctx, int fd), void *ctx);

/* The calls below take the ino the kernel gives with the handle: a handle
 * id it still holds from a previous serving process is taken over on first
 * use.  An unknown id of this process is -EBADF. */

/* Points *data at up to size bytes at off (fewer at the end, none past it),
 * valid until the handle is released; or, for the derived views, generated
 * into memory the caller frees (*to_free). */
int tfs_read(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, uint64_t off, size_t size,
	     const void **data, size_t *n, void **to_free, struct tfs_handle **hold);

/* The reply of a tfs_read is sent: the handle it held may go. */
void tfs_read_done(struct tfs_fs *fs, struct tfs_handle *hold);

/* Writes into a column (inside it only: -EPERM past the end) or appends to
 * the document being written to meta.json, applying it as soon as it is a
 * complete JSON value. */
int tfs_write(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh, uint64_t off, const void *buf,
	      size_t size);

/* Applies a pending meta.json document; its error is close(2)'s. */
int tfs_flush(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh);

/* Frees handle fh once no read reply still points into it. */
void tfs_release(struct tfs_fs *fs, tfs_ino_t ino, tfs_fh_t fh);

/* Applies a schema document to table dir (what a write to its meta.json
 * does).  0, or -errno with the reason logged and kept for status. */
int tfs_apply(struct tfs_fs *fs, tfs_ino_t dir, const char *doc, size_t len,
	      const struct tfs_cred *cred);

#endif
