#include "config.h"

#include <stdio.h>
#include <string.h>

#include "npy.h"

size_t tfs_npy_header(const struct tfs_coldef *def, uint64_t rows, char *buf)
{
	char dtype[TFS_TYPE_STR_MAX], shape[TFS_MAX_DIMS * 24 + 32];
	size_t n, total;
	int k;

	tfs_type_dtype(&def->type, dtype, sizeof(dtype));
	k = snprintf(shape, sizeof(shape), "(%llu,", (unsigned long long)rows);
	for (unsigned i = 0; i < def->ndim; i++)
		k += snprintf(shape + k, sizeof(shape) - (size_t)k, "%s%llu", i ? ", " : " ",
			      (unsigned long long)def->shape[i]);
	snprintf(shape + k, sizeof(shape) - (size_t)k, ")");
	/* magic (6) + version (2) + header length (2), then the dict */
	n = (size_t)snprintf(buf + 10, TFS_NPY_HEADER_MAX - 10,
			     "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", dtype, shape);
	total = (10 + n + 1 + 63) / 64 * 64;
	memset(buf + 10 + n, ' ', total - 10 - n - 1);
	buf[total - 1] = '\n';
	memcpy(buf, "\x93NUMPY\x01\x00", 8);
	buf[8] = (char)((total - 10) & 0xff);
	buf[9] = (char)((total - 10) >> 8);
	return total;
}
