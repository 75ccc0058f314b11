/* tablectl: the command line client of tablefs.  It works through the mount
 * alone with plain file calls, so every command is something a user could do
 * by hand: mkdir and a write to meta.json create a table, .status tells what
 * the daemon holds, column files are read and written in place. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "mem.h"

static const char usage_text[] =
    "Usage: tablectl [--mount DIR] COMMAND [ARGS]\n"
    "\n"
    "Manage the tables of a tablefs mount through plain file operations.\n"
    "\n"
    "Commands:\n"
    "  create TABLE [--rows N] COL:TYPE[SHAPE][?]...\n"
    "                          create a table (or add columns / set rows), e.g.\n"
    "                          create trades --rows 1000 price:float64 emb:float32[128]\n"
    "  ls                      list the tables: rows, columns, memory\n"
    "  info TABLE              show a table's rows, version and columns\n"
    "  head TABLE [-n N]       print the first N rows (default 10)\n"
    "  import TABLE FILE       load a .csv or .npy file (the table is created or\n"
    "                          resized to the file's rows; new columns are added)\n"
    "  export TABLE FILE       write the table to a .csv file (or '-' for stdout),\n"
    "                          or one column to a .npy file\n"
    "  rm TABLE...             delete tables and all their columns\n"
    "  status                  memory used and limit, data path, tables with their\n"
    "                          memory and open handles\n"
    "\n"
    "Options:\n"
    "  -m, --mount DIR         the tablefs mount (default $TABLEFS_MOUNT, else /mnt/tables)\n"
    "  -r, --rows N            rows of the table (create)\n"
    "  -n, --lines N           rows to print (head)\n"
    "  -c, --column NAME       the column of a .npy file (import, export)\n"
    "  -h, --help              print this help, or a command's with the command, and\n"
    "                          exit\n"
    "  -V, --version           print the version and exit\n"
    "\n"
    "Types: bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32\n"
    "float64 datetime64[s|ms|us|ns] timedelta64[s|ms|us|ns] bytesN, or numpy dtype\n"
    "strings such as <f8 or |S16; utf8 (text), binary, category[CAT,...].  SHAPE is\n"
    "the per-row shape: [128] or [28,28].  A trailing ? makes a column nullable.\n"
    "\n"
    "Exit status: 0 success, 1 failure, 2 usage error.\n";

enum opt_bit { OPT_ROWS = 1, OPT_LINES = 2, OPT_COLUMN = 4 };

struct opts {
	uint64_t rows;
	uint64_t lines;
	const char *column;
	unsigned seen; /* enum opt_bit */
};

/* A count in .status: 0 when absent or not a whole number >= 0. */
static uint64_t json_num(const cJSON *obj, const char *key)
{
	uint64_t v;

	return tfs_json_uint(cJSON_GetObjectItemCaseSensitive(obj, key), UINT64_MAX, &v) ? 0 : v;
}

