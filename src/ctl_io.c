/* tablectl import and export: CSV and .npy files to and from column files.
 * Files are streamed, never held in memory: CSV import reads its file twice
 * (check and infer types, then convert and write), so bad input is found
 * before the table is touched. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"

enum file_kind { FILE_UNKNOWN, FILE_CSV, FILE_NPY };

static enum file_kind file_kind(const char *path)
{
	size_t n = strlen(path);

	if (!strcmp(path, "-"))
		return FILE_CSV;
	if (n > 4 && !strcasecmp(path + n - 4, ".csv"))
		return FILE_CSV;
	if (n > 4 && !strcasecmp(path + n - 4, ".npy"))
		return FILE_NPY;
	return FILE_UNKNOWN;
}

/* ---- values ---------------------------------------------------------- */

/* One row of a column: a scalar, or a list "[a, b, c]" of exactly
 * product(shape) elements; inner brackets are ignored.  Numbers may also be
 * separated by blanks as numpy prints them; bytes elements only by commas,
 * so that empty strings survive (export escapes commas inside them). */
static int parse_item(const struct tfs_coldef *def, char *text, unsigned char *dst,
		      const char **why)
{
	uint64_t n = def->itemsize / def->type.size, i = 0;
	const char *seps = def->type.kind == TFS_BYTES ? "," : "[], \t";
	char *p = text, *q = text, *tok, last;

	if (def->ndim == 0)
		return ctl_parse_scalar(&def->type, text, dst, why);
	if (def->type.kind == TFS_BYTES) {
		for (; *p; p++)
			if (*p != '[' && *p != ']')
				*q++ = *p;
		*q = '\0';
		p = text;
	}
	do {
		if (def->type.kind != TFS_BYTES && !*(p += strspn(p, seps)))
			break;
		tok = p;
		p += strcspn(p, seps);
		last = *p;
		*p++ = '\0';
		*why = "wrong number of elements for the column's shape";
		if (i == n || ctl_parse_scalar(&def->type, (char *)ctl_trim(tok),
					       dst + i++ * def->type.size, why))
			return -1;
	} while (last);
	*why = "wrong number of elements for the column's shape";
	return i == n ? 0 : -1;
}

/* ---- CSV reading ----------------------------------------------------- */

struct csv {
	FILE *f;
	const char *path;
	char *line;
	size_t linecap;
	struct ctl_str rec; /* the record's raw text, lines joined */
	char *out;	    /* unquoted fields, NUL-separated */
	size_t outcap;
	char **fields;
	size_t nfields, fieldcap;
	uint64_t lineno; /* line where the current record starts */
	uint64_t nlines; /* lines read so far */
};

/* Splits rec into fields; 0 when a quoted field is still open (the record
 * continues on the next line), 1 when complete, -1 when out of memory. */
static int csv_split(struct csv *c)
{
	const char *p = c->rec.p, *end = p + c->rec.len;
	char *o, **nf;

	if (c->outcap < c->rec.len + 1) {
		free(c->out);
		c->outcap = c->rec.len + 1;
		if (!(c->out = malloc(c->outcap)))
			return -1;
	}
	o = c->out;
	for (c->nfields = 0;; p++) {
		if (c->nfields == c->fieldcap) {
			nf = realloc(c->fields, (c->fieldcap + 16) * sizeof(*nf));
			if (!nf)
				return -1;
			c->fields = nf;
			c->fieldcap += 16;
		}
		c->fields[c->nfields++] = o;
		if (p < end && *p == '"') {
			for (p++;; p++) {
				if (p == end)
					return 0;
				if (*p == '"' && (p + 1 == end || p[1] != '"'))
					break;
				*o++ = *p;
				p += *p == '"';
			}
			p++;
		}
		while (p < end && *p != ',')
			*o++ = *p++;
		*o++ = '\0';
		if (p == end)
			return 1;
	}
}

