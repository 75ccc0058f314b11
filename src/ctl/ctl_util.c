/* tablectl plumbing: paths, loading meta.json and .status, schema writes,
 * the lock protocol between tablectl processes, exact reads and writes,
 * growing strings and the progress line. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "io_full.h"
#include "mem.h"

/* Column files are little-endian and tablectl reads them with memcpy. */
#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "tablectl assumes a little-endian host"
#endif

const char *ctl_mount = "/mnt/tables";

void ctl_err(const char *what, const char *fmt, ...)
{
	va_list ap;

	fputs("tablectl: ", stderr);
	if (what)
		fprintf(stderr, "%s: ", what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ctl_path(char *buf, size_t len, const char *table, const char *file)
{
	int n;

	if (file)
		n = snprintf(buf, len, "%s/%s/%s", ctl_mount, table, file);
	else
		n = snprintf(buf, len, "%s/%s", ctl_mount, table);
	if (n < 0 || (size_t)n >= len) {
		ctl_err(table, "path too long");
		return -1;
	}
	return 0;
}

int ctl_check_name(const char *what, const char *name)
{
	char why[TFS_WHY_MAX];

	if (tfs_name_check(name, why, sizeof(why)) == 0)
		return 0;
	ctl_err(what, "%s", why);
	return -1;
}

int ctl_read_all(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	size_t cap = 0;
	ssize_t n;
	int rc;

	*out = NULL;
	if (!f)
		return -errno;
	/* The files read here (meta.json, .status) hold no NUL: one call. */
	n = getdelim(out, &cap, '\0', f);
	rc = n < 0 && ferror(f) ? -errno : 0;
	fclose(f);
	if (!rc && n < 0) { /* empty file */
		n = 0;
		if (!*out)
			*out = malloc(1);
		if (*out)
			**out = '\0';
		else
			rc = -ENOMEM;
	}
	if (rc) {
		free(*out);
		*out = NULL;
	} else if (len) {
		*len = (size_t)n;
	}
	return rc;
}

int ctl_table_load(const char *table, struct ctl_table *t)
{
	char path[4096], why[TFS_WHY_MAX] = "";
	struct tfs_doc d = {0};
	cJSON *doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	if (ctl_check_name("table", table) || ctl_path(path, sizeof(path), table, "meta.json"))
		return -1;
	rc = ctl_read_all(path, &buf, &len);
	if (rc == -ENOENT || rc == -ENOTDIR) {
		rc = ctl_table_exists(table);
		if (rc >= 0)
			ctl_err(table, "%s", rc ? "not a table (no meta.json)" : "no such table");
		return -1;
	}
	if (rc < 0) {
		ctl_err(path, "%s", strerror(-rc));
		return -1;
	}
	/* The generated meta.json is a schema document as the daemon takes
	 * them: read it with the daemon's own parser. */
	if (tfs_doc_parse(buf, len, &d, why, sizeof(why)) != 0 || !d.has_rows)
		goto out_bad;
	doc = cJSON_ParseWithLength(buf, len);
	if (tfs_json_uint(cJSON_GetObjectItemCaseSensitive(doc, "version"), UINT64_MAX,
			  &t->version) != 0)
		t->version = 0;
	snprintf(t->name, sizeof(t->name), "%s", table);
	t->rows = d.rows;
	t->ncols = d.ncols;
	t->cols = calloc(t->ncols ? t->ncols : 1, sizeof(*t->cols));
	if (!t->cols) {
		ctl_err(table, "%s", strerror(ENOMEM));
		goto out_fail;
	}
	for (size_t i = 0; i < d.ncols; i++) {
		struct ctl_col *c = &t->cols[i];
		uint64_t b;

		c->def = d.cols[i];
		c->def.cats = NULL;
		/* the categories meta.json lists, taken over from the document */
		if (d.cols[i].cats) {
			c->cats = *d.cols[i].cats;
			memset(&d.cats[i], 0, sizeof(d.cats[i]));
			c->def.cats = &c->cats;
		}
		for (int r = 0; r < TFS_NROLES; r++)
			if (tfs_coldef_file_bytes(&c->def, (enum tfs_role)r, d.rows, &b))
				c->nbytes += b;
		/* A column's file is named after it (the contract's layout). */
		snprintf(c->file, sizeof(c->file), "%s", d.cols[i].name);
	}
	tfs_doc_free(&d);
	cJSON_Delete(doc);
	free(buf);
	return 0;

out_bad:
	ctl_err(path, "malformed meta.json%s%s", *why ? ": " : "", why);
out_fail:
	ctl_table_free(t);
	tfs_doc_free(&d);
	cJSON_Delete(doc);
	free(buf);
	return -1;
}

void ctl_table_free(struct ctl_table *t)
{
	for (size_t i = 0; t->cols && i < t->ncols; i++) {
		free(t->cols[i].cats.offsets);
		free(t->cols[i].cats.bytes);
	}
	free(t->cols);
	t->cols = NULL;
	t->ncols = 0;
}

long ctl_table_find(const struct ctl_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].def.name, name) == 0)
			return (long)i;
	return -1;
}

