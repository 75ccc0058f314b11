# Shared harness of the mount tests; sourced by each tests/mount/*.sh.
#
# A test calls start_daemon (mounts a fresh tablefs on a temp directory, $MNT),
# does its checks with check/fail/expect_errno, and ends with finish, which
# unmounts, checks the daemon exited 0 without internal errors, and exits
# 0 (pass), 1 (fail) or 77 (skip).  A trap cleans up on every path: nothing
# is left mounted and no daemon is left running.
#
# Runnable by hand from the top of the tree:
#   TABLEFS=$PWD/src/tablefs PYTHON3=/opt/tablefs-venv/bin/python3 \
#       top_builddir=$PWD top_srcdir=$PWD sh tests/mount/basic.sh
# (absolute paths: the node tests link node_modules from top_srcdir)
# POSIX sh (dash runs it under make check).

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${TABLEFS:=$top_builddir/src/tablefs}"
: "${PYTHON3:=/usr/bin/python3}"
# A hang (a deadlocked daemon) must end the test, not make check: after
# this many seconds the watchdog kills the daemons and fails the test.  Not
# a timing assertion: a healthy run takes a small fraction of it.
: "${TEST_TIMEOUT:=600}"
# Options added to every daemon started (pagecache.sh: --no-passthrough).
: "${TABLEFS_EXTRA_OPTS:=}"
# A command the daemon runs under (tests/run-all: tests/valgrind-tablefs),
# and how long it may take to mount under it.
: "${TABLEFS_WRAPPER:=}"
: "${MOUNT_TIMEOUT:=10}"
COLCHECK=$top_builddir/tests/mount/colcheck
LC_ALL=C
export LC_ALL
PYDIR=$top_srcdir/tests/mount
export PYTHON3 COLCHECK PYDIR

FAILED=0
NCHECKS=0
TMPD=
MNT=
DPID=
DLOG=
# Every daemon this test started: "pid:mountpoint:log" words, for cleanup.
DAEMONS=
HELPERS=

# Logging and verdicts

note() { printf '  %s\n' "$*"; }
section() { printf '== %s\n' "$*"; }

# A check failed: report it and keep going, so one run shows every bug.
fail()
{
	FAILED=1
	printf 'FAIL: %s\n' "$*"
}

# Something the rest of the test depends on failed: stop here.
fatal()
{
	FAILED=1
	printf 'FATAL: %s\n' "$*"
	exit 1
}

skip()
{
	printf 'SKIP: %s\n' "$*"
	exit 77
}

pass() { NCHECKS=$((NCHECKS + 1)); }

# check DESCRIPTION CMD...: CMD must succeed.
check()
{
	_ck_desc=$1
	shift
	if _ck_out=$("$@" 2>&1); then
		pass
	else
		fail "$_ck_desc (command: $(printf '%s' "$*" | cut -c 1-400))"
		[ -n "$_ck_out" ] && printf '%s\n' "$_ck_out" | head -n 20 | sed 's/^/    /'
	fi
}

# check_eq DESCRIPTION EXPECTED GOT
check_eq()
{
	if [ "$2" = "$3" ]; then
		pass
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# expect_errno ERRNO CMD...: CMD (colcheck or a python helper) prints the
# errno name of the failed call, or OK, as the first word of its last line.
# ERRNO may name the call too ("EINVAL write"), as colcheck prints it.
expect_errno()
{
	_want=$1
	shift
	case $_want in
	*" "*) _f=1-2 ;;
	*) _f=1 ;;
	esac
	_got=$("$@" 2>>"$TMPD/stderr.log" | tail -n 1 | cut -d' ' -f"$_f")
	[ -n "$_got" ] || _got="(no output)"
	if [ "$_got" = "$_want" ]; then
		pass
	else
		fail "$(printf '%s' "$*" | cut -c 1-400): expected $_want, got $_got"
	fi
}

expect_ok() { expect_errno OK "$@"; }

# Shorthands for the tools

