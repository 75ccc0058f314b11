/* arrow_dump PATH ROWS: writes the Arrow IPC file (src/core/arrow_file.c) of a table
 * with a column of every type of the contract, filled with values that
 * tests/unit/arrow_check.mjs recomputes.  Each formula below has its twin
 * there; change both together. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_file.h"
#include "schema.h"

struct col {
	const char *name, *type;
	unsigned ndim;
	uint64_t shape[2];
};

static const struct col cols[] = {
    {"i8", "int8", 0, {0}},
    {"i16", "int16", 0, {0}},
    {"i32", "int32", 0, {0}},
    {"i64", "int64", 0, {0}},
    {"u8", "uint8", 0, {0}},
    {"u16", "uint16", 0, {0}},
    {"u32", "uint32", 0, {0}},
    {"u64", "uint64", 0, {0}},
    {"f16", "float16", 0, {0}},
    {"f32", "float32", 0, {0}},
    {"f64", "float64", 0, {0}},
    {"flag", "bool", 0, {0}},
    {"ts_s", "datetime64[s]", 0, {0}},
    {"ts_ms", "datetime64[ms]", 0, {0}},
    {"ts_us", "datetime64[us]", 0, {0}},
    {"ts_ns", "datetime64[ns]", 0, {0}},
    {"td_s", "timedelta64[s]", 0, {0}},
    {"td_ms", "timedelta64[ms]", 0, {0}},
    {"td_us", "timedelta64[us]", 0, {0}},
    {"td_ns", "timedelta64[ns]", 0, {0}},
    {"b5", "bytes5", 0, {0}},
    {"vec", "float32", 1, {3}},
    {"mat", "int16", 2, {2, 3}},
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* Half-precision bits of v, exact for the multiples of 1/2 used here. */
static uint16_t half_bits(double v)
{
	uint16_t sign = v < 0 ? 0x8000 : 0;
	int e = 0;

	if (v < 0)
		v = -v;
	if (v == 0)
		return sign;
	while (v >= 2) {
		v /= 2;
		e++;
	}
	while (v < 1) {
		v *= 2;
		e--;
	}
	return (uint16_t)(sign | (uint16_t)(e + 15) << 10 | (uint16_t)((v - 1) * 1024));
}

/* Fills row i of column number k at p. */
static void fill(size_t k, uint64_t i, unsigned char *p)
{
	const struct col *c = &cols[k];
	int64_t s = (int64_t)i;
	const char *t = c->type;

	if (!strcmp(c->name, "i8")) {
		*(int8_t *)p = (int8_t)(s * 3 - 7);
	} else if (!strcmp(c->name, "i16")) {
		*(int16_t *)p = (int16_t)(s * 300 - 7000);
	} else if (!strcmp(c->name, "i32")) {
		*(int32_t *)p = (int32_t)(s * 100000 - 1000000);
	} else if (!strcmp(c->name, "i64")) {
		*(int64_t *)p = s * (INT64_C(1) << 40) - 7;
	} else if (!strcmp(c->name, "u8")) {
		*p = (uint8_t)(i * 7);
	} else if (!strcmp(c->name, "u16")) {
		*(uint16_t *)p = (uint16_t)(i * 1801);
	} else if (!strcmp(c->name, "u32")) {
		*(uint32_t *)p = (uint32_t)(i * 123456789);
	} else if (!strcmp(c->name, "u64")) {
		*(uint64_t *)p = (UINT64_C(1) << 63) + i * 3;
	} else if (!strcmp(c->name, "f16")) {
		*(uint16_t *)p = half_bits((double)(i % 1000) * 0.5 - 4);
	} else if (!strcmp(c->name, "f32")) {
		*(float *)p = (float)((double)i * 0.25 - 3);
	} else if (!strcmp(c->name, "f64")) {
		*(double *)p = (double)i / 3 - 1e10;
	} else if (!strcmp(c->name, "flag")) {
		/* any nonzero byte is true */
		*p = i % 3 == 0 ? (i % 2 ? 1 : 7) : 0;
	} else if (!strncmp(t, "datetime64", 10)) {
		*(int64_t *)p = 1700000000 + s * 12345 + (int64_t)k;
	} else if (!strncmp(t, "timedelta64", 11)) {
		*(int64_t *)p = s * 1000003 - 5 - (int64_t)k;
	} else if (!strcmp(c->name, "b5")) {
		p[0] = (unsigned char)i;
		p[1] = (unsigned char)(i + 1);
		p[2] = (unsigned char)(i + 2);
		p[3] = (unsigned char)(255 - i % 256);
		p[4] = (unsigned char)('A' + i % 26);
	} else if (!strcmp(c->name, "vec")) {
		for (int j = 0; j < 3; j++)
			((float *)p)[j] = (float)((double)(i % 10000) * 3 + j + 0.5);
	} else if (!strcmp(c->name, "mat")) {
		for (int a = 0; a < 2; a++)
			for (int b = 0; b < 3; b++)
				((int16_t *)p)[a * 3 + b] =
				    (int16_t)(s % 100 * 100 + a * 10 + b - 1000);
	}
}

int main(int argc, char **argv)
{
	struct tfs_coldef defs[NCOLS];
	struct tfs_arrow_col acol[NCOLS] = {0};
	unsigned char *mem[NCOLS] = {0};
	struct tfs_arrow_layout l;
	char why[TFS_WHY_MAX];
	unsigned char chunk[4093]; /* odd, so reads straddle segment ends */
	uint64_t rows, off;
	FILE *f;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: arrow_dump PATH ROWS\n");
		return 2;
	}
	rows = strtoull(argv[2], NULL, 10);
	for (size_t c = 0; c < NCOLS; c++) {
		if (tfs_coldef_init(&defs[c], cols[c].name, cols[c].type, cols[c].shape,
				    cols[c].ndim, why, sizeof(why))) {
			fprintf(stderr, "arrow_dump: %s: %s\n", cols[c].name, why);
			return 1;
		}
		acol[c].def = &defs[c];
		if (!rows)
			continue;
		mem[c] = malloc(rows * defs[c].itemsize);
		if (!mem[c]) {
			fprintf(stderr, "arrow_dump: out of memory\n");
			return 1;
		}
		for (uint64_t i = 0; i < rows; i++)
			fill(c, i, mem[c] + i * defs[c].itemsize);
		acol[c].main = mem[c];
	}
	rc = tfs_arrow_layout(acol, NCOLS, rows, &l);
	if (rc) {
		fprintf(stderr, "arrow_dump: tfs_arrow_layout: %s\n", strerror(-rc));
		return 1;
	}
	f = fopen(argv[1], "wb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	for (off = 0; off < l.size;) {
		ssize_t n = tfs_arrow_read(&l, off, sizeof(chunk), chunk);

		if (n <= 0 || fwrite(chunk, 1, (size_t)n, f) != (size_t)n)
			break;
		off += (uint64_t)n;
	}
	if (fclose(f) || off != l.size) {
		fprintf(stderr, "arrow_dump: writing %s failed\n", argv[1]);
		return 1;
	}
	tfs_arrow_free(&l);
	for (size_t c = 0; c < NCOLS; c++)
		free(mem[c]);
	return 0;
}
