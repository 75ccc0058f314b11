#!/bin/sh
# core_layers: the rules of src/core (see the top of src/core/catalog_impl.h
# and HACKING.md), checked on the sources and on the built library:
#  - no FUSE header and no fuse_ symbol: tablectl and the unit tests link the
#    core without libfuse;
#  - calls only go down: each file of libtablefs uses symbols of lower layers
#    only, so the catalog knows nothing of the layers above it.
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
# Layer of each file, lowest first.  Layer 0 (pure helpers) may use each
# other; every other file uses strictly lower layers only.
layers='
types 0
names 0
mem 0
store 0
io_full 0
log 0
npy 0
arrow_file 0
schema 0
change_plan 0
catalog 1
persist 2
views 2
render 2
apply 3
namespace 3
handles 4
filesystem 5
'
bad=$(nm -A "$lib" | awk -v layers="$layers" '
	BEGIN {
		n = split(layers, l, "\n")
		for (i = 1; i <= n; i++)
			if (split(l[i], f, " ") == 2)
				rank[f[1]] = f[2]
	}
	{
		split($1, p, ":")
		obj = p[2]
		sub(/^libtablefs_la-/, "", obj)
		sub(/\.o$/, "", obj)
		if (!(obj in rank) && !(obj in told)) {
			print obj ": no layer given in tests/unit/core_layers.sh"
			told[obj] = 1
		}
		if ($2 == "U")
			use[obj, $3] = 1
		else if ($2 ~ /^[TDBR]$/)
			def[$3] = obj
	}
	END {
		for (k in use) {
			split(k, u, SUBSEP)
			if (!(u[2] in def) || def[u[2]] == u[1])
				continue
			a = rank[u[1]]
			b = rank[def[u[2]]]
			if (b > a || (b == a && a > 0))
				print u[1] " (layer " a ") calls " u[2] " of " def[u[2]] " (layer " b ")"
		}
	}')
if [ -n "$bad" ]; then
	echo "FAIL: a call that does not go down:"
	echo "$bad"
	status=1
fi
[ "$status" = 0 ] && echo "PASS: the core has no FUSE header or symbol, and its calls only go down"
exit $status
