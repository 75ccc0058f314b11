/* The NumPy .npy header: written in front of a column, so that
 * np.load(mmap_mode="r") needs nothing but the file, and read from a file
 * tablectl imports.  Pure functions, no I/O. */
#ifndef TABLEFS_NPY_H
#define TABLEFS_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

/* Largest header tfs_npy_header writes. */
#define TFS_NPY_HEADER_MAX 512

/* Writes the version 1.0 header for rows of def into buf (at least
 * TFS_NPY_HEADER_MAX bytes): magic, dict with descr, fortran_order and the
 * full shape, padded with spaces to a multiple of 64 bytes and ended with a
 * newline, so the data after it is aligned.  Returns its length. */
size_t tfs_npy_header(const struct tfs_coldef *def, uint64_t rows, char *buf);

/* What a .npy header says. */
struct tfs_npy {
	char descr[TFS_TYPE_STR_MAX]; /* the dtype string, e.g. "<f8" */
	bool fortran;		      /* fortran_order */
	unsigned ndim;
	uint64_t shape[TFS_MAX_DIMS + 1]; /* rows first, then the per-row shape */
	uint64_t data_off;		  /* where the data starts */
};

/* Bytes that hold the preamble of any version (magic, version, length). */
#define TFS_NPY_PREAMBLE 12

/* Largest header text tfs_npy_parse accepts, in bytes. */
#define TFS_NPY_DICT_MAX (1u << 24)

/* Parses the header of a version 1.0 to 3.0 .npy file from its first len
 * bytes in buf.  Returns 0 with h filled; -EAGAIN (why says so) when buf
 * ends inside the header, h->data_off then being the bytes it needs; -EINVAL
 * with the reason in why when it is no .npy file, or one tablefs cannot hold
 * (structured dtype, 0-d, Fortran order with more than one dimension); or
 * -ENOMEM. */
int tfs_npy_parse(const void *buf, size_t len, struct tfs_npy *h, char *why, size_t whylen);

#endif
