/* tablectl's value and CSV code (src/ctl/ctl_value.c, ctl_csv.c): what
 * export writes, import reads back to the same bytes, for every type and
 * every datetime unit up to the int64 extremes; CSV type inference never
 * picks a type that changes a value, makes columns with empty fields
 * nullable and text columns category by its rule; the CSV reader follows
 * RFC 4180 and names the line of invalid UTF-8. */
#include "config.h"

#include <check.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

static const char *const units[] = {"", "s", "ms", "us", "ns"};

static struct tfs_coldef scalar(enum tfs_kind k, uint32_t size, enum tfs_unit u)
{
	struct tfs_coldef d = {0};

	d.type = (struct tfs_type){k, size, u};
	d.itemsize = size;
	return d;
}

/* Formats v (8 bytes) in the full style: the text export writes. */
static char *fmt8(const struct tfs_coldef *d, int64_t v)
{
	struct ctl_str s = {0};

	ck_assert_int_eq(ctl_format_item(&s, d, (const unsigned char *)&v, CTL_FULL), 0);
	return s.p;
}

/* Parses text into an 8-byte value; returns 0 or -1, why set. */
static int parse8(const struct tfs_coldef *d, const char *text, int64_t *v, const char **why)
{
	char buf[128];

	snprintf(buf, sizeof(buf), "%s", text);
	*v = 0;
	return ctl_parse_item(d, buf, (unsigned char *)v, why);
}

static void round_trip(const struct tfs_coldef *d, int64_t v)
{
	char *text = fmt8(d, v);
	const char *why = NULL;
	int64_t back;

	ck_assert_msg(parse8(d, text, &back, &why) == 0, "%s[%s] %" PRId64 " -> '%s': %s",
		      d->type.kind == TFS_DATETIME ? "datetime64" : "timedelta64",
		      units[d->type.unit], v, text, why);
	ck_assert_msg(back == v, "%s %" PRId64 " -> '%s' -> %" PRId64, units[d->type.unit], v,
		      text, back);
	free(text);
}

/* Every datetime and timedelta unit, the extremes and values all over. */
START_TEST(test_time_round_trip)
{
	static const int64_t fixed[] = {INT64_MIN, INT64_MIN + 1, INT64_MIN + 2, -86400,
					-1,	   0,		 1,	       86399,
					86400,	   INT64_MAX - 1, INT64_MAX};
	uint64_t x = 88172645463325252u;

	for (enum tfs_unit u = TFS_UNIT_S; u <= TFS_UNIT_NS; u++) {
		struct tfs_coldef dt = scalar(TFS_DATETIME, 8, u), td = scalar(TFS_TIMEDELTA, 8, u);

		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			round_trip(&dt, fixed[i]);
			round_trip(&td, fixed[i]);
		}
		for (int i = 0; i < 20000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			/* the whole range, then small values of each size */
			round_trip(&dt, (int64_t)x);
			round_trip(&dt, (int64_t)x >> (x % 64));
			round_trip(&td, (int64_t)x >> (x % 64));
		}
	}
}
END_TEST

static void parses_to(enum tfs_unit u, const char *text, int64_t want)
{
	struct tfs_coldef d = scalar(TFS_DATETIME, 8, u);
	const char *why = NULL;
	int64_t v;

	ck_assert_msg(parse8(&d, text, &v, &why) == 0, "'%s' [%s]: %s", text, units[u], why);
	ck_assert_msg(v == want, "'%s' [%s]: %" PRId64 ", want %" PRId64, text, units[u], v, want);
}

static void refused(const struct tfs_coldef *d, const char *text, const char *want_why)
{
	const char *why = NULL;
	int64_t v;

	ck_assert_msg(parse8(d, text, &v, &why) != 0, "'%s' accepted", text);
	ck_assert_msg(why && !strcmp(why, want_why), "'%s': '%s', want '%s'", text, why, want_why);
}

/* The extremes of each unit, years outside 0..9999, offsets, and what export
 * writes. */
