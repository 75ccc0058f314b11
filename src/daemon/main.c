/* tablefs: options, mount, and the life of the daemon, in libfuse's order. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fuse_lowlevel.h>

#include "datapath.h"
#include "catalog.h"
#include "fuse_ops.h"
#include "log.h"
#include "mem.h"
#include "supervisor.h"

struct options {
	char *memory_limit;
	char *log_level;
	int no_passthrough;
	char *positional[3]; /* [SOURCE] MOUNTPOINT, as mount(8) helpers pass them */
	int npositional;
};

#define OPT(t, p) {t, offsetof(struct options, p), 1}
static const struct fuse_opt option_spec[] = {
	/* Also matches --memory-limit=SIZE, with the '=' kept: see main. */
	{"--memory-limit %s", offsetof(struct options, memory_limit), 0},
	{"memory_limit=%s", offsetof(struct options, memory_limit), 0},
	{"--log-level %s", offsetof(struct options, log_level), 0},
	{"log_level=%s", offsetof(struct options, log_level), 0},
	OPT("--no-passthrough", no_passthrough),
	OPT("no_passthrough", no_passthrough),
	FUSE_OPT_END,
};

/* Collects the non-option arguments: "tablefs MOUNTPOINT" by hand, or
 * "tablefs SOURCE MOUNTPOINT -o OPTIONS" from mount -t fuse.tablefs and
 * /etc/fstab (through mount.fuse3), where SOURCE names nothing. */
static int collect_positional(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	if (o->npositional == 2)
		return -1; /* one too many: fuse_opt_parse reports it */
	o->positional[o->npositional++] = strdup(arg);
	return 0;
}

static const char *const level_names[] = {
	[TFS_LOG_ERR] = "err",	   [TFS_LOG_WARNING] = "warning", [TFS_LOG_NOTICE] = "notice",
	[TFS_LOG_INFO] = "info", [TFS_LOG_DEBUG] = "debug",
};

/* "err", "warning", "notice", "info" or "debug"; -1 for anything else. */
static int parse_level(const char *s)
{
	s += s[0] == '=';
	for (int i = TFS_LOG_ERR; i <= TFS_LOG_DEBUG; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

/* Tells systemd (Type=notify) how the daemon is doing, when it started us. */
static void notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		tfs_log(TFS_LOG_WARNING, "cannot notify systemd: %s", strerror(errno));
	close(fd);
}

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
	       "                           kernel passthrough is available\n"
	       "    --log-level=LEVEL      err, warning, notice, info (default) or debug;\n"
	       "                           to syslog in the background\n\n",
	       prog, lim);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* Open files the daemon needs besides column extents: standard streams,
 * /dev/fuse, the supervisor's socket, the log, and a column's memfd
 * being made or handed over. */
#define FD_RESERVE 64

/* Every column extent holds a memfd: allow as many as the hard limit.
 * Returns how many column extents that allows (0: no limit). */
static uint64_t raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t want = rl.rlim_max;
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			tfs_log(TFS_LOG_WARNING, "cannot raise the open file limit: %s",
				strerror(errno));
			getrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE : rl.rlim_cur / 2;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
	char *out = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*out++ = *s;
		}
	}
	*out = '\0';
}

/* The type of the topmost filesystem mounted on path, from mountinfo
 * ("fuse.tablefs", "ext4"), or "" when path is no mount point; false when
 * mountinfo cannot be read. */
