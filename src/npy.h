/* The NumPy .npy header of a column, so that np.load(mmap_mode="r") needs
 * nothing but the file. */
#ifndef TABLEFS_NPY_H
#define TABLEFS_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "meta.h"

/* Largest header tfs_npy_header writes. */
#define TFS_NPY_HEADER_MAX 512

/* Writes the version 1.0 header for rows of def into buf (at least
 * TFS_NPY_HEADER_MAX bytes): magic, dict with descr, fortran_order and the
 * full shape, padded with spaces to a multiple of 64 bytes and ended with a
 * newline, so the data after it is aligned.  Returns its length. */
size_t tfs_npy_header(const struct tfs_coldef *def, uint64_t rows, char *buf);

#endif
