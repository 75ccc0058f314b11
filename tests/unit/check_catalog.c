/* The catalog driven without a mount: schema documents applied, columns
 * resized, tables and columns renamed, views looked up and retired, nodes
 * forgotten, and a new serving process rebuilt from the records a crashed
 * one handed over.  Fake hooks stand for the FUSE layer, the data path and
 * the supervisor: they record every notification, every record put or
 * dropped (keeping its memfd, as the supervisor does) and every version
 * that went, and the tests assert on what the catalog asked of them. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "mem.h"
#include "suites.h"

#define FAKE_MAX 256

struct rec {
	uint32_t kind;
	uint64_t key;
	void *blob;
	size_t len;
	int fd; /* the supervisor's own copy, or -1 */
};

/* What the catalog asked of the layers around it. */
struct fake {
	struct rec recs[FAKE_MAX];
	size_t nrecs;
	unsigned puts, drops;
	tfs_ino_t inodes[FAKE_MAX]; /* inval_inode */
	size_t ninodes;
	struct {
		tfs_ino_t dir;
		char name[TFS_NAME_MAX + 16];
		tfs_ino_t child; /* delete_later's; 0 for inval_entry */
	} entries[FAKE_MAX]; /* inval_entry, inval_entry_later, delete_later */
	size_t nentries;
	int gone[FAKE_MAX]; /* version_gone */
	size_t ngone;
	/* The serving process died: what its remains do reaches no one. */
	bool dead;
};

static struct fake fake;
static struct tfs_fs *fs;
static const struct tfs_cred cred = {.uid = 1000, .gid = 100, .umask = 022};

static void fake_inval_inode(void *ctx, tfs_ino_t ino)
{
	struct fake *f = ctx;

	if (!f->dead && f->ninodes < FAKE_MAX)
		f->inodes[f->ninodes++] = ino;
}

static void fake_inval_entry(void *ctx, tfs_ino_t dir, const char *name)
{
	struct fake *f = ctx;

	if (f->dead || f->nentries == FAKE_MAX)
		return;
	f->entries[f->nentries].dir = dir;
	f->entries[f->nentries].child = 0;
	snprintf(f->entries[f->nentries].name, sizeof(f->entries[0].name), "%s", name);
	f->nentries++;
}

static void fake_delete_later(void *ctx, tfs_ino_t dir, tfs_ino_t child, const char *name)
{
	struct fake *f = ctx;

	fake_inval_entry(ctx, dir, name);
	if (f->nentries && !f->dead)
		f->entries[f->nentries - 1].child = child;
}

static void fake_version_gone(void *ctx, int backing_id)
{
	struct fake *f = ctx;

	if (!f->dead && f->ngone < FAKE_MAX)
		f->gone[f->ngone++] = backing_id;
}

static void fake_data_path(void *ctx, const char **mode, const char **why)
{
	(void)ctx;
	*mode = "fake-path";
	*why = "driven by check_catalog";
}

static bool fake_protection(void *ctx, const char **why)
{
	struct fake *f = ctx;

	*why = "fake supervisor gone";
	return !f->dead;
}

static struct rec *rec_find(uint32_t kind, uint64_t key)
{
	for (size_t i = 0; i < fake.nrecs; i++)
		if (fake.recs[i].kind == kind && fake.recs[i].key == key)
			return &fake.recs[i];
	return NULL;
}

static void rec_free(struct rec *r)
{
	free(r->blob);
	if (r->fd >= 0)
		close(r->fd);
	*r = fake.recs[--fake.nrecs];
}

static void fake_put(void *ctx, uint32_t kind, uint64_t key, const void *blob, size_t len, int fd)
{
	struct fake *f = ctx;
	struct rec *r;

	if (f->dead)
		return;
	f->puts++;
	if ((r = rec_find(kind, key)))
		rec_free(r);
	ck_assert_uint_lt(f->nrecs, FAKE_MAX);
	r = &f->recs[f->nrecs++];
	r->kind = kind;
	r->key = key;
	r->len = len;
	r->blob = malloc(len);
	ck_assert_ptr_nonnull(r->blob);
	memcpy(r->blob, blob, len);
	r->fd = fd >= 0 ? dup(fd) : -1;
	ck_assert(fd < 0 || r->fd >= 0);
}

static void fake_drop(void *ctx, uint32_t kind, uint64_t key)
{
	struct fake *f = ctx;
	struct rec *r;

	if (f->dead)
		return;
	f->drops++;
	if ((r = rec_find(kind, key)))
		rec_free(r);
}

static struct tfs_config config(uint64_t epoch, uint64_t mem_limit, uint64_t max_versions)
{
	struct tfs_config cfg = {
		.epoch = epoch,
		.mem_limit = mem_limit,
		.max_extents = max_versions,
		.root_uid = 0,
		.root_gid = 0,
		.hooks =
		    {
			.ctx = &fake,
			.inval_inode = fake_inval_inode,
			.inval_entry = fake_inval_entry,
			.inval_entry_later = fake_inval_entry,
			.delete_later = fake_delete_later,
			.extent_gone = fake_version_gone,
			.persist_put = fake_put,
			.persist_drop = fake_drop,
			.data_path = fake_data_path,
			.crash_protection = fake_protection,
		    },
	};

	return cfg;
}

/* Replaces the fixture's filesystem with one of these limits. */
static void remake(uint64_t mem_limit, uint64_t max_versions)
{
	struct tfs_config cfg = config(0, mem_limit, max_versions);

	tfs_fs_free(fs);
	ck_assert_int_eq(tfs_fs_new(&cfg, &fs), 0);
}

static void setup(void)
{
	struct tfs_config cfg = config(0, 64u << 20, 0);

	memset(&fake, 0, sizeof(fake));
	ck_assert_int_eq(tfs_fs_new(&cfg, &fs), 0);
}

static void teardown(void)
{
	tfs_fs_free(fs);
	fs = NULL;
	fake.dead = false;
	while (fake.nrecs)
		rec_free(&fake.recs[0]);
}

static bool saw_inode(tfs_ino_t ino)
{
	for (size_t i = 0; i < fake.ninodes; i++)
		if (fake.inodes[i] == ino)
			return true;
	return false;
}

static bool saw_entry(tfs_ino_t dir, const char *name)
{
	for (size_t i = 0; i < fake.nentries; i++)
		if (fake.entries[i].dir == dir && strcmp(fake.entries[i].name, name) == 0)
			return true;
	return false;
}

/* A deletion of name in dir (of node child, or of any: 0) was sent. */
static bool saw_deleted(tfs_ino_t dir, const char *name, tfs_ino_t child)
{
	for (size_t i = 0; i < fake.nentries; i++)
		if (fake.entries[i].dir == dir && strcmp(fake.entries[i].name, name) == 0 &&
		    fake.entries[i].child && (!child || fake.entries[i].child == child))
			return true;
	return false;
}

static bool saw_gone(int id)
{
	for (size_t i = 0; i < fake.ngone; i++)
		if (fake.gone[i] == id)
			return true;
	return false;
}

static tfs_ino_t table(const char *name)
{
	struct tfs_attr a;

	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, name, 0755, &cred, &a), 0);
	return a.ino;
}

static int apply(tfs_ino_t dir, const char *doc)
{
	return tfs_apply(fs, dir, doc, strlen(doc), &cred);
}

/* Looks name up (one kernel reference) and returns its attributes. */
static struct tfs_attr look(tfs_ino_t dir, const char *name)
{
	struct tfs_attr a;

