/* One logging wrapper for the whole project.  Messages go to stderr in the
 * foreground and to syslog in the background; libfuse's own messages are
 * routed here too (main.c).  Per-operation traces only at TFS_LOG_DEBUG. */
#ifndef TABLEFS_LOG_H
#define TABLEFS_LOG_H

#include <stdbool.h>

enum tfs_log_level { TFS_LOG_ERR = 3, TFS_LOG_WARNING = 4, TFS_LOG_NOTICE = 5, TFS_LOG_INFO = 6, TFS_LOG_DEBUG = 7 };

/* Sets the most verbose level printed, and whether to use syslog. */
void tfs_log_setup(enum tfs_log_level max, bool use_syslog);

/* True when messages of level would be printed (to skip building them). */
bool tfs_log_enabled(enum tfs_log_level level);

/* Logs a printf-style message at level, if enabled. */
void tfs_log(enum tfs_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Counts messages logged at TFS_LOG_ERR (internal errors), for status. */
unsigned long tfs_log_errors(void);

#endif
