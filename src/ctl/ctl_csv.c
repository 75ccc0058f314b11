/* tablectl's CSV reader (RFC 4180) and the small tools of text columns:
 * UTF-8 checks and sets of strings (the distinct values of a column that
 * may become category, the categories of one being imported). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "schema.h"

/* Grows the per-field arrays to hold one more field; -1 when out of memory. */
static int fields_grow(struct ctl_csv *c)
{
	size_t cap = c->fieldcap + 16;
	char **f;
	size_t *l;
	bool *q;
	uint64_t *ln;

	if (c->nfields < c->fieldcap)
		return 0;
	if (!(f = realloc(c->fields, cap * sizeof(*f))))
		return -1;
	c->fields = f;
	if (!(l = realloc(c->lens, cap * sizeof(*l))))
		return -1;
	c->lens = l;
	if (!(q = realloc(c->quoted, cap * sizeof(*q))))
		return -1;
	c->quoted = q;
	if (!(ln = realloc(c->lines, cap * sizeof(*ln))))
		return -1;
	c->lines = ln;
	c->fieldcap = cap;
	return 0;
}

/* Splits rec into fields; 0 when a quoted field is still open (the record
 * continues on the next line), 1 when complete, -1 when out of memory.
 * Text after the closing quote of a field is kept, as most readers do. */
static int csv_split(struct ctl_csv *c)
{
	const char *p = c->rec.p, *end = p + c->rec.len;
	uint64_t line = c->lineno;
	char *o;

	if (c->outcap < c->rec.len + 1) {
		free(c->out);
		c->outcap = c->rec.len + 1;
		if (!(c->out = malloc(c->outcap)))
			return -1;
	}
	o = c->out;
	for (c->nfields = 0;; p++) {
		if (fields_grow(c))
			return -1;
		c->fields[c->nfields] = o;
		c->lines[c->nfields] = line;
		c->quoted[c->nfields] = p < end && *p == '"';
		if (p < end && *p == '"') {
			for (p++;; p++) {
				if (p == end)
					return 0;
				if (*p == '"' && (p + 1 == end || p[1] != '"'))
					break;
				line += *p == '\n';
				*o++ = *p;
				p += *p == '"';
			}
			p++;
		}
		while (p < end && *p != ',')
			*o++ = *p++;
		c->lens[c->nfields] = (size_t)(o - c->fields[c->nfields]);
		c->nfields++;
		*o++ = '\0';
		if (p == end)
			return 1;
	}
}

int ctl_csv_next(struct ctl_csv *c)
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
		/* LF or CRLF; inside a quoted field a line break becomes LF */
		if (n && c->line[n - 1] == '\n')
			n--;
		if (n && c->line[n - 1] == '\r')
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

void ctl_csv_close(struct ctl_csv *c)
{
	if (c->f && c->f != stdin)
		fclose(c->f);
	c->f = NULL;
	free(c->line);
	ctl_str_free(&c->rec);
	free(c->out);
	free(c->fields);
	free(c->lens);
	free(c->quoted);
	free(c->lines);
	c->line = c->out = NULL;
	c->fields = NULL;
	c->lens = NULL;
	c->quoted = NULL;
	c->lines = NULL;
	c->nfields = c->fieldcap = c->linecap = c->outcap = 0;
}

size_t ctl_utf8_prefix(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i = 0, k;

	while (i < n) {
		/* ASCII runs, the common case, a word at a time */
		while (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, u + i, 8);
			if (w & UINT64_C(0x8080808080808080))
				break;
			i += 8;
		}
		if (i == n)
			break;
		if (!(k = tfs_utf8_char(u + i, n - i, NULL)))
			return i;
		i += k;
	}
	return n;
}

int ctl_csv_check_utf8(const struct ctl_csv *c, size_t i, const char *name)
{
	const char *f = c->fields[i];
	size_t ok = ctl_utf8_prefix(f, c->lens[i]);
	uint64_t line = c->lines[i];

	if (ok == c->lens[i])
		return 0;
	for (size_t k = 0; k < ok; k++)
		line += f[k] == '\n';
	ctl_err("import",
		"%s:%" PRIu64 ": column '%s': invalid UTF-8 (byte 0x%02x): text columns hold "
		"UTF-8 only; convert the file (iconv) or store the bytes in a binary column",
		c->path, line, name, (unsigned char)f[ok]);
	return -1;
}

/* ---- sets of strings ---- */

static uint64_t str_hash(const char *s, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * UINT64_C(0x100000001b3);
	return h;
}

static struct ctl_strent *strset_slot(const struct ctl_strset *set, const char *s, size_t len,
				      uint64_t h)
{
	size_t mask = set->cap - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct ctl_strent *e = &set->slot[i];

		if (!e->p || (e->hash == h && e->len == len && !memcmp(e->p, s, len)))
			return e;
	}
}

long ctl_strset_find(const struct ctl_strset *set, const char *s, size_t len)
{
	const struct ctl_strent *e;

	if (!set->cap)
		return -1;
	e = strset_slot(set, s, len, str_hash(s, len));
	return e->p ? (long)e->id : -1;
}

int ctl_strset_add(struct ctl_strset *set, const char *s, size_t len)
{
	uint64_t h = str_hash(s, len);
	struct ctl_strent *e;

	/* at most half full, so probes stay short */
	if (2 * (set->n + 1) > set->cap) {
		struct ctl_strset big = {.n = set->n, .bytes = set->bytes};

		big.cap = set->cap ? set->cap * 2 : 64;
		if (!(big.slot = calloc(big.cap, sizeof(*big.slot))))
			return -1;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slot[i].p)
				*strset_slot(&big, set->slot[i].p, set->slot[i].len,
					     set->slot[i].hash) = set->slot[i];
		free(set->slot);
		*set = big;
	}
	e = strset_slot(set, s, len, h);
	if (e->p)
		return 0;
	if (!(e->p = malloc(len + 1)))
		return -1;
	memcpy(e->p, s, len);
	e->p[len] = '\0';
	e->len = len;
	e->hash = h;
	e->id = set->n++;
	set->bytes += len;
	return 1;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct ctl_strent *x = *(const struct ctl_strent *const *)a;
	const struct ctl_strent *y = *(const struct ctl_strent *const *)b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

int ctl_strset_sorted(const struct ctl_strset *set, struct tfs_cats *cats)
{
	const struct ctl_strent **v = malloc((set->n ? set->n : 1) * sizeof(*v));
	size_t k = 0;
	uint64_t off = 0;

	memset(cats, 0, sizeof(*cats));
	cats->offsets = malloc((set->n + 1) * sizeof(*cats->offsets));
	cats->bytes = malloc(set->bytes + 1);
	if (!v || !cats->offsets || !cats->bytes) {
		free(v);
		free(cats->offsets);
		free(cats->bytes);
		memset(cats, 0, sizeof(*cats));
		return -1;
	}
	for (size_t i = 0; i < set->cap; i++)
		if (set->slot[i].p)
			v[k++] = &set->slot[i];
	qsort(v, k, sizeof(*v), ent_cmp);
	cats->n = k;
	cats->offsets[0] = 0;
	for (size_t i = 0; i < k; i++) {
		memcpy(cats->bytes + off, v[i]->p, v[i]->len);
		off += v[i]->len;
		cats->offsets[i + 1] = (int64_t)off;
	}
	cats->bytes[off] = '\0';
	free(v);
	return 0;
}

void ctl_strset_free(struct ctl_strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slot[i].p);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}
