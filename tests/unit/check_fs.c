/* The core filesystem as file tools drive it: unlink and create by name,
 * truncate and utimes of meta.json, and a refused document's error holding
 * for its open file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "suites.h"

static struct tfs_fs *fs;
static const struct tfs_cred cred = {.uid = 0, .gid = 0, .umask = 022};

static void setup(void)
{
	struct tfs_config cfg = {.mem_limit = 64u << 20};

	ck_assert_int_eq(tfs_fs_new(&cfg, &fs), 0);
}

static void teardown(void)
{
	tfs_fs_free(fs);
	fs = NULL;
}

static tfs_ino_t table(const char *name)
{
	struct tfs_attr a;

	ck_assert_int_eq(tfs_mkdir(fs, TFS_ROOT_INO, name, 0755, &cred, &a), 0);
	return a.ino;
}

static int lookup(tfs_ino_t dir, const char *name, struct tfs_attr *a)
{
	struct tfs_attr tmp;

	return tfs_lookup(fs, dir, name, a ? a : &tmp);
}

static int apply(tfs_ino_t dir, const char *doc)
{
	return tfs_apply(fs, dir, doc, strlen(doc), &cred);
}

static tfs_fh_t open_ino(tfs_ino_t ino, int flags)
{
	enum tfs_node_kind kind;
	tfs_fh_t fh;

	ck_assert_int_eq(tfs_open(fs, ino, flags, &cred, &fh, &kind), 0);
	return fh;
}

static int write_str(tfs_ino_t ino, tfs_fh_t fh, const char *s)
{
	return tfs_write(fs, ino, fh, 0, s, strlen(s));
}

/* The whole content of ino (malloc'd, NUL-terminated). */
static char *read_all(tfs_ino_t ino)
{
	tfs_fh_t fh = open_ino(ino, O_RDONLY);
	struct tfs_handle *hold;
	const void *data;
	void *to_free;
	size_t n;
	char *out;

	ck_assert_int_eq(tfs_read(fs, ino, fh, 0, 1 << 20, &data, &n, &to_free, &hold), 0);
	out = malloc(n + 1);
	memcpy(out, data, n);
	out[n] = '\0';
	tfs_read_done(fs, hold);
	free(to_free);
	tfs_release(fs, ino, fh);
	return out;
}

static bool status_says(const char *what)
{
	char *s = read_all(TFS_STATUS_INO);
	bool found = strstr(s, what) != NULL;

	free(s);
	return found;
}

static int create(tfs_ino_t dir, const char *name, tfs_fh_t *fh, struct tfs_attr *a)
{
	enum tfs_node_kind kind;

	return tfs_create(fs, dir, name, O_WRONLY | O_CREAT | O_EXCL, &cred, fh, &kind, a);
}

START_TEST(test_deleted_column_made_again_by_name)
{
	tfs_ino_t t = table("t");
	struct tfs_attr a;
	tfs_fh_t fh;
	char *bytes;

	ck_assert_int_eq(apply(t, "{\"rows\": 3, \"columns\": [{\"name\": \"a\", \"type\": "
				  "\"int16\", \"shape\": [2]}]}"),
			 0);
	ck_assert_int_eq(lookup(t, "a", &a), 0);
	fh = open_ino(a.ino, O_WRONLY);
	ck_assert_int_eq(write_str(a.ino, fh, "abcdefghijkl"), 0);
	tfs_release(fs, a.ino, fh);

	/* A name that never was a column, or one that exists, is refused. */
	ck_assert_int_eq(create(t, "b", &fh, &a), -EPERM);
	ck_assert_int_eq(create(t, "a", &fh, &a), -EEXIST);

	ck_assert_int_eq(tfs_unlink(fs, t, "a"), 0);
	ck_assert_int_eq(lookup(t, "a", NULL), -ENOENT);
	ck_assert_int_eq(create(t, "a", &fh, &a), 0);
	ck_assert_int_eq(a.kind, TFS_N_COLUMN);
	ck_assert_uint_eq(a.size, 12); /* 3 rows of 2 int16 */
	tfs_release(fs, a.ino, fh);
	bytes = read_all(a.ino);
	ck_assert_int_eq(bytes[0], 0); /* zero-filled: the old bytes are gone */
	free(bytes);
	ck_assert_int_eq(lookup(t, TFS_META_NAME, &a), 0);
	bytes = read_all(a.ino);
	ck_assert_ptr_nonnull(strstr(bytes, "\"shape\": [2]"));
	free(bytes);

	/* Taken once: made again, it is a column, not a deleted one. */
	ck_assert_int_eq(create(t, "a", &fh, &a), -EEXIST);
	/* A change of the row count forgets the deleted columns. */
	ck_assert_int_eq(tfs_unlink(fs, t, "a"), 0);
	ck_assert_int_eq(apply(t, "{\"rows\": 5}"), 0);
	ck_assert_int_eq(create(t, "a", &fh, &a), -EPERM);
}
END_TEST

