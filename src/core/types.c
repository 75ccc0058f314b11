#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "types.h"

/*
 * Two spellings are accepted for every type: the contract's names
 * ("float64", "datetime64[ns]", "bytes16") and numpy's dtype strings ("<f8",
 * "|S16", "<M8[ns]", single characters such as "d").  numpy's single
 * characters are read with x86_64 Linux C sizes (long is 8 bytes), the only
 * platform whose layout we promise.
 */

struct named_type {
	const char *name;
	enum tfs_kind kind;
	uint32_t size;
};

static const struct named_type contract_names[] = {
    {"bool", TFS_BOOL, 1},
    {"int8", TFS_INT, 1},
    {"int16", TFS_INT, 2},
    {"int32", TFS_INT, 4},
    {"int64", TFS_INT, 8},
    {"uint8", TFS_UINT, 1},
    {"uint16", TFS_UINT, 2},
    {"uint32", TFS_UINT, 4},
    {"uint64", TFS_UINT, 8},
    {"float16", TFS_FLOAT, 2},
    {"float32", TFS_FLOAT, 4},
    {"float64", TFS_FLOAT, 8},
    /* numpy's Python-level aliases: np.dtype("float") is float64. */
    {"float", TFS_FLOAT, 8},
    {"int", TFS_INT, 8},
    /* Text, bytes and dictionary-encoded text; Arrow's names for the
     * first two are accepted too. */
    {"utf8", TFS_UTF8, 8},
    {"string", TFS_UTF8, 8},
    {"large_string", TFS_UTF8, 8},
    {"binary", TFS_BINARY, 8},
    {"large_binary", TFS_BINARY, 8},
    {"category", TFS_CATEGORY, 4},
};

/* numpy dtype codes after the byte-order character, or on their own. */
static const struct named_type dtype_codes[] = {
    {"b1", TFS_BOOL, 1},  {"?", TFS_BOOL, 1},  {"i1", TFS_INT, 1},   {"i2", TFS_INT, 2},
    {"i4", TFS_INT, 4},	  {"i8", TFS_INT, 8},  {"u1", TFS_UINT, 1},  {"u2", TFS_UINT, 2},
    {"u4", TFS_UINT, 4},  {"u8", TFS_UINT, 8}, {"f2", TFS_FLOAT, 2}, {"f4", TFS_FLOAT, 4},
    {"f8", TFS_FLOAT, 8}, {"b", TFS_INT, 1},   {"B", TFS_UINT, 1},   {"h", TFS_INT, 2},
    {"H", TFS_UINT, 2},	  {"i", TFS_INT, 4},   {"I", TFS_UINT, 4},   {"l", TFS_INT, 8},
    {"L", TFS_UINT, 8},	  {"q", TFS_INT, 8},   {"Q", TFS_UINT, 8},   {"e", TFS_FLOAT, 2},
    {"f", TFS_FLOAT, 4},  {"d", TFS_FLOAT, 8},
};

static const char *const unit_names[] = {
    [TFS_UNIT_NONE] = "", [TFS_UNIT_S] = "s",	[TFS_UNIT_MS] = "ms",
    [TFS_UNIT_US] = "us", [TFS_UNIT_NS] = "ns",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 3, 4))) static int fail(char *why, size_t whylen, const char *fmt,
						      ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const struct named_type *lookup(const struct named_type *tab, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i].name, s) == 0)
			return &tab[i];
	return NULL;
}

const char *tfs_unit_name(enum tfs_unit u)
{
	return unit_names[u];
}

enum tfs_unit tfs_unit_parse(const char *s, size_t n)
{
	for (int u = TFS_UNIT_S; u <= TFS_UNIT_NS; u++)
		if (strlen(unit_names[u]) == n && strncmp(s, unit_names[u], n) == 0)
			return (enum tfs_unit)u;
	return TFS_UNIT_NONE;
}

/* "[ns]" and friends; returns the unit or TFS_UNIT_NONE when s is not one. */
static enum tfs_unit parse_unit(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || s[0] != '[' || s[n - 1] != ']')
		return TFS_UNIT_NONE;
	return tfs_unit_parse(s + 1, n - 2);
}

/* A decimal byte count 1..TFS_ITEMSIZE_MAX with no sign, space or leading
 * zero; 0 when s is anything else. */
static uint64_t parse_count(const char *s)
{
	uint64_t n = 0;

	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > TFS_ITEMSIZE_MAX)
			return 0;
	}
	return n;
}

/* Parses what follows "datetime64"/"M8" or "timedelta64"/"m8". */
static int parse_time(enum tfs_kind kind, const char *rest, const char *s, struct tfs_type *out,
		      char *why, size_t whylen)
{
	enum tfs_unit unit = parse_unit(rest);

	if (unit == TFS_UNIT_NONE)
		return *rest ? fail(why, whylen,
				    "unsupported time unit in '%s': use s, ms, us or ns", s)
			     : fail(why, whylen, "type '%s' needs a unit: [s], [ms], [us] or [ns]",
				    s);
	out->kind = kind;
	out->size = 8;
	out->unit = unit;
	return 0;
}

/* Parses a numpy dtype code (byte order already removed). 1 when code is
 * not a dtype code at all, so the caller can report it as unknown. */
