"""Gradients of libnnfs (through the Python binding) against PyTorch
autograd in float64, given the same weights and data.

Every output activation x loss pair on a 4-6-3 network, then whole small
networks.  The reference losses are written from the formulas in nnfs.h:
the mean over the batch of the per-sample loss; the clip of CCE/BCE is
applied to the value only (its derivative uses the clipped probability,
as the course and nnfs.h say), written as p + (clamp(p) - p).detach().
Exit 0 on success, 77 when numpy or torch is missing (CTest SKIP).
"""
import sys

try:
    import numpy as np
    import torch
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy/torch not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn

torch.set_default_dtype(torch.float64)
# The clip bounds as the float32 library holds them: 1 - 1e-7 rounds to
# 1 - 2^-23 (0.99999988) in float32, which matters once p is outside [0, 1].
EPS = float(np.float32(1e-7))
ONE_M_EPS = float(np.float32(1 - 1e-7))
ACTS = {"linear": lambda z: z, "relu": torch.relu, "sigmoid": torch.sigmoid,
        "tanh": torch.tanh, "softmax": lambda z: torch.softmax(z, dim=1)}


def clipped(p):
    return p + (p.clamp(EPS, ONE_M_EPS) - p).detach()


def ref_loss(kind, p, t):
    if kind == "cce":
        return (-(t * torch.log(clipped(p))).sum(dim=1)).mean()
    if kind == "bce":
        c = clipped(p)
        return (-(t * torch.log(c) + (1 - t) * torch.log(1 - c))).mean()
    if kind == "mse":
        return ((p - t) ** 2).mean()
    if kind == "mae":
        return (p - t).abs().mean()
    raise ValueError(kind)


def make_targets(kind, act, batch, n_out, rng):
    if kind == "cce":
        t = rng.random((batch, n_out)) + 0.05
        t /= t.sum(axis=1, keepdims=True)           # soft targets, sum 1
        return t
    if kind == "bce":
        return rng.random((batch, n_out))
    return rng.standard_normal((batch, n_out))


def compare(sizes, acts, loss, rng, labels=False, batch=16):
    net = nn.Net(sizes, acts, seed=int(rng.integers(1 << 30)))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    if labels:
        lab = rng.integers(0, sizes[-1], batch).astype(np.int32)
        t = np.eye(sizes[-1])[lab]
    else:
        t = make_targets(loss, acts[-1], batch, sizes[-1], rng)
        t = t.astype(np.float32).astype(np.float64)
    out = net.forward(x)
    if labels:
        lval = net.backward(labels=lab)
    else:
        lval = net.backward(t.astype(np.float32), loss=loss)

    ws = [net.get_weights(i) for i in range(len(acts))]
    params = []
    a = torch.tensor(x.astype(np.float64))
    for (w, b), act in zip(ws, acts):
        W = torch.tensor(w.astype(np.float64), requires_grad=True)
        B = torch.tensor(b.astype(np.float64), requires_grad=True)
        params.append((W, B))
        a = ACTS[act](a @ W + B)
    ref = ref_loss(loss, a, torch.tensor(t))
    ref.backward()

    worst = abs(lval - ref.item()) / max(abs(ref.item()), 1e-12)
    worst_out = float(np.abs(out - a.detach().numpy()).max())
    for i, (W, B) in enumerate(params):
        gw, gb = net.grads(i)
        for got, want in ((gw, W.grad.numpy()), (gb, B.grad.numpy())):
            scale = max(float(np.abs(want).max()), 1e-12)
            worst = max(worst, float(np.abs(got - want).max()) / scale)
    net.close()
    return worst, worst_out


def main():
    rng = np.random.default_rng(7)
    tol = 1e-4
    largest = 0.0
    failures = []
    rows = []
    for act in ACTS:
        for loss in ("cce", "bce", "mse", "mae"):
            rel, dout = compare([4, 6, 3], ["tanh", act], loss, rng)
            rows.append(("4-6-3 tanh,%s" % act, loss, rel, dout))
    rows.append(("2-16-16-3 relu,relu,softmax", "cce labels",
                 *compare([2, 16, 16, 3], ["relu", "relu", "softmax"], "cce",
                          rng, labels=True, batch=32)))
    rows.append(("3-10-10-1 sigmoid,tanh,linear", "mse",
                 *compare([3, 10, 10, 1], ["sigmoid", "tanh", "linear"],
                          "mse", rng)))
    rows.append(("5-8-8-4 relu,tanh,sigmoid", "bce",
                 *compare([5, 8, 8, 4], ["relu", "tanh", "sigmoid"], "bce",
                          rng)))
    rows.append(("6-12-12-12-2 tanh,relu,sigmoid,linear", "mae",
                 *compare([6, 12, 12, 12, 2],
                          ["tanh", "relu", "sigmoid", "linear"], "mae", rng)))
    rows.append(("2-64-3 relu,softmax", "cce",
                 *compare([2, 64, 3], ["relu", "softmax"], "cce", rng,
                          batch=100)))
    for name, loss, rel, dout in rows:
        print("%-40s %-10s max rel diff %.3e  (output max abs diff %.2e)"
              % (name, loss, rel, dout))
        largest = max(largest, rel)
        if not rel < tol:
            failures.append((name, loss, rel))
    print("largest relative difference vs torch autograd (float64): %.3e "
          "over %d cases (tolerance %.0e)" % (largest, len(rows), tol))
    if failures:
        print("FAILED:", failures)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