START_TEST(test_meta_unlinked_from_empty_table)
{
	tfs_ino_t t = table("u");
	struct tfs_dirent *ents;
	struct tfs_attr a;
	tfs_fh_t fh;
	size_t n;

	ck_assert_int_eq(tfs_unlink(fs, t, TFS_META_NAME), 0);
	ck_assert_int_eq(lookup(t, TFS_META_NAME, NULL), -ENOENT);
	ck_assert_int_eq(tfs_readdir(fs, t, &ents, &n), 0);
	ck_assert_uint_eq(n, 2); /* . and .. */
	free(ents);
	ck_assert_int_eq(tfs_unlink(fs, t, TFS_META_NAME), -ENOENT);

	/* Created again, what is written to it is applied. */
	ck_assert_int_eq(create(t, TFS_META_NAME, &fh, &a), 0);
	ck_assert_int_eq(a.kind, TFS_N_META);
	ck_assert_int_eq(write_str(a.ino, fh, "{\"rows\": 2, \"columns\": [{\"name\": \"x\", "
						"\"type\": \"int8\"}]}"),
			 0);
	ck_assert_int_eq(tfs_flush(fs, a.ino, fh), 0);
	tfs_release(fs, a.ino, fh);
	ck_assert_int_eq(lookup(t, TFS_META_NAME, NULL), 0);
	ck_assert_int_eq(lookup(t, "x", NULL), 0);
	/* With columns it stays. */
	ck_assert_int_eq(tfs_unlink(fs, t, TFS_META_NAME), -EPERM);
	ck_assert_int_eq(lookup(t, TFS_META_NAME, NULL), 0);
	ck_assert_int_eq(create(t, TFS_META_NAME, &fh, &a), -EEXIST);
	/* rm -r: columns, then meta.json, then the directory. */
	ck_assert_int_eq(tfs_unlink(fs, t, "x"), 0);
	ck_assert_int_eq(tfs_unlink(fs, t, TFS_META_NAME), 0);
	ck_assert_int_eq(tfs_rmdir(fs, TFS_ROOT_INO, "u"), 0);
}
END_TEST

