/* The table filesystem core: the catalog of tables and columns, their nodes
 * (what the kernel knows as inodes), open handles and schema changes.  Knows
 * nothing of FUSE: the FUSE layer (ll.c) translates requests into these calls
 * and gets told through struct tfs_hooks when the kernel's caches must drop
 * something.  Every function returns 0 or a negative errno. */
#ifndef TABLEFS_FS_H
#define TABLEFS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "meta.h"

struct tfs_fs;
struct tfs_node;
struct tfs_handle;

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
	void (*inval_inode)(void *ctx, struct tfs_node *node);
	/* Drop the kernel's name -> node entry name in dir. */
	void (*inval_entry)(void *ctx, struct tfs_node *dir, const char *name);
	/* A column version is gone: release what the data path tied to it. */
	void (*version_gone)(void *ctx, int backing_id);
	/* The data path in force and why, for .status. */
	void (*data_path)(void *ctx, const char **mode, const char **why);
};

struct tfs_config {
	uint64_t mem_limit; /* bytes */
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

enum tfs_node_kind { TFS_N_ROOT, TFS_N_TABLE, TFS_N_META, TFS_N_COLUMN, TFS_N_STATUS };

struct tfs_attr {
	uint64_t ino; /* st_ino: unique for the life of the daemon */
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
};

/* Creates an empty filesystem (the root only).  *out or -ENOMEM. */
int tfs_fs_new(const struct tfs_config *cfg, struct tfs_fs **out);

/* Frees everything; no node or handle may be used afterwards. */
void tfs_fs_free(struct tfs_fs *fs);

/* The root node; it is never freed before the filesystem. */
struct tfs_node *tfs_root(struct tfs_fs *fs);

enum tfs_node_kind tfs_node_kind(const struct tfs_node *node);

/* Looks name up in dir and takes one kernel reference on the result. */
int tfs_lookup(struct tfs_fs *fs, struct tfs_node *dir, const char *name, struct tfs_node **out,
	       struct tfs_attr *attr);

/* Drops n kernel references taken by lookup, mkdir or a handed-out entry. */
void tfs_forget(struct tfs_fs *fs, struct tfs_node *node, uint64_t n);

int tfs_getattr(struct tfs_fs *fs, struct tfs_node *node, struct tfs_attr *attr);

/* chmod, chown, utimes and truncate.  A column's size cannot change
 * (-EPERM unless the size asked is its size). */
int tfs_setattr(struct tfs_fs *fs, struct tfs_node *node, const struct tfs_setattr *sa,
		struct tfs_attr *attr);

/* Creates an empty table; takes one kernel reference on it. */
int tfs_mkdir(struct tfs_fs *fs, struct tfs_node *dir, const char *name, mode_t mode,
	      const struct tfs_cred *cred, struct tfs_node **out, struct tfs_attr *attr);

/* Deletes an empty table (no columns); -ENOTEMPTY otherwise. */
int tfs_rmdir(struct tfs_fs *fs, struct tfs_node *dir, const char *name);

/* Deletes a column.  meta.json can be unlinked only from a table without
 * columns (so that rm -r works) and stays, being generated. */
int tfs_unlink(struct tfs_fs *fs, struct tfs_node *dir, const char *name);

/* Renames a table, or a column within its table.  flags: RENAME_NOREPLACE. */
int tfs_rename(struct tfs_fs *fs, struct tfs_node *dir, const char *name, struct tfs_node *newdir,
	       const char *newname, unsigned flags);

/* Snapshot of a directory's entries, "." and ".." first (malloc'd array). */
int tfs_readdir(struct tfs_fs *fs, struct tfs_node *dir, struct tfs_dirent **ents, size_t *n);

void tfs_statfs(struct tfs_fs *fs, struct tfs_statfs *st);

/* Opens node with open(2) flags.  Columns refuse O_TRUNC (-EPERM); meta.json
 * takes a snapshot for reading and collects written documents. */
int tfs_open(struct tfs_fs *fs, struct tfs_node *node, int flags, const struct tfs_cred *cred,
	     struct tfs_handle **out);

/* What an open handle is for the data path. */
enum tfs_node_kind tfs_handle_kind(const struct tfs_handle *h);

/* Column handles: the memfd of the version opened, and the slot where the
 * data path keeps its per-version state (a kernel backing id), guarded by
 * the data path itself. */
int tfs_handle_fd(const struct tfs_handle *h);
int *tfs_handle_backing(struct tfs_handle *h);

/* Points *data at up to size bytes at off (fewer at the end, none past it). */
int tfs_read(struct tfs_fs *fs, struct tfs_handle *h, uint64_t off, size_t size, const void **data,
	     size_t *n);

/* Writes into a column (inside it only: -EPERM past the end) or appends to
 * the document being written to meta.json, applying it as soon as it is a
 * complete JSON value. */
int tfs_write(struct tfs_fs *fs, struct tfs_handle *h, uint64_t off, const void *buf, size_t size);

/* Applies a pending meta.json document; its error is close(2)'s. */
int tfs_flush(struct tfs_fs *fs, struct tfs_handle *h);

void tfs_release(struct tfs_fs *fs, struct tfs_handle *h);

/* Applies a schema document to the table named table (what a write to its
 * meta.json does).  0, or -errno with the reason logged and kept for status. */
int tfs_apply(struct tfs_fs *fs, struct tfs_node *table, const char *doc, size_t len,
	      const struct tfs_cred *cred);

#endif