/* Reads the next record: 1, 0 at the end, -1 (reported) on error. */
static int csv_next(struct csv *c)
{
	bool cont = false;
	ssize_t n;
	int rc;

	ctl_str_clear(&c->rec);
	c->lineno = c->nlines + 1;
	for (;;) {
		n = getline(&c->line, &c->linecap, c->f);
		if (n < 0) {
			if (ferror(c->f))
				ctl_err(c->path, "%s", strerror(errno));
			else if (cont)
				ctl_err("import", "%s:%" PRIu64 ": unterminated quoted field",
					c->path, c->lineno);
			return ferror(c->f) || cont ? -1 : 0;
		}
		c->nlines++;
		while (n && (c->line[n - 1] == '\n' || c->line[n - 1] == '\r'))
			n--;
		if (!cont && n == 0) { /* blank lines between records are skipped */
			c->lineno++;
			continue;
		}
		if ((cont && ctl_str_add(&c->rec, "\n", 1)) ||
		    ctl_str_add(&c->rec, c->line, (size_t)n))
			goto out_nomem;
		rc = csv_split(c);
		if (rc < 0)
			goto out_nomem;
		if (rc)
			return 1;
		cont = true;
	}
out_nomem:
	ctl_err(c->path, "%s", strerror(ENOMEM));
	return -1;
}

static void csv_close(struct csv *c)
{
	if (c->f && c->f != stdin)
		fclose(c->f);
	free(c->line);
	ctl_str_free(&c->rec);
	free(c->out);
	free(c->fields);
}

/* ---- CSV import ------------------------------------------------------ */

/* What a new column's values could all be; the first that fits wins. */
struct guess {
	bool no_bool, no_int, no_float, no_time;
	size_t maxlen;
	uint64_t filled;
};

static void guess_update(struct guess *g, char *field)
{
	size_t len = ctl_bytes_decode(field, NULL, 0);
	const char *s = ctl_trim(field), *why;
	char *end;
	int64_t v;

	if (len > g->maxlen)
		g->maxlen = len;
	if (!*s) { /* missing: NaN or NaT later, but no integer or bool */
		g->no_bool = g->no_int = true;
		return;
	}
	g->filled++;
	g->no_bool |= strcasecmp(s, "true") && strcasecmp(s, "false");
	if (!g->no_int) {
		errno = 0;
		strtoll(s, &end, 10);
		g->no_int = *end || errno;
	}
	if (!g->no_float) {
		strtod(s, &end);
		g->no_float = *end != '\0';
	}
	if (!g->no_time)
		g->no_time = strcmp(s, "NaT") && ctl_parse_iso(s, TFS_UNIT_NS, &v, &why);
}

static void guess_type(const struct guess *g, struct tfs_coldef *def)
{
	struct tfs_type t = {TFS_BYTES, (uint32_t)(g->maxlen ? g->maxlen : 1), TFS_UNIT_NONE};

	if (!g->filled || (!g->no_float && g->no_bool && g->no_int))
		t = (struct tfs_type){TFS_FLOAT, 8, TFS_UNIT_NONE};
	else if (!g->no_bool)
		t = (struct tfs_type){TFS_BOOL, 1, TFS_UNIT_NONE};
	else if (!g->no_int)
		t = (struct tfs_type){TFS_INT, 8, TFS_UNIT_NONE};
	else if (!g->no_time)
		t = (struct tfs_type){TFS_DATETIME, 8, TFS_UNIT_NS};
	def->type = t;
	def->ndim = 0;
	def->itemsize = t.size;
}

/* One CSV column during import. */
struct icol {
	struct tfs_coldef def;
	bool known; /* the table has it: values are checked, not guessed */
	struct guess guess;
	unsigned char *buf; /* converted values: one row in pass 1, a block in pass 2 */
	int fd;
};

struct import {
	const char *table, *path;
	struct csv csv;
	struct ctl_table t;
	bool exists;
	size_t ncols;
	struct icol *cols;
	uint64_t rows, block;
};

static int flush_block(struct import *im, uint64_t first, uint64_t count)
{
	for (size_t i = 0; i < im->ncols; i++) {
		struct icol *c = &im->cols[i];

		if (ctl_pwrite_full(c->fd, c->buf, count * c->def.itemsize, first * c->def.itemsize,
				    c->def.name))
			return -1;
	}
	return 0;
}

/* One pass over the records.  The first checks the values of known columns,
 * guesses the types of new ones and counts rows; the second converts every
 * value into blocks of rows written to the columns in place. */
