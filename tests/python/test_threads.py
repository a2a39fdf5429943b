"""The binding's thread rule and close() during a call.

The C library lets one thread at a time use a handle, and ctypes releases
the GIL during every C call, so the binding holds a per-net (per-PCA) lock
across each call.  Checked here, each scenario in its own child process
(a crash is reported by name, the others still run):

  predict_4_threads   4 threads x many predict() calls on one Net, each
                      with its own inputs and batch sizes across the
                      256-row inference block: every row equals a NumPy
                      float64 forward of the weights read with get_weights
  close_during_predict  close() from another thread while 4 threads
                      predict: every call returns the right rows or raises
                      StateError ("closed"), nothing else, no crash
  close_in_callback   net.close() and optimizer.close() inside fit()'s
                      callback raise StateError out of fit; the net and
                      optimizer stay usable (predict matches the NumPy
                      forward, fit and opt.step run again)
  close_during_fit    close() from another thread waits for a fit() in
                      progress, which completes every epoch
  pca_threads         4 threads transform with one PCA, then a close()
                      from another thread: each call gives rows equal to
                      (x - mean) C^T in float64, or StateError

Freed library memory is poisoned (0xFF bytes, NaN as floats) and kept
aside by an allocator installed with nn_set_allocator, so a use after free
shows as wrong rows or a crash instead of passing by luck.  Exit 77 (CTest
SKIP) without numpy.
"""
import ctypes
import os
import subprocess
import sys
import threading
import time

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn
from libnnfs import _core

# ---- a poisoning, quarantining allocator -------------------------------
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
ALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)
sizes = {}
quarantine = []     # freed blocks, poisoned and never given back


def _alloc(user, size):
    p = libc.malloc(size)
    if p:
        sizes[p] = size
    return p


def _free(user, p):
    ctypes.memset(p, 0xFF, sizes.pop(p))
    quarantine.append(p)


alloc_cb, free_cb = ALLOC(_alloc), FREE(_free)


def install_allocator():
    lib = _core._lib
    lib.nn_set_allocator.restype = ctypes.c_int
    lib.nn_set_allocator.argtypes = [ALLOC, FREE, ctypes.c_void_p]
    assert lib.nn_set_allocator(alloc_cb, free_cb, None) == 0


# ---- the NumPy reference ------------------------------------------------
def reference(net, x):
    """net's inference output for x, computed in float64 from the weights
    read back with get_weights."""
    a = np.asarray(x, dtype=np.float64)
    for (w, b), act in zip(net.weights, net.activations):
        z = a @ w.astype(np.float64) + b.astype(np.float64)
        if act == "relu":
            a = np.maximum(z, 0)
        elif act == "tanh":
            a = np.tanh(z)
        elif act == "sigmoid":
            a = 1 / (1 + np.exp(-z))
        elif act == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = z
    return a


def close_enough(got, want):
    return got.shape == want.shape and \
        np.allclose(got, want, rtol=2e-4, atol=2e-5)


def make_net(seed=3):
    return nn.Net([16, 96, 64, 8], ["relu", "tanh", "linear"], seed=seed)


def run_threads(target, n):
    errors = []

    def wrap(t):
        try:
            target(t)
        except BaseException as e:   # reported by the main thread
            errors.append(e)
    ts = [threading.Thread(target=wrap, args=(t,)) for t in range(n)]
    for t in ts:
        t.start()
    return ts, errors


# ---- scenarios ------------------------------------------------------------
def predict_4_threads():
    net = make_net()
    W = net.weights
    calls, bad = [0] * 4, []   # per thread: += is not atomic

    def work(t):
        rng = np.random.default_rng(100 + t)
        for i in range(250):
            x = rng.standard_normal((int(rng.integers(1, 600)), 16))
            x = x.astype(np.float32)
            out = net.predict(x)
            if not close_enough(out, reference(net, x)):
                bad.append((t, i, x.shape[0]))
            calls[t] += 1
    ts, errors = run_threads(work, 4)
    for t in ts:
        t.join()
    assert not errors, errors
    assert calls == [250] * 4, calls
    assert not bad, "%d of %d calls gave wrong rows (thread, call, rows): " \
        "%s" % (len(bad), sum(calls), bad[:5])
    # the threads changed nothing
    for (w0, b0), (w1, b1) in zip(W, net.weights):
        assert np.array_equal(w0, w1) and np.array_equal(b0, b1)
    print("  %d predict calls on 4 threads, every row as NumPy's"
          % sum(calls))


def close_during_predict():
    rounds, results, closed_seen = 12, [0] * 4, [0] * 4   # per thread
    for r in range(rounds):
        net = make_net(seed=r)
        xs = [np.random.default_rng(10 * r + t).standard_normal(
            (300, 16)).astype(np.float32) for t in range(4)]
        refs = [reference(net, x) for x in xs]
        started = threading.Barrier(5)
        wrong = []

        def work(t):
            started.wait()
            while True:
                try:
                    out = net.predict(xs[t])
                except nn.StateError as e:
                    if "closed" not in str(e):
                        raise
                    closed_seen[t] += 1
                    return
                if not close_enough(out, refs[t]):
                    wrong.append(t)
                results[t] += 1
        ts, errors = run_threads(work, 4)
        started.wait()
        time.sleep(0.002 * (r % 4))
        net.close()
        for t in ts:
            t.join(60)
            assert not t.is_alive(), "a predict thread hangs after close"
        assert not errors, errors
        assert not wrong, "round %d: wrong rows from threads %s" % (r, wrong)
        assert net.closed
    assert closed_seen == [rounds] * 4, closed_seen
    print("  %d rounds: %d predicts right, then StateError in each thread"
          % (rounds, sum(results)))


