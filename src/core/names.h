/* Table and column names: 1..128 bytes of [A-Za-z0-9_-], not starting with
 * '-'.  Names with a dot are reserved for meta.json and derived views. */
#ifndef TABLEFS_NAMES_H
#define TABLEFS_NAMES_H

#include <stddef.h>

#define TFS_NAME_MAX 128

/* Returns 0 when name is a valid table or column name; -ENAMETOOLONG or
 * -EINVAL with the reason in why otherwise. */
int tfs_name_check(const char *name, char *why, size_t whylen);

#endif