static int csv_pass(struct import *im, bool write, off_t size)
{
	struct ctl_progress prog;
	uint64_t row = 0, k = 0;
	const char *why;
	struct icol *c;
	int rc;

	ctl_progress_start(&prog, write ? "importing" : "checking", (uint64_t)size);
	while ((rc = csv_next(&im->csv)) > 0) {
		if (im->csv.nfields != im->ncols) {
			ctl_err("import", "%s:%" PRIu64 ": expected %zu fields, got %zu", im->path,
				im->csv.lineno, im->ncols, im->csv.nfields);
			rc = -1;
			break;
		}
		for (size_t i = 0; i < im->ncols && rc > 0; i++) {
			c = &im->cols[i];
			if (!write && !c->known) {
				guess_update(&c->guess, im->csv.fields[i]);
			} else if (parse_item(&c->def, im->csv.fields[i],
					      c->buf + k * c->def.itemsize, &why)) {
				ctl_err("import", "%s:%" PRIu64 ": column '%s': %s", im->path,
					im->csv.lineno, c->def.name, why);
				rc = -1;
			}
		}
		if (rc < 0 || (write && row + k >= im->rows))
			break;
		if (!write)
			im->rows++;
		else if (++k == im->block && (rc = flush_block(im, row, k)) == 0)
			row += k, k = 0, rc = 1;
		if (rc < 0)
			break;
		ctl_progress_update(&prog, (uint64_t)ftello(im->csv.f));
	}
	ctl_progress_end(&prog);
	if (rc > 0 || (rc == 0 && write && row + k != im->rows)) {
		ctl_err("import", "%s: changed while importing", im->path);
		return -1;
	}
	return rc < 0 || (write && flush_block(im, row, k)) ? -1 : 0;
}

/* Gets ready for pass 2: block buffers, open columns, back to line 2. */
static int csv_rewind(struct import *im)
{
	uint64_t widest = 1;
	char path[4096];
	void *buf;

	for (size_t i = 0; i < im->ncols; i++)
		if (im->cols[i].def.itemsize > widest)
			widest = im->cols[i].def.itemsize;
	im->block = CTL_CHUNK / widest ? CTL_CHUNK / widest : 1;
	for (size_t i = 0; i < im->ncols; i++) {
		struct icol *c = &im->cols[i];

		if (!(buf = realloc(c->buf, im->block * c->def.itemsize))) {
			ctl_err("import", "%s", strerror(ENOMEM));
			return -1;
		}
		c->buf = buf;
		if (ctl_path(path, sizeof(path), im->table, c->def.name))
			return -1;
		c->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (c->fd < 0) {
			ctl_err(path, "%s", strerror(errno));
			return -1;
		}
	}
	im->csv.nlines = 0;
	if (fseeko(im->csv.f, 0, SEEK_SET) != 0 || csv_next(&im->csv) <= 0) {
		ctl_err("import", "%s: cannot read it again", im->path);
		return -1;
	}
	return 0;
}

/* Reads the header, matches its names against the table's columns. */
static int csv_header(struct import *im)
{
	char what[64], *name;
	long idx;

	if (csv_next(&im->csv) <= 0) {
		if (!ferror(im->csv.f))
			ctl_err("import", "%s: empty file", im->path);
		return -1;
	}
	im->ncols = im->csv.nfields;
	im->cols = calloc(im->ncols, sizeof(*im->cols));
	if (!im->cols) {
		ctl_err("import", "%s", strerror(ENOMEM));
		return -1;
	}
	snprintf(what, sizeof(what), "import: %.40s:1", im->path);
	for (size_t i = 0; i < im->ncols; i++) {
		struct icol *c = &im->cols[i];

		c->fd = -1;
		name = im->csv.fields[i];
		if (i == 0 && !strncmp(name, "\xef\xbb\xbf", 3))
			name += 3; /* UTF-8 byte order mark */
		if (ctl_check_name(what, ctl_trim(name)))
			return -1;
		snprintf(c->def.name, sizeof(c->def.name), "%s", ctl_trim(name));
		for (size_t j = 0; j < i; j++) {
			if (!strcmp(im->cols[j].def.name, c->def.name)) {
				ctl_err(what, "column '%s' appears twice", c->def.name);
				return -1;
			}
		}
		idx = im->exists ? ctl_table_find(&im->t, c->def.name) : -1;
		c->known = idx >= 0;
		if (c->known) {
			c->def = im->t.cols[idx].def;
			if (!(c->buf = malloc(c->def.itemsize))) {
				ctl_err("import", "%s", strerror(ENOMEM));
				return -1;
			}
		}
	}
	return 0;
}

/* A table keeps columns the file does not name only if its rows stay. */
static int rows_check(const struct ctl_table *t, uint64_t rows, size_t named)
{
	if (named == t->ncols || rows == t->rows)
		return 0;
	ctl_err("import",
		"%s has %" PRIu64 " rows and columns not in the file, which has %" PRIu64 " rows",
		t->name, t->rows, rows);
	return -1;
}