START_TEST(test_datetime_forms)
{
	struct tfs_coldef ns = scalar(TFS_DATETIME, 8, TFS_UNIT_NS);
	struct tfs_coldef s = scalar(TFS_DATETIME, 8, TFS_UNIT_S);
	char *text;

	/* pandas Timestamp.min and max */
	parses_to(TFS_UNIT_NS, "1677-09-21T00:12:43.145224193", INT64_MIN + 1);
	parses_to(TFS_UNIT_NS, "2262-04-11T23:47:16.854775807", INT64_MAX);
	refused(&ns, "1677-09-21T00:12:43.145224192", "out of range for datetime64[ns]");
	refused(&ns, "2262-04-11T23:47:16.854775808", "out of range for datetime64[ns]");
	/* years past 9999 and before 0 */
	parses_to(TFS_UNIT_S, "10000-01-01T00:00:00", 253402300800);
	parses_to(TFS_UNIT_S, "+10000-01-01", 253402300800);
	parses_to(TFS_UNIT_S, "0000-01-01T00:00:00", -62167219200);
	parses_to(TFS_UNIT_S, "-0001-01-01T00:00:00", -62198755200);
	parses_to(TFS_UNIT_S, "-001-01-01", -62198755200); /* as numpy prints it */
	parses_to(TFS_UNIT_S, "292277026596-12-04T15:30:07", INT64_MAX);
	parses_to(TFS_UNIT_S, "-292277022657-01-27T08:29:53", INT64_MIN + 1);
	parses_to(TFS_UNIT_MS, "292278994-08-17T07:12:55.807", INT64_MAX);
	refused(&s, "292277026596-12-04T15:30:08", "out of range for datetime64[s]");
	text = fmt8(&s, -62198755200);
	ck_assert_str_eq(text, "-0001-01-01T00:00:00");
	free(text);
	text = fmt8(&s, 253402300800);
	ck_assert_str_eq(text, "10000-01-01T00:00:00");
	free(text);
	text = fmt8(&s, INT64_MAX);
	ck_assert_str_eq(text, "292277026596-12-04T15:30:07");
	free(text);
	/* a count with its unit */
	parses_to(TFS_UNIT_S, "9223372036854775807 s", INT64_MAX);
	parses_to(TFS_UNIT_MS, "-5 s", -5000);
	refused(&s, "1500 ms", "more precise than the column's unit");
	refused(&s, "12345", "not an ISO-8601 date or timestamp");
	/* offsets convert to UTC */
	parses_to(TFS_UNIT_S, "2024-01-02T03:04:05+02:00", 1704164645 - 7200);
	parses_to(TFS_UNIT_S, "2024-01-02T03:04:05Z", 1704164645);
	parses_to(TFS_UNIT_S, "2024-01-02T03:04:05-0530", 1704164645 + 19800);
	parses_to(TFS_UNIT_S, "2024-01-02 03:04:05+05", 1704164645 - 18000);
	parses_to(TFS_UNIT_NS, "2024-01-02T03:04:05.5-01:00", (1704164645 + 3600) * INT64_C(1000000000) + 500000000);
	refused(&s, "2024-01-02T03:04:05+24:00", "invalid UTC offset");
	refused(&s, "2024-01-02+02:00", "not an ISO-8601 date or timestamp");
	refused(&s, "2024-02-30", "invalid date or time");
	refused(&s, "2024-01-02T03:04:05.5", "more precise than the column's unit");
}
END_TEST