	ck_assert_int_eq(tfs_lookup(fs, dir, name, &a), 0);
	return a;
}

static int lookup_err(tfs_ino_t dir, const char *name)
{
	struct tfs_attr a;

	return tfs_lookup(fs, dir, name, &a);
}

static int create_err(tfs_ino_t dir, const char *name)
{
	struct tfs_attr a;
	enum tfs_node_kind kind;
	tfs_fh_t fh;
	int rc = tfs_create(fs, dir, name, O_CREAT | O_WRONLY, &cred, &fh, &kind, &a);

	if (rc == 0)
		tfs_release(fs, a.ino, fh);
	return rc;
}

static tfs_fh_t open_ino(tfs_ino_t ino, int flags)
{
	enum tfs_node_kind kind;
	tfs_fh_t fh;

	ck_assert_int_eq(tfs_open(fs, ino, flags, &cred, &fh, &kind), 0);
	return fh;
}

/* Up to max bytes of ino through handle fh (malloc'd, NUL-terminated). */
static char *read_fh(tfs_ino_t ino, tfs_fh_t fh, size_t *n)
{
	struct tfs_handle *hold;
	const void *data;
	void *to_free;
	char *out;

	ck_assert_int_eq(tfs_read(fs, ino, fh, 0, 1 << 20, &data, n, &to_free, &hold), 0);
	out = malloc(*n + 1);
	ck_assert_ptr_nonnull(out);
	memcpy(out, data, *n);
	out[*n] = '\0';
	tfs_read_done(fs, hold);
	free(to_free);
	return out;
}

static char *read_all(tfs_ino_t ino, size_t *n)
{
	tfs_fh_t fh = open_ino(ino, O_RDONLY);
	char *out = read_fh(ino, fh, n);

	tfs_release(fs, ino, fh);
	return out;
}

static void write_all(tfs_ino_t ino, const void *buf, size_t len)
{
	tfs_fh_t fh = open_ino(ino, O_WRONLY);

	ck_assert_int_eq(tfs_write(fs, ino, fh, 0, buf, len), 0);
	tfs_release(fs, ino, fh);
}

static bool all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static struct tfs_statfs stats(void)
{
	struct tfs_statfs st;

	tfs_statfs(fs, &st);
	return st;
}

static int bind_42(void *ctx, int fd)
{
	(void)ctx;
	return fd >= 0 ? 42 : -EBADF;
}

START_TEST(test_apply_creates_zero_filled_columns)
{
	tfs_ino_t t = table("t");
	struct tfs_attr a, v, meta;
	struct tfs_dirent *ents;
	struct tfs_statfs st;
	struct stat sb;
	struct rec *r;
	size_t n;
	char *s;

	meta = look(t, TFS_META_NAME);
	ck_assert_ptr_nonnull(rec_find(TFS_REC_TABLE, t));
	ck_assert_int_eq(apply(t, "{\"rows\": 5, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int32\"}, {\"name\": \"v\", \"type\": \"float64\", "
				  "\"shape\": [3]}]}"),
			 0);
	a = look(t, "a");
	v = look(t, "v");
	ck_assert_int_eq(a.kind, TFS_N_COLUMN);
	ck_assert_uint_eq(a.size, 5 * 4);
	ck_assert_uint_eq(v.size, 5 * 3 * 8);
	ck_assert_uint_ne(a.ino, v.ino);
	ck_assert_uint_eq(a.uid, cred.uid);
	ck_assert_uint_eq(a.gid, cred.gid);
	s = read_all(v.ino, &n);
	ck_assert_uint_eq(n, 120);
	ck_assert(all_zero(s, n));
	free(s);

	/* Columns in schema order, meta.json last. */
	ck_assert_int_eq(tfs_readdir(fs, t, &ents, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(ents[2].name, "a");
	ck_assert_uint_eq(ents[2].ino, a.ino);
	ck_assert_str_eq(ents[3].name, "v");
	ck_assert_str_eq(ents[4].name, TFS_META_NAME);
	free(ents);
	s = read_all(meta.ino, &n);
	ck_assert_ptr_nonnull(strstr(s, "\"rows\": 5,"));
	ck_assert_ptr_nonnull(strstr(s, "\"name\": \"v\", \"type\": \"float64\""));
	free(s);

	/* Memory in whole pages, one memfd per column. */
	st = stats();
	ck_assert_uint_eq(st.tables, 1);
	ck_assert_uint_eq(st.columns, 2);
	ck_assert_uint_eq(st.extents, 2);
	ck_assert_uint_eq(st.used, tfs_mem_charge(20) + tfs_mem_charge(120));

	/* The supervisor holds each version's memfd, of the column's size. */
	r = rec_find(TFS_REC_EXTENT, a.ino);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_ge(r->fd, 0);
	ck_assert_int_eq(fstat(r->fd, &sb), 0);
	ck_assert_int_eq(sb.st_size, 20);
	ck_assert_ptr_nonnull(rec_find(TFS_REC_EXTENT, v.ino));

	/* The kernel is told that meta.json and the directory changed. */
	ck_assert(saw_inode(meta.ino));
	ck_assert(saw_inode(t));

	/* The same document again changes nothing. */
	fake.puts = 0;
	ck_assert_int_eq(apply(t, "{\"rows\": 5, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int32\"}]}"),
			 0);
	ck_assert_uint_eq(fake.puts, 0);
	ck_assert_uint_eq(look(t, "a").ino, a.ino);
}
END_TEST

START_TEST(test_apply_refusals_change_nothing)
{
	tfs_ino_t t = table("t");
	struct tfs_attr a, c;
	struct tfs_statfs before;
	char *meta0, *meta1, *status;
	tfs_ino_t meta;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	a = look(t, "a");
	meta = look(t, TFS_META_NAME).ino;
	meta0 = read_all(meta, &n);
	before = stats();
	fake.puts = fake.drops = 0;

	/* Type change of an existing column, unknown type, bad JSON, bad
	 * name, unknown key: EINVAL.  Over the memory limit: ENOSPC. */
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"a\", \"type\": \"int16\"}]}"),
			 -EINVAL);
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"b\", \"type\": \"int7\"}]}"),
			 -EINVAL);
	ck_assert_int_eq(apply(t, "{\"rows\": "), -EINVAL);
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"b.c\", \"type\": \"int8\"}]}"),
			 -EINVAL);
	ck_assert_int_eq(apply(t, "{\"rowz\": 3}"), -EINVAL);
	ck_assert_int_eq(apply(t, "{\"rows\": -1}"), -EINVAL);
	ck_assert_int_eq(apply(t, "{\"rows\": 1099511627776}"), -ENOSPC);
	status = read_all(TFS_STATUS_INO, &n);
	ck_assert_ptr_nonnull(strstr(status, "more memory"));
	free(status);

	/* Not a table, or no such node. */
	ck_assert_int_eq(apply(TFS_ROOT_INO, "{\"rows\": 3}"), -ENOTDIR);
	ck_assert_int_eq(apply(a.ino, "{\"rows\": 3}"), -ENOTDIR);
	ck_assert_int_eq(apply(999999, "{\"rows\": 3}"), -ESTALE);

	/* Nothing changed, nothing was handed over. */
	ck_assert_uint_eq(fake.puts, 0);
	ck_assert_uint_eq(fake.drops, 0);
	c = look(t, "a");
	ck_assert_uint_eq(c.ino, a.ino);
	ck_assert_uint_eq(c.size, 2);
	ck_assert_int_eq(lookup_err(t, "b"), -ENOENT);
	ck_assert_uint_eq(stats().used, before.used);
	ck_assert_uint_eq(stats().extents, before.extents);
	meta1 = read_all(meta, &n);
	ck_assert_str_eq(meta1, meta0);
	free(meta0);
	free(meta1);

	/* A good document clears the reason. */
	ck_assert_int_eq(apply(t, "{\"rows\": 3}"), 0);
	status = read_all(TFS_STATUS_INO, &n);
	ck_assert_ptr_null(strstr(status, "more memory"));
	ck_assert_ptr_nonnull(strstr(status, "\"last_error\":\tnull"));
	free(status);
}
END_TEST

