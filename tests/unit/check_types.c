#include "config.h"

#include <errno.h>
#include <string.h>

#include "suites.h"
#include "types.h"

/* Every accepted spelling, with what it must parse to and how it must be
 * rendered back in both spellings. */
static const struct good {
	const char *in;
	enum tfs_kind kind;
	uint32_t size;
	enum tfs_unit unit;
	const char *name;
	const char *dtype;
} goods[] = {
    /* contract names */
    {"bool", TFS_BOOL, 1, TFS_UNIT_NONE, "bool", "|b1"},
    {"int8", TFS_INT, 1, TFS_UNIT_NONE, "int8", "|i1"},
    {"int16", TFS_INT, 2, TFS_UNIT_NONE, "int16", "<i2"},
    {"int32", TFS_INT, 4, TFS_UNIT_NONE, "int32", "<i4"},
    {"int64", TFS_INT, 8, TFS_UNIT_NONE, "int64", "<i8"},
    {"uint8", TFS_UINT, 1, TFS_UNIT_NONE, "uint8", "|u1"},
    {"uint16", TFS_UINT, 2, TFS_UNIT_NONE, "uint16", "<u2"},
    {"uint32", TFS_UINT, 4, TFS_UNIT_NONE, "uint32", "<u4"},
    {"uint64", TFS_UINT, 8, TFS_UNIT_NONE, "uint64", "<u8"},
    {"float16", TFS_FLOAT, 2, TFS_UNIT_NONE, "float16", "<f2"},
    {"float32", TFS_FLOAT, 4, TFS_UNIT_NONE, "float32", "<f4"},
    {"float64", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"datetime64[s]", TFS_DATETIME, 8, TFS_UNIT_S, "datetime64[s]", "<M8[s]"},
    {"datetime64[ms]", TFS_DATETIME, 8, TFS_UNIT_MS, "datetime64[ms]", "<M8[ms]"},
    {"datetime64[us]", TFS_DATETIME, 8, TFS_UNIT_US, "datetime64[us]", "<M8[us]"},
    {"datetime64[ns]", TFS_DATETIME, 8, TFS_UNIT_NS, "datetime64[ns]", "<M8[ns]"},
    {"timedelta64[s]", TFS_TIMEDELTA, 8, TFS_UNIT_S, "timedelta64[s]", "<m8[s]"},
    {"timedelta64[ms]", TFS_TIMEDELTA, 8, TFS_UNIT_MS, "timedelta64[ms]", "<m8[ms]"},
    {"timedelta64[us]", TFS_TIMEDELTA, 8, TFS_UNIT_US, "timedelta64[us]", "<m8[us]"},
    {"timedelta64[ns]", TFS_TIMEDELTA, 8, TFS_UNIT_NS, "timedelta64[ns]", "<m8[ns]"},
    {"bytes1", TFS_BYTES, 1, TFS_UNIT_NONE, "bytes1", "|S1"},
    {"bytes16", TFS_BYTES, 16, TFS_UNIT_NONE, "bytes16", "|S16"},
    {"bytes2147483648", TFS_BYTES, 2147483648u, TFS_UNIT_NONE, "bytes2147483648", "|S2147483648"},
    /* numpy aliases */
    {"float", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"int", TFS_INT, 8, TFS_UNIT_NONE, "int64", "<i8"},
    /* numpy dtype strings, each byte order that means little-endian */
    {"<f8", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"f8", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"=f8", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"|f8", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"<f4", TFS_FLOAT, 4, TFS_UNIT_NONE, "float32", "<f4"},
    {"<f2", TFS_FLOAT, 2, TFS_UNIT_NONE, "float16", "<f2"},
    {"?", TFS_BOOL, 1, TFS_UNIT_NONE, "bool", "|b1"},
    {"|b1", TFS_BOOL, 1, TFS_UNIT_NONE, "bool", "|b1"},
    {"b1", TFS_BOOL, 1, TFS_UNIT_NONE, "bool", "|b1"},
    {"|i1", TFS_INT, 1, TFS_UNIT_NONE, "int8", "|i1"},
    {"<i2", TFS_INT, 2, TFS_UNIT_NONE, "int16", "<i2"},
    {"i4", TFS_INT, 4, TFS_UNIT_NONE, "int32", "<i4"},
    {"<i8", TFS_INT, 8, TFS_UNIT_NONE, "int64", "<i8"},
    {"u1", TFS_UINT, 1, TFS_UNIT_NONE, "uint8", "|u1"},
    {"<u2", TFS_UINT, 2, TFS_UNIT_NONE, "uint16", "<u2"},
    {"<u4", TFS_UINT, 4, TFS_UNIT_NONE, "uint32", "<u4"},
    {"=u8", TFS_UINT, 8, TFS_UNIT_NONE, "uint64", "<u8"},
    {"<M8[ns]", TFS_DATETIME, 8, TFS_UNIT_NS, "datetime64[ns]", "<M8[ns]"},
    {"M8[s]", TFS_DATETIME, 8, TFS_UNIT_S, "datetime64[s]", "<M8[s]"},
    {"<m8[ms]", TFS_TIMEDELTA, 8, TFS_UNIT_MS, "timedelta64[ms]", "<m8[ms]"},
    {"m8[us]", TFS_TIMEDELTA, 8, TFS_UNIT_US, "timedelta64[us]", "<m8[us]"},
    {"|S16", TFS_BYTES, 16, TFS_UNIT_NONE, "bytes16", "|S16"},
    {"S3", TFS_BYTES, 3, TFS_UNIT_NONE, "bytes3", "|S3"},
    /* byte order is meaningless for single bytes and byte strings */
    {">S16", TFS_BYTES, 16, TFS_UNIT_NONE, "bytes16", "|S16"},
    {">i1", TFS_INT, 1, TFS_UNIT_NONE, "int8", "|i1"},
    {"!u1", TFS_UINT, 1, TFS_UNIT_NONE, "uint8", "|u1"},
    {">b1", TFS_BOOL, 1, TFS_UNIT_NONE, "bool", "|b1"},
    /* numpy's one-character codes, x86_64 Linux sizes */
    {"b", TFS_INT, 1, TFS_UNIT_NONE, "int8", "|i1"},
    {"B", TFS_UINT, 1, TFS_UNIT_NONE, "uint8", "|u1"},
    {"h", TFS_INT, 2, TFS_UNIT_NONE, "int16", "<i2"},
    {"H", TFS_UINT, 2, TFS_UNIT_NONE, "uint16", "<u2"},
    {"i", TFS_INT, 4, TFS_UNIT_NONE, "int32", "<i4"},
    {"I", TFS_UINT, 4, TFS_UNIT_NONE, "uint32", "<u4"},
    {"l", TFS_INT, 8, TFS_UNIT_NONE, "int64", "<i8"},
    {"L", TFS_UINT, 8, TFS_UNIT_NONE, "uint64", "<u8"},
    {"q", TFS_INT, 8, TFS_UNIT_NONE, "int64", "<i8"},
    {"Q", TFS_UINT, 8, TFS_UNIT_NONE, "uint64", "<u8"},
    {"e", TFS_FLOAT, 2, TFS_UNIT_NONE, "float16", "<f2"},
    {"f", TFS_FLOAT, 4, TFS_UNIT_NONE, "float32", "<f4"},
    {"d", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
    {"<d", TFS_FLOAT, 8, TFS_UNIT_NONE, "float64", "<f8"},
};

#define N_GOODS ((int)(sizeof(goods) / sizeof(goods[0])))

START_TEST(parse_good)
{
	const struct good *g = &goods[_i];
	struct tfs_type t;
	char why[256] = "", buf[TFS_TYPE_STR_MAX];

	ck_assert_msg(tfs_type_parse(g->in, &t, why, sizeof(why)) == 0, "'%s' refused: %s", g->in,
		      why);
	ck_assert_int_eq(t.kind, g->kind);
	ck_assert_uint_eq(t.size, g->size);
	ck_assert_int_eq(t.unit, g->unit);
	tfs_type_name(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, g->name);
	tfs_type_dtype(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, g->dtype);
}
END_TEST

/* Both rendered spellings parse back to the same type. */
START_TEST(round_trip)
{
	struct tfs_type t, back;
	char buf[TFS_TYPE_STR_MAX];

	ck_assert_int_eq(tfs_type_parse(goods[_i].in, &t, NULL, 0), 0);
	tfs_type_name(&t, buf, sizeof(buf));
	ck_assert_int_eq(tfs_type_parse(buf, &back, NULL, 0), 0);
	ck_assert_msg(tfs_type_equal(&t, &back), "name '%s' does not round-trip", buf);
	tfs_type_dtype(&t, buf, sizeof(buf));
	ck_assert_int_eq(tfs_type_parse(buf, &back, NULL, 0), 0);
	ck_assert_msg(tfs_type_equal(&t, &back), "dtype '%s' does not round-trip", buf);
}
END_TEST

static const struct bad {
	const char *in;
	const char *reason; /* substring the reason must contain */
} bads[] = {
    {"xyz", "unknown type 'xyz'"},
    {"", ""},
    {"float65", "float65"},
    {"Float64", "Float64"},
    {"f3", "f3"},
    {"i16", "i16"},
    {"<<f8", "<<f8"},
    {" f8", "f8"},
    {"f8 ", "f8"},
    {"<float64", "<float64"},
    {"c16", "c16"},
    {"O", "O"},
    {"U8", "U8"},
    {"V8", "V8"},
    {"S", "S"},
    {"S0", "S0"},
    {"|S0", "S0"},
    {"S-1", "S-1"},
    {"S01", "S01"},
    {"S16x", "S16x"},
    {"S2147483649", "S2147483649"},
    {"S99999999999999999999999", "S999"},
    {"bytes", "bytes"},
    {"bytes0", "bytes0"},
    {"bytes2147483649", "bytes2147483649"},
    {"bytes 16", "bytes 16"},
    {"datetime64", "datetime64"},
    {"datetime64[D]", "datetime64[D]"},
    {"datetime64[ns", "datetime64[ns"},
    {"datetime64[ns]x", "datetime64[ns]x"},
    {"timedelta64[]", "timedelta64[]"},
    {"M8", "M8"},
    {"<M8[h]", "<M8[h]"},
    {"m8[ps]", "m8[ps]"},
    /* big-endian multi-byte types: the bytes would be read wrongly */
    {">f8", "big-endian dtype '>f8' is not supported"},
    {"!i4", "big-endian"},
    {">u2", "big-endian"},
    {">f2", "big-endian"},
    {">M8[ns]", "big-endian"},
    {">m8[s]", "big-endian"},
    {">d", "big-endian"},
};

#define N_BADS ((int)(sizeof(bads) / sizeof(bads[0])))

START_TEST(parse_bad)
{
	const struct bad *b = &bads[_i];
	struct tfs_type t;
	char why[256] = "";

	ck_assert_msg(tfs_type_parse(b->in, &t, why, sizeof(why)) == -EINVAL, "'%s' accepted",
		      b->in);
	ck_assert_msg(why[0] != '\0', "no reason for '%s'", b->in);
	ck_assert_msg(strstr(why, b->reason), "reason for '%s' is '%s'", b->in, why);
}
END_TEST

START_TEST(big_endian_reason)
{
	struct tfs_type t;
	char why[256];

	ck_assert_int_eq(tfs_type_parse(">f8", &t, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why,
			 "big-endian dtype '>f8' is not supported: tablefs stores little-endian");
}
END_TEST

START_TEST(why_optional_and_bounded)
{
	struct tfs_type t;
	char why[8];

	ck_assert_int_eq(tfs_type_parse("xyz", &t, NULL, 0), -EINVAL);
	ck_assert_int_eq(tfs_type_parse(">f8", &t, NULL, 0), -EINVAL);
	memset(why, 'x', sizeof(why));
	ck_assert_int_eq(tfs_type_parse("a-long-unknown-type", &t, why, sizeof(why)), -EINVAL);
	ck_assert_msg(memchr(why, '\0', sizeof(why)), "reason not terminated");
	ck_assert_int_eq(tfs_type_parse(NULL, &t, why, sizeof(why)), -EINVAL);
}
END_TEST

START_TEST(equality)
{
	struct tfs_type a, b;

	ck_assert_int_eq(tfs_type_parse("float64", &a, NULL, 0), 0);
	ck_assert_int_eq(tfs_type_parse("<f8", &b, NULL, 0), 0);
	ck_assert(tfs_type_equal(&a, &b));
	ck_assert_int_eq(tfs_type_parse("int64", &b, NULL, 0), 0);
	ck_assert(!tfs_type_equal(&a, &b)); /* same size, other kind */
	ck_assert_int_eq(tfs_type_parse("uint64", &a, NULL, 0), 0);
	ck_assert(!tfs_type_equal(&a, &b));
	ck_assert_int_eq(tfs_type_parse("datetime64[ns]", &a, NULL, 0), 0);
	ck_assert_int_eq(tfs_type_parse("datetime64[us]", &b, NULL, 0), 0);
	ck_assert(!tfs_type_equal(&a, &b)); /* same kind, other unit */
	ck_assert_int_eq(tfs_type_parse("timedelta64[ns]", &b, NULL, 0), 0);
	ck_assert(!tfs_type_equal(&a, &b));
	ck_assert_int_eq(tfs_type_parse("bytes8", &a, NULL, 0), 0);
	ck_assert_int_eq(tfs_type_parse("|S9", &b, NULL, 0), 0);
	ck_assert(!tfs_type_equal(&a, &b));
	ck_assert_int_eq(tfs_type_parse("S8", &b, NULL, 0), 0);
	ck_assert(tfs_type_equal(&a, &b));
	ck_assert_int_eq(tfs_type_parse("bool", &a, NULL, 0), 0);
	ck_assert_int_eq(tfs_type_parse("uint8", &b, NULL, 0), 0);
	ck_assert(!tfs_type_equal(&a, &b));
}
END_TEST

/* Output buffers shorter than the text are filled and terminated. */
START_TEST(render_truncates)
{
	struct tfs_type t;
	char buf[5];

	ck_assert_int_eq(tfs_type_parse("datetime64[ns]", &t, NULL, 0), 0);
	memset(buf, 'x', sizeof(buf));
	tfs_type_name(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "date");
	memset(buf, 'x', sizeof(buf));
	tfs_type_dtype(&t, buf, sizeof(buf));
	ck_assert_str_eq(buf, "<M8[");
}
END_TEST

/* Unit names both ways: what the type names use is what tablectl writes
 * after a timedelta and reads back. */
START_TEST(unit_names)
{
	static const char *const names[] = {"s", "ms", "us", "ns"};
	static const enum tfs_unit units[] = {TFS_UNIT_S, TFS_UNIT_MS, TFS_UNIT_US, TFS_UNIT_NS};

	for (int i = 0; i < 4; i++) {
		ck_assert_str_eq(tfs_unit_name(units[i]), names[i]);
		ck_assert_int_eq(tfs_unit_parse(names[i], strlen(names[i])), units[i]);
	}
	ck_assert_str_eq(tfs_unit_name(TFS_UNIT_NONE), "");
	ck_assert_int_eq(tfs_unit_parse("", 0), TFS_UNIT_NONE);
	ck_assert_int_eq(tfs_unit_parse("D", 1), TFS_UNIT_NONE);
	ck_assert_int_eq(tfs_unit_parse("ps", 2), TFS_UNIT_NONE);
	ck_assert_int_eq(tfs_unit_parse("nsx", 3), TFS_UNIT_NONE);
	ck_assert_int_eq(tfs_unit_parse("msec", 2), TFS_UNIT_MS); /* n bytes only */
	ck_assert_int_eq(tfs_unit_parse("NS", 2), TFS_UNIT_NONE);
}
END_TEST

Suite *types_suite(void)
{
	Suite *s = suite_create("types");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, parse_good, 0, N_GOODS);
	tcase_add_loop_test(tc, round_trip, 0, N_GOODS);
	tcase_add_loop_test(tc, parse_bad, 0, N_BADS);
	tcase_add_test(tc, big_endian_reason);
	tcase_add_test(tc, why_optional_and_bounded);
	suite_add_tcase(s, tc);
	tc = tcase_create("compare");
	tcase_add_test(tc, equality);
	tcase_add_test(tc, render_truncates);
	tcase_add_test(tc, unit_names);
	suite_add_tcase(s, tc);
	return s;
}