int ctl_table_exists(const char *table)
{
	char path[4096];
	struct stat st;

	if (ctl_path(path, sizeof(path), table, NULL))
		return -1;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		ctl_err(table, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		ctl_err(table, "not a table (not a directory)");
		return -1;
	}
	return 1;
}

cJSON *ctl_status_load(bool *absent)
{
	char path[4096];
	char *buf;
	cJSON *doc;
	int rc;

	*absent = false;
	if (ctl_path(path, sizeof(path), ".status", NULL))
		return NULL;
	rc = ctl_read_all(path, &buf, NULL);
	if (rc == -ENOENT) {
		*absent = true;
		return NULL;
	}
	if (rc < 0) {
		ctl_err(path, "%s", strerror(-rc));
		return NULL;
	}
	doc = cJSON_Parse(buf);
	free(buf);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		ctl_err(path, "malformed status document");
		return NULL;
	}
	return doc;
}

/* The keys of the new kinds a column gives: nullable when it is, the size
 * of a utf8 or binary column's data file when it has one to set (else a
 * new column's is empty and an existing one's kept), a category column's
 * categories
 * (those it has and those it gains: codes keep their meaning).  -1 when out
 * of memory. */
static int kind_keys(cJSON *c, const struct tfs_coldef *def)
{
	const struct tfs_cats *k = def->cats;
	cJSON *list;
	char *one;

	if (def->nullable && !cJSON_AddTrueToObject(c, "nullable"))
		return -1;
	if (def->has_data_bytes && !cJSON_AddNumberToObject(c, "data_nbytes", (double)def->data_bytes))
		return -1;
	if (def->type.kind != TFS_CATEGORY || !k)
		return 0;
	if (!(list = cJSON_AddArrayToObject(c, "categories")))
		return -1;
	for (uint64_t i = 0; i < k->n; i++) {
		size_t len = (size_t)(k->offsets[i + 1] - k->offsets[i]);

		if (!(one = malloc(len + 1)))
			return -1;
		memcpy(one, k->bytes + k->offsets[i], len);
		one[len] = '\0';
		if (!cJSON_AddItemToArray(list, cJSON_CreateString(one))) {
			free(one);
			return -1;
		}
		free(one);
	}
	return 0;
}

