/* reader: sums a float64 column of a tablefs table, from C.
 *
 *   reader TABLEDIR COLUMN
 *
 * Prints the row count and the sum of the column, e.g.
 *
 *   rows 1000
 *   sum 499500
 *
 * Everything goes through plain file APIs: read meta.json for the row count
 * and the column's dtype, then map the column read-only and shared with
 * tablefs_map_column from <tablefs.h> (installed with tablefs; it is open,
 * fstat and mmap, nothing more).  Following the reader protocol, meta.json's
 * version is read again at the end; if it changed (schema or row count
 * changed meanwhile) the column is read again.
 *
 * Build: cc -std=c11 -Wall -Wextra -O2 -I include -o reader examples/reader.c
 * (from the top of the source tree; -I is not needed once tablefs.h is
 * installed).
 *
 * The JSON handling is deliberately tiny: it relies only on meta.json being
 * valid JSON with one object per column, and does no unescaping (tablefs
 * names never need escapes).  A real program would use a JSON library. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tablefs.h>

/* Columns are little-endian; this reader uses the values in place. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "reader.c reads values in place and needs a little-endian host"
#endif

#define META_MAX  (1u << 20)
#define FIELD_MAX 160

/* Reads all of path into a NUL-terminated malloc'd buffer, or NULL. */
static char *slurp(const char *path)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	char *buf = malloc(META_MAX + 1);
	size_t len = 0;
	ssize_t n = 0;
	while (buf && len < META_MAX && (n = read(fd, buf + len, META_MAX - len)) > 0)
		len += (size_t)n;
	int saved = errno;
	close(fd);
	if (!buf || n < 0) {
		free(buf);
		errno = n < 0 ? saved : ENOMEM;
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Finds "key" in [p, end) and copies its value (a string without quotes, or
 * a number or [] token as written) into out.  Returns 0, or -1 if absent. */
static int field(const char *p, const char *end, const char *key, char *out, size_t outlen)
{
	char quoted[FIELD_MAX];
	snprintf(quoted, sizeof(quoted), "\"%s\"", key);
	size_t qlen = strlen(quoted);

	for (; p && p < end; p++) {
		p = strstr(p, quoted);
		if (!p || p >= end)
			return -1;
		const char *v = p + qlen;
		v += strspn(v, " \t\r\n");
		if (*v != ':')
			continue; /* the key's text appeared as a value */
		v++;
		v += strspn(v, " \t\r\n");
		size_t n;
		if (*v == '"') {
			v++;
			n = strcspn(v, "\"");
		} else if (*v == '[') {
			n = strcspn(v, "]") + 1;
		} else {
			n = strcspn(v, ",} \t\r\n");
		}
		if (n >= outlen || v + n > end)
			return -1;
		memcpy(out, v, n);
		out[n] = '\0';
		return 0;
	}
	return -1;
}

struct colinfo {
	uint64_t rows, version;
	char file[FIELD_MAX];
	char dtype[FIELD_MAX];
	char shape[FIELD_MAX];
};

/* Reads table/meta.json and fills ci for the column named name.  Returns 0,
 * or -1 with a message printed. */
static int read_meta(const char *table, const char *name, struct colinfo *ci)
{
	char path[4096], buf[FIELD_MAX];
	snprintf(path, sizeof(path), "%s/meta.json", table);
	char *meta = slurp(path);
	if (!meta) {
		fprintf(stderr, "reader: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = -1;

	/* rows and version come before the column list in the generated
	 * meta.json; search only there so a column can't be mistaken for them. */
	const char *cols = strstr(meta, "\"columns\"");
	if (!cols || field(meta, cols, "rows", buf, sizeof(buf)) < 0) {
		fprintf(stderr, "reader: %s: no row count\n", path);
		goto out;
	}
	ci->rows = strtoull(buf, NULL, 10);
	if (field(meta, cols, "version", buf, sizeof(buf)) < 0) {
		fprintf(stderr, "reader: %s: no version\n", path);
		goto out;
	}
	ci->version = strtoull(buf, NULL, 10);

	/* Each column is one {...} object without nested objects. */
	for (const char *obj = strchr(cols, '{'); obj; obj = strchr(obj + 1, '{')) {
		const char *close = strchr(obj, '}');
		if (!close)
			break;
		if (field(obj, close, "name", buf, sizeof(buf)) == 0 && strcmp(buf, name) == 0) {
			if (field(obj, close, "file", ci->file, sizeof(ci->file)) < 0 ||
			    field(obj, close, "dtype", ci->dtype, sizeof(ci->dtype)) < 0 ||
			    field(obj, close, "shape", ci->shape, sizeof(ci->shape)) < 0) {
				fprintf(stderr, "reader: %s: column %s incomplete\n", path, name);
				goto out;
			}
			rc = 0;
			goto out;
		}
	}
	fprintf(stderr, "reader: %s: no column %s\n", path, name);
out:
	free(meta);
	return rc;
}

/* Maps the column described by ci and sums it.  Returns 0, 1 when the file
 * no longer matches meta.json (retry), or -1 on error. */
static int sum_column(const char *mount, const char *table, const struct colinfo *ci, double *sum)
{
	struct tablefs_map m;
	int err = tablefs_map_column(mount, table, ci->file, 0, &m);
	if (err < 0) {
		fprintf(stderr, "reader: %s/%s/%s: %s\n", mount, table, ci->file, strerror(-err));
		return -1;
	}
	/* tablefs keeps size == rows * itemsize at every moment; a difference
	 * means the table was resized between meta.json and the mapping. */
	if ((uint64_t)m.size != ci->rows * sizeof(double)) {
		tablefs_unmap_column(&m);
		return 1;
	}
	const double *v = m.data; /* NULL for 0 rows: nothing to add */
	*sum = 0;
	for (uint64_t i = 0; i < ci->rows; i++)
		*sum += v[i];
	tablefs_unmap_column(&m);
	return 0;
}

/* Splits TABLEDIR into the mount (its parent directory) and the table name,
 * the two that tablefs_map_column takes; dir is copied into buf.  Returns 0,
 * or -1 if dir does not end in a table name. */
static int split_table(const char *dir, char *buf, size_t buflen, const char **mount,
		       const char **table)
{
	size_t len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--; /* "trades/" is the table trades */
	if (len >= buflen)
		return -1;
	memcpy(buf, dir, len);
	buf[len] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash) {
		*slash = '\0';
		*mount = buf; /* "" for "/trades": the path becomes "/trades/COL" */
		*table = slash + 1;
	} else {
		*mount = ".";
		*table = buf;
	}
	return **table && strcmp(*table, ".") != 0 && strcmp(*table, "..") != 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: reader TABLEDIR COLUMN\n");
		return 2;
	}
	const char *table = argv[1], *name = argv[2], *mount, *tname;
	char buf[4096];
	if (split_table(table, buf, sizeof(buf), &mount, &tname) < 0) {
		fprintf(stderr, "reader: %s: not a table directory\n", table);
		return 2;
	}

	for (int attempt = 0; attempt < 10; attempt++) {
		struct colinfo ci, after;
		double sum;
		if (read_meta(table, name, &ci) < 0)
			return 1;
		/* "<f8" only: little-endian IEEE doubles, read in place. */
		if (strcmp(ci.dtype, "<f8") != 0 || strcmp(ci.shape, "[]") != 0) {
			fprintf(stderr,
				"reader: %s is %s with row shape %s, not a float64 scalar\n", name,
				ci.dtype, ci.shape);
			return 1;
		}
		int rc = sum_column(mount, tname, &ci, &sum);
		if (rc < 0)
			return 1;
		if (rc == 0 && read_meta(table, name, &after) == 0 && after.version == ci.version) {
			printf("rows %" PRIu64 "\nsum %.17g\n", ci.rows, sum);
			return 0;
		}
	}
	fprintf(stderr, "reader: %s keeps changing; giving up\n", table);
	return 1;
}
