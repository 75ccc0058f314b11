#include "config.h"

#include <errno.h>
#include <string.h>

#include "mem.h"
#include "change_plan.h"
#include "suites.h"

#define PG  TFS_PAGE_SIZE
#define BIG (UINT64_C(1) << 50) /* a limit nothing here reaches */

/* A table under test: its current columns and the document written. */
struct fixture {
	struct tfs_coldef cur[4];
	const struct tfs_coldef *curp[4];
	size_t ncur;
	struct tfs_coldef dcols[4];
	struct tfs_doc doc;
	struct tfs_plan plan;
	char why[TFS_WHY_MAX];
};

static void def(struct tfs_coldef *d, const char *name, const char *type, uint64_t width)
{
	char why[TFS_WHY_MAX];
	uint64_t shape[1] = {width};

	ck_assert_msg(tfs_coldef_init(d, name, type, shape, width ? 1 : 0, why, sizeof(why)) == 0,
		      "%s", why);
}

static void cur_add(struct fixture *f, const char *name, const char *type, uint64_t width)
{
	def(&f->cur[f->ncur], name, type, width);
	f->curp[f->ncur] = &f->cur[f->ncur];
	f->ncur++;
}

static void doc_add(struct fixture *f, const char *name, const char *type, uint64_t width)
{
	def(&f->dcols[f->doc.ncols], name, type, width);
	f->doc.cols = f->dcols;
	f->doc.ncols++;
}

static void doc_rows(struct fixture *f, uint64_t rows)
{
	f->doc.has_rows = true;
	f->doc.rows = rows;
}

static int make(struct fixture *f, uint64_t cur_rows, uint64_t used, uint64_t limit)
{
	f->why[0] = '\0';
	return tfs_plan_make(f->curp, NULL, f->ncur, cur_rows, &f->doc, used, limit, &f->plan, f->why,
			     sizeof(f->why));
}

static void check_item(const struct tfs_plan *p, size_t i, enum tfs_action action, size_t idx,
		       uint64_t old_bytes, uint64_t new_bytes)
{
	const struct tfs_plan_item *it;

	ck_assert_uint_lt(i, p->nitems);
	it = &p->items[i];
	ck_assert_msg(it->action == action, "item %zu: action %d, want %d", i, it->action, action);
	if (action == TFS_CREATE)
		ck_assert_uint_eq(p->doc[it->col], idx);
	else
		ck_assert_uint_eq(it->col, idx);
	if (action != TFS_CREATE)
		ck_assert_uint_eq(it->old_bytes, old_bytes);
	ck_assert_uint_eq(it->new_bytes, new_bytes);
}

