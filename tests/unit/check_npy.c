#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "suites.h"

static struct tfs_coldef coldef(const char *type, const uint64_t *shape, unsigned ndim)
{
	struct tfs_coldef def;
	char why[TFS_WHY_MAX];

	ck_assert_msg(tfs_coldef_init(&def, "c", type, shape, ndim, why, sizeof(why)) == 0, "%s",
		      why);
	return def;
}

/* A header as numpy writes it: preamble of version (1, 2 or 3), then the
 * dict padded with spaces so that the whole ends in '\n' on a multiple of
 * 64 bytes.  Returns its length. */
static size_t numpy_header(unsigned version, const char *dict, unsigned char *buf)
{
	size_t pre = version == 1 ? 10 : 12, n = strlen(dict);
	size_t total = (pre + n + 1 + 63) / 64 * 64, hlen = total - pre;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)version;
	buf[7] = 0;
	for (size_t i = 0; i < pre - 8; i++)
		buf[8 + i] = (unsigned char)(hlen >> (8 * i));
	memcpy(buf + pre, dict, n);
	memset(buf + pre + n, ' ', total - pre - n - 1);
	buf[total - 1] = '\n';
	return total;
}

/* ---- tfs_npy_header ---- */

/* The bytes numpy.save writes for the same array: np.load then needs
 * nothing but the file. */