colcheck() { "$COLCHECK" "$@"; }
py() { "$PYTHON3" "$@"; }
# tfs: the python helper (tests/mount/tfs.py) with its subcommands.
tfs() { "$PYTHON3" "$PYDIR/tfs.py" "$@"; }

# tablectl against the mount of this test (tablectl.sh, tablectl_cmds.sh).
: "${TABLECTL:=$top_builddir/src/tablectl}"
ctl() { "$TABLECTL" --mount "$MNT" "$@"; }

# ctl_status WANT DESCRIPTION ARGS...: tablectl ARGS exits with WANT; its
# stdout and stderr are kept in $TMPD/out and $TMPD/err.
ctl_status()
{
	_want=$1
	_desc=$2
	shift 2
	ctl "$@" >"$TMPD/out" 2>"$TMPD/err"
	_st=$?
	if [ "$_st" = "$_want" ]; then
		pass
	else
		fail "$_desc: tablectl $*: exit $_st, want $_want"
		sed 's/^/    stderr: /' "$TMPD/err" | head -n 5
	fi
}

# has FILE TEXT DESCRIPTION: FILE contains the fixed string TEXT.
has()
{
	if grep -qF -- "$2" "$1"; then
		pass
	else
		fail "$3: '$2' not in: $(head -c 400 "$1")"
	fi
}

size_of() { stat -c %s "$1"; }

# meta_field TABLEDIR EXPR: a field of meta.json, EXPR in python on m.
meta_field()
{
	"$PYTHON3" -c 'import json,sys; m=json.load(open(sys.argv[1]+"/meta.json")); print(eval(sys.argv[2]))' "$1" "$2"
}

# snapshot TABLEDIR: everything a failed change must leave as it was: the
# bytes of meta.json, and each column's name, size and hash.
snapshot()
{
	cat "$1/meta.json"
	for _f in "$1"/*; do
		[ "${_f##*/}" = meta.json ] && continue
		[ -e "$_f" ] || continue
		printf '%s %s %s\n' "${_f##*/}" "$(size_of "$_f")" "$(sha256sum <"$_f" | cut -d' ' -f1)"
	done
}

# unchanged DESCRIPTION TABLEDIR SNAPSHOTFILE: the table is as it was.
unchanged()
{
	snapshot "$2" >"$TMPD/snap.now" 2>&1
	if cmp -s "$3" "$TMPD/snap.now"; then
		pass
	else
		fail "$1: table changed"
		diff "$3" "$TMPD/snap.now" | sed 's/^/    /' | head -n 20
		# Report each change once: compare later checks with the new state.
		cp "$TMPD/snap.now" "$3"
	fi
}

# Waiting without blind sleeps: poll a condition in short steps, give up
# after a generous timeout (a hang, not a slow machine, is what it catches).

# wait_for SECONDS PID CMD...: until CMD succeeds; fails when PID (if not
# empty) died first or time ran out.
wait_for()
{
	_wf_secs=$1
	_wf_pid=$2
	shift 2
	_wf_n=$((_wf_secs * 50))
	while [ "$_wf_n" -gt 0 ]; do
		"$@" && return 0
		if [ -n "$_wf_pid" ] && ! kill -0 "$_wf_pid" 2>/dev/null; then
			"$@" && return 0
			return 2
		fi
		sleep 0.02
		_wf_n=$((_wf_n - 1))
	done
	return 1
}

# is_mounted DIR: DIR is a fuse.tablefs mount point in mountinfo (field 5 is
# the mount point, the fs type follows the " - " separator).
is_mounted()
{
	awk -v m="$1" '
		{ t = ""; for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } }
		$5 == m && t == "fuse.tablefs" { found = 1 }
		END { exit !found }' /proc/self/mountinfo
}

not_mounted() { ! grep -q " $1 " /proc/self/mountinfo; }

# Set-up and tear-down

