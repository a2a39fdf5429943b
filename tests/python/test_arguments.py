"""The binding checks every user value before ctypes converts it.

ctypes converts silently: c_int32(2**40) keeps the low bits (loss=2**40
trained with CCE), a float given for a size_t is truncated (sizes=[2, 2.7]
made a layer of 2), 2**64 wraps to 0, and a c_char_p ends at the first NUL
byte (save("m.nnfs\\0x") wrote m.nnfs).  Each case here must raise
TypeError (wrong type), ValueError (negative count, NUL in a path) or
OverflowError (out of the C type's range) with the argument's name in the
message, before any C call: the net's bytes, the optimizer's settings, the
thread count and the files on disk are compared before and after.  Values
of the right kind (NumPy integers and floats, ints for floats, bytes and
os.PathLike paths, the largest uint64 seed) still work.  Exit 77 (CTest
SKIP) without numpy.
"""
import os
import pathlib
import struct
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn

failures = []
checks = 0


def expect(exc, names, fn, *args, **kw):
    """fn(*args, **kw) raises exc whose message contains names."""
    global checks
    def short(a):
        return "<array %s>" % (a.shape,) if isinstance(a, np.ndarray) \
            else repr(a)
    label = "%s(%s)" % (getattr(fn, "__name__", fn), ", ".join(
        [short(a) for a in args] +
        ["%s=%s" % (k, short(v)) for k, v in kw.items()]))
    try:
        r = fn(*args, **kw)
    except exc as e:
        if names not in str(e):
            failures.append("%s: %s message %r does not name %r"
                            % (label, exc.__name__, str(e), names))
        else:
            checks += 1
        return
    except Exception as e:
        failures.append("%s: raised %s(%s), not %s" % (label,
                        type(e).__name__, e, exc.__name__))
        return
    failures.append("%s: returned %s, no %s" % (label, short(r)[:60],
                                                 exc.__name__))


def check(cond, what):
    global checks
    if cond:
        checks += 1
    else:
        failures.append(what)


def idx_file(path):
    """A 2-image IDX file of 2 x 2 bytes."""
    with open(path, "wb") as f:
        f.write(struct.pack(">BBBB", 0, 0, 8, 3) + struct.pack(">III", 2, 2, 2)
                + bytes(range(8)))


def main():
    try:
        run()
    except Exception as e:
        failures.append("stopped by %s: %s" % (type(e).__name__, e))
    if failures:
        print("%d checks passed, %d failed:" % (checks, len(failures)))
        for f in failures:
            print("  FAIL " + f)
        return 1
    print("%d checks passed" % checks)
    return 0


