/* tablectl internals: what the command files share.  tablectl reaches the
 * daemon through the mount alone (plain file calls on meta.json, .status and
 * the column files), so everything here is also something a user could do by
 * hand.  Functions returning int give 0 on success and -1 after printing the
 * one-line error themselves, unless their comment says otherwise. */
#ifndef TABLEFS_CTL_H
#define TABLEFS_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "schema.h"

/* Exit statuses: runtime errors and usage errors are told apart for scripts. */
#define CTL_EXIT_OK    0
#define CTL_EXIT_FAIL  1
#define CTL_EXIT_USAGE 2

/* Bytes moved per read or write when streaming column data. */
#define CTL_CHUNK (4u << 20)

/* Memory for a block of rows of every column (import, export): what bounds
 * tablectl's memory for a wide table, whatever its number of rows. */
#define CTL_BLOCK_BYTES (16u << 20)

/* The mount point in use (--mount, $TABLEFS_MOUNT or /mnt/tables). */
extern const char *ctl_mount;

/* One column as read back from a table's meta.json. */
struct ctl_col {
	struct tfs_coldef def; /* def.cats points at cats for a category column */
	char file[TFS_NAME_MAX + 1];
	uint64_t nbytes;      /* all its files together */
	struct tfs_cats cats; /* a category column's categories, owned */
};

/* A table as read back from its meta.json. */
struct ctl_table {
	char name[TFS_NAME_MAX + 1];
	uint64_t rows;
	uint64_t version;
	size_t ncols;
	struct ctl_col *cols;
};

/* A growing string; p is always NUL-terminated once anything was added. */
struct ctl_str {
	char *p;
	size_t len;
	size_t cap;
};

/* Progress of a long copy, drawn on stderr only when it is a terminal. */
struct ctl_progress {
	bool on;
	bool drawn;
	const char *label;
	uint64_t total;
	uint64_t after; /* work of later phases, at this rate: counted in the ETA only */
	struct timespec start;
	struct timespec last;
};

/* How much of a value to show: head shortens, export keeps every digit. */
enum ctl_style { CTL_SHORT, CTL_FULL };

/* ---- ctl_util.c: paths, tables, the lock protocol, buffers, progress ---- */