START_TEST(test_column_files_limit)
{
	tfs_ino_t t;

	remake(64u << 20, 2);
	t = table("t");
	ck_assert_int_eq(apply(t, "{\"rows\": 1, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}, {\"name\": \"b\", \"type\": \"int8\"}, {\"name\": "
				  "\"c\", \"type\": \"int8\"}]}"),
			 -ENOSPC);
	ck_assert_int_eq(lookup_err(t, "a"), -ENOENT);
	ck_assert_uint_eq(stats().extents, 0);
	ck_assert_int_eq(apply(t, "{\"rows\": 1, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}, {\"name\": \"b\", \"type\": \"int8\"}]}"),
			 0);
	ck_assert_uint_eq(stats().extents, 2);
	/* A resize needs a second memfd per column while it copies. */
	ck_assert_int_eq(apply(t, "{\"rows\": 2}"), -ENOSPC);
	ck_assert_uint_eq(look(t, "a").size, 1);
}
END_TEST

START_TEST(test_resize_keeps_old_version_while_open)
{
	tfs_ino_t t = table("t");
	unsigned char bytes[32], *s;
	struct tfs_attr old, cur;
	struct tfs_statfs st;
	tfs_fh_t fh;
	size_t n;

	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i + 1);
	ck_assert_int_eq(apply(t, "{\"rows\": 4, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int64\"}]}"),
			 0);
	old = look(t, "a");
	write_all(old.ino, bytes, sizeof(bytes));
	fh = open_ino(old.ino, O_RDWR);
	ck_assert_int_eq(tfs_bind(fs, fh, bind_42, NULL), 42);
	fake.nentries = 0;

	/* More rows: a new version (new inode), the old rows copied, the
	 * new ones zero; the kernel's entry of the column is dropped. */
	ck_assert_int_eq(apply(t, "{\"rows\": 8}"), 0);
	cur = look(t, "a");
	ck_assert_uint_ne(cur.ino, old.ino);
	ck_assert_uint_eq(cur.size, 64);
	s = (unsigned char *)read_all(cur.ino, &n);
	ck_assert_uint_eq(n, 64);
	ck_assert_mem_eq(s, bytes, sizeof(bytes));
	ck_assert(all_zero((char *)s + 32, 32));
	free(s);
	ck_assert(saw_entry(t, "a"));
	ck_assert_ptr_nonnull(rec_find(TFS_REC_EXTENT, cur.ino));

	/* The old version lives on, unlinked, for its open handle: its bytes
	 * as they were, and its memory still charged. */
	ck_assert_int_eq(tfs_getattr(fs, old.ino, &old), 0);
	ck_assert_uint_eq(old.size, 32);
	ck_assert_uint_eq(old.nlink, 0);
	ck_assert_int_eq(tfs_write(fs, old.ino, fh, 0, "\xff", 1), 0);
	s = (unsigned char *)read_fh(old.ino, fh, &n);
	ck_assert_uint_eq(n, 32);
	ck_assert_int_eq(s[0], 0xff);
	ck_assert_mem_eq(s + 1, bytes + 1, 31);
	free(s);
	s = (unsigned char *)read_all(cur.ino, &n);
	ck_assert_int_eq(s[0], 1); /* the new version is apart */
	free(s);
	st = stats();
	ck_assert_uint_eq(st.extents, 2);
	ck_assert_uint_eq(st.used, tfs_mem_charge(32) + tfs_mem_charge(64));
	ck_assert_uint_eq(st.columns, 1);
	ck_assert_ptr_nonnull(rec_find(TFS_REC_EXTENT, old.ino));

	/* Released, it still has the kernel's reference; forgotten, it goes,
	 * and with it its record, its memory and its data path binding. */
	tfs_release(fs, old.ino, fh);
	ck_assert_int_eq(tfs_getattr(fs, old.ino, &old), 0);
	ck_assert(!saw_gone(42));
	tfs_forget(fs, old.ino, 1);
	ck_assert_int_eq(tfs_getattr(fs, old.ino, &old), -ESTALE);
	ck_assert(saw_gone(42));
	ck_assert_ptr_null(rec_find(TFS_REC_EXTENT, old.ino));
	st = stats();
	ck_assert_uint_eq(st.extents, 1);
	ck_assert_uint_eq(st.used, tfs_mem_charge(64));

	/* Fewer rows keep the first ones. */
	ck_assert_int_eq(apply(t, "{\"rows\": 2}"), 0);
	old = cur;
	cur = look(t, "a");
	ck_assert_uint_eq(cur.size, 16);
	s = (unsigned char *)read_all(cur.ino, &n);
	ck_assert_mem_eq(s, bytes, 16);
	free(s);
	/* Nothing held the previous one but the kernel's reference. */
	tfs_forget(fs, old.ino, 1);
	ck_assert_int_eq(tfs_getattr(fs, old.ino, &old), -ESTALE);
	ck_assert_uint_eq(stats().used, tfs_mem_charge(16));
}
END_TEST

/* A resize frees the old version's memory only if nothing holds it: with
 * 4 pages allowed, a 2-page column grows to 3 pages only once its open
 * handle is gone. */
