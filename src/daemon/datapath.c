#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "datapath.h"
#include "log.h"
#include "passthrough.h"
#include "takeover.h"
#include "supervisor.h"

/* /dev/fuse ioctls that bind a file to the connection for passthrough
 * (kernel include/uapi/linux/fuse.h, Linux 6.9). */
struct dp_backing_map {
	int32_t fd;
	uint32_t flags; /* must be 0 */
	uint64_t padding; /* must be 0 */
};
#define DP_IOC_BACKING_OPEN _IOW(229, 1, struct dp_backing_map)
#define DP_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)
_Static_assert(DP_IOC_BACKING_OPEN == 0x4010E501, "FUSE_DEV_IOC_BACKING_OPEN");
_Static_assert(DP_IOC_BACKING_CLOSE == 0x4004E502, "FUSE_DEV_IOC_BACKING_CLOSE");

/* A column memfd is a plain file, not itself on a stacked filesystem. */
#define DP_STACK_DEPTH 1
/* Largest readahead the page-cache path asks for (KiB): requests then reach
 * libfuse's 1 MiB ceiling. */
#define DP_READ_AHEAD_KB 4096

struct datapath {
	bool want_passthrough;
	atomic_bool passthrough; /* settled once INIT is done */
	atomic_bool ready; /* the first request after INIT was seen */
	atomic_bool direct_writes; /* write-only column opens bypass the page cache */
	int devfd; /* the session's /dev/fuse */
	char reason[200];
	char mountpoint[4096];
};

int datapath_new(bool want_passthrough, struct datapath **out)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return -ENOMEM;
	dp->want_passthrough = want_passthrough;
	dp->devfd = -1;
	snprintf(dp->reason, sizeof(dp->reason), "%s",
		 want_passthrough ? "the kernel did not offer FUSE passthrough (Linux >= 6.9 "
				    "with CONFIG_FUSE_PASSTHROUGH)"
				  : "--no-passthrough was given");
	*out = dp;
	return 0;
}

void datapath_free(struct datapath *dp)
{
	free(dp);
}

static int backing_open(struct datapath *dp, int fd)
{
	struct dp_backing_map map = {.fd = fd};
	int id = ioctl(dp->devfd, DP_IOC_BACKING_OPEN, &map);

	return id < 0 ? -errno : id;
}

static void backing_close(struct datapath *dp, int id)
{
	uint32_t v = (uint32_t)id;

	if (dp->devfd < 0)
		return; /* the connection is gone, and every binding with it */
	if (ioctl(dp->devfd, DP_IOC_BACKING_CLOSE, &v) < 0)
		tfs_log(TFS_LOG_WARNING, "cannot release passthrough backing %d: %s", id,
			strerror(errno));
}

/* Once the kernel has accepted passthrough in INIT, binding a file can
 * still be refused (no CAP_SYS_ADMIN): try one before promising it. */
static void settle(void *ctx)
{
	struct datapath *dp = ctx;
	int fd = memfd_create("tablefs-probe", MFD_CLOEXEC), id;

	if (fd < 0) {
		snprintf(dp->reason, sizeof(dp->reason), "memfd_create: %s", strerror(errno));
		goto out_log;
	}
	id = backing_open(dp, fd);
	close(fd);
	if (id < 0) {
		snprintf(dp->reason, sizeof(dp->reason),
			 "the kernel refused a passthrough binding (%s)%s", strerror(-id),
			 id == -EPERM ? ": the daemon needs CAP_SYS_ADMIN" : "");
		goto out_log;
	}
	backing_close(dp, id);
	snprintf(dp->reason, sizeof(dp->reason),
		 "kernel FUSE passthrough: columns are served from their memory, zero copy");
	atomic_store(&dp->passthrough, true);
out_log:
	tfs_log(TFS_LOG_NOTICE, "data path: %s (%s)", datapath_mode(dp), dp->reason);
}

/* Raises the mount's readahead so page-cache reads come in large requests.
 * The bdi is named after the mount's device number, read from mountinfo:
 * a stat of the mount point would wait for this very daemon. */
static void raise_readahead(struct datapath *dp)
{
	char line[8192], path[128], mnt[4096];
	unsigned major, minor;
	FILE *f = fopen("/proc/self/mountinfo", "r");
	bool found = false;

	if (!f)
		return;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*u %*u %u:%u %*s %4095s", &major, &minor, mnt) == 3 &&
			strcmp(mnt, dp->mountpoint) == 0;
	fclose(f);
	if (!found)
		return;
	snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major, minor);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%d\n", DP_READ_AHEAD_KB) < 0 || fclose(f) != 0) {
		tfs_log(TFS_LOG_INFO, "page cache: readahead stays at the default (%s: %s)", path,
			strerror(errno));
		return;
	}
	tfs_log(TFS_LOG_INFO, "page cache: readahead raised to %d KiB", DP_READ_AHEAD_KB);
}

