/* colcheck: the mount tests' syscall tool.  Does exactly one system call (or
 * one mapping) per invocation, the way numpy and coreutils cannot: a pwrite
 * past the end, an ftruncate, an open with O_TRUNC, a renameat2 flag, a
 * non-blocking flock.  Prints one line on stdout: "OK" (or the value asked
 * for) on success, the errno's name ("EPERM") on failure, so that a shell
 * test can compare it with the errno the contract promises.  Exits 0 when
 * the call succeeded, 1 when it failed, 2 on a usage error. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *errname(int e)
{
	static char buf[32];
	const char *s = strerrorname_np(e);

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* Reports a failed call: the errno name on stdout (what tests compare),
 * the call and message on stderr (what a human reads in the log). */
static int failed(const char *what, const char *path)
{
	int e = errno;

	printf("%s %s\n", errname(e), what);
	fprintf(stderr, "colcheck: %s %s: %s\n", what, path, strerror(e));
	return 1;
}

static int ok(void)
{
	puts("OK");
	return 0;
}

static uint64_t num(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s) {
		fprintf(stderr, "colcheck: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

/* Maps path read-only and shared, as a reader of a column would. */
static int map_ro(const char *path, const unsigned char **p, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return failed("open", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return failed("fstat", path);
	}
	*len = (size_t)st.st_size;
	*p = NULL;
	if (*len) {
		void *m = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);

		if (m == MAP_FAILED) {
			close(fd);
			return failed("mmap", path);
		}
		*p = m;
	}
	close(fd);
	return 0;
}

/* FNV-1a: not cryptographic, only needs to notice a changed byte. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static int cmd_hash(const char *path)
{
	const unsigned char *p;
	size_t len;

	if (map_ro(path, &p, &len))
		return 1;
	printf("%zu %016" PRIx64 "\n", len, fnv1a(p, len));
	return 0;
}

/* Same hash through read(2), to compare the two data paths. */
static int cmd_readhash(const char *path)
{
	unsigned char buf[65536];
	uint64_t h = UINT64_C(14695981039346656037);
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return failed("open", path);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			h ^= buf[i];
			h *= UINT64_C(1099511628211);
		}
		len += (size_t)n;
	}
	if (n < 0) {
		close(fd);
		return failed("read", path);
	}
	close(fd);
	printf("%zu %016" PRIx64 "\n", len, h);
	return 0;
}

/* Sum of the mapped values as float64; kind is f8, f4, i8, i4 or u1. */
static int cmd_sum(const char *path, const char *kind)
{
	const unsigned char *p;
	size_t len, size, n;
	double sum = 0;

	if (!strcmp(kind, "f8") || !strcmp(kind, "i8"))
		size = 8;
	else if (!strcmp(kind, "f4") || !strcmp(kind, "i4"))
		size = 4;
	else if (!strcmp(kind, "u1"))
		size = 1;
	else
		return fprintf(stderr, "colcheck: unknown kind %s\n", kind), 2;
	if (map_ro(path, &p, &len))
		return 1;
	n = len / size;
	for (size_t i = 0; i < n; i++) {
		const unsigned char *q = p + i * size;

		if (kind[0] == 'f' && size == 8) {
			double v;
			memcpy(&v, q, 8);
			sum += v;
		} else if (kind[0] == 'f') {
			float v;
			memcpy(&v, q, 4);
			sum += v;
		} else if (size == 8) {
			int64_t v;
			memcpy(&v, q, 8);
			sum += (double)v;
		} else if (size == 4) {
			int32_t v;
			memcpy(&v, q, 4);
			sum += v;
		} else {
			sum += *q;
		}
	}
	printf("%zu %.17g\n", len, sum);
	return 0;
}

/* Compares the mapping of path with the bytes of the plain file ref. */
static int cmd_cmp(const char *path, const char *ref)
{
	const unsigned char *p;
	size_t len, off = 0;
	unsigned char buf[65536];
	ssize_t n;
	int fd;

	if (map_ro(path, &p, &len))
		return 1;
	fd = open(ref, O_RDONLY);
	if (fd < 0)
		return failed("open", ref);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		if (off + (size_t)n > len || memcmp(p + off, buf, (size_t)n)) {
			size_t i = 0;

			while (off + i < len && i < (size_t)n && p[off + i] == buf[i])
				i++;
			printf("DIFFER at %zu\n", off + i);
			return 1;
		}
		off += (size_t)n;
	}
	close(fd);
	if (off != len) {
		printf("DIFFER length %zu != %zu\n", len, off);
		return 1;
	}
	return ok();
}

