#!/usr/bin/env python3
"""make_corpus.py - write the seed corpora of the fuzz targets.

    NNFS_LIB=build/libnnfs.so python3 fuzz/make_corpus.py

fuzz/corpus/fuzz_idx/: small IDX image files written here from the format
(magic 00 00 08 03, big-endian counts), plain and gzip, plus broken ones
(truncated, wrong magic, wrong type, wrong counts, trailing bytes).
fuzz/corpus/fuzz_model_load/: model files saved by the library itself
(nn_net_save_buffer through ctypes on NNFS_LIB, default build/libnnfs.so),
then truncated and bit-flipped copies.
"""
import ctypes, gzip, os, struct, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def idx(count, rows, cols, seed=1):
    head = bytes([0, 0, 8, 3]) + struct.pack(">III", count, rows, cols)
    body = bytes(((i * 37 + seed) & 0xFF) for i in range(count * rows * cols))
    return head + body


def idx_corpus():
    ok = idx(3, 4, 5)
    put("fuzz_idx", "ok_3x4x5.idx", ok)
    put("fuzz_idx", "ok_1x1x1.idx", idx(1, 1, 1))
    put("fuzz_idx", "ok_0x2x2.idx", idx(0, 2, 2))
    put("fuzz_idx", "ok_3x4x5.idx.gz", gzip.compress(ok, 9, mtime=0))
    put("fuzz_idx", "ok_2x28x28.idx.gz", gzip.compress(idx(2, 28, 28), 9, mtime=0))
    put("fuzz_idx", "bad_truncated.idx", ok[:-7])
    put("fuzz_idx", "bad_header_only.idx", ok[:10])
    put("fuzz_idx", "bad_magic.idx", bytes([1]) + ok[1:])
    put("fuzz_idx", "bad_type_float.idx", ok[:2] + bytes([0x0D]) + ok[3:])
    put("fuzz_idx", "bad_ndim_1.idx", ok[:3] + bytes([1]) + ok[4:])
    put("fuzz_idx", "bad_count.idx", ok[:4] + struct.pack(">I", 0xFFFFFFFF) + ok[8:])
    put("fuzz_idx", "bad_trailing.idx", ok + b"\0\0\0")
    put("fuzz_idx", "bad_gzip_truncated.idx.gz", gzip.compress(ok, 9, mtime=0)[:-9])
    gz = bytearray(gzip.compress(ok, 9, mtime=0))
    gz[-5] ^= 0x40
    put("fuzz_idx", "bad_gzip_isize.idx.gz", bytes(gz))
    # several gzip members (gunzip's concatenation): cut in the header
    # and in the data, an empty member, and a member cut short
    put("fuzz_idx", "ok_members_3.idx.gz",
        gzip.compress(ok[:10], 9, mtime=0) + gzip.compress(ok[10:40], 9, mtime=0)
        + gzip.compress(ok[40:], 9, mtime=0))
    put("fuzz_idx", "ok_members_empty.idx.gz",
        gzip.compress(b"", 9, mtime=0) + gzip.compress(ok, 9, mtime=0))
    put("fuzz_idx", "bad_members_cut.idx.gz",
        gzip.compress(ok[:20], 9, mtime=0) + gzip.compress(ok[20:], 9, mtime=0)[:-6])


def model_corpus():
    lib = os.environ.get("NNFS_LIB", os.path.join(ROOT, "build", "libnnfs.so"))
    nn = ctypes.CDLL(lib)
    nn.nn_net_create.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t,
                                 ctypes.POINTER(ctypes.c_size_t),
                                 ctypes.POINTER(ctypes.c_int32), ctypes.c_uint64]
    nn.nn_net_save_buffer.argtypes = [ctypes.c_void_p, ctypes.c_void_p,
                                      ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    nn.nn_net_destroy.argtypes = [ctypes.c_void_p]
    nets = {"one_layer": ([3, 2], [4]),            # softmax
            "three_mixed": ([4, 5, 3, 2], [1, 3, 4]),
            "wide_sigmoid": ([1, 9, 1], [2, 0])}
    for name, (sizes, acts) in nets.items():
        h = ctypes.c_void_p()
        s = (ctypes.c_size_t * len(sizes))(*sizes)
        a = (ctypes.c_int32 * len(acts))(*acts)
        if nn.nn_net_create(ctypes.byref(h), len(acts), s, a, 42) != 0:
            raise SystemExit("nn_net_create failed for %s" % name)
        n = ctypes.c_size_t()
        nn.nn_net_save_buffer(h, None, 0, ctypes.byref(n))
        buf = ctypes.create_string_buffer(n.value)
        if nn.nn_net_save_buffer(h, buf, n.value, ctypes.byref(n)) != 0:
            raise SystemExit("nn_net_save_buffer failed")
        nn.nn_net_destroy(h)
        data = buf.raw[:n.value]
        put("fuzz_model_load", name + ".nnfs", data)
        put("fuzz_model_load", name + "_truncated.nnfs", data[: len(data) // 2])
        flip = bytearray(data)
        flip[len(flip) // 3] ^= 0x10
        put("fuzz_model_load", name + "_flipped.nnfs", bytes(flip))
    put("fuzz_model_load", "empty.nnfs", b"")


if __name__ == "__main__":
    idx_corpus()
    model_corpus()
