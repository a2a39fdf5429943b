#!/usr/bin/env python3
"""Net.singular_values / spectral_norm (LAPACKE_sgesdd) against
numpy.linalg.svd in float64, and init("orthogonal") against W^T W = gain^2 I
(W W^T for wide layers), through the ctypes binding."""
import sys

try:
    import numpy as np
except ImportError:
    print("numpy not importable: skipped")
    sys.exit(77)

import libnnfs as nn


def main():
    ok = True
    net = nn.Net([7, 40, 40, 3, 12], ["relu", "tanh", "relu", "linear"],
                 seed=5)
    worst_sv = 0.0
    for i in range(net.num_layers):
        w, _ = net.get_weights(i)
        ref = np.linalg.svd(w.astype(np.float64), compute_uv=False)
        sv = net.singular_values(i)
        err = np.abs(sv - ref).max() / ref[0]
        worst_sv = max(worst_sv, err)
        norm = net.spectral_norm(i)
        worst_sv = max(worst_sv, abs(norm - ref[0]) / ref[0])
        ok = ok and len(sv) == min(w.shape)
    print("singular values vs numpy float64 SVD: worst %.2e of the largest"
          % worst_sv)
    ok = ok and worst_sv < 1e-5

    worst_orth = 0.0
    for gain in (1.0, 1.7):
        net.init("orthogonal", gain=gain, seed=11)
        for i in range(net.num_layers):
            w, b = net.get_weights(i)
            w = w.astype(np.float64)
            g = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
            err = np.abs(g - gain ** 2 * np.eye(g.shape[0])).max() / gain ** 2
            worst_orth = max(worst_orth, err)
            ok = ok and not b.any()
    net2 = nn.Net([7, 40, 40, 3, 12], ["relu", "tanh", "relu", "linear"],
                  seed=99)
    net2.init("orthogonal", gain=1.7, seed=11)
    same = all(np.array_equal(net.get_weights(i)[0], net2.get_weights(i)[0])
               for i in range(net.num_layers))
    print("orthogonal init: worst |W^T W - g^2 I| / g^2 = %.2e; same seed, "
          "same matrices: %s" % (worst_orth, same))
    ok = ok and worst_orth < 1e-5 and same
    try:
        net.singular_values(9)
        ok = False
    except IndexError:
        pass
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