static int cmd_pwrite(const char *path, uint64_t off, uint64_t len, int byte, int extra)
{
	char *buf;
	ssize_t n;
	int fd = open(path, O_WRONLY | extra);

	if (fd < 0)
		return failed("open", path);
	buf = malloc(len ? len : 1);
	if (!buf)
		return 2;
	memset(buf, byte, len);
	if (extra & O_APPEND)
		n = write(fd, buf, len);
	else
		n = pwrite(fd, buf, len, (off_t)off);
	free(buf);
	if (n < 0) {
		close(fd);
		return failed("pwrite", path);
	}
	if (close(fd) < 0)
		return failed("close", path);
	if ((uint64_t)n != len) {
		printf("SHORT %zd\n", n);
		return 1;
	}
	return ok();
}

/* Writes one byte through a shared writable mapping. */
static int cmd_mapwrite(const char *path, uint64_t off, int byte)
{
	unsigned char *p;
	struct stat st;
	int fd = open(path, O_RDWR);

	if (fd < 0)
		return failed("open", path);
	if (fstat(fd, &st) < 0 || off >= (uint64_t)st.st_size) {
		fprintf(stderr, "colcheck: offset %" PRIu64 " outside %s\n", off, path);
		return 2;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return failed("mmap", path);
	p[off] = (unsigned char)byte;
	if (msync(p, (size_t)st.st_size, MS_SYNC) < 0)
		return failed("msync", path);
	munmap(p, (size_t)st.st_size);
	close(fd);
	return ok();
}

/* Open flags from a comma list: r w rw creat excl trunc append. */
static int parse_flags(const char *s)
{
	char tmp[128], *save, *tok;
	int flags = 0;

	snprintf(tmp, sizeof(tmp), "%s", s);
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "r"))
			flags |= O_RDONLY;
		else if (!strcmp(tok, "w"))
			flags |= O_WRONLY;
		else if (!strcmp(tok, "rw"))
			flags |= O_RDWR;
		else if (!strcmp(tok, "creat"))
			flags |= O_CREAT;
		else if (!strcmp(tok, "excl"))
			flags |= O_EXCL;
		else if (!strcmp(tok, "trunc"))
			flags |= O_TRUNC;
		else if (!strcmp(tok, "append"))
			flags |= O_APPEND;
		else {
			fprintf(stderr, "colcheck: unknown open flag %s\n", tok);
			exit(2);
		}
	}
	return flags;
}

