"""The binding's error handling and handle lifetime.

Wrong dtype, wrong shape, non-contiguous output buffers, NaN data, calls
out of order and bad files raise clear Python exceptions (NNError
subclasses carrying the status name and nn_last_error() text, or
TypeError / ValueError for what never reaches C); nothing crashes.
Inputs that only need a conversion (float64, strided views) are converted
once and give the same results; float32 C-contiguous inputs are not
copied.  Every C allocation goes through a counting allocator installed
with nn_set_allocator: after close(), `with`, and the garbage collector,
no library block is left live.  Exit 77 (CTest SKIP) without numpy.
"""
import ctypes
import gc
import os
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn
from libnnfs import _core

# ---- counting allocator (installed before any handle exists) -----------
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
ALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
live = set()


def _alloc(user, size):
    p = libc.malloc(size)
    if p:
        live.add(p)
    return p


def _free(user, p):
    live.discard(p)
    libc.free(p)


alloc_cb, free_cb = ALLOC(_alloc), FREE(_free)
lib = _core._lib
lib.nn_set_allocator.restype = ctypes.c_int
lib.nn_set_allocator.argtypes = [ALLOC, FREE, ctypes.c_void_p]

checks = 0


def expect(exc, fn, *args, contains=None, **kw):
    global checks
    try:
        fn(*args, **kw)
    except exc as e:
        text = str(e)
        if contains is not None and contains not in text:
            raise AssertionError("%s: message %r lacks %r"
                                 % (fn, text, contains))
        checks += 1
        print("  ok %-18s %s" % (type(e).__name__, text[:110]))
        return e
    raise AssertionError("%s%r did not raise %s" % (fn, args, exc.__name__))


def check(cond, what):
    global checks
    if not cond:
        raise AssertionError(what)
    checks += 1