static int import_csv(const char *table, const char *path)
{
	struct import im = {.table = table, .path = path, .csv.path = path};
	struct tfs_coldef *fresh = NULL;
	size_t nfresh = 0;
	struct stat st;
	int rc = -1;

	im.csv.f = fopen(path, "re");
	if (!im.csv.f || fstat(fileno(im.csv.f), &st) != 0) {
		ctl_err("import", "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ctl_err("import", "%s: not a regular file (CSV import reads it twice)", path);
		goto out;
	}
	rc = ctl_table_exists(table);
	if (rc < 0 || (rc == 1 && ctl_table_load(table, &im.t)))
		goto out_fail;
	im.exists = rc == 1;
	if (csv_header(&im) || csv_pass(&im, false, st.st_size))
		goto out_fail;
	if (!(fresh = calloc(im.ncols, sizeof(*fresh)))) {
		ctl_err("import", "%s", strerror(ENOMEM));
		goto out_fail;
	}
	for (size_t i = 0; i < im.ncols; i++) {
		if (!im.cols[i].known) {
			guess_type(&im.cols[i].guess, &im.cols[i].def);
			fresh[nfresh++] = im.cols[i].def;
		}
	}
	if (im.exists && rows_check(&im.t, im.rows, im.ncols - nfresh))
		goto out_fail;
	if ((!im.exists || nfresh || im.rows != im.t.rows) &&
	    ctl_schema_apply(table, table, !im.exists, true, im.rows, fresh, nfresh))
		goto out_fail;
	if (csv_rewind(&im) || csv_pass(&im, true, st.st_size))
		goto out_fail;
	for (size_t i = 0; i < im.ncols; i++) {
		rc = close(im.cols[i].fd);
		im.cols[i].fd = -1;
		if (rc) {
			ctl_err(im.cols[i].def.name, "%s", strerror(errno));
			goto out_fail;
		}
	}
	rc = 0;
	goto out;

out_fail:
	rc = -1;
out:
	for (size_t i = 0; i < im.ncols; i++) {
		if (im.cols[i].fd >= 0)
			close(im.cols[i].fd);
		free(im.cols[i].buf);
	}
	free(im.cols);
	free(fresh);
	csv_close(&im.csv);
	ctl_table_free(&im.t);
	return rc;
}

/* ---- .npy ------------------------------------------------------------ */

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

/* Copies len bytes from in (at in_off) to out (at out_off) in chunks. */
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
		if (ctl_pread_full(in, buf, n, in_off + done, in_name) ||
		    ctl_pwrite_full(out, buf, n, out_off + done, out_name))
			goto out;
		ctl_progress_update(&prog, done + n);
	}
	rc = 0;
out:
	ctl_progress_end(&prog);
	free(buf);
	return rc;
}

static int import_npy(const char *table, const char *path, const char *column)
{
	char name[TFS_NAME_MAX + 1], why[TFS_WHY_MAX], cpath[4096];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct tfs_coldef def = {0};
	struct ctl_table t = {0};
	uint64_t rows, len;
	struct stat st;
	struct npy h;
	int fd, out = -1, rc = -1, exists;
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
	if (exists < 0 || (exists && ctl_table_load(table, &t)))
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
	if ((exists && rows_check(&t, rows, idx >= 0 ? 1 : 0)) ||
	    ctl_schema_apply(table, table, !exists, true, rows, &def, 1) ||
	    ctl_path(cpath, sizeof(cpath), table, def.name))
		goto out;
	out = open(cpath, O_WRONLY | O_CLOEXEC);
	if (out < 0) {
		ctl_err(cpath, "%s", strerror(errno));
		goto out;
	}
	if (copy_bytes(fd, h.data_off, out, 0, len, path, def.name, "importing"))
		goto out;
	rc = close(out);
	out = -1;
	if (rc)
		ctl_err(cpath, "%s", strerror(errno));
out:
	if (out >= 0)
		close(out);
	if (fd >= 0)
		close(fd);
	ctl_table_free(&t);
	return rc;
}

int ctl_import(const char *table, const char *file, const char *column)
{
	switch (file_kind(file)) {
	case FILE_CSV:
		if (column) {
			ctl_err("import", "--column applies to .npy files only");
			return -1;
		}
		if (!strcmp(file, "-")) {
			ctl_err("import", "cannot read CSV from standard input (it is read twice)");
			return -1;
		}
		return ctl_check_name("import", table) ? -1 : import_csv(table, file);
	case FILE_NPY:
		return ctl_check_name("import", table) ? -1 : import_npy(table, file, column);
	default:
		ctl_err("import", "%s: unknown file type (expected .csv or .npy)", file);
		return -1;
	}
}

