#!/usr/bin/env bash
# deploy/test.sh — install what is missing, build (normal and ASan+UBSan), run the whole suite.
# This is the README's test command and all that .ci/run does.
#
#   bash deploy/test.sh            everything
#   BBT_TEST_QUICK=1 bash deploy/test.sh   skip the sanitizer build (local iteration only)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)

bash deploy/setup.sh

build() { # dir, extra cmake args...
  local dir=$1; shift
  cmake -B "$dir" -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

echo "== build (normal)"
build build
echo "== test (normal)"
(cd build && ctest --output-on-failure -j"$jobs")

if [ "${BBT_TEST_QUICK:-0}" != 1 ]; then
  echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
  build build-asan -DBBT_SANITIZE=ON
  echo "== test (sanitizers)"
  # Browser, load and real-time media tests measure the product, not the sanitizer: they run in
  # the normal build only.
  # Leaks: whole stacks (the fast unwinder stops inside libraries built without frame
  # pointers), so that tests/lsan.supp can name only system libraries' one-time allocations.
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0" \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
     ctest --output-on-failure -j"$jobs" -LE 'browser|bench|realtime')
fi
echo "== all tests passed"
