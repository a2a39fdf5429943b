"""examples/onnx_predict.c against PyTorch: a 784-64-10 MLP trained briefly
on Fashion-MNIST, written by torch.onnx.export, run by the C example; its
printed test accuracy must equal torch's to the 4 printed decimals (that is
exact: 10000 images).
Usage: test_onnx_c_example.py PATH/TO/example_onnx_predict
Exit 77 when numpy/torch or the data set is missing.
"""
import os
import re
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn as tnn
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy/torch not importable: %s" % e)
    sys.exit(77)

import gzip  # noqa: E402

DATA = os.environ.get("NNFS_FASHION_DIR", "/usr/share/datasets/fashion-mnist")


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    exe = sys.argv[1]
    files = [os.path.join(DATA, n) for n in (
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]
    if not all(os.path.exists(f) for f in files):
        print("SKIP: Fashion-MNIST not in %s" % DATA)
        return 77
    xtr, ytr, xte, yte = (idx(f) for f in files)
    torch.set_num_threads(1)
    torch.manual_seed(5)
    x = torch.from_numpy(xtr[:10000].reshape(-1, 784).astype(np.float32) / 255)
    y = torch.from_numpy(ytr[:10000].astype(np.int64))
    model = tnn.Sequential(tnn.Linear(784, 64), tnn.Sigmoid(),
                           tnn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for s in range(0, 10000, 100):
        loss = tnn.functional.cross_entropy(model(x[s:s + 100]), y[s:s + 100])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        xt = torch.from_numpy(xte.reshape(-1, 784).astype(np.float32) / 255)
        acc = float((model(xt).argmax(1).numpy() == yte).mean())
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "torch_mlp.onnx")
        torch.onnx.export(model, x[:1], path, input_names=["x"],
                          output_names=["logits"],
                          dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}})
        r = subprocess.run([exe, path, DATA], capture_output=True, text=True)
    print(r.stdout.strip(), r.stderr.strip())
    assert r.returncode == 0, r.returncode
    got = float(re.search(r"test accuracy ([0-9.]+)", r.stdout).group(1))
    print("torch test accuracy %.4f, the C program %.4f" % (acc, got))
    assert "%.4f" % acc == "%.4f" % got
    return 0


if __name__ == "__main__":
    sys.exit(main())
