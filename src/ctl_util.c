#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
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

/* A non-negative integral JSON number; rejects fractions and huge values. */
static int json_u64(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *v = key ? cJSON_GetObjectItemCaseSensitive(obj, key) : obj;

	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= 18446744073709551616.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

static int load_col(const cJSON *c, uint64_t rows, struct ctl_col *col, char *why, size_t wl)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
	const cJSON *shape = cJSON_GetObjectItemCaseSensitive(c, "shape");
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(c, "file");
	const cJSON *dim;
	struct tfs_coldef *d = &col->def;

	if (!cJSON_IsString(name) || tfs_name_check(name->valuestring, why, wl) != 0)
		return -1;
	snprintf(d->name, sizeof(d->name), "%s", name->valuestring);
	if (!cJSON_IsString(type))
		type = cJSON_GetObjectItemCaseSensitive(c, "dtype");
	if (!cJSON_IsString(type) || tfs_type_parse(type->valuestring, &d->type, why, wl) != 0)
		return -1;
	d->ndim = 0;
	d->itemsize = d->type.size;
	cJSON_ArrayForEach(dim, shape)
	{
		if (d->ndim == TFS_MAX_DIMS || json_u64(dim, NULL, &d->shape[d->ndim]) != 0)
			return -1;
		d->itemsize *= d->shape[d->ndim++];
		if (d->itemsize > TFS_ITEMSIZE_MAX)
			return -1;
	}
	if (json_u64(c, "nbytes", &col->nbytes) != 0)
		col->nbytes = rows * d->itemsize;
	/* The file name is the column name today; honour "file" if it ever
	 * differs, but never let it point outside the table. */
	if (cJSON_IsString(file) && tfs_name_check(file->valuestring, why, wl) == 0)
		snprintf(col->file, sizeof(col->file), "%s", file->valuestring);
	else
		snprintf(col->file, sizeof(col->file), "%s", d->name);
	return 0;
}

int ctl_table_load(const char *table, struct ctl_table *t)
{
	char path[4096], why[TFS_WHY_MAX] = "";
	const cJSON *cols, *c;
	cJSON *doc = NULL;
	char *buf = NULL;
	size_t i = 0;
	int rc;

	memset(t, 0, sizeof(*t));
	if (ctl_check_name("table", table) || ctl_path(path, sizeof(path), table, "meta.json"))
		return -1;
	rc = ctl_read_all(path, &buf, NULL);
	if (rc == -ENOENT || rc == -ENOTDIR) {
		rc = ctl_table_exists(table);
		if (rc >= 0)
			ctl_err(table, rc ? "not a table (no meta.json)" : "no such table");
		return -1;
	}
	if (rc < 0) {
		ctl_err(path, "%s", strerror(-rc));
		return -1;
	}
	doc = cJSON_Parse(buf);
	cols = cJSON_GetObjectItemCaseSensitive(doc, "columns");
	if (!cJSON_IsObject(doc) || json_u64(doc, "rows", &t->rows) != 0 || !cJSON_IsArray(cols))
		goto out_bad;
	if (json_u64(doc, "version", &t->version) != 0)
		t->version = 0;
	snprintf(t->name, sizeof(t->name), "%s", table);
	t->ncols = (size_t)cJSON_GetArraySize(cols);
	t->cols = calloc(t->ncols ? t->ncols : 1, sizeof(*t->cols));
	if (!t->cols) {
		ctl_err(table, "%s", strerror(ENOMEM));
		goto out_fail;
	}
	cJSON_ArrayForEach(c, cols)
	{
		if (load_col(c, t->rows, &t->cols[i++], why, sizeof(why)) != 0)
			goto out_bad;
	}
	cJSON_Delete(doc);
	free(buf);
	return 0;

out_bad:
	ctl_err(path, "malformed meta.json%s%s", *why ? ": " : "", why);
out_fail:
	ctl_table_free(t);
	cJSON_Delete(doc);
	free(buf);
	return -1;
}

void ctl_table_free(struct ctl_table *t)
{
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
	}
	if (arr)
		text = cJSON_PrintUnformatted(doc);
out:
	cJSON_Delete(doc);
	return text;
}

