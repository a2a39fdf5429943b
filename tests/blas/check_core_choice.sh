#!/bin/sh
# libnnfs's choice of the OpenBLAS core at load (src/core/blas.c): with
# NNFS_BLAS_CORE=keep the BLAS keeps its own core; by default, on a CPU
# with AVX-512 where OpenBLAS chose Haswell/Zen, it runs an AVX-512 core;
# NNFS_BLAS_CORE=SkylakeX asks for that core.  Independent evidence:
# /proc/cpuinfo's flags, and OpenBLAS's own corename through `nnfs version`.
#   check_core_choice.sh PATH/TO/nnfs
set -u
nnfs=$1
core() { sed -n 's/.*(core \([^)]*\)).*/\1/p'; }
keep=$(NNFS_BLAS_CORE=keep "$nnfs" version | core)
auto=$(env -u NNFS_BLAS_CORE "$nnfs" version)
echo "keep: $keep"
echo "$auto"
case "$(echo "$auto" | sed -n 's/^BLAS core choice: //p')" in
    "not applicable"*) echo "not a DYNAMIC_ARCH OpenBLAS: nothing to check"; exit 0 ;;
esac
if grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo &&
   grep -qw avx512vl /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo; then
    case "$keep" in
    Haswell|Zen)
        got=$(echo "$auto" | core)
        case "$got" in
        SkylakeX|Cooperlake) echo "ok: $keep -> $got" ;;
        *) echo "FAIL: AVX-512 CPU, OpenBLAS chose $keep, libnnfs left $got"; exit 1 ;;
        esac
        forced=$(NNFS_BLAS_CORE=SkylakeX "$nnfs" version | core)
        [ "$forced" = SkylakeX ] || { echo "FAIL: NNFS_BLAS_CORE=SkylakeX gave $forced"; exit 1; }
        echo "ok: NNFS_BLAS_CORE=SkylakeX gives $forced"
        ;;
    *) echo "OpenBLAS chose $keep itself: nothing to upgrade" ;;
    esac
else
    got=$(echo "$auto" | core)
    [ "$got" = "$keep" ] || { echo "FAIL: no AVX-512 but core changed $keep -> $got"; exit 1; }
    echo "ok: no AVX-512, core $got kept"
fi
