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

/* Opens a companion file of column c (suffix ".data", ".null") for
 * reading: the descriptor, CTL_CHANGED when it is gone, -1 (reported). */
static int open_role(const struct ctl_table *t, const struct ctl_col *c, enum tfs_role r)
{
	char path[4096], file[TFS_FILE_NAME_MAX];
	int fd;

	tfs_role_file(c->file, r, file);
	if (ctl_path(path, sizeof(path), t->name, file))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return CTL_CHANGED; /* removed since meta.json was read */
	if (fd < 0)
		ctl_err(path, "%s", strerror(errno));
	return fd;
}

static bool is_text(const struct tfs_coldef *d)
{
	return d->type.kind == TFS_UTF8 || d->type.kind == TFS_BINARY;
}

/* The block reader of export, shared with head: each block holds the same
 * rows of every column, read with pread; ctl_block_rows bounds their memory,
 * and the bytes of text columns shorten a block that would hold too many. */
int ctl_scan_open(struct ctl_scan *s, const struct ctl_table *t)
{
	uint64_t widest = 1, rowbytes = 0;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	s->t = t;
	s->cols = calloc(t->ncols ? t->ncols : 1, sizeof(*s->cols));
	if (!s->cols)
		goto out_nomem;
	for (size_t i = 0; i < t->ncols; i++) {
		s->cols[i].fd = s->cols[i].data_fd = s->cols[i].null_fd = -1;
		if (t->cols[i].def.itemsize > widest)
			widest = t->cols[i].def.itemsize;
		rowbytes += t->cols[i].def.itemsize + t->cols[i].def.nullable;
	}
	s->block = ctl_block_rows(rowbytes, widest);
	for (size_t i = 0; i < t->ncols; i++) {
		const struct ctl_col *c = &t->cols[i];
		struct ctl_scol *sc = &s->cols[i];

		/* utf8/binary: one offset more, the end of the last row */
		sc->buf = malloc((s->block + 1) * c->def.itemsize);
		if (!sc->buf || (c->def.nullable && !(sc->nulls = malloc(s->block))))
			goto out_nomem;
		if ((sc->fd = rc = open_role(t, c, TFS_ROLE_MAIN)) < 0 ||
		    (is_text(&c->def) && (sc->data_fd = rc = open_role(t, c, TFS_ROLE_DATA)) < 0) ||
		    (c->def.nullable && (sc->null_fd = rc = open_role(t, c, TFS_ROLE_NULL)) < 0))
			goto out_close;
	}
	return 0;

out_nomem:
	ctl_err(t->name, "%s", strerror(ENOMEM));
	rc = -1;
out_close:
	ctl_scan_close(s);
	return rc;
}

/* Reads len bytes at off of one of the table's files: 0, -1 (reported) or
 * CTL_CHANGED (short: the table shrank since meta.json was read). */
static int scan_read(int fd, void *buf, size_t len, uint64_t off, const char *col)
{
	if (!ctl_pread_full(fd, buf, len, off, NULL))
		return 0;
	if (errno == ENODATA)
		return CTL_CHANGED;
	ctl_err(col, "%s", strerror(errno));
	return -1;
}

/* Checks the offsets of a block of a utf8/binary column (a writer may have
 * broken them) and shortens the block to the rows whose bytes fit in
 * CTL_BLOCK_BYTES, one row at least.  0 or -1 (reported). */
static int check_offsets(const struct ctl_scan *s, const struct ctl_col *c, const int64_t *off,
			 uint64_t *count)
{
	uint64_t j, n = *count;

	if (s->first == 0 && off[0] != 0) {
		ctl_err(c->def.name, "offsets corrupt: the first is %" PRId64 ", not 0", off[0]);
		return -1;
	}
	for (j = 0; j < n; j++) {
		if (off[j + 1] < off[j] || (uint64_t)off[j + 1] > c->def.data_bytes) {
			ctl_err(c->def.name,
				"offsets corrupt at row %" PRIu64 ": %" PRId64 " after %" PRId64
				" (data holds %" PRIu64 " bytes)",
				s->first + j, off[j + 1], off[j], c->def.data_bytes);
			return -1;
		}
		if (j && (uint64_t)(off[j + 1] - off[0]) > CTL_BLOCK_BYTES)
			break;
	}
	*count = j;
	return 0;
}