static char *schema_doc(bool has_rows, uint64_t rows, const struct tfs_coldef *cols, size_t n)
{
	cJSON *doc = cJSON_CreateObject(), *arr, *c, *shape;
	char type[TFS_TYPE_STR_MAX];
	char *text = NULL;

	if (!doc)
		return NULL;
	if (has_rows && !cJSON_AddNumberToObject(doc, "rows", (double)rows))
		goto out;
	arr = cJSON_AddArrayToObject(doc, "columns");
	for (size_t i = 0; arr && i < n; i++) {
		c = cJSON_CreateObject();
		if (!c || !cJSON_AddItemToArray(arr, c))
			goto out;
		tfs_type_name(&cols[i].type, type, sizeof(type));
		if (!cJSON_AddStringToObject(c, "name", cols[i].name) ||
		    !cJSON_AddStringToObject(c, "type", type) ||
		    !(shape = cJSON_AddArrayToObject(c, "shape")))
			goto out;
		for (unsigned d = 0; d < cols[i].ndim; d++)
			if (!cJSON_AddItemToArray(shape,
						  cJSON_CreateNumber((double)cols[i].shape[d])))
				goto out;
		if (kind_keys(c, &cols[i]))
			goto out;
	}
	if (arr)
		text = cJSON_PrintUnformatted(doc);
out:
	cJSON_Delete(doc);
	return text;
}

bool ctl_last_error(cJSON *status, const char *table, char *buf, size_t len)
{
	const cJSON *tables = cJSON_GetObjectItemCaseSensitive(status, "tables"), *t, *name, *err;

	cJSON_ArrayForEach(t, tables)
	{
		name = cJSON_GetObjectItemCaseSensitive(t, "name");
		err = cJSON_GetObjectItemCaseSensitive(t, "last_error");
		if (cJSON_IsString(name) && strcmp(name->valuestring, table) == 0 &&
		    cJSON_IsString(err) && *err->valuestring) {
			snprintf(buf, len, "%s", err->valuestring);
			return true;
		}
	}
	return false;
}

/* Opens meta.json read-only (flags may add O_CREAT, for a table just made
 * in a plain directory) and locks it.  A lock another process holds is
 * waited for; on a terminal the wait is announced so it does not look like
 * a hang. */
static int lock_open(const char *what, const char *table, int op, int flags)
{
	char path[4096];
	int fd, rc;

	if (ctl_check_name(what, table) || ctl_path(path, sizeof(path), table, "meta.json"))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | flags, 0666);
	if (fd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			ctl_err(path, "%s", strerror(errno));
		else if ((rc = ctl_table_exists(table)) >= 0)
			ctl_err(table, "%s", rc ? "not a table (no meta.json)" : "no such table");
		return -1;
	}
	if (flock(fd, op | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK) {
		if (isatty(STDERR_FILENO) == 1)
			ctl_err(what, "waiting: %s/meta.json is locked by a process %s it", table,
				op == LOCK_SH ? "changing" : "using");
		while ((rc = flock(fd, op)) != 0 && errno == EINTR)
			;
		if (rc == 0)
			return fd;
	}
	ctl_err(path, "lock: %s", strerror(errno));
	close(fd);
	return -1;
}

int ctl_table_lock(const char *what, const char *table, int op)
{
	return lock_open(what, table, op, 0);
}

int ctl_table_version(const char *table, uint64_t *version)
{
	char path[4096];
	cJSON *doc;
	char *buf;
	int rc;

	if (ctl_path(path, sizeof(path), table, "meta.json"))
		return -1;
	rc = ctl_read_all(path, &buf, NULL);
	if (rc < 0) {
		ctl_err(path, "%s", strerror(-rc));
		return -1;
	}
	doc = cJSON_Parse(buf);
	free(buf);
	rc = tfs_json_uint(cJSON_GetObjectItemCaseSensitive(doc, "version"), UINT64_MAX, version)
		 ? -1
		 : 0;
	cJSON_Delete(doc);
	if (rc)
		ctl_err(path, "malformed meta.json: no version");
	return rc;
}

