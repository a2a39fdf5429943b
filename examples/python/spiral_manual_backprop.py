#!/usr/bin/env python3
"""Replay of notebook 000's spiral training loops with libnnfs: forward,
backward and a plain gradient step by hand (no trainer), the networks
started like the notebook's Layer_Dense (0.1 * randn weights, zero biases).

  2-10-3   ReLU / softmax, 100 samples x 3 classes, alpha 0.1, 3000 steps
  2-100-100-2  ReLU / ReLU / softmax, 200 x 2, alpha 0.5, 3000 steps

The notebook's manual gradients are dW = X^T dZ / m, db = mean(dZ) with
dZ = softmax - one_hot: exactly what nn_backward_labels computes, so
sgd_step(alpha) is the notebook's update.  Usage: spiral_manual_backprop.py
[--steps N] [--plot PREFIX] (PNG loss curves and decision boundary)."""
import argparse
import sys
import os

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
import numpy as np  # noqa: E402
import libnnfs as nn  # noqa: E402


def train(sizes, acts, samples, classes, alpha, steps, every, seed):
    X, y = nn.spiral_data(samples=samples, classes=classes, seed=seed)
    net = nn.Net(sizes, acts, seed=seed, init="normal", gain=0.1)
    losses = []
    for i in range(steps):
        net.forward(X)
        loss = net.backward(labels=y)      # CCE on softmax: (p - t) / m
        net.sgd_step(alpha)
        losses.append(loss)
        if i % every == 0:
            print(f'Loss on the {i}th iteration: {loss}')
    print(loss)
    acc = nn.accuracy(net.predict(X), y)
    return net, X, y, losses, acc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--plot", metavar="PREFIX",
                    help="write PREFIX-loss.png and PREFIX-boundary.png")
    args = ap.parse_args(argv)

    # The untrained 2-2-2 network of the notebook: loss near log(2).
    X, y = nn.spiral_data(samples=100, classes=2, seed=0)
    with nn.Net([2, 2, 2], ["relu", "softmax"], init="normal",
                gain=0.1) as net:
        print(nn.loss(net.forward(X), labels=y))

    net1, _, _, l1, a1 = train([2, 10, 3], ["relu", "softmax"], 100, 3,
                               0.1, args.steps, 10000, 0)
    print("accuracy (2-10-3): %.3f" % a1)
    net2, X2, y2, l2, a2 = train([2, 100, 100, 2],
                                 ["relu", "relu", "softmax"], 200, 2, 0.5,
                                 args.steps, 1000, 0)
    print("accuracy (2-100-100-2): %.3f" % a2)
    if args.plot:
        from libnnfs import plot
        plot.loss_curves({"2-10-3": l1, "2-100-100-2": l2},
                         args.plot + "-loss.png")
        plot.decision_boundary(net2, X2, y2, args.plot + "-boundary.png",
                               title="2-100-100-2 after %d steps"
                               % args.steps)
        print("wrote %s-loss.png and %s-boundary.png" % (args.plot,
                                                         args.plot))
    ok = l1[-1] < l1[0] and l2[-1] < l2[0]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