/* Integers say why they are refused; floats do not turn into infinity. */
START_TEST(test_ranges)
{
	struct tfs_coldef i64 = scalar(TFS_INT, 8, TFS_UNIT_NONE);
	struct tfs_coldef i8 = scalar(TFS_INT, 1, TFS_UNIT_NONE);
	struct tfs_coldef u64 = scalar(TFS_UINT, 8, TFS_UNIT_NONE);
	struct tfs_coldef u8 = scalar(TFS_UINT, 1, TFS_UNIT_NONE);
	struct tfs_coldef f64 = scalar(TFS_FLOAT, 8, TFS_UNIT_NONE);
	struct tfs_coldef f32 = scalar(TFS_FLOAT, 4, TFS_UNIT_NONE);
	struct tfs_coldef f16 = scalar(TFS_FLOAT, 2, TFS_UNIT_NONE);
	const char *why;
	int64_t v;

	refused(&i64, "9223372036854775808", "out of range for int64");
	refused(&i64, "-9223372036854775809", "out of range for int64");
	refused(&i64, "1.5", "not an integer");
	refused(&i64, "x", "not an integer");
	refused(&i8, "128", "out of range for int8");
	refused(&u64, "18446744073709551616", "out of range for uint64");
	refused(&u64, "-1", "out of range for uint64");
	refused(&u64, "one", "not an unsigned integer");
	refused(&u8, "256", "out of range for uint8");
	refused(&f64, "1e400", "out of range for float64");
	refused(&f32, "1e39", "out of range for float32");
	refused(&f16, "70000", "out of range for float16");
	ck_assert_int_eq(parse8(&u64, "18446744073709551615", &v, &why), 0);
	ck_assert_uint_eq((uint64_t)v, UINT64_MAX);
	ck_assert_int_eq(parse8(&f64, "inf", &v, &why), 0);
	ck_assert_int_eq(parse8(&f32, "1e-50", &v, &why), 0); /* nearest: 0 */
}
END_TEST

/* Bytes: printable UTF-8 as it is, anything else escaped, and back. */
START_TEST(test_bytes_text)
{
	static const struct {
		const char *raw, *text;
	} cases[] = {
	    {"h\xc3\xa9llo", "h\xc3\xa9llo"},
	    {"\xe2\x82\xac \xf0\x9f\x98\x80", "\xe2\x82\xac \xf0\x9f\x98\x80"},
	    {"a\\b", "a\\\\b"},
	    {"\xff\xfe", "\\xff\\xfe"},
	    {"tab\there\n", "tab\\x09here\\x0a"},
	    {"\x7f", "\\x7f"},
	    {"\xc2\x80", "\\xc2\\x80"},		/* C1 control */
	    {"\xc2\xa0", "\xc2\xa0"},		/* no-break space */
	    {"\xc0\xaf", "\\xc0\\xaf"},		/* overlong */
	    {"\xed\xa0\x80", "\\xed\\xa0\\x80"}, /* surrogate */
	    {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"}, /* past U+10FFFF */
	    {"\xe2\x82", "\\xe2\\x82"},		/* cut short */
	};
	struct tfs_coldef d = scalar(TFS_BYTES, 16, TFS_UNIT_NONE);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char item[16] = {0}, back[16];
		struct ctl_str s = {0};
		char buf[128];
		const char *why;

		memcpy(item, cases[i].raw, strlen(cases[i].raw));
		ck_assert_int_eq(ctl_format_item(&s, &d, item, CTL_FULL), 0);
		ck_assert_msg(!strcmp(s.p, cases[i].text), "case %zu: '%s'", i, s.p);
		snprintf(buf, sizeof(buf), "%s", s.p);
		ck_assert_int_eq(ctl_parse_item(&d, buf, back, &why), 0);
		ck_assert_msg(!memcmp(item, back, sizeof(item)), "case %zu: not read back", i);
		ctl_str_free(&s);
	}
}
END_TEST

/* Infers the type of a column of the given values (NULL-terminated; a
 * value starting with '"' counts as quoted, the quote dropped), one per row. */
static const char *guess_def(struct tfs_coldef *d, const char *const *vals)
{
	struct ctl_guess g;
	const char *note;
	uint64_t rows = 0;
	char buf[128];

	memset(&g, 0, sizeof(g));
	memset(d, 0, sizeof(*d));
	for (; *vals; vals++, rows++) {
		bool quoted = (*vals)[0] == '"';

		snprintf(buf, sizeof(buf), "%s", *vals + quoted);
		ck_assert_int_eq(ctl_guess_update(&g, buf, strlen(buf), quoted), 0);
	}
	ck_assert_int_eq(ctl_guess_type(&g, rows, d, &note), 0);
	d->cats = NULL; /* freed with g */
	ctl_guess_free(&g);
	return note;
}