require_env()
{
	[ -e /dev/fuse ] || skip "no /dev/fuse"
	# Opening it is what mounting needs; a container may list but deny it.
	if ! (: <>/dev/fuse) 2>/dev/null; then
		skip "/dev/fuse is not usable here"
	fi
	command -v fusermount3 >/dev/null 2>&1 || skip "fusermount3 is not installed"
	[ -x "$TABLEFS" ] || fatal "daemon not built: $TABLEFS"
	[ -x "$COLCHECK" ] || fatal "colcheck not built: $COLCHECK"
	"$PYTHON3" -c 'import numpy' 2>/dev/null || skip "$PYTHON3 has no numpy"
}

# Unmounts the mount of one "pid:mnt:log" record and reaps its daemon.
# Returns the daemon's exit status (or 255 if it had to be killed).
reap_daemon()
{
	_pid=${1%%:*}
	_rest=${1#*:}
	_mnt=${_rest%%:*}
	if grep -q " $_mnt " /proc/self/mountinfo; then
		fusermount3 -u "$_mnt" 2>/dev/null || umount -l "$_mnt" 2>/dev/null ||
			fusermount3 -u -z "$_mnt" 2>/dev/null
	fi
	_killed=0
	if ! wait_for 10 "" eval '! kill -0 '"$_pid"' 2>/dev/null'; then
		kill "$_pid" 2>/dev/null
		if ! wait_for 5 "" eval '! kill -0 '"$_pid"' 2>/dev/null'; then
			kill -9 "$_pid" 2>/dev/null
		fi
		_killed=1
	fi
	wait "$_pid" 2>/dev/null
	_st=$?
	[ "$_killed" = 1 ] && return 255
	return "$_st"
}

cleanup()
{
	_rc=$?
	trap - EXIT
	# Helper processes first: they may hold files of the mount open.
	for _h in $HELPERS; do
		kill "${_h%%:*}" 2>/dev/null
	done
	for _h in $HELPERS; do
		wait "${_h%%:*}" 2>/dev/null
	done
	if [ -n "$WATCHDOG" ]; then
		kill "$WATCHDOG" 2>/dev/null
		wait "$WATCHDOG" 2>/dev/null
	fi
	for _d in $DAEMONS; do
		reap_daemon "$_d"
	done
	if [ "$_rc" != 0 ] && [ "$_rc" != 77 ]; then
		for _d in $DAEMONS; do
			_l=${_d##*:}
			if [ -s "$_l" ]; then
				echo "---- daemon log $_l"
				tail -n 100 "$_l"
				echo "----"
			fi
		done
		if [ -n "$TMPD" ] && [ -s "$TMPD/stderr.log" ]; then
			echo "---- helper stderr"
			tail -n 50 "$TMPD/stderr.log"
			echo "----"
		fi
	fi
	for _d in $DAEMONS; do
		_rest=${_d#*:}
		_mnt=${_rest%%:*}
		# rmdir, never rm -r: if it is still mounted, leave it alone.
		if grep -q " $_mnt " /proc/self/mountinfo; then
			echo "ERROR: $_mnt is still mounted"
			_rc=1
		else
			rmdir "$_mnt" 2>/dev/null
		fi
	done
	[ -n "$TMPD" ] && rm -rf "$TMPD"
	exit "$_rc"
}

# Started with the first daemon; see TEST_TIMEOUT.
WATCHDOG=
start_watchdog()
{
	_wd_main=$$
	(
		trap 'kill "$_wd_sleep" 2>/dev/null; exit 0' TERM
		sleep "$TEST_TIMEOUT" </dev/null >/dev/null 2>&1 &
		_wd_sleep=$!
		wait "$_wd_sleep"
		echo "TIMEOUT: still running after $TEST_TIMEOUT s: killing the daemons"
		# Killing the daemons fails every blocked call on their mounts,
		# so the test can get to its trap.
		for _p in $(cat "$TMPD/daemon.pids"); do
			kill -KILL "$_p" 2>/dev/null
		done
		kill -TERM "$_wd_main"
	) &
	WATCHDOG=$!
}

# start_daemon [OPTIONS...]: mounts a new tablefs with OPTIONS on a fresh
# temp directory; sets MNT, DPID, DLOG (the last one started).
start_daemon()
{
	if [ -z "$TMPD" ]; then
		require_env
		TMPD=$(mktemp -d "${TMPDIR:-/tmp}/tablefs-test.XXXXXX") || fatal "mktemp failed"
		TMPD=$(cd "$TMPD" && pwd -P)
		: >"$TMPD/stderr.log"
		: >"$TMPD/daemon.pids"
		trap cleanup EXIT
		trap 'exit 1' INT TERM HUP
		start_watchdog
	fi
	MNT=$(mktemp -d "$TMPD/../tablefs-mnt.XXXXXX") || fatal "mktemp failed"
	MNT=$(cd "$MNT" && pwd -P)
	DLOG=$(mktemp "$TMPD/daemon.XXXXXX")
	# A background job of a script ignores SIGINT; give the daemon the
	# default back, as it has when started from a terminal.
	if env --default-signal=INT true 2>/dev/null; then
		env --default-signal=INT $TABLEFS_WRAPPER "$TABLEFS" -f $TABLEFS_EXTRA_OPTS "$@" "$MNT" \
			</dev/null >"$DLOG" 2>&1 &
	else
		$TABLEFS_WRAPPER "$TABLEFS" -f $TABLEFS_EXTRA_OPTS "$@" "$MNT" </dev/null >"$DLOG" 2>&1 &
	fi
	DPID=$!
	DAEMONS="$DAEMONS $DPID:$MNT:$DLOG"
	echo "$DPID" >>"$TMPD/daemon.pids"
	wait_for "$MOUNT_TIMEOUT" "$DPID" is_mounted "$MNT"
	case $? in
	0) ;;
	2) fatal "daemon exited before mounting: $TABLEFS -f $* $MNT" ;;
	*) fatal "no fuse.tablefs mount on $MNT after $MOUNT_TIMEOUT s" ;;
	esac
}

