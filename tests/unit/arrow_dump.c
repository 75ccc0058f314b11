/* arrow_dump PATH ROWS: writes the Arrow IPC file (src/core/arrow_file.c) of a table
 * with a column of every type of the contract (fixed width, then text,
 * binary, category and nullable columns), filled with values that
 * tests/unit/arrow_check.mjs and arrow_check.py recompute.  Each formula
 * below has its twins there; change them together. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arrow_file.h"
#include "schema.h"

struct col {
	const char *name, *type;
	unsigned ndim;
	uint64_t shape[2];
	bool nullable;
};

static const struct col cols[] = {
    {"i8", "int8", 0, {0}, false},
    {"i16", "int16", 0, {0}, false},
    {"i32", "int32", 0, {0}, false},
    {"i64", "int64", 0, {0}, false},
    {"u8", "uint8", 0, {0}, false},
    {"u16", "uint16", 0, {0}, false},
    {"u32", "uint32", 0, {0}, false},
    {"u64", "uint64", 0, {0}, false},
    {"f16", "float16", 0, {0}, false},
    {"f32", "float32", 0, {0}, false},
    {"f64", "float64", 0, {0}, false},
    {"flag", "bool", 0, {0}, false},
    {"ts_s", "datetime64[s]", 0, {0}, false},
    {"ts_ms", "datetime64[ms]", 0, {0}, false},
    {"ts_us", "datetime64[us]", 0, {0}, false},
    {"ts_ns", "datetime64[ns]", 0, {0}, false},
    {"td_s", "timedelta64[s]", 0, {0}, false},
    {"td_ms", "timedelta64[ms]", 0, {0}, false},
    {"td_us", "timedelta64[us]", 0, {0}, false},
    {"td_ns", "timedelta64[ns]", 0, {0}, false},
    {"b5", "bytes5", 0, {0}, false},
    {"vec", "float32", 1, {3}, false},
    {"mat", "int16", 2, {2, 3}, false},
    /* The columns of several files. */
    {"s", "utf8", 0, {0}, true},
    {"s_all", "utf8", 0, {0}, true},
    {"s_none", "utf8", 0, {0}, false},
    {"blob", "binary", 0, {0}, true},
    {"sym", "category", 0, {0}, true},
    {"sym0", "category", 0, {0}, false},
    {"qty", "int64", 0, {0}, true},
    {"px", "float64", 0, {0}, true},
    {"ok", "bool", 0, {0}, true},
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

/* The text columns' words: empty, non-ASCII, CSV-hostile. */
static const char *const words[] = {"a", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac", "x,y\"z\n"};
/* The categories of sym: one is empty, one non-ASCII. */
static const char *const cats[] = {"AAPL", "MSFT", "\xe6\x97\xa5\xe6\x9c\xac", ""};
#define NCATS 4

/* Whether row i of column k is null (nullable columns only). */
static bool is_null(size_t k, uint64_t i, uint64_t rows)
{
	const char *n = cols[k].name;

	if (!strcmp(n, "s"))
		return i == 0 || i == rows - 1 || i % 7 == 3;
	if (!strcmp(n, "s_all"))
		return true;
	if (!strcmp(n, "blob"))
		return i % 6 == 5;
	if (!strcmp(n, "sym"))
		return i % 7 == 3;
	if (!strcmp(n, "qty"))
		return i % 4 == 1;
	if (!strcmp(n, "px"))
		return i % 3 == 2;
	if (!strcmp(n, "ok"))
		return i % 5 == 4;
	return false;
}

/* Value of row i of text column k into buf (at most 64 bytes); its length. */
static size_t text(size_t k, uint64_t i, unsigned char *buf)
{
	const char *n = cols[k].name;

	if (!strcmp(n, "blob")) {
		size_t len = i % 4;

		for (size_t j = 0; j < len; j++)
			buf[j] = (unsigned char)(i + 37 * j);
		return len;
	}
	if (i % 5 == 0)
		return 0;
	return (size_t)snprintf((char *)buf, 64, "%s%llu", words[i % 4], (unsigned long long)i);
}

