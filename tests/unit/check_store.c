#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "suites.h"

static void create(struct tfs_store *st, uint64_t size, const char *label)
{
	int rc = tfs_store_create(st, size, label);

	ck_assert_msg(rc == 0, "create %llu: %s", (unsigned long long)size, strerror(-rc));
	ck_assert_int_ge(st->fd, 0);
	ck_assert_uint_eq(st->size, size);
}

static uint64_t fd_size(int fd)
{
	struct stat sb;

	ck_assert_int_eq(fstat(fd, &sb), 0);
	return (uint64_t)sb.st_size;
}

static void check_sealed(int fd)
{
	int seals = fcntl(fd, F_GET_SEALS);

	ck_assert_int_ge(seals, 0);
	ck_assert_msg((seals & F_SEAL_GROW) && (seals & F_SEAL_SHRINK), "seals 0x%x", seals);
	/* the data itself stays writable */
	ck_assert_int_eq(seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE), 0);
}

START_TEST(exact_size_and_zeroed)
{
	static const uint64_t sizes[] = {1, 10, 4095, 4096, 4097, 100000};
	unsigned char buf[4096];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct tfs_store st;
		uint64_t off;

		create(&st, sizes[k], "zeroed");
		ck_assert_uint_eq(fd_size(st.fd), sizes[k]);
		ck_assert_ptr_nonnull(st.map);
		for (uint64_t i = 0; i < st.size; i++)
			ck_assert_msg(((unsigned char *)st.map)[i] == 0, "byte %llu not zero",
				      (unsigned long long)i);
		for (off = 0; off < st.size; off += sizeof(buf)) {
			ssize_t n = pread(st.fd, buf, sizeof(buf), (off_t)off);

			ck_assert_int_gt(n, 0);
			for (ssize_t i = 0; i < n; i++)
				ck_assert_int_eq(buf[i], 0);
		}
		ck_assert_int_eq(pread(st.fd, buf, 1, (off_t)st.size), 0);
		tfs_store_destroy(&st);
	}
}
END_TEST

START_TEST(sealed)
{
	struct tfs_store st;

	create(&st, 100, "sealed");
	check_sealed(st.fd);
	tfs_store_destroy(&st);
}
END_TEST

/* The map and the fd are the same memory. */
START_TEST(map_is_shared)
{
	struct tfs_store st;
	char buf[4];

	create(&st, 8192, "shared");
	memcpy((char *)st.map + 5000, "abcd", 4);
	ck_assert_int_eq(pread(st.fd, buf, 4, 5000), 4);
	ck_assert_int_eq(memcmp(buf, "abcd", 4), 0);
	ck_assert_int_eq(pwrite(st.fd, "wxyz", 4, 10), 4);
	ck_assert_int_eq(memcmp((char *)st.map + 10, "wxyz", 4), 0);
	tfs_store_destroy(&st);
}
END_TEST

/* The kernel refuses to grow a sealed memfd, whichever path the write
 * takes: this is what keeps size == rows * itemsize. */
