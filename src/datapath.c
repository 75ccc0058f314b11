#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "datapath.h"
#include "log.h"

struct datapath {
	bool want_passthrough;
	bool passthrough; /* settled at init */
	char reason[160];
};

int datapath_new(bool want_passthrough, struct datapath **out)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return -ENOMEM;
	dp->want_passthrough = want_passthrough;
	snprintf(dp->reason, sizeof(dp->reason), "%s",
		 want_passthrough ? "kernel passthrough is not built into this version"
				  : "--no-passthrough was given");
	*out = dp;
	return 0;
}

void datapath_free(struct datapath *dp)
{
	free(dp);
}

int datapath_attach(struct datapath *dp, struct fuse_session *se)
{
	(void)dp, (void)se;
	return 0;
}

void datapath_init(struct datapath *dp, struct fuse_conn_info *conn)
{
	/* Page-cache path: let the kernel send the largest requests it can. */
	conn->max_readahead = conn->max_readahead ? conn->max_readahead : 1u << 20;
	conn->want |= conn->capable & FUSE_CAP_ASYNC_READ;
	tfs_log(TFS_LOG_NOTICE, "data path: %s (%s)", datapath_mode(dp), dp->reason);
}

const char *datapath_mode(const struct datapath *dp)
{
	return dp->passthrough ? "passthrough" : "page cache";
}

const char *datapath_reason(const struct datapath *dp)
{
	return dp->reason;
}

int datapath_open(struct datapath *dp, struct tfs_handle *h, struct fuse_file_info *fi)
{
	(void)dp;
	if (tfs_handle_kind(h) == TFS_N_COLUMN) {
		/* The daemon never changes a version's bytes behind the
		 * kernel's back (a change of size makes a new version), so
		 * the cache stays valid from one open to the next. */
		fi->keep_cache = 1;
	} else {
		/* Generated per open: its size is known only now. */
		fi->direct_io = 1;
	}
	return 0;
}

void datapath_version_gone(struct datapath *dp, int backing_id)
{
	(void)dp, (void)backing_id;
}
