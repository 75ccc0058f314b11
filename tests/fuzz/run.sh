#!/bin/sh
# Builds the libFuzzer target with clang (ASan + UBSan) from the core's
# sources and runs it for a bounded time on the seed corpus.
#   tests/fuzz/run.sh [SECONDS]        default 60
# Needs clang and libclang-rt-14-dev (Debian).  Exits non-zero on a finding;
# the crashing input is left in tests/fuzz/out/.
set -eu
secs=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${top_builddir:-$top}
out=$build/tests/fuzz/out
mkdir -p "$out/corpus"
CC=${CLANG:-clang}
command -v "$CC" >/dev/null || { echo "SKIP: no clang"; exit 77; }
[ -f "$build/config.h" ] || { echo "run ./configure first"; exit 2; }
# shellcheck disable=SC2046
$CC -g -O1 -std=c11 -Wall -Wextra -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$build" -I"$top/src/core" $(pkg-config --cflags libcjson) \
	"$top/tests/fuzz/fuzz_schema.c" "$top/src/core/schema.c" "$top/src/core/change_plan.c" "$top/src/core/types.c" \
	"$top/src/core/names.c" "$top/src/core/mem.c" $(pkg-config --libs libcjson) -o "$out/fuzz_schema"
cd "$out"
# The new corpus grows in out/corpus; the seeds stay as they are.
./fuzz_schema -max_total_time="$secs" -max_len=4096 -timeout=10 -print_final_stats=1 \
	-dict="$top/tests/fuzz/schema.dict" corpus "$top/tests/fuzz/corpus"