static bool mounted_type(const char *path, char *type, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return false;
	type[0] = '\0';
	/* Fields: id parent major:minor root MOUNTPOINT options [optional...]
	 * - FSTYPE source super-options; later lines are mounted on top. */
	while (getline(&line, &cap, f) > 0) {
		char *save = NULL, *mnt = NULL, *fstype = NULL, *tok;
		int field = 0;
		bool sep = false;
		for (tok = strtok_r(line, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			if (++field == 5)
				mnt = tok;
			else if (sep) {
				fstype = tok;
				break;
			} else if (field > 6 && strcmp(tok, "-") == 0)
				sep = true;
		}
		if (!mnt || !fstype)
			continue;
		unescape_mountinfo(mnt);
		if (strcmp(mnt, path) == 0)
			snprintf(type, len, "%s", fstype);
	}
	free(line);
	fclose(f);
	return true;
}

/* Refuses a mount point where a tablefs is mounted already: a second one
 * would hide every table of the first, and tables made meanwhile would
 * vanish with it.  Other filesystems may be mounted over, as mount(8)
 * allows.  0, or 1 (the exit status) with the reason on stderr. */
static int check_mountpoint(const char *mountpoint)
{
	char path[PATH_MAX], type[64];

	if (!realpath(mountpoint, path))
		return 0; /* fuse_session_mount says what is wrong with it */
	if (mounted_type(path, type, sizeof(type)) && strcmp(type, "fuse.tablefs") == 0) {
		fprintf(stderr,
			"tablefs: %s: a tablefs is mounted there already; a second one would "
			"hide its tables (unmount it first: fusermount3 -u %s)\n",
			mountpoint, mountpoint);
		return 1;
	}
	return 0;
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

/* What the supervisor hands each serving process it forks. */
struct daemon {
	struct fuse_cmdline_opts opts;
	struct tfs_config cfg;
	struct ll ll;
};

static void persist_put(void *ctx, uint32_t kind, uint64_t key, const void *blob, size_t len,
			int fd)
{
	(void)ctx;
	supervise_put(kind, key, blob, len, fd);
}

static void persist_drop(void *ctx, uint32_t kind, uint64_t key)
{
	(void)ctx;
	supervise_drop(kind, key);
}

static bool crash_protection(void *ctx, const char **why)
{
	(void)ctx;
	return supervise_protected(why);
}

static void restore_one(void *ctx, uint32_t kind, uint64_t key, const void *blob, size_t len,
			int fd)
{
	struct daemon *d = ctx;

	if (kind > TFS_REC_TABLE)
		return; /* not the catalog's */
	if (tfs_restore(d->ll.fs, kind, blob, len, fd) < 0)
		tfs_log(TFS_LOG_ERR, "record %u/%llu could not be taken over", kind,
			(unsigned long long)key);
	d->ll.restored = true;
}

static int run_loop(struct daemon *d)
{
	struct fuse_loop_config *loop;
	int ret;

	if (d->opts.singlethread)
		return fuse_session_loop(d->ll.se);
	loop = fuse_loop_cfg_create();
	if (!loop)
		return 1;
	fuse_loop_cfg_set_clone_fd(loop, d->opts.clone_fd);
	if (d->opts.max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
		fuse_loop_cfg_set_idle_threads(loop, d->opts.max_idle_threads);
	/* Enough workers that requests the kernel sends while others wait
	 * (write-back during a resize) are always served. */
	fuse_loop_cfg_set_max_threads(loop, 64);
	ret = fuse_session_loop_mt(d->ll.se, loop);
	fuse_loop_cfg_destroy(loop);
	return ret;
}

/* A serving process: builds the catalog, anew or from the supervisor's
 * records (epoch > 0), takes the connection over and serves until unmount
 * or a stop signal. */
static int serve(void *ctx, unsigned epoch)
{
	struct daemon *d = ctx;
	const void *init = NULL;
	size_t len = 0;
	int ret = 1;

	d->cfg.epoch = epoch;
	if (tfs_fs_new(&d->cfg, &d->ll.fs) < 0)
		return 1;
	if (epoch > 0) {
		supervise_foreach(restore_one, d);
		init = supervise_get(SUPERVISE_REC_FUSE_INIT, 0, &len);
		tfs_log(TFS_LOG_NOTICE, "serving process %u took over the mount", epoch);
	}
	if (datapath_attach(d->ll.dp, d->ll.se, d->opts.mountpoint, init, len) != 0)
		goto out_fs;
	if (fuse_set_signal_handlers(d->ll.se) != 0)
		goto out_fs;
	d->ll.singlethread = d->opts.singlethread;
	if (tfs_ll_notifier_start(&d->ll) != 0)
		goto out_signals;
	ret = run_loop(d);
	tfs_ll_notifier_stop(&d->ll);
	/* A signal that ends the loop is a clean stop (the loop returns it). */
	ret = ret == 0 || ret == SIGINT || ret == SIGTERM || ret == SIGHUP ? 0 : 1;
out_signals:
	fuse_remove_signal_handlers(d->ll.se);
out_fs:
	datapath_detach(d->ll.dp);
	tfs_fs_free(d->ll.fs);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct daemon d = {.ll = {.entry_timeout = 60.0, .attr_timeout = 1.0}};
	struct fuse_cmdline_opts *opts = &d.opts;
	struct options o = {0};
	struct fuse_session *se;
	int ret = 1, level;

	if (fuse_opt_parse(&args, &o, option_spec, collect_positional) != 0)
		return 2;
	/* The last one is the mount point; a SOURCE before it is ignored. */
	if (o.npositional && fuse_opt_add_arg(&args, o.positional[o.npositional - 1]) != 0)
		return 2;
	/* libfuse's parser also resolves the mount point: one it cannot reach
	 * (it said why) is a failure to mount, 1, not a usage error. */
	if (fuse_parse_cmdline(&args, opts) != 0)
		return o.npositional && access(o.positional[o.npositional - 1], F_OK) != 0 ? 1 : 2;
	if (opts->show_help) {
		usage(argv[0]);
		ret = 0;
		goto out_args;
	}
	if (opts->show_version) {
		printf("tablefs %s\nlibfuse %s\n", PACKAGE_VERSION, fuse_pkgversion());
		ret = 0;
		goto out_args;
	}
	if (!opts->mountpoint) {
		fprintf(stderr, "usage: %s [options] MOUNTPOINT (see --help)\n", argv[0]);
		ret = 2;
		goto out_args;
	}
	level = opts->debug ? TFS_LOG_DEBUG : TFS_LOG_INFO;
	if (o.log_level && (level = parse_level(o.log_level)) < 0) {
		fprintf(stderr, "tablefs: invalid --log-level '%s' (err, warning, notice, info, "
				"debug)\n",
			o.log_level + (o.log_level[0] == '='));
		ret = 2;
		goto out_args;
	}
	tfs_log_setup((enum tfs_log_level)level, false);
	fuse_set_log_func(fuse_log_to_tfs);

	d.cfg.mem_limit = tfs_mem_default_limit();
	if (o.memory_limit &&
	    tfs_size_parse(o.memory_limit + (o.memory_limit[0] == '='), &d.cfg.mem_limit) < 0) {
		fprintf(stderr, "tablefs: invalid --memory-limit '%s' (bytes, K/M/G/T, or N%%)\n",
			o.memory_limit);
		ret = 2;
		goto out_args;
	}
	if (check_mountpoint(opts->mountpoint) != 0)
		goto out_args;
	d.cfg.root_uid = getuid();
	d.cfg.root_gid = getgid();
	d.cfg.max_extents = raise_fd_limit();

	/* The kernel checks permissions from the modes and owners we keep:
	 * with allow_other, every user's access is enforced. */
	if (fuse_opt_add_arg(&args, "-odefault_permissions,fsname=tablefs,subtype=tablefs") != 0)
		goto out_args;
	if (datapath_new(!o.no_passthrough, &d.ll.dp) < 0)
		goto out_args;
	tfs_ll_hooks(&d.ll, &d.cfg.hooks);
	d.cfg.hooks.persist_put = persist_put;
	d.cfg.hooks.persist_drop = persist_drop;
	d.cfg.hooks.crash_protection = crash_protection;
	se = fuse_session_new(&args, &tfs_ll_ops, sizeof(tfs_ll_ops), &d.ll);
	if (!se)
		goto out_dp;
	d.ll.se = se;
	if (fuse_session_mount(se, opts->mountpoint) != 0)
		goto out_session;
	{
		char lim[32];
		tfs_size_format(d.cfg.mem_limit, lim, sizeof(lim));
		tfs_log(TFS_LOG_INFO, "mounted on %s, memory limit %s", opts->mountpoint, lim);
	}
	if (fuse_daemonize(opts->foreground) != 0)
		goto out_unmount;
	if (!opts->foreground)
		tfs_log_setup((enum tfs_log_level)level, true);
	/* Mounted: requests wait in the kernel until served, so users may come. */
	notify_systemd("READY=1");

	/* From here this process only supervises: the connection to the
	 * kernel and the column memory outlive any serving process. */
	ret = supervise(serve, &d);
	notify_systemd("STOPPING=1");
	tfs_log(TFS_LOG_INFO, "unmounting %s", opts->mountpoint);

out_unmount:
	fuse_session_unmount(se);
out_session:
	fuse_session_destroy(se);
out_dp:
	datapath_free(d.ll.dp);
out_args:
	free(opts->mountpoint);
	free(o.memory_limit);
	free(o.log_level);
	for (int i = 0; i < o.npositional; i++)
		free(o.positional[i]);
	fuse_opt_free_args(&args);
	supervise_release();
	return ret;
}