int ctl_scan_next(struct ctl_scan *s, uint64_t limit)
{
	const struct ctl_col *c;
	struct ctl_scol *sc;
	uint64_t count;
	int rc;

	s->first += s->count;
	s->count = 0;
	if (limit > s->t->rows)
		limit = s->t->rows;
	if (s->first >= limit)
		return 0;
	count = limit - s->first < s->block ? limit - s->first : s->block;
	/* the offsets first: the bytes they span may shorten the block */
	for (size_t i = 0; i < s->t->ncols; i++) {
		c = &s->t->cols[i];
		if (!is_text(&c->def))
			continue;
		rc = scan_read(s->cols[i].fd, s->cols[i].buf, (count + 1) * 8, s->first * 8,
			       c->def.name);
		if (rc || check_offsets(s, c, (const int64_t *)s->cols[i].buf, &count))
			return rc ? rc : -1;
	}
	for (size_t i = 0; i < s->t->ncols; i++) {
		c = &s->t->cols[i];
		sc = &s->cols[i];
		if (is_text(&c->def)) {
			const int64_t *off = (const int64_t *)sc->buf;
			size_t span = (size_t)(off[count] - off[0]);

			if (sc->data.cap < span + 1) {
				char *p = realloc(sc->data.p, span + 1);

				if (!p) {
					ctl_err(c->def.name, "%s", strerror(ENOMEM));
					return -1;
				}
				sc->data.p = p;
				sc->data.cap = span + 1;
			}
			if (span && (rc = scan_read(sc->data_fd, sc->data.p, span,
						    (uint64_t)off[0], c->def.name)))
				return rc;
			sc->data.len = span;
		} else if ((rc = scan_read(sc->fd, sc->buf, count * c->def.itemsize,
					   s->first * c->def.itemsize, c->def.name))) {
			return rc;
		}
		if (c->def.nullable &&
		    (rc = scan_read(sc->null_fd, sc->nulls, count, s->first, c->def.name)))
			return rc;
		for (uint64_t r = 0; c->def.type.kind == TFS_CATEGORY && r < count; r++) {
			int32_t code;

			memcpy(&code, sc->buf + r * 4, 4);
			if (code < -1 || (int64_t)code >= (int64_t)c->def.ncat) {
				ctl_err(c->def.name,
					"code %" PRId32 " at row %" PRIu64 " is not one of its %" PRIu64
					" categories (nor -1, missing): a writer broke it",
					code, s->first + r, c->def.ncat);
				return -1;
			}
		}
	}
	s->count = count;
	return 1;
}

int ctl_scan_cell(struct ctl_str *out, const struct ctl_scan *s, size_t i, uint64_t r,
		  enum ctl_style style, bool *missing)
{
	const struct ctl_col *c = &s->t->cols[i];
	const struct ctl_scol *sc = &s->cols[i];
	const unsigned char *item = sc->buf + r * c->def.itemsize;
	int64_t a, b, base;
	int32_t code;

	*missing = c->def.nullable && sc->nulls[r];
	if (*missing)
		return 0;
	switch (c->def.type.kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		memcpy(&base, sc->buf, 8);
		memcpy(&a, item, 8);
		memcpy(&b, item + 8, 8);
		return ctl_format_text(out, c->def.type.kind,
				       (const unsigned char *)sc->data.p + (a - base), (size_t)(b - a),
				       style);
	case TFS_CATEGORY:
		memcpy(&code, item, 4);
		if (code < 0) {
			*missing = true;
			return 0;
		}
		a = c->cats.offsets[code];
		return ctl_format_text(out, TFS_UTF8, (const unsigned char *)c->cats.bytes + a,
				       (size_t)(c->cats.offsets[code + 1] - a), style);
	default:
		return ctl_format_item(out, &c->def, item, style);
	}
}

void ctl_scan_close(struct ctl_scan *s)
{
	for (size_t i = 0; s->t && s->cols && i < s->t->ncols; i++) {
		struct ctl_scol *sc = &s->cols[i];

		if (sc->fd >= 0)
			close(sc->fd);
		if (sc->data_fd >= 0)
			close(sc->data_fd);
		if (sc->null_fd >= 0)
			close(sc->null_fd);
		free(sc->buf);
		free(sc->nulls);
		ctl_str_free(&sc->data);
	}
	free(s->cols);
	memset(s, 0, sizeof(*s));
}

/* ---- CSV import ------------------------------------------------------ */

