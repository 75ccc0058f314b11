#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mem.h"
#include "suites.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)

static uint64_t phys(void)
{
	return (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
}

START_TEST(charge_rounds_to_pages)
{
	ck_assert_uint_eq(tfs_mem_charge(0), 0);
	ck_assert_uint_eq(tfs_mem_charge(1), 4096);
	ck_assert_uint_eq(tfs_mem_charge(4095), 4096);
	ck_assert_uint_eq(tfs_mem_charge(4096), 4096);
	ck_assert_uint_eq(tfs_mem_charge(4097), 8192);
	ck_assert_uint_eq(tfs_mem_charge(GiB + 1), GiB + 4096);
	/* the largest page multiple is its own charge; anything above it
	 * saturates instead of wrapping to 0 */
	ck_assert_uint_eq(tfs_mem_charge(UINT64_MAX - 4095), UINT64_MAX - 4095);
	ck_assert_uint_eq(tfs_mem_charge(UINT64_MAX - 4094), UINT64_MAX);
	ck_assert_uint_eq(tfs_mem_charge(UINT64_MAX), UINT64_MAX);
}
END_TEST

START_TEST(fits_boundaries)
{
	ck_assert(tfs_mem_fits(0, 100, 0, 100));
	ck_assert(!tfs_mem_fits(0, 100, 0, 101));
	ck_assert(tfs_mem_fits(50, 100, 0, 50));
	ck_assert(!tfs_mem_fits(50, 100, 0, 51));
	ck_assert(tfs_mem_fits(50, 100, 10, 60));
	ck_assert(!tfs_mem_fits(50, 100, 10, 61));
	ck_assert(tfs_mem_fits(100, 100, 0, 0));
	ck_assert(tfs_mem_fits(100, 100, 100, 100));
	ck_assert(tfs_mem_fits(0, 0, 0, 0));
	ck_assert(!tfs_mem_fits(0, 0, 0, 1));
	/* already over the limit (limit lowered): shrinking still allowed */
	ck_assert(tfs_mem_fits(200, 100, 150, 50));
	ck_assert(!tfs_mem_fits(200, 100, 50, 0));
}
END_TEST

START_TEST(fits_no_overflow)
{
	ck_assert(!tfs_mem_fits(UINT64_MAX - 1, UINT64_MAX, 0, 10));
	ck_assert(!tfs_mem_fits(10, 100, 0, UINT64_MAX));
	ck_assert(!tfs_mem_fits(10, 100, 0, UINT64_MAX - 5));
	ck_assert(!tfs_mem_fits(UINT64_MAX, 100, 0, 1));
	ck_assert(tfs_mem_fits(UINT64_MAX - 10, UINT64_MAX, 0, 10));
	ck_assert(!tfs_mem_fits(UINT64_MAX - 10, UINT64_MAX, 0, 11));
	ck_assert(tfs_mem_fits(10, UINT64_MAX, 10, UINT64_MAX));
}
END_TEST

START_TEST(default_limit_is_half_of_ram)
{
	uint64_t lim = tfs_mem_default_limit();

	ck_assert_uint_gt(lim, 0);
	ck_assert_uint_eq(lim, phys() / 2);
}
END_TEST

static const struct size_case {
	const char *in;
	uint64_t out;
} good_sizes[] = {
    {"1", 1},
    {"4096", 4096},
    {"1073741824", GiB},
    {"18446744073709551615", UINT64_MAX},
    {"1K", KiB},
    {"1k", KiB},
    {"1KiB", KiB},
    {"1kib", KiB},
    {"1KB", KiB},
    {"1kb", KiB},
    {"512M", 512 * MiB},
    {"512MiB", 512 * MiB},
    {"4G", 4 * GiB},
    {"4g", 4 * GiB},
    {"4GB", 4 * GiB},
    {"2T", 2 * TiB},
    {"16777215T", 16777215 * TiB},
    {"1.5G", GiB + GiB / 2},
    {"0.5K", 512},
    {".5K", 512},
    {"1.25M", MiB + MiB / 4},
    {"0.001K", 1},	    /* 1.024 bytes: whole bytes, rounded down */
    {"1.0000000001G", GiB}, /* digits past the ninth are dropped */
    {"7B", 7},
    {"7b", 7},
    /* what tfs_size_format writes reads back */
    {"512 B", 512},
    {"1.5 KiB", 1536},
    {"2.0 GiB", 2 * GiB},
};

#define N_GOOD_SIZES ((int)(sizeof(good_sizes) / sizeof(good_sizes[0])))

START_TEST(parse_good)
{
	uint64_t v = 0;

	ck_assert_msg(tfs_size_parse(good_sizes[_i].in, &v) == 0, "'%s' refused",
		      good_sizes[_i].in);
	ck_assert_uint_eq(v, good_sizes[_i].out);
}
END_TEST

static const char *const bad_sizes[] = {
    "",
    "0",
    "00",
    "0K",
    "0.0G",
    "0.0001K", /* rounds to 0 bytes */
    "-1",
    "-1G",
    "+1",
    " 1",
    "1 ",
    "1  G",
    "abc",
    "K",
    "G1",
    "1X",
    "1GG",
    "1iB",
    "1GiBx",
    "1.5", /* a fraction of a byte */
    "1.",
    ".",
    "1..5G",
    "1.5.5G",
    "1e9",
    "0x10",
    "1,5G",
    "18446744073709551616", /* 2^64 */
    "99999999999999999999999",
    "16777216T", /* 2^64 */
    "17179869184G",
    "16777216.5T",
    "%",
    "0%",
    "-5%",
    "101%",
    "100.5%",
    "50%%",
    "50%x",
    "5 0%",
};

#define N_BAD_SIZES ((int)(sizeof(bad_sizes) / sizeof(bad_sizes[0])))

START_TEST(parse_bad)
{
	uint64_t v = 12345;

	ck_assert_msg(tfs_size_parse(bad_sizes[_i], &v) == -EINVAL, "'%s' accepted as %llu",
		      bad_sizes[_i], (unsigned long long)v);
	ck_assert_uint_eq(v, 12345); /* untouched on error */
}
END_TEST

START_TEST(parse_percent)
{
	uint64_t v;

	ck_assert_int_eq(tfs_size_parse("50%", &v), 0);
	ck_assert_uint_eq(v, phys() / 2);
	ck_assert_uint_eq(v, tfs_mem_default_limit());
	ck_assert_int_eq(tfs_size_parse("100%", &v), 0);
	ck_assert_uint_eq(v, phys());
	/* physical memory is a whole number of pages, so these are exact */
	ck_assert_int_eq(tfs_size_parse("25%", &v), 0);
	ck_assert_uint_eq(v, phys() / 4);
	ck_assert_int_eq(tfs_size_parse("12.5%", &v), 0);
	ck_assert_uint_eq(v, phys() / 8);
	ck_assert_int_eq(tfs_size_parse("1%", &v), 0);
	ck_assert_uint_eq(v, phys() / 100);
	ck_assert_int_eq(tfs_size_parse("0.000001%", &v), 0);
	ck_assert_uint_le(v, phys() / 100000000 + 1);
	ck_assert_int_eq(tfs_size_parse(NULL, &v), -EINVAL);
}
END_TEST

static const struct fmt_case {
	uint64_t in;
	const char *out;
} fmts[] = {
    {0, "0 B"},
    {1, "1 B"},
    {512, "512 B"},
    {1023, "1023 B"},
    {1024, "1.0 KiB"},
    {1536, "1.5 KiB"},
    {1280, "1.3 KiB"}, /* 1.25: halves round up */
    {1075, "1.0 KiB"},
    {10 * KiB, "10.0 KiB"},
    {MiB - 1, "1.0 MiB"}, /* not "1024.0 KiB" */
    {MiB, "1.0 MiB"},
    {512 * MiB, "512.0 MiB"},
    {2 * GiB, "2.0 GiB"},
    {GiB + GiB / 2, "1.5 GiB"},
    {3 * TiB, "3.0 TiB"},
    {TiB * 1024, "1.0 PiB"},
    {UINT64_MAX, "16.0 EiB"},
};

#define N_FMTS ((int)(sizeof(fmts) / sizeof(fmts[0])))

START_TEST(format)
{
	char buf[32];

	memset(buf, 'x', sizeof(buf));
	tfs_size_format(fmts[_i].in, buf, sizeof(buf));
	ck_assert_str_eq(buf, fmts[_i].out);
}
END_TEST

START_TEST(format_truncates)
{
	char buf[4];

	memset(buf, 'x', sizeof(buf));
	tfs_size_format(1536, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1.5");
}
END_TEST

Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc = tcase_create("accounting");

	tcase_add_test(tc, charge_rounds_to_pages);
	tcase_add_test(tc, fits_boundaries);
	tcase_add_test(tc, fits_no_overflow);
	tcase_add_test(tc, default_limit_is_half_of_ram);
	suite_add_tcase(s, tc);
	tc = tcase_create("sizes");
	tcase_add_loop_test(tc, parse_good, 0, N_GOOD_SIZES);
	tcase_add_loop_test(tc, parse_bad, 0, N_BAD_SIZES);
	tcase_add_test(tc, parse_percent);
	tcase_add_loop_test(tc, format, 0, N_FMTS);
	tcase_add_test(tc, format_truncates);
	suite_add_tcase(s, tc);
	return s;
}