/* Fills the files of column k, of a kind with several files or nullable. */
static int fill_files(size_t k, struct tfs_coldef *d, struct tfs_arrow_col *a, uint64_t rows,
		      void **mem)
{
	unsigned char *nulls = NULL, *data = NULL, buf[64];
	int64_t *off = NULL;
	int32_t *codes;

	if (d->nullable) {
		nulls = mem[1] = calloc(rows ? rows : 1, 1);
		if (!nulls)
			return -ENOMEM;
		for (uint64_t i = 0; i < rows; i++)
			nulls[i] = is_null(k, i, rows) ? (unsigned char)(1 + i % 2) : 0;
		a->nulls = nulls;
	}
	switch (d->type.kind) {
	case TFS_UTF8:
	case TFS_BINARY:
		/* Twice as much data as needed: the file may be longer. */
		off = mem[0] = calloc(rows + 1, 8);
		data = mem[2] = malloc(128 * (rows + 1));
		if (!off || !data)
			return -ENOMEM;
		for (uint64_t i = 0; i < rows; i++) {
			size_t len = nulls && nulls[i] ? 0 : text(k, i, buf);

			memcpy(data + off[i], buf, len);
			off[i + 1] = off[i] + (int64_t)len;
		}
		d->data_bytes = (uint64_t)off[rows] * 2;
		memset(data + off[rows], 0xee, (size_t)off[rows]);
		a->main = off;
		a->data = d->data_bytes ? data : NULL;
		return 0;
	case TFS_CATEGORY:
		codes = mem[0] = malloc(4 * (rows ? rows : 1));
		off = mem[3] = calloc(NCATS + 1, 8);
		data = mem[4] = malloc(64);
		if (!codes || !off || !data)
			return -ENOMEM;
		d->ncat = strcmp(cols[k].name, "sym0") ? NCATS : 0;
		for (uint64_t j = 0; j < d->ncat; j++) {
			size_t len = strlen(cats[j]);

			memcpy(data + off[j], cats[j], len);
			off[j + 1] = off[j] + (int64_t)len;
		}
		d->dict_bytes = (uint64_t)off[d->ncat];
		/* -1 (missing) every fifth row, also under a null */
		for (uint64_t i = 0; i < rows; i++)
			codes[i] = d->ncat ? (int32_t)(i % 5) - 1 : -1;
		a->main = codes;
		a->dict = off;
		a->dict_data = data;
		return 0;
	default:
		mem[0] = malloc(rows * d->itemsize);
		if (!mem[0])
			return -ENOMEM;
		for (uint64_t i = 0; i < rows; i++) {
			unsigned char *p = (unsigned char *)mem[0] + i * d->itemsize;
			const char *n = cols[k].name;

			if (!strcmp(n, "qty"))
				*(int64_t *)p = nulls[i] ? 0 : (int64_t)i * 3 - 100;
			else if (!strcmp(n, "px"))
				*(double *)p = (double)i * 0.5 - 7;
			else
				*p = i % 2 ? 0 : (unsigned char)(1 + i % 3);
		}
		a->main = mem[0];
		return 0;
	}
}

int main(int argc, char **argv)
{
	struct tfs_coldef defs[NCOLS];
	struct tfs_arrow_col acol[NCOLS] = {0};
	unsigned char *mem[NCOLS] = {0};
	void *files[NCOLS][5] = {{0}};
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
		defs[c].nullable = cols[c].nullable;
		if (cols[c].nullable || tfs_type_is_varlen(&defs[c].type)) {
			if (fill_files(c, &defs[c], &acol[c], rows, files[c])) {
				fprintf(stderr, "arrow_dump: out of memory\n");
				return 1;
			}
			if (tfs_arrow_check(&acol[c], rows, why, sizeof(why))) {
				fprintf(stderr, "arrow_dump: %s\n", why);
				return 1;
			}
			continue;
		}
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
	for (size_t c = 0; c < NCOLS; c++) {
		free(mem[c]);
		for (int r = 0; r < 5; r++)
			free(files[c][r]);
	}
	return 0;
}