int ctl_table_read(const char *what, const char *table,
		   int (*reader)(const struct ctl_table *t, void *arg, int attempt), void *arg)
{
	struct ctl_table t = {0};
	uint64_t now = 0;
	int lock, rc = -1;

	lock = ctl_table_lock(what, table, LOCK_SH);
	if (lock < 0)
		return -1;
	for (int attempt = 0;; attempt++) {
		if (ctl_table_load(table, &t)) {
			rc = -1;
			break;
		}
		rc = reader(&t, arg, attempt);
		if (rc != -1 && ctl_table_version(table, &now))
			rc = -1;
		if (rc == -1 || now == t.version)
			break;
		if (attempt == CTL_RETRIES) {
			ctl_err(what,
				"%s keeps changing while it is read (version %" PRIu64
				" became %" PRIu64 ", %d tries): something that does not lock "
				"meta.json is changing it; try again when it is done",
				table, t.version, now, attempt + 1);
			rc = -1;
			break;
		}
		ctl_table_free(&t);
	}
	/* The version held still, yet a column was short or missing: only a
	 * daemon bug or a non-tablefs directory does that. */
	if (rc == CTL_CHANGED) {
		ctl_err(what, "%s: a column is missing or shorter than its table", table);
		rc = -1;
	}
	ctl_table_free(&t);
	close(lock);
	return rc;
}

int ctl_schema_apply(const char *what, const char *table, enum ctl_mkdir mk, bool has_rows,
		     uint64_t rows, const struct tfs_coldef *cols, size_t ncols, int *lock)
{
	char dir[4096], meta[4096], reason[TFS_WHY_MAX * 2];
	int fd, err = 0, rc = -1, own = -1;
	bool created = false;
	cJSON *status;
	bool absent;
	char *text;

	if (ctl_path(dir, sizeof(dir), table, NULL) ||
	    ctl_path(meta, sizeof(meta), table, "meta.json"))
		return -1;
	text = schema_doc(has_rows, rows, cols, ncols);
	if (!text) {
		ctl_err(what, "%s", strerror(ENOMEM));
		return -1;
	}
	if (mk != CTL_MKDIR_NO) {
		if (mkdir(dir, 0777) == 0) {
			created = true;
		} else if (errno == EEXIST && mk == CTL_MKDIR_MUST) {
			ctl_err(what, "%s was created by someone else meanwhile; run again", table);
			goto out_free;
		} else if (errno != EEXIST || ctl_table_exists(table) != 1) {
			if (errno != EEXIST)
				ctl_err(what, "%s", strerror(errno));
			goto out_free;
		}
	}
	if (!lock || *lock < 0) {
		own = lock_open(what, table, LOCK_EX, created ? O_CREAT : 0);
		if (own < 0)
			goto out_created;
	}
	/* The lock is on its own read-only descriptor, as this one truncates.
	 * The daemon applies the document as soon as it is complete, so its
	 * verdict comes back from write, at the latest from close.  O_CREAT
	 * only matters on a plain directory; in the mount meta.json exists. */
	fd = open(meta, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		err = errno;
		goto out_refused;
	}
	err = -tfs_write_full(fd, text, strlen(text));
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err) {
		if (lock && own >= 0)
			*lock = own; /* the caller writes its data under it */
		else if (own >= 0)
			close(own);
		rc = 0;
		goto out_free;
	}
out_refused:
	snprintf(reason, sizeof(reason), "%s", strerror(err));
	if (err != ENOENT && err != EACCES) {
		status = ctl_status_load(&absent);
		ctl_last_error(status, table, reason, sizeof(reason));
		cJSON_Delete(status);
	}
	ctl_err(what, "%s", reason);
	if (own >= 0)
		close(own);
out_created:
	if (created) {
		unlink(meta); /* needed on a plain directory, a no-op in the mount */
		rmdir(dir);
	}
out_free:
	free(text);
	return rc;
}

int ctl_pread_full(int fd, void *buf, size_t len, uint64_t off, const char *what)
{
	ssize_t n = tfs_pread_full(fd, buf, len, off);

	if ((size_t)n == len)
		return 0;
	errno = n < 0 ? (int)-n : ENODATA;
	if (what)
		ctl_err(what, "%s", n < 0 ? strerror(errno) : "column shorter than its table");
	return -1;
}

