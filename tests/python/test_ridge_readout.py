"""Net.fit_readout (nn_net_fit_readout, the closed-form ridge readout)
against NumPy in float64: the activations recomputed with NumPy from the
net's float32 weights, augmented with a column of ones, and the normal
equations ([A 1]^T [A 1] + lam diag(1, .., 1, 0)) [W; b] = [A 1]^T Y
solved with numpy.linalg.solve (the bias not penalised); the rank-
deficient case (duplicated input columns, lam = 0, the SVD fallback)
against numpy.linalg.lstsq's minimum-norm predictions.  Exit 77 (CTest
SKIP) without numpy.
"""
import sys

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn


def activations(net, x):
    """Output of every layer but the last, in float64."""
    a = x.astype(np.float64)
    acts = net.activations
    for i in range(net.num_layers - 1):
        w, b = net.get_weights(i)
        z = a @ w.astype(np.float64) + b.astype(np.float64)
        a = {"relu": lambda v: np.maximum(v, 0.0), "tanh": np.tanh,
             "sigmoid": lambda v: 1.0 / (1.0 + np.exp(-v)),
             "linear": lambda v: v}[acts[i]](z)
    return a


def ridge_ref(a, y, lam):
    aug = np.hstack([a, np.ones((a.shape[0], 1))])
    pen = np.diag(np.r_[np.full(a.shape[1], lam), 0.0])
    sol = np.linalg.solve(aug.T @ aug + pen, aug.T @ y.astype(np.float64))
    return sol[:-1], sol[-1], aug @ sol


def relerr(got, ref):
    return float(np.abs(np.asarray(got, np.float64) - ref).max() /
                 np.abs(ref).max())


def main():
    rng = np.random.default_rng(20240508)
    ok = True
    worst_w = worst_p = 0.0

    # a 6-32-20-3 net, relu and tanh hidden layers
    net = nn.Net([6, 32, 20, 3], ["relu", "tanh", "linear"], seed=5)
    x = rng.standard_normal((400, 6)).astype(np.float32)
    y = np.stack([np.sin(x[:, 0]) + x[:, 1] * x[:, 2],
                  np.cos(x[:, 3]) - 0.5 * x[:, 4],
                  x[:, 5] ** 2], axis=1).astype(np.float32)
    a = activations(net, x)
    for lam in (0.0, 0.1, 10.0):
        method, mse = net.fit_readout(x, y, lam)
        w, b = net.get_weights(-1)
        wr, br, pr = ridge_ref(a, y, lam)
        pred = net.predict(x)
        ew, eb, ep = relerr(w, wr), relerr(b, br), relerr(pred, pr)
        emse = abs(mse - float(np.mean((pred - y) ** 2))) / mse
        mref = float(np.mean((pr - y) ** 2))
        print("6-32-20-3, lam %g: %s, rel err W %.3g, b %.3g, predictions "
              "%.3g; mse %.6g (numpy optimum %.6g)"
              % (lam, method, ew, eb, ep, mse, mref))
        ok = ok and ew < 1e-3 and eb < 1e-3 and ep < 1e-4 and emse < 1e-4
        ok = ok and abs(mse - mref) <= 1e-4 * mref
        worst_w, worst_p = max(worst_w, ew), max(worst_p, ep)

    # one linear layer on inputs with a duplicated column, lam = 0: the
    # Gram matrix is singular -> SVD, minimum-norm least squares
    lin = nn.Net([4, 2], ["linear"], seed=1)
    x1 = rng.standard_normal((150, 3)).astype(np.float32)
    x1 = np.hstack([x1, x1[:, :1]])
    y1 = (x1[:, :3] @ rng.standard_normal((3, 2)) +
          0.1 * rng.standard_normal((150, 2))).astype(np.float32)
    method, mse = lin.fit_readout(x1, y1, 0.0)
    w, b = lin.get_weights(0)
    aug = np.hstack([x1.astype(np.float64), np.ones((150, 1))])
    sol = np.linalg.lstsq(aug, y1.astype(np.float64), rcond=None)[0]
    pr = aug @ sol
    ep = relerr(lin.predict(x1), pr)
    split = float(np.abs(w[0] - w[3]).max() / np.abs(w).max())
    print("duplicated column, lam 0: %s, rel err predictions %.3g, "
          "|W[0] - W[3]| / max|W| %.3g (minimum norm splits evenly)"
          % (method, ep, split))
    ok = ok and method == "svd" and ep < 1e-5 and split < 1e-4
    worst_p = max(worst_p, ep)

    # errors: Python exceptions, nothing changed
    w0, b0 = net.get_weights(-1)
    for bad, exc in ((lambda: net.fit_readout(x, y, -1.0), nn.InvalidArgError),
                     (lambda: net.fit_readout(x, y, float("nan")),
                      nn.NonFiniteError),
                     (lambda: net.fit_readout(x, y[:, :2], 0.0),
                      nn.ShapeError)):
        try:
            bad()
            print("no exception where %s was expected" % exc.__name__)
            ok = False
        except exc as e:
            print("raised %s: %s" % (type(e).__name__, e))
    w1, b1 = net.get_weights(-1)
    ok = ok and np.array_equal(w0, w1) and np.array_equal(b0, b1)
    soft = nn.Net([6, 8, 3], ["relu", "softmax"], seed=2)
    try:
        soft.fit_readout(x, y, 1.0)
        ok = False
    except nn.InvalidArgError as e:
        print("raised InvalidArgError: %s" % e)
    # the forward went stale: backward needs a new forward
    net.forward(x)
    net.fit_readout(x, y, 0.1)
    try:
        net.backward(targets=y, loss="mse")
        ok = False
    except nn.StateError:
        pass

    print("worst rel err vs numpy float64: W %.3g, predictions %.3g"
          % (worst_w, worst_p))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