/* ---- export ---------------------------------------------------------- */

/* A CSV field: vectors always quoted, other values when they must be. */
static int csv_field(FILE *f, const char *s, bool vector)
{
	if (!vector && !strpbrk(s, ",\"\r\n") && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' '))
		return fputs(s, f) < 0 ? -1 : 0;
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	return putc('"', f) == EOF ? -1 : 0;
}

static int export_rows(const struct ctl_table *t, struct ctl_scan *scan, FILE *f)
{
	struct ctl_str cell = {0};
	struct ctl_progress prog;
	uint64_t rowbytes = 0;
	int more;

	for (size_t i = 0; i < t->ncols; i++) {
		rowbytes += t->cols[i].def.itemsize;
		fprintf(f, "%s%s", i ? "," : "", t->cols[i].def.name);
	}
	putc('\n', f);
	ctl_progress_start(&prog, "exporting", t->rows * rowbytes);
	while ((more = ctl_scan_next(scan, UINT64_MAX)) > 0) {
		for (uint64_t r = 0; r < scan->count && more > 0; r++) {
			for (size_t i = 0; i < t->ncols && more > 0; i++) {
				const struct tfs_coldef *d = &t->cols[i].def;

				ctl_str_clear(&cell);
				if (ctl_format_item(&cell, d, scan->bufs[i] + r * d->itemsize,
						    CTL_FULL)) {
					ctl_err("export", "%s", strerror(ENOMEM));
					more = -1;
				} else if ((i && putc(',', f) == EOF) ||
					   csv_field(f, cell.p, d->ndim > 0)) {
					more = 0; /* ferror reports it */
				}
			}
			putc('\n', f);
		}
		if (more <= 0 || ferror(f))
			break;
		ctl_progress_update(&prog, (scan->first + scan->count) * rowbytes);
	}
	ctl_progress_end(&prog);
	ctl_str_free(&cell);
	return more < 0 ? -1 : 0;
}

static int export_csv(const struct ctl_table *t, const char *file)
{
	bool to_stdout = !strcmp(file, "-");
	struct ctl_scan scan;
	FILE *f;
	int rc;

	if (ctl_scan_open(&scan, t))
		return -1;
	f = to_stdout ? stdout : fopen(file, "we");
	if (!f) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		ctl_scan_close(&scan);
		return -1;
	}
	rc = export_rows(t, &scan, f);
	ctl_scan_close(&scan);
	errno = 0;
	if (ferror(f) | (to_stdout ? fflush(f) : fclose(f))) {
		if (!rc)
			ctl_err("export", "%s: %s", file, strerror(errno ? errno : EIO));
		rc = -1;
	}
	if (rc && !to_stdout)
		unlink(file); /* no half-written file left behind */
	return rc;
}

static int export_npy(const struct ctl_table *t, const struct ctl_col *c, const char *file)
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
		ctl_err(cpath, "%s", strerror(errno));
		return -1;
	}
	out = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (out < 0) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		close(in);
		return -1;
	}
	if (!ctl_pwrite_full(out, head, 10 + (size_t)n, 0, file) &&
	    !copy_bytes(in, 0, out, 10 + (uint64_t)n, t->rows * c->def.itemsize, c->def.name, file,
			"exporting"))
		rc = 0;
	if (close(out) && !rc) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		rc = -1;
	}
	if (rc)
		unlink(file); /* no half-written file left behind */
	close(in);
	return rc;
}

int ctl_export(const char *table, const char *file, const char *column)
{
	enum file_kind kind = file_kind(file);
	struct ctl_table t, one;
	long idx = -1;
	int rc = -1;

	if (kind == FILE_UNKNOWN) {
		ctl_err("export", "%s: unknown file type (expected .csv or .npy)", file);
		return -1;
	}
	if (ctl_table_load(table, &t))
		return -1;
	if (column && (idx = ctl_table_find(&t, column)) < 0) {
		ctl_err("export", "%s: no column '%s'", table, column);
		goto out;
	}
	if (kind == FILE_NPY && idx < 0 && t.ncols != 1) {
		ctl_err("export", "%s has %zu columns: choose one with --column NAME", table,
			t.ncols);
		goto out;
	}
	one = t;
	if (idx >= 0) {
		one.cols = &t.cols[idx];
		one.ncols = 1;
	}
	rc = kind == FILE_NPY ? export_npy(&t, one.cols, file) : export_csv(&one, file);
out:
	ctl_table_free(&t);
	return rc;
}