static const char *guess(struct tfs_type *t, const char *const *vals)
{
	struct tfs_coldef d;
	const char *note = guess_def(&d, vals);

	*t = d.type;
	return note;
}

#define GUESS(kind_, size_, unit_, ...)                                                             \
	do {                                                                                        \
		static const char *const vals_[] = {__VA_ARGS__, NULL};                            \
		struct tfs_type t_;                                                                 \
		guess(&t_, vals_);                                                                  \
		ck_assert_msg(t_.kind == (kind_) && t_.size == (size_) && t_.unit == (unit_),      \
			      "%s...: kind %d size %u unit %d", vals_[0], t_.kind, t_.size,        \
			      t_.unit);                                                             \
	} while (0)

START_TEST(test_inference)
{
	struct tfs_type t;
	static const char *const huge[] = {"-1", "18446744073709551615", NULL};
	static const char *const mixed[] = {"9007199254740993", "0.5", NULL};
	static const char *const wide[] = {"2024-01-01T00:00:00.000000001", "3000-01-01T00:00:00",
					   NULL};

	/* every value fits uint64, some only there */
	GUESS(TFS_UINT, 8, TFS_UNIT_NONE, "9223372036854775807", "9223372036854775808",
	      "18446744073709551615");
	GUESS(TFS_INT, 8, TFS_UNIT_NONE, "-9223372036854775808", "9223372036854775807");
	GUESS(TFS_FLOAT, 8, TFS_UNIT_NONE, "9007199254740992", "0.5", "");
	GUESS(TFS_FLOAT, 8, TFS_UNIT_NONE, "1e300", "-2");
	/* nothing holds these exactly: kept as text, with a note */
	ck_assert_ptr_nonnull(guess(&t, huge));
	ck_assert_int_eq(t.kind, TFS_UTF8);
	ck_assert_ptr_nonnull(guess(&t, mixed));
	ck_assert_int_eq(t.kind, TFS_UTF8);
	GUESS(TFS_UTF8, 8, TFS_UNIT_NONE, "1e400", "2");
	/* bools: the words in any case, with 0 and 1; 0 and 1 alone are integers */
	GUESS(TFS_BOOL, 1, TFS_UNIT_NONE, "true", "False", "TRUE", "false");
	GUESS(TFS_BOOL, 1, TFS_UNIT_NONE, "True", "0", "1");
	GUESS(TFS_INT, 8, TFS_UNIT_NONE, "0", "1", "1");
	GUESS(TFS_UTF8, 8, TFS_UNIT_NONE, "true", "2", "false");
	/* times: dates alone are [s]; timestamps [ns], or coarser when wide */
	GUESS(TFS_DATETIME, 8, TFS_UNIT_S, "2024-01-02", "0001-01-01", "NaT", "");
	GUESS(TFS_DATETIME, 8, TFS_UNIT_NS, "2024-01-02T03:04:05+02:00", "2024-01-02T03:04:05Z",
	      "2024-01-02");
	GUESS(TFS_DATETIME, 8, TFS_UNIT_NS, "1677-09-21T00:12:43.145224193");
	GUESS(TFS_DATETIME, 8, TFS_UNIT_US, "3000-01-01T00:00:00.000001", "1000-01-01T00:00:00");
	GUESS(TFS_DATETIME, 8, TFS_UNIT_US, "10000-01-01T00:00:00", "-0001-01-01T00:00:00");
	GUESS(TFS_DATETIME, 8, TFS_UNIT_S, "300000000-01-01T00:00:00", "2024-01-01T00:00:00");
	ck_assert_ptr_nonnull(guess(&t, wide));
	ck_assert_int_eq(t.kind, TFS_UTF8);
	GUESS(TFS_FLOAT, 8, TFS_UNIT_NONE, "", "");
	GUESS(TFS_DATETIME, 8, TFS_UNIT_NS, "NaT", "");
}
END_TEST