static const char *json_str(const cJSON *obj, const char *key, const char *dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* The categories of "sym:category[AAPL,MSFT]": the text between the
 * brackets (len bytes at p) is one CSV record, so a category may hold a
 * comma when quoted.  In the order given: the first is code 0. */
static int parse_categories(const char *spec, const char *p, size_t len, struct tfs_cats *cats)
{
	struct ctl_csv csv = {.path = spec};
	struct ctl_strset seen = {0};
	uint64_t bytes = 0;
	int rc = -1;

	memset(cats, 0, sizeof(*cats));
	if (len == 0)
		return 0;
	csv.f = fmemopen((void *)p, len, "r");
	if (!csv.f || ctl_csv_next(&csv) <= 0)
		goto out;
	cats->offsets = calloc(csv.nfields + 1, sizeof(*cats->offsets));
	cats->bytes = malloc(len + 1);
	if (!cats->offsets || !cats->bytes)
		goto out_nomem;
	for (size_t i = 0; i < csv.nfields; i++) {
		int added = ctl_strset_add(&seen, csv.fields[i], csv.lens[i]);

		if (added < 0)
			goto out_nomem;
		if (!added || ctl_utf8_prefix(csv.fields[i], csv.lens[i]) != csv.lens[i] ||
		    memchr(csv.fields[i], '\0', csv.lens[i])) {
			ctl_err(spec, "category '%s' %s", csv.fields[i],
				added ? "is not valid UTF-8" : "given twice");
			goto out;
		}
		memcpy(cats->bytes + bytes, csv.fields[i], csv.lens[i]);
		bytes += csv.lens[i];
		cats->offsets[i + 1] = (int64_t)bytes;
	}
	cats->n = csv.nfields;
	rc = 0;
	goto out;
out_nomem:
	ctl_err(spec, "%s", strerror(ENOMEM));
out:
	if (rc) {
		free(cats->offsets);
		free(cats->bytes);
		memset(cats, 0, sizeof(*cats));
		if (!csv.f)
			ctl_err(spec, "%s", strerror(errno));
	}
	ctl_strset_free(&seen);
	ctl_csv_close(&csv);
	return rc;
}

/* A column spec "name:type[shape]": a trailing [..] of digits and commas is
 * the shape; any other bracket belongs to the type, as in datetime64[ns];
 * "category[a,b]" lists categories; a trailing ? makes the column nullable.
 * Only the text is taken apart here: the name, type and shape are checked by
 * tfs_coldef_init, as the daemon checks a column written to meta.json.
 * cats holds the categories def points to. */
static int parse_colspec(const char *spec, struct tfs_coldef *def, struct tfs_cats *cats)
{
	char why[TFS_WHY_MAX], name[TFS_NAME_MAX + 1], type[TFS_TYPE_STR_MAX * 2];
	const char *colon = strchr(spec, ':'), *open = NULL, *p;
	uint64_t dims[TFS_MAX_DIMS];
	unsigned ndim = 0;
	size_t tlen, nlen;
	bool nullable = false, has_cats = false;
	char *end;

	nlen = colon ? (size_t)(colon - spec) : 0;
	if (!colon || nlen > TFS_NAME_MAX) {
		ctl_err(spec, "%s",
			colon ? "column name too long" : "expected NAME:TYPE, e.g. price:float64");
		return -1;
	}
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	tlen = strlen(colon + 1);
	if (tlen && colon[tlen] == '?') {
		nullable = true;
		tlen--;
	}
	if (!strncmp(colon + 1, "category[", 9) && tlen > 9 && colon[tlen] == ']') {
		if (parse_categories(spec, colon + 10, tlen - 10, cats))
			return -1;
		has_cats = true;
		tlen = 8;
	} else if (tlen && colon[tlen] == ']')
		open = strrchr(colon + 1, '[');
	if (open && strspn(open + 1, "0123456789, ") != (size_t)(colon + tlen - open - 1))
		open = NULL;
	if (open)
		tlen = (size_t)(open - colon - 1);
	if (tlen >= sizeof(type)) {
		ctl_err(spec, "type too long");
		return -1;
	}
	memcpy(type, colon + 1, tlen);
	type[tlen] = '\0';
	/* Dimensions past TFS_MAX_DIMS are counted, not kept: the count is
	 * what tfs_coldef_init refuses.  One too large to read is ULLONG_MAX,
	 * refused there as too large. */
	for (p = open ? open + 1 : NULL; p && *p != ']'; p = end) {
		uint64_t v;

		p += strspn(p, " ");
		if (*p == ']' && ndim == 0)
			break;
		v = strtoull(p, &end, 10);
		if (end == p) {
			ctl_err(spec, "bad shape: dimensions are integers >= 1");
			return -1;
		}
		if (ndim < TFS_MAX_DIMS)
			dims[ndim] = v;
		ndim++;
		end += strspn(end, " ");
		if (*end == ',')
			end++;
	}
	if (tfs_coldef_init(def, name, type, dims, ndim, why, sizeof(why)) != 0) {
		ctl_err(spec, "%s", why);
		return -1;
	}
	def->nullable = nullable;
	if (has_cats) {
		def->cats = cats;
		def->ncat = cats->n;
		def->dict_bytes = cats->n ? (uint64_t)cats->offsets[cats->n] : 0;
	}
	return 0;
}

static int cmd_create(char **args, int nargs, const struct opts *o)
{
	struct tfs_coldef *defs = calloc((size_t)nargs, sizeof(*defs));
	struct tfs_cats *cats = calloc((size_t)nargs, sizeof(*cats));
	int rc = -1;

	if (!defs || !cats) {
		free(defs);
		free(cats);
		ctl_err("create", "%s", strerror(ENOMEM));
		return -1;
	}
	/* Everything is checked here first, so bad input changes nothing. */
	if (ctl_check_name("create", args[0]))
		goto out;
	for (int i = 1; i < nargs; i++) {
		if (parse_colspec(args[i], &defs[i - 1], &cats[i - 1]))
			goto out;
		for (int j = 1; j < i; j++) {
			if (strcmp(defs[j - 1].name, defs[i - 1].name) == 0) {
				ctl_err("create", "column '%s' given twice", defs[i - 1].name);
				goto out;
			}
		}
	}
	rc = ctl_schema_apply(args[0], args[0], CTL_MKDIR_MAY, o->seen & OPT_ROWS, o->rows, defs,
			      (size_t)nargs - 1, NULL);
out:
	for (int i = 0; i < nargs; i++) {
		free(cats[i].offsets);
		free(cats[i].bytes);
	}
	free(cats);
	free(defs);
	return rc;
}

struct ls_row {
	char name[TFS_NAME_MAX + 1];
	uint64_t rows, ncols, bytes;
	int64_t open;		      /* open file handles on the table; -1 when not reported */
	char last_error[TFS_WHY_MAX]; /* "" when none */
};

static int ls_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ls_row *)a)->name, ((const struct ls_row *)b)->name);
}

