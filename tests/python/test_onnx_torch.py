"""A PyTorch MLP trained on Fashion-MNIST, exported by torch.onnx.export,
imported by libnnfs: nn_predict against torch's own outputs.

nn.Sequential(Flatten, Linear(784, 64), ReLU, Linear(64, 10), Softmax) is
trained for one epoch (Adam, batch 128) on the first 20000 training images
(float32, CPU, one thread, seeded), exported with torch.onnx.export (opset
14, a dynamic batch dimension), imported with libnnfs.Net.from_onnx and
run by nn_predict on the 10000 test images.  Required: every probability
within 1e-5 of torch's (absolute; both are float32 products summed in
different orders), the same argmax on every image, hence the same test
accuracy.  The Identity and Sigmoid/Tanh variants go through too (a small
net on random rows), as does a Linear(bias=False) (torch writes MatMul).
Exit 0 on success, 77 when numpy/torch/onnx or the data set is missing.
"""
import gzip
import os
import sys
import tempfile

try:
    import numpy as np
    import torch
    import torch.nn as tnn
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy/torch not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn

DATA = os.environ.get("NNFS_FASHION_DIR", "/usr/share/datasets/fashion-mnist")
BOUND = 1e-5


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def export(model, example, path, **kw):
    torch.onnx.export(model, example, path, input_names=["x"],
                      output_names=["y"], opset_version=14,
                      dynamic_axes={"x": {0: "N"}, "y": {0: "N"}}, **kw)


def compare(name, net, model, x):
    with torch.no_grad():
        ref = model(torch.from_numpy(x)).numpy()
    got = net.predict(x.reshape(x.shape[0], -1))
    d = np.abs(got - ref)
    rel = (d / np.maximum(np.abs(ref), 1e-30)).max()
    same = int((got.argmax(1) == ref.argmax(1)).sum())
    print("%s: max |libnnfs - torch| = %.3g, max relative %.3g, same argmax "
          "%d/%d" % (name, d.max(), rel, same, x.shape[0]))
    assert d.max() <= BOUND, "%s: %.3g over %.3g" % (name, d.max(), BOUND)
    return got, ref


def fashion(tmp):
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    if not all(os.path.exists(os.path.join(DATA, n)) for n in names):
        print("SKIP: Fashion-MNIST not in %s (package dataset-fashion-mnist)" % DATA)
        sys.exit(77)
    xtr, ytr, xte, yte = (idx(os.path.join(DATA, n)) for n in names)
    xtr = (xtr[:20000].astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    xte = (xte.astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    ytr = torch.from_numpy(ytr[:20000].astype(np.int64))
    yte = yte.astype(np.int64)

    torch.manual_seed(16)
    model = tnn.Sequential(tnn.Flatten(), tnn.Linear(784, 64), tnn.ReLU(),
                           tnn.Linear(64, 10), tnn.Softmax(dim=-1))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt = torch.from_numpy(xtr)
    perm = torch.randperm(xt.shape[0])
    for s in range(0, xt.shape[0], 128):
        i = perm[s:s + 128]
        p = model(xt[i])
        loss = tnn.functional.nll_loss(torch.log(p.clamp_min(1e-7)), ytr[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    path = os.path.join(tmp, "fashion.onnx")
    export(model, xt[:1], path)
    net = nn.Net.from_onnx(path)
    assert net.sizes == [784, 64, 10], net.sizes
    assert net.activations == ["relu", "softmax"], net.activations
    got, ref = compare("Fashion-MNIST 784-64-10, 10000 test images", net,
                       model, xte)
    acc_nn = float((got.argmax(1) == yte).mean())
    acc_torch = float((ref.argmax(1) == yte).mean())
    print("test accuracy: libnnfs %.4f, torch %.4f" % (acc_nn, acc_torch))
    assert acc_nn == acc_torch
    assert acc_torch > 0.75, acc_torch
    # the same weights, bit for bit
    w0 = model[1].weight.detach().numpy().T
    assert np.array_equal(net.get_weights(0)[0], w0)


def variants(tmp, rng):
    x = rng.standard_normal((257, 12)).astype(np.float32)
    cases = {
        "Linear/Tanh/Identity/Sigmoid": tnn.Sequential(
            tnn.Linear(12, 9), tnn.Tanh(), tnn.Linear(9, 7), tnn.Identity(),
            tnn.Sigmoid(), tnn.Linear(7, 3)),
        "Linear(bias=False)/ReLU/Softmax": tnn.Sequential(
            tnn.Linear(12, 8, bias=False), tnn.ReLU(), tnn.Linear(8, 4),
            tnn.Softmax(dim=1)),
    }
    for name, model in cases.items():
        model.eval()
        path = os.path.join(tmp, "v.onnx")
        export(model, torch.from_numpy(x[:2]), path)
        net = nn.Net.from_onnx(path)
        compare(name, net, model, x)
    # torch 1.13 writes Linear(bias=False) as MatMul by a constant-folded
    # transposed weight; the MatMul + Add form (a Linear on more than 2-D
    # input) is covered by test_onnx_graphs.py's helper-built graphs.


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(16)
    with tempfile.TemporaryDirectory() as tmp:
        variants(tmp, rng)
        fashion(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