/* Empty fields make a column nullable, whatever its type; for text only
 * an empty unquoted field is missing, "" being an empty text. */
START_TEST(test_inference_nullable)
{
	static const char *const ints[] = {"1", "", "3", NULL};
	static const char *const bools[] = {"", "true", "false", NULL};
	static const char *const floats[] = {"0.5", " ", "2", NULL};
	static const char *const times[] = {"2024-01-02", "", NULL};
	static const char *const none[] = {"", "", NULL};
	static const char *const full[] = {"1", "2", NULL};
	static const char *const words[] = {"a", "", "b", "c", NULL};
	static const char *const quoted[] = {"a", "\"", "b", "c", NULL};
	static const char *const blanks[] = {"\"", "\"", NULL};
	struct tfs_coldef d;

	guess_def(&d, ints);
	ck_assert(d.type.kind == TFS_INT && d.nullable);
	guess_def(&d, bools);
	ck_assert(d.type.kind == TFS_BOOL && d.nullable);
	guess_def(&d, floats);
	ck_assert(d.type.kind == TFS_FLOAT && d.nullable);
	guess_def(&d, times);
	ck_assert(d.type.kind == TFS_DATETIME && d.nullable);
	guess_def(&d, none);
	ck_assert(d.type.kind == TFS_FLOAT && d.nullable);
	guess_def(&d, full);
	ck_assert(d.type.kind == TFS_INT && !d.nullable);
	guess_def(&d, words);
	ck_assert(d.type.kind == TFS_UTF8 && d.nullable);
	ck_assert_uint_eq(d.data_bytes, 3);
	guess_def(&d, quoted);
	ck_assert(d.type.kind == TFS_UTF8 && !d.nullable);
	guess_def(&d, blanks);
	ck_assert(d.type.kind == TFS_CATEGORY && !d.nullable);
}
END_TEST

/* Category when distinct values <= 1000 and <= rows / 2, else utf8; the
 * categories sorted. */
START_TEST(test_category_rule)
{
	static const char *const five[] = {"b", "a", "c", "d", "e", "a", "b", "c", "d", "e", NULL};
	static const char *const six[] = {"b", "a", "c", "d", "e", "f", "b", "c", "d", "e", NULL};
	static const char *const missing[] = {"x", "", "y", "x", "y", "", NULL};
	struct ctl_guess g;
	struct tfs_coldef d;
	uint64_t n;
	char buf[16];

	guess_def(&d, five);
	ck_assert_int_eq(d.type.kind, TFS_CATEGORY);
	ck_assert_uint_eq(d.ncat, 5);
	ck_assert(!d.nullable);
	guess_def(&d, six);
	ck_assert_int_eq(d.type.kind, TFS_UTF8);
	guess_def(&d, missing);
	ck_assert(d.type.kind == TFS_CATEGORY && d.nullable);
	/* 1000 distinct values over 2000 rows: category; 1001 over 2002: not */
	for (int over = 0; over < 2; over++) {
		const char *note;

		memset(&g, 0, sizeof(g));
		n = 1000 + (uint64_t)over;
		for (uint64_t r = 0; r < 2 * n; r++) {
			snprintf(buf, sizeof(buf), "v%04" PRIu64, (n - 1 - r % n));
			ck_assert_int_eq(ctl_guess_update(&g, buf, strlen(buf), false), 0);
		}
		ck_assert_int_eq(ctl_guess_type(&g, 2 * n, &d, &note), 0);
		ck_assert_int_eq(d.type.kind, over ? TFS_UTF8 : TFS_CATEGORY);
		if (!over) {
			ck_assert_uint_eq(d.ncat, 1000);
			ck_assert_uint_eq(g.cats.n, 1000);
			ck_assert(!memcmp(g.cats.bytes, "v0000v0001", 10));
			ck_assert(!memcmp(g.cats.bytes + 5 * 999, "v0999", 5));
		} else {
			ck_assert_uint_eq(d.data_bytes, 5 * 2 * n);
		}
		ctl_guess_free(&g);
	}
}
END_TEST

