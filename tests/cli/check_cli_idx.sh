#!/bin/sh
# nnfs train on IDX files as gzip writes them: a file of several gzip
# members (gzip of split pieces, concatenated: gunzip reads it, so must
# nnfs) trains exactly as the single-member file does; and a 2 MB gzip
# whose header declares 2^31 bytes is refused as truncated under a 1 GiB
# address-space limit, without trying to allocate the declared size first.
#   check_cli_idx.sh PATH/TO/nnfs
set -u
nnfs=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL: $1"; sed 's/^/  | /' "$work/out" "$work/err" | tail -n 8
        fail=1; }

# 200 images of 4 x 4 random pixels, labels 0/1
printf '\000\000\010\003\000\000\000\310\000\000\000\004\000\000\000\004' \
    >"$work/img"
head -c 3200 /dev/urandom >>"$work/img"
printf '\000\000\010\001\000\000\000\310' >"$work/lab"
head -c 200 /dev/urandom | tr '\000-\377' '\000\001' >>"$work/lab"
gzip -c "$work/img" >"$work/img1.gz"
gzip -c "$work/lab" >"$work/lab1.gz"
# members cut inside the header and inside the data
head -c 10 "$work/img" | gzip -c >"$work/img2.gz"
tail -c +11 "$work/img" | head -c 1000 | gzip -c >>"$work/img2.gz"
tail -c +1011 "$work/img" | gzip -c >>"$work/img2.gz"
head -c 100 "$work/lab" | gzip -c >"$work/lab2.gz"
tail -c +101 "$work/lab" | gzip -c >>"$work/lab2.gz"
gzip -dc "$work/img2.gz" | cmp -s - "$work/img" || { echo "FAIL: gunzip"; exit 1; }

run() {  # run IMAGES LABELS OUTFILE
    "$nnfs" train --train-images "$1" --train-labels "$2" --epochs 2 \
        --hidden 8 --seed 7 >"$3" 2>"$work/err"
}
if run "$work/img1.gz" "$work/lab1.gz" "$work/one"; then
    ok "train on single-member gzip files"
else cp "$work/one" "$work/out"; bad "train on single-member gzip files"; fi
if run "$work/img2.gz" "$work/lab2.gz" "$work/two"; then
    ok "train on multi-member gzip files"
else cp "$work/two" "$work/out"; bad "train on multi-member gzip files"; fi
# the same losses and accuracies (timings stripped)
sed -E 's/[0-9.]+ s( per epoch)?//g' "$work/one" >"$work/one.n"
sed -E 's/[0-9.]+ s( per epoch)?//g' "$work/two" >"$work/two.n"
if [ -s "$work/one.n" ] && cmp -s "$work/one.n" "$work/two.n"; then
    ok "the same training either way"
else diff "$work/one.n" "$work/two.n" >"$work/out"; bad "outputs differ"; fi

# 2 MB of data under a header declaring 32768 x 256 x 256 = 2^31 bytes
printf '\000\000\010\003\000\000\200\000\000\000\001\000\000\000\001\000' \
    >"$work/big"
head -c 2097152 /dev/urandom >>"$work/big"
gzip -1 -c "$work/big" >"$work/big.gz"
printf '\000\000\010\001\000\000\200\000' >"$work/biglab"
head -c 32768 /dev/zero >>"$work/biglab"
gzip -c "$work/biglab" >"$work/biglab.gz"
(
    # 1 GiB: the declared data as floats is 8 GiB.  An AddressSanitizer
    # build (the asan-ubsan tier) maps terabytes of shadow memory and
    # cannot start under ulimit -v: there its allocator refuses any single
    # allocation over 1 GiB instead, which is the same check.
    if ldd "$nnfs" 2>/dev/null | grep -q libasan; then
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}max_allocation_size_mb=1024:allocator_may_return_null=1
        export ASAN_OPTIONS
    else
        ulimit -v 1048576
    fi
    "$nnfs" train --train-images "$work/big.gz" \
        --train-labels "$work/biglab.gz" --epochs 1 >"$work/out" 2>"$work/err"
)
st=$?
if [ "$st" -eq 1 ] && grep -q "truncated" "$work/err" &&
   grep -q "big.gz" "$work/err" && ! grep -qi "memory" "$work/err"; then
    ok "a 2 MB gzip declaring 2^31 bytes: refused as truncated"
else bad "huge declared size: exit $st"; fi
exit $fail
