#!/bin/sh
# check_order.sh ROOT - the README's two commands share one build
# directory and must work in either order (issue 13, item 1).
#
# A demo configures the build with the tests off; the test command that
# follows must turn them back on (not inherit the demo's cache), and its
# CTest call must fail, not pass, when a build directory holds no test.
# Only the configure steps run here (bootstrap.sh's _configure mode: no
# packages, no build), in a scratch directory, so the check takes seconds.
set -eu
ROOT=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "check_order: FAIL: $*" >&2; exit 1; }

count_tests() {
    ctest --test-dir "$1" -N 2>/dev/null |
        sed -n 's/^Total Tests: *\([0-9]*\).*/\1/p'
}

# demo, then test, in one build directory
BUILD_DIR=$TMP/b "$ROOT/bootstrap.sh" _configure demo >"$TMP/demo.log" 2>&1 ||
    { cat "$TMP/demo.log"; fail "demo configure failed"; }
n=$(count_tests "$TMP/b")
[ "${n:-0}" -eq 0 ] || fail "the demo's build registered $n tests"
BUILD_DIR=$TMP/b "$ROOT/bootstrap.sh" _configure test >"$TMP/test.log" 2>&1 ||
    { cat "$TMP/test.log"; fail "test configure after demo failed"; }
n=$(count_tests "$TMP/b")
[ "${n:-0}" -ge 100 ] ||
    fail "after demo, the test mode registered ${n:-no} tests (want >= 100)"
grep -q '^NNFS_BUILD_TESTS:BOOL=ON' "$TMP/b/CMakeCache.txt" ||
    fail "NNFS_BUILD_TESTS is not ON after the test mode"

# test, then demo, then test again: still the whole suite
BUILD_DIR=$TMP/b "$ROOT/bootstrap.sh" _configure demo >/dev/null 2>&1 ||
    fail "demo configure after test failed"
BUILD_DIR=$TMP/b "$ROOT/bootstrap.sh" _configure test >/dev/null 2>&1 ||
    fail "second test configure failed"
m=$(count_tests "$TMP/b")
[ "$m" = "$n" ] || fail "test after demo after test: $m tests, first $n"

# the test mode's CTest call on a build without tests (a fresh demo
# build) must fail
BUILD_DIR=$TMP/c "$ROOT/bootstrap.sh" _configure demo >/dev/null 2>&1 ||
    fail "fresh demo configure failed"
if BUILD_DIR=$TMP/c "$ROOT/bootstrap.sh" _ctest >"$TMP/ctest.log" 2>&1; then
    tail -5 "$TMP/ctest.log"
    fail "the test command's ctest passed on a build with no tests"
fi
grep -q "No tests were found" "$TMP/ctest.log" ||
    { tail -5 "$TMP/ctest.log"; fail "no 'No tests were found' message"; }
echo "check_order: demo->test registers $n tests; test after demo after" \
     "test $m; ctest on a test-less build fails"
echo "1 passed, 0 failed"