START_TEST(create_in_empty_table)
{
	struct fixture f = {0};

	doc_rows(&f, 10);
	doc_add(&f, "a", "float64", 0);
	doc_add(&f, "b", "int32", 3);
	ck_assert_msg(make(&f, 0, 0, BIG) == 0, "%s", f.why);
	ck_assert_uint_eq(f.plan.rows, 10);
	ck_assert_uint_eq(f.plan.nitems, 2);
	check_item(&f.plan, 0, TFS_CREATE, 0, 0, 80);
	check_item(&f.plan, 1, TFS_CREATE, 1, 0, 120);
	ck_assert_uint_eq(f.plan.add, 2 * PG);
	ck_assert_uint_eq(f.plan.release, 0);
	ck_assert_int_ne(f.plan.changes, 0);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(keep_same_type)
{
	struct fixture f = {0};

	cur_add(&f, "a", "float64", 0);
	cur_add(&f, "v", "float32", 4);
	doc_add(&f, "a", "<f8", 0); /* other spelling, same type */
	doc_add(&f, "v", "f4", 4);
	ck_assert_msg(make(&f, 10, 2 * PG, BIG) == 0, "%s", f.why);
	ck_assert_uint_eq(f.plan.rows, 10);
	ck_assert_uint_eq(f.plan.nitems, 2);
	check_item(&f.plan, 0, TFS_KEEP, 0, 80, 80);
	check_item(&f.plan, 1, TFS_KEEP, 1, 160, 160);
	ck_assert_uint_eq(f.plan.add, 0);
	ck_assert_uint_eq(f.plan.release, 0);
	ck_assert_int_eq(f.plan.changes, 0);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(noop_documents)
{
	struct fixture f = {0};

	cur_add(&f, "a", "int16", 0);
	/* {} */
	ck_assert_int_eq(make(&f, 5, PG, BIG), 0);
	ck_assert_int_eq(f.plan.changes, 0);
	ck_assert_uint_eq(f.plan.rows, 5);
	ck_assert_uint_eq(f.plan.nitems, 1);
	check_item(&f.plan, 0, TFS_KEEP, 0, 10, 10);
	tfs_plan_free(&f.plan);
	/* the same row count, the same column */
	doc_rows(&f, 5);
	doc_add(&f, "a", "int16", 0);
	ck_assert_int_eq(make(&f, 5, PG, BIG), 0);
	ck_assert_int_eq(f.plan.changes, 0);
	ck_assert_uint_eq(f.plan.add, 0);
	tfs_plan_free(&f.plan);
	/* a no-op needs no memory: writing meta.json back unchanged works
	 * with the memory full to the limit */
	ck_assert_int_eq(make(&f, 5, PG, PG), 0);
	ck_assert_int_eq(f.plan.changes, 0);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(rows_change_resizes_all)
{
	struct fixture f = {0};

	cur_add(&f, "a", "float64", 0);
	cur_add(&f, "b", "int32", 0);
	doc_rows(&f, 1000);
	ck_assert_msg(make(&f, 10, 2 * PG, BIG) == 0, "%s", f.why);
	ck_assert_uint_eq(f.plan.rows, 1000);
	ck_assert_uint_eq(f.plan.nitems, 2);
	check_item(&f.plan, 0, TFS_RESIZE, 0, 80, 8000);
	check_item(&f.plan, 1, TFS_RESIZE, 1, 40, 4000);
	ck_assert_uint_eq(f.plan.release, 2 * PG);
	ck_assert_uint_eq(f.plan.add, 2 * PG + PG);
	ck_assert_int_ne(f.plan.changes, 0);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(rows_to_zero)
{
	struct fixture f = {0};

	cur_add(&f, "a", "float64", 0);
	doc_rows(&f, 0);
	ck_assert_int_eq(make(&f, 1000, 2 * PG, BIG), 0);
	ck_assert_uint_eq(f.plan.rows, 0);
	check_item(&f.plan, 0, TFS_RESIZE, 0, 8000, 0);
	ck_assert_uint_eq(f.plan.release, 2 * PG);
	ck_assert_uint_eq(f.plan.add, 0);
	ck_assert_int_ne(f.plan.changes, 0);
	tfs_plan_free(&f.plan);
}
END_TEST

/* Columns the document leaves out stay; current ones come first, in order,
 * then the new ones in document order. */
START_TEST(left_out_kept_and_order)
{
	struct fixture f = {0};

	cur_add(&f, "a", "int8", 0);
	cur_add(&f, "b", "int8", 0);
	cur_add(&f, "c", "int8", 0);
	doc_add(&f, "z", "uint16", 0);
	doc_add(&f, "b", "int8", 0);
	doc_add(&f, "y", "bool", 0);
	ck_assert_msg(make(&f, 7, 3 * PG, BIG) == 0, "%s", f.why);
	ck_assert_uint_eq(f.plan.nitems, 5);
	check_item(&f.plan, 0, TFS_KEEP, 0, 7, 7);
	check_item(&f.plan, 1, TFS_KEEP, 1, 7, 7);
	check_item(&f.plan, 2, TFS_KEEP, 2, 7, 7);
	check_item(&f.plan, 3, TFS_CREATE, 0, 0, 14);
	check_item(&f.plan, 4, TFS_CREATE, 2, 0, 7);
	ck_assert_uint_eq(f.plan.add, 2 * PG);
	ck_assert_uint_eq(f.plan.release, 0);
	ck_assert_int_ne(f.plan.changes, 0);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(rows_change_with_new_column)
{
	struct fixture f = {0};

	cur_add(&f, "a", "int64", 0);
	doc_rows(&f, 5);
	doc_add(&f, "n", "bytes3", 0);
	ck_assert_int_eq(make(&f, 10, PG, BIG), 0);
	ck_assert_uint_eq(f.plan.nitems, 2);
	check_item(&f.plan, 0, TFS_RESIZE, 0, 80, 40);
	check_item(&f.plan, 1, TFS_CREATE, 0, 0, 15);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(type_change_refused)
{
	struct fixture f = {0};

	cur_add(&f, "a", "float64", 0);
	cur_add(&f, "price", "float64", 0);
	doc_add(&f, "price", "float32", 0);
	ck_assert_int_eq(make(&f, 10, 2 * PG, BIG), -EINVAL);
	ck_assert_msg(strstr(f.why, "price"), "reason does not name the column: %s", f.why);
}
END_TEST

START_TEST(type_change_same_size_refused)
{
	struct fixture f = {0};

	cur_add(&f, "stamp", "datetime64[ns]", 0);
	doc_add(&f, "stamp", "int64", 0);
	ck_assert_int_eq(make(&f, 10, PG, BIG), -EINVAL);
	ck_assert_ptr_nonnull(strstr(f.why, "stamp"));
	f.doc.ncols = 0;
	doc_add(&f, "stamp", "datetime64[us]", 0);
	ck_assert_int_eq(make(&f, 10, PG, BIG), -EINVAL);
}
END_TEST

START_TEST(shape_change_refused)
{
	static const uint64_t s23[] = {2, 3};
	struct fixture f = {0};

	cur_add(&f, "emb", "float32", 128);
	doc_add(&f, "emb", "float32", 64);
	ck_assert_int_eq(make(&f, 10, PG, BIG), -EINVAL);
	ck_assert_ptr_nonnull(strstr(f.why, "emb"));
	/* a scalar is not a 1-vector, though both are 4 bytes a row */
	f.ncur = 0;
	f.doc.ncols = 0;
	cur_add(&f, "x", "float32", 0);
	doc_add(&f, "x", "float32", 1);
	ck_assert_int_eq(make(&f, 10, PG, BIG), -EINVAL);
	/* same item size, other shape */
	f.ncur = 0;
	f.doc.ncols = 0;
	cur_add(&f, "m", "int8", 6);
	ck_assert_int_eq(tfs_coldef_init(&f.dcols[0], "m", "int8", s23, 2, f.why, sizeof(f.why)),
			 0);
	f.doc.cols = f.dcols;
	f.doc.ncols = 1;
	ck_assert_int_eq(make(&f, 10, PG, BIG), -EINVAL);
}
END_TEST

/* The limit is checked on page-rounded charges, exactly at the boundary. */
START_TEST(limit_boundary_create)
{
	struct fixture f = {0};

	doc_rows(&f, 4096);
	doc_add(&f, "a", "uint8", 0); /* exactly one page */
	ck_assert_msg(make(&f, 0, 9 * PG, 10 * PG) == 0, "%s", f.why);
	ck_assert_uint_eq(f.plan.add, PG);
	tfs_plan_free(&f.plan);
	ck_assert_int_eq(make(&f, 0, 9 * PG + 1, 10 * PG), -ENOSPC);
	ck_assert(f.why[0] != '\0');
	/* one byte more is a second page */
	doc_rows(&f, 4097);
	ck_assert_int_eq(make(&f, 0, 9 * PG, 10 * PG), -ENOSPC);
	ck_assert_int_eq(make(&f, 0, 8 * PG, 10 * PG), 0);
	ck_assert_uint_eq(f.plan.add, 2 * PG);
	tfs_plan_free(&f.plan);
}
END_TEST

/* Replaced versions count as released, as tfs_mem_fits is told. */
START_TEST(limit_boundary_resize)
{
	struct fixture f = {0};

	cur_add(&f, "a", "uint8", 0);
	doc_rows(&f, 8192);
	/* used 10 pages, one of them a's; a grows to 2 pages */
	ck_assert_int_eq(make(&f, 4096, 10 * PG, 11 * PG), 0);
	ck_assert_uint_eq(f.plan.release, PG);
	ck_assert_uint_eq(f.plan.add, 2 * PG);
	ck_assert(tfs_mem_fits(10 * PG, 11 * PG, f.plan.release, f.plan.add));
	tfs_plan_free(&f.plan);
	ck_assert_int_eq(make(&f, 4096, 10 * PG, 11 * PG - 1), -ENOSPC);
	ck_assert_int_eq(make(&f, 4096, 10 * PG, 10 * PG), -ENOSPC);
}
END_TEST

/* A replaced version someone holds (open, mapped) frees nothing: a resize
 * needs room for the new version next to it. */
START_TEST(limit_resize_held)
{
	struct fixture f = {0};
	bool held[2 * TFS_NROLES] = {[0] = true}; /* a's main file */

	cur_add(&f, "a", "uint8", 0);
	cur_add(&f, "b", "uint8", 0);
	doc_rows(&f, 8192);
	/* used 10 pages, one each of a and b; both grow to 2 pages */
	f.why[0] = '\0';
	ck_assert_int_eq(tfs_plan_make(f.curp, held, f.ncur, 4096, &f.doc, 10 * PG, 13 * PG,
				       &f.plan, f.why, sizeof(f.why)),
			 0);
	ck_assert_uint_eq(f.plan.release, PG);
	ck_assert_uint_eq(f.plan.add, 4 * PG);
	tfs_plan_free(&f.plan);
	ck_assert_int_eq(tfs_plan_make(f.curp, held, f.ncur, 4096, &f.doc, 10 * PG, 13 * PG - 1,
				       &f.plan, f.why, sizeof(f.why)),
			 -ENOSPC);
	ck_assert_msg(f.why[0], "a reason");
	/* Nothing held: both pages are released. */
	ck_assert_int_eq(make(&f, 4096, 10 * PG, 12 * PG), 0);
	ck_assert_uint_eq(f.plan.release, 2 * PG);
	tfs_plan_free(&f.plan);
}
END_TEST

/* rows * itemsize past 2^64 is refused, never wrapped into a small size. */
START_TEST(size_overflow_refused)
{
	struct fixture f = {0};
	int rc;

	cur_add(&f, "a", "float64", 0);
	doc_rows(&f, UINT64_C(1) << 62);
	rc = make(&f, 10, PG, UINT64_MAX);
	ck_assert_msg(rc == -ENOSPC || rc == -EINVAL, "rc %d", rc);
	f.ncur = 0;
	doc_rows(&f, UINT64_MAX);
	doc_add(&f, "b", "int8", 2);
	rc = make(&f, 0, 0, UINT64_MAX);
	ck_assert_msg(rc == -ENOSPC || rc == -EINVAL, "rc %d", rc);
}
END_TEST

/* Charges that overflow 64 bits when added up must not wrap to a small sum
 * that passes the limit: four columns of 2^62 bytes add up to 2^64. */
START_TEST(charge_sum_saturates)
{
	struct fixture f = {0};

	doc_rows(&f, UINT64_C(1) << 53);
	doc_add(&f, "c0", "bytes512", 0);
	doc_add(&f, "c1", "bytes512", 0);
	doc_add(&f, "c2", "bytes512", 0);
	doc_add(&f, "c3", "bytes512", 0);
	ck_assert_int_eq(make(&f, 0, 0, UINT64_C(1) << 40), -ENOSPC);
	ck_assert_int_eq(make(&f, 0, 0, UINT64_MAX - 1), -ENOSPC);
}
END_TEST

/* ---- columns of several files ---- */

/* A change of rows resizes a utf8 column's offsets and mask; its data
 * file keeps its size until the document says otherwise. */
START_TEST(utf8_rows_change)
{
	struct fixture f = {0};

	cur_add(&f, "s", "utf8", 0);
	f.cur[0].nullable = true;
	f.cur[0].data_bytes = 100;
	doc_rows(&f, 20);
	ck_assert_int_eq(make(&f, 10, 0, BIG), 0);
	ck_assert_uint_eq(f.plan.nitems, 3);
	check_item(&f.plan, 0, TFS_RESIZE, 0, 11 * 8, 21 * 8);
	ck_assert_int_eq(f.plan.items[0].role, TFS_ROLE_MAIN);
	check_item(&f.plan, 1, TFS_KEEP, 0, 100, 100);
	ck_assert_int_eq(f.plan.items[1].role, TFS_ROLE_DATA);
	check_item(&f.plan, 2, TFS_RESIZE, 0, 10, 20);
	ck_assert_int_eq(f.plan.items[2].role, TFS_ROLE_NULL);
	tfs_plan_free(&f.plan);

	/* data_nbytes alone: only the data file */
	f.doc.has_rows = false;
	doc_add(&f, "s", "utf8", 0);
	f.dcols[0].nullable = true;
	f.dcols[0].has_data_bytes = true;
	f.dcols[0].data_bytes = 300;
	ck_assert_int_eq(make(&f, 10, 0, BIG), 0);
	ck_assert(f.plan.changes);
	check_item(&f.plan, 0, TFS_KEEP, 0, 88, 88);
	check_item(&f.plan, 1, TFS_RESIZE, 0, 100, 300);
	check_item(&f.plan, 2, TFS_KEEP, 0, 10, 10);
	ck_assert_uint_eq(f.plan.after[0].data_bytes, 300);
	tfs_plan_free(&f.plan);
}
END_TEST

START_TEST(category_files)
{
	struct fixture f = {0};
	int64_t off[4] = {0, 1, 2, 3};
	struct tfs_cats cats = {3, off, "abc"};

	doc_rows(&f, 5);
	doc_add(&f, "c", "category", 0);
	f.dcols[0].cats = &cats;
	f.dcols[0].ncat = 3;
	f.dcols[0].dict_bytes = 3;
	ck_assert_int_eq(make(&f, 0, 0, BIG), 0);
	ck_assert_uint_eq(f.plan.nitems, 3);
	check_item(&f.plan, 0, TFS_CREATE, 0, 0, 20);
	check_item(&f.plan, 1, TFS_CREATE, 0, 0, 32);
	ck_assert_int_eq(f.plan.items[1].role, TFS_ROLE_DICT);
	check_item(&f.plan, 2, TFS_CREATE, 0, 0, 3);
	ck_assert_int_eq(f.plan.items[2].role, TFS_ROLE_DICT_DATA);
	tfs_plan_free(&f.plan);

	/* categories taken away: refused */
	cur_add(&f, "c", "category", 0);
	f.cur[0].ncat = 4;
	f.cur[0].dict_bytes = 4;
	ck_assert_int_eq(make(&f, 5, 0, BIG), -EINVAL);
	ck_assert_msg(strstr(f.why, "taken away"), "%s", f.why);
}
END_TEST

START_TEST(nullable_change_refused)
{
	struct fixture f = {0};

	cur_add(&f, "a", "int64", 0);
	doc_add(&f, "a", "int64", 0);
	f.dcols[0].nullable = true;
	ck_assert_int_eq(make(&f, 3, 0, BIG), -EINVAL);
	ck_assert_msg(strstr(f.why, "nullable int64"), "%s", f.why);
}
END_TEST

Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("actions");

	tcase_add_test(tc, create_in_empty_table);
	tcase_add_test(tc, keep_same_type);
	tcase_add_test(tc, noop_documents);
	tcase_add_test(tc, rows_change_resizes_all);
	tcase_add_test(tc, rows_to_zero);
	tcase_add_test(tc, left_out_kept_and_order);
	tcase_add_test(tc, rows_change_with_new_column);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_add_test(tc, type_change_refused);
	tcase_add_test(tc, type_change_same_size_refused);
	tcase_add_test(tc, shape_change_refused);
	tcase_add_test(tc, limit_boundary_create);
	tcase_add_test(tc, limit_boundary_resize);
	tcase_add_test(tc, limit_resize_held);
	tcase_add_test(tc, size_overflow_refused);
	tcase_add_test(tc, charge_sum_saturates);
	tcase_add_test(tc, nullable_change_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_test(tc, utf8_rows_change);
	tcase_add_test(tc, category_files);
	suite_add_tcase(s, tc);
	return s;
}
