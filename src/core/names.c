#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static int name_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int tfs_name_check(const char *name, char *why, size_t whylen)
{
	char dummy[1];
	size_t len;

	/* Lets every branch write the reason without checking why. */
	if (!why || !whylen) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (!name || !*name) {
		snprintf(why, whylen, "empty name");
		return -EINVAL;
	}
	/* Length first, as the kernel does: a long name is ENAMETOOLONG
	 * whatever it contains. */
	len = strnlen(name, TFS_NAME_MAX + 1);
	if (len > TFS_NAME_MAX) {
		snprintf(why, whylen, "name '%.32s...' is longer than %d bytes", name,
			 TFS_NAME_MAX);
		return -ENAMETOOLONG;
	}
	if (name[0] == '-') {
		snprintf(why, whylen, "name '%s' starts with '-' (it would read as an option)",
			 name);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (name_char_ok(c))
			continue;
		if (c == '.')
			snprintf(why, whylen,
				 "name '%s' contains '.': names with a dot are reserved for "
				 "meta.json and derived views",
				 name);
		else if (c == '/')
			snprintf(why, whylen, "name '%s' contains '/'", name);
		else if (c < 0x20 || c == 0x7f)
			snprintf(why, whylen,
				 "name contains control character 0x%02x at byte %zu: names are "
				 "[A-Za-z0-9_-]",
				 c, i);
		else if (c >= 0x80)
			snprintf(
			    why, whylen,
			    "name '%s' contains non-ASCII byte 0x%02x: names are [A-Za-z0-9_-]",
			    name, c);
		else
			snprintf(why, whylen, "name '%s' contains '%c': names are [A-Za-z0-9_-]",
				 name, c);
		return -EINVAL;
	}
	return 0;
}