/* Without .status (a directory that is not a tablefs mount, such as tables
 * copied out of one) the tables are the directories that hold a meta.json. */
static int ls_scan_dirs(struct ls_row **rows, size_t *n)
{
	char path[4096];
	struct ctl_table t;
	struct dirent *de;
	struct ls_row *r;
	DIR *d = opendir(ctl_mount);

	if (!d) {
		ctl_err(ctl_mount, "%s", strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || tfs_name_check(de->d_name, NULL, 0) ||
		    ctl_path(path, sizeof(path), de->d_name, "meta.json") || access(path, F_OK))
			continue;
		if (ctl_table_load(de->d_name, &t))
			continue;
		r = realloc(*rows, (*n + 1) * sizeof(**rows));
		if (!r) {
			ctl_table_free(&t);
			closedir(d);
			ctl_err(NULL, "%s", strerror(ENOMEM));
			return -1;
		}
		*rows = r;
		r += (*n)++;
		snprintf(r->name, sizeof(r->name), "%s", t.name);
		r->rows = t.rows;
		r->ncols = t.ncols;
		r->bytes = 0;
		r->open = -1;
		r->last_error[0] = '\0';
		for (size_t i = 0; i < t.ncols; i++)
			r->bytes += tfs_mem_charge(t.cols[i].nbytes);
		ctl_table_free(&t);
	}
	closedir(d);
	return 0;
}

/* The tables as .status reports them, sorted by name. */
static int table_rows(cJSON *st, struct ls_row **rows, size_t *n)
{
	const cJSON *tables = cJSON_GetObjectItemCaseSensitive(st, "tables"), *t;
	size_t i = 0;

	*rows = NULL;
	*n = 0;
	if (!st)
		return ls_scan_dirs(rows, n);
	*rows = calloc((size_t)cJSON_GetArraySize(tables) + 1, sizeof(**rows));
	if (!*rows) {
		ctl_err(NULL, "%s", strerror(ENOMEM));
		return -1;
	}
	cJSON_ArrayForEach(t, tables)
	{
		snprintf((*rows)[i].name, sizeof((*rows)[i].name), "%s", json_str(t, "name", "?"));
		(*rows)[i].rows = json_num(t, "rows");
		(*rows)[i].ncols = json_num(t, "columns");
		(*rows)[i].bytes = json_num(t, "bytes");
		/* Daemons before open_handles do not report it: shown as "-". */
		(*rows)[i].open =
		    cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t, "open_handles"))
			? (int64_t)json_num(t, "open_handles")
			: -1;
		snprintf((*rows)[i].last_error, sizeof((*rows)[i].last_error), "%s",
			 json_str(t, "last_error", ""));
		i++;
	}
	*n = i;
	return 0;
}

