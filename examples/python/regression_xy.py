#!/usr/bin/env python3
"""Replay of notebook 003's regression: Net((2, 7, 7, 3, 1)) (ReLU hidden
layers, linear output) learns f(x, y) = (x + 4)^3 + 4y from 10000 noisy
samples of [0, 1)^2, with minibatches of 32 drawn at random each step and
plain SGD.  Prints the last five minibatch losses, as the notebook does,
in its units: sum((Y - out)^2) / (2 * batch).

The notebook steps with d_loss = out - Y and dW = X^T d_loss / batch at
LR 0.1; libnnfs's MSE gradient is 2 (out - Y) / batch for one output, so
the same update is sgd_step(LR / 2).  Usage: regression_xy.py [--steps N]
[--plot loss.png]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
import numpy as np  # noqa: E402
import libnnfs as nn  # noqa: E402

BATCH_SIZE = 32
LR = 0.1


def f(x, y):
    return (x + 4) ** 3 + 4 * y


def generate_data(size, rng):
    X = rng.random((size, 2))
    Y = f(X[:, 0], X[:, 1]).reshape(-1, 1)
    return X.astype(np.float32), \
        (Y + rng.standard_normal((size, 1)) * 0.1).astype(np.float32)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--plot", metavar="PNG")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    X, Y = generate_data(10000, rng)
    print("Y[0] =", Y[0])

    net = nn.Net((2, 7, 7, 3, 1), ["relu", "relu", "relu", "linear"], seed=0)
    # The targets are around 64..130: start the output bias at their mean
    # so the first steps do not blow up the ReLU layers (the notebook's
    # own runs show the same early spikes).
    w, b = net.get_weights(-1)
    net.set_weights(-1, w, [float(Y.mean())])
    losses = []
    for epoch in range(args.steps):
        indices = rng.integers(len(X), size=BATCH_SIZE)
        sample_X, sample_Y = X[indices], Y[indices]
        out = net.forward(sample_X)
        mse = net.backward(sample_Y, loss="mse")    # mean((out - Y)^2)
        losses.append(mse / 2)                      # the notebook's units
        net.sgd_step(LR / 2)
    print("sample_X[0] =", sample_X[0], " sample_Y[0] =", sample_Y[0],
          " out[0] =", out[0])
    print(losses[-5:])
    pred = net.predict(X)
    rmse = float(np.sqrt(np.mean((pred - Y) ** 2)))
    print("RMSE over all 10000 samples: %.3f (targets span %.1f..%.1f)"
          % (rmse, Y.min(), Y.max()))
    if args.plot:
        from libnnfs import plot
        plot.loss_curves({"minibatch loss": losses[3:]}, args.plot,
                         title="(x+4)^3 + 4y, 2-7-7-3-1", logy=True)
        print("wrote", args.plot)
    return 0 if np.mean(losses[-100:]) < np.mean(losses[:100]) else 1


if __name__ == "__main__":
    sys.exit(main())
