/* tablectl values: the bytes of a column item to text and back.  head and
 * export print with ctl_format_item, import reads with ctl_parse_item, and
 * the full style of the one is exactly what the other accepts, so a table
 * survives export and import unchanged. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"

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

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d.  Done by
 * hand rather than with timegm, which converts through the time zone code
 * and took a tenth of a CSV import's time. */
static int64_t days_since_epoch(int y, int m, int d)
{
	/* Years counted from March, so the leap day ends a year; 400-year eras
	 * of 146097 days keep the division exact for the year 0000 too. */
	int64_t ym = y - (m <= 2), era = (ym >= 0 ? ym : ym - 399) / 400;
	int64_t yoe = ym - era * 400, doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;

	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static bool valid_date_time(int y, int mo, int d, int h, int mi, int sec)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] + (mo == 2 && leap) && h <= 23 &&
	       mi <= 59 && sec <= 59;
}

int ctl_parse_iso(const char *s, enum tfs_unit u, int64_t *out, const char **why)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, fd = 0;
	int64_t frac = 0, v, t;

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
	if (!valid_date_time(y, mo, d, h, mi, sec)) {
		*why = "invalid date or time";
		return -1;
	}
	t = days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	for (; fd < 9; fd++)
		frac *= 10; /* nanoseconds now */
	if (frac % (1000000000 / per_sec[u])) {
		*why = "more precise than the column's unit";
		return -1;
	}
	if (__builtin_mul_overflow(t, per_sec[u], &v) ||
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

/* One row of a column: a scalar, or a list "[a, b, c]" of exactly
 * product(shape) elements; inner brackets are ignored.  Numbers may also be
 * separated by blanks as numpy prints them; bytes elements only by commas,
 * so that empty strings survive (export escapes commas inside them). */
int ctl_parse_item(const struct tfs_coldef *def, char *text, unsigned char *dst, const char **why)
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
