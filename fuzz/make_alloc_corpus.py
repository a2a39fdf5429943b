#!/usr/bin/env python3
"""make_alloc_corpus.py - write the seed corpus of fuzz_alloc.

    python3 fuzz/make_alloc_corpus.py

An input of fuzz_alloc is a failure schedule and a program (the layout is
documented in fuzz/fuzz_alloc_harness.h and must match fa_gen there):

    8 bytes  schedule seed (little-endian)
    1 byte   density d: allocation i fails when mix(seed + i) % 65536 < d*d
    2 bytes  nth (little-endian; 0 none): allocation nth fails
    then     opcode byte (op << 1 | slot) and the op's argument bytes

The programs below are hand-made: a training loop with every optimizer,
trainer fits, save/load round trips, IDX parsing and the linear algebra
calls; each is written with a few schedules (one chosen failure, sparse
and dense random failures).  No library is needed.
"""
import base64
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus", "fuzz_alloc")

OPS = ["CREATE", "INIT", "OPTION", "FORWARD", "BACKWARD", "BACKWARD_LABELS",
       "SGD", "OPT_CREATE", "OPT_SET", "OPT_STEP", "OPT_RESET", "TR_CREATE",
       "TR_SET", "FIT", "PREDICT", "SAVE", "LOAD", "IDX", "LINALG",
       "SET_PARAMS", "DESTROY", "READOUT", "PCA_FIT", "PCA_TRANSFORM",
       "PCA_INVERSE", "PCA_SAVE", "PCA_LOAD"]
OP = {n: i for i, n in enumerate(OPS)}

ACT = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "softmax": 4}


def op(name, slot=0, *args):
    return bytes([OP[name] << 1 | slot]) + bytes(args)


def create(slot, sizes, acts, seed=7):
    # nl - 1, widths - 1 (1 + b % 40), activations, 2 seed bytes
    return op("CREATE", slot, len(acts) - 1, *[w - 1 for w in sizes],
              *[ACT[a] for a in acts], seed & 0xFF, seed >> 8)


def forward(slot, batch, xoff=0, out=1):
    return op("FORWARD", slot, batch - 1, xoff, out)


def opt_create(slot, kind, lr=1, decay=1, *extra):
    # kind 0 SGD (momentum idx), 1 Adagrad (eps bit), 2 RMSprop (rho bit),
    # 3 Adam (beta1 bit, beta2 bit)
    return op("OPT_CREATE", slot, kind, lr, decay, *extra)


def tr_create(slot, bs_idx, epochs, shuffle, seed, loss, report, prec, acc,
              stop):
    return op("TR_CREATE", slot, bs_idx, epochs - 1, shuffle, seed, loss,
              report, prec, acc, stop)


def fit(slot, n, n_val, labels, o1=3, o2=50):
    return op("FIT", slot, n - 1, n_val, labels, o1, o2)