/* Writes text to a temporary file and opens a CSV reader on it. */
static void csv_open(struct ctl_csv *c, const char *text, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->path = "t.csv";
	c->f = tmpfile();
	ck_assert_ptr_nonnull(c->f);
	ck_assert_uint_eq(fwrite(text, 1, len, c->f), len);
	rewind(c->f);
}

#define FIELD(c, i, want, q)                                                                       \
	do {                                                                                       \
		ck_assert_uint_eq((c)->lens[i], sizeof(want) - 1);                                 \
		ck_assert_msg(!memcmp((c)->fields[i], want, sizeof(want) - 1), "field %d: '%s'", \
			      (int)(i), (c)->fields[i]);                                           \
		ck_assert_int_eq((c)->quoted[i], q);                                               \
	} while (0)

/* RFC 4180: commas, doubled quotes and line breaks inside quotes; CRLF;
 * blank lines skipped; empty unquoted and quoted fields told apart; the
 * line each field starts on. */
START_TEST(test_csv_reader)
{
	static const char text[] = "a,b,c\r\n"
				   "1,\"x,y\",\"say \"\"hi\"\"\"\r\n"
				   "\r\n"
				   ",\"\",\"two\r\nlines\"\r\n"
				   "h\xc3\xa9,\"\n\",z\0w\n"
				   "last,,\"\"";
	struct ctl_csv c;

	csv_open(&c, text, sizeof(text) - 1);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_uint_eq(c.nfields, 3);
	FIELD(&c, 2, "c", false);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_uint_eq(c.lineno, 2);
	FIELD(&c, 0, "1", false);
	FIELD(&c, 1, "x,y", true);
	FIELD(&c, 2, "say \"hi\"", true);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_uint_eq(c.lineno, 4);
	FIELD(&c, 0, "", false);
	FIELD(&c, 1, "", true);
	FIELD(&c, 2, "two\nlines", true);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_uint_eq(c.lineno, 6);
	FIELD(&c, 0, "h\xc3\xa9", false);
	FIELD(&c, 1, "\n", true);
	FIELD(&c, 2, "z\0w", false);
	ck_assert_uint_eq(c.lines[2], 7);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_uint_eq(c.lineno, 8);
	ck_assert_uint_eq(c.nfields, 3);
	FIELD(&c, 1, "", false);
	FIELD(&c, 2, "", true);
	ck_assert_int_eq(ctl_csv_next(&c), 0);
	ctl_csv_close(&c);

	/* a quote never closed is an error naming the line it opened on */
	csv_open(&c, "a\n\"open\nmore\n", 13);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	{
		char msg[256];
		FILE *cap = tmpfile();
		int saved = dup(2);
		size_t n;

		ck_assert_ptr_nonnull(cap);
		fflush(stderr);
		dup2(fileno(cap), 2);
		ck_assert_int_eq(ctl_csv_next(&c), -1);
		fflush(stderr);
		dup2(saved, 2);
		close(saved);
		rewind(cap);
		n = fread(msg, 1, sizeof(msg) - 1, cap);
		msg[n] = '\0';
		fclose(cap);
		ck_assert_str_eq(msg, "tablectl: import: t.csv:2: unterminated quoted field\n");
	}
	ctl_csv_close(&c);
}
END_TEST

/* Runs check on field i of the next record with stderr captured: returns
 * what ctl_csv_check_utf8 returned, the message in msg. */