/* One CSV column during import. */
struct icol {
	struct tfs_coldef def;
	bool known;   /* the table has it: values are checked, not guessed */
	bool changed; /* known, and its data size or categories change */
	struct ctl_guess guess;
	unsigned char *buf;   /* values: one row in pass 1, a block in pass 2; utf8/binary:
				 the end offsets of the block's rows */
	unsigned char *nulls; /* the block's mask, nullable columns */
	struct ctl_str data;  /* utf8/binary: bytes not yet written */
	uint64_t data_len;    /* utf8/binary: bytes counted (pass 1) or converted (pass 2) */
	uint64_t data_done;   /* utf8/binary: bytes written */
	struct ctl_strset codes; /* category: each category with its code */
	struct ctl_strset fresh; /* known category: values not among its categories */
	struct tfs_cats cats;	 /* known category: its categories and the fresh ones */
	int fd, data_fd, null_fd;
};

struct import {
	const char *table, *path;
	struct ctl_csv csv;
	struct ctl_table t;
	bool exists;
	int lock; /* LOCK_EX on meta.json from loading t to the last write */
	size_t ncols;
	struct icol *cols;
	uint64_t rows, block;
};

static int flush_data(struct icol *c)
{
	if (ctl_pwrite_full(c->data_fd, c->data.p, c->data.len, c->data_done, c->def.name))
		return -1;
	c->data_done += c->data.len;
	ctl_str_clear(&c->data);
	return 0;
}

static int flush_block(struct import *im, uint64_t first, uint64_t count)
{
	for (size_t i = 0; i < im->ncols; i++) {
		struct icol *c = &im->cols[i];
		/* utf8/binary: the offset of row r ends it, at index r + 1 */
		uint64_t at = (first + is_text(&c->def)) * c->def.itemsize;

		if (ctl_pwrite_full(c->fd, c->buf, count * c->def.itemsize, at, c->def.name) ||
		    (c->def.nullable &&
		     ctl_pwrite_full(c->null_fd, c->nulls, count, first, c->def.name)))
			return -1;
	}
	return 0;
}

/* Reports a bad value of field i of the current record. */
static int bad_field(struct import *im, size_t i, const char *why)
{
	ctl_err("import", "%s:%" PRIu64 ": column '%s': %s", im->path, im->csv.lines[i],
		im->cols[i].def.name, why);
	return -1;
}

/* The text of a utf8, binary or category field as stored: binary fields
 * are decoded from the \xHH escapes export writes, in place. */
static size_t text_value(const struct icol *c, char *f, size_t len)
{
	if (c->def.type.kind != TFS_BINARY)
		return len;
	return ctl_bytes_decode(f, (unsigned char *)f, len);
}

/* Field i of the current record in a column the table has (or, in pass 2,
 * any column): checked in pass 1, converted into row k of the block in
 * pass 2.  0 or -1 (reported). */
static int known_field(struct import *im, size_t i, bool write, uint64_t k)
{
	struct icol *c = &im->cols[i];
	char *f = im->csv.fields[i];
	size_t len = im->csv.lens[i];
	bool missing = ctl_field_missing(&c->def.type, f, len, im->csv.quoted[i]);
	enum tfs_kind kind = c->def.type.kind;
	unsigned char *dst = c->buf + (write ? k : 0) * c->def.itemsize;
	const char *why;
	int32_t code;
	long id;

	if (c->def.nullable && write)
		c->nulls[k] = missing;
	if (missing && !c->def.nullable &&
	    (kind == TFS_BOOL || kind == TFS_INT || kind == TFS_UINT))
		return bad_field(im, i, "a missing value (empty field) in a column that is not "
					"nullable");
	if (kind == TFS_UTF8 && !missing && ctl_csv_check_utf8(&im->csv, i, c->def.name))
		return -1;
	switch (kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		len = missing ? 0 : text_value(c, f, len);
		if (write && ctl_str_add(&c->data, f, len)) {
			ctl_err("import", "%s", strerror(ENOMEM));
			return -1;
		}
		/* the bytes go out as they fill a chunk, whatever the block */
		if (write && c->data.len >= CTL_CHUNK && flush_data(c))
			return -1;
		c->data_len += len;
		if (write)
			memcpy(dst, &c->data_len, 8);
		return 0;
	case TFS_CATEGORY:
		id = missing ? -1 : ctl_strset_find(&c->codes, f, len);
		if (write && id < 0 && !missing) {
			ctl_err("import", "%s: changed while importing", im->path);
			return -1;
		}
		if (id < 0 && !missing && !write) {
			/* a new category goes into meta.json, which holds UTF-8 only */
			if (ctl_csv_check_utf8(&im->csv, i, c->def.name))
				return -1;
			if (memchr(f, '\0', len))
				return bad_field(im, i, "a category cannot hold a NUL byte");
			if (ctl_strset_add(&c->fresh, f, len) < 0) {
				ctl_err("import", "%s", strerror(ENOMEM));
				return -1;
			}
			if (c->fresh.n > CTL_CAT_MAX || c->fresh.bytes > CTL_CAT_BYTES)
				return bad_field(im, i, "too many values that are not among its "
							"categories (add them to meta.json first)");
		}
		code = (int32_t)id;
		if (write)
			memcpy(dst, &code, 4);
		return 0;
	default:
		if (missing && c->def.nullable) {
			memset(dst, 0, c->def.itemsize); /* zero under a null */
			return 0;
		}
		return ctl_parse_item(&c->def, f, dst, &why) ? bad_field(im, i, why) : 0;
	}
}