static int parse_code(const char *code, const char *s, struct tfs_type *out, char *why,
		      size_t whylen)
{
	const struct named_type *nt = lookup(dtype_codes, N_ELEMS(dtype_codes), code);

	if (nt) {
		*out = (struct tfs_type){nt->kind, nt->size, TFS_UNIT_NONE};
		return 0;
	}
	if (strncmp(code, "M8", 2) == 0)
		return parse_time(TFS_DATETIME, code + 2, s, out, why, whylen);
	if (strncmp(code, "m8", 2) == 0)
		return parse_time(TFS_TIMEDELTA, code + 2, s, out, why, whylen);
	if (code[0] == 'S' && code[1]) {
		uint64_t n = parse_count(code + 1);

		if (!n)
			return fail(why, whylen, "bad byte string size in '%s': need 1..%llu", s,
				    (unsigned long long)TFS_ITEMSIZE_MAX);
		*out = (struct tfs_type){TFS_BYTES, (uint32_t)n, TFS_UNIT_NONE};
		return 0;
	}
	return 1;
}

int tfs_type_parse(const char *s, struct tfs_type *out, char *why, size_t whylen)
{
	const struct named_type *nt;
	const char *code = s;
	bool big = false;
	int rc;

	if (!s || !*s)
		return fail(why, whylen, "empty type");
	nt = lookup(contract_names, N_ELEMS(contract_names), s);
	if (nt) {
		*out = (struct tfs_type){nt->kind, nt->size, TFS_UNIT_NONE};
		return 0;
	}
	if (strncmp(s, "datetime64", 10) == 0)
		return parse_time(TFS_DATETIME, s + 10, s, out, why, whylen);
	if (strncmp(s, "timedelta64", 11) == 0)
		return parse_time(TFS_TIMEDELTA, s + 11, s, out, why, whylen);
	if (strncmp(s, "bytes", 5) == 0) {
		uint64_t n = parse_count(s + 5);

		if (!n)
			return fail(why, whylen,
				    "bad byte string size in '%s': need bytes1..bytes%llu", s,
				    (unsigned long long)TFS_ITEMSIZE_MAX);
		*out = (struct tfs_type){TFS_BYTES, (uint32_t)n, TFS_UNIT_NONE};
		return 0;
	}

	switch (*s) {
	case '>':
	case '!':
		big = true;
		/* fall through */
	case '<':
	case '=': /* native is little-endian on every platform we build for */
	case '|':
		code = s + 1;
		break;
	}
	rc = parse_code(code, s, out, why, whylen);
	if (rc > 0)
		return fail(why, whylen, "unknown type '%s'", s);
	if (rc < 0)
		return rc;
	/* Byte order means nothing for single bytes and byte strings. */
	if (big && out->size > 1 && out->kind != TFS_BYTES)
		return fail(why, whylen,
			    "big-endian dtype '%s' is not supported: tablefs stores little-endian",
			    s);
	return 0;
}

void tfs_type_name(const struct tfs_type *t, char *buf, size_t len)
{
	switch (t->kind) {
	case TFS_BOOL:
		snprintf(buf, len, "bool");
		break;
	case TFS_INT:
		snprintf(buf, len, "int%u", (unsigned)t->size * 8);
		break;
	case TFS_UINT:
		snprintf(buf, len, "uint%u", (unsigned)t->size * 8);
		break;
	case TFS_FLOAT:
		snprintf(buf, len, "float%u", (unsigned)t->size * 8);
		break;
	case TFS_DATETIME:
		snprintf(buf, len, "datetime64[%s]", unit_names[t->unit]);
		break;
	case TFS_TIMEDELTA:
		snprintf(buf, len, "timedelta64[%s]", unit_names[t->unit]);
		break;
	case TFS_BYTES:
		snprintf(buf, len, "bytes%u", (unsigned)t->size);
		break;
	case TFS_UTF8:
		snprintf(buf, len, "utf8");
		break;
	case TFS_BINARY:
		snprintf(buf, len, "binary");
		break;
	case TFS_CATEGORY:
		snprintf(buf, len, "category");
		break;
	}
}

void tfs_type_dtype(const struct tfs_type *t, char *buf, size_t len)
{
	/* numpy prints '|' where byte order does not apply. */
	char order = t->size == 1 ? '|' : '<';

	switch (t->kind) {
	case TFS_BOOL:
		snprintf(buf, len, "|b1");
		break;
	case TFS_INT:
		snprintf(buf, len, "%ci%u", order, (unsigned)t->size);
		break;
	case TFS_UINT:
		snprintf(buf, len, "%cu%u", order, (unsigned)t->size);
		break;
	case TFS_FLOAT:
		snprintf(buf, len, "%cf%u", order, (unsigned)t->size);
		break;
	case TFS_DATETIME:
		snprintf(buf, len, "<M8[%s]", unit_names[t->unit]);
		break;
	case TFS_TIMEDELTA:
		snprintf(buf, len, "<m8[%s]", unit_names[t->unit]);
		break;
	case TFS_BYTES:
		snprintf(buf, len, "|S%u", (unsigned)t->size);
		break;
	case TFS_UTF8:
	case TFS_BINARY: /* the main file: offsets */
		snprintf(buf, len, "<i8");
		break;
	case TFS_CATEGORY: /* the main file: codes */
		snprintf(buf, len, "<i4");
		break;
	}
}

bool tfs_type_is_varlen(const struct tfs_type *t)
{
	return t->kind == TFS_UTF8 || t->kind == TFS_BINARY || t->kind == TFS_CATEGORY;
}

bool tfs_type_equal(const struct tfs_type *a, const struct tfs_type *b)
{
	return a->kind == b->kind && a->size == b->size && a->unit == b->unit;
}
