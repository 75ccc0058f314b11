#include "config.h"

#include <errno.h>
#include <string.h>

#include "names.h"
#include "suites.h"

static const char *const goods[] = {
    "a", "Z", "0", "_", "x-", "a-b_c", "price", "Trades_2024-01", "_hidden", "9lives",
};

#define N_GOODS ((int)(sizeof(goods) / sizeof(goods[0])))

START_TEST(good_names)
{
	char why[256] = "";

	ck_assert_msg(tfs_name_check(goods[_i], why, sizeof(why)) == 0, "'%s' refused: %s",
		      goods[_i], why);
}
END_TEST

static const struct bad {
	const char *name;
	const char *reason; /* substring the reason must contain */
} bads[] = {
    {"", "empty"},	    {"-", "'-'"},
    {"-rf", "'-'"},	    {".", "'.'"},
    {"..", "'.'"},	    {"meta.json", "'.'"},
    {"col.npy", "'.'"},	    {"a/b", "'/'"},
    {"/", "'/'"},	    {"a b", "' '"},
    {"a:b", "':'"},	    {"a*", "'*'"},
    {"tab\tle", "control"}, {"new\nline", "control"},
    {"del\x7f", "control"}, {"caf\xc3\xa9", "non-ASCII"},
};

#define N_BADS ((int)(sizeof(bads) / sizeof(bads[0])))

START_TEST(bad_names)
{
	const struct bad *b = &bads[_i];
	char why[256] = "";

	ck_assert_msg(tfs_name_check(b->name, why, sizeof(why)) == -EINVAL, "'%s' accepted",
		      b->name);
	ck_assert_msg(strstr(why, b->reason), "reason for '%s' is '%s'", b->name, why);
}
END_TEST

START_TEST(dot_reason_says_reserved)
{
	char why[256] = "";

	ck_assert_int_eq(tfs_name_check("a.b", why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "reserved"));
}
END_TEST

START_TEST(length_limit)
{
	char name[1024], why[256] = "";

	memset(name, 'a', sizeof(name));
	name[TFS_NAME_MAX] = '\0';
	ck_assert_int_eq(tfs_name_check(name, why, sizeof(why)), 0);
	name[TFS_NAME_MAX] = 'a';
	name[TFS_NAME_MAX + 1] = '\0';
	ck_assert_int_eq(tfs_name_check(name, why, sizeof(why)), -ENAMETOOLONG);
	ck_assert_ptr_nonnull(strstr(why, "128"));
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(tfs_name_check(name, why, sizeof(why)), -ENAMETOOLONG);
}
END_TEST

/* A long name is too long whatever it contains, as the kernel decides. */
START_TEST(length_before_characters)
{
	char name[TFS_NAME_MAX + 2];

	memset(name, '.', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_eq(tfs_name_check(name, NULL, 0), -ENAMETOOLONG);
	name[0] = '-';
	ck_assert_int_eq(tfs_name_check(name, NULL, 0), -ENAMETOOLONG);
}
END_TEST

START_TEST(why_optional_and_bounded)
{
	char why[6];

	ck_assert_int_eq(tfs_name_check("a.b", NULL, 0), -EINVAL);
	ck_assert_int_eq(tfs_name_check(NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(tfs_name_check("ok", NULL, 0), 0);
	memset(why, 'x', sizeof(why));
	ck_assert_int_eq(tfs_name_check("a very bad name", why, sizeof(why)), -EINVAL);
	ck_assert_msg(memchr(why, '\0', sizeof(why)), "reason not terminated");
}
END_TEST

Suite *names_suite(void)
{
	Suite *s = suite_create("names");
	TCase *tc = tcase_create("check");

	tcase_add_loop_test(tc, good_names, 0, N_GOODS);
	tcase_add_loop_test(tc, bad_names, 0, N_BADS);
	tcase_add_test(tc, dot_reason_says_reserved);
	tcase_add_test(tc, length_limit);
	tcase_add_test(tc, length_before_characters);
	tcase_add_test(tc, why_optional_and_bounded);
	suite_add_tcase(s, tc);
	return s;
}
