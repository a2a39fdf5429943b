"""Pictures of libnnfs training with matplotlib (Agg backend, PNG files).

Command line:

  python3 -m libnnfs.plot spiral   --out spiral.png  [options]
  python3 -m libnnfs.plot vertical --out vertical.png [options]
  python3 -m libnnfs.plot model MODEL.nnfs --data spiral --out b.png

spiral / vertical: make the course's data set (--samples per class,
--classes), train a network (--hidden widths, --epochs, --lr, Adam with
--decay) with libnnfs's trainer, and write OUT (the decision boundary with
the points on top) and OUT with -curves before .png (loss and accuracy per
epoch).  model: draw the decision boundary of a saved 2-input model over a
data set.  From Python: loss_curves(), history_curves(),
decision_boundary().
"""
import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import _core as nn  # noqa: E402


def loss_curves(series, path, title="loss", ylabel="loss", logy=False):
    """series: {label: sequence of values} drawn against the step."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, vals in series.items():
        ax.plot(np.arange(len(vals)), vals, label=label, linewidth=1)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if logy:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def history_curves(history, path, title="training"):
    """Loss and accuracy per epoch from Net.fit's history, side by side."""
    ep = history["epoch"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4), dpi=100)
    a1.plot(ep, history["loss"], label="loss")
    if any(v == v for v in history.get("val_loss", [])):
        a1.plot(ep, history["val_loss"], label="validation loss")
    a1.set_xlabel("epoch")
    a1.set_ylabel("loss")
    a1.grid(alpha=0.3)
    a1.legend()
    a2.plot(ep, history["accuracy"], label="accuracy", color="tab:green")
    if any(v == v for v in history.get("val_accuracy", [])):
        a2.plot(ep, history["val_accuracy"], label="validation accuracy")
    a2.set_xlabel("epoch")
    a2.set_ylabel("accuracy")
    a2.set_ylim(0, 1.02)
    a2.grid(alpha=0.3)
    a2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def decision_boundary(net, X, y, path, title=None, resolution=300,
                      margin=0.1):
    """Colour the plane by net's predicted class (argmax, or > 0.5 for one
    output) over the range of X (2 columns), with the points on top."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError("decision_boundary: X must have 2 columns, got "
                         "shape %s" % (X.shape,))
    lo = X.min(axis=0) - margin
    hi = X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    out = net.predict(grid)
    cls = (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 \
        else out.argmax(axis=1)
    k = max(int(y.max()) + 1, out.shape[1], 2)
    cmap = plt.get_cmap("brg", k)
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.contourf(gx, gy, cls.reshape(gx.shape), levels=np.arange(k + 1) - 0.5,
                cmap=cmap, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=k - 0.5,
               s=12, edgecolors="k", linewidths=0.3)
    acc = float(np.mean(_classes(net.predict(X.astype(np.float32))) == y))
    ax.set_title(title or "decision boundary (accuracy %.3f)" % acc)
    ax.set_aspect("equal")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _classes(out):
    return (out[:, 0] > 0.5).astype(int) if out.shape[1] == 1 \
        else out.argmax(axis=1)


def _data(name, samples, classes, seed):
    if name == "spiral":
        return nn.spiral_data(samples, classes, seed=seed)
    if name == "vertical":
        return nn.vertical_data(samples, classes, seed=seed)
    raise SystemExit("unknown data set %r (spiral, vertical)" % name)


def _curves_path(out):
    root, ext = os.path.splitext(out)
    return root + "-curves" + (ext or ".png")


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python3 -m libnnfs.plot",
        description="Train on a 2-D data set with libnnfs and draw PNGs: "
        "the decision boundary with the points on top (--out) and the "
        "loss/accuracy curves per epoch (--out with -curves added).",
        epilog="examples:\n"
        "  python3 -m libnnfs.plot spiral --out spiral.png\n"
        "  python3 -m libnnfs.plot vertical --classes 3 --epochs 200 "
        "--out v.png\n"
        "  python3 -m libnnfs.plot spiral --hidden 64 64 --epochs 2000 "
        "--out deep.png\n"
        "  python3 -m libnnfs.plot model net.nnfs --data spiral --out b.png\n"
        "The library is found via LIBNNFS_PATH or the system loader.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["spiral", "vertical", "model"],
                    help="data set to train on, or 'model' to draw a saved "
                    "model")
    ap.add_argument("model", nargs="?", help="model file (for 'model')")
    ap.add_argument("--out", default=None,
                    help="PNG path (default: WHAT.png)")
    ap.add_argument("--data", default="spiral",
                    help="data set for 'model' (spiral, vertical)")
    ap.add_argument("--samples", type=int, default=100,
                    help="points per class (default 100)")
    ap.add_argument("--classes", type=int, default=3,
                    help="classes (default 3)")
    ap.add_argument("--hidden", type=int, nargs="+", default=[64],
                    help="hidden layer widths, ReLU (default 64)")
    ap.add_argument("--epochs", type=int, default=1000,
                    help="full-batch epochs (default 1000)")
    ap.add_argument("--lr", type=float, default=0.05,
                    help="Adam learning rate (default 0.05)")
    ap.add_argument("--decay", type=float, default=5e-7,
                    help="learning-rate decay (default 5e-7)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true", help="no progress")
    a = ap.parse_args(argv)
    out = a.out or (a.what + ".png")

    if a.what == "model":
        if not a.model:
            ap.error("'model' needs a model file")
        net = nn.Net.load(a.model)
        X, y = _data(a.data, a.samples, a.classes, a.seed)
        decision_boundary(net, X, y, out)
        print("wrote %s" % out)
        return 0

    X, y = _data(a.what, a.samples, a.classes, a.seed)
    sizes = [2] + list(a.hidden) + [a.classes]
    acts = ["relu"] * len(a.hidden) + ["softmax"]
    with nn.Net(sizes, acts, seed=a.seed) as net:
        opt = nn.Adam(net, learning_rate=a.lr, decay=a.decay)
        hist = net.fit(X, labels=y, optimizer=opt, epochs=a.epochs,
                       progress=False if a.quiet else None)
        name = "%s %s" % (a.what, "-".join(map(str, sizes)))
        decision_boundary(net, X, y, out, title="%s: accuracy %.3f" % (
            name, hist["accuracy"][-1]))
        curves = _curves_path(out)
        history_curves(hist, curves, title=name)
    print("final loss %.4f accuracy %.3f; wrote %s and %s"
          % (hist["loss"][-1], hist["accuracy"][-1], out, curves))
    return 0


if __name__ == "__main__":
    sys.exit(main())
