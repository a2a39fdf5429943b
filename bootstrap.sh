#!/bin/sh
# bootstrap.sh - set libnnfs up from nothing on Debian 12 and run it.
#
#   ./bootstrap.sh demo     install what is missing, build, train the
#                           NNFS spiral network with progress (the main job)
#   ./bootstrap.sh test     install what is missing, build, run the tests
#   ./bootstrap.sh build    install what is missing and build only
#
# The modes share one build directory and work in any order: each forces
# the CMake options it needs (the test mode turns the tests, examples,
# benchmarks and the CLI back on after a demo turned them off), and the
# test mode fails if CTest finds no test to run.
#
# Run as root (or with sudo available) on a fresh Debian machine; nothing
# has to be installed by hand.  Packages already present are not touched.
# Environment:
#   BUILD_DIR   build directory (default: build)
#   JOBS        parallel build/test jobs (default: number of CPUs)
#   NNFS_TIERS  extra test tiers for 'test', space-separated (see
#               tests/tiers/README.md); CI=true selects the CI set
#   NNFS_INSTALL 0: do not install into /usr/local (default as root: do)
set -eu

cd "$(dirname "$0")"
ROOT=$(pwd)
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
MODE=${1:-demo}
[ $# -gt 0 ] && shift

say() { printf '\n==> %s\n' "$*"; }

# Packages needed to build the library and the CLI (protobuf-c: ONNX
# export/import, src/onnx/; without it those calls return
# NN_ERR_UNSUPPORTED; libdeflate: the fast gzip path of the IDX reader,
# zlib otherwise).
PKGS_BUILD="gcc make cmake pkg-config libopenblas-dev liblapacke-dev zlib1g-dev \
libprotobuf-c-dev protobuf-c-compiler libdeflate-dev"
# Added for the test suite: Python references, the real data set,
# sanitizers/fuzzing, valgrind and the ABI tools; ONNX's checker and
# Node.js with npm (the Node binding and ONNX Runtime tests: npm ci
# installs koffi and onnxruntime-node into bindings/node/node_modules);
# Open MPI (and mpi4py) for libnnfs_mpi and its mpirun tests.
PKGS_TEST="python3 python3-numpy python3-matplotlib python3-torch \
dataset-fashion-mnist clang libclang-rt-14-dev valgrind abigail-tools \
binutils python3-onnx nodejs npm openmpi-bin libopenmpi-dev python3-mpi4py"

install_missing() {
    missing=""
    for p in "$@"; do
        # Node.js may come from elsewhere than Debian (NodeSource's nodejs
        # bundles npm and conflicts with Debian's npm package): a working
        # command counts as installed.
        case $p in
        nodejs) command -v node >/dev/null 2>&1 && continue ;;
        npm) command -v npm >/dev/null 2>&1 && continue ;;
        esac
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
            || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    say "Installing Debian packages:$missing"
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "bootstrap.sh: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -q --no-install-recommends $missing
}

# The CMake options of each mode, forced on every run: the build directory
# is shared, and its cache keeps whatever the previous mode set.
DEMO_OPTS="-DNNFS_BUILD_TESTS=OFF -DNNFS_BUILD_BENCH=OFF -DNNFS_BUILD_CLI=ON"
TEST_OPTS="-DNNFS_BUILD_TESTS=ON -DNNFS_BUILD_BENCH=ON -DNNFS_BUILD_CLI=ON \
-DNNFS_BUILD_EXAMPLES=ON -DNNFS_WERROR=ON"

configure() {
    say "Configuring ($BUILD_DIR)"
    # shellcheck disable=SC2086
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DNNFS_INSTALL_PYTHON=ON "$@"
}

build() {
    configure "$@"
    say "Building"
    cmake --build "$BUILD_DIR" -j "$JOBS"
}

# The suite.  --no-tests=error: a build directory without tests (a demo
# cache, a wrong directory) is a failure, never "All tests passed".
run_ctest() {
    (cd "$BUILD_DIR" && ctest --no-tests=error --output-on-failure \
        -j "$JOBS" "$@")
}

# Install into /usr/local (library, header, nnfs, pkg-config and CMake
# files, and the Python package for /usr/bin/python3), so that C programs
# and `python3 -c "import libnnfs"` work right away.  As root only (or with
# NNFS_INSTALL=1 and sudo); NNFS_INSTALL=0 skips it.
install_build() {
    [ "${NNFS_INSTALL:-1}" = 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=""
    elif [ "${NNFS_INSTALL:-}" = 1 ] && command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        say "Not root: skipping the install (run as root, or NNFS_INSTALL=1 with sudo)"
        return 0
    fi
    say "Installing into /usr/local (NNFS_INSTALL=0 skips this)"
    $SUDO cmake --install "$BUILD_DIR" >/dev/null
    $SUDO ldconfig 2>/dev/null || true
}

case "$MODE" in
demo)
    install_missing $PKGS_BUILD
    # shellcheck disable=SC2086
    build $DEMO_OPTS
    install_build
    say "Training the NNFS spiral classifier: $BUILD_DIR/nnfs train $*"
    "$BUILD_DIR/nnfs" train "$@"
    ;;
build)
    install_missing $PKGS_BUILD
    build "$@"
    install_build
    ;;
test)
    # shellcheck disable=SC2086
    install_missing $PKGS_BUILD $PKGS_TEST
    # shellcheck disable=SC2086
    build $TEST_OPTS
    install_build
    if [ "$(id -u)" -eq 0 ] && [ "${NNFS_INSTALL:-1}" != 0 ]; then
        # the installed binding, from outside the tree
        (cd / && env -u PYTHONPATH -u LIBNNFS_PATH /usr/bin/python3 -c \
            "import libnnfs; print('python3: import libnnfs', libnnfs.version())")
    fi
    say "Running the test suite"
    run_ctest "$@"
    if [ -x "$ROOT/tests/tiers/run-tiers.sh" ]; then
        "$ROOT/tests/tiers/run-tiers.sh" "$BUILD_DIR"
    fi
    say "All tests passed"
    ;;
_configure)
    # for tests/bootstrap/check_order.sh: only the configure step of a
    # mode (no packages, no build), and the test mode's ctest call
    case "${1:-}" in
    demo) configure $DEMO_OPTS ;;
    test) configure $TEST_OPTS ;;
    *) echo "usage: $0 _configure demo|test" >&2; exit 2 ;;
    esac
    ;;
_ctest)
    run_ctest "$@"
    ;;
*)
    echo "usage: $0 demo|test|build [args]" >&2
    exit 2
    ;;
esac