START_TEST(test_resize_charge_of_held_version)
{
	struct tfs_attr a;
	tfs_ino_t t;
	tfs_fh_t fh;

	remake(4 * TFS_PAGE_SIZE, 0);
	t = table("t");
	ck_assert_int_eq(apply(t, "{\"rows\": 8192, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	ck_assert_uint_eq(stats().used, 2 * TFS_PAGE_SIZE);
	a = look(t, "a");
	fh = open_ino(a.ino, O_RDONLY);
	ck_assert_int_eq(apply(t, "{\"rows\": 8193}"), -ENOSPC);
	ck_assert_uint_eq(look(t, "a").size, 8192);
	tfs_release(fs, a.ino, fh);
	ck_assert_int_eq(apply(t, "{\"rows\": 8193}"), 0);
	ck_assert_uint_eq(look(t, "a").size, 8193);
	/* The old version waits for the kernel to forget it, as a replaced
	 * file does; then only the new one is charged. */
	tfs_forget(fs, a.ino, 2);
	ck_assert_uint_eq(stats().used, 3 * TFS_PAGE_SIZE);
}
END_TEST

START_TEST(test_rename_table)
{
	tfs_ino_t t = table("t"), e = table("e"), f = table("f"), meta;
	struct tfs_attr a;
	char *s;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 1, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	ck_assert_int_eq(apply(f, "{\"rows\": 1, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	meta = look(t, TFS_META_NAME).ino;
	fake.ninodes = 0;

	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "t", TFS_ROOT_INO, "u", 0), 0);
	ck_assert_int_eq(lookup_err(TFS_ROOT_INO, "t"), -ENOENT);
	ck_assert_uint_eq(look(TFS_ROOT_INO, "u").ino, t);
	ck_assert(saw_inode(meta)); /* its "name" changed */
	s = read_all(meta, &n);
	ck_assert_ptr_nonnull(strstr(s, "\"name\": \"u\""));
	free(s);

	/* Refusals. */
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "t", TFS_ROOT_INO, "v", 0), -ENOENT);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", TFS_ROOT_INO, "e", RENAME_NOREPLACE),
			 -EEXIST);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", TFS_ROOT_INO, "f", 0), -ENOTEMPTY);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", TFS_ROOT_INO, "x.y", 0), -EINVAL);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", TFS_ROOT_INO, "e", RENAME_EXCHANGE),
			 -EINVAL);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, TFS_STATUS_NAME, TFS_ROOT_INO, "s", 0),
			 -EPERM);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", t, "u", 0), -EXDEV);
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", 999999, "u", 0), -ESTALE);
	ck_assert_uint_eq(look(TFS_ROOT_INO, "u").ino, t);
	ck_assert_uint_eq(look(TFS_ROOT_INO, "e").ino, e);
	ck_assert_uint_eq(look(TFS_ROOT_INO, "f").ino, f);

	/* Onto an empty table: that one goes (its node stays for the
	 * kernel's reference, unlinked). */
	ck_assert_int_eq(tfs_rename(fs, TFS_ROOT_INO, "u", TFS_ROOT_INO, "e", 0), 0);
	ck_assert_uint_eq(look(TFS_ROOT_INO, "e").ino, t);
	ck_assert_ptr_null(rec_find(TFS_REC_TABLE, e));
	ck_assert_int_eq(tfs_getattr(fs, e, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_uint_eq(stats().tables, 2);
	tfs_forget(fs, e, 3);
	ck_assert_int_eq(tfs_getattr(fs, e, &a), -ESTALE);
}
END_TEST

START_TEST(test_rename_column)
{
	tfs_ino_t t = table("t"), other = table("o");
	struct tfs_attr a, b;
	struct tfs_dirent *ents;
	char *s;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}, {\"name\": \"b\", \"type\": \"int16\"}, "
				  "{\"name\": \"c\", \"type\": \"int8\"}]}"),
			 0);
	a = look(t, "a");
	write_all(a.ino, "xy", 2);
	fake.puts = 0;

	/* The same version under a new name: no copy, no new inode. */
	ck_assert_int_eq(tfs_rename(fs, t, "a", t, "z", 0), 0);
	ck_assert_int_eq(lookup_err(t, "a"), -ENOENT);
	ck_assert_uint_eq(look(t, "z").ino, a.ino);
	s = read_all(a.ino, &n);
	ck_assert_str_eq(s, "xy");
	free(s);
	ck_assert_uint_ge(fake.puts, 1); /* the table record */
	ck_assert_ptr_nonnull(rec_find(TFS_REC_TABLE, t));

	/* Refusals. */
	ck_assert_int_eq(tfs_rename(fs, t, "a", t, "q", 0), -ENOENT);
	ck_assert_int_eq(tfs_rename(fs, t, "z", t, "b", RENAME_NOREPLACE), -EEXIST);
	ck_assert_int_eq(tfs_rename(fs, t, "z", t, TFS_META_NAME, 0), -EPERM);
	ck_assert_int_eq(tfs_rename(fs, t, TFS_META_NAME, t, "m", 0), -EPERM);
	ck_assert_int_eq(tfs_rename(fs, t, "z", t, "z.npy", 0), -EINVAL);
	ck_assert_int_eq(tfs_rename(fs, t, "z", other, "z", 0), -EXDEV);
	ck_assert_int_eq(tfs_rename(fs, t, "z", TFS_ROOT_INO, "z", 0), -EXDEV);
	ck_assert_int_eq(tfs_rename(fs, a.ino, "z", a.ino, "y", 0), -ENOTDIR);
	ck_assert_uint_eq(look(t, "z").ino, a.ino);

	/* Onto an existing column: it is replaced, the others keep order. */
	b = look(t, "b");
	ck_assert_int_eq(tfs_rename(fs, t, "z", t, "b", 0), 0);
	ck_assert_uint_eq(look(t, "b").ino, a.ino);
	ck_assert_int_eq(tfs_getattr(fs, b.ino, &b), 0);
	ck_assert_uint_eq(b.nlink, 0);
	ck_assert_int_eq(tfs_readdir(fs, t, &ents, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(ents[2].name, "b");
	ck_assert_str_eq(ents[3].name, "c");
	free(ents);
	ck_assert_uint_eq(stats().columns, 2);
}
END_TEST

START_TEST(test_views)
{
	tfs_ino_t t = table("t");
	struct tfs_attr col, npy, npy2, arrow, arrow2, a;
	struct tfs_dirent *ents;
	enum tfs_node_kind kind;
	tfs_fh_t fh, vfh;
	char *s;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 3, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int16\"}]}"),
			 0);
	col = look(t, "a");
	write_all(col.ino, "ABCDEF", 6);

	/* COLUMN.npy: a NumPy header, then the column's bytes. */
	npy = look(t, "a.npy");
	ck_assert_int_eq(npy.kind, TFS_N_NPY);
	ck_assert_uint_gt(npy.size, 6);
	s = read_all(npy.ino, &n);
	ck_assert_uint_eq(n, npy.size);
	ck_assert_mem_eq(s, "\x93NUMPY", 6);
	ck_assert_ptr_nonnull(strstr(s + 10, "'descr': '<i2'"));
	ck_assert_ptr_nonnull(strstr(s + 10, "'shape': (3,)"));
	ck_assert_mem_eq(s + n - 6, "ABCDEF", 6);
	free(s);
	ck_assert_uint_eq(look(t, "a.npy").ino, npy.ino); /* made once */

	/* table.arrow: an Arrow IPC file. */
	arrow = look(t, TFS_ARROW_NAME);
	ck_assert_int_eq(arrow.kind, TFS_N_ARROW);
	s = read_all(arrow.ino, &n);
	ck_assert_uint_eq(n, arrow.size);
	ck_assert_mem_eq(s, "ARROW1", 6);
	ck_assert_mem_eq(s + n - 6, "ARROW1", 6);
	free(s);

	/* No other dotted name; read-only; not listed. */
	ck_assert_int_eq(lookup_err(t, "b.npy"), -ENOENT);
	ck_assert_int_eq(lookup_err(t, "a.csv"), -ENOENT);
	ck_assert_int_eq(lookup_err(t, ".npy"), -ENOENT);
	ck_assert_int_eq(tfs_open(fs, npy.ino, O_WRONLY, &cred, &fh, &kind), -EPERM);
	ck_assert_int_eq(tfs_open(fs, arrow.ino, O_RDWR, &cred, &fh, &kind), -EPERM);
	ck_assert_int_eq(tfs_unlink(fs, t, "a.npy"), -EPERM);
	ck_assert_int_eq(tfs_unlink(fs, t, TFS_ARROW_NAME), -EPERM);
	ck_assert_int_eq(tfs_readdir(fs, t, &ents, &n), 0);
	ck_assert_uint_eq(n, 4);
	free(ents);

	/* A new column retires table.arrow, not a.npy. */
	vfh = open_ino(arrow.ino, O_RDONLY);
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"b\", \"type\": \"int8\"}]}"), 0);
	arrow2 = look(t, TFS_ARROW_NAME);
	ck_assert_uint_ne(arrow2.ino, arrow.ino);
	ck_assert_uint_gt(arrow2.size, arrow.size);
	ck_assert_uint_eq(look(t, "a.npy").ino, npy.ino);
	/* The retired one still reads as it was through its open handle. */
	ck_assert_int_eq(tfs_getattr(fs, arrow.ino, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_uint_eq(a.size, arrow.size);
	s = read_fh(arrow.ino, vfh, &n);
	ck_assert_uint_eq(n, arrow.size);
	free(s);
	tfs_release(fs, arrow.ino, vfh);
	/* Not opened again: the kernel is to look the name up anew. */
	ck_assert_int_eq(tfs_open(fs, arrow.ino, O_RDONLY, &cred, &fh, &kind), -ESTALE);
	tfs_forget(fs, arrow.ino, 1);
	ck_assert_int_eq(tfs_getattr(fs, arrow.ino, &a), -ESTALE);

	/* A resize retires a.npy; open, it keeps the old version alive. */
	vfh = open_ino(npy.ino, O_RDONLY);
	ck_assert_int_eq(apply(t, "{\"rows\": 4}"), 0);
	npy2 = look(t, "a.npy");
	ck_assert_uint_ne(npy2.ino, npy.ino);
	ck_assert_uint_eq(npy2.size, npy.size + 2);
	tfs_forget(fs, col.ino, 100);
	ck_assert_int_eq(tfs_getattr(fs, col.ino, &a), 0); /* pinned by the view */
	s = read_fh(npy.ino, vfh, &n);
	ck_assert_uint_eq(n, npy.size);
	ck_assert_mem_eq(s + n - 6, "ABCDEF", 6);
	free(s);
	tfs_release(fs, npy.ino, vfh);
	ck_assert_int_eq(tfs_getattr(fs, col.ino, &a), -ESTALE);
	ck_assert_ptr_null(rec_find(TFS_REC_EXTENT, col.ino));
	tfs_forget(fs, npy.ino, 100);
	ck_assert_int_eq(tfs_getattr(fs, npy.ino, &a), -ESTALE);

	/* Views of a deleted column go with it. */
	ck_assert_int_eq(tfs_unlink(fs, t, "a"), 0);
	ck_assert_int_eq(lookup_err(t, "a.npy"), -ENOENT);
}
END_TEST

/* Restores every record the fake supervisor holds into fs, in its order:
 * by kind, then key.  Each descriptor is handed over as a copy, as a forked
 * process gets its own. */
static void restore_all(void)
{
	for (uint32_t kind = TFS_REC_ROOT; kind <= TFS_REC_TABLE; kind++) {
		uint64_t last = 0;
		for (;;) {
			struct rec *next = NULL;
			for (size_t i = 0; i < fake.nrecs; i++)
				if (fake.recs[i].kind == kind && fake.recs[i].key >= last &&
				    (!next || fake.recs[i].key < next->key))
					next = &fake.recs[i];
			if (!next)
				break;
			ck_assert_int_eq(tfs_restore(fs, kind, next->blob, next->len,
						     next->fd >= 0 ? dup(next->fd) : -1),
					 0);
			last = next->key + 1;
		}
	}
}

/* The serving process dies: nothing of it reaches the supervisor any
 * more, its memory and descriptors go.  A new one rebuilds the catalog
 * from the records. */
static void crash_and_restart(void)
{
	struct tfs_config cfg = config(1, 64u << 20, 0);

	fake.dead = true;
	tfs_fs_free(fs);
	fake.dead = false;
	ck_assert_int_eq(tfs_fs_new(&cfg, &fs), 0);
	restore_all();
}

static void collect_restored(void *ctx, tfs_ino_t ino)
{
	struct fake *f = ctx;

	if (f->ninodes < FAKE_MAX)
		f->inodes[f->ninodes++] = ino;
}

START_TEST(test_restore_after_crash)
{
	tfs_ino_t t = table("t"), e = table("e"), meta = look(t, TFS_META_NAME).ino;
	struct tfs_attr a, v, old, x, tattr;
	struct tfs_statfs before, after;
	struct tfs_setattr sa = {.set_mode = true, .mode = 0700};
	struct tfs_dirent *ents;
	tfs_fh_t oldfh;
	char *meta0, *s, *status;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int32\"}, {\"name\": \"v\", \"type\": \"uint8\", \"shape\": "
				  "[3]}]}"),
			 0);
	old = look(t, "a");
	write_all(old.ino, "12345678", 8);
	oldfh = open_ino(old.ino, O_RDONLY);
	ck_assert_int_eq(apply(t, "{\"rows\": 3}"), 0);
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"bad\", \"type\": \"nope\"}]}"),
			 -EINVAL);
	/* A refusal alone is not handed over; the rename after it is, with
	 * the table's last error. */
	ck_assert_int_eq(tfs_rename(fs, t, "v", t, "w", 0), 0);
	ck_assert_int_eq(tfs_setattr(fs, e, 0, &sa, &x), 0);
	a = look(t, "a");
	v = look(t, "w");
	write_all(v.ino, "abcdefghi", 9);
	tattr = look(TFS_ROOT_INO, "t");
	meta0 = read_all(meta, &n);
	before = stats();

	crash_and_restart();

	/* The same tables, node numbers, attributes and bytes. */
	ck_assert_uint_eq(look(TFS_ROOT_INO, "t").ino, t);
	ck_assert_uint_eq(look(TFS_ROOT_INO, "e").ino, e);
	ck_assert_int_eq(tfs_getattr(fs, t, &x), 0);
	ck_assert_uint_eq(x.mode, tattr.mode);
	ck_assert_uint_eq(x.uid, cred.uid);
	ck_assert_int_eq(x.mtime.tv_sec, tattr.mtime.tv_sec);
	ck_assert_int_eq(x.mtime.tv_nsec, tattr.mtime.tv_nsec);
	ck_assert_int_eq(tfs_getattr(fs, e, &x), 0);
	ck_assert_uint_eq(x.mode & 07777, 0700);
	ck_assert_uint_eq(look(t, TFS_META_NAME).ino, meta);
	x = look(t, "a");
	ck_assert_uint_eq(x.ino, a.ino);
	ck_assert_uint_eq(x.size, 12);
	x = look(t, "w");
	ck_assert_uint_eq(x.ino, v.ino);
	ck_assert_int_eq(lookup_err(t, "v"), -ENOENT);
	s = read_all(a.ino, &n);
	ck_assert_uint_eq(n, 12);
	ck_assert_mem_eq(s, "12345678\0\0\0\0", 12);
	free(s);
	s = read_all(v.ino, &n);
	ck_assert_str_eq(s, "abcdefghi");
	free(s);
	s = read_all(meta, &n);
	ck_assert_str_eq(s, meta0);
	free(s);
	free(meta0);
	ck_assert_int_eq(tfs_readdir(fs, TFS_ROOT_INO, &ents, &n), 0);
	ck_assert_uint_eq(n, 5); /* . .. .status e t */
	free(ents);
	status = read_all(TFS_STATUS_INO, &n);
	ck_assert_ptr_nonnull(strstr(status, "nope")); /* the last error too */
	free(status);
	after = stats();
	ck_assert_uint_eq(after.tables, before.tables);
	ck_assert_uint_eq(after.columns, before.columns);
	ck_assert_uint_eq(after.extents, before.extents);
	ck_assert_uint_eq(after.used, before.used);

	/* The replaced version still open at the crash came along: its
	 * handle, from the earlier process, is taken over. */
	s = read_fh(old.ino, oldfh, &n);
	ck_assert_uint_eq(n, 8);
	ck_assert_mem_eq(s, "12345678", 8);
	free(s);
	tfs_release(fs, old.ino, oldfh);

	/* Restored nodes have a kernel reference count nobody knows; once
	 * the kernel is found not to hold one, it goes if nothing else
	 * holds it.  The current columns stay. */
	fake.ninodes = 0;
	tfs_foreach_restored(fs, collect_restored, &fake);
	ck_assert(saw_inode(old.ino));
	ck_assert(saw_inode(a.ino));
	ck_assert(saw_inode(t));
	tfs_forget_unknown(fs, old.ino);
	ck_assert_int_eq(tfs_getattr(fs, old.ino, &x), -ESTALE);
	ck_assert_ptr_null(rec_find(TFS_REC_EXTENT, old.ino));
	tfs_forget_unknown(fs, a.ino);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &x), 0);
	ck_assert_uint_eq(stats().extents, before.extents - 1);

	/* The kernel is to drop every name it may cache. */
	fake.nentries = 0;
	tfs_invalidate_names(fs);
	ck_assert(saw_entry(TFS_ROOT_INO, "t"));
	ck_assert(saw_entry(TFS_ROOT_INO, "e"));
	ck_assert(saw_entry(t, TFS_META_NAME));
	ck_assert(saw_entry(t, "a"));
	ck_assert(saw_entry(t, "w"));
	ck_assert(!saw_entry(t, "v"));

	/* New nodes take numbers none of the restored ones has. */
	x = look(TFS_ROOT_INO, "e");
	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, "n", 0755, &cred, &x), 0);
	ck_assert_uint_gt(x.ino, v.ino);
	ck_assert_uint_gt(x.ino, meta);

	/* And it serves on: a change made now survives the next crash. */
	ck_assert_int_eq(apply(t, "{\"rows\": 4}"), 0);
	a = look(t, "a");
	crash_and_restart();
	x = look(t, "a");
	ck_assert_uint_eq(x.ino, a.ino);
	ck_assert_uint_eq(x.size, 16);
	s = read_all(a.ino, &n);
	ck_assert_mem_eq(s, "12345678\0\0\0\0\0\0\0\0", 16);
	free(s);
	ck_assert_int_eq(lookup_err(TFS_ROOT_INO, "n"), 0);
}
END_TEST

