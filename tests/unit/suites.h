/* One Check suite per core module; check_main.c runs them all. */
#ifndef TABLEFS_TEST_SUITES_H
#define TABLEFS_TEST_SUITES_H

#include <check.h>

Suite *types_suite(void);
Suite *names_suite(void);
Suite *mem_suite(void);
Suite *meta_suite(void);
Suite *plan_suite(void);
Suite *store_suite(void);
Suite *arrow_suite(void);
Suite *fs_suite(void);
Suite *npy_suite(void);
Suite *io_full_suite(void);
Suite *catalog_suite(void);

#endif