/* The table list of ls and status; status adds the open handles of each
 * table (who still holds it) and, under the list, why the last schema change
 * of a table was refused, so the reason a script's write to meta.json failed
 * can be found after the fact. */
static int print_tables(cJSON *st, const char *size_header, bool status)
{
	struct ctl_grid g = {.ncols = status ? 5 : 4, .right = {false, true, true, true, true}};
	struct ls_row *rows;
	bool header = false;
	char size[32];
	size_t n;
	int rc;

	if (table_rows(st, &rows, &n))
		return -1;
	qsort(rows, n, sizeof(*rows), ls_cmp);
	ctl_grid_put(&g, "NAME");
	ctl_grid_put(&g, "ROWS");
	ctl_grid_put(&g, "COLUMNS");
	ctl_grid_put(&g, size_header);
	if (status)
		ctl_grid_put(&g, "OPEN");
	for (size_t i = 0; i < n; i++) {
		tfs_size_format(rows[i].bytes, size, sizeof(size));
		ctl_grid_put(&g, rows[i].name);
		ctl_grid_putf(&g, "%" PRIu64, rows[i].rows);
		ctl_grid_putf(&g, "%" PRIu64, rows[i].ncols);
		ctl_grid_put(&g, size);
		if (status && rows[i].open >= 0)
			ctl_grid_putf(&g, "%" PRId64, rows[i].open);
		else if (status)
			ctl_grid_put(&g, "-");
	}
	rc = ctl_grid_flush(&g);
	for (size_t i = 0; status && rc == 0 && i < n; i++) {
		if (!rows[i].last_error[0])
			continue;
		if (!header)
			printf("\nlast refused schema change:\n");
		header = true;
		printf("  %s: %s\n", rows[i].name, rows[i].last_error);
	}
	free(rows);
	return rc;
}

static int cmd_ls(char **args, int nargs, const struct opts *o)
{
	bool absent;
	cJSON *st = ctl_status_load(&absent);
	int rc;

	(void)args, (void)nargs, (void)o;
	if (!st && !absent)
		return -1;
	rc = print_tables(st, "SIZE", false);
	cJSON_Delete(st);
	return rc;
}

static void shape_text(const struct tfs_coldef *d, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "[");

	for (unsigned i = 0; i < d->ndim && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%" PRIu64, i ? ", " : "",
					d->shape[i]);
	if (off < len)
		snprintf(buf + off, len - off, "]");
}

/* The files of column c: the main one and its companions. */
static void files_text(const struct ctl_col *c, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int r = 0; r < TFS_NROLES && off < len; r++)
		if (tfs_coldef_has(&c->def, (enum tfs_role)r))
			off += (size_t)snprintf(buf + off, len - off, "%s%s%s", off ? " " : "",
						c->file, tfs_role_suffix((enum tfs_role)r));
}

/* The categories of the table's category columns, the first 20 of each. */
static int print_categories(const struct ctl_table *t)
{
	struct ctl_str line = {0};
	bool header = false;
	int rc = 0;

	for (size_t i = 0; i < t->ncols && !rc; i++) {
		const struct ctl_col *c = &t->cols[i];

		if (c->def.type.kind != TFS_CATEGORY)
			continue;
		if (!header)
			printf("\ncategories:\n");
		header = true;
		ctl_str_clear(&line);
		rc = ctl_str_printf(&line, "  %s (%" PRIu64 "):", c->def.name, c->cats.n);
		for (uint64_t k = 0; !rc && k < c->cats.n && k < 20; k++) {
			int64_t a = c->cats.offsets[k];

			rc = ctl_str_add(&line, k ? ", " : " ", k ? 2 : 1) ||
			     ctl_format_text(&line, TFS_UTF8,
					     (const unsigned char *)c->cats.bytes + a,
					     (size_t)(c->cats.offsets[k + 1] - a), CTL_SHORT);
		}
		if (!rc && c->cats.n > 20)
			rc = ctl_str_printf(&line, ", ... (%" PRIu64 " more)", c->cats.n - 20);
		if (!rc)
			printf("%s\n", line.p);
	}
	ctl_str_free(&line);
	if (rc)
		ctl_err(NULL, "%s", strerror(ENOMEM));
	return rc ? -1 : 0;
}

