#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <search.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io_full.h"
#include "log.h"
#include "supervisor.h"

/* Restarts allowed within RESTART_WINDOW seconds before giving up: a
 * serving process that dies at once every time would only spin. */
#define RESTART_BURST 5
#define RESTART_WINDOW 10

enum { OP_PUT = 1, OP_DROP = 2 };

struct msg {
	uint32_t op, kind;
	uint64_t key, len;
};

struct record {
	uint32_t kind;
	uint64_t key;
	int fd;
	size_t len;
	unsigned char blob[];
};

static void *records; /* tsearch tree of struct record *, by (kind, key) */
static int channel = -1; /* serving process: its end of the socket */
/* Serving process: one message at a time on the channel, from its first
 * byte to its answer.  The stream has no other framing: two threads
 * interleaving their parts would make the supervisor read a blob as a
 * header, and every record after it garbage. */
static pthread_mutex_t channel_lock = PTHREAD_MUTEX_INITIALIZER;
/* Serving process: set once records can no longer be handed over (the
 * supervisor is gone or the channel failed); never cleared. */
static atomic_bool protection_lost;
static char lost_reason[160]; /* written once, before protection_lost is set */
static pthread_mutex_t lost_lock = PTHREAD_MUTEX_INITIALIZER;
/* Supervisor: the record stream of the serving process broke while it
 * lived, so the records may miss its last changes. */
static bool records_incomplete;
static pid_t child;
static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};

