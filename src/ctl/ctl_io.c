/* tablectl import and export of CSV files, and the choice between CSV and
 * .npy (ctl_npy.c).  Files are streamed, never held in memory: CSV import
 * reads its file twice (check and infer types, then convert and write), so
 * bad input is found before the table is touched. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
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

/* ---- reading a table in blocks ------------------------------------- */

/* The block reader of export, shared with head: each block holds the same
 * rows of every column, read with pread; ctl_block_rows bounds their memory. */
int ctl_scan_open(struct ctl_scan *s, const struct ctl_table *t)
{
	char path[4096];
	uint64_t widest = 1, rowbytes = 0;
	size_t n = t->ncols ? t->ncols : 1;

	memset(s, 0, sizeof(*s));
	s->t = t;
	s->fds = malloc(n * sizeof(*s->fds));
	s->bufs = calloc(n, sizeof(*s->bufs));
	if (!s->fds || !s->bufs)
		goto out_nomem;
	for (size_t i = 0; i < t->ncols; i++) {
		s->fds[i] = -1;
		if (t->cols[i].def.itemsize > widest)
			widest = t->cols[i].def.itemsize;
		rowbytes += t->cols[i].def.itemsize;
	}
	s->block = ctl_block_rows(rowbytes, widest);
	for (size_t i = 0; i < t->ncols; i++) {
		s->bufs[i] =
		    malloc(s->block * (t->cols[i].def.itemsize ? t->cols[i].def.itemsize : 1));
		if (!s->bufs[i])
			goto out_nomem;
		if (ctl_path(path, sizeof(path), t->name, t->cols[i].file))
			goto out_close;
		s->fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (s->fds[i] < 0 && errno == ENOENT) {
			ctl_scan_close(s); /* removed since meta.json was read */
			return CTL_CHANGED;
		}
		if (s->fds[i] < 0) {
			ctl_err(path, "%s", strerror(errno));
			goto out_close;
		}
	}
	return 0;

out_nomem:
	ctl_err(t->name, "%s", strerror(ENOMEM));
out_close:
	ctl_scan_close(s);
	return -1;
}

int ctl_scan_next(struct ctl_scan *s, uint64_t limit)
{
	const struct ctl_col *c;

	s->first += s->count;
	s->count = 0;
	if (limit > s->t->rows)
		limit = s->t->rows;
	if (s->first >= limit)
		return 0;
	s->count = limit - s->first < s->block ? limit - s->first : s->block;
	for (size_t i = 0; i < s->t->ncols; i++) {
		c = &s->t->cols[i];
		if (ctl_pread_full(s->fds[i], s->bufs[i], s->count * c->def.itemsize,
				   s->first * c->def.itemsize, NULL)) {
			if (errno == ENODATA)
				return CTL_CHANGED; /* the table shrank since meta.json was read */
			ctl_err(c->def.name, "%s", strerror(errno));
			return -1;
		}
	}
	return 1;
}