/* The kernel's count of a restored node is unknown: a lookup after the
 * restart adds to it without making it known (the kernel holds it either
 * way), and the kernel's forget, which comes once for all it holds, lets
 * it go. */
START_TEST(test_restored_node_counts)
{
	tfs_ino_t t = table("t");
	struct tfs_attr a, x;
	tfs_fh_t fh;
	char *s;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	a = look(t, "a");
	write_all(a.ino, "ab", 2);
	fh = open_ino(a.ino, O_RDONLY); /* a file open across the crash */

	crash_and_restart();
	/* The kernel looks the name up again (its names were dropped), then
	 * the column is resized: the version the open file has stays. */
	ck_assert_uint_eq(look(t, "a").ino, a.ino);
	ck_assert_int_eq(apply(t, "{\"rows\": 3}"), 0);
	ck_assert_uint_ne(look(t, "a").ino, a.ino);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &x), 0);
	s = read_fh(a.ino, fh, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(s, "ab", 2);
	free(s);
	tfs_release(fs, a.ino, fh);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &x), 0);
	/* The kernel evicts the inode: one forget, and it is gone. */
	tfs_forget(fs, a.ino, 1);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &x), -ESTALE);
	ck_assert_ptr_null(rec_find(TFS_REC_EXTENT, a.ino));
	ck_assert_uint_eq(stats().extents, 1);
}
END_TEST