START_TEST(test_meta_setattr)
{
	tfs_ino_t t = table("m");
	struct tfs_setattr sa = {0};
	struct tfs_attr meta, a;
	tfs_fh_t fh;
	const char *doc = "{\"rows\": 7}";

	ck_assert_int_eq(lookup(t, TFS_META_NAME, &meta), 0);
	fh = open_ino(meta.ino, O_RDWR);

	/* Truncation to 0 drops what was written so far: a new document. */
	ck_assert_int_eq(write_str(meta.ino, fh, "{\"rows\": "), 0);
	sa.set_size = true;
	sa.size = 0;
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, fh, &sa, &a), 0);
	ck_assert_int_eq(a.kind, TFS_N_META);
	ck_assert(S_ISREG(a.mode));
	ck_assert_int_eq(write_str(meta.ino, fh, doc), 0);
	/* To what was written: nothing to do. */
	sa.size = strlen(doc);
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, fh, &sa, &a), 0);
	sa.size = 3;
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, fh, &sa, &a), -EPERM);
	ck_assert_int_eq(tfs_flush(fs, meta.ino, fh), 0);
	tfs_release(fs, meta.ino, fh);
	ck_assert_int_eq(lookup(t, TFS_META_NAME, &meta), 0);
	ck_assert_uint_gt(meta.size, 0);

	/* utimes: the table's times, answered as meta.json's attributes. */
	memset(&sa, 0, sizeof(sa));
	sa.set_mtime = true;
	sa.mtime.tv_sec = 1000000000;
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, 0, &sa, &a), 0);
	ck_assert_int_eq(a.kind, TFS_N_META);
	ck_assert(S_ISREG(a.mode));
	ck_assert_int_eq(a.mtime.tv_sec, 1000000000);
	ck_assert_int_eq(tfs_getattr(fs, t, &a), 0);
	ck_assert_int_eq(a.mtime.tv_sec, 1000000000);

	/* chmod/chown: only to what it has. */
	memset(&sa, 0, sizeof(sa));
	sa.set_mode = true;
	sa.mode = meta.mode;
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, 0, &sa, &a), 0);
	sa.mode = 0600;
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, 0, &sa, &a), -EPERM);
	memset(&sa, 0, sizeof(sa));
	sa.set_uid = true;
	sa.uid = 1234;
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, 0, &sa, &a), -EPERM);
}
END_TEST

START_TEST(test_refusal_holds_for_its_handle)
{
	tfs_ino_t t = table("r");
	struct tfs_setattr sa = {.set_size = true, .size = 0};
	struct tfs_attr meta, a;
	tfs_fh_t fh;

	ck_assert_int_eq(lookup(t, TFS_META_NAME, &meta), 0);
	fh = open_ino(meta.ino, O_WRONLY);
	ck_assert_int_eq(write_str(meta.ino, fh, "{\"columns\": [{\"name\": \"a\", \"type\": "
						 "\"nosuch\"}]}"),
			 -EINVAL);
	ck_assert(status_says("nosuch"));
	/* What comes after (the rest of a split document, or a buffered
	 * writer's last piece sent again) gets the same error, and the
	 * reason stays. */
	ck_assert_int_eq(write_str(meta.ino, fh, "\"type\": \"int8\"}]}"), -EINVAL);
	ck_assert_int_eq(write_str(meta.ino, fh, "{\"rows\": 3}"), -EINVAL);
	ck_assert(status_says("nosuch"));
	ck_assert(!status_says("invalid JSON"));
	ck_assert_int_eq(tfs_flush(fs, meta.ino, fh), -EINVAL);
	ck_assert_int_eq(tfs_flush(fs, meta.ino, fh), -EINVAL);
	/* Truncation to 0 starts over. */
	ck_assert_int_eq(tfs_setattr(fs, meta.ino, fh, &sa, &a), 0);
	ck_assert_int_eq(write_str(meta.ino, fh, "{\"rows\": 3}"), 0);
	ck_assert_int_eq(tfs_flush(fs, meta.ino, fh), 0);
	tfs_release(fs, meta.ino, fh);

	/* An error found only at close holds the same way. */
	fh = open_ino(meta.ino, O_WRONLY);
	ck_assert_int_eq(write_str(meta.ino, fh, "{\"rows\": 4"), 0);
	ck_assert_int_eq(tfs_flush(fs, meta.ino, fh), -EINVAL);
	ck_assert_int_eq(tfs_flush(fs, meta.ino, fh), -EINVAL);
	tfs_release(fs, meta.ino, fh);
}
END_TEST

Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("tools");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_deleted_column_made_again_by_name);
	tcase_add_test(tc, test_meta_unlinked_from_empty_table);
	tcase_add_test(tc, test_meta_setattr);
	tcase_add_test(tc, test_refusal_holds_for_its_handle);
	suite_add_tcase(s, tc);
	return s;
}