def main():
    assert lib.nn_set_allocator(alloc_cb, free_cb, None) == 0

    X, y = nn.spiral_data(20, 3, seed=1)
    net = nn.Net([2, 8, 3], ["relu", "softmax"], seed=0)
    check(len(live) > 0, "the net's blocks go through the allocator")

    print("dtype:")
    expect(TypeError, net.forward, X.astype(np.complex64), contains="dtype")
    expect(TypeError, net.forward, np.array([["a", "b"]]), contains="dtype")
    net.forward(X)
    expect(TypeError, net.backward, labels=y.astype(np.float32),
           contains="labels")
    expect(TypeError, net.forward, X, out=np.empty((60, 3)),
           contains="float32")
    expect(TypeError, nn.accuracy, np.ones((3, 3), np.float32),
           [0.5, 1.0, 2.0], contains="labels")

    print("shape:")
    e = expect(nn.ShapeError, net.forward, np.ones((5, 3), np.float32),
               contains="x")
    check(isinstance(e, ValueError) and e.status == 2
          and e.status_name == "NN_ERR_SHAPE", "ShapeError fields")
    expect(nn.ShapeError, net.forward, np.ones((2, 2, 2), np.float32))
    net.forward(X)
    expect(nn.ShapeError, net.backward, labels=y[:10])
    expect(nn.ShapeError, net.backward, np.ones((60, 2), np.float32),
           loss="mse")
    expect(nn.ShapeError, net.set_weights, 0, np.ones((3, 8), np.float32))
    expect(nn.ShapeError, nn.Net, [2, 3], ["relu", "softmax"])
    # a label out of range reaches C: its own message names index and value
    bad = y.copy()
    bad[7] = 3
    net.forward(X)
    e = expect(nn.ShapeError, net.backward, labels=bad)
    check("7" in e.message and "3" in e.message, "label message: %s"
          % e.message)
    expect(IndexError, net.get_weights, 5)

    print("contiguity:")
    out = np.empty((3, 60), np.float32).T          # Fortran-ordered view
    expect(ValueError, net.predict, X, out=out, contains="C-contiguous")
    ro = np.empty((60, 3), np.float32)
    ro.flags.writeable = False
    expect(ValueError, net.predict, X, out=ro, contains="read-only")
    # strided / float64 inputs are converted once and give the same result
    wide = np.zeros((60, 4), np.float64)
    wide[:, ::2] = X
    ref = net.predict(X)
    check(np.array_equal(net.predict(wide[:, ::2]), ref), "strided input")
    check(np.array_equal(net.predict(X.astype(np.float64)), ref),
          "float64 input")
    check(np.array_equal(net.predict(X.tolist()), ref), "list input")
    # float32 C-contiguous: passed as is (no copy)
    check(_core._as_array(X, np.float32, "x") is X, "no copy for float32")
    check(_core._as_array(y, np.int32, "labels") is y, "no copy for int32")
    buf = np.empty((60, 3), np.float32)
    check(net.predict(X, out=buf) is buf, "out buffer used in place")

    print("non-finite:")
    Xn = X.copy()
    Xn[4, 1] = np.nan
    e = expect(nn.NonFiniteError, net.forward, Xn)
    check(e.status_name == "NN_ERR_NONFINITE" and e.message, "NaN fields")
    expect(nn.NonFiniteError, net.predict, np.full((2, 2), np.inf,
                                                   np.float32))
    w, b = net.get_weights(0)
    w[0, 0] = np.nan
    expect(nn.NonFiniteError, net.set_weights, 0, w)
    check(np.isfinite(net.get_weights(0)[0]).all(), "set is all or nothing")
    net.forward(X)
    t = np.eye(3, dtype=np.float32)[y]
    t[0, 0] = np.nan
    expect(nn.NonFiniteError, net.backward, t)
    expect(nn.NonFiniteError, net.fit, Xn, labels=y, epochs=1,
           progress=False)
    expect(nn.NonFiniteError, net.sgd_step, float("nan"))

    print("state, arguments, files:")
    fresh = nn.Net([2, 4, 2], ["tanh", "softmax"])
    expect(nn.StateError, fresh.backward, labels=[0, 1])
    expect(nn.StateError, fresh.sgd_step, 0.1)
    expect(nn.StateError, fresh.grads, 0)
    expect(ValueError, nn.Net, [2, 3], ["swish"], contains="activation")
    expect(nn.InvalidArgError, nn.Net, [2, 0, 3], ["relu", "softmax"])
    e = expect(nn.InvalidArgError, nn.SGD, fresh, momentum=1.5)
    check(e.status_name == "NN_ERR_INVALID_ARG", "optimizer setting")
    expect(ValueError, nn.Adam, fresh, learnin_rate=0.1)
    with tempfile.TemporaryDirectory() as d:
        expect(nn.NNIOError, nn.Net.load, os.path.join(d, "missing.nnfs"))
        junk = os.path.join(d, "junk.nnfs")
        with open(junk, "wb") as f:
            f.write(b"\x89NNF" + b"\0" * 60)
        expect(nn.FormatError, nn.Net.load, junk)
        check(isinstance(expect(nn.NNError, nn.load_idx, junk), nn.NNError),
              "IDX junk")
        path = os.path.join(d, "m.nnfs")
        net.save(path)
        with nn.Net.load(path) as again:
            check(np.array_equal(again.predict(X), net.predict(X)),
                  "save/load round trip")
    expect(nn.FormatError, nn.Net.from_bytes, b"not a model")
    # an exception raised in a fit callback stops the fit and comes back
    def boom(epoch, metrics):
        raise KeyError("from the callback")
    expect(KeyError, net.fit, X, labels=y, epochs=5, progress=False,
           callback=boom)
    stopped = net.fit(X, labels=y, epochs=50, progress=False,
                      callback=lambda ep, m: ep >= 3)
    check(len(stopped["loss"]) == 3, "callback stops the fit")

    print("lifetime:")
    opt = nn.Adam(net, learning_rate=0.01)
    net.close()                        # closes the optimizer first
    check(opt.closed and net.closed, "close cascades to the optimizer")
    expect(nn.StateError, net.forward, X, contains="closed")
    expect(nn.StateError, opt.step, contains="closed")
    net.close()                        # twice is harmless
    with nn.Net([2, 5, 3], ["relu", "softmax"]) as n2:
        o2 = nn.SGD(n2)
        n2.fit(X, labels=y, optimizer=o2, epochs=2, progress=False)
    check(n2.closed and o2.closed, "with closes")
    fresh.close()
    check(not live, "%d blocks live after explicit closes" % len(live))

    # The garbage collector: handles dropped without close(), including a
    # net <-> optimizer pair kept only by each other.
    for i in range(50):
        n3 = nn.Net([2, 16, 3], ["relu", "softmax"], seed=i)
        o3 = nn.RMSprop(n3)
        n3.fit(X, labels=y, optimizer=o3, epochs=1, progress=False)
    del n3, o3
    gc.collect()
    check(not live, "%d blocks live after gc" % len(live))
    check(lib.nn_set_allocator(ALLOC(), FREE(), None) == 0,
          "library reports no live memory")
    # Handles alive at exit are freed by __del__ during shutdown.
    global leftover
    leftover = nn.Net([2, 3, 2], ["relu", "softmax"])
    # parallel modes: replicas train the same net as one thread, within
    # float rounding; a bad mode is a ValueError
    expect(ValueError, nn.set_parallel_mode, "fast", contains="replicas")
    outs = []
    for mode, threads in (("blas", 1), ("replicas", 2)):
        nn.set_num_threads(threads)
        nn.set_parallel_mode(mode)
        check(nn.get_parallel_mode() == mode, "mode %s set" % mode)
        Xp, yp = nn.spiral_data(100, 3, seed=2)
        with nn.Net([2, 32, 3], ["relu", "softmax"], seed=4) as npn:
            with nn.Adam(npn, learning_rate=0.001) as op:
                npn.fit(Xp, labels=yp, optimizer=op, epochs=20,
                        progress=False)
            outs.append(npn.predict(Xp))
    check(np.allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6),
          "replicas match one thread")
    nn.set_parallel_mode("auto")
    print("%d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