static int record_cmp(const void *a, const void *b)
{
	const struct record *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static void record_free(struct record *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

static void record_remove(uint32_t kind, uint64_t key)
{
	struct record k = {.kind = kind, .key = key}, *r;
	void *p = tfind(&k, &records, record_cmp);

	if (!p)
		return;
	r = *(struct record **)p;
	tdelete(r, &records, record_cmp);
	record_free(r);
}

/* Keeps r in place of any record with its kind and key. */
static int record_put(struct record *r)
{
	record_remove(r->kind, r->key);
	return tsearch(r, &records, record_cmp) ? 0 : -ENOMEM;
}

/* Whole transfers on the channel; false at its end or on an error. */
static bool read_full(int fd, void *buf, size_t len)
{
	return tfs_read_full(fd, buf, len) == (ssize_t)len;
}

static bool write_full(int fd, const void *buf, size_t len)
{
	return tfs_write_full(fd, buf, len) == 0;
}

/* One message from the serving process, answered once it is kept.  False
 * when the channel is closed (the serving process is gone). */
static bool serve_message(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msg m;
	struct iovec iov = {&m, sizeof(m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	struct record *r;
	int fd = -1;
	ssize_t n;
	char ack = 0;

	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(m))
		return false;
	if ((m.op != OP_PUT && m.op != OP_DROP) || m.len > (UINT64_C(1) << 32)) {
		/* Not a header: the stream lost its framing, and nothing read
		 * from it can be trusted any more. */
		tfs_log(TFS_LOG_ERR, "supervisor: the record stream is corrupt (op %u): "
				     "crash protection is off until the serving process restarts",
			m.op);
		records_incomplete = true;
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
				memcpy(&fd, CMSG_DATA(c), sizeof(fd));
				close(fd);
			}
		return false;
	}
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	if (m.op == OP_DROP) {
		record_remove(m.kind, m.key);
	} else if ((r = malloc(sizeof(*r) + m.len))) {
		r->kind = m.kind;
		r->key = m.key;
		r->len = m.len;
		r->fd = fd;
		fd = -1;
		if (!read_full(sock, r->blob, m.len)) {
			record_free(r);
			return false;
		}
		if (record_put(r) < 0) {
			record_free(r);
			ack = 1;
		}
	} else {
		/* Out of memory: the blob must still be read to keep the
		 * stream in step. */
		char sink[4096];
		for (uint64_t left = m.len; left;) {
			size_t k = left < sizeof(sink) ? (size_t)left : sizeof(sink);
			if (!read_full(sock, sink, k)) {
				if (fd >= 0)
					close(fd);
				return false;
			}
			left -= k;
		}
		ack = 1;
	}
	if (fd >= 0)
		close(fd);
	if (ack)
		tfs_log(TFS_LOG_ERR, "supervisor: record %u/%llu not kept", m.kind,
			(unsigned long long)m.key);
	return write_full(sock, &ack, 1);
}

/* Crash protection is gone for good: say so once, loud, and cut the
 * channel so that nothing more is half-sent on it. */
static void lose_protection(const char *why)
{
	pthread_mutex_lock(&lost_lock);
	if (!atomic_load(&protection_lost)) {
		snprintf(lost_reason, sizeof(lost_reason), "%s", why);
		atomic_store(&protection_lost, true);
		shutdown(channel, SHUT_RDWR);
		tfs_log(TFS_LOG_ERR, "crash protection lost: %s; changes from now on would not "
				     "survive a crash of the serving process",
			why);
	}
	pthread_mutex_unlock(&lost_lock);
}

/* Sends one whole message and reads its answer; channel_lock held.  0, or
 * the errno of a failed channel (the message may then be cut anywhere). */
static int exchange(const struct msg *m, const void *blob, int fd, char *ack)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov[2] = {{(void *)m, sizeof(*m)}, {(void *)blob, m->len}};
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = m->len ? 2 : 1};
	struct cmsghdr *c;
	size_t done;
	int rc;
	ssize_t n;

	if (fd >= 0) {
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	do
		n = sendmsg(channel, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno;
	/* A signal may cut a send short: the rest follows (the fd went
	 * with the first byte). */
	done = (size_t)n;
	if (done < sizeof(*m)) {
		rc = tfs_write_full(channel, (const char *)m + done, sizeof(*m) - done);
		if (rc < 0)
			return -rc;
		done = sizeof(*m);
	}
	done -= sizeof(*m);
	rc = tfs_write_full(channel, (const char *)blob + done, m->len - done);
	if (rc < 0)
		return -rc;
	n = tfs_read_full(channel, ack, 1);
	return n == 1 ? 0 : n < 0 ? (int)-n : EPIPE;
}

/* One message, whole, under the channel lock; the loss of the channel
 * turns crash protection off. */
static void send_message(const struct msg *m, const void *blob, int fd)
{
	char ack = 0;
	int err = 0;

	if (channel < 0 || atomic_load(&protection_lost))
		return;
	pthread_mutex_lock(&channel_lock);
	if (!atomic_load(&protection_lost)) {
		errno = 0;
		err = exchange(m, blob, fd, &ack);
	}
	pthread_mutex_unlock(&channel_lock);
	if (err) {
		char why[160];
		snprintf(why, sizeof(why), "the supervisor no longer takes records (%s)",
			 err == EPIPE ? "channel closed" : strerror(err));
		lose_protection(why);
	} else if (ack) {
		/* Kept back by the supervisor alone (out of memory): this
		 * record only; the channel is still in step. */
		tfs_log(TFS_LOG_ERR, "record %u/%llu not kept by the supervisor: a restart would "
				     "not see it",
			m->kind, (unsigned long long)m->key);
	}
}

void supervise_put(uint32_t kind, uint64_t key, const void *blob, size_t len, int fd)
{
	struct msg m = {OP_PUT, kind, key, len};

	send_message(&m, blob, fd);
}

void supervise_drop(uint32_t kind, uint64_t key)
{
	struct msg m = {OP_DROP, kind, key, 0};

	send_message(&m, NULL, -1);
}

bool supervise_protected(const char **why)
{
	if (channel < 0) {
		*why = "no supervisor";
		return false;
	}
	if (atomic_load(&protection_lost)) {
		*why = lost_reason;
		return false;
	}
	*why = "";
	return true;
}

/* Serving process: notices the supervisor's end at once, even when no
 * change is being handed over, so that .status and the log say so. */
static void *watch_supervisor(void *arg)
{
	struct pollfd p = {channel, POLLRDHUP, 0};

	(void)arg;
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
		lose_protection("the supervisor is gone or closed the record channel");
	return NULL;
}

struct walk {
	void (*fn)(void *ctx, uint32_t kind, uint64_t key, const void *blob, size_t len, int fd);
	void *ctx;
};

static void walk_one(const void *p, VISIT which, void *ctx)
{
	const struct record *r = *(struct record *const *)p;
	struct walk *w = ctx;

	if (which == postorder || which == leaf)
		w->fn(w->ctx, r->kind, r->key, r->blob, r->len, r->fd);
}

void supervise_foreach(void (*fn)(void *ctx, uint32_t kind, uint64_t key, const void *blob,
				  size_t len, int fd),
		       void *ctx)
{
	struct walk w = {fn, ctx};

	twalk_r(records, walk_one, &w);
}

const void *supervise_get(uint32_t kind, uint64_t key, size_t *len)
{
	struct record k = {.kind = kind, .key = key};
	void *p = tfind(&k, &records, record_cmp);

	if (!p)
		return NULL;
	*len = (*(struct record **)p)->len;
	return (*(struct record **)p)->blob;
}

static void free_record(void *p)
{
	record_free(p);
}

void supervise_release(void)
{
	tdestroy(records, free_record);
	records = NULL;
}

static void on_stop(int sig)
{
	int saved = errno;

	stop_signal = sig;
	if (child > 0)
		kill(child, SIGTERM);
	if (write(wake_pipe[1], "", 1) < 0) {
		/* the loop polls with a timeout too */
	}
	errno = saved;
}

static void on_child(int sig)
{
	int saved = errno;

	(void)sig;
	if (write(wake_pipe[1], "", 1) < 0) {
		/* as above */
	}
	errno = saved;
}

static int install_signals(void)
{
	struct sigaction sa = {0};

	if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 ||
	    sigaction(SIGHUP, &sa, NULL) < 0)
		return -errno;
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	if (sigaction(SIGCHLD, &sa, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* The watcher thread takes no signal: they are for libfuse's loop. */
static void start_watcher(void)
{
	sigset_t all, old;
	pthread_t t;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, NULL, watch_supervisor, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		tfs_log(TFS_LOG_WARNING, "cannot watch the supervisor (%s): its loss would show "
					 "only at the next change",
			strerror(rc));
	else
		pthread_detach(t);
}

/* Serving process side of a fork: the channel, default signals, and a
 * higher OOM score than the supervisor's, then serve. */
static void run_child(int sock, int (*serve)(void *ctx, unsigned epoch), void *ctx, unsigned epoch)
{
	FILE *f;

	channel = sock;
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fputs("500\n", f);
		fclose(f);
	}
	start_watcher();
	_exit(serve(ctx, epoch) == 0 ? 0 : 1);
}

/* Waits for messages and for the child's end; returns its wait status. */
static int watch_child(int sock)
{
	struct pollfd p[2] = {{sock, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
	bool open_channel = true;
	char drain[64];
	int status;

	for (;;) {
		pid_t w = waitpid(child, &status, WNOHANG);
		if (w == child)
			return status;
		p[0].fd = open_channel ? sock : -1;
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents & POLLIN)
			while (read(wake_pipe[0], drain, sizeof(drain)) > 0)
				;
		if (open_channel && (p[0].revents & (POLLIN | POLLHUP)) && !serve_message(sock)) {
			/* The serving process must not wait for answers that
			 * will never come: it sees the channel closed. */
			shutdown(sock, SHUT_RDWR);
			open_channel = false;
		}
	}
}

int supervise(int (*serve)(void *ctx, unsigned epoch), void *ctx)
{
	time_t starts[RESTART_BURST] = {0};
	unsigned epoch = 0;
	int sv[2], status;

	if (install_signals() < 0) {
		tfs_log(TFS_LOG_ERR, "supervisor: cannot set up signals: %s", strerror(errno));
		return 1;
	}
	/* Best effort: only with CAP_SYS_RESOURCE. */
	FILE *f = fopen("/proc/self/oom_score_adj", "w");
	if (f) {
		fputs("-1000\n", f);
		fclose(f);
	}
	for (;; epoch++) {
		time_t now = time(NULL);
		if (epoch >= RESTART_BURST && now - starts[epoch % RESTART_BURST] < RESTART_WINDOW) {
			tfs_log(TFS_LOG_ERR, "serving process died %d times in %d s: giving up",
				RESTART_BURST, RESTART_WINDOW);
			return 1;
		}
		starts[epoch % RESTART_BURST] = now;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
			tfs_log(TFS_LOG_ERR, "supervisor: socketpair: %s", strerror(errno));
			return 1;
		}
		child = fork();
		if (child < 0) {
			tfs_log(TFS_LOG_ERR, "supervisor: fork: %s", strerror(errno));
			return 1;
		}
		if (child == 0) {
			close(sv[0]);
			run_child(sv[1], serve, ctx, epoch);
		}
		close(sv[1]);
		status = watch_child(sv[0]);
		close(sv[0]);
		child = 0;
		if (stop_signal || (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0))
			return stop_signal || WEXITSTATUS(status) == 0 ? 0 : 1;
		if (status >= 0 && WIFSIGNALED(status))
			tfs_log(TFS_LOG_WARNING, "serving process killed by signal %d: restarting",
				WTERMSIG(status));
		else
			tfs_log(TFS_LOG_WARNING, "serving process failed: restarting");
		if (records_incomplete)
			tfs_log(TFS_LOG_ERR, "the new serving process starts from records that may "
					     "miss changes made after the record stream broke");
		records_incomplete = false;
	}
}
