/* tablectl .npy files: one column to or from numpy's own format, version
 * 1.0 to 3.0 headers on import, 1.0 on export.  The data part is the
 * column's raw bytes, so both ways are a plain copy after the header. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "io_full.h"
#include "npy.h"

/* Reads and parses the .npy header of fd (path, for messages): 0, or -1
 * (reported). */
static int read_header(int fd, const char *path, struct tfs_npy *h)
{
	char why[TFS_WHY_MAX];
	size_t want = TFS_NPY_PREAMBLE;
	unsigned char *buf = NULL, *grown;
	ssize_t n = 0;
	int rc;

	for (;;) {
		grown = realloc(buf, want);
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		buf = grown;
		n = tfs_pread_full(fd, buf, want, 0);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		rc = tfs_npy_parse(buf, (size_t)n, h, why, sizeof(why));
		/* -EAGAIN: the header goes on, unless the file ended */
		if (rc != -EAGAIN || (size_t)n < want)
			break;
		want = h->data_off;
	}
	free(buf);
	if (rc == 0)
		return 0;
	ctl_err("import", "%s: %s", path, rc == -EINVAL || rc == -EAGAIN ? why : strerror(-rc));
	return -1;
}

/* Copies len bytes from in (at in_off) to out (at out_off) in chunks.
 * Returns 0, -1 (reported), or CTL_CHANGED (not reported) when in ends
 * early: a .npy file cut short, or a column whose table shrank. */
static int copy_bytes(int in, uint64_t in_off, int out, uint64_t out_off, uint64_t len,
		      const char *in_name, const char *out_name, const char *label)
{
	struct ctl_progress prog;
	char *buf = malloc(CTL_CHUNK);
	uint64_t done = 0;
	size_t n;
	int rc = -1;

	if (!buf) {
		ctl_err(label, "%s", strerror(ENOMEM));
		return -1;
	}
	ctl_progress_start(&prog, label, len);
	for (; done < len; done += n) {
		n = len - done < CTL_CHUNK ? (size_t)(len - done) : CTL_CHUNK;
		if (ctl_pread_full(in, buf, n, in_off + done, NULL)) {
			if (errno == ENODATA)
				rc = CTL_CHANGED;
			else
				ctl_err(in_name, "%s", strerror(errno));
			goto out;
		}
		if (ctl_pwrite_full(out, buf, n, out_off + done, out_name))
			goto out;
		ctl_progress_update(&prog, done + n);
	}
	rc = 0;
out:
	ctl_progress_end(&prog);
	free(buf);
	return rc;
}

int ctl_import_npy(const char *table, const char *path, const char *column)
{
	char base_name[TFS_NAME_MAX + 1], name[TFS_NAME_MAX + 1], why[TFS_WHY_MAX], cpath[4096];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct tfs_coldef def = {0};
	struct ctl_table t = {0};
	uint64_t rows, len;
	struct stat st;
	struct tfs_npy h;
	int fd, out = -1, lock = -1, rc = -1, exists;
	long idx;

	snprintf(base_name, sizeof(base_name), "%.*s", (int)(strlen(base) - 4), base);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		ctl_err("import", "%s: %s", path, strerror(errno));
		goto out;
	}
	if (read_header(fd, path, &h))
		goto out;
	snprintf(name, sizeof(name), "%s", column ? column : base_name);
	if (ctl_check_name(column ? "import" : "import (use --column NAME)", name))
		goto out;
	if (tfs_coldef_init(&def, name, h.descr, h.shape + 1, h.ndim - 1, why, sizeof(why))) {
		/* numpy's default for dates: say how to store them */
		if (strstr(h.descr, "M8[D]"))
			snprintf(why, sizeof(why), "datetime64[D] is not a tablefs type: convert the "
						   "array with .astype('datetime64[s]')");
		ctl_err("import", "%s: %s", path, why);
		goto out;
	}
	rows = h.shape[0];
	if (__builtin_mul_overflow(rows, def.itemsize, &len) ||
	    (S_ISREG(st.st_mode) && (uint64_t)st.st_size < h.data_off + len)) {
		ctl_err("import", "%s: truncated: the header promises %" PRIu64 " bytes of data",
			path, len);
		goto out;
	}
	exists = ctl_table_exists(table);
	if (exists < 0 || (exists && ((lock = ctl_table_lock("import", table, LOCK_EX)) < 0 ||
				      ctl_table_load(table, &t))))
		goto out;
	idx = exists ? ctl_table_find(&t, def.name) : -1;
	if (idx >= 0 && !tfs_coldef_same_layout(&t.cols[idx].def, &def)) {
		ctl_err("import", "%s: column '%s' exists with another type or shape", path,
			def.name);
		goto out;
	}
	if ((exists && ctl_rows_check(&t, rows, idx >= 0 ? 1 : 0)) ||
	    ctl_schema_apply(table, table, exists ? CTL_MKDIR_NO : CTL_MKDIR_MUST, true, rows, &def,
			     1, &lock) ||
	    ctl_path(cpath, sizeof(cpath), table, def.name))
		goto out;
	out = open(cpath, O_WRONLY | O_CLOEXEC);
	if (out < 0) {
		ctl_err(cpath, "%s", strerror(errno));
		goto out;
	}
	rc = copy_bytes(fd, h.data_off, out, 0, len, path, def.name, "importing");
	if (rc == CTL_CHANGED)
		ctl_err("import", "%s: shorter than its header says (changed while read?)", path);
	if (rc) {
		rc = -1;
		goto out;
	}
	rc = close(out);
	out = -1;
	if (rc)
		ctl_err(cpath, "%s", strerror(errno));
out:
	if (out >= 0)
		close(out);
	if (fd >= 0)
		close(fd);
	if (lock >= 0)
		close(lock); /* after the column: readers then see every write */
	ctl_table_free(&t);
	return rc;
}

int ctl_export_npy(const struct ctl_table *t, const struct ctl_col *c, const char *file)
{
	char head[TFS_NPY_HEADER_MAX], cpath[4096];
	size_t n = tfs_npy_header(&c->def, t->rows, head);
	int in, out, rc = -1;

	if (c->def.type.kind == TFS_UTF8 || c->def.type.kind == TFS_BINARY) {
		ctl_err("export",
			"column '%s' is %s: a .npy file holds fixed-width values only; export it "
			"to .csv, or read its offsets and bytes (%s, %s.data) or table.arrow",
			c->def.name, c->def.type.kind == TFS_UTF8 ? "utf8" : "binary", c->file,
			c->file);
		return -1;
	}
	if (ctl_path(cpath, sizeof(cpath), t->name, c->file))
		return -1;
	in = open(cpath, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		if (errno == ENOENT)
			return CTL_CHANGED; /* removed since meta.json was read */
		ctl_err(cpath, "%s", strerror(errno));
		return -1;
	}
	out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (out < 0) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		close(in);
		return -1;
	}
	if (!ctl_pwrite_full(out, head, n, 0, file))
		rc = copy_bytes(in, 0, out, n, t->rows * c->def.itemsize,
				c->def.name, file, "exporting");
	if (close(out) && !rc) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		rc = -1;
	}
	close(in);
	/* said once the file is written: what the array leaves out */
	if (!rc && c->def.type.kind == TFS_CATEGORY)
		ctl_err("export", "note: column '%s' is category: the .npy holds its int32 codes "
				  "(-1 missing); its categories are in meta.json",
			c->def.name);
	else if (!rc && c->def.nullable)
		ctl_err("export", "note: column '%s' is nullable: the .npy holds its values; "
				  "which are missing is in %s.null",
			c->def.name, c->file);
	return rc;
}