# start_helper CMD...: runs CMD in the background, its output kept in a
# file; killed at cleanup.  Sets HPID.
HELPERN=0
start_helper()
{
	HELPERN=$((HELPERN + 1))
	"$@" >"$TMPD/helper.$HELPERN.out" 2>&1 &
	HPID=$!
	HELPERS="$HELPERS $HPID:$HELPERN"
}

# wait_helper PID: returns its exit status; shows its output if not 0.
wait_helper()
{
	wait "$1"
	_wh_st=$?
	_wh_new=
	for _wh in $HELPERS; do
		if [ "${_wh%%:*}" = "$1" ]; then
			[ "$_wh_st" != 0 ] && sed 's/^/    helper: /' "$TMPD/helper.${_wh#*:}.out"
		else
			_wh_new="$_wh_new $_wh"
		fi
	done
	HELPERS=$_wh_new
	return "$_wh_st"
}

# forget_daemon: the test ended the last daemon started itself (and checked
# how); the cleanup need not stop it.
forget_daemon()
{
	_keep=
	for _d in $DAEMONS; do
		case $_d in "$DPID":*) ;; *) _keep="$_keep $_d" ;; esac
	done
	DAEMONS=$_keep
}

# stop_daemon: unmounts the last daemon started and checks that it went
# cleanly: no internal errors, exit status 0, the mount gone.
stop_daemon()
{
	_rec=
	_keep=
	for _d in $DAEMONS; do
		case $_d in
		"$DPID":*) _rec=$_d ;;
		*) _keep="$_keep $_d" ;;
		esac
	done
	[ -n "$_rec" ] || return 0
	if [ -r "$MNT/.status" ]; then
		_ie=$("$PYTHON3" -c 'import json,sys; print(json.load(open(sys.argv[1]))["internal_errors"])' \
			"$MNT/.status" 2>/dev/null)
		check_eq "internal_errors in .status" 0 "$_ie"
	else
		fail "$MNT/.status is not readable"
	fi
	if ! fusermount3 -u "$MNT"; then
		fail "fusermount3 -u $MNT failed"
	fi
	wait_for 10 "" eval '! kill -0 '"$DPID"' 2>/dev/null' || fail "daemon still running 10 s after unmount"
	reap_daemon "$_rec"
	_st=$?
	DAEMONS=$_keep
	check_eq "daemon exit status after unmount" 0 "$_st"
	check "mount $MNT gone from mountinfo" not_mounted "$MNT"
	# Internal errors, crashes and sanitizer reports in the log.
	if grep -E -i 'internal error|assert|AddressSanitizer|LeakSanitizer|runtime error|segmentation|double free|corrupt' \
		"$DLOG" >"$TMPD/logerr" 2>/dev/null; then
		fail "daemon log has internal errors:"
		sed 's/^/    /' "$TMPD/logerr" | head -n 20
	fi
	rmdir "$MNT" 2>/dev/null
}

