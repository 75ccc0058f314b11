#!/bin/sh
# pagecache: the data tests again on the page-cache data path
# (--no-passthrough), which serves columns through the daemon instead of
# binding them to their memory in the kernel: same contract, other code.
: "${top_srcdir:=.}"
TABLEFS_EXTRA_OPTS=--no-passthrough
export TABLEFS_EXTRA_OPTS top_srcdir
rc=0
skipped=0
for t in basic errors resize clients tools limits; do
	echo "#### $t.sh with --no-passthrough"
	sh "$top_srcdir/tests/mount/$t.sh"
	st=$?
	case $st in
	0) ;;
	77) skipped=$((skipped + 1)) ;;
	*) rc=1 ;;
	esac
done
[ "$rc" = 0 ] && [ "$skipped" = 5 ] && exit 77
exit "$rc"
