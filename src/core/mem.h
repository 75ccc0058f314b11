/* Memory accounting: what the tables use against the configured limit. */
#ifndef TABLEFS_MEM_H
#define TABLEFS_MEM_H

#include <stdbool.h>
#include <stdint.h>

#define TFS_PAGE_SIZE UINT64_C(4096)

/* Bytes a column of nbytes really costs in shared memory (whole pages). */
uint64_t tfs_mem_charge(uint64_t nbytes);

/* True when used - release + add stays within limit (no overflow). */
bool tfs_mem_fits(uint64_t used, uint64_t limit, uint64_t release, uint64_t add);

/* Default limit: half of physical memory, in bytes. */
uint64_t tfs_mem_default_limit(void);

/* Parses "1073741824", "512M", "4G", "1.5G", "50%" (of physical memory).
 * Returns 0 or -EINVAL. */
int tfs_size_parse(const char *s, uint64_t *out);

/* Formats bytes for people: "1.5 GiB", "512 B". */
void tfs_size_format(uint64_t bytes, char *buf, unsigned long len);

#endif