def close_in_callback():
    X, y = nn.spiral_data(60, 3, seed=2)
    net = nn.Net([2, 32, 3], ["relu", "softmax"], seed=1)
    opt = nn.Adam(net, learning_rate=0.01)
    other = nn.SGD(net)       # bound to the net, not used by the fit
    seen = []

    def close_net(epoch, metrics):
        seen.append(epoch)
        net.close()
    try:
        net.fit(X, labels=y, optimizer=opt, epochs=5, progress=False,
                callback=close_net)
    except RuntimeError as e:
        assert isinstance(e, nn.StateError), type(e)
        assert "cannot close a Net while fit() is using it" in str(e), e
        print("  net.close() in the callback: %s" % e)
    else:
        raise AssertionError("net.close() inside fit's callback did not "
                             "raise")
    assert seen == [1], seen        # the fit stopped at the first epoch
    assert not net.closed and not opt.closed and not other.closed
    # still usable: inference as NumPy's, another fit, an optimizer step
    assert close_enough(net.predict(X), reference(net, X))
    assert opt["iterations"] == 1
    hist = net.fit(X, labels=y, optimizer=opt, epochs=3, progress=False)
    assert hist["epoch"] == [1, 2, 3], hist["epoch"]
    assert opt["iterations"] == 4

    def close_opt(epoch, metrics):
        opt.close()
    try:
        net.fit(X, labels=y, optimizer=opt, epochs=3, progress=False,
                callback=close_opt)
    except nn.StateError as e:
        assert "cannot close an Adam while fit() is using it" in str(e), e
    else:
        raise AssertionError("opt.close() inside fit's callback did not "
                             "raise")
    assert not opt.closed and opt["iterations"] == 5
    net.forward(X)
    net.backward(labels=y)
    opt.step()
    assert opt["iterations"] == 6
    assert close_enough(net.predict(X), reference(net, X))

    # what the fit does not use may be closed from its callback, and the
    # net may be read there
    reads = []

    def close_other(epoch, metrics):
        other.close()
        reads.append(close_enough(net.predict(X), reference(net, X)))
    net.fit(X, labels=y, optimizer=opt, epochs=2, progress=False,
            callback=close_other)
    assert other.closed and reads == [True, True], reads
    # after the fit, close works and cascades
    net.close()
    assert net.closed and opt.closed
    print("  opt.close() refused likewise; net and optimizer usable after")


def close_during_fit():
    X, y = nn.spiral_data(200, 3, seed=4)
    net = nn.Net([2, 64, 3], ["relu", "softmax"], seed=0)
    opt = nn.Adam(net, learning_rate=0.01)
    in_fit = threading.Event()
    epochs = []

    def cb(epoch, metrics):
        epochs.append(epoch)
        in_fit.set()
        time.sleep(0.002)

    def closer(t):
        in_fit.wait(60)
        net.close()
    ts, errors = run_threads(closer, 1)
    hist = net.fit(X, labels=y, optimizer=opt, epochs=40, progress=False,
                   callback=cb)
    ts[0].join(60)
    assert not errors, errors
    assert hist["epoch"] == list(range(1, 41)) and epochs == hist["epoch"]
    assert net.closed and opt.closed
    print("  close() from another thread waited for all 40 epochs")


def pca_threads():
    rng = np.random.default_rng(7)
    data = rng.standard_normal((400, 12)) @ rng.standard_normal((12, 12))
    calls = [0] * 4
    for r in range(12):
        pca = nn.PCA(5).fit(data.astype(np.float32))
        mean, comp = pca.mean, pca.components.astype(np.float64)
        xs = [np.random.default_rng(10 * r + t).standard_normal(
            (400, 12)).astype(np.float32) for t in range(4)]
        refs = [(x - mean) @ comp.T for x in xs]
        started = threading.Barrier(5)
        bad = []

        def work(t):
            started.wait()
            while True:
                try:
                    z = pca.transform(xs[t])
                except nn.StateError:
                    return
                if not close_enough(z, refs[t]):
                    bad.append(t)
                calls[t] += 1
        ts, errors = run_threads(work, 4)
        started.wait()
        time.sleep(0.002 * (r % 4))
        pca.close()
        for t in ts:
            t.join(60)
        assert not errors, errors
        assert not bad, "round %d: wrong rows from threads %s" % (r, bad)
    print("  12 rounds of 4 threads transforming with one PCA, then a "
          "close: %d transforms right, then StateError" % sum(calls))


SCENARIOS = [predict_4_threads, close_during_predict, close_in_callback,
             close_during_fit, pca_threads]


def main():
    if len(sys.argv) == 2:      # a child: one scenario
        install_allocator()
        {f.__name__: f for f in SCENARIOS}[sys.argv[1]]()
        return 0
    failed = []
    for f in SCENARIOS:
        print("%s:" % f.__name__)
        sys.stdout.flush()
        p = subprocess.run([sys.executable, os.path.abspath(__file__),
                            f.__name__], timeout=100)
        if p.returncode != 0:
            why = ("killed by signal %d" % -p.returncode
                   if p.returncode < 0 else "exit %d" % p.returncode)
            print("FAIL %s: %s" % (f.__name__, why))
            failed.append(f.__name__)
    if failed:
        print("%d of %d scenarios failed: %s"
              % (len(failed), len(SCENARIOS), ", ".join(failed)))
        return 1
    print("%d scenarios passed" % len(SCENARIOS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
