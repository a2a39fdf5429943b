"""Net.save_checkpoint / libnnfs.load_checkpoint: a training stopped and
resumed from a checkpoint continues bit for bit.

Reference: the same net and optimizer kept in memory.  A net trained for
some Adam steps (and an SGD-with-momentum one) is saved with its
optimizer, loaded back, and both the loaded pair and the original make
the same next steps on the same batches: parameters, step count and
settings must be identical.  A plain model loads with optimizer None;
bad arguments and files raise the binding's errors.  Exit 77 (CTest
SKIP) without numpy.
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

fails = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        fails.append(what)


def params(net):
    return np.concatenate([np.concatenate([w.ravel(), b])
                           for w, b in (net.get_weights(i)
                                        for i in range(net.num_layers))])


def steps(net, opt, x, y, n):
    for k in range(n):
        rows = slice(32 * (k % 4), 32 * (k % 4) + 32)
        net.forward(x[rows])
        net.backward(labels=y[rows])
        opt.step()


def main():
    x, y = nn.spiral_data(samples=64, classes=3)
    d = tempfile.mkdtemp(prefix="nnfs_py_ckpt_")
    for make in (lambda net: nn.Adam(net, learning_rate=0.02, decay=1e-3),
                 lambda net: nn.SGD(net, learning_rate=0.5, momentum=0.9)):
        net = nn.Net([2, 32, 3], ["relu", "softmax"], seed=7)
        opt = make(net)
        kind = type(opt).__name__
        steps(net, opt, x, y, 10)
        path = os.path.join(d, kind + ".ckpt")
        net.save_checkpoint(path, opt)
        net2, opt2 = nn.load_checkpoint(path)
        check(type(opt2) is type(opt), "%s: the optimizer's class" % kind)
        check(np.array_equal(params(net2), params(net)),
              "%s: parameters as saved" % kind)
        check(opt2["iterations"] == opt["iterations"] == 10,
              "%s: step count %s" % (kind, opt2["iterations"]))
        check(opt2["learning_rate"] == opt["learning_rate"] and
              opt2["decay"] == opt["decay"], "%s: settings" % kind)
        steps(net, opt, x, y, 7)
        steps(net2, opt2, x, y, 7)
        check(np.array_equal(params(net2), params(net)),
              "%s: 7 more steps bit for bit (max |diff| %g)"
              % (kind, float(np.max(np.abs(params(net2) - params(net))))))
        net2.close()

    # a plain model: no optimizer
    net = nn.Net([2, 8, 3], ["relu", "softmax"], seed=1)
    plain = os.path.join(d, "plain.nnfs")
    net.save(plain)
    net3, opt3 = nn.load_checkpoint(plain)
    check(opt3 is None and np.array_equal(params(net3), params(net)),
          "plain model: optimizer None")

    # bad arguments and files
    other = nn.Net([2, 8, 3], ["relu", "softmax"], seed=2)
    cases = [
        (lambda: net.save_checkpoint(plain, "adam"), TypeError),
        (lambda: net.save_checkpoint(plain, nn.Adam(other)), ValueError),
        (lambda: nn.load_checkpoint(os.path.join(d, "missing")),
         nn.NNIOError),
        (lambda: nn.load_checkpoint(123), TypeError),
    ]
    bad = os.path.join(d, "bad.ckpt")
    with open(os.path.join(d, "Adam.ckpt"), "rb") as f:
        blob = bytearray(f.read())
    blob[len(blob) // 2] ^= 0x40
    with open(bad, "wb") as f:
        f.write(blob)
    cases.append((lambda: nn.load_checkpoint(bad), nn.FormatError))
    for i, (call, exc) in enumerate(cases):
        try:
            call()
            check(False, "case %d raises %s" % (i, exc.__name__))
        except exc as e:
            check(True, "case %d: %s: %s" % (i, exc.__name__, e))
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)
    if fails:
        print("%d FAILED" % len(fails))
        sys.exit(1)


main()