/* The whole of a file, NUL-terminated (a document too long for argv). */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return NULL;
	}
	do {
		if (cap - len < 65536) {
			char *nb = realloc(buf, cap + 65537);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Writes doc (or the file @doc names) to a meta.json in chunks of chunk bytes (0: one write) and
 * closes; the first failing call is reported, with its name. */
static int write_doc(const char *path, const char *doc, size_t chunk)
{
	size_t len = strlen(doc), off = 0;
	int fd = open(path, O_WRONLY | O_TRUNC);

	if (fd < 0)
		return failed("open", path);
	if (!chunk)
		chunk = len ? len : 1;
	while (off < len) {
		size_t k = len - off < chunk ? len - off : chunk;
		ssize_t n = write(fd, doc + off, k);

		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return failed("write", path);
		}
		off += (size_t)n;
	}
	if (close(fd) < 0)
		return failed("close", path);
	return ok();
}

static int cmd_meta(const char *path, const char *doc, size_t chunk)
{
	char *file;
	int rc;

	if (doc[0] != '@')
		return write_doc(path, doc, chunk);
	file = slurp(doc + 1);
	if (!file)
		return 2;
	rc = write_doc(path, file, chunk);
	free(file);
	return rc;
}

static int cmd_flock(const char *path, const char *how)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return failed("open", path);
	if (flock(fd, (!strcmp(how, "sh") ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		return failed("flock", path);
	return ok();
}

static void usage(void)
{
	fputs("usage: colcheck CMD ARGS...\n"
	      "  size PATH | hash PATH | readhash PATH | sum PATH f8|f4|i8|i4|u1 | cmp PATH REF\n"
	      "  pwrite PATH OFF LEN [BYTE] | append PATH LEN | mapwrite PATH OFF BYTE\n"
	      "  truncate PATH SIZE | ftruncate PATH SIZE | open PATH FLAGS\n"
	      "  meta PATH DOC|@FILE [CHUNK] | flock PATH sh|ex\n"
	      "  mkdir|rmdir|unlink|mknod PATH | rename|exchange|noreplace|link|symlink A B\n"
	      "  chmod PATH OCTAL | chown PATH UID GID\n",
	      stderr);
	exit(2);
}

#define NEED(n)                                                                                    \
	do {                                                                                       \
		if (argc < (n) + 2)                                                                \
			usage();                                                                   \
	} while (0)
#define CALL(expr, what) return (expr) < 0 ? failed(what, argv[2]) : ok()

int main(int argc, char **argv)
{
	const char *c;

	NEED(1);
	c = argv[1];
	if (!strcmp(c, "size")) {
		struct stat st;

		if (stat(argv[2], &st) < 0)
			return failed("stat", argv[2]);
		printf("%jd\n", (intmax_t)st.st_size);
		return 0;
	}
	if (!strcmp(c, "hash"))
		return cmd_hash(argv[2]);
	if (!strcmp(c, "readhash"))
		return cmd_readhash(argv[2]);
	if (!strcmp(c, "sum")) {
		NEED(2);
		return cmd_sum(argv[2], argv[3]);
	}
	if (!strcmp(c, "cmp")) {
		NEED(2);
		return cmd_cmp(argv[2], argv[3]);
	}
	if (!strcmp(c, "pwrite")) {
		NEED(3);
		return cmd_pwrite(argv[2], num(argv[3]), num(argv[4]),
				  argc > 5 ? (int)num(argv[5]) : 0x5a, 0);
	}
	if (!strcmp(c, "append")) {
		NEED(2);
		return cmd_pwrite(argv[2], 0, num(argv[3]), 0x5a, O_APPEND);
	}
	if (!strcmp(c, "mapwrite")) {
		NEED(3);
		return cmd_mapwrite(argv[2], num(argv[3]), (int)num(argv[4]));
	}
	if (!strcmp(c, "truncate")) {
		NEED(2);
		CALL(truncate(argv[2], (off_t)num(argv[3])), "truncate");
	}
	if (!strcmp(c, "ftruncate")) {
		int fd;

		NEED(2);
		fd = open(argv[2], O_WRONLY);
		if (fd < 0)
			return failed("open", argv[2]);
		CALL(ftruncate(fd, (off_t)num(argv[3])), "ftruncate");
	}
	if (!strcmp(c, "open")) {
		int fd;

		NEED(2);
		fd = open(argv[2], parse_flags(argv[3]), 0644);
		if (fd < 0)
			return failed("open", argv[2]);
		CALL(close(fd), "close");
	}
	if (!strcmp(c, "meta")) {
		NEED(2);
		return cmd_meta(argv[2], argv[3], argc > 4 ? (size_t)num(argv[4]) : 0);
	}
	if (!strcmp(c, "flock")) {
		NEED(2);
		return cmd_flock(argv[2], argv[3]);
	}
	if (!strcmp(c, "mkdir"))
		CALL(mkdir(argv[2], 0755), "mkdir");
	if (!strcmp(c, "rmdir"))
		CALL(rmdir(argv[2]), "rmdir");
	if (!strcmp(c, "unlink"))
		CALL(unlink(argv[2]), "unlink");
	if (!strcmp(c, "mknod"))
		CALL(mknod(argv[2], S_IFREG | 0644, 0), "mknod");
	if (!strcmp(c, "chmod")) {
		NEED(2);
		CALL(chmod(argv[2], (mode_t)strtoul(argv[3], NULL, 8)), "chmod");
	}
	if (!strcmp(c, "chown")) {
		NEED(3);
		CALL(chown(argv[2], (uid_t)num(argv[3]), (gid_t)num(argv[4])), "chown");
	}
	NEED(2);
	if (!strcmp(c, "rename"))
		CALL(rename(argv[2], argv[3]), "rename");
	if (!strcmp(c, "exchange"))
		CALL(renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], RENAME_EXCHANGE), "renameat2");
	if (!strcmp(c, "noreplace"))
		CALL(renameat2(AT_FDCWD, argv[2], AT_FDCWD, argv[3], RENAME_NOREPLACE),
		     "renameat2");
	if (!strcmp(c, "link"))
		CALL(link(argv[2], argv[3]), "link");
	if (!strcmp(c, "symlink"))
		CALL(symlink(argv[2], argv[3]), "symlink");
	usage();
	return 2;
}