/* Prints "tablectl: what: reason" on stderr. */
void ctl_err(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Builds MOUNT/table[/file] into buf; 0, or -1 (reported) when too long. */
int ctl_path(char *buf, size_t len, const char *table, const char *file);

/* Checks a table or column name given by the user; 0 or -1 (reported). */
int ctl_check_name(const char *what, const char *name);

/* Reads a whole file into a malloc'd NUL-terminated buffer.  Returns 0 or a
 * negative errno, printing nothing, so callers can treat ENOENT specially. */
int ctl_read_all(const char *path, char **out, size_t *len);

/* Loads TABLE/meta.json into t; free it with ctl_table_free. */
int ctl_table_load(const char *table, struct ctl_table *t);

/* Releases what ctl_table_load allocated. */
void ctl_table_free(struct ctl_table *t);

/* Index of the column named name in t, or -1. */
long ctl_table_find(const struct ctl_table *t, const char *name);

/* 1 when MOUNT/table is a directory, 0 when absent, -1 (reported) on error. */
int ctl_table_exists(const char *table);

/* Parses MOUNT/.status.  Returns the document, or NULL: with *absent set when
 * the file does not exist (nothing printed), otherwise after reporting. */
cJSON *ctl_status_load(bool *absent);

/* Whether ctl_schema_apply creates the table directory first. */
enum ctl_mkdir {
	CTL_MKDIR_NO,	/* the table exists */
	CTL_MKDIR_MAY,	/* create it unless it exists (tablectl create) */
	CTL_MKDIR_MUST, /* create it; it existing means someone else was faster */
};

/* Writes one schema document {"rows":..,"columns":[..]} to TABLE/meta.json,
 * creating the table first as mk says.  The write happens under an exclusive
 * flock on meta.json: the caller's when lock points at one (>= 0), else one
 * taken here and, when lock is not NULL, handed back in *lock so the caller
 * can write the data under it.  On refusal prints the daemon's reason (the
 * table's last_error in .status) and removes a table this call created, so
 * a failed command leaves nothing behind. */
int ctl_schema_apply(const char *what, const char *table, enum ctl_mkdir mk, bool has_rows,
		     uint64_t rows, const struct tfs_coldef *cols, size_t ncols, int *lock);

/* The reader/writer protocol of tablectl: a command that changes a table
 * (create, import, rm) holds flock(LOCK_EX) on a read-only descriptor of its
 * meta.json while it does; one that reads several columns (head, export)
 * holds LOCK_SH and checks that meta.json's version did not move.  Opens
 * TABLE/meta.json and takes op (LOCK_SH or LOCK_EX) on it, waiting as long
 * as it takes; returns the descriptor to close when done, or -1 (reported). */
int ctl_table_lock(const char *what, const char *table, int op);

/* Reads the version in TABLE/meta.json now; 0 or -1 (reported). */
int ctl_table_version(const char *table, uint64_t *version);

/* Returned by a table reader when what it read looked changed (a column
 * gone or shorter than its table), nothing reported: ctl_table_read then
 * tells from the version whether to read again. */
#define CTL_CHANGED (-2)

/* Times ctl_table_read reads again after the table changed under it. */
#define CTL_RETRIES 3

/* Reads TABLE consistently: loads it under LOCK_SH and calls reader(t, arg,
 * attempt); when meta.json's version moved meanwhile (a writer that ignores
 * the protocol), loads it again and calls reader again, up to CTL_RETRIES
 * times.  reader returns 0, -1 (reported) or CTL_CHANGED; it must start over
 * on every call and leave its output to the caller, or refuse (-1) when it
 * cannot take back what an earlier attempt already wrote. */
int ctl_table_read(const char *what, const char *table,
		   int (*reader)(const struct ctl_table *t, void *arg, int attempt), void *arg);

/* Copies the table's last_error from the .status document (NULL allowed)
 * into buf: true when there is one, false (buf untouched) when it is null. */
bool ctl_last_error(cJSON *status, const char *table, char *buf, size_t len);

/* A table keeps columns an imported file does not name only if its rows
 * stay: 0, or -1 (reported) when the file's rows differ. */
int ctl_rows_check(const struct ctl_table *t, uint64_t rows, size_t named);

/* Reads exactly len bytes at off; -1 on error or short read, reported
 * unless what is NULL (then errno tells, ENODATA for a short read). */
int ctl_pread_full(int fd, void *buf, size_t len, uint64_t off, const char *what);

/* Writes exactly len bytes at off; -1 (reported) on error. */
int ctl_pwrite_full(int fd, const void *buf, size_t len, uint64_t off, const char *what);

/* Appends formatted text; -1 only when out of memory (not reported). */
int ctl_str_printf(struct ctl_str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends n bytes; -1 only when out of memory (not reported). */
int ctl_str_add(struct ctl_str *s, const char *p, size_t n);

/* Empties s, keeping its buffer. */
void ctl_str_clear(struct ctl_str *s);

/* Frees s. */
void ctl_str_free(struct ctl_str *s);

/* Rows per block of a table whose rows take rowbytes and whose widest
 * column widest bytes: CTL_BLOCK_BYTES for all columns together, at most
 * CTL_CHUNK for one, at least one row. */
uint64_t ctl_block_rows(uint64_t rowbytes, uint64_t widest);

/* Starts a progress display of total bytes under label. */
void ctl_progress_start(struct ctl_progress *p, const char *label, uint64_t total);

/* Redraws when at least 100 ms passed since the last drawing. */
void ctl_progress_update(struct ctl_progress *p, uint64_t done);

/* Erases the progress line. */
void ctl_progress_end(struct ctl_progress *p);

/* ---- ctl_grid.c: text tables ---- */

/* Rows of text cells printed in aligned columns; set ncols (and right)
 * before the first cell. */
struct ctl_grid {
	size_t ncols;
	size_t ncells;
	size_t cap;
	char **cells;
	bool right[16]; /* right-align the first 16 columns when set (numbers) */
	bool oom;	/* a cell was lost: ctl_grid_flush reports it */
};

/* Adds the next cell, row by row (a copy of cell). */
void ctl_grid_put(struct ctl_grid *g, const char *cell);

/* Adds the next cell, formatted (at most 511 bytes). */
void ctl_grid_putf(struct ctl_grid *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Frees the cells without printing; g is empty again. */
void ctl_grid_free(struct ctl_grid *g);

/* Prints and frees the grid; two spaces between columns, none trailing.
 * 0, or -1 (reported) when a cell was lost to a lack of memory. */
int ctl_grid_flush(struct ctl_grid *g);

/* ---- ctl_value.c: item bytes to text and back ---- */

/* Appends the text of one row of column def (item points at its itemsize
 * bytes): scalars plainly, vectors as "[a, b, c]". */
int ctl_format_item(struct ctl_str *s, const struct tfs_coldef *def, const unsigned char *item,
		    enum ctl_style style);

/* Converts float16 bits to a double (exact). */
double ctl_half_to_double(uint16_t h);

/* Converts a double to float16 bits, rounding to nearest even. */
uint16_t ctl_double_to_half(double d);

/* Strips blanks at both ends of s in place; returns the new start. */
const char *ctl_trim(char *s);

/* Decodes the escapes format writes for bytes (\\ and \xNN) into dst, at
 * most max bytes (dst NULL: count only); returns the decoded length. */
size_t ctl_bytes_decode(const char *s, unsigned char *dst, size_t max);

/* Parses ISO-8601, YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]][Z|+HH:MM|-HH:MM]]
 * (UTC unless an offset says otherwise; a year may have a sign and more
 * digits), as a count of unit since the epoch, exactly: a value the unit
 * cannot hold is refused.  Returns 0, or -1 with the reason in why. */
int ctl_parse_iso(const char *s, enum tfs_unit u, int64_t *out, const char **why);

/* Parses one element of type t from text (modified in place) into dst: the
 * inverse of what format writes in the full style.  Empty means NaN for
 * floats, NaT for times.  Returns 0, or -1 with the reason in why. */
int ctl_parse_scalar(const struct tfs_type *t, char *text, unsigned char *dst, const char **why);

/* Parses one row of column def from text (modified in place) into dst: a
 * scalar, or "[a, b, c]" with exactly the shape's element count; the inverse
 * of ctl_format_item.  Returns 0, or -1 with the reason in why. */
int ctl_parse_item(const struct tfs_coldef *def, char *text, unsigned char *dst, const char **why);

/* ---- ctl_csv.c: CSV records, text values, sets of strings ---- */

/* A CSV file read record by record (RFC 4180: fields quoted with '"' hold
 * commas, doubled quotes and line breaks; LF or CRLF line ends; blank lines
 * between records are skipped). */
struct ctl_csv {
	FILE *f;
	const char *path;
	char *line;
	size_t linecap;
	struct ctl_str rec; /* the record's raw text, lines joined by LF */
	char *out;	    /* unquoted fields, each NUL-terminated */
	size_t outcap;
	char **fields;	  /* the fields of the record */
	size_t *lens;	  /* their lengths (a field may hold a NUL byte) */
	bool *quoted;	  /* whether each was quoted: "" is an empty text, not a missing one */
	uint64_t *lines;  /* the line each starts on */
	size_t nfields, fieldcap;
	uint64_t lineno; /* line where the current record starts */
	uint64_t nlines; /* lines read so far */
	uint64_t nbytes; /* bytes read so far, for the progress line (ftello costs an lseek) */
};

/* Reads the next record: 1, 0 at the end, -1 (reported) on error. */
int ctl_csv_next(struct ctl_csv *c);

/* Frees what the reader holds and closes its file (unless stdin). */
void ctl_csv_close(struct ctl_csv *c);

/* Length of the valid UTF-8 prefix of the n bytes at p (n when all are). */
size_t ctl_utf8_prefix(const char *p, size_t n);

/* Checks that field i of the current record is valid UTF-8; else reports
 * "import: FILE:LINE: column 'name': invalid UTF-8 ..." with the line the bad
 * byte is on, and returns -1. */
int ctl_csv_check_utf8(const struct ctl_csv *c, size_t i, const char *name);

/* A set of byte strings, each with its number (the order they came in). */
struct ctl_strset {
	size_t n, cap;	 /* members, slots (a power of 2, or 0) */
	uint64_t bytes;	 /* their lengths together */
	struct ctl_strent {
		char *p; /* NULL: an empty slot */
		size_t len;
		uint64_t hash;
		size_t id;
	} *slot;
};

/* The number of s in set, or -1 when it is not a member. */
long ctl_strset_find(const struct ctl_strset *set, const char *s, size_t len);

/* Adds s (a copy) unless it is a member: 1 when added, 0 when it was
 * there, -1 when out of memory (not reported). */
int ctl_strset_add(struct ctl_strset *set, const char *s, size_t len);

/* The members sorted bytewise (Unicode order for UTF-8, as Python sorts
 * str), as categories: malloc'd in cats.  0, or -1 when out of memory. */
int ctl_strset_sorted(const struct ctl_strset *set, struct tfs_cats *cats);

/* Empties set and frees what it holds. */
void ctl_strset_free(struct ctl_strset *set);

/* The category rule of CSV import: a text column becomes category when it
 * has at most CTL_CAT_MAX distinct values, at most one per two rows, and
 * their text fits in CTL_CAT_BYTES (meta.json lists it); else utf8. */
#define CTL_CAT_MAX 1000
#define CTL_CAT_BYTES (1u << 20)

/* What a new column's values could all be, gathered over a CSV import's
 * first pass; start from all zeros. */
struct ctl_guess {
	bool no_bool, no_int, no_uint, no_float, no_time;
	bool bool_word;	     /* a true or false seen: 0 and 1 alone are integers */
	bool inexact;	     /* an integer that float64 does not hold exactly */
	bool has_time;	     /* a timestamp with a time of day seen, not only dates */
	enum tfs_unit unit;  /* the finest unit a time seen needs */
	uint64_t ntimes;     /* times seen (NaT not counted) */
	__int128 tmin, tmax; /* the earliest and latest, in nanoseconds */
	uint64_t filled;     /* fields not blank */
	uint64_t blank;	     /* fields empty or all blanks, quoted or not */
	uint64_t absent;     /* fields empty and not quoted: missing text */
	uint64_t text_bytes; /* bytes of the fields that are not missing text */
	struct ctl_strset distinct; /* the text values while the category rule may hold */
	bool many;		    /* more distinct text than the category rule allows */
	struct tfs_cats cats;	    /* the categories once the type is category */
};

/* Accounts for one field (len bytes, modified in place; quoted as the CSV
 * had it) of a new column.  0, or -1 when out of memory (not reported). */
int ctl_guess_update(struct ctl_guess *g, char *field, size_t len, bool quoted);

/* Sets def's type to the first that holds every value seen exactly: bool
 * (true/false, with 0/1), int64, uint64, float64, datetime64 (dates alone
 * [s], timestamps [ns] or the finest unit their range allows), else text:
 * category by the rule above (def->cats then points at g->cats), or utf8
 * (def->data_bytes its bytes).  Nullable when a field was missing: blank,
 * or for text empty and unquoted.  rows: the rows of the file.  *note
 * says why values that looked like numbers or times became text, or is
 * NULL.  Returns -1 when out of memory (not reported), else 0. */
int ctl_guess_type(struct ctl_guess *g, uint64_t rows, struct tfs_coldef *def, const char **note);

/* Frees what a guess holds. */
void ctl_guess_free(struct ctl_guess *g);

/* Whether field (len bytes, quoted as the CSV had it) is a missing value
 * of a column of type t: blank for most types; for text (utf8, binary,
 * category, bytesN) only empty and unquoted, "" being an empty text. */
bool ctl_field_missing(const struct tfs_type *t, const char *field, size_t len, bool quoted);

/* Appends a text value of a utf8, binary or category column (category:
 * the category's text): utf8 as it is, binary with printable ASCII as it
 * is and other bytes and backslash as \xHH.  The short style (head) also
 * escapes control characters and cuts the value after 60 characters. */
int ctl_format_text(struct ctl_str *s, enum tfs_kind k, const unsigned char *p, size_t n,
		    enum ctl_style style);

/* ---- ctl_io.c: the block reader of head and export ---- */

/* Reads a table's rows in blocks, every column at once (head, export). */
struct ctl_scan {
	const struct ctl_table *t;
	struct ctl_scol {
		int fd, data_fd, null_fd; /* main file, utf8/binary data, mask (-1: none) */
		unsigned char *buf;	  /* the block's items; utf8/binary: its count + 1 offsets */
		unsigned char *nulls;	  /* the block's mask of a nullable column */
		struct ctl_str data;	  /* utf8/binary: the block's bytes, from offsets[0] */
	} *cols;
	uint64_t block; /* rows per block, at most */
	uint64_t first; /* first row in the block */
	uint64_t count; /* rows in the block */
};

/* Opens every column of t for reading: 0, -1 (reported), or CTL_CHANGED
 * when a column is gone. */
int ctl_scan_open(struct ctl_scan *s, const struct ctl_table *t);

/* Reads the next block of rows below limit; 1 when rows were read, 0 at the
 * end, -1 (reported) on error, CTL_CHANGED when a column is short. */
int ctl_scan_next(struct ctl_scan *s, uint64_t limit);

/* Closes the columns and frees the buffers. */
void ctl_scan_close(struct ctl_scan *s);

/* Appends the text of row r of the block for column i, or sets *missing
 * (nothing appended) for a missing value.  0, or -1 out of memory. */
int ctl_scan_cell(struct ctl_str *out, const struct ctl_scan *s, size_t i, uint64_t r,
		  enum ctl_style style, bool *missing);

/* ---- ctl_io.c and ctl_npy.c: import and export ---- */

/* tablectl import TABLE FILE: .csv or .npy; column names the .npy column. */
int ctl_import(const char *table, const char *file, const char *column);

/* tablectl export TABLE FILE: .csv (or "-") or .npy; column picks the .npy column. */
int ctl_export(const char *table, const char *file, const char *column);

/* Imports a .npy file as one column (named column, else the file's base
 * name) of table, created or resized to the file's rows. */
int ctl_import_npy(const char *table, const char *path, const char *column);

/* Exports column c of t to a .npy file, created or truncated (ctl_export
 * chooses a new file and removes it on failure); a table reader for
 * ctl_table_read: 0, -1 (reported) or CTL_CHANGED. */
int ctl_export_npy(const struct ctl_table *t, const struct ctl_col *c, const char *file);

#endif