START_TEST(test_restore_refuses_bad_records)
{
	struct rec *r;
	tfs_ino_t t = table("t");
	struct tfs_attr a;
	void *blob;
	size_t len;

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int32\"}]}"),
			 0);
	a = look(t, "a");
	r = rec_find(TFS_REC_EXTENT, a.ino);
	ck_assert_ptr_nonnull(r);
	len = r->len;
	blob = malloc(len + 1);
	memcpy(blob, r->blob, len);

	fake.dead = true; /* the records stay as they are */
	remake(64u << 20, 0);
	fake.dead = false;
	/* A version without its memfd, or of another length. */
	ck_assert_int_eq(tfs_restore(fs, TFS_REC_EXTENT, blob, len, -1), -EINVAL);
	ck_assert_int_eq(tfs_restore(fs, TFS_REC_EXTENT, blob, len - 1, -1), -EINVAL);
	ck_assert_int_eq(tfs_restore(fs, 99, blob, len, -1), -EINVAL);
	ck_assert_int_eq(tfs_restore(fs, TFS_REC_ROOT, blob, 1, -1), -EINVAL);
	r = rec_find(TFS_REC_TABLE, t);
	ck_assert_int_eq(tfs_restore(fs, TFS_REC_TABLE, r->blob, r->len - 1, -1), -EINVAL);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &a), -ESTALE);
	ck_assert_uint_eq(stats().extents, 0);
	/* A table whose version is lost comes back without that column. */
	ck_assert_int_eq(tfs_restore(fs, TFS_REC_TABLE, r->blob, r->len, -1), 0);
	ck_assert_int_eq(tfs_getattr(fs, t, &a), 0);
	ck_assert_int_eq(lookup_err(t, "a"), -ENOENT);
	ck_assert_uint_eq(stats().columns, 0);
	free(blob);
}
END_TEST

START_TEST(test_forget)
{
	tfs_ino_t t = table("t"), u = table("u");
	struct tfs_attr a, meta;
	tfs_fh_t fh;

	/* An rmdir'ed table lives until the kernel forgets it. */
	ck_assert_int_eq(tfs_rmdir(fs, TFS_ROOT_INO, "t"), 0);
	ck_assert_ptr_null(rec_find(TFS_REC_TABLE, t));
	ck_assert_int_eq(tfs_getattr(fs, t, &a), 0);
	ck_assert_uint_eq(a.nlink, 0);
	ck_assert_int_eq(lookup_err(t, "x"), -ENOENT);
	tfs_forget(fs, t, 5); /* more than it has: all of them */
	ck_assert_int_eq(tfs_getattr(fs, t, &a), -ESTALE);
	tfs_forget(fs, t, 1); /* a stale number: nothing */

	/* Never while open: meta.json open keeps its table. */
	meta = look(u, TFS_META_NAME);
	fh = open_ino(meta.ino, O_RDONLY);
	ck_assert_int_eq(tfs_rmdir(fs, TFS_ROOT_INO, "u"), 0);
	tfs_forget(fs, u, 1);
	tfs_forget(fs, meta.ino, 1);
	ck_assert_int_eq(tfs_getattr(fs, u, &a), 0);
	ck_assert_int_eq(tfs_getattr(fs, meta.ino, &a), 0);
	tfs_release(fs, meta.ino, fh);
	ck_assert_int_eq(tfs_getattr(fs, u, &a), -ESTALE);
	ck_assert_int_eq(tfs_getattr(fs, meta.ino, &a), -ESTALE);

	/* A current column stays when forgotten: the catalog holds it. */
	t = table("c");
	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	a = look(t, "a");
	tfs_forget(fs, a.ino, 1);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &a), 0);

	/* A deleted one goes at the last of its references and handles. */
	a = look(t, "a");
	fh = open_ino(a.ino, O_RDWR);
	ck_assert_int_eq(tfs_unlink(fs, t, "a"), 0);
	ck_assert_uint_eq(stats().columns, 0);
	ck_assert_uint_eq(stats().extents, 1);
	tfs_forget(fs, a.ino, 1);
	ck_assert_int_eq(tfs_write(fs, a.ino, fh, 0, "q", 1), 0);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &a), 0);
	ck_assert_ptr_nonnull(rec_find(TFS_REC_EXTENT, a.ino));
	tfs_release(fs, a.ino, fh);
	ck_assert_int_eq(tfs_getattr(fs, a.ino, &a), -ESTALE);
	ck_assert_ptr_null(rec_find(TFS_REC_EXTENT, a.ino));
	ck_assert_uint_eq(stats().extents, 0);
	ck_assert_uint_eq(stats().used, 0);

	/* Root and .status never go. */
	tfs_forget(fs, TFS_ROOT_INO, 1000);
	tfs_forget(fs, TFS_STATUS_INO, 1000);
	ck_assert_int_eq(tfs_getattr(fs, TFS_ROOT_INO, &a), 0);
	ck_assert_int_eq(tfs_getattr(fs, TFS_STATUS_INO, &a), 0);
}
END_TEST

