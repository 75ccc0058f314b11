#!/bin/sh
# core_nofuse: the core (src/core, libtablefs) is FUSE-free, so that tablectl
# and the unit tests link it without libfuse and its calls only go down.
# Fails if a core source includes a FUSE header or the built library defines
# or needs any fuse_ symbol.
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
status=0
hits=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"](fuse|fuse3/)' \
	"$top_srcdir"/src/core/*.c "$top_srcdir"/src/core/*.h)
if [ -n "$hits" ]; then
	echo "FAIL: FUSE header included in the core:"
	echo "$hits"
	status=1
fi
lib=$top_builddir/.libs/libtablefs.a
[ -f "$lib" ] || { echo "FAIL: no $lib (build first)"; exit 1; }
command -v nm >/dev/null || { echo "SKIP: no nm"; exit 77; }
syms=$(nm -A "$lib" | grep -E '[[:space:]]fuse_') || true
if [ -n "$syms" ]; then
	echo "FAIL: libfuse symbols in the core library:"
	echo "$syms"
	status=1
fi
[ "$status" = 0 ] && echo "PASS: src/core includes no FUSE header; libtablefs has no fuse_ symbol"
exit $status
