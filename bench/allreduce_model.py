#!/usr/bin/env python3
"""Alpha-beta model of ring all-reduce, for data-parallel training of the
workloads W1-W4 on N nodes (bench/README: "Training on several cores and
machines").

A ring all-reduce of S bytes over N nodes makes 2 (N - 1) steps, each
sending S / N bytes to the next node:

    T_ar(N, S) = 2 (N - 1) alpha + 2 (N - 1) / N * S / B

with alpha the per-message latency and B the link bandwidth.  With every
node keeping its batch (weak scaling, as DDP and Horovod are run), and no
overlap of the all-reduce with the backward, a step takes

    T(N) = T1 + T_ar(N, 4 * params)

where T1 is one node's step (here: the 1-thread step measured by
bench_train --modes).  Efficiency = T1 / T(N).

    allreduce_model.py [--t1 W1=12.3e-6,W2=3.0e-4,...]
"""
import sys

PARAMS = {"W1": 387, "W2": 101770, "W3": 25175040, "W4": 216586}
# 1-thread steps (s), bench_train --modes, 2026-12-05, AMD EPYC (Zen 5)
T1 = {"W1": 12.3e-6, "W2": 3.03e-4, "W3": 0.197, "W4": 5.00e-4}
LINKS = [("10 Gb/s", 1.25e9, 10e-6), ("100 Gb/s", 12.5e9, 3e-6)]


def t_ar(n, s, bw, alpha):
    return 2 * (n - 1) * alpha + 2 * (n - 1) / n * s / bw


def main():
    for a in sys.argv[1:]:
        if a.startswith("--t1="):
            for kv in a[5:].split(","):
                k, v = kv.split("=")
                T1[k] = float(v)
    print("| workload | grad MB | 1-node step | link (alpha) | N=8 step, eff."
          " | N=16 | N=64 |")
    print("|---|---|---|---|---|---|---|")
    for w in ("W1", "W2", "W3", "W4"):
        s = 4.0 * PARAMS[w]
        for name, bw, alpha in LINKS:
            cells = []
            for n in (8, 16, 64):
                t = T1[w] + t_ar(n, s, bw, alpha)
                cells.append("%.3g ms, %.0f%%" % (t * 1e3, 100 * T1[w] / t))
            print("| %s | %.3g | %.3g ms | %s (%g us) | %s |" %
                  (w, s / 1e6, T1[w] * 1e3, name, alpha * 1e6,
                   " | ".join(cells)))


if __name__ == "__main__":
    main()