/* .status says what the hooks say: the data path and crash protection,
 * and the serving process's restarts (its epoch). */
START_TEST(test_status_from_hooks)
{
	struct tfs_config cfg = config(3, 64u << 20, 0);
	char *s;
	size_t n;

	s = read_all(TFS_STATUS_INO, &n);
	ck_assert_ptr_nonnull(strstr(s, "\"data_path\":\t\"fake-path\""));
	ck_assert_ptr_nonnull(strstr(s, "\"data_path_reason\":\t\"driven by check_catalog\""));
	ck_assert_ptr_nonnull(strstr(s, "\"crash_protection\":\ttrue"));
	ck_assert_ptr_nonnull(strstr(s, "\"restarts\":\t0"));
	free(s);
	tfs_fs_free(fs);
	ck_assert_int_eq(tfs_fs_new(&cfg, &fs), 0);
	fake.dead = true;
	s = read_all(TFS_STATUS_INO, &n);
	fake.dead = false;
	ck_assert_ptr_nonnull(strstr(s, "\"crash_protection\":\tfalse"));
	ck_assert_ptr_nonnull(strstr(s, "\"crash_protection_reason\":\t\"fake supervisor gone\""));
	ck_assert_ptr_nonnull(strstr(s, "\"restarts\":\t3"));
	free(s);
}
END_TEST

/* The errno of each refusal, as tablefs(1) documents it. */
START_TEST(test_refusal_errnos)
{
	tfs_ino_t t = table("t");
	struct tfs_setattr sa = {.set_size = true, .size = 1};
	struct tfs_dirent *ents;
	enum tfs_node_kind kind;
	struct tfs_attr a, col;
	char longname[TFS_NAME_MAX + 2];
	tfs_fh_t fh;
	size_t n;

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int8\"}]}"),
			 0);
	col = look(t, "a");
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';

	/* mkdir */
	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, "t", 0755, &cred, &a), -EEXIST);
	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, "a.b", 0755, &cred, &a), -EINVAL);
	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, TFS_STATUS_NAME, 0755, &cred, &a), -EINVAL);
	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, longname, 0755, &cred, &a), -ENAMETOOLONG);
	ck_assert_int_eq(tfs_mkdir(fs, t, "sub", 0755, &cred, &a), -EPERM);
	/* rmdir */
	ck_assert_int_eq(tfs_rmdir(fs, TFS_ROOT_INO, "t"), -ENOTEMPTY);
	ck_assert_int_eq(tfs_rmdir(fs, TFS_ROOT_INO, "nosuch"), -ENOENT);
	ck_assert_int_eq(tfs_rmdir(fs, TFS_ROOT_INO, TFS_STATUS_NAME), -ENOTDIR);
	/* unlink */
	ck_assert_int_eq(tfs_unlink(fs, TFS_ROOT_INO, "t"), -EISDIR);
	ck_assert_int_eq(tfs_unlink(fs, TFS_ROOT_INO, TFS_STATUS_NAME), -EPERM);
	ck_assert_int_eq(tfs_unlink(fs, TFS_ROOT_INO, "nosuch"), -ENOENT);
	ck_assert_int_eq(tfs_unlink(fs, t, TFS_META_NAME), -EPERM);
	ck_assert_int_eq(tfs_unlink(fs, t, "nosuch"), -ENOENT);
	ck_assert_int_eq(tfs_unlink(fs, col.ino, "x"), -ENOTDIR);
	ck_assert_int_eq(tfs_unlink(fs, 999999, "x"), -ESTALE);
	/* lookup, readdir */
	ck_assert_int_eq(lookup_err(col.ino, "x"), -ENOTDIR);
	ck_assert_int_eq(lookup_err(999999, "x"), -ESTALE);
	ck_assert_int_eq(lookup_err(TFS_ROOT_INO, "nosuch"), -ENOENT);
	ck_assert_int_eq(tfs_readdir(fs, col.ino, &ents, &n), -ENOTDIR);
	/* open, create */
	ck_assert_int_eq(tfs_open(fs, col.ino, O_RDWR | O_TRUNC, &cred, &fh, &kind), -EPERM);
	ck_assert_int_eq(tfs_open(fs, t, O_RDONLY, &cred, &fh, &kind), -EISDIR);
	ck_assert_int_eq(tfs_open(fs, TFS_STATUS_INO, O_WRONLY, &cred, &fh, &kind), -EPERM);
	ck_assert_int_eq(tfs_open(fs, 999999, O_RDONLY, &cred, &fh, &kind), -ESTALE);
	ck_assert_int_eq(tfs_create(fs, TFS_ROOT_INO, "f", O_CREAT | O_WRONLY, &cred, &fh, &kind,
				    &a),
			 -EPERM);
	ck_assert_int_eq(tfs_create(fs, t, "newcol", O_CREAT | O_WRONLY, &cred, &fh, &kind, &a),
			 -EPERM);
	/* write, truncate */
	fh = open_ino(col.ino, O_WRONLY);
	ck_assert_int_eq(tfs_write(fs, col.ino, fh, 1, "xy", 2), -EPERM);
	ck_assert_int_eq(tfs_write(fs, col.ino, fh, 3, "x", 1), -EPERM);
	ck_assert_int_eq(tfs_write(fs, col.ino, fh, 0, "xy", 2), 0);
	ck_assert_int_eq(tfs_setattr(fs, col.ino, fh, &sa, &a), -EPERM);
	tfs_release(fs, col.ino, fh);
	/* An id of this process that is not open (released). */
	ck_assert_int_eq(tfs_write(fs, col.ino, fh, 0, "x", 1), -EBADF);
	ck_assert_int_eq(tfs_setattr(fs, t, 0, &sa, &a), -EISDIR);
	ck_assert_int_eq(tfs_setattr(fs, TFS_STATUS_INO, 0, &sa, &a), -EPERM);
	sa.size = 2;
	ck_assert_int_eq(tfs_setattr(fs, col.ino, 0, &sa, &a), 0); /* its own size */
	ck_assert_uint_eq(look(t, "a").size, 2);
}
END_TEST

/* A column of several files: each file a node of its own, sized, listed,
 * resized on its own, filled as documented, renamed and removed together,
 * and carried over a crash. */