static int utf8_message(struct ctl_csv *c, size_t i, char *msg, size_t len)
{
	FILE *cap = tmpfile();
	int saved = dup(2), rc;
	size_t n;

	ck_assert_ptr_nonnull(cap);
	fflush(stderr);
	dup2(fileno(cap), 2);
	rc = ctl_csv_check_utf8(c, i, "note");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(cap);
	n = fread(msg, 1, len - 1, cap);
	msg[n] = '\0';
	fclose(cap);
	return rc;
}

/* Invalid UTF-8 is reported with the line the bad byte is on, also inside
 * a quoted field over several lines. */
START_TEST(test_csv_utf8)
{
	static const char text[] = "id,note\n"
				   "1,fine \xe2\x82\xac\n"
				   "2,\"one\ntwo \xff\"\n"
				   "3,\xc0\xaf\n";
	struct ctl_csv c;
	char msg[512];

	csv_open(&c, text, sizeof(text) - 1);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_int_eq(utf8_message(&c, 1, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_int_eq(utf8_message(&c, 1, msg, sizeof(msg)), -1);
	ck_assert_msg(strstr(msg, "t.csv:4: column 'note': invalid UTF-8 (byte 0xff)"), "%s", msg);
	ck_assert_int_eq(ctl_csv_next(&c), 1);
	ck_assert_int_eq(utf8_message(&c, 1, msg, sizeof(msg)), -1);
	ck_assert_msg(strstr(msg, "t.csv:5: column 'note': invalid UTF-8 (byte 0xc0)"), "%s", msg);
	ctl_csv_close(&c);
	ck_assert_uint_eq(ctl_utf8_prefix("ab\xed\xa0\x80", 5), 2); /* a surrogate */
	ck_assert_uint_eq(ctl_utf8_prefix("0123456789abcdef\xf0\x9f\x98\x80", 20), 20);
}
END_TEST

/* Text as head and export print it. */
START_TEST(test_format_text)
{
	struct ctl_str s = {0};
	char long_text[100];

	ck_assert_int_eq(ctl_format_text(&s, TFS_BINARY, (const unsigned char *)"a\\b\x00\xff~", 6,
					 CTL_FULL),
			 0);
	ck_assert_str_eq(s.p, "a\\x5cb\\x00\\xff~");
	ctl_str_clear(&s);
	ck_assert_int_eq(ctl_format_text(&s, TFS_UTF8, (const unsigned char *)"a\nb\\", 4, CTL_FULL),
			 0);
	ck_assert_str_eq(s.p, "a\nb\\");
	ctl_str_clear(&s);
	ck_assert_int_eq(ctl_format_text(&s, TFS_UTF8, (const unsigned char *)"a\nb", 3, CTL_SHORT),
			 0);
	ck_assert_str_eq(s.p, "a\\x0ab");
	ctl_str_clear(&s);
	memset(long_text, 'x', sizeof(long_text));
	ck_assert_int_eq(ctl_format_text(&s, TFS_UTF8, (const unsigned char *)long_text,
					 sizeof(long_text), CTL_SHORT),
			 0);
	ck_assert_uint_eq(s.len, 63);
	ck_assert_str_eq(s.p + 60, "...");
	ctl_str_free(&s);
	/* a binary value read back from its text */
	{
		char text[] = "a\\x5cb\\x00\\xff~";
		unsigned char back[8];

		ck_assert_uint_eq(ctl_bytes_decode(text, back, sizeof(back)), 6);
		ck_assert(!memcmp(back, "a\\b\x00\xff~", 6));
	}
}
END_TEST

static Suite *ctl_suite(void)
{
	Suite *s = suite_create("ctl");
	TCase *tc = tcase_create("values");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_time_round_trip);
	tcase_add_test(tc, test_datetime_forms);
	tcase_add_test(tc, test_ranges);
	tcase_add_test(tc, test_bytes_text);
	tcase_add_test(tc, test_inference);
	tcase_add_test(tc, test_inference_nullable);
	tcase_add_test(tc, test_category_rule);
	tcase_add_test(tc, test_csv_reader);
	tcase_add_test(tc, test_csv_utf8);
	tcase_add_test(tc, test_format_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ctl_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