static int cmd_info(char **args, int nargs, const struct opts *o)
{
	struct ctl_grid g = {.ncols = 7,
			     .right = {false, false, false, false, false, true, false}};
	char type[TFS_TYPE_STR_MAX], dtype[TFS_TYPE_STR_MAX], shape[200], size[32];
	char why[TFS_WHY_MAX], files[TFS_NROLES * TFS_FILE_NAME_MAX];
	struct ctl_table t;
	uint64_t total = 0;
	cJSON *status;
	bool absent, refused;
	int rc;

	(void)nargs, (void)o;
	if (ctl_table_load(args[0], &t))
		return -1;
	/* Not fatal: a directory without .status simply has no daemon errors. */
	status = ctl_status_load(&absent);
	refused = ctl_last_error(status, t.name, why, sizeof(why));
	cJSON_Delete(status);
	for (size_t i = 0; i < t.ncols; i++)
		total += t.cols[i].nbytes;
	tfs_size_format(total, size, sizeof(size));
	printf("table:    %s\nrows:     %" PRIu64 "\nversion:  %" PRIu64 "\n"
	       "columns:  %zu (%s)\n",
	       t.name, t.rows, t.version, t.ncols, size);
	if (refused)
		printf("last error: %s\n", why);
	if (t.ncols) {
		putchar('\n');
		ctl_grid_put(&g, "NAME");
		ctl_grid_put(&g, "TYPE");
		ctl_grid_put(&g, "DTYPE");
		ctl_grid_put(&g, "SHAPE");
		ctl_grid_put(&g, "NULLABLE");
		ctl_grid_put(&g, "BYTES");
		ctl_grid_put(&g, "FILES");
	}
	for (size_t i = 0; i < t.ncols; i++) {
		tfs_type_name(&t.cols[i].def.type, type, sizeof(type));
		tfs_type_dtype(&t.cols[i].def.type, dtype, sizeof(dtype));
		shape_text(&t.cols[i].def, shape, sizeof(shape));
		files_text(&t.cols[i], files, sizeof(files));
		ctl_grid_put(&g, t.cols[i].def.name);
		ctl_grid_put(&g, type);
		ctl_grid_put(&g, dtype);
		ctl_grid_put(&g, shape);
		ctl_grid_put(&g, t.cols[i].def.nullable ? "yes" : "no");
		ctl_grid_putf(&g, "%" PRIu64, t.cols[i].nbytes);
		ctl_grid_put(&g, files);
	}
	rc = ctl_grid_flush(&g);
	if (!rc)
		rc = print_categories(&t);
	ctl_table_free(&t);
	return rc;
}

/* What head has read: the first limit rows, as text in a grid. */
struct head {
	uint64_t limit;
	struct ctl_grid g;
};

/* A reader for ctl_table_read: each attempt fills the grid from scratch. */
static int head_reader(const struct ctl_table *t, void *arg, int attempt)
{
	struct ctl_str cell = {0};
	struct head *h = arg;
	struct ctl_scan scan;
	enum tfs_kind k;
	bool missing;
	int more;

	(void)attempt;
	ctl_grid_free(&h->g);
	if (!t->ncols)
		return 0;
	h->g.ncols = t->ncols;
	for (size_t i = 0; i < t->ncols && i < 16; i++) {
		k = t->cols[i].def.type.kind;
		h->g.right[i] = t->cols[i].def.ndim == 0 && k != TFS_BYTES && k != TFS_BOOL &&
				k != TFS_DATETIME && !tfs_type_is_varlen(&t->cols[i].def.type);
	}
	for (size_t i = 0; i < t->ncols; i++)
		ctl_grid_put(&h->g, t->cols[i].def.name);
	more = ctl_scan_open(&scan, t);
	if (more)
		return more;
	while ((more = ctl_scan_next(&scan, h->limit)) > 0) {
		for (uint64_t r = 0; r < scan.count; r++) {
			for (size_t i = 0; i < t->ncols; i++) {
				ctl_str_clear(&cell);
				if (ctl_scan_cell(&cell, &scan, i, r, CTL_SHORT, &missing))
					h->g.oom = true;
				ctl_grid_put(&h->g, missing ? "NA" : cell.p ? cell.p : "");
			}
		}
	}
	ctl_scan_close(&scan);
	ctl_str_free(&cell);
	return more;
}