int datapath_attach(struct datapath *dp, struct fuse_session *se, const char *mountpoint,
		    const void *replay_init, size_t replay_len)
{
	dp->devfd = fuse_session_fd(se);
	snprintf(dp->mountpoint, sizeof(dp->mountpoint), "%s", mountpoint);
	return pt_shim_install(se, settle, dp, replay_init, replay_len);
}

void datapath_detach(struct datapath *dp)
{
	dp->devfd = -1;
}

void datapath_init(struct datapath *dp, struct fuse_conn_info *conn)
{
	size_t len;
	const void *init = takeover_init_request(&len);

	/* Kept so that a serving process taking over can replay it.  Sent
	 * by the first serving process only, before it serves any request. */
	if (init)
		supervise_put(SUPERVISE_REC_FUSE_INIT, 0, init, len, -1);
	conn->want |= conn->capable & FUSE_CAP_ASYNC_READ;
	/* From protocol 7.40 (Linux 6.9) the kernel writes dirty pages back
	 * before a direct write and drops the cached ones after it, so a
	 * direct write stays coherent with other opens and mappings. */
	atomic_store(&dp->direct_writes, conn->proto_major > 7 || conn->proto_minor >= 40);
	if (dp->want_passthrough) {
#if HAVE_DECL_FUSE_PASSTHROUGH_OPEN
		if (fuse_set_feature_flag(conn, FUSE_CAP_PASSTHROUGH)) {
			conn->max_stack_depth = DP_STACK_DEPTH;
			/* libfuse sends INIT after this returns: settle at the
			 * first open instead (see datapath_open). */
			atomic_store(&dp->passthrough, true);
			snprintf(dp->reason, sizeof(dp->reason),
				 "kernel FUSE passthrough: columns are served from their "
				 "memory, zero copy");
		}
#else
		if (pt_shim_kernel_offers()) {
			pt_shim_arm_init(DP_STACK_DEPTH);
			return; /* settle() logs once the kernel has answered */
		}
#endif
	}
	tfs_log(TFS_LOG_NOTICE, "data path: %s (%s)", datapath_mode(dp), dp->reason);
}

void datapath_ready(struct datapath *dp)
{
	/* Readahead set during INIT would be capped by the INIT reply itself:
	 * raise it at the first request after, before any column is open. */
	if (atomic_load(&dp->ready) || atomic_exchange(&dp->ready, true))
		return;
	if (!atomic_load(&dp->passthrough))
		raise_readahead(dp);
}

const char *datapath_mode(const struct datapath *dp)
{
	return atomic_load(&dp->passthrough) ? "passthrough" : "page cache";
}

const char *datapath_reason(const struct datapath *dp)
{
	return dp->reason;
}

static int bind_extent(void *ctx, int fd)
{
	return backing_open(ctx, fd);
}

void datapath_open(struct datapath *dp, struct tfs_fs *fs, enum tfs_node_kind kind,
		   struct fuse_file_info *fi)
{
	int id;

	/* A read-only open has nothing to write back or apply on close:
	 * spare each close its round trip. */
	if ((fi->flags & O_ACCMODE) == O_RDONLY)
		fi->noflush = 1;
	if (kind == TFS_N_NPY || kind == TFS_N_ARROW) {
		/* A view shows the column memory as it is when read: drop what
		 * the kernel cached of it at every open (keep_cache off). */
		return;
	}
	if (kind != TFS_N_COLUMN) {
		/* Generated per open, so never cached; and never passthrough. */
		fi->direct_io = 1;
		return;
	}
	if (atomic_load(&dp->passthrough) && (id = tfs_bind(fs, fi->fh, bind_extent, dp)) > 0) {
		fi->keep_cache = 0;
		fi->direct_io = 0;
		/* Nothing of a column is cached in the kernel to write back on
		 * close: spare every close its round trip. */
		fi->noflush = 1;
#if HAVE_DECL_FUSE_PASSTHROUGH_OPEN
		fi->backing_id = id;
#else
		pt_shim_arm_open(id);
#endif
		return;
	}
	/* The daemon never changes an extent's bytes behind the kernel's
	 * back (a change of size makes a new extent), so the cache stays
	 * valid from one open to the next. */
	fi->keep_cache = 1;
	/* Through the page cache the kernel splits a write at every page it
	 * has not cached, so one crossing the end of the column would write
	 * its first pieces and return a short count.  Direct, it comes in
	 * one request (up to 1 MiB), refused whole.  A write-only file
	 * cannot be mapped, so nothing is lost by it. */
	if ((fi->flags & O_ACCMODE) == O_WRONLY && atomic_load(&dp->direct_writes))
		fi->direct_io = 1;
}

void datapath_open_done(struct datapath *dp)
{
	(void)dp;
#if !HAVE_DECL_FUSE_PASSTHROUGH_OPEN
	pt_shim_disarm();
#endif
}

void datapath_extent_gone(struct datapath *dp, int backing_id)
{
	if (backing_id > 0)
		backing_close(dp, backing_id);
}
