#!/usr/bin/env python3
"""Replay of notebook 004: forward propagation by hand, ReLU, MSE, and the
gradient-descent walk-through of one linear neuron, each computed by a
libnnfs network whose weights are set to the notebook's numbers (biases
0), and printed as the notebook prints them.

The neuron: weights [0, 2, 1], input [1, 2, 3], target 0.  libnnfs's MSE
on one output has gradient 2 (pred - target) * input, the notebook's
slope, which nn_backward returns as the layer's weight gradient.  The
neuron has no bias: its bias is kept at 0 by setting it back after each
step.  Usage: single_neuron_gd.py [--plot mse.png]"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..",
                                "python"))
import numpy as np  # noqa: E402
import libnnfs as nn  # noqa: E402


def two_layer(weights, hidden_relu=True, out_act="linear"):
    """A 2-2-1 net from the notebook's dict of node weights."""
    net = nn.Net([2, 2, 1], ["relu" if hidden_relu else "linear", out_act])
    net.set_weights(0, np.array([weights["node_0"], weights["node_1"]],
                                dtype=np.float32).T, np.zeros(2))
    net.set_weights(1, np.array(weights["output"],
                                dtype=np.float32).reshape(2, 1), [0.0])
    return net


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plot", metavar="PNG")
    args = ap.parse_args(argv)
    w = {'node_0': [2, 4], 'node_1': [4, -5], 'output': [2, 7]}
    # Forward propagation without and with ReLU.
    print(float(two_layer(w, hidden_relu=False).predict([[3, 5]])[0, 0]))
    print(float(two_layer(w).predict([[3, 5]])[0, 0]))
    # Several rows, ReLU on the output node too.
    rows = np.array([[3, 5], [1, -1], [0, 0], [8, 4]], dtype=np.float32)
    print([float(v) for v in two_layer(w, out_act="relu").predict(rows)[:, 0]])
    # Two hidden layers of two ReLU nodes.
    deep = nn.Net([2, 2, 2, 1], ["relu", "relu", "linear"])
    deep.set_weights(0, np.array([[2, 4], [4, -5]], np.float32).T, [0, 0])
    deep.set_weights(1, np.array([[-1, 1], [2, 2]], np.float32).T, [0, 0])
    deep.set_weights(2, np.array([[2], [7]], np.float32), [0])
    print(float(deep.predict([[3, 5]])[0, 0]))

    # How the weights change the error.
    w0 = {'node_0': [2, 1], 'node_1': [1, 2], 'output': [1, 1]}
    w1 = {'node_0': [2, 1], 'node_1': [1, 2], 'output': [-1, 1]}
    x = np.array([[0, 3]], np.float32)
    print(float(two_layer(w0).predict(x)[0, 0]) - 3)
    print(float(two_layer(w1).predict(x)[0, 0]) - 3)
    data = np.array([[0, 3], [1, 2], [-1, -2], [4, 0]], np.float32)
    targets = np.array([[1], [3], [5], [7]], np.float32)
    w1b = {'node_0': [2, 1], 'node_1': [1, 1.5], 'output': [1, 1.5]}
    mse_0 = nn.loss(two_layer(w0, out_act="relu").predict(data), targets,
                    kind="mse")
    mse_1 = nn.loss(two_layer(w1b, out_act="relu").predict(data), targets,
                    kind="mse")
    print("Mean squared error with weights_0: %f" % mse_0)
    print("Mean squared error with weights_1: %f" % mse_1)

    # The slope of the MSE with respect to the weights of one neuron.
    neuron = nn.Net([3, 1], ["linear"])
    neuron.set_weights(0, np.array([[0], [2], [1]], np.float32), [0])
    inp = np.array([[1, 2, 3]], np.float32)
    target = np.zeros((1, 1), np.float32)
    pred = neuron.forward(inp)
    neuron.backward(target, loss="mse")
    slope = neuron.grads(0)[0][:, 0]
    print(slope)
    # One step with learning rate 0.01: the error before and after.
    error = float(pred[0, 0] - target[0, 0])
    neuron.sgd_step(0.01)
    neuron.set_weights(0, biases=[0])
    error_updated = float(neuron.predict(inp)[0, 0] - target[0, 0])
    print(error)
    print(error_updated)

    # Twenty updates; the notebook records, after each, the error one more
    # step would leave (its get_mse).
    neuron.set_weights(0, np.array([[0], [2], [1]], np.float32), [0])
    mse_hist = []
    for i in range(20):
        neuron.forward(inp)
        neuron.backward(target, loss="mse")
        neuron.sgd_step(0.01)
        neuron.set_weights(0, biases=[0])
        probe = nn.Net.from_bytes(neuron.to_bytes())
        probe.forward(inp)
        probe.backward(target, loss="mse")
        probe.sgd_step(0.01)
        probe.set_weights(0, biases=[0])
        mse_hist.append(float(probe.predict(inp)[0, 0]))
        probe.close()
    print("weights after 20 updates:", neuron.get_weights(0)[0][:, 0])
    print("mse_hist:", [round(v, 6) for v in mse_hist])
    if args.plot:
        from libnnfs import plot
        plot.loss_curves({"error after the next update": mse_hist},
                         args.plot, title="one neuron, gradient descent",
                         ylabel="error")
        print("wrote", args.plot)
    ok = abs(mse_hist[-1]) < abs(mse_hist[0]) and \
        np.allclose(slope, [14, 28, 42])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
