#!/bin/sh
# bootstrap.sh - set libnnfs up from nothing on Debian 12 and run it.
#
#   ./bootstrap.sh demo     install what is missing, build, train the
#                           NNFS spiral network with progress (the main job)
#   ./bootstrap.sh test     install what is missing, build, run the tests
#   ./bootstrap.sh build    install what is missing and build only
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

# Packages needed to build the library and the CLI.
PKGS_BUILD="gcc make cmake pkg-config libopenblas-dev liblapacke-dev zlib1g-dev"
# Added for the test suite: Python references, the real data set,
# sanitizers/fuzzing, valgrind and the ABI tools; Open MPI for
# libnnfs_mpi and its mpirun tests.
PKGS_TEST="python3 python3-numpy python3-matplotlib python3-torch \
dataset-fashion-mnist clang libclang-rt-14-dev valgrind abigail-tools \
binutils openmpi-bin libopenmpi-dev"

install_missing() {
    missing=""
    for p in "$@"; do
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

build() {
    say "Configuring ($BUILD_DIR)"
    cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DNNFS_INSTALL_PYTHON=ON "$@"
    say "Building"
    cmake --build "$BUILD_DIR" -j "$JOBS"
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
    build -DNNFS_BUILD_TESTS=OFF -DNNFS_BUILD_BENCH=OFF
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
    build -DNNFS_WERROR=ON
    install_build
    if [ "$(id -u)" -eq 0 ] && [ "${NNFS_INSTALL:-1}" != 0 ]; then
        # the installed binding, from outside the tree
        (cd / && env -u PYTHONPATH -u LIBNNFS_PATH /usr/bin/python3 -c \
            "import libnnfs; print('python3: import libnnfs', libnnfs.version())")
    fi
    say "Running the test suite"
    (cd "$BUILD_DIR" && ctest --output-on-failure -j "$JOBS" "$@")
    if [ -x "$ROOT/tests/tiers/run-tiers.sh" ]; then
        "$ROOT/tests/tiers/run-tiers.sh" "$BUILD_DIR"
    fi
    say "All tests passed"
    ;;
*)
    echo "usage: $0 demo|test|build [args]" >&2
    exit 2
    ;;
esac