# finish: the verdict.  Stops every daemon still running and exits.
finish()
{
	while [ -n "$(echo $DAEMONS)" ]; do
		_last=
		for _d in $DAEMONS; do _last=$_d; done
		DPID=${_last%%:*}
		_rest=${_last#*:}
		MNT=${_rest%%:*}
		DLOG=${_last##*:}
		stop_daemon
	done
	if [ "$FAILED" != 0 ]; then
		echo "RESULT: FAIL ($NCHECKS checks passed)"
		exit 1
	fi
	echo "RESULT: PASS ($NCHECKS checks)"
	exit 0
}

# sizes_match_meta TABLEDIR: `ls -l` shows every column of meta.json, and
# only those, with size nbytes == rows * itemsize; meta.json's own size is
# the length of its text.
sizes_match_meta()
{
	LC_ALL=C ls -l "$1" | awk 'NR > 1 && $9 != "meta.json" { print $9, $5 }' | sort >"$TMPD/ls.sizes"
	"$PYTHON3" -c '
import json, sys
m = json.load(open(sys.argv[1] + "/meta.json"))
for c in m["columns"]:
    assert c["nbytes"] == m["rows"] * c["itemsize"], c
    print(c["file"], c["nbytes"])' "$1" | LC_ALL=C sort >"$TMPD/meta.sizes"
	if ! cmp -s "$TMPD/ls.sizes" "$TMPD/meta.sizes"; then
		fail "ls -l $1 sizes differ from meta.json (< ls, > meta):"
		diff "$TMPD/ls.sizes" "$TMPD/meta.sizes" | head -n 10 | sed 's/^/    /'
		return
	fi
	pass
	check_eq "$1/meta.json st_size == bytes read" "$(wc -c <"$1/meta.json")" "$(size_of "$1/meta.json")"
}

# same_content COLUMN FILE: the column holds exactly FILE's bytes, read with
# read(2) (cmp) and through a shared mapping (colcheck cmp).
same_content()
{
	if cmp -s "$1" "$2"; then pass; else fail "read(2) of $1 differs from $2: $(cmp "$1" "$2" 2>&1)"; fi
	_r=$("$COLCHECK" cmp "$1" "$2" 2>&1)
	check_eq "mmap of $1 equals $2" OK "$_r"
}

# as_user UID CMD...: runs CMD with uid = gid = UID and no groups.
as_user()
{
	_u=$1
	shift
	setpriv --reuid="$_u" --regid="$_u" --clear-groups "$@"
}

# Node.js scripts import apache-arrow from a node_modules next to them: run
# a copy of SCRIPT beside a link to MODULES (or $TABLEFS_NODE_MODULES, for
# builds whose source tree has none, such as make distcheck's).
#   node_run MODULES SCRIPT ARGS...
node_run()
{
	_nm=${TABLEFS_NODE_MODULES:-$1}
	_nd=$(mktemp -d "$TMPD/node.XXXXXX")
	cp "$2" "$_nd/" && ln -s "$_nm" "$_nd/node_modules" || return 1
	_ns=$_nd/${2##*/}
	shift 2
	node "$_ns" "$@"
}

# has_arrow MODULES: apache-arrow is installed there (or in $TABLEFS_NODE_MODULES).
has_arrow() { [ -d "${TABLEFS_NODE_MODULES:-$1}/apache-arrow" ]; }