/* The daemon's reason for the table's last refused schema change. */
static void last_error(const char *table, char *buf, size_t len)
{
	const cJSON *tables, *t, *name, *err;
	bool absent;
	cJSON *st = ctl_status_load(&absent);

	tables = cJSON_GetObjectItemCaseSensitive(st, "tables");
	cJSON_ArrayForEach(t, tables)
	{
		name = cJSON_GetObjectItemCaseSensitive(t, "name");
		err = cJSON_GetObjectItemCaseSensitive(t, "last_error");
		if (cJSON_IsString(name) && strcmp(name->valuestring, table) == 0 &&
		    cJSON_IsString(err) && *err->valuestring)
			snprintf(buf, len, "%s", err->valuestring);
	}
	cJSON_Delete(st);
}

int ctl_schema_apply(const char *what, const char *table, bool mkdir_first, bool has_rows,
		     uint64_t rows, const struct tfs_coldef *cols, size_t ncols)
{
	char dir[4096], meta[4096], reason[TFS_WHY_MAX * 2];
	bool created = false;
	size_t len, off = 0;
	char *text;
	int fd, err = 0, rc = -1;
	ssize_t w;

	if (ctl_path(dir, sizeof(dir), table, NULL) ||
	    ctl_path(meta, sizeof(meta), table, "meta.json"))
		return -1;
	text = schema_doc(has_rows, rows, cols, ncols);
	if (!text) {
		ctl_err(what, "%s", strerror(ENOMEM));
		return -1;
	}
	len = strlen(text);
	if (mkdir_first) {
		if (mkdir(dir, 0777) == 0)
			created = true;
		else if (errno != EEXIST || ctl_table_exists(table) != 1) {
			if (errno != EEXIST)
				ctl_err(what, "%s", strerror(errno));
			goto out_free;
		}
	}
	/* O_CREAT only matters on a plain directory; in the mount meta.json
	 * always exists.  The daemon applies the document as soon as it is
	 * complete, so its verdict comes back from write, at the latest from
	 * close. */
	fd = open(meta, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		err = errno;
		goto out_refused;
	}
	while (off < len) {
		w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && !err)
		err = errno;
	if (!err) {
		rc = 0;
		goto out_free;
	}
out_refused:
	snprintf(reason, sizeof(reason), "%s", strerror(err));
	if (err != ENOENT && err != EACCES)
		last_error(table, reason, sizeof(reason));
	if (created) {
		unlink(meta); /* needed on a plain directory, a no-op in the mount */
		rmdir(dir);
	}
	ctl_err(what, "%s", reason);
out_free:
	free(text);
	return rc;
}

/* Moves len bytes at off through pread or pwrite, resuming after short
 * transfers and EINTR. */
