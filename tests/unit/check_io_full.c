#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "io_full.h"
#include "suites.h"

/* A temporary file, gone when closed. */
static int temp_file(void)
{
	int fd = memfd_create("io_full", MFD_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/* Positional: all of it, then fewer bytes only where the file ends. */
START_TEST(positional)
{
	char out[3000], in[4000];
	int fd = temp_file();

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	ck_assert_int_eq(tfs_pwrite_full(fd, out, sizeof(out), 100), 0);
	ck_assert_int_eq(tfs_pread_full(fd, in, 3000, 100), 3000);
	ck_assert_mem_eq(in, out, 3000);
	ck_assert_int_eq(tfs_pread_full(fd, in, 4000, 100), 3000);
	ck_assert_int_eq(tfs_pread_full(fd, in, 10, 5000), 0);
	/* the file position is not used nor moved */
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 0);
	close(fd);
	ck_assert_int_eq(tfs_pread_full(fd, in, 1, 0), -EBADF);
	ck_assert_int_eq(tfs_pwrite_full(fd, out, 1, 0), -EBADF);
}
END_TEST

/* Sequential over a pipe, which hands data over in the pieces written:
 * a read gathers them, and stops short only at the end. */
START_TEST(sequential_pipe)
{
	char in[64];
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(tfs_write_full(p[1], "abc", 3), 0);
	ck_assert_int_eq(tfs_write_full(p[1], "defgh", 5), 0);
	ck_assert_int_eq(tfs_read_full(p[0], in, 6), 6);
	ck_assert_mem_eq(in, "abcdef", 6);
	close(p[1]);
	ck_assert_int_eq(tfs_read_full(p[0], in, sizeof(in)), 2);
	ck_assert_mem_eq(in, "gh", 2);
	ck_assert_int_eq(tfs_read_full(p[0], in, sizeof(in)), 0);
	close(p[0]);
	ck_assert_int_eq(tfs_read_full(p[0], in, 1), -EBADF);
	ck_assert_int_eq(tfs_write_full(p[1], in, 1), -EBADF);
}
END_TEST

/* Sequential on a file: the position moves with what was moved. */
START_TEST(sequential_file)
{
	char in[8];
	int fd = temp_file();

	ck_assert_int_eq(tfs_write_full(fd, "12345678", 8), 0);
	ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 8);
	ck_assert_int_eq(lseek(fd, 2, SEEK_SET), 2);
	ck_assert_int_eq(tfs_read_full(fd, in, 8), 6);
	ck_assert_mem_eq(in, "345678", 6);
	ck_assert_int_eq(tfs_write_full(fd, "", 0), 0);
	close(fd);
}
END_TEST

Suite *io_full_suite(void)
{
	Suite *s = suite_create("io_full");
	TCase *tc = tcase_create("io_full");

	tcase_add_test(tc, positional);
	tcase_add_test(tc, sequential_pipe);
	tcase_add_test(tc, sequential_file);
	suite_add_tcase(s, tc);
	return s;
}