int ctl_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *what)
{
	int rc = tfs_pwrite_full(fd, buf, len, off);

	if (rc == 0)
		return 0;
	errno = -rc;
	if (what)
		ctl_err(what, "%s", strerror(errno));
	return -1;
}

/* Makes room for n more bytes and the terminating NUL. */
static int str_grow(struct ctl_str *s, size_t n)
{
	size_t cap = s->cap ? s->cap : 64;
	char *np;

	if (s->len + n + 1 <= s->cap)
		return 0;
	while (cap < s->len + n + 1)
		cap *= 2;
	np = realloc(s->p, cap);
	if (!np)
		return -1;
	s->p = np;
	s->cap = cap;
	return 0;
}

int ctl_str_add(struct ctl_str *s, const char *p, size_t n)
{
	if (str_grow(s, n))
		return -1;
	memcpy(s->p + s->len, p, n);
	s->len += n;
	s->p[s->len] = '\0';
	return 0;
}

int ctl_str_printf(struct ctl_str *s, const char *fmt, ...)
{
	size_t room = s->cap - s->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->p ? s->p + s->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n >= room) {
		if (str_grow(s, (size_t)n))
			return -1;
		va_start(ap, fmt);
		vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
		va_end(ap);
	}
	s->len += (size_t)n;
	return 0;
}

void ctl_str_clear(struct ctl_str *s)
{
	s->len = 0;
	if (s->p)
		s->p[0] = '\0';
}

void ctl_str_free(struct ctl_str *s)
{
	free(s->p);
	memset(s, 0, sizeof(*s));
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

uint64_t ctl_block_rows(uint64_t rowbytes, uint64_t widest)
{
	/* Per column a block as large as CTL_CHUNK allows keeps the calls few
	 * on narrow tables; the total cap keeps 1,000 columns from taking
	 * 1,000 chunks. */
	uint64_t rows = CTL_BLOCK_BYTES / (rowbytes ? rowbytes : 1);

	if (widest && CTL_CHUNK / widest < rows)
		rows = CTL_CHUNK / widest;
	return rows ? rows : 1;
}

void ctl_progress_start(struct ctl_progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) == 1;
	p->label = label;
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void ctl_progress_update(struct ctl_progress *p, uint64_t done)
{
	char d[32], t[32], r[32], eta[32] = "";
	struct timespec now;
	double secs, rate;
	unsigned long left;

	if (!p->on)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (elapsed(&p->last, &now) < 0.1)
		return;
	p->last = now;
	secs = elapsed(&p->start, &now);
	rate = secs > 0 ? (double)done / secs : 0;
	tfs_size_format(done, d, sizeof(d));
	tfs_size_format(p->total, t, sizeof(t));
	tfs_size_format((uint64_t)rate, r, sizeof(r));
	if (rate > 0 && done <= p->total) {
		left = (unsigned long)((double)(p->total - done + p->after) / rate + 0.5);
		snprintf(eta, sizeof(eta), "  ETA %lu:%02lu:%02lu", left / 3600, left / 60 % 60,
			 left % 60);
	}
	fprintf(stderr, "\r%s %3u%%  %s / %s  %s/s%s\033[K", p->label,
		p->total ? (unsigned)(done * 100 / p->total) : 100, d, t, r, eta);
	fflush(stderr);
	p->drawn = true;
}

void ctl_progress_end(struct ctl_progress *p)
{
	if (p->drawn)
		fputs("\r\033[K", stderr);
	p->drawn = false;
}

/* A table keeps columns the file does not name only if its rows stay. */
int ctl_rows_check(const struct ctl_table *t, uint64_t rows, size_t named)
{
	if (named == t->ncols || rows == t->rows)
		return 0;
	ctl_err("import",
		"%s has %" PRIu64 " rows and columns not in the file, which has %" PRIu64 " rows",
		t->name, t->rows, rows);
	return -1;
}