/* One pass over the records.  The first checks the values of known columns,
 * guesses the types of new ones and counts rows; the second converts every
 * value into blocks of rows written to the columns in place. */
static int csv_pass(struct import *im, bool write, off_t size)
{
	struct ctl_progress prog;
	uint64_t row = 0, k = 0;
	struct icol *c;
	int rc;

	ctl_progress_start(&prog, write ? "importing" : "checking", (uint64_t)size);
	/* The ETA while checking includes the import pass still to come. */
	prog.after = write ? 0 : (uint64_t)size;
	while ((rc = ctl_csv_next(&im->csv)) > 0) {
		if (im->csv.nfields != im->ncols) {
			ctl_err("import", "%s:%" PRIu64 ": expected %zu fields, got %zu", im->path,
				im->csv.lineno, im->ncols, im->csv.nfields);
			rc = -1;
			break;
		}
		if (write && row + k >= im->rows)
			break;
		for (size_t i = 0; i < im->ncols && rc > 0; i++) {
			c = &im->cols[i];
			if (write || c->known) {
				if (known_field(im, i, write, k))
					rc = -1;
			} else if (ctl_csv_check_utf8(&im->csv, i, c->def.name)) {
				rc = -1;
			} else if (ctl_guess_update(&c->guess, im->csv.fields[i], im->csv.lens[i],
						    im->csv.quoted[i])) {
				ctl_err("import", "%s", strerror(ENOMEM));
				rc = -1;
			}
		}
		if (rc < 0)
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
	if (rc < 0)
		return -1;
	if (rc > 0 || (write && row + k != im->rows)) {
		ctl_err("import", "%s: changed while importing", im->path);
		return -1;
	}
	if (!write || flush_block(im, row, k))
		return write ? -1 : 0;
	for (size_t i = 0; i < im->ncols; i++) {
		c = &im->cols[i];
		if (is_text(&c->def) && (flush_data(c) || c->data_len != c->def.data_bytes)) {
			if (c->data_len != c->def.data_bytes)
				ctl_err("import", "%s: changed while importing", im->path);
			return -1;
		}
	}
	return 0;
}

/* Opens a file of column c for writing: 0 or -1 (reported). */
static int open_write(struct import *im, struct icol *c, enum tfs_role r, int *fd)
{
	char path[4096], file[TFS_FILE_NAME_MAX];

	tfs_role_file(c->def.name, r, file);
	if (ctl_path(path, sizeof(path), im->table, file))
		return -1;
	*fd = open(path, O_WRONLY | O_CLOEXEC);
	if (*fd < 0) {
		ctl_err(path, "%s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Gets ready for pass 2: block buffers, open columns, back to line 2. */
static int csv_rewind(struct import *im)
{
	uint64_t widest = 1, rowbytes = 0, zero = 0;
	void *buf;

	for (size_t i = 0; i < im->ncols; i++) {
		if (im->cols[i].def.itemsize > widest)
			widest = im->cols[i].def.itemsize;
		rowbytes += im->cols[i].def.itemsize + im->cols[i].def.nullable;
	}
	im->block = ctl_block_rows(rowbytes, widest);
	for (size_t i = 0; i < im->ncols; i++) {
		struct icol *c = &im->cols[i];

		c->data_len = 0;
		if (!(buf = realloc(c->buf, im->block * c->def.itemsize)) ||
		    (c->def.nullable && !(c->nulls = malloc(im->block)))) {
			c->buf = buf ? buf : c->buf;
			ctl_err("import", "%s", strerror(ENOMEM));
			return -1;
		}
		c->buf = buf;
		if (open_write(im, c, TFS_ROLE_MAIN, &c->fd) ||
		    (c->def.nullable && open_write(im, c, TFS_ROLE_NULL, &c->null_fd)) ||
		    (is_text(&c->def) &&
		     (open_write(im, c, TFS_ROLE_DATA, &c->data_fd) ||
		      ctl_pwrite_full(c->fd, &zero, 8, 0, c->def.name))))
			return -1;
	}
	im->csv.nlines = 0;
	im->csv.nbytes = 0;
	if (fseeko(im->csv.f, 0, SEEK_SET) != 0 || ctl_csv_next(&im->csv) <= 0) {
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

	if (ctl_csv_next(&im->csv) <= 0) {
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

		c->fd = c->data_fd = c->null_fd = -1;
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

/* The categories of a category column as a set: each with its code. */
static int codes_of(struct icol *c)
{
	const struct tfs_cats *k = c->def.cats;

	for (uint64_t j = 0; k && j < k->n; j++)
		if (ctl_strset_add(&c->codes, k->bytes + k->offsets[j],
				   (size_t)(k->offsets[j + 1] - k->offsets[j])) < 0)
			return -1;
	return 0;
}

/* A known category column that met values not among its categories gains
 * them, after the ones it has (codes never change meaning), sorted. */
static int grow_categories(struct icol *c)
{
	const struct tfs_cats *old = c->def.cats;
	struct tfs_cats add;
	uint64_t n0 = old ? old->n : 0, b0 = n0 ? (uint64_t)old->offsets[n0] : 0;

	if (ctl_strset_sorted(&c->fresh, &add))
		return -1;
	c->cats.n = n0 + add.n;
	c->cats.offsets = malloc((c->cats.n + 1) * sizeof(*c->cats.offsets));
	c->cats.bytes = malloc(b0 + (uint64_t)add.offsets[add.n] + 1);
	if (!c->cats.offsets || !c->cats.bytes) {
		free(add.offsets);
		free(add.bytes);
		return -1;
	}
	c->cats.offsets[0] = 0;
	for (uint64_t j = 1; j <= n0; j++)
		c->cats.offsets[j] = old->offsets[j];
	for (uint64_t j = 1; j <= add.n; j++)
		c->cats.offsets[n0 + j] = (int64_t)b0 + add.offsets[j];
	if (b0)
		memcpy(c->cats.bytes, old->bytes, b0);
	memcpy(c->cats.bytes + b0, add.bytes, (size_t)add.offsets[add.n]);
	free(add.offsets);
	free(add.bytes);
	c->def.cats = &c->cats;
	c->def.ncat = c->cats.n;
	c->def.dict_bytes = (uint64_t)c->cats.offsets[c->cats.n];
	ctl_strset_free(&c->codes);
	return codes_of(c);
}

/* After pass 1: the types of new columns, the new sizes and categories of
 * known ones.  Fills doc with the columns the schema document gives (new
 * and changed ones).  0 or -1 (reported). */
static int settle_columns(struct import *im, struct tfs_coldef *doc, size_t *ndoc)
{
	const char *note;

	*ndoc = 0;
	for (size_t i = 0; i < im->ncols; i++) {
		struct icol *c = &im->cols[i];

		if (!c->known) {
			if (ctl_guess_type(&c->guess, im->rows, &c->def, &note))
				goto out_nomem;
			if (note)
				ctl_err("import", "%s: column '%s' stored as text (utf8): %s",
					im->path, c->def.name, note);
			ctl_strset_free(&c->guess.distinct);
			doc[(*ndoc)++] = c->def;
		} else if (is_text(&c->def) && c->data_len != c->def.data_bytes) {
			c->def.data_bytes = c->data_len;
			c->def.has_data_bytes = true;
			c->changed = true;
		} else if (c->def.type.kind == TFS_CATEGORY && c->fresh.n) {
			if (grow_categories(c))
				goto out_nomem;
			c->changed = true;
		}
		if (c->changed)
			doc[(*ndoc)++] = c->def;
		if (c->def.type.kind == TFS_CATEGORY && !c->codes.n && codes_of(c))
			goto out_nomem;
	}
	return 0;
out_nomem:
	ctl_err("import", "%s", strerror(ENOMEM));
	return -1;
}

static int import_csv(const char *table, const char *path)
{
	struct import im = {.table = table, .path = path, .csv.path = path, .lock = -1};
	struct tfs_coldef *doc = NULL;
	size_t ndoc = 0, nfresh = 0;
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
	if (csv_header(&im))
		goto out_fail;
	for (size_t i = 0; i < im.ncols; i++)
		if (im.cols[i].known && im.cols[i].def.type.kind == TFS_CATEGORY &&
		    codes_of(&im.cols[i])) {
			ctl_err("import", "%s", strerror(ENOMEM));
			goto out_fail;
		}
	if (csv_pass(&im, false, st.st_size))
		goto out_fail;
	if (!(doc = calloc(im.ncols ? im.ncols : 1, sizeof(*doc)))) {
		ctl_err("import", "%s", strerror(ENOMEM));
		goto out_fail;
	}
	if (settle_columns(&im, doc, &ndoc))
		goto out_fail;
	for (size_t i = 0; i < im.ncols; i++)
		nfresh += !im.cols[i].known;
	if (im.exists && ctl_rows_check(&im.t, im.rows, im.ncols - nfresh))
		goto out_fail;
	/* The schema first (rows, data sizes, categories, nullable), then the
	 * data through the files it sized. */
	if ((!im.exists || ndoc || im.rows != im.t.rows) &&
	    ctl_schema_apply(table, table, im.exists ? CTL_MKDIR_NO : CTL_MKDIR_MUST, true, im.rows,
			     doc, ndoc, &im.lock))
		goto out_fail;
	if (csv_rewind(&im) || csv_pass(&im, true, st.st_size))
		goto out_fail;
	for (size_t i = 0; i < im.ncols; i++) {
		int *fds[] = {&im.cols[i].fd, &im.cols[i].data_fd, &im.cols[i].null_fd};

		for (int j = 0; j < 3; j++) {
			rc = *fds[j] >= 0 ? close(*fds[j]) : 0;
			*fds[j] = -1;
			if (rc) {
				ctl_err(im.cols[i].def.name, "%s", strerror(errno));
				goto out_fail;
			}
		}
	}
	rc = 0;
	goto out;

out_fail:
	rc = -1;
out:
	for (size_t i = 0; i < im.ncols; i++) {
		struct icol *c = &im.cols[i];

		if (c->fd >= 0)
			close(c->fd);
		if (c->data_fd >= 0)
			close(c->data_fd);
		if (c->null_fd >= 0)
			close(c->null_fd);
		free(c->buf);
		free(c->nulls);
		ctl_str_free(&c->data);
		ctl_guess_free(&c->guess);
		ctl_strset_free(&c->codes);
		ctl_strset_free(&c->fresh);
		free(c->cats.offsets);
		free(c->cats.bytes);
	}
	free(im.cols);
	free(doc);
	ctl_csv_close(&im.csv);
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

/* A CSV field of n bytes: vectors always quoted, an empty text too (an
 * empty field is a missing value), other values when they must be. */
static int csv_field(FILE *f, const char *s, size_t n, bool quote)
{
	if (!quote && !memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\r', n) &&
	    !memchr(s, '\n', n) && (!n || (s[0] != ' ' && s[n - 1] != ' ')))
		return fwrite(s, 1, n, f) == n ? 0 : -1;
	putc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			putc('"', f);
		putc(s[i], f);
	}
	return putc('"', f) == EOF ? -1 : 0;
}

/* Whether an empty value of a column is text, written "" to tell it from
 * a missing one. */
static bool text_kind(const struct tfs_coldef *d)
{
	return tfs_type_is_varlen(&d->type) || d->type.kind == TFS_BYTES;
}

static int export_rows(const struct ctl_table *t, struct ctl_scan *scan, FILE *f)
{
	struct ctl_str cell = {0};
	struct ctl_progress prog;
	uint64_t rowbytes = 0;
	bool missing;
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
				if (ctl_scan_cell(&cell, scan, i, r, CTL_FULL, &missing)) {
					ctl_err("export", "%s", strerror(ENOMEM));
					more = -1;
				} else if (i && putc(',', f) == EOF) {
					more = 0; /* ferror reports it */
				} else if (!missing &&
					   csv_field(f, cell.p ? cell.p : "", cell.len,
						     d->ndim > 0 || (!cell.len && text_kind(d)))) {
					more = 0;
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