PROGRAMS = {
    "train_adam": b"".join([
        create(0, [2, 16, 8, 3], ["relu", "tanh", "softmax"]),
        op("OPTION", 0, 0, 4, 1),            # dropout 0.1 on layer 0
        op("OPTION", 0, 0, 1, 2),            # L2 weights 1e-2
        opt_create(0, 3, 1, 1, 0, 0),        # Adam
        forward(0, 8),
        op("BACKWARD_LABELS", 0, 0, 0, 5),
        op("OPT_STEP", 0),
        forward(0, 24, 9),
        op("BACKWARD", 0, 0, 17, 0),         # CCE with soft targets
        op("OPT_STEP", 0),
        op("SAVE", 0, 1),                    # checkpoint
        op("LOAD", 1, 1),
        op("PREDICT", 1, 250, 4),            # 200+ rows: two blocks
        forward(1, 5),
        op("BACKWARD", 1, 2, 1, 0),          # MSE
        op("OPT_STEP", 1),
    ]),
    "train_sgd_rmsprop_adagrad": b"".join([
        create(0, [5, 7, 4], ["sigmoid", "sigmoid"]),
        opt_create(0, 0, 2, 1, 2),           # SGD, momentum 0.9
        forward(0, 12),
        op("BACKWARD", 0, 1, 3, 0),          # BCE
        op("OPT_STEP", 0),
        op("SGD", 0, 1),
        create(1, [3, 9, 9, 2], ["tanh", "relu", "linear"]),
        opt_create(1, 2, 1, 0, 1),           # RMSprop
        forward(1, 7),
        op("BACKWARD", 1, 3, 0, 0),          # MAE
        op("OPT_STEP", 1),
        opt_create(0, 1, 0, 0, 1),           # Adagrad replaces SGD
        forward(0, 3),
        op("BACKWARD_LABELS", 0, 0, 0, 9),
        op("OPT_STEP", 0),
        op("OPT_SET", 0, 2, 2),              # iterations 1000
        op("OPT_RESET", 0),
        op("SAVE", 1, 1),
        op("LOAD", 0, 0),                    # model part only
        op("PREDICT", 0, 10, 0),
    ]),
    "trainer_fit": b"".join([
        create(0, [2, 12, 3], ["relu", "softmax"]),
        opt_create(0, 3, 2, 1, 0, 0),
        tr_create(0, 2, 2, 1, 5, 0, 1, 0, 4, 0),     # bs 4, 2 epochs
        fit(0, 16, 4, 1),                    # labels + validation
        tr_create(0, 0, 3, 0, 1, 2, 0, 1, 3, 2),     # whole set, MSE,
        fit(0, 20, 6, 0),                    # regression; callback stops
        op("TR_SET", 0, 1, 1),               # batch size 2
        fit(0, 6, 0, 1),
        op("SAVE", 0, 1),
        op("LOAD", 1, 1),
        opt_create(1, 0, 1, 1, 1),
        tr_create(1, 3, 1, 1, 9, 1, 2, 0, 2, 7),     # BCE, binary acc
        fit(1, 30, 8, 0),
    ]),
    "idx_and_linalg": b"".join([
        op("IDX", 0, 0, 1, 1),
        op("IDX", 0, 1, 1, 2),
        op("IDX", 0, 2, 0, 0),
        op("IDX", 0, 3, 1, 1),               # inflates past 64 KiB
        create(0, [6, 9, 4], ["tanh", "linear"]),
        op("INIT", 0, 2, 3, 3, 1),           # orthogonal, every layer
        op("LINALG", 0, 0, 1),
        op("LINALG", 0, 1, 0),
        op("INIT", 0, 0, 1, 2, 4),           # normal, layer 0
        op("SET_PARAMS", 0, 1, 10, 20),
        forward(0, 4),
        op("DESTROY", 0, 2),
    ]),
    "create_load_many": b"".join([
        create(0, [40, 40, 40, 40, 40], ["relu", "relu", "tanh", "softmax"]),
        op("SAVE", 0, 0),
        op("LOAD", 1, 0),
        op("LOAD", 0, 1),
        opt_create(0, 3, 1, 1, 1, 1),
        op("SAVE", 0, 1),
        op("LOAD", 1, 1),
        op("PREDICT", 1, 255, 2),
        forward(1, 24),
        op("BACKWARD_LABELS", 1, 0, 0, 1),
        op("OPT_STEP", 1),
    ]),
    "pca_readout": b"".join([
        op("PCA_FIT", 0, 22, 11, 4, 1, 1, 7),   # 24 x 12, k 5, whitened
        op("PCA_TRANSFORM", 0, 9, 3),
        op("PCA_TRANSFORM", 0, 250, 0),         # crosses a 512-row block?
        op("PCA_INVERSE", 0, 4, 1),
        op("PCA_SAVE", 0),
        op("PCA_LOAD", 1),
        op("PCA_TRANSFORM", 1, 2, 5),
        op("PCA_FIT", 0, 3, 39, 39, 0, 0, 0),   # 5 x 40: rank deficient
        create(0, [3, 10, 2], ["tanh", "linear"]),
        op("READOUT", 0, 19, 0, 0, 1),          # 20 rows, lambda 1e-3
        op("READOUT", 0, 3, 0, 0, 0),           # 4 rows < 10: SVD path
        forward(0, 6),
        create(1, [4, 5], ["linear"]),
        op("READOUT", 1, 31, 2, 7, 3),          # 1 layer: x itself
        op("PREDICT", 1, 7, 0),
    ]),
}

# (name, seed, density, nth)
SCHEDULES = [("nth1", 1, 0, 1), ("nth4", 2, 0, 4), ("nth9", 3, 0, 9),
             ("sparse", 0x1234, 24, 0), ("dense", 0x9876, 110, 0)]

# Inputs that found bugs, with the schedule that found them:
# (name, program, seed, density, nth).
REGRESSIONS = [
    # nn_trainer_fit returned NN_ERR_NOMEM after some steps had already
    # changed the net (and kept the scratch it had reserved): with an L1
    # penalty of 1e38 every nn_backward computed its gradients exactly in
    # memory it allocated per step.  Allocation 19 is one of those.
    ("regress_fit_nomem_after_steps",
     b"".join([create(0, [3, 6, 2], ["tanh", "linear"]),
               op("OPTION", 0, 0, 0, 7),            # L1 weights 1e38
               opt_create(0, 0, 0, 0, 0),           # SGD, lr 0.001
               tr_create(0, 2, 2, 0, 1, 2, 0, 0, 4, 0),  # bs 4, 2 epochs
               fit(0, 16, 0, 0)]), 1, 0, 19),
]

# Inputs found by the fuzzer itself, kept byte for byte (base64).
FOUND = [
    # UBSan: nn__expf converted a NaN to int (vecmath.h) when a layer's
    # x W + b was NaN (a loaded net with 1e38 penalties trained by a fit
    # until inf - inf); the forward then reports NN_ERR_NONFINITE.
    ("regress_nan_expf_ubsan",
     "AwAAAAAAAAAAAAAA//////8BAAQA/xoPBAAAfxYn0/45UkQBAwIaEwaAAzIYAQEaBQABAzIeASEBDwABAQEXAwABCQECAAIHGx0IAAMGAAEIAQMKAA=="),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    for pname, prog in PROGRAMS.items():
        for sname, seed, dens, nth in SCHEDULES:
            head = struct.pack("<QBH", seed, dens, nth)
            with open(os.path.join(OUT, "%s_%s" % (pname, sname)), "wb") as f:
                f.write(head + prog)
    for name, prog, seed, dens, nth in REGRESSIONS:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(struct.pack("<QBH", seed, dens, nth) + prog)
    for name, b64 in FOUND:
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(base64.b64decode(b64))


if __name__ == "__main__":
    main()
