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

struct npy {
	char descr[TFS_TYPE_STR_MAX];
	bool fortran;
	unsigned ndim;
	uint64_t shape[TFS_MAX_DIMS + 1];
	uint64_t data_off;
};

/* The value of key in the header dict, a Python literal such as
 * {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } */
static const char *npy_value(const char *dict, const char *key)
{
	char pat[24];
	const char *p;

	snprintf(pat, sizeof(pat), "'%s'", key);
	p = strstr(dict, pat);
	if (!p)
		return NULL;
	p += strlen(pat) + strspn(p + strlen(pat), " ");
	return *p == ':' ? p + 1 + strspn(p + 1, " ") : NULL;
}

static int npy_dict(const char *dict, struct npy *h, const char **why)
{
	const char *d = npy_value(dict, "descr"), *f = npy_value(dict, "fortran_order");
	const char *p = npy_value(dict, "shape");
	char *end;
	size_t n;

	*why = "malformed header";
	if (!d || !f || !p || *p != '(')
		return -1;
	if (*d != '\'') {
		*why = *d == '[' ? "structured dtypes are not supported" : *why;
		return -1;
	}
	n = strcspn(d + 1, "'");
	if (d[1 + n] != '\'' || n >= sizeof(h->descr))
		return -1;
	memcpy(h->descr, d + 1, n);
	h->fortran = !strncmp(f, "True", 4);
	for (p++; p += strspn(p, " ,"), *p != ')'; p = end) {
		if (h->ndim > TFS_MAX_DIMS) {
			*why = "too many dimensions";
			return -1;
		}
		errno = 0;
		h->shape[h->ndim++] = strtoull(p, &end, 10);
		if (end == p || errno || *p == '-')
			return -1;
	}
	return 0;
}

static int npy_header(int fd, const char *path, struct npy *h)
{
	unsigned char pre[12];
	const char *why = "not a .npy file";
	uint32_t hlen;
	char *text = NULL;
	int rc = -1;

	memset(h, 0, sizeof(*h));
	if (ctl_pread_full(fd, pre, 10, 0, path))
		return -1;
	if (memcmp(pre, "\x93NUMPY", 6) || pre[6] < 1 || pre[6] > 3)
		goto out;
	hlen = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
	h->data_off = 10 + (uint64_t)hlen;
	if (pre[6] > 1) {
		if (ctl_pread_full(fd, pre + 10, 2, 10, path))
			return -1;
		hlen |= (uint32_t)pre[10] << 16 | (uint32_t)pre[11] << 24;
		h->data_off = 12 + (uint64_t)hlen;
	}
	why = "header too large";
	if (hlen > (1u << 24) || !(text = malloc(hlen + 1)))
		goto out;
	if (ctl_pread_full(fd, text, hlen, h->data_off - hlen, path))
		goto out_quiet;
	text[hlen] = '\0';
	if (npy_dict(text, h, &why) || !*h->descr)
		goto out;
	why = "a 0-d array has no rows";
	if (h->ndim == 0)
		goto out;
	why = "Fortran-order arrays are not supported";
	if (h->fortran && h->ndim > 1)
		goto out;
	rc = 0;
	goto out_quiet;
out:
	ctl_err("import", "%s: %s", path, why);
out_quiet:
	free(text);
	return rc;
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
	char name[TFS_NAME_MAX + 1], why[TFS_WHY_MAX], cpath[4096];
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	struct tfs_coldef def = {0};
	struct ctl_table t = {0};
	uint64_t rows, len;
	struct stat st;
	struct npy h;
	int fd, out = -1, lock = -1, rc = -1, exists;
	long idx;

	snprintf(name, sizeof(name), "%.*s", (int)(strlen(base) - 4), base);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		ctl_err("import", "%s: %s", path, strerror(errno));
		goto out;
	}
	if (npy_header(fd, path, &h))
		goto out;
	if (tfs_type_parse(h.descr, &def.type, why, sizeof(why))) {
		/* numpy's default for dates: say how to store them */
		if (strstr(h.descr, "M8[D]"))
			snprintf(why, sizeof(why), "datetime64[D] is not a tablefs type: convert the "
						   "array with .astype('datetime64[s]')");
		ctl_err("import", "%s: %s", path, why);
		goto out;
	}
	snprintf(def.name, sizeof(def.name), "%s", column ? column : name);
	if (ctl_check_name(column ? "import" : "import (use --column NAME)", def.name))
		goto out;
	rows = h.shape[0];
	def.itemsize = def.type.size;
	for (unsigned i = 1; i < h.ndim; i++) {
		def.shape[def.ndim++] = h.shape[i];
		if (h.shape[i] > TFS_ITEMSIZE_MAX ||
		    (def.itemsize *= h.shape[i]) > TFS_ITEMSIZE_MAX) {
			ctl_err("import", "%s: rows too large", path);
			goto out;
		}
	}
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
	if (idx >= 0 &&
	    (!tfs_type_equal(&t.cols[idx].def.type, &def.type) ||
	     t.cols[idx].def.ndim != def.ndim ||
	     memcmp(t.cols[idx].def.shape, def.shape, def.ndim * sizeof(def.shape[0])))) {
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
	char dtype[TFS_TYPE_STR_MAX], head[512], cpath[4096];
	int n, pad, in, out, rc = -1;

	tfs_type_dtype(&c->def.type, dtype, sizeof(dtype));
	n = snprintf(head + 10, sizeof(head) - 10,
		     "{'descr': '%s', 'fortran_order': False, 'shape': (%" PRIu64, dtype, t->rows);
	for (unsigned i = 0; i < c->def.ndim; i++)
		n += snprintf(head + 10 + n, sizeof(head) - 10 - (size_t)n, ", %" PRIu64,
			      c->def.shape[i]);
	n += snprintf(head + 10 + n, sizeof(head) - 10 - (size_t)n, "%s), }",
		      c->def.ndim ? "" : ",");
	/* numpy aligns the data to 64 bytes; the header ends with '\n' */
	pad = 63 - (10 + n) % 64;
	memset(head + 10 + n, ' ', (size_t)pad);
	n += pad;
	head[10 + n++] = '\n';
	memcpy(head, "\x93NUMPY\x01\x00", 8);
	head[8] = (char)(n & 0xff);
	head[9] = (char)(n >> 8);
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
	if (!ctl_pwrite_full(out, head, 10 + (size_t)n, 0, file))
		rc = copy_bytes(in, 0, out, 10 + (uint64_t)n, t->rows * c->def.itemsize,
				c->def.name, file, "exporting");
	if (close(out) && !rc) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		rc = -1;
	}
	close(in);
	return rc;
}
