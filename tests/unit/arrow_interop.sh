#!/bin/sh
# arrow_interop: the Arrow IPC file laid out by src/core/arrow_file.c, read back by an
# independent implementation (Apache Arrow for JavaScript): schema, lengths
# and every value of a column of every type, for several row counts (0, one,
# a bool byte boundary, many).  Skips (77) without node or the npm package
# pinned in tests/package.json (install: npm install in tests/).
srcdir=${top_srcdir:-.}/tests/unit
builddir=${top_builddir:-.}/tests/unit

if ! command -v node >/dev/null 2>&1; then
	echo "SKIP: node not found"
	exit 77
fi
# apache-arrow from tests/node_modules, or $TABLEFS_NODE_MODULES for builds
# whose source tree has none (make distcheck's).
modules=${TABLEFS_NODE_MODULES:-$srcdir/../node_modules}
if [ ! -d "$modules/apache-arrow" ]; then
	echo "SKIP: apache-arrow not installed (cd tests && npm install)"
	exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# node looks for packages beside the script: run a copy next to them.
cp "$srcdir/arrow_check.mjs" "$tmp/" && ln -s "$modules" "$tmp/node_modules" || exit 1
status=0
for rows in 0 1 9 1000 100003; do
	if ! "$builddir/arrow_dump" "$tmp/table.arrow" "$rows"; then
		echo "FAIL: arrow_dump $rows"
		status=1
		continue
	fi
	node "$tmp/arrow_check.mjs" "$tmp/table.arrow" "$rows" || status=1
done
exit $status