static int full_io(int fd, char *buf, size_t len, uint64_t off, bool wr, const char *what)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = wr ? pwrite(fd, buf + done, len - done, (off_t)(off + done))
		       : pread(fd, buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ctl_err(what, "%s",
				n < 0 ? strerror(errno)
				: wr  ? "short write"
				      : "column shorter than its table");
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int ctl_pread_full(int fd, void *buf, size_t len, uint64_t off, const char *what)
{
	return full_io(fd, buf, len, off, false, what);
}

int ctl_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *what)
{
	return full_io(fd, (char *)buf, len, off, true, what);
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
		left = (unsigned long)((double)(p->total - done) / rate + 0.5);
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

double ctl_half_to_double(uint16_t h)
{
	unsigned exp = (h >> 10) & 0x1f, man = h & 0x3ff;
	uint64_t bits = (uint64_t)(h & 0x8000) << 48;
	double d;

	if (exp == 0) {
		d = (double)man / 16777216.0; /* subnormal: man * 2^-24 */
		return (h & 0x8000) ? -d : d;
	}
	if (exp == 31)
		bits |= UINT64_C(0x7ff) << 52 | (uint64_t)man << 42;
	else
		bits |= (uint64_t)(exp - 15 + 1023) << 52 | (uint64_t)man << 42;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

uint16_t ctl_double_to_half(double d)
{
	uint64_t bits, sig, keep, rem, half;
	uint16_t sign;
	int e, shift;

	memcpy(&bits, &d, sizeof(bits));
	sign = (uint16_t)((bits >> 48) & 0x8000);
	e = (int)((bits >> 52) & 0x7ff);
	sig = bits & ((UINT64_C(1) << 52) - 1);
	if (e == 0x7ff)
		return sign | 0x7c00 | (sig ? 0x200 : 0);
	e -= 1023;
	if (e > 15)
		return sign | 0x7c00;
	if (e < -25)
		return sign;
	sig |= UINT64_C(1) << 52;
	/* Bits dropped: 42 for normals; subnormals are multiples of 2^-24. */
	shift = e >= -14 ? 42 : 28 - e;
	keep = sig >> shift;
	rem = sig & ((UINT64_C(1) << shift) - 1);
	half = UINT64_C(1) << (shift - 1);
	if (rem > half || (rem == half && (keep & 1)))
		keep++;
	if (e < -14)
		return sign | (uint16_t)keep; /* 1024 is the smallest normal */
	if (keep == 2048) {
		keep = 1024;
		if (++e > 15)
			return sign | 0x7c00;
	}
	return sign | (uint16_t)((e + 15) << 10) | (uint16_t)(keep - 1024);
}

static const char *unit_name(enum tfs_unit u)
{
	static const char *const names[] = {"", "s", "ms", "us", "ns"};

	return names[u];
}

/* An integer of 1, 2, 4 or 8 little-endian bytes, both ways. */
static void int_value(const struct tfs_type *t, const unsigned char *p, int64_t *sv, uint64_t *uv)
{
	unsigned bits = t->size * 8;

	*uv = 0;
	memcpy(uv, p, t->size);
	*sv = (int64_t)*uv;
	if (bits < 64 && (*uv >> (bits - 1)) & 1)
		*sv = (int64_t)(*uv | ~UINT64_C(0) << bits);
}

/* Shortest %.Ng that reads back as the same value, so export loses nothing
 * and 0.1 stays "0.1". */
static int float_full(struct ctl_str *s, const struct tfs_type *t, double v)
{
	char buf[40];
	int lo = t->size == 2 ? 3 : t->size == 4 ? 6 : 15, hi = lo + (t->size == 8 ? 2 : 3);
	double back;

	for (int prec = lo; prec <= hi; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		back = strtod(buf, NULL);
		if (prec == hi || back != back || (t->size == 8 && back == v) ||
		    (t->size == 4 && (float)back == (float)v) ||
		    (t->size == 2 && ctl_double_to_half(back) == ctl_double_to_half(v)))
			break;
	}
	return ctl_str_add(s, buf, strlen(buf));
}

static int format_datetime(struct ctl_str *s, enum tfs_unit u, int64_t v)
{
	static const int64_t per_sec[] = {1, 1, 1000, 1000000, 1000000000};
	static const int digits[] = {0, 0, 3, 6, 9};
	int64_t secs = v / per_sec[u], frac = v % per_sec[u];
	struct tm tm;
	time_t tt;

	if (frac < 0) {
		frac += per_sec[u];
		secs--;
	}
	tt = (time_t)secs;
	if (!gmtime_r(&tt, &tm))
		return ctl_str_printf(s, "%" PRId64 " %s", v, unit_name(u));
	if (ctl_str_printf(s, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec))
		return -1;
	return digits[u] ? ctl_str_printf(s, ".%0*" PRId64, digits[u], frac) : 0;
}

/* Bytes as text: trailing NULs dropped, backslash and non-printables as
 * \\ and \xNN; inside a vector also the characters that separate elements,
 * so import can split the list again. */
static int format_bytes(struct ctl_str *s, const unsigned char *p, size_t n, bool in_vector)
{
	char esc[8];

	while (n && p[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			if (ctl_str_add(s, "\\\\", 2))
				return -1;
		} else if (p[i] < 0x20 || p[i] >= 0x7f || (in_vector && strchr(" ,[]\"", p[i]))) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			if (ctl_str_add(s, esc, 4))
				return -1;
		} else if (ctl_str_add(s, (const char *)p + i, 1)) {
			return -1;
		}
	}
	return 0;
}

static int format_scalar(struct ctl_str *s, const struct tfs_type *t, const unsigned char *p,
			 enum ctl_style style, bool in_vector)
{
	int64_t sv;
	uint64_t uv;
	double d;
	float f;
	uint16_t h;

	if (t->kind == TFS_BYTES)
		return format_bytes(s, p, t->size, in_vector);
	if (t->kind == TFS_BOOL)
		return ctl_str_printf(s, "%s", p[0] ? "true" : "false");
	if (t->kind == TFS_FLOAT) {
		if (t->size == 2) {
			memcpy(&h, p, 2);
			d = ctl_half_to_double(h);
		} else if (t->size == 4) {
			memcpy(&f, p, 4);
			d = f;
		} else {
			memcpy(&d, p, 8);
		}
		return style == CTL_FULL ? float_full(s, t, d) : ctl_str_printf(s, "%g", d);
	}
	int_value(t, p, &sv, &uv);
	if ((t->kind == TFS_DATETIME || t->kind == TFS_TIMEDELTA) && sv == INT64_MIN)
		return ctl_str_printf(s, "NaT");
	if (t->kind == TFS_DATETIME)
		return format_datetime(s, t->unit, sv);
	if (t->kind == TFS_TIMEDELTA)
		return ctl_str_printf(s, "%" PRId64 " %s", sv, unit_name(t->unit));
	if (t->kind == TFS_UINT)
		return ctl_str_printf(s, "%" PRIu64, uv);
	return ctl_str_printf(s, "%" PRId64, sv);
}

int ctl_format_item(struct ctl_str *s, const struct tfs_coldef *def, const unsigned char *item,
		    enum ctl_style style)
{
	uint64_t n = def->type.size ? def->itemsize / def->type.size : 0;
	/* head shows the first and last three elements of a long vector */
	bool cut = style == CTL_SHORT && n > 8;

	if (def->ndim == 0)
		return format_scalar(s, &def->type, item, style, false);
	if (ctl_str_add(s, "[", 1))
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		if (cut && i == 3) {
			if (ctl_str_add(s, ", ...", 5))
				return -1;
			i = n - 3;
		}
		if ((i && ctl_str_add(s, ", ", 2)) ||
		    format_scalar(s, &def->type, item + i * def->type.size, style, true))
			return -1;
	}
	return ctl_str_add(s, "]", 1);
}