START_TEST(header_is_numpys)
{
	static const uint64_t vec[] = {2, 3};
	const struct {
		const char *type;
		unsigned ndim;
		uint64_t rows;
		const char *dict;
	} cases[] = {
	    {"float64", 0, 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"},
	    {"bool", 0, 0, "{'descr': '|b1', 'fortran_order': False, 'shape': (0,), }"},
	    {"float32", 1, 5, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 2), }"},
	    {"bytes16", 2, 7, "{'descr': '|S16', 'fortran_order': False, 'shape': (7, 2, 3), }"},
	    {"datetime64[ns]", 0, 1,
	     "{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,), }"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tfs_coldef def = coldef(cases[i].type, vec, cases[i].ndim);
		unsigned char want[TFS_NPY_HEADER_MAX];
		char got[TFS_NPY_HEADER_MAX];
		size_t n = tfs_npy_header(&def, cases[i].rows, got), wn;

		wn = numpy_header(1, cases[i].dict, want);
		ck_assert_uint_eq(n, wn);
		ck_assert_msg(memcmp(got, want, n) == 0, "%s: %.*s", cases[i].type, (int)n - 10,
			      got + 10);
		ck_assert_uint_eq(n % 64, 0);
	}
}
END_TEST

/* The padding rounds up to the next 64 even when the dict would end on a
 * multiple of 64 without the newline. */
START_TEST(header_padding_edges)
{
	uint64_t shape[TFS_MAX_DIMS] = {1, 1, 1, 1, 1, 1, 1, 1};

	for (unsigned nd = 0; nd <= TFS_MAX_DIMS; nd++) {
		for (uint64_t rows = 1; rows < UINT64_C(10000000000); rows *= 10) {
			struct tfs_coldef def = coldef("int8", shape, nd);
			char got[TFS_NPY_HEADER_MAX];
			size_t n = tfs_npy_header(&def, rows, got);

			ck_assert_uint_eq(n % 64, 0);
			ck_assert_int_eq(got[n - 1], '\n');
			ck_assert_uint_eq((size_t)(unsigned char)got[8] |
					      (size_t)(unsigned char)got[9] << 8,
					  n - 10);
			ck_assert_ptr_nonnull(memchr(got + 10, '}', n - 10));
		}
	}
}
END_TEST

/* ---- tfs_npy_parse ---- */

/* What tfs_npy_header writes, tfs_npy_parse reads back. */
START_TEST(parse_round_trip)
{
	static const uint64_t shape[] = {28, 28, 3};
	static const char *const types[] = {"float16", "uint64", "bytes5", "timedelta64[ms]"};
	char why[TFS_WHY_MAX];

	for (size_t t = 0; t < 4; t++) {
		for (unsigned nd = 0; nd <= 3; nd++) {
			struct tfs_coldef def = coldef(types[t], shape, nd);
			char buf[TFS_NPY_HEADER_MAX], dtype[TFS_TYPE_STR_MAX];
			size_t n = tfs_npy_header(&def, 12345, buf);
			struct tfs_npy h;

			ck_assert_int_eq(tfs_npy_parse(buf, n, &h, why, sizeof(why)), 0);
			tfs_type_dtype(&def.type, dtype, sizeof(dtype));
			ck_assert_str_eq(h.descr, dtype);
			ck_assert(!h.fortran);
			ck_assert_uint_eq(h.ndim, nd + 1);
			ck_assert_uint_eq(h.shape[0], 12345);
			for (unsigned i = 0; i < nd; i++)
				ck_assert_uint_eq(h.shape[i + 1], shape[i]);
			ck_assert_uint_eq(h.data_off, n);
		}
	}
}
END_TEST

/* Versions 2.0 and 3.0 have a 4-byte header length.  Every prefix of a
 * header asks for more, and says how much at least. */
START_TEST(parse_versions)
{
	unsigned char buf[256];
	char why[TFS_WHY_MAX];
	struct tfs_npy h;

	for (unsigned v = 1; v <= 3; v++) {
		size_t n = numpy_header(
		    v, "{'descr': '<i4', 'fortran_order': False, 'shape': (10, 4), }", buf);

		for (size_t len = 0; len < n; len++) {
			ck_assert_int_eq(tfs_npy_parse(buf, len, &h, why, sizeof(why)), -EAGAIN);
			ck_assert_uint_gt(h.data_off, len);
			ck_assert_uint_le(h.data_off, n);
		}
		ck_assert_int_eq(tfs_npy_parse(buf, n, &h, why, sizeof(why)), 0);
		ck_assert_str_eq(h.descr, "<i4");
		ck_assert_uint_eq(h.ndim, 2);
		ck_assert_uint_eq(h.shape[0], 10);
		ck_assert_uint_eq(h.shape[1], 4);
		ck_assert_uint_eq(h.data_off, n);
	}
	/* keys in any order, other spacing; Fortran order of one dimension
	 * is the same bytes */
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	strcpy((char *)buf + 10, "{'shape':(4,),'fortran_order':True,'descr':'<u2'}");
	buf[8] = (unsigned char)strlen((char *)buf + 10);
	buf[9] = 0;
	ck_assert_int_eq(tfs_npy_parse(buf, 10 + buf[8], &h, why, sizeof(why)), 0);
	ck_assert_str_eq(h.descr, "<u2");
	ck_assert_uint_eq(h.ndim, 1);
	ck_assert_uint_eq(h.shape[0], 4);
}
END_TEST

static const char *const bad_dicts[] = {
    "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
    "{'descr': '<f8', 'fortran_order': True, 'shape': (3, 2), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1, 1), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (-3,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (x,), }",
    "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999999,), }",
    "{'descr': '', 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8', 'shape': (3,), }",
    "{'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8', 'fortran_order': False}",
    "{'descr': '<f8', 'fortran_order': False, 'shape': 3, }",
    "{'descr': <f8, 'fortran_order': False, 'shape': (3,), }",
    "{'descr': '<f8<f8<f8<f8<f8<f8<f8<f8<f8<f8<f8<f8', 'fortran_order': False, 'shape': (3,), }",
};
#define N_BAD_DICTS (int)(sizeof(bad_dicts) / sizeof(bad_dicts[0]))

START_TEST(parse_bad_dict)
{
	unsigned char buf[512];
	char why[TFS_WHY_MAX] = "";
	size_t n = numpy_header(1, bad_dicts[_i], buf);
	struct tfs_npy h;

	ck_assert_int_eq(tfs_npy_parse(buf, n, &h, why, sizeof(why)), -EINVAL);
	ck_assert_msg(*why, "no reason for %s", bad_dicts[_i]);
}
END_TEST

/* Not a .npy file: said from the first bytes already, without asking for
 * more; a header length beyond TFS_NPY_DICT_MAX is refused, not awaited. */
START_TEST(parse_not_npy)
{
	unsigned char buf[256];
	char why[TFS_WHY_MAX];
	struct tfs_npy h;

	ck_assert_int_eq(tfs_npy_parse("PK\x03\x04", 4, &h, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "not a .npy file");
	ck_assert_int_eq(tfs_npy_parse("a,b\n1,2\n", 8, &h, why, sizeof(why)), -EINVAL);
	numpy_header(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", buf);
	buf[6] = 4;
	ck_assert_int_eq(tfs_npy_parse(buf, 64, &h, why, sizeof(why)), -EINVAL);
	buf[6] = 0;
	ck_assert_int_eq(tfs_npy_parse(buf, 64, &h, why, sizeof(why)), -EINVAL);
	numpy_header(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", buf);
	buf[11] = 0x7f; /* a 2 GiB header */
	ck_assert_int_eq(tfs_npy_parse(buf, 64, &h, why, sizeof(why)), -EINVAL);
	ck_assert_str_eq(why, "header too large");
}
END_TEST

Suite *npy_suite(void)
{
	Suite *s = suite_create("npy");
	TCase *tc = tcase_create("header");

	tcase_add_test(tc, header_is_numpys);
	tcase_add_test(tc, header_padding_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, parse_round_trip);
	tcase_add_test(tc, parse_versions);
	tcase_add_loop_test(tc, parse_bad_dict, 0, N_BAD_DICTS);
	tcase_add_test(tc, parse_not_npy);
	suite_add_tcase(s, tc);
	return s;
}
