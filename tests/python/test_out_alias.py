"""out= buffers that overlap the input.

nn_predict and nn_forward read x while they write out, block by block of
rows, and the PCA transforms likewise; an out that is x itself (or
overlaps it through a shared base) fed them half-written rows, so
predict(b, out=b) returned wrong values.  The binding copies an input that
may share memory with out first.  Every case is compared with NumPy in
float64 on an untouched copy of the input (weights read back with
get_weights, PCA mean and components read back), with batches across the
256-row inference block.  Exit 77 (CTest SKIP) without numpy.
"""
import sys

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn

failures = []
checks = 0


def reference(net, x):
    """Inference output of net for x, in float64 from get_weights."""
    a = np.array(x, dtype=np.float64)
    for (w, b), act in zip(net.weights, net.activations):
        z = a @ w.astype(np.float64) + b.astype(np.float64)
        a = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
             "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
             "linear": lambda z: z}[act](z) if act != "softmax" else \
            np.exp(z - z.max(1, keepdims=True)) / \
            np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)
    return a


def compare(what, got, want, out=None):
    global checks
    if out is not None and got is not out:
        failures.append("%s: did not return the out buffer" % what)
    err = np.abs(got.astype(np.float64) - want).max()
    tol = 2e-5 + 2e-4 * np.abs(want).max()
    if got.shape != want.shape or not err <= tol:
        failures.append("%s: max error %.3g (tolerance %.3g)"
                        % (what, err, tol))
    else:
        checks += 1
        print("  ok %-44s max error %.2g" % (what, err))


def main():
    rng = np.random.default_rng(5)
    n = 700                       # three 256-row inference blocks

    print("predict / forward with out=x:")
    for sizes, acts in (([4, 4], ["tanh"]),
                        ([4, 16, 4], ["relu", "linear"]),
                        ([4, 32, 8, 4], ["tanh", "relu", "softmax"])):
        net = nn.Net(sizes, acts, seed=len(sizes))
        b = rng.standard_normal((n, 4)).astype(np.float32)
        want = reference(net, b)
        out = net.predict(b, out=b)
        compare("predict(b, out=b) %s" % sizes, out, want, out=b)
        b = rng.standard_normal((n, 4)).astype(np.float32)
        want = reference(net, b)
        twin = nn.Net.from_bytes(net.to_bytes())
        x_twin = b.copy()
        out = net.forward(b, out=b)
        compare("forward(b, out=b) %s" % sizes, out, want, out=b)
        # the forward kept the input, not the overwritten buffer: the
        # gradients equal a twin's that never aliased
        labels = rng.integers(0, 4, n)
        net.backward(labels=labels)
        twin.forward(x_twin)
        twin.backward(labels=labels)
        same = all(np.array_equal(g, h) for i in range(len(acts))
                   for g, h in zip(net.grads(i), twin.grads(i)))
        if same:
            globals()["checks"] += 1
            print("  ok %-44s bitwise equal" % ("grads after forward(b, "
                                                  "out=b) %s" % sizes))
        else:
            failures.append("grads after forward(b, out=b) %s differ from "
                            "an unaliased forward's" % sizes)

    print("partial overlaps (one base, widths 6 -> 3):")
    net = nn.Net([6, 12, 3], ["relu", "linear"], seed=9)
    base = np.empty(n * 6 + 3, dtype=np.float32)
    base[:] = rng.standard_normal(base.size)
    x = base[:n * 6].reshape(n, 6)
    want = reference(net, x)
    out = base[:n * 3].reshape(n, 3)       # the first half of x's rows
    compare("predict, out over x's first rows", net.predict(x, out=out),
            want, out=out)
    base[:] = rng.standard_normal(base.size)
    x = base[3:].reshape(n, 6)
    want = reference(net, x)
    out = base[n * 3:n * 6].reshape(n, 3)  # rows in x's middle
    compare("predict, out inside x", net.predict(x, out=out), want, out=out)
    # disjoint parts of one base: no copy needed, still right
    base = rng.standard_normal(n * 9).astype(np.float32)
    x, out = base[:n * 6].reshape(n, 6), base[n * 6:].reshape(n, 3)
    want = reference(net, x)
    compare("predict, out beside x in one base", net.predict(x, out=out),
            want, out=out)

    print("PCA transforms with out=x:")
    data = (rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6)))
    pca = nn.PCA(6).fit(data.astype(np.float32))
    mean, comp = pca.mean, pca.components.astype(np.float64)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    want = (x - mean) @ comp.T
    compare("transform(x, out=x)", pca.transform(x, out=x), want, out=x)
    z = rng.standard_normal((n, 6)).astype(np.float32)
    want = z.astype(np.float64) @ comp + mean
    compare("inverse_transform(z, out=z)", pca.inverse_transform(z, out=z),
            want, out=z)

    if failures:
        print("%d checks passed, %d failed:" % (checks, len(failures)))
        for f in failures:
            print("  FAIL " + f)
        return 1
    print("%d checks passed" % checks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
