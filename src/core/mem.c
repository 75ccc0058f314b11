#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "mem.h"

uint64_t tfs_mem_charge(uint64_t nbytes)
{
	/* Saturate: a size this close to 2^64 can never fit any limit, and
	 * wrapping to 0 would make it look free. */
	if (nbytes > UINT64_MAX - (TFS_PAGE_SIZE - 1))
		return UINT64_MAX;
	return (nbytes + TFS_PAGE_SIZE - 1) & ~(TFS_PAGE_SIZE - 1);
}

bool tfs_mem_fits(uint64_t used, uint64_t limit, uint64_t release, uint64_t add)
{
	/* release never exceeds used in a consistent state; clamp rather than
	 * wrap if it ever does. */
	uint64_t base = used > release ? used - release : 0;

	return add <= limit && base <= limit - add;
}

/* Physical memory in bytes, 0 when the system will not say. */
static uint64_t phys_bytes(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long pagesize = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || pagesize <= 0)
		return 0;
	if ((uint64_t)pages > UINT64_MAX / (uint64_t)pagesize)
		return UINT64_MAX;
	return (uint64_t)pages * (uint64_t)pagesize;
}

uint64_t tfs_mem_default_limit(void)
{
	uint64_t phys = phys_bytes();

	/* Without a figure from the system, a modest limit is safer than
	 * none: the user can always raise it with --memory-limit. */
	if (!phys)
		return UINT64_C(1) << 30;
	return phys / 2;
}

#define FRAC_DIGITS_MAX 9

/* floor(a * num / den) without a 128-bit product: split a by den, which
 * works while (den - 1) * num fits in 64 bits (callers keep den and num
 * small).  Returns false on overflow. */
static bool mul_div(uint64_t a, uint64_t num, uint64_t den, uint64_t *out)
{
	uint64_t q = a / den, r = a % den, hi, lo;

	if (__builtin_mul_overflow(q, num, &hi))
		return false;
	if (__builtin_mul_overflow(r, num, &lo))
		return false;
	return !__builtin_add_overflow(hi, lo / den, out);
}

int tfs_size_parse(const char *s, uint64_t *out)
{
	uint64_t ip = 0, fp = 0, den = 1, mult = 1, v;
	int ndigits = 0, nfrac = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
		if (__builtin_mul_overflow(ip, 10, &ip) ||
		    __builtin_add_overflow(ip, (uint64_t)(*p - '0'), &ip))
			return -EINVAL;
	}
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nfrac++) {
			/* Digits past the ninth are below a byte per GiB:
			 * dropped, so the products below fit 64 bits. */
			if (nfrac >= FRAC_DIGITS_MAX)
				continue;
			fp = fp * 10 + (uint64_t)(*p - '0');
			den *= 10;
		}
		if (!nfrac)
			return -EINVAL;
		if (nfrac > FRAC_DIGITS_MAX)
			nfrac = FRAC_DIGITS_MAX;
	}
	if (!ndigits && !nfrac)
		return -EINVAL;
	/* "1.5 GiB" as tfs_size_format writes it reads back. */
	if (*p == ' ' && p[1])
		p++;

	if (*p == '%') {
		uint64_t phys = phys_bytes(), pct;

		if (p[1] || !phys)
			return -EINVAL;
		/* The limit is a share of RAM; more than all of it is a typo. */
		if (ip > 100 || (ip == 100 && fp))
			return -EINVAL;
		/* A millionth of a percent is finer than anyone means; dropping
		 * digits past it keeps the products below within 64 bits. */
		for (; nfrac > 6; nfrac--) {
			fp /= 10;
			den /= 10;
		}
		pct = ip * den + fp; /* percent, scaled by den */
		if (!mul_div(phys, pct, 100 * den, &v))
			return -EINVAL;
	} else {
		int shift = 0;

		switch (*p) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		}
		if (shift) {
			p++;
			if (*p == 'i' || *p == 'I')
				p++;
		}
		if (*p == 'b' || *p == 'B')
			p++;
		if (*p)
			return -EINVAL;
		mult = UINT64_C(1) << shift;
		/* A fraction of a byte is not a size. */
		if (fp && !shift)
			return -EINVAL;
		if (__builtin_mul_overflow(ip, mult, &v))
			return -EINVAL;
		if (fp) {
			uint64_t frac;

			if (!mul_div(mult, fp, den, &frac) || __builtin_add_overflow(v, frac, &v))
				return -EINVAL;
		}
	}
	if (!v)
		return -EINVAL;
	*out = v;
	return 0;
}

void tfs_size_format(uint64_t bytes, char *buf, unsigned long len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	unsigned u = 0;
	uint64_t div = 1, tenths;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	while (u + 1 < sizeof(units) / sizeof(units[0]) && bytes / div >= 1024) {
		div <<= 10;
		u++;
	}
	/* Rounded to a tenth; (bytes % div) * 10 stays below 2^64 for div
	 * up to 2^60. */
	tenths = bytes / div * 10 + ((bytes % div) * 10 + div / 2) / div;
	if (tenths >= 10240 && u + 1 < sizeof(units) / sizeof(units[0])) {
		/* 1023.96 KiB prints as 1.0 MiB, not 1024.0 KiB. */
		div <<= 10;
		u++;
		tenths = bytes / div * 10 + ((bytes % div) * 10 + div / 2) / div;
	}
	snprintf(buf, len, "%llu.%llu %s", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10), units[u]);
}
