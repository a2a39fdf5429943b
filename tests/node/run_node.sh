#!/bin/sh
# Run a Node.js command in bindings/node against the libnnfs just built:
#   run_node.sh SOURCE_DIR LIBNNFS_SO NNFS_CLI -- node ARGS...
# Installs the npm packages of bindings/node/package-lock.json first when
# node_modules is missing (npm ci; onnxruntime-node's install script,
# which would download GPU binaries, is skipped: its CPU runtime ships in
# the package).  Exit 77 (CTest SKIP) only when node or npm is not
# installed; an npm failure is a test failure.
set -eu
src=$1 lib=$2 cli=$3
shift 3
[ "${1:-}" = "--" ] && shift
if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node not installed (bootstrap.sh installs nodejs npm)"; exit 77
fi
dir=$src/bindings/node
if [ ! -d "$dir/node_modules/koffi" ] || [ ! -d "$dir/node_modules/onnxruntime-node" ]; then
    if ! command -v npm >/dev/null 2>&1; then
        echo "SKIP: npm not installed (bootstrap.sh installs nodejs npm)"; exit 77
    fi
    (cd "$dir" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi
cd "$dir"
LIBNNFS_PATH=$lib NNFS_CLI=$cli OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1} \
    exec "$@"