void ctl_scan_close(struct ctl_scan *s)
{
	for (size_t i = 0; s->t && i < s->t->ncols; i++) {
		if (s->fds && s->fds[i] >= 0)
			close(s->fds[i]);
		if (s->bufs)
			free(s->bufs[i]);
	}
	free(s->fds);
	free(s->bufs);
	memset(s, 0, sizeof(*s));
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
	uint64_t nbytes; /* bytes read so far, for the progress line (ftello costs an lseek) */
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
		c->nbytes += (uint64_t)n;
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

/* One CSV column during import. */
struct icol {
	struct tfs_coldef def;
	bool known; /* the table has it: values are checked, not guessed */
	struct ctl_guess guess;
	unsigned char *buf; /* converted values: one row in pass 1, a block in pass 2 */
	int fd;
};

struct import {
	const char *table, *path;
	struct csv csv;
	struct ctl_table t;
	bool exists;
	int lock; /* LOCK_EX on meta.json from loading t to the last write */
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
	/* The ETA while checking includes the import pass still to come. */
	prog.after = write ? 0 : (uint64_t)size;
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
				ctl_guess_update(&c->guess, im->csv.fields[i]);
			} else if (ctl_parse_item(&c->def, im->csv.fields[i],
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
		ctl_progress_update(&prog, im->csv.nbytes);
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
	uint64_t widest = 1, rowbytes = 0;
	char path[4096];
	void *buf;

	for (size_t i = 0; i < im->ncols; i++) {
		if (im->cols[i].def.itemsize > widest)
			widest = im->cols[i].def.itemsize;
		rowbytes += im->cols[i].def.itemsize;
	}
	im->block = ctl_block_rows(rowbytes, widest);
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
	im->csv.nbytes = 0;
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

static int import_csv(const char *table, const char *path)
{
	struct import im = {.table = table, .path = path, .csv.path = path, .lock = -1};
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
	im.exists = rc == 1;
	if (rc < 0 || (im.exists && ((im.lock = ctl_table_lock("import", table, LOCK_EX)) < 0 ||
				     ctl_table_load(table, &im.t))))
		goto out_fail;
	if (csv_header(&im) || csv_pass(&im, false, st.st_size))
		goto out_fail;
	if (!(fresh = calloc(im.ncols, sizeof(*fresh)))) {
		ctl_err("import", "%s", strerror(ENOMEM));
		goto out_fail;
	}
	for (size_t i = 0; i < im.ncols; i++) {
		if (!im.cols[i].known) {
			const char *note = ctl_guess_type(&im.cols[i].guess, &im.cols[i].def);

			if (note)
				ctl_err("import", "%s: column '%s' stored as bytes%" PRIu32 ": %s",
					path, im.cols[i].def.name, im.cols[i].def.type.size, note);
			fresh[nfresh++] = im.cols[i].def;
		}
	}
	if (im.exists && ctl_rows_check(&im.t, im.rows, im.ncols - nfresh))
		goto out_fail;
	if ((!im.exists || nfresh || im.rows != im.t.rows) &&
	    ctl_schema_apply(table, table, im.exists ? CTL_MKDIR_NO : CTL_MKDIR_MUST, true, im.rows,
			     fresh, nfresh, &im.lock))
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
	if (im.lock >= 0)
		close(im.lock); /* after the columns: readers then see every write */
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
		return ctl_check_name("import", table) ? -1 : ctl_import_npy(table, file, column);
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
	if (f == stdout && isatty(STDOUT_FILENO))
		prog.on = false; /* the rows go to the terminal the bar would overwrite */
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
	return more < 0 ? more : 0; /* -1 or CTL_CHANGED */
}

/* One export in progress, across the attempts of ctl_table_read. */
struct export_job {
	const char *table, *file, *column;
	const char *out;   /* where the attempts write: file, or tmp */
	const char *dest;  /* what tmp replaces: file, or where its symlink points */
	char real[4096];   /* file with symlinks resolved, when it exists */
	char tmp[4096];	   /* a new file beside dest, renamed over it at the end */
	enum file_kind kind;
	bool emitted; /* an attempt wrote to the file (or stdout) */
};

static int export_csv(const struct ctl_table *t, struct export_job *ex)
{
	bool to_stdout = !strcmp(ex->file, "-");
	struct ctl_scan scan;
	FILE *f;
	int rc;

	rc = ctl_scan_open(&scan, t);
	if (rc)
		return rc;
	f = to_stdout ? stdout : fopen(ex->out, "we");
	if (!f) {
		ctl_err("export", "%s: %s", ex->out, strerror(errno));
		ctl_scan_close(&scan);
		return -1;
	}
	ex->emitted = true;
	rc = export_rows(t, &scan, f);
	ctl_scan_close(&scan);
	errno = 0;
	if (ferror(f) | (to_stdout ? fflush(f) : fclose(f))) {
		if (!rc)
			ctl_err("export", "%s: %s", ex->out, strerror(errno ? errno : EIO));
		rc = -1;
	}
	return rc;
}

/* A reader for ctl_table_read: the whole export, from the start. */
static int export_reader(const struct ctl_table *t, void *arg, int attempt)
{
	struct export_job *ex = arg;
	struct ctl_table one = *t;
	long idx = -1;

	(void)attempt;
	if (ex->emitted && !strcmp(ex->file, "-")) {
		ctl_err("export",
			"%s changed while it was written to standard output, which cannot "
			"be taken back: the output is not consistent; export to a file instead",
			ex->table);
		return -1;
	}
	if (ex->column && (idx = ctl_table_find(t, ex->column)) < 0) {
		ctl_err("export", "%s: no column '%s'", ex->table, ex->column);
		return -1;
	}
	if (ex->kind == FILE_NPY && idx < 0 && t->ncols != 1) {
		ctl_err("export", "%s has %zu columns: choose one with --column NAME", ex->table,
			t->ncols);
		return -1;
	}
	if (idx >= 0) {
		one.cols = &t->cols[idx];
		one.ncols = 1;
	}
	return ex->kind == FILE_NPY ? ctl_export_npy(t, one.cols, ex->out) : export_csv(&one, ex);
}

/* Chooses where the export is written.  A regular file, or none yet, is
 * written as a new file in the same directory and renamed over the target
 * only once whole, so a failed export leaves an existing file as it was;
 * the new file gets the old one's mode, else what the umask allows, and
 * replaces the file a symlink points to, not the link.  Anything else (a
 * FIFO, a device) is written in place. */
static int export_target(struct export_job *ex)
{
	const char *slash;
	struct stat st;
	mode_t mode, mask;
	int fd;

	ex->out = ex->dest = ex->file;
	if (!strcmp(ex->file, "-"))
		return 0;
	if (stat(ex->file, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			return 0;
		mode = st.st_mode & 07777;
		if (realpath(ex->file, ex->real))
			ex->dest = ex->real;
	} else {
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	slash = strrchr(ex->dest, '/');
	if ((size_t)snprintf(ex->tmp, sizeof(ex->tmp), "%.*s.%s.XXXXXX",
			     slash ? (int)(slash - ex->dest + 1) : 0, ex->dest,
			     slash ? slash + 1 : ex->dest) >= sizeof(ex->tmp)) {
		ctl_err("export", "%s: %s", ex->file, strerror(ENAMETOOLONG));
		return -1;
	}
	fd = mkostemp(ex->tmp, O_CLOEXEC);
	if (fd < 0) {
		ctl_err("export", "%s: cannot create a file beside it: %s", ex->file,
			strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0) {
		ctl_err("export", "%s: %s", ex->tmp, strerror(errno));
		close(fd);
		unlink(ex->tmp);
		return -1;
	}
	close(fd);
	ex->out = ex->tmp;
	return 0;
}

int ctl_export(const char *table, const char *file, const char *column)
{
	struct export_job ex = {.table = table, .file = file, .column = column};
	int rc;

	ex.kind = file_kind(file);
	if (ex.kind == FILE_UNKNOWN) {
		ctl_err("export", "%s: unknown file type (expected .csv or .npy)", file);
		return -1;
	}
	if (export_target(&ex))
		return -1;
	/* A file written whole from a table that moved meanwhile is no export:
	 * it is renamed only when ctl_table_read found the table steady. */
	rc = ctl_table_read("export", table, export_reader, &ex);
	if (ex.out != ex.tmp)
		return rc;
	if (!rc && rename(ex.tmp, ex.dest) != 0) {
		ctl_err("export", "%s: %s", file, strerror(errno));
		rc = -1;
	}
	if (rc)
		unlink(ex.tmp);
	return rc;
}