static int cmd_head(char **args, int nargs, const struct opts *o)
{
	struct head h = {.limit = o->seen & OPT_LINES ? o->lines : 10};
	int rc;

	(void)nargs;
	rc = ctl_table_read("head", args[0], head_reader, &h);
	if (rc || !h.g.ncols) {
		ctl_grid_free(&h.g); /* nothing printed on error */
		return rc;
	}
	return ctl_grid_flush(&h.g);
}

static int names_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Like rm -r: columns first, then the directory.  The names are collected
 * before unlinking so deletions cannot disturb the directory stream; dotted
 * names (meta.json, derived views) go last and may refuse, as the daemon
 * drops them with the table. */
static int remove_table(const char *table)
{
	char dir[4096], path[4096];
	char **names = NULL, **nn;
	size_t n = 0, i;
	struct dirent *de;
	int rc = -1, lock = -1;
	DIR *d;

	if (ctl_check_name("rm", table) || ctl_path(dir, sizeof(dir), table, NULL) ||
	    ctl_path(path, sizeof(path), table, "meta.json"))
		return -1;
	/* A writer: readers of the table (head, export) finish before its
	 * columns go.  A directory without meta.json is no table to lock. */
	if (access(path, F_OK) == 0 && (lock = ctl_table_lock("rm", table, LOCK_EX)) < 0)
		return -1;
	d = opendir(dir);
	if (!d) {
		ctl_err(table, "%s", errno == ENOENT ? "no such table" : strerror(errno));
		if (lock >= 0)
			close(lock);
		return -1;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(de->d_name))) {
			names = nn ? nn : names;
			ctl_err(table, "%s", strerror(ENOMEM));
			goto out;
		}
		names = nn;
		n++;
	}
	qsort(names, n, sizeof(*names), names_cmp);
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && lock >= 0) {
			close(lock); /* before meta.json and the directory go */
			lock = -1;
		}
		for (i = 0; i < n; i++) {
			bool dotted = strchr(names[i], '.') != NULL;

			if (dotted != (pass == 1) || ctl_path(path, sizeof(path), table, names[i]))
				continue;
			if (unlink(path) != 0 && !dotted && errno != ENOENT) {
				ctl_err(path, "%s", strerror(errno));
				goto out;
			}
		}
	}
	if (rmdir(dir) != 0) {
		ctl_err(table, "%s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	if (lock >= 0)
		close(lock);
	return rc;
}

static int cmd_rm(char **args, int nargs, const struct opts *o)
{
	int rc = 0;

	(void)o;
	for (int i = 0; i < nargs; i++)
		if (remove_table(args[i]))
			rc = -1;
	return rc;
}

/* Whether a crash of the serving process would lose nothing, and how
 * often it was restarted (nothing said when .status lacks the field). */
static void print_protection(const cJSON *st)
{
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(st, "crash_protection");
	uint64_t n = json_num(st, "restarts");

	if (!cJSON_IsBool(on))
		return;
	if (cJSON_IsTrue(on))
		printf("crash protection: on");
	else
		printf("crash protection: OFF, %s: a crash of the serving process ends the mount",
		       json_str(st, "crash_protection_reason", "reason unknown"));
	printf(" (serving process restarted %" PRIu64 " time%s)\n", n, n == 1 ? "" : "s");
}

static int cmd_status(char **args, int nargs, const struct opts *o)
{
	const cJSON *mem;
	char used[32], limit[32];
	uint64_t u, l;
	bool absent;
	cJSON *st = ctl_status_load(&absent);
	int rc;

	(void)args, (void)nargs, (void)o;
	if (!st) {
		if (absent)
			ctl_err(ctl_mount, "not a tablefs mount (no .status)");
		return -1;
	}
	mem = cJSON_GetObjectItemCaseSensitive(st, "memory");
	u = json_num(mem, "used");
	l = json_num(mem, "limit");
	tfs_size_format(u, used, sizeof(used));
	tfs_size_format(l, limit, sizeof(limit));
	printf("mount:      %s (tablefs %s)\n", ctl_mount, json_str(st, "version", "?"));
	printf("memory:     %s used of %s (%.1f%%)\n", used, limit,
	       l ? 100.0 * (double)u / (double)l : 0.0);
	printf("data path:  %s", json_str(st, "data_path", "unknown"));
	if (*json_str(st, "data_path_reason", ""))
		printf(" (%s)", json_str(st, "data_path_reason", ""));
	putchar('\n');
	print_protection(st);
	if (json_num(st, "internal_errors"))
		printf("internal errors: %" PRIu64 " (see the daemon's log)\n",
		       json_num(st, "internal_errors"));
	printf("tables:     %d\n\n",
	       cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(st, "tables")));
	rc = print_tables(st, "MEMORY", true);
	cJSON_Delete(st);
	return rc;
}