const char *ctl_trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

size_t ctl_bytes_decode(const char *s, unsigned char *dst, size_t max)
{
	size_t n = 0;
	unsigned v;

	for (; *s; n++) {
		if (s[0] == '\\' && s[1] == '\\') {
			v = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
			   isxdigit((unsigned char)s[3]) && sscanf(s + 2, "%2x", &v) == 1) {
			s += 4;
		} else {
			v = (unsigned char)*s++;
		}
		if (dst && n < max)
			dst[n] = (unsigned char)v;
	}
	return n;
}

static const int64_t per_sec[] = {1, 1, 1000, 1000000, 1000000000};

static int digits(const char **p, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*out = *out * 10 + (**p - '0');
	}
	return 0;
}

int ctl_parse_iso(const char *s, enum tfs_unit u, int64_t *out, const char **why)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0, fd = 0;
	int64_t frac = 0, v;
	time_t t;

	*why = "not an ISO-8601 date or timestamp";
	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	if ((*s == 'T' || *s == ' ') && s[1]) {
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi))
			return -1;
		if (*s == ':' && (s++, digits(&s, 2, &sec)))
			return -1;
		if (*s == '.' && isdigit((unsigned char)s[1])) {
			for (s++; isdigit((unsigned char)*s); s++, fd++) {
				if (fd >= 9) {
					*why = "more than 9 fraction digits";
					return -1;
				}
				frac = frac * 10 + (*s - '0');
			}
		}
	}
	if (*s == 'Z')
		s++;
	if (*s)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	/* timegm normalises 02-30 into March: a changed field means invalid */
	if (tm.tm_mon != mo - 1 || tm.tm_mday != d || tm.tm_hour != h || tm.tm_min != mi ||
	    tm.tm_sec != sec) {
		*why = "invalid date or time";
		return -1;
	}
	for (; fd < 9; fd++)
		frac *= 10; /* nanoseconds now */
	if (frac % (1000000000 / per_sec[u])) {
		*why = "more precise than the column's unit";
		return -1;
	}
	if (__builtin_mul_overflow((int64_t)t, per_sec[u], &v) ||
	    __builtin_add_overflow(v, frac / (1000000000 / per_sec[u]), out) || *out == INT64_MIN) {
		*why = "out of range for the column's unit";
		return -1;
	}
	return 0;
}

