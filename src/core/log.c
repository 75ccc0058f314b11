#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>

#include "log.h"

static enum tfs_log_level max_level = TFS_LOG_NOTICE;
static bool to_syslog;
static atomic_ulong nerrors;

void tfs_log_setup(enum tfs_log_level max, bool use_syslog)
{
	max_level = max;
	to_syslog = use_syslog;
	if (use_syslog)
		openlog("tablefs", LOG_PID, LOG_DAEMON);
}

bool tfs_log_enabled(enum tfs_log_level level)
{
	return level <= max_level;
}

void tfs_log(enum tfs_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level == TFS_LOG_ERR)
		atomic_fetch_add(&nerrors, 1);
	if (!tfs_log_enabled(level))
		return;
	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog((int)level, fmt, ap);
	} else {
		flockfile(stderr);
		fputs("tablefs: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		funlockfile(stderr);
	}
	va_end(ap);
}

unsigned long tfs_log_errors(void)
{
	return atomic_load(&nerrors);
}