static int cmd_import(char **args, int nargs, const struct opts *o)
{
	(void)nargs;
	return ctl_import(args[0], args[1], o->column);
}

static int cmd_export(char **args, int nargs, const struct opts *o)
{
	(void)nargs;
	return ctl_export(args[0], args[1], o->column);
}

static const struct command {
	const char *name;
	int (*run)(char **args, int nargs, const struct opts *o);
	int min, max;	   /* operands; max -1: any number */
	unsigned opts;	   /* enum opt_bit allowed */
	const char *usage; /* what "tablectl COMMAND --help" prints */
} commands[] = {
    {"create", cmd_create, 1, -1, OPT_ROWS,
     "Usage: tablectl [--mount DIR] create TABLE [--rows N] COL:TYPE[SHAPE][?]...\n"
     "\n"
     "Create TABLE with N rows (default 0) and the columns given, zero-filled; on an\n"
     "existing table add the columns given and, with --rows, resize it.\n"
     "\n"
     "  -r, --rows N            rows of the table\n"
     "\n"
     "Types: bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32\n"
     "float64 datetime64[s|ms|us|ns] timedelta64[s|ms|us|ns] bytesN, or numpy dtype\n"
     "strings such as <f8 or |S16; utf8 (text), binary (bytes of any length),\n"
     "category[CAT,...] (text from a list; the first is code 0).  SHAPE is the\n"
     "per-row shape: [128] or [28,28].  A trailing ? makes the column nullable: its\n"
     "values may be missing (COL.null), and are at first.\n"
     "Example: tablectl create trades --rows 1000 price:float64 'emb:float32[128]'\n"
     "         'sym:category[AAPL,MSFT]' 'note:utf8?' 'qty:int64?'\n"},
    {"ls", cmd_ls, 0, 0, 0,
     "Usage: tablectl [--mount DIR] ls\n"
     "\n"
     "List the tables: name, rows, columns and memory used.\n"},
    {"info", cmd_info, 1, 1, 0,
     "Usage: tablectl [--mount DIR] info TABLE\n"
     "\n"
     "Show a table's rows, version and columns (name, type, dtype, shape, nullable,\n"
     "bytes, files), and the categories of category columns.\n"},
    {"head", cmd_head, 1, 1, OPT_LINES,
     "Usage: tablectl [--mount DIR] head TABLE [-n N]\n"
     "\n"
     "Print the first N rows of TABLE (default 10); NA for a missing value.\n"
     "\n"
     "  -n, --lines N           rows to print\n"},
    {"import", cmd_import, 2, 2, OPT_COLUMN,
     "Usage: tablectl [--mount DIR] import TABLE FILE.csv\n"
     "       tablectl [--mount DIR] import TABLE FILE.npy [--column NAME]\n"
     "\n"
     "Load a CSV file (a header line of column names, then one line per row) or\n"
     "one column from a .npy file.  The table is created if needed and resized to\n"
     "the file's rows; new columns get the first type that holds all their values,\n"
     "else category (at most 1000 distinct values, one per two rows) or utf8, and\n"
     "are nullable when a field is empty (a quoted \"\" is an empty text).\n"
     "Bad input is reported with its line and column and changes nothing.\n"
     "\n"
     "  -c, --column NAME       the column a .npy file loads (default: its name)\n"},
    {"export", cmd_export, 2, 2, OPT_COLUMN,
     "Usage: tablectl [--mount DIR] export TABLE FILE.csv|- [--column NAME]\n"
     "       tablectl [--mount DIR] export TABLE FILE.npy [--column NAME]\n"
     "\n"
     "Write the table (or one column) as CSV to FILE or standard output ('-'), or\n"
     "one column as a .npy file.  What export writes, import reads back to the same\n"
     "values.  An existing FILE is replaced only when the export succeeded.\n"
     "\n"
     "  -c, --column NAME       the column to write\n"},
    {"rm", cmd_rm, 1, -1, 0,
     "Usage: tablectl [--mount DIR] rm TABLE...\n"
     "\n"
     "Delete each TABLE with all its columns.\n"},
    {"status", cmd_status, 0, 0, 0,
     "Usage: tablectl [--mount DIR] status\n"
     "\n"
     "Show memory used and limit, the data path, and the tables with their memory\n"
     "and open handles, and the last refused schema change of each.\n"},
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tablectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tablectl --help' for more information.\n", stderr);
	return CTL_EXIT_USAGE;
}