/* "1500 ms", "1500ms" or a bare count in the column's unit. */
static int parse_timedelta(const char *s, enum tfs_unit u, int64_t *out, const char **why)
{
	static const char *const names[] = {"", "s", "ms", "us", "ns"};
	enum tfs_unit from = u;
	char *end;
	int64_t v;

	errno = 0;
	v = strtoll(s, &end, 10);
	*why = "not a time span such as '1500 ms'";
	if (end == s || errno)
		return -1;
	while (*end == ' ')
		end++;
	if (*end) {
		for (from = TFS_UNIT_S; from <= TFS_UNIT_NS && strcmp(end, names[from]); from++)
			;
		if (from > TFS_UNIT_NS)
			return -1;
	}
	if (from <= u) {
		*why = "out of range";
		return __builtin_mul_overflow(v, per_sec[u] / per_sec[from], out) ? -1 : 0;
	}
	*why = "more precise than the column's unit";
	if (v % (per_sec[from] / per_sec[u]))
		return -1;
	*out = v / (per_sec[from] / per_sec[u]);
	return 0;
}

int ctl_parse_scalar(const struct tfs_type *t, char *text, unsigned char *dst, const char **why)
{
	const char *s = t->kind == TFS_BYTES ? text : ctl_trim(text);
	int64_t iv, lim;
	uint64_t uv;
	double d;
	float f;
	uint16_t h;
	char *end;

	errno = 0;
	switch (t->kind) {
	case TFS_BOOL:
		*why = "not a boolean (true/false/1/0)";
		if (!strcasecmp(s, "true") || !strcmp(s, "1"))
			dst[0] = 1;
		else if (!strcasecmp(s, "false") || !strcmp(s, "0"))
			dst[0] = 0;
		else
			return -1;
		return 0;
	case TFS_INT:
		iv = strtoll(s, &end, 10);
		lim = t->size == 8 ? INT64_MAX : (INT64_C(1) << (t->size * 8 - 1)) - 1;
		*why = *s && !*end && !errno ? "out of range" : "not an integer";
		if (!*s || *end || errno || iv > lim || iv < -lim - 1)
			return -1;
		memcpy(dst, &iv, t->size); /* little-endian: the low bytes */
		return 0;
	case TFS_UINT:
		uv = strtoull(s, &end, 10);
		*why =
		    *s && !*end && !errno && *s != '-' ? "out of range" : "not an unsigned integer";
		if (!*s || *end || errno || *s == '-' || (t->size < 8 && uv >> (t->size * 8)))
			return -1;
		memcpy(dst, &uv, t->size);
		return 0;
	case TFS_FLOAT:
		d = *s ? strtod(s, &end) : __builtin_nan("");
		*why = "not a number";
		if (*s && *end)
			return -1;
		if (t->size == 2) {
			h = ctl_double_to_half(d);
			memcpy(dst, &h, 2);
		} else if (t->size == 4) {
			f = (float)d;
			memcpy(dst, &f, 4);
		} else {
			memcpy(dst, &d, 8);
		}
		return 0;
	case TFS_DATETIME:
	case TFS_TIMEDELTA:
		if (!*s || !strcmp(s, "NaT"))
			iv = INT64_MIN;
		else if ((t->kind == TFS_DATETIME ? ctl_parse_iso : parse_timedelta)(s, t->unit,
										     &iv, why))
			return -1;
		memcpy(dst, &iv, 8);
		return 0;
	case TFS_BYTES:
		memset(dst, 0, t->size);
		*why = "too long for the column";
		return ctl_bytes_decode(s, dst, t->size) > t->size ? -1 : 0;
	}
	return -1;
}