START_TEST(test_companion_files)
{
	tfs_ino_t t = table("t");
	struct tfs_attr off, data, nul, codes, dict, dd, x;
	struct tfs_dirent *ents;
	tfs_fh_t fh;
	char *s, *meta0;
	size_t n;
	int64_t o[6];

	ck_assert_int_eq(apply(t, "{\"rows\": 2, \"columns\": ["
				  "{\"name\": \"s\", \"type\": \"utf8\", \"nullable\": true, "
				  "\"data_nbytes\": 5},"
				  "{\"name\": \"k\", \"type\": \"category\", \"categories\": [\"a\", \"bc\"]}]}"),
			 0);
	off = look(t, "s");
	data = look(t, "s.data");
	nul = look(t, "s.null");
	codes = look(t, "k");
	dict = look(t, "k.dict");
	dd = look(t, "k.dict.data");
	ck_assert_uint_eq(off.size, 24);
	ck_assert_uint_eq(data.size, 5);
	ck_assert_uint_eq(nul.size, 2);
	ck_assert_uint_eq(codes.size, 8);
	ck_assert_uint_eq(dict.size, 24);
	ck_assert_uint_eq(dd.size, 3);
	ck_assert_uint_eq(dict.mode & 0222, 0);
	ck_assert_int_eq(lookup_err(t, "s.dict"), -ENOENT);
	ck_assert_int_eq(lookup_err(t, "k.null"), -ENOENT);
	ck_assert_int_eq(lookup_err(t, "s.npy"), -ENOENT); /* no view of text */
	/* new: all missing */
	s = read_all(nul.ino, &n);
	ck_assert_mem_eq(s, "\1\1", 2);
	free(s);
	s = read_all(codes.ino, &n);
	ck_assert_mem_eq(s, "\377\377\377\377\377\377\377\377", 8);
	free(s);
	s = read_all(dd.ino, &n);
	ck_assert_mem_eq(s, "abc", 3);
	free(s);
	/* the dictionary cannot be written */
	ck_assert_int_eq(tfs_open(fs, dict.ino, O_RDWR, &cred, &fh, &(enum tfs_node_kind){0}),
			 -EPERM);
	/* listed, main file first, meta.json last */
	ck_assert_int_eq(tfs_readdir(fs, t, &ents, &n), 0);
	ck_assert_uint_eq(n, 2 + 6 + 1);
	ck_assert_str_eq(ents[2].name, "s");
	ck_assert_str_eq(ents[3].name, "s.data");
	ck_assert_str_eq(ents[4].name, "s.null");
	ck_assert_str_eq(ents[5].name, "k");
	ck_assert_str_eq(ents[7].name, "k.dict.data");
	ck_assert_str_eq(ents[8].name, TFS_META_NAME);
	free(ents);

	/* two more rows: offsets repeat the last, masks say missing, the
	 * data file stays; a category added */
	o[0] = 0, o[1] = 2, o[2] = 5;
	write_all(off.ino, o, 24);
	write_all(data.ino, "hello", 5);
	write_all(nul.ino, "\0\0", 2);
	ck_assert_int_eq(apply(t, "{\"rows\": 4, \"columns\": [{\"name\": \"k\", \"type\": "
				  "\"category\", \"categories\": [\"a\", \"bc\", \"d\"]}]}"),
			 0);
	x = look(t, "s");
	ck_assert_uint_ne(x.ino, off.ino);
	s = read_all(x.ino, &n);
	ck_assert_uint_eq(n, 40);
	memcpy(o, s, 40);
	ck_assert(o[0] == 0 && o[1] == 2 && o[2] == 5 && o[3] == 5 && o[4] == 5);
	free(s);
	ck_assert_uint_eq(look(t, "s.data").ino, data.ino);
	s = read_all(look(t, "s.null").ino, &n);
	ck_assert_mem_eq(s, "\0\0\1\1", 4);
	free(s);
	ck_assert_uint_eq(look(t, "k.dict.data").size, 4);
	/* taking a category away, or reordering, is refused */
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"k\", \"type\": \"category\", "
				  "\"categories\": [\"bc\", \"a\", \"d\"]}]}"),
			 -EINVAL);
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"k\", \"type\": \"category\", "
				  "\"categories\": [\"a\"]}]}"),
			 -EINVAL);
	/* data_nbytes resizes the data file alone, keeping its first bytes */
	ck_assert_int_eq(apply(t, "{\"columns\": [{\"name\": \"s\", \"type\": \"utf8\", "
				  "\"nullable\": true, \"data_nbytes\": 7}]}"),
			 0);
	x = look(t, "s.data");
	s = read_all(x.ino, &n);
	ck_assert_uint_eq(n, 7);
	ck_assert_mem_eq(s, "hello\0\0", 7);
	free(s);

	meta0 = read_all(look(t, TFS_META_NAME).ino, &n);
	crash_and_restart();
	s = read_all(look(t, TFS_META_NAME).ino, &n);
	ck_assert_str_eq(s, meta0);
	free(s);
	free(meta0);
	s = read_all(look(t, "s.data").ino, &n);
	ck_assert_mem_eq(s, "hello\0\0", 7);
	free(s);
	ck_assert_int_eq(tfs_open(fs, look(t, "k.dict").ino, O_WRONLY, &cred, &fh,
				  &(enum tfs_node_kind){0}),
			 -EPERM);

	/* renamed together; a companion alone cannot be */
	ck_assert_int_eq(tfs_rename(fs, t, "s.data", t, "u.data", 0), -EPERM);
	fake.nentries = 0;
	ck_assert_int_eq(tfs_rename(fs, t, "s", t, "u", 0), 0);
	ck_assert(saw_entry(t, "s.data") && saw_entry(t, "s.null"));
	ck_assert_int_eq(lookup_err(t, "s.data"), -ENOENT);
	ck_assert_uint_eq(look(t, "u.data").size, 7);
	/* any file deletes the column; the kernel is told its other names
	 * are gone (a moment later), and unlinking them meanwhile, as rm -r
	 * does, succeeds */
	fake.nentries = 0;
	x = look(t, "u.data");
	ck_assert_int_eq(tfs_unlink(fs, t, "u.null"), 0);
	ck_assert_int_eq(lookup_err(t, "u"), -ENOENT);
	ck_assert_int_eq(lookup_err(t, "u.data"), -ENOENT);
	ck_assert(saw_deleted(t, "u.data", x.ino));
	ck_assert(saw_deleted(t, "u", 0));
	ck_assert(!saw_deleted(t, "u.null", 0)); /* the kernel's own */
	ck_assert_int_eq(tfs_unlink(fs, t, "u"), 0);
	ck_assert_int_eq(tfs_unlink(fs, t, "u.data"), 0);
	ck_assert_int_eq(tfs_unlink(fs, t, "u.dict"), -ENOENT);
	/* and are not made again by name */
	ck_assert_int_eq(create_err(t, "u"), -EPERM);
	ck_assert_int_eq(create_err(t, "k.null"), -EPERM);
	ck_assert_int_eq(create_err(t, "k.dict"), -EEXIST);
}
END_TEST

Suite *catalog_suite(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("hooks");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_apply_creates_zero_filled_columns);
	tcase_add_test(tc, test_apply_refusals_change_nothing);
	tcase_add_test(tc, test_column_files_limit);
	tcase_add_test(tc, test_resize_keeps_old_version_while_open);
	tcase_add_test(tc, test_resize_charge_of_held_version);
	tcase_add_test(tc, test_rename_table);
	tcase_add_test(tc, test_rename_column);
	tcase_add_test(tc, test_companion_files);
	tcase_add_test(tc, test_views);
	tcase_add_test(tc, test_restore_after_crash);
	tcase_add_test(tc, test_restored_node_counts);
	tcase_add_test(tc, test_restore_refuses_bad_records);
	tcase_add_test(tc, test_forget);
	tcase_add_test(tc, test_status_from_hooks);
	tcase_add_test(tc, test_refusal_errnos);
	suite_add_tcase(s, tc);
	return s;
}