START_TEST(write_past_end_eperm)
{
	struct tfs_store st;

	create(&st, 10, "pastend");
	ck_assert_int_eq(pwrite(st.fd, "x", 1, 9), 1);
	errno = 0;
	ck_assert_int_eq(pwrite(st.fd, "x", 1, 10), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(pwrite(st.fd, "x", 1, 100000), -1);
	ck_assert_int_eq(errno, EPERM);
	/* straddling the end within a page: nothing written */
	errno = 0;
	ck_assert_int_eq(pwrite(st.fd, "abcd", 4, 8), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(((char *)st.map)[8], 0);
	ck_assert_uint_eq(fd_size(st.fd), 10);
	tfs_store_destroy(&st);
}
END_TEST

START_TEST(truncate_eperm)
{
	struct tfs_store st;

	create(&st, 5000, "trunc");
	errno = 0;
	ck_assert_int_eq(ftruncate(st.fd, 5001), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(ftruncate(st.fd, 4999), -1);
	ck_assert_int_eq(errno, EPERM);
	errno = 0;
	ck_assert_int_eq(ftruncate(st.fd, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	/* to its own size: a no-op that succeeds */
	ck_assert_int_eq(ftruncate(st.fd, 5000), 0);
	ck_assert_uint_eq(fd_size(st.fd), 5000);
	errno = 0;
	ck_assert_int_eq(fallocate(st.fd, 0, 0, 10000), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_uint_eq(fd_size(st.fd), 5000);
	tfs_store_destroy(&st);
}
END_TEST

START_TEST(label_names_memfd)
{
	char path[64], link[PATH_MAX];
	struct tfs_store st;
	ssize_t n;

	create(&st, 1, "trades.price");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", st.fd);
	n = readlink(path, link, sizeof(link) - 1);
	ck_assert_int_gt(n, 0);
	link[n] = '\0';
	ck_assert_msg(strstr(link, "memfd:") && strstr(link, "trades.price"), "link %s", link);
	tfs_store_destroy(&st);
}
END_TEST

static void fill(struct tfs_store *st, unsigned seed)
{
	for (uint64_t i = 0; i < st->size; i++)
		((unsigned char *)st->map)[i] = (unsigned char)(i * 7 + seed);
}

START_TEST(copy_grow_and_shrink)
{
	struct tfs_store src, big, small;

	create(&src, 10000, "src");
	create(&big, 20000, "big");
	create(&small, 3000, "small");
	fill(&src, 3);
	fill(&big, 1);
	tfs_store_copy(&big, &src);
	ck_assert_int_eq(memcmp(big.map, src.map, 10000), 0);
	/* the rest of dst is untouched */
	for (uint64_t i = 10000; i < 20000; i++)
		ck_assert_int_eq(((unsigned char *)big.map)[i], (unsigned char)(i * 7 + 1));
	tfs_store_copy(&small, &src);
	ck_assert_int_eq(memcmp(small.map, src.map, 3000), 0);
	ck_assert_uint_eq(fd_size(small.fd), 3000);
	ck_assert_uint_eq(fd_size(big.fd), 20000);
	tfs_store_destroy(&src);
	tfs_store_destroy(&big);
	tfs_store_destroy(&small);
}
END_TEST

START_TEST(size_zero)
{
	struct tfs_store st, other;

	create(&st, 0, "empty");
	ck_assert_ptr_null(st.map);
	ck_assert_uint_eq(fd_size(st.fd), 0);
	check_sealed(st.fd);
	errno = 0;
	ck_assert_int_eq(pwrite(st.fd, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_int_eq(ftruncate(st.fd, 1), -1);
	/* copying to or from nothing copies nothing */
	create(&other, 100, "other");
	fill(&other, 9);
	tfs_store_copy(&other, &st);
	ck_assert_int_eq(((unsigned char *)other.map)[0], 9);
	tfs_store_copy(&st, &other);
	ck_assert_uint_eq(fd_size(st.fd), 0);
	tfs_store_destroy(&other);
	tfs_store_destroy(&st);
}
END_TEST

START_TEST(destroy_closes)
{
	struct tfs_store st;
	int fd;

	create(&st, 4096, "closed");
	fd = st.fd;
	tfs_store_destroy(&st);
	errno = 0;
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* Another holder (a mapping, a passed fd) keeps the memory after destroy. */
START_TEST(memory_outlives_destroy)
{
	struct tfs_store st;
	char buf[3];
	int fd;

	create(&st, 4096, "kept");
	memcpy(st.map, "hey", 3);
	fd = dup(st.fd);
	ck_assert_int_ge(fd, 0);
	tfs_store_destroy(&st);
	ck_assert_int_eq(pread(fd, buf, 3, 0), 3);
	ck_assert_int_eq(memcmp(buf, "hey", 3), 0);
	close(fd);
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("memfd");

	tcase_add_test(tc, exact_size_and_zeroed);
	tcase_add_test(tc, sealed);
	tcase_add_test(tc, map_is_shared);
	tcase_add_test(tc, write_past_end_eperm);
	tcase_add_test(tc, truncate_eperm);
	tcase_add_test(tc, label_names_memfd);
	tcase_add_test(tc, copy_grow_and_shrink);
	tcase_add_test(tc, size_zero);
	tcase_add_test(tc, destroy_closes);
	tcase_add_test(tc, memory_outlives_destroy);
	suite_add_tcase(s, tc);
	return s;
}
