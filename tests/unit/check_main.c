#include "config.h"

#include <stdlib.h>

#include "suites.h"

/* Runs every core suite in one runner, so `make check` reports one summary.
 * CK_VERBOSITY, CK_RUN_SUITE and CK_RUN_CASE select output and tests. */
int main(void)
{
	SRunner *sr = srunner_create(types_suite());
	int failed;

	srunner_add_suite(sr, names_suite());
	srunner_add_suite(sr, mem_suite());
	srunner_add_suite(sr, meta_suite());
	srunner_add_suite(sr, plan_suite());
	srunner_add_suite(sr, store_suite());
	srunner_add_suite(sr, arrow_suite());
	srunner_add_suite(sr, fs_suite());
	srunner_add_suite(sr, npy_suite());
	srunner_add_suite(sr, io_full_suite());
	srunner_add_suite(sr, catalog_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
