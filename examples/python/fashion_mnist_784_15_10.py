#!/usr/bin/env python3
"""Replay of notebook 003's digit classifier, Net((28*28, 15, 10),
last_relu=False), on Fashion-MNIST (the digits are not installed here):
ReLU hidden layer, linear output, MSE on one-hot targets, minibatches of
32 drawn at random, plain SGD.  Like the notebook it takes the 10000-image
test file, splits it 80/20 into train and test, scales pixels to [0, 1],
and tracks cost and accuracy on the minibatch and on the test part.

The notebook's cost is sum((Y - out)^2) / (2 * batch) and its update uses
d_loss = out - Y, dW = X^T d_loss / batch at LR 0.01; libnnfs's MSE is the
mean over the 10 outputs with gradient 2 (out - Y) / (10 batch), so the
same update is sgd_step(LR * 5) and the notebook's cost is 5 * MSE.
Usage: fashion_mnist_784_15_10.py [--steps N] [--data DIR] [--plot PNG]
Exit 77 when the data set is not installed."""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
import numpy as np  # noqa: E402
import libnnfs as nn  # noqa: E402

LR = 0.01
BATCH_SIZE = 32


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--every", type=int, default=1000,
                    help="evaluate on the test part every N steps")
    ap.add_argument("--plot", metavar="PNG")
    ap.add_argument("--min-accuracy", type=float, default=0.0)
    args = ap.parse_args(argv)
    images = os.path.join(args.data, "t10k-images-idx3-ubyte.gz")
    labels = os.path.join(args.data, "t10k-labels-idx1-ubyte.gz")
    if not (os.path.exists(images) and os.path.exists(labels)):
        print("SKIP: Fashion-MNIST not found in %s" % args.data)
        return 77
    X = nn.load_idx(images, scale="unit")          # [10000, 784] in [0, 1]
    lab = nn.load_idx_labels(labels)
    print("data:", X.shape, lab.shape, "label of image 0:", lab[0])
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(X))                 # random_split 0.8 / 0.2
    tr, te = perm[:8000], perm[8000:]
    X_train, X_test = X[tr], X[te]
    Y_train = np.eye(10, dtype=np.float32)[lab[tr]]
    Y_test = np.eye(10, dtype=np.float32)[lab[te]]

    net = nn.Net((28 * 28, 15, 10), ["relu", "linear"], seed=0)
    costs = {"train": [], "test": []}
    accuracies = {"train": [], "test": []}
    for epoch in range(args.steps):
        indices = rng.integers(len(X_train), size=BATCH_SIZE)
        sample_X, sample_Y = X_train[indices], Y_train[indices]
        train_out = net.forward(sample_X)
        mse = net.backward(sample_Y, loss="mse")
        net.sgd_step(LR * 5)
        if epoch % args.every == 0 or epoch == args.steps - 1:
            test_out = net.predict(X_test)
            costs["train"].append(5 * mse)
            costs["test"].append(5 * nn.loss(test_out, Y_test, kind="mse"))
            accuracies["train"].append(
                nn.accuracy(train_out, sample_Y.argmax(1)))
            accuracies["test"].append(nn.accuracy(test_out, lab[te]))
            print("step %5d  cost train %.4f test %.4f  accuracy train %.3f "
                  "test %.3f" % (epoch, costs["train"][-1],
                                 costs["test"][-1], accuracies["train"][-1],
                                 accuracies["test"][-1]))
    i = 432
    print("test image %d: label %d, predicted %d" % (
        i, lab[te][i], int(net.predict(X_test[i:i + 1]).argmax())))
    if args.plot:
        from libnnfs import plot
        plot.loss_curves(accuracies, args.plot, title="784-15-10 accuracy",
                         ylabel="accuracy")
        print("wrote", args.plot)
    return 0 if accuracies["test"][-1] >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
