/* tablectl values: the bytes of a column item to text and back.  head and
 * export print with ctl_format_item, import reads with ctl_parse_item, and
 * the full style of the one is exactly what the other accepts, so a table
 * survives export and import unchanged. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "schema.h"

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

/* Units per second of each time unit. */
static const int64_t per_sec[] = {1, 1, 1000, 1000000, 1000000000};

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

/* The proleptic Gregorian date of a day count since 1970-01-01, the inverse
 * of days_since_epoch; exact for every day an int64 datetime can reach. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ISO 8601 for every value of every unit: years 0000 to 9999 with four
 * digits, later ones with as many as they need (as numpy prints them),
 * earlier ones with a minus sign and at least four digits. */
static int format_datetime(struct ctl_str *s, enum tfs_unit u, int64_t v)
{
	static const int digits[] = {0, 0, 3, 6, 9};
	int64_t secs = v / per_sec[u], frac = v % per_sec[u], days, sod, y;
	int mo, d;

	if (frac < 0) {
		frac += per_sec[u];
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (ctl_str_printf(s, "%s%04" PRIu64 "-%02d-%02dT%02d:%02d:%02d", y < 0 ? "-" : "",
			   y < 0 ? -(uint64_t)y : (uint64_t)y, mo, d, (int)(sod / 3600),
			   (int)(sod / 60 % 60), (int)(sod % 60)))
		return -1;
	return digits[u] ? ctl_str_printf(s, ".%0*" PRId64, digits[u], frac) : 0;
}

/* Length of the valid UTF-8 sequence of a printable character at p (of n
 * bytes), or 0: ASCII controls and DEL, C1 controls, overlong forms,
 * surrogates and code points past U+10FFFF are not. */
static size_t utf8_printable(const unsigned char *p, size_t n)
{
	uint32_t cp;
	size_t len = tfs_utf8_char(p, n, &cp);

	if (len == 1)
		return cp >= 0x20 && cp < 0x7f;
	return len && cp >= 0xa0 ? len : 0;
}

/* Bytes as text: trailing NULs dropped, valid UTF-8 as it is (so the CSV
 * that was imported comes out again), backslash as \\, and bytes that are
 * not printable UTF-8 as \xNN; inside a vector also the characters that
 * separate elements, so import can split the list again. */
static int format_bytes(struct ctl_str *s, const unsigned char *p, size_t n, bool in_vector)
{
	char esc[8];
	size_t len;

	while (n && p[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i += len) {
		len = utf8_printable(p + i, n - i);
		if (p[i] == '\\') {
			if (ctl_str_add(s, "\\\\", 2))
				return -1;
		} else if (!len || (in_vector && strchr(" ,[]\"", p[i]))) {
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			if (ctl_str_add(s, esc, 4))
				return -1;
		} else if (ctl_str_add(s, (const char *)p + i, len)) {
			return -1;
		}
		len += !len;
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
		return ctl_str_printf(s, "%" PRId64 " %s", sv, tfs_unit_name(t->unit));
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

/* A year: four digits or more, or a sign and one digit or more (numpy
 * writes the year -1 as "-001"); at most 12 digits, more than any int64
 * datetime reaches. */
static int year(const char **p, int64_t *out)
{
	const char *s = *p;
	bool neg = *s == '-', sign = neg || *s == '+';
	int n = 0;

	*out = 0;
	for (s += sign; isdigit((unsigned char)*s); s++) {
		if (++n > 12)
			return -1;
		*out = *out * 10 + (*s - '0');
	}
	if (n < (sign ? 1 : 4))
		return -1;
	if (neg)
		*out = -*out;
	*p = s;
	return 0;
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d.  Done by
 * hand rather than with timegm, which converts through the time zone code
 * and took a tenth of a CSV import's time. */
static int64_t days_since_epoch(int64_t y, int m, int d)
{
	/* Years counted from March, so the leap day ends a year; 400-year eras
	 * of 146097 days keep the division exact for the year 0000 too. */
	int64_t ym = y - (m <= 2), era = (ym >= 0 ? ym : ym - 399) / 400;
	int64_t yoe = ym - era * 400, doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;

	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static bool valid_date_time(int64_t y, int mo, int d, int h, int mi, int sec)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mo >= 1 && mo <= 12 && d >= 1 && d <= mdays[mo - 1] + (mo == 2 && leap) && h <= 23 &&
	       mi <= 59 && sec <= 59;
}

/* Parses ISO 8601 exactly: seconds since the epoch in UTC (wider than any
 * unit's int64) and nanoseconds past them; *has_time tells a timestamp from
 * a date.  Kept apart so that import divides no 128-bit numbers. */
static int iso_parse(const char *s, __int128 *secs, int64_t *frac_ns, bool *has_time,
		     const char **why)
{
	int mo, d, h = 0, mi = 0, sec = 0, fd = 0, oh, om = 0, off = 0;
	int64_t y, frac = 0;

	*why = "not an ISO-8601 date or timestamp";
	*has_time = false;
	if (year(&s, &y) || *s++ != '-' || digits(&s, 2, &mo) || *s++ != '-' ||
	    digits(&s, 2, &d))
		return -1;
	if ((*s == 'T' || *s == ' ') && s[1]) {
		s++;
		*has_time = true;
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
		/* An offset from UTC: +HH:MM, +HHMM or +HH, converted to UTC. */
		if (*s == '+' || *s == '-') {
			bool west = *s++ == '-';

			if (digits(&s, 2, &oh) || (*s == ':' && (s++, digits(&s, 2, &om))) ||
			    (isdigit((unsigned char)*s) && digits(&s, 2, &om)))
				return -1;
			if (oh > 23 || om > 59 || *s) {
				*why = "invalid UTC offset";
				return -1;
			}
			off = (oh * 3600 + om * 60) * (west ? -1 : 1);
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
	for (; fd < 9; fd++)
		frac *= 10;
	*secs = (__int128)days_since_epoch(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	*frac_ns = frac;
	return 0;
}

/* The type name in a reason ("out of range for int64"): tablectl reports
 * one error at a time, so one buffer serves. */
static const char *out_of_range(const struct tfs_type *t)
{
	static char why[64];
	char name[TFS_TYPE_STR_MAX];

	tfs_type_name(t, name, sizeof(name));
	snprintf(why, sizeof(why), "out of range for %s", name);
	return why;
}

/* Converts exact nanoseconds to unit u: 0, or -1 with the reason in why. */
static int ns_to_unit(__int128 ns, enum tfs_unit u, int64_t *out, const char **why)
{
	int64_t q = 1000000000 / per_sec[u];
	struct tfs_type t = {TFS_DATETIME, 8, u};

	if (ns % q) {
		*why = "more precise than the column's unit";
		return -1;
	}
	/* INT64_MIN is NaT, no time */
	if (ns / q <= INT64_MIN || ns / q > INT64_MAX) {
		*why = out_of_range(&t);
		return -1;
	}
	*out = (int64_t)(ns / q);
	return 0;
}

int ctl_parse_iso(const char *s, enum tfs_unit u, int64_t *out, const char **why)
{
	struct tfs_type t = {TFS_DATETIME, 8, u};
	int64_t q = 1000000000 / per_sec[u];
	__int128 secs, v;
	int64_t frac;
	bool has_time;

	if (iso_parse(s, &secs, &frac, &has_time, why))
		return -1;
	if (frac % q) {
		*why = "more precise than the column's unit";
		return -1;
	}
	v = secs * per_sec[u] + frac / q;
	if (v <= INT64_MIN || v > INT64_MAX) { /* INT64_MIN is NaT, no time */
		*why = out_of_range(&t);
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

/* "1500 ms", "1500ms" or a bare count in the column's unit. */
static int parse_timedelta(const char *s, enum tfs_unit u, int64_t *out, const char **why)
{
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
		from = tfs_unit_parse(end, strlen(end));
		if (from == TFS_UNIT_NONE)
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

/* Decimal integer syntax, an optional sign and digits: a value of this
 * form that does not fit is out of range rather than not an integer. */
static bool integer_text(const char *s)
{
	s += *s == '-' || *s == '+';
	return isdigit((unsigned char)*s) && !s[strspn(s, "0123456789")];
}

/* ISO 8601, or "N unit" (a count since the epoch with its unit spelt out,
 * the form time spans take, for values a program holds as counts). */
static int parse_datetime(const char *s, enum tfs_unit u, int64_t *out, const char **why)
{
	const char *p = s + (*s == '-');

	if (!ctl_parse_iso(s, u, out, why))
		return 0;
	if (!isdigit((unsigned char)*p))
		return -1;
	p += strspn(p, "0123456789");
	p += strspn(p, " ");
	if (!*p || isdigit((unsigned char)*p) || *p == '-')
		return -1; /* a bare count is no datetime; a date keeps the ISO reason */
	return parse_timedelta(s, u, out, why);
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
		if (!*s || *end || errno || iv > lim || iv < -lim - 1) {
			*why = integer_text(s) ? out_of_range(t) : "not an integer";
			return -1;
		}
		memcpy(dst, &iv, t->size); /* little-endian: the low bytes */
		return 0;
	case TFS_UINT:
		uv = strtoull(s, &end, 10);
		if (!*s || *end || errno || *s == '-' || (t->size < 8 && uv >> (t->size * 8))) {
			*why = integer_text(s) ? out_of_range(t) : "not an unsigned integer";
			return -1;
		}
		memcpy(dst, &uv, t->size);
		return 0;
	case TFS_FLOAT:
		d = *s ? strtod(s, &end) : __builtin_nan("");
		*why = "not a number";
		if (*s && *end)
			return -1;
		/* A finite number that would become infinite is refused, not
		 * silently changed; one too small for the type becomes 0 or a
		 * subnormal, its nearest value, as strtod does. */
		if (*s && errno == ERANGE && isinf(d))
			goto out_of_range;
		if (t->size == 2) {
			h = ctl_double_to_half(d);
			if (isfinite(d) && (h & 0x7c00) == 0x7c00)
				goto out_of_range;
			memcpy(dst, &h, 2);
		} else if (t->size == 4) {
			f = (float)d;
			if (isfinite(d) && isinf(f))
				goto out_of_range;
			memcpy(dst, &f, 4);
		} else {
			memcpy(dst, &d, 8);
		}
		return 0;
	case TFS_DATETIME:
	case TFS_TIMEDELTA:
		if (!*s || !strcmp(s, "NaT"))
			iv = INT64_MIN;
		else if (t->kind == TFS_TIMEDELTA ? parse_timedelta(s, t->unit, &iv, why)
						  : parse_datetime(s, t->unit, &iv, why))
			return -1;
		memcpy(dst, &iv, 8);
		return 0;
	case TFS_BYTES:
		memset(dst, 0, t->size);
		*why = "too long for the column";
		return ctl_bytes_decode(s, dst, t->size) > t->size ? -1 : 0;
	case TFS_UTF8:
	case TFS_BINARY:
	case TFS_CATEGORY:
		*why = "not a fixed-width type"; /* import converts these itself */
		return -1;
	}
	return -1;
out_of_range:
	*why = out_of_range(t);
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

/* ---- type inference of CSV import ---- */

/* Finest unit a time needs, from its nanoseconds past the second. */
static enum tfs_unit unit_needed(int64_t frac_ns)
{
	return frac_ns % 1000	   ? TFS_UNIT_NS
	       : frac_ns % 1000000 ? TFS_UNIT_US
	       : frac_ns	   ? TFS_UNIT_MS
				   : TFS_UNIT_S;
}

/* Whether float64 holds the integer written in s exactly: the double's
 * own decimal digits are the integer's. */
static bool double_exact(const char *s, double d)
{
	char want[400], got[400];
	bool neg = *s == '-';

	s += *s == '-' || *s == '+';
	s += strspn(s, "0");
	if (strlen(s) > 330)
		return false; /* beyond any finite double */
	snprintf(want, sizeof(want), "%s%s", neg ? "-" : "", *s ? s : "0");
	snprintf(got, sizeof(got), "%.0f", d);
	return !strcmp(want, got);
}

bool ctl_field_missing(const struct tfs_type *t, const char *field, size_t len, bool quoted)
{
	if (tfs_type_is_varlen(t) || t->kind == TFS_BYTES)
		return !len && !quoted;
	return strspn(field, " \t") == len;
}

/* The text side of a guess: the bytes a utf8 column would take, and the
 * distinct values while the category rule may still hold. */
static int guess_text(struct ctl_guess *g, const char *field, size_t len, bool quoted)
{
	if (!len && !quoted) {
		g->absent++;
		return 0;
	}
	g->text_bytes += len;
	if (g->many)
		return 0;
	/* meta.json cannot list a category holding a NUL byte */
	if (!memchr(field, '\0', len) && ctl_strset_add(&g->distinct, field, len) < 0)
		return -1;
	if (memchr(field, '\0', len) || g->distinct.n > CTL_CAT_MAX ||
	    g->distinct.bytes > CTL_CAT_BYTES) {
		g->many = true;
		ctl_strset_free(&g->distinct);
	}
	return 0;
}

int ctl_guess_update(struct ctl_guess *g, char *field, size_t len, bool quoted)
{
	const char *s, *why;
	bool has_time, is_int, int_ok = false;
	int64_t iv = 0;
	enum tfs_unit u;
	__int128 secs, ns;
	int64_t frac;
	char *end;
	double d;

	errno = 0;
	if (guess_text(g, field, len, quoted))
		return -1;
	if (memchr(field, '\0', len)) { /* no number holds a NUL: text */
		g->no_bool = g->no_int = g->no_uint = g->no_float = g->no_time = true;
		g->filled++;
		return 0;
	}
	s = ctl_trim(field);
	if (!*s) { /* missing: the column becomes nullable */
		g->blank++;
		return 0;
	}
	is_int = integer_text(s);
	g->filled++;
	if (!strcasecmp(s, "true") || !strcasecmp(s, "false"))
		g->bool_word = true;
	else if (strcmp(s, "0") && strcmp(s, "1"))
		g->no_bool = true;
	if (is_int) {
		errno = 0;
		iv = strtoll(s, &end, 10);
		int_ok = !errno;
	}
	g->no_int |= !int_ok;
	if (!g->no_uint && (!is_int || *s == '-')) {
		g->no_uint = true;
	} else if (!g->no_uint && !int_ok) {
		errno = 0;
		strtoull(s, &end, 10);
		g->no_uint = errno != 0;
	}
	if (!g->no_float) {
		errno = 0;
		d = strtod(s, &end);
		g->no_float = *end != '\0' || (errno == ERANGE && isinf(d));
		/* every integer up to 2^53 is a double */
		if (!g->no_float && is_int && (!int_ok || iv < -(INT64_C(1) << 53) ||
					       iv > INT64_C(1) << 53) && !double_exact(s, d))
			g->inexact = true;
	}
	if (!g->no_time && strcmp(s, "NaT")) {
		if (iso_parse(s, &secs, &frac, &has_time, &why)) {
			g->no_time = true;
			return 0;
		}
		ns = secs * 1000000000 + frac;
		if (!g->ntimes++ || ns < g->tmin)
			g->tmin = ns;
		if (g->ntimes == 1 || ns > g->tmax)
			g->tmax = ns;
		u = unit_needed(frac);
		if (u > g->unit)
			g->unit = u;
		g->has_time |= has_time;
	}
	return 0;
}

/* Whether every time seen is a value of unit u. */
static bool times_fit(const struct ctl_guess *g, enum tfs_unit u)
{
	int64_t v;
	const char *why;

	return u >= g->unit && (!g->ntimes || (!ns_to_unit(g->tmin, u, &v, &why) &&
					       !ns_to_unit(g->tmax, u, &v, &why)));
}

int ctl_guess_type(struct ctl_guess *g, uint64_t rows, struct tfs_coldef *def, const char **note)
{
	struct tfs_type t = {TFS_UTF8, 8, TFS_UNIT_NONE};
	enum tfs_unit u = TFS_UNIT_NONE;
	bool text = false;

	*note = NULL;
	if (!g->no_time) {
		/* Dates alone are days: seconds hold every one (see the man
		 * page on datetime64[D]); timestamps get nanoseconds, as pandas
		 * gives them, unless their range needs a coarser unit. */
		bool dates = g->ntimes && !g->has_time;

		if (dates)
			u = times_fit(g, TFS_UNIT_S) ? TFS_UNIT_S : TFS_UNIT_NONE;
		for (int i = TFS_UNIT_NS; !dates && i >= TFS_UNIT_S && !u; i--)
			if (times_fit(g, (enum tfs_unit)i))
				u = (enum tfs_unit)i;
	}
	/* Nothing but missing values: float64, as pandas reads such a column;
	 * blanks that were quoted or spaces are text, though. */
	if (!g->filled && g->blank == g->absent)
		t = (struct tfs_type){TFS_FLOAT, 8, TFS_UNIT_NONE};
	else if (!g->filled)
		text = true;
	else if (!g->no_bool && g->bool_word)
		t = (struct tfs_type){TFS_BOOL, 1, TFS_UNIT_NONE};
	else if (!g->no_int)
		t = (struct tfs_type){TFS_INT, 8, TFS_UNIT_NONE};
	else if (!g->no_uint)
		t = (struct tfs_type){TFS_UINT, 8, TFS_UNIT_NONE};
	else if (!g->no_float && !g->inexact)
		t = (struct tfs_type){TFS_FLOAT, 8, TFS_UNIT_NONE};
	else if (u)
		t = (struct tfs_type){TFS_DATETIME, 8, u};
	else
		text = true;
	if (text && !g->no_float)
		*note = "integers that neither int64, uint64 nor float64 hold exactly";
	else if (text && !g->no_time && g->ntimes)
		*note = "times that no datetime64 unit holds exactly";
	def->ndim = 0;
	def->nullable = text ? g->absent > 0 : g->blank > 0;
	def->data_bytes = 0;
	def->cats = NULL;
	def->ncat = def->dict_bytes = 0;
	if (text && !g->many && g->distinct.n * 2 <= rows) {
		t = (struct tfs_type){TFS_CATEGORY, 4, TFS_UNIT_NONE};
		free(g->cats.offsets);
		free(g->cats.bytes);
		if (ctl_strset_sorted(&g->distinct, &g->cats))
			return -1;
		def->cats = &g->cats;
		def->ncat = g->cats.n;
		def->dict_bytes = (uint64_t)g->cats.offsets[g->cats.n];
	} else if (text) {
		def->data_bytes = g->text_bytes;
		def->has_data_bytes = true;
	}
	def->type = t;
	def->itemsize = t.size;
	return 0;
}

void ctl_guess_free(struct ctl_guess *g)
{
	ctl_strset_free(&g->distinct);
	free(g->cats.offsets);
	free(g->cats.bytes);
	memset(&g->cats, 0, sizeof(g->cats));
}

/* Control characters, which would break head's grid, as \xHH. */
static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

int ctl_format_text(struct ctl_str *s, enum tfs_kind k, const unsigned char *p, size_t n,
		    enum ctl_style style)
{
	size_t chars = 0, start = 0;
	char esc[8];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		bool escape = k == TFS_BINARY ? c < 0x20 || c >= 0x7f || c == '\\'
					      : style == CTL_SHORT && is_control(c);

		if (style == CTL_SHORT && (c & 0xc0) != 0x80 && ++chars > 60) {
			if (ctl_str_add(s, (const char *)p + start, i - start) ||
			    ctl_str_add(s, "...", 3))
				return -1;
			return 0;
		}
		if (!escape)
			continue;
		snprintf(esc, sizeof(esc), "\\x%02x", c);
		if (ctl_str_add(s, (const char *)p + start, i - start) || ctl_str_add(s, esc, 4))
			return -1;
		start = i + 1;
	}
	return ctl_str_add(s, (const char *)p + start, n - start);
}
