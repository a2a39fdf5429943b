"""libnnfs.PCA against NumPy (float64): data with a known covariance
(x = mu + g diag(sqrt(lambda)) Q, Q orthogonal from numpy.linalg.qr),
eigenvalues and eigenvectors against numpy.linalg.eigh of numpy.cov,
transform and inverse transform against NumPy projections, whitened
output with identity covariance, save/load and to_bytes/from_bytes round
trips, and the binding's errors.  Exit 77 (CTest SKIP) without numpy.
"""
import os
import sys
import tempfile

try:
    import numpy as np
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn


def main():
    seed = int(os.environ.get("NNFS_TEST_SEED", "20261201"))
    rng = np.random.default_rng(seed)
    print("seed %d" % seed)
    d, n = 16, 8000
    lam = np.geomspace(25.0, 0.05, d)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mu = 50.0 + np.arange(d)
    x = (mu + (rng.standard_normal((n, d)) * np.sqrt(lam)) @ q.T) \
        .astype(np.float32)

    # the NumPy reference, on the same float32 data, in float64
    xd = x.astype(np.float64)
    cov = np.cov(xd, rowvar=False)
    w, v = np.linalg.eigh(cov)
    w, v = w[::-1], v[:, ::-1]
    # the documented sign rule: largest |entry| of each component positive
    v = v * np.sign(v[np.abs(v).argmax(axis=0), np.arange(d)])
    mean = xd.mean(axis=0)

    ok = True
    for k, whiten in ((4, False), (d, False), (6, True), (d, True)):
        pca = nn.PCA(k, whiten=whiten).fit(x)
        ev = pca.explained_variance
        e_val = np.abs(ev - w[:k]).max() / w[0]
        comp = pca.components.astype(np.float64)
        dots = np.abs(np.sum(comp * v[:, :k].T, axis=1))
        same_sign = np.all(np.sum(comp * v[:, :k].T, axis=1) > 0)
        e_mean = np.abs(pca.mean - mean).max() / np.abs(mean).max()
        scale = np.sqrt(w[:k]) if whiten else np.ones(k)
        ref = (xd - mean) @ v[:, :k] / scale
        z = pca.transform(x)
        e_tr = np.linalg.norm(z - ref) / np.linalg.norm(ref)
        back = pca.inverse_transform(z)
        ref_back = mean + (ref * scale) @ v[:, :k].T
        e_inv = np.linalg.norm(back - ref_back) / np.linalg.norm(ref_back
                                                                  - mean)
        ratio_ok = np.allclose(pca.explained_variance_ratio,
                               w[:k] / np.trace(cov), rtol=1e-5, atol=1e-9)
        line = ("k=%2d whiten=%d: eigenvalues %.2e, 1-|dot| %.2e, mean %.2e,"
                " transform %.2e, inverse %.2e" %
                (k, whiten, e_val, 1 - dots.min(), e_mean, e_tr, e_inv))
        good = (e_val < 1e-5 and 1 - dots.min() < 1e-5 and same_sign and
                e_mean < 1e-12 and e_tr < 1e-5 and e_inv < 1e-5 and
                ratio_ok)
        if whiten:
            c = np.cov(z.astype(np.float64), rowvar=False)
            e_white = np.abs(c - np.eye(k)).max()
            line += ", |cov(z) - I| %.2e" % e_white
            good = good and e_white < 1e-4
        # known population eigenvalues: sampling error sqrt(2/n) = 1.6%
        good = good and np.all(np.abs(ev / lam[:k] - 1) < 6 * np.sqrt(2 / n))
        print(line, "ok" if good else "FAIL")
        ok = ok and good

        # round trips: bytes, file; identical transforms
        blob = pca.to_bytes()
        p2 = nn.PCA.from_bytes(blob)
        ok = ok and p2.to_bytes() == blob and \
            np.array_equal(p2.transform(x[:100]), z[:100]) and \
            p2.whiten == whiten and p2.n_components == k
        with tempfile.TemporaryDirectory() as t:
            path = os.path.join(t, "p.pca")
            pca.save(path)
            with open(path, "rb") as f:
                ok = ok and f.read() == blob
            p3 = nn.PCA.load(path)
            ok = ok and np.array_equal(p3.transform(x[:100]), z[:100])
            p3.close()
        p2.close()
        pca.close()

    # errors reach Python as exceptions
    checks = 0
    bad = x[:50].copy()
    bad[3, 2] = np.nan
    for exc, fn in ((nn.NonFiniteError, lambda: nn.PCA(2).fit(bad)),
                    (nn.ShapeError, lambda: nn.PCA(d + 1).fit(x)),
                    (nn.InvalidArgError, lambda: nn.PCA(2).fit(x[:1])),
                    (nn.FormatError, lambda: nn.PCA.from_bytes(blob[:-1])),
                    (nn.StateError, lambda: nn.PCA(2).transform(x)),
                    (nn.ShapeError,
                     lambda: nn.PCA(2).fit(x).transform(x[:, :3]))):
        try:
            fn()
        except exc as e:
            checks += 1
            print("  ok %-16s %s" % (type(e).__name__, str(e)[:90]))
    ok = ok and checks == 6
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
