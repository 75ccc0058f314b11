/* tablefs: options, mount, and the life of the daemon, in libfuse's order. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "datapath.h"
#include "fs.h"
#include "ll.h"
#include "log.h"
#include "mem.h"

struct options {
	char *memory_limit;
	int no_passthrough;
	int log_debug;
};

#define OPT(t, p) {t, offsetof(struct options, p), 1}
static const struct fuse_opt option_spec[] = {
	/* Also matches --memory-limit=SIZE, with the '=' kept: see main. */
	{"--memory-limit %s", offsetof(struct options, memory_limit), 0},
	{"memory_limit=%s", offsetof(struct options, memory_limit), 0},
	OPT("--no-passthrough", no_passthrough),
	OPT("no_passthrough", no_passthrough),
	FUSE_OPT_END,
};

static void usage(const char *prog)
{
	char lim[32];

	tfs_size_format(tfs_mem_default_limit(), lim, sizeof(lim));
	printf("usage: %s [options] MOUNTPOINT\n\n"
	       "Shares tables through shared memory: each table a directory, each column a\n"
	       "file of raw little-endian values, meta.json its schema.\n\n"
	       "tablefs options:\n"
	       "    --memory-limit=SIZE    most memory the tables may use: bytes, or with a\n"
	       "                           K, M, G or T suffix, or N%% of RAM (default: half of\n"
	       "                           RAM, here %s); also -o memory_limit=SIZE\n"
	       "    --no-passthrough       serve columns through the page cache even where\n"
	       "                           kernel passthrough is available\n\n",
	       prog, lim);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Every column version holds a memfd: allow as many as the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			tfs_log(TFS_LOG_WARNING, "cannot raise the open file limit: %s",
				strerror(errno));
	}
}

/* libfuse's own messages go through the project's logger. */
static void fuse_log_to_tfs(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	tfs_log((enum tfs_log_level)level, "%s", msg);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts opts = {0};
	struct options o = {0};
	struct fuse_loop_config *loop = NULL;
	struct tfs_config cfg = {0};
	struct ll ll = {.entry_timeout = 60.0, .attr_timeout = 1.0};
	struct fuse_session *se;
	int ret = 1;

	if (fuse_opt_parse(&args, &o, option_spec, NULL) != 0)
		return 2;
	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 2;
	if (opts.show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (opts.show_version) {
		printf("tablefs %s\nlibfuse %s\n", PACKAGE_VERSION, fuse_pkgversion());
		ret = 0;
		goto out_args;
	}
	if (!opts.mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT (see --help)\n", argv[0]);
		ret = 2;
		goto out_args;
	}
	tfs_log_setup(opts.debug ? TFS_LOG_DEBUG : TFS_LOG_INFO, false);
	fuse_set_log_func(fuse_log_to_tfs);

	cfg.mem_limit = tfs_mem_default_limit();
	if (o.memory_limit &&
	    tfs_size_parse(o.memory_limit + (o.memory_limit[0] == '='), &cfg.mem_limit) < 0) {
		fprintf(stderr, "tablefs: invalid --memory-limit '%s' (bytes, K/M/G/T, or N%%)\n",
			o.memory_limit);
		ret = 2;
		goto out_args;
	}
	cfg.root_uid = getuid();
	cfg.root_gid = getgid();
	raise_fd_limit();

	/* The kernel checks permissions from the modes and owners we keep:
	 * with allow_other, every user's access is enforced. */
	if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=tablefs,subtype=tablefs") != 0)
		goto out_args;
	if (datapath_new(!o.no_passthrough, &ll.dp) < 0)
		goto out_args;
	tfs_ll_hooks(&ll, &cfg.hooks);
	if (tfs_fs_new(&cfg, &ll.fs) < 0)
		goto out_dp;
	se = fuse_session_new(&args, &tfs_ll_ops, sizeof(tfs_ll_ops), &ll);
	if (!se)
		goto out_fs;
	ll.se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto out_signals;
	if (datapath_attach(ll.dp, se, opts.mountpoint) != 0)
		goto out_unmount;
	{
		char lim[32];
		tfs_size_format(cfg.mem_limit, lim, sizeof(lim));
		tfs_log(TFS_LOG_INFO, "mounted on %s, memory limit %s", opts.mountpoint, lim);
	}
	if (fuse_daemonize(opts.foreground) != 0)
		goto out_unmount;
	if (!opts.foreground)
		tfs_log_setup(opts.debug ? TFS_LOG_DEBUG : TFS_LOG_INFO, true);

	if (opts.singlethread) {
		ret = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		if (!loop)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(loop, opts.clone_fd);
		if (opts.max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
			fuse_loop_cfg_set_idle_threads(loop, opts.max_idle_threads);
		/* Enough workers that requests the kernel sends while others
		 * wait (write-back during a resize) are always served. */
		fuse_loop_cfg_set_max_threads(loop, 64);
		ret = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	/* A signal that ends the loop is a clean stop (the loop returns it). */
	ret = ret == 0 || ret == SIGINT || ret == SIGTERM || ret == SIGHUP ? 0 : 1;
	tfs_log(TFS_LOG_INFO, "unmounting %s", opts.mountpoint);

out_unmount:
	datapath_detach(ll.dp);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	tfs_fs_free(ll.fs);
out_dp:
	datapath_free(ll.dp);
out_args:
	free(opts.mountpoint);
	free(o.memory_limit);
	fuse_opt_free_args(&args);
	return ret;
}
