#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The value of key in the header dict, a Python literal such as
 * {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), } */
static const char *dict_value(const char *dict, const char *key)
{
	char pat[24];
	const char *p;

	snprintf(pat, sizeof(pat), "'%s'", key);
	p = strstr(dict, pat);
	if (!p)
		return NULL;
	p += strlen(pat) + strspn(p + strlen(pat), " ");
	return *p == ':' ? p + 1 + strspn(p + 1, " ") : NULL;
}

/* Fills h from the dict text; the reason of a refusal in *why. */
static int parse_dict(const char *dict, struct tfs_npy *h, const char **why)
{
	const char *d = dict_value(dict, "descr"), *f = dict_value(dict, "fortran_order");
	const char *p = dict_value(dict, "shape");
	char *end;
	size_t n;

	*why = "malformed header";
	if (!d || !f || !p || *p != '(')
		return -EINVAL;
	if (*d != '\'') {
		*why = *d == '[' ? "structured dtypes are not supported" : *why;
		return -EINVAL;
	}
	n = strcspn(d + 1, "'");
	if (d[1 + n] != '\'' || n == 0 || n >= sizeof(h->descr))
		return -EINVAL;
	memcpy(h->descr, d + 1, n);
	h->fortran = !strncmp(f, "True", 4);
	for (p++; p += strspn(p, " ,"), *p != ')'; p = end) {
		if (h->ndim > TFS_MAX_DIMS) {
			*why = "too many dimensions";
			return -EINVAL;
		}
		errno = 0;
		h->shape[h->ndim++] = strtoull(p, &end, 10);
		if (end == p || errno || *p == '-')
			return -EINVAL;
	}
	*why = "a 0-d array has no rows";
	if (h->ndim == 0)
		return -EINVAL;
	*why = "Fortran-order arrays are not supported";
	if (h->fortran && h->ndim > 1)
		return -EINVAL;
	return 0;
}

int tfs_npy_parse(const void *buf, size_t len, struct tfs_npy *h, char *why, size_t whylen)
{
	const unsigned char *b = buf;
	const char *reason = "not a .npy file";
	size_t pre = 10;
	uint32_t hlen;
	char *dict;
	int rc = -EINVAL;

	memset(h, 0, sizeof(*h));
	if (memcmp(b, "\x93NUMPY", len < 6 ? len : 6) != 0 || (len > 6 && (b[6] < 1 || b[6] > 3)))
		goto out;
	if (len > 6 && b[6] > 1)
		pre = 12;
	reason = "the file ends inside the .npy header";
	if (len < pre) {
		h->data_off = pre;
		rc = -EAGAIN;
		goto out;
	}
	hlen = (uint32_t)b[8] | (uint32_t)b[9] << 8;
	if (pre == 12)
		hlen |= (uint32_t)b[10] << 16 | (uint32_t)b[11] << 24;
	h->data_off = pre + (uint64_t)hlen;
	if (hlen > TFS_NPY_DICT_MAX) {
		reason = "header too large";
		goto out;
	}
	if (len < h->data_off) {
		rc = -EAGAIN;
		goto out;
	}
	dict = strndup((const char *)b + pre, hlen);
	if (!dict) {
		reason = "out of memory";
		rc = -ENOMEM;
		goto out;
	}
	rc = parse_dict(dict, h, &reason);
	free(dict);
	if (rc == 0)
		return 0;
	h->data_off = 0;
out:
	snprintf(why, whylen, "%s", reason);
	return rc;
}