/* A usage error of a command: its own usage follows. */
static int command_usage_error(const struct command *cmd, const char *why)
{
	fprintf(stderr, "tablectl: %s: %s\n%s", cmd->name, why, cmd->usage);
	return CTL_EXIT_USAGE;
}

static int parse_count(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"mount", required_argument, NULL, 'm'},
	    {"rows", required_argument, NULL, 'r'},
	    {"lines", required_argument, NULL, 'n'},
	    {"column", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const struct command *cmd = NULL;
	char status[4096];
	struct opts o = {0};
	const char *env = getenv("TABLEFS_MOUNT");
	struct stat st;
	bool help = false;
	int c, nargs, rc;

	if (env && *env)
		ctl_mount = env;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":m:r:n:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			ctl_mount = optarg;
			break;
		case 'r':
			if (parse_count(optarg, &o.rows))
				return usage_error("--rows needs a row count, not '%s'", optarg);
			o.seen |= OPT_ROWS;
			break;
		case 'n':
			if (parse_count(optarg, &o.lines))
				return usage_error("-n needs a row count, not '%s'", optarg);
			o.seen |= OPT_LINES;
			break;
		case 'c':
			o.column = optarg;
			o.seen |= OPT_COLUMN;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			printf("tablectl (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return CTL_EXIT_OK;
		case ':':
			return usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* --help anywhere, or "help [COMMAND]": the command's usage if one is
	 * named, else the whole summary. */
	if (optind < argc && !strcmp(argv[optind], "help")) {
		help = true;
		optind++;
	}
	if (help && optind >= argc) {
		fputs(usage_text, stdout);
		return CTL_EXIT_OK;
	}
	if (optind >= argc)
		return usage_error("%s", "no command given");
	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error("unknown command '%s'", argv[optind]);
	if (help) {
		fputs(cmd->usage, stdout);
		return CTL_EXIT_OK;
	}
	nargs = argc - optind - 1;
	if (nargs < cmd->min || (cmd->max >= 0 && nargs > cmd->max))
		return command_usage_error(cmd, nargs < cmd->min ? "missing operand"
								 : "too many operands");
	if (o.seen & ~cmd->opts)
		return command_usage_error(cmd, "option not valid for this command");
	errno = 0;
	if (stat(ctl_mount, &st) != 0 || !S_ISDIR(st.st_mode)) {
		ctl_err(ctl_mount, "%s", errno ? strerror(errno) : "not a directory");
		return CTL_EXIT_FAIL;
	}
	/* On a directory that is not a mount (a wrong --mount, a mount point
	 * whose daemon is not running) create would make plain files, and rm
	 * would delete a real directory tree: every command needs the root's
	 * .status, which only the daemon serves. */
	if (ctl_path(status, sizeof(status), ".status", NULL))
		return CTL_EXIT_FAIL;
	if (stat(status, &st) != 0 || !S_ISREG(st.st_mode)) {
		ctl_err(ctl_mount, "not a tablefs mount (no .status)");
		return CTL_EXIT_FAIL;
	}
	rc = cmd->run(argv + optind + 1, nargs, &o);
	/* A full disk or closed pipe on stdout is a failure too. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (!rc)
			ctl_err("write error", "%s", strerror(errno ? errno : EIO));
		rc = -1;
	}
	return rc ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