def run():
    X, y = nn.spiral_data(20, 3, seed=1)
    T = np.eye(3, dtype=np.float32)[y]

    print("Net():")
    for bad, exc, name in (([2, 2.7], TypeError, "sizes[1]"),
                           ([2, np.float64(3)], TypeError, "sizes[1]"),
                           ([2, "3"], TypeError, "sizes[1]"),
                           ([2, True], TypeError, "sizes[1]"),
                           ([2, -3], ValueError, "sizes[1]"),
                           ([2, 2**64 + 3], OverflowError, "sizes[1]"),
                           ([2**64, 3], OverflowError, "sizes[0]")):
        expect(exc, name, nn.Net, bad, ["linear"])
    expect(OverflowError, "activations[0]", nn.Net, [2, 3], [2**32 + 1])
    expect(OverflowError, "activations[1]", nn.Net, [2, 3, 3],
           ["relu", -2**31 - 1])
    expect(TypeError, "activations[0]", nn.Net, [2, 3], [1.0])
    expect(TypeError, "activations[0]", nn.Net, [2, 3], [True])
    expect(OverflowError, "seed", nn.Net, [2, 3], ["relu"], seed=2**64)
    expect(ValueError, "seed", nn.Net, [2, 3], ["relu"], seed=-1)
    expect(TypeError, "seed", nn.Net, [2, 3], ["relu"], seed=1.5)
    expect(OverflowError, "init", nn.Net, [2, 3], ["relu"], init=2**40 + 1)
    expect(TypeError, "gain", nn.Net, [2, 3], ["relu"], init="normal",
           gain="0.5")
    # the right kinds still work
    n1 = nn.Net(np.array([2, 3], dtype=np.int64), [np.int32(1)],
                seed=np.uint64(2**64 - 1))
    n2 = nn.Net([2, 3], ["relu"], seed=2**64 - 1)
    check(n1.sizes == [2, 3] and n1.activations == ["relu"],
          "NumPy integers for sizes and activations")
    check(n1.to_bytes() == n2.to_bytes(), "seed 2**64 - 1 as NumPy uint64")
    check(n1.to_bytes() != nn.Net([2, 3], ["relu"], seed=0).to_bytes(),
          "seed 2**64 - 1 is not wrapped to 0")

    print("Net methods (nothing changes):")
    net = nn.Net([2, 8, 3], ["relu", "softmax"], seed=0)
    opt = nn.SGD(net, learning_rate=0.5)
    net.forward(X)
    net.backward(labels=y)
    before = net.to_bytes()
    grads = [net.grads(i) for i in range(2)]
    lr = opt["learning_rate"]
    expect(OverflowError, "scheme", net.init, 2**32 + 1)
    expect(TypeError, "gain", net.init, "normal", gain="0.5")
    expect(TypeError, "gain", net.init, "normal", gain=None)
    expect(OverflowError, "seed", net.init, "normal", seed=2**64)
    expect(ValueError, "seed", net.init, "normal", seed=-5)
    expect(TypeError, "layer", net.init, "normal", layer=0.5)
    expect(TypeError, "layer", net.get_weights, 1.5)
    expect(TypeError, "layer", net.get_weights, True)
    expect(TypeError, "layer", net.set_weights, 0.0, np.zeros((2, 8)))
    expect(TypeError, "dropout", net.set_layer_option, 0, dropout="0.5")
    expect(OverflowError, "l2_weights", net.set_layer_option, 0,
           l2_weights=2**2000)
    expect(TypeError, "learning_rate", net.sgd_step, "0.1")
    expect(TypeError, "learning_rate", net.sgd_step, True)
    expect(TypeError, "learning_rate", net.backward_sgd, "0.1", labels=y)
    expect(OverflowError, "loss", net.backward, T, loss=2**40)
    expect(OverflowError, "loss", net.backward, labels=y, loss=2**40)
    expect(TypeError, "loss", net.backward, T, loss=2.0)
    expect(OverflowError, "loss", net.backward_sgd, 0.1, T, loss=2**40 + 2)
    expect(TypeError, "lam", net.fit_readout, X, T, lam="0")
    fit = net.fit
    kw = dict(labels=y, optimizer=opt, progress=False)
    expect(OverflowError, "loss", fit, X, T, optimizer=opt, progress=False,
           loss=2**40)
    expect(OverflowError, "loss", fit, X, loss=2**40, **kw)
    expect(TypeError, "epochs", fit, X, epochs=2.5, **kw)
    expect(TypeError, "epochs", fit, X, epochs="3", **kw)
    expect(OverflowError, "epochs", fit, X, epochs=2**64 + 1, **kw)
    expect(OverflowError, "epochs", fit, X, epochs=9 * 10**15 + 1, **kw)
    expect(ValueError, "batch_size", fit, X, batch_size=-1, **kw)
    expect(TypeError, "batch_size", fit, X, batch_size=10.0, **kw)
    expect(OverflowError, "seed", fit, X, seed=2**60, **kw)
    expect(ValueError, "seed", fit, X, seed=-1, **kw)
    expect(TypeError, "shuffle", fit, X, shuffle="no", **kw)
    expect(TypeError, "shuffle", fit, X, shuffle=2, **kw)
    expect(OverflowError, "accuracy", fit, X, accuracy=2**33 + 1, **kw)
    expect(TypeError, "precision", fit, X, precision="0.1", **kw)
    expect(TypeError, "report_every", fit, X, report_every=1.5, **kw)
    expect(TypeError, "callback", fit, X, callback=5, **kw)
    expect(TypeError, "optimizer", fit, X, labels=y, optimizer="adam",
           progress=False)
    expect(TypeError, "learning_rate", nn.Adam, net, learning_rate="0.1")
    expect(TypeError, "beta1", nn.Adam, net, beta1=None)
    expect(TypeError, "net", nn.SGD, "net")

    def setitem(key, value):
        opt[key] = value
    expect(TypeError, "learning_rate", setitem, "learning_rate", "0.5")
    expect(TypeError, "learning_rate", setitem, "learning_rate", True)
    expect(OverflowError, "optimizer setting", setitem, 2**32, 0.1)
    expect(OverflowError, "optimizer setting", opt.__getitem__, 2**32 + 7)
    with tempfile.TemporaryDirectory() as d:
        stem = os.path.join(d, "m.nnfs")
        expect(ValueError, "path", net.save, stem + "\0.bak")
        expect(ValueError, "path", net.save, os.fsencode(stem) + b"\0x")
        expect(TypeError, "path", net.save, 123)
        check(not os.listdir(d), "a refused save wrote %s" % os.listdir(d))
        net.save(pathlib.Path(stem))           # os.PathLike
        net.save(os.fsencode(stem))            # bytes
        expect(ValueError, "path", nn.Net.load, stem + "\0junk")
        check(nn.Net.load(pathlib.Path(stem)).to_bytes() == before,
              "load from a pathlib.Path")
    expect(TypeError, "data", nn.Net.from_bytes, 5)
    check(nn.Net.from_bytes(bytearray(before)).to_bytes() == before,
          "from_bytes(bytearray)")
    check(net.to_bytes() == before, "a refused call changed the net")
    try:
        now = [net.grads(i) for i in range(2)]
    except nn.NNError as e:
        now = e
    check(not isinstance(now, Exception) and
          all(np.array_equal(g0, g1) for pair0, pair1 in zip(grads, now)
              for g0, g1 in zip(pair0, pair1)),
          "a refused call changed the gradients: %s"
          % (now if isinstance(now, Exception) else "other values"))
    check(opt["learning_rate"] == lr and opt["iterations"] == 0,
          "a refused call changed the optimizer")
    # the right kinds still work: ints and NumPy floats for doubles,
    # NumPy integers for counts
    net = nn.Net([2, 8, 3], ["relu", "softmax"], seed=0)
    opt = nn.SGD(net, learning_rate=np.float64(0.5))
    opt["learning_rate"] = np.float32(0.25)
    check(opt["learning_rate"] == 0.25, "NumPy float32 setting")
    opt["learning_rate"] = 1
    net.set_layer_option(np.int8(0), l2_weights=0)
    net.forward(X)
    net.backward(labels=y)
    net.sgd_step(np.float64(0.0))
    check(net.to_bytes() == before, "sgd_step(0.0) keeps the weights")
    hist = net.fit(X, labels=y, optimizer=opt, epochs=np.int32(2),
                   batch_size=np.uint8(30), seed=9 * 10**15,
                   shuffle=np.bool_(1),
                   progress=False)
    check(hist["epoch"] == [1, 2], "fit with NumPy integer settings")

    print("PCA:")
    expect(TypeError, "k", nn.PCA, 2.5)
    expect(OverflowError, "k", nn.PCA, 2**64)
    expect(ValueError, "k", nn.PCA, -1)
    expect(TypeError, "whiten", nn.PCA, 2, whiten="no")
    expect(TypeError, "epsilon", nn.PCA, 2, epsilon="0")
    pca = nn.PCA(np.int64(1)).fit(X)
    with tempfile.TemporaryDirectory() as d:
        expect(ValueError, "path", pca.save, os.path.join(d, "p\0q"))
        check(not os.listdir(d), "a refused PCA.save wrote %s"
              % os.listdir(d))
        pca.save(os.path.join(d, "p"))
        expect(ValueError, "path", nn.PCA.load, os.path.join(d, "p\0q"))
    expect(TypeError, "data", nn.PCA.from_bytes, 3)

    print("data, loss, files, threads:")
    expect(TypeError, "samples", nn.spiral_data, 2.5, 3)
    expect(OverflowError, "classes", nn.spiral_data, 10, 2**64)
    expect(OverflowError, "seed", nn.spiral_data, 10, 3, seed=2**64)
    expect(ValueError, "seed", nn.vertical_data, 10, 3, seed=-1)
    expect(TypeError, "samples", nn.sine_data, 10.5)
    expect(ValueError, "samples", nn.sine_data, -10)
    expect(OverflowError, "seed", nn.shuffle, X, seed=2**64)
    expect(OverflowError, "kind", nn.loss, T, T, kind=2**40)
    expect(OverflowError, "n", nn.set_num_threads, 2**32 + 1)
    expect(TypeError, "n", nn.set_num_threads, 1.5)
    a, b = nn.spiral_data(np.int16(4), np.uint64(3), seed=np.uint64(2**64 - 1))
    check(a.shape == (12, 2), "spiral_data with NumPy integers")
    with tempfile.TemporaryDirectory() as d:
        img = os.path.join(d, "img.idx")
        idx_file(img)
        expect(ValueError, "path", nn.load_idx, img + "\0x")
        expect(ValueError, "path", nn.load_idx_labels, img + "\0x")
        expect(OverflowError, "scale", nn.load_idx, img, scale=2**32 + 1)
        expect(TypeError, "scale", nn.load_idx, img, scale=1.0)
        v = nn.load_idx(pathlib.Path(img), scale=0)
        check(v.shape == (2, 4) and v[1, 3] == 7, "load_idx(PathLike)")


if __name__ == "__main__":
    sys.exit(main())
