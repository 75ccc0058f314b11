#!/bin/sh
# arrow_interop: the Arrow IPC file laid out by src/core/arrow_file.c, read back by
# independent implementations: Apache Arrow for JavaScript (arrow_check.mjs)
# and pyarrow (arrow_check.py, when $PYTHON3 has it): schema, lengths, null
# counts and every value of a column of every type, text, binary, category
# and nullable columns included, for several row counts (0, one, a bool
# byte boundary, many).  Each reader missing is said; skips (77) only when
# both are (node with the npm package pinned in tests/package.json: npm
# install in tests/; pyarrow: scripts/install-deps).
srcdir=${top_srcdir:-.}/tests/unit
builddir=${top_builddir:-.}/tests/unit
: "${PYTHON3:=python3}"

# apache-arrow from tests/node_modules, or $TABLEFS_NODE_MODULES for builds
# whose source tree has none (make distcheck's).
modules=${TABLEFS_NODE_MODULES:-$srcdir/../node_modules}
js=yes
if ! command -v node >/dev/null 2>&1; then
	echo "note: node not found: no check with Apache Arrow for JavaScript"
	js=
elif [ ! -d "$modules/apache-arrow" ]; then
	echo "note: apache-arrow not installed (cd tests && npm install)"
	js=
fi
py=yes
if ! "$PYTHON3" -c 'import pyarrow' 2>/dev/null; then
	echo "note: $PYTHON3 has no pyarrow: no check with pyarrow"
	py=
fi
if [ -z "$js$py" ]; then
	echo "SKIP: neither Apache Arrow for JavaScript nor pyarrow"
	exit 77
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# node looks for packages beside the script: run a copy next to them.
if [ -n "$js" ]; then
	case $modules in /*) ;; *) modules=$(pwd)/$modules ;; esac
	cp "$srcdir/arrow_check.mjs" "$tmp/" && ln -s "$modules" "$tmp/node_modules" || exit 1
fi
status=0
for rows in 0 1 9 1000 100003; do
	if ! "$builddir/arrow_dump" "$tmp/table.arrow" "$rows"; then
		echo "FAIL: arrow_dump $rows"
		status=1
		continue
	fi
	if [ -n "$js" ]; then
		node "$tmp/arrow_check.mjs" "$tmp/table.arrow" "$rows" || status=1
	fi
	if [ -n "$py" ]; then
		"$PYTHON3" "$srcdir/arrow_check.py" "$tmp/table.arrow" "$rows" || status=1
	fi
done
exit $status
