#!/usr/bin/python3
"""Times the bench_train workloads in peer implementations and prints one
table of step-time ratios to the libnnfs GEMM floor measured by bench_train.

usage: bench/peers.py BENCH_TRAIN_JSONL [--threads 1,2] [--bench-fann PATH]
                      [--bench-train PATH] [--rounds N]

BENCH_TRAIN_JSONL holds the lines bench_train printed (one JSON object per
workload and thread count).  Peers: PyTorch CPU, NumPy in the course's style
(np.dot + separate bias/ReLU/softmax/CCE passes, SGD), FANN (bench_fann, for
W1/W2/W4).  A missing peer is skipped with a message.

The libnnfs columns (floors, step/floor, step/acc) are the ratios within
BENCH_TRAIN_JSONL's own lines.  With --bench-train (bench/run.sh passes it)
the peer columns are measured in rounds: bench_train for one workload and thread count, then each peer, N
times (default 3), and each ratio is the median of the rounds' ratios.  A
shared machine's speed drifts by tens of percent over minutes; a peer
timed minutes after the libnnfs line it is divided by measured the drift.

Each PyTorch and NumPy measurement runs in its own process with
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS set to the thread
count before the import: Debian's torch and numpy both call the system
BLAS (OpenBLAS, which starts one thread per core unless told otherwise),
and torch.set_num_threads(1) does not reach it, so in one process a
"1 thread" torch step ran its products on every core.
"""
import json, os, subprocess, sys, time, statistics

WL = {"W1": (300, [2, 64, 3]), "W2": (128, [784, 128, 10]),
      "W3": (256, [1024, 4096, 4096, 1024]),
      "W4": (64, [64, 256, 256, 256, 256, 10])}


def reps_for(w):
    return 5 if w == "W3" else 200


def timeit(step, reps):
    for _ in range(3):
        step()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts)


def torch_peer(w, threads):
    import torch
    torch.set_num_threads(threads)
    batch, sz = WL[w]
    g = torch.Generator().manual_seed(1)
    layers = [torch.nn.Linear(sz[i], sz[i + 1]) for i in range(len(sz) - 1)]
    mods = []
    for i, l in enumerate(layers):
        mods.append(l)
        if i < len(layers) - 1:
            mods.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, sz[0], generator=g)
    y = torch.randint(0, sz[-1], (batch,), generator=g)
    lossf = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=False)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
    return timeit(step, reps_for(w))


def numpy_peer(w, threads):
    import numpy as np
    batch, sz = WL[w]
    rng = np.random.default_rng(1)
    W = [(0.01 * rng.standard_normal((sz[i], sz[i + 1]))).astype(np.float32)
         for i in range(len(sz) - 1)]
    B = [np.zeros((1, sz[i + 1]), np.float32) for i in range(len(sz) - 1)]
    x = rng.standard_normal((batch, sz[0])).astype(np.float32)
    y = rng.integers(0, sz[-1], batch)
    lr = np.float32(0.01)

    def step():
        acts, inp = [], x
        for i in range(len(W)):              # Layer_Dense.forward
            z = np.dot(inp, W[i]) + B[i]
            acts.append((inp, z))
            inp = np.maximum(0, z) if i < len(W) - 1 else z
        e = np.exp(inp - np.max(inp, axis=1, keepdims=True))
        p = e / np.sum(e, axis=1, keepdims=True)
        loss = np.mean(-np.log(np.clip(p[range(batch), y], 1e-7, 1 - 1e-7)))
        d = p.copy()                          # softmax+CCE combined backward
        d[range(batch), y] -= 1
        d = d / batch
        for i in reversed(range(len(W))):
            inp, z = acts[i]
            if i < len(W) - 1:
                d = d.copy()
                d[z <= 0] = 0                 # Activation_ReLU.backward
            dW = np.dot(inp.T, d)
            dB = np.sum(d, axis=0, keepdims=True)
            d = np.dot(d, W[i].T)
            W[i] += -lr * dW                  # Optimizer_SGD.update_params
            B[i] += -lr * dB
        return loss
    return timeit(step, reps_for(w))


def fann_peer(w, threads, exe):
    if w == "W3":
        return None
    batch, sz = WL[w]
    out = subprocess.run([exe, str(batch)] + [str(s) for s in sz],
                         capture_output=True, text=True, check=True).stdout
    j = json.loads(out.strip().splitlines()[-1])
    return j["step_min_s"], j["step_median_s"]


PEERS = {"torch": lambda w, t: torch_peer(w, t),
         "numpy": lambda w, t: numpy_peer(w, t)}


def worker(name, w, t):
    """--worker NAME W T: time one peer in this process (the BLAS thread
    variables were set by the parent before anything imported a BLAS)."""
    r = PEERS[name](w, int(t))
    print(json.dumps({"min_s": r[0], "median_s": r[1]}))
    return 0


def in_subprocess(name, w, t):
    env = dict(os.environ)
    for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[v] = str(t)
    run = subprocess.run([sys.executable, os.path.abspath(__file__),
                          "--worker", name, w, str(t)], env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:   # e.g. the module is there but will not import
        last = (run.stderr.strip().splitlines() or ["?"])[-1]
        print("# %s skipped for %s at %s threads: %s" % (name, w, t, last))
        return None
    j = json.loads(run.stdout.strip().splitlines()[-1])
    return j["min_s"], j["median_s"]


def ours_now(exe, w, t):
    """One bench_train line for workload w at t threads, run now."""
    reps = 3 if w == "W3" else 7
    out = subprocess.run([exe, "--workload", w, "--threads", str(t),
                          "--reps", str(reps)], capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    if args[0] == "--worker":
        return worker(*args[1:4])
    path = args[0]
    threads = [1, 2]
    fann = train = None
    rounds = 3
    i = 1
    while i < len(args):
        if args[i] == "--threads":
            threads = [int(t) for t in args[i + 1].split(",")]
            i += 2
        elif args[i] == "--bench-fann":
            fann = args[i + 1]
            i += 2
        elif args[i] == "--bench-train":
            train = args[i + 1]
            i += 2
        elif args[i] == "--rounds":
            rounds = max(1, int(args[i + 1]))
            i += 2
        else:
            print("unknown option", args[i])
            return 2
    ours = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                j = json.loads(line)
                if j.get("bench") == "train":
                    ours[(j["workload"], j["threads"])] = j
    peers = []
    # (found with importlib.util: importing them here would start the BLAS
    # before the per-process thread count is set)
    import importlib.util
    for name, label in (("torch", "PyTorch"), ("numpy", "NumPy")):
        if importlib.util.find_spec(name) is None:
            print("# %s skipped: no module named %r" % (label, name))
        else:
            peers.append((name, lambda w, t, n=name: in_subprocess(n, w, t)))
    if fann and os.access(fann, os.X_OK):
        peers.append(("fann", lambda w, t: fann_peer(w, t, fann)))
    else:
        print("# FANN skipped: bench_fann not built (libfann not found)")
    names = [n for n, _ in peers]
    # floor: the bare products (beta = 0); acc: the same products with
    # beta = 1, the multiplications alone (bench_train.c explains both)
    print("| workload | threads | core | floor ms | acc ms | "
          "libnnfs step/floor | fused step/floor | step/acc | fused/acc | "
          + " | ".join(n + " /floor" for n in names)
          + " | " + " | ".join("speedup vs " + n for n in names)
          + " | fused speedup vs torch |")
    print("|" + "---|" * (10 + 2 * len(names)))
    for (w, t), j in sorted(ours.items(), key=lambda k: (k[0][0], k[0][1])):
        if t not in threads:
            continue
        floor = j["floor_median_s"]
        step = j["step_median_s"]
        cells, speed = [], []
        fused_vs_torch = "-"
        # per round: (libnnfs line, {peer: median step or None})
        runs = []
        for _ in range(rounds if train else 1):
            mine = ours_now(train, w, t) if train else j
            runs.append((mine, {n: fn(w, t) for n, fn in peers}))
        for n, _ in peers:
            got = [(m, r[n][1]) for m, r in runs if r[n] is not None]
            if not got:
                cells.append("-")
                speed.append("-")
                continue
            cells.append("%.2f" % statistics.median(
                p / m["floor_median_s"] for m, p in got))
            speed.append("%.2fx" % statistics.median(
                p / m["step_median_s"] for m, p in got))
            fr = [p / m["fused_step_median_s"] for m, p in got
                  if m.get("fused_step_median_s")]
            if n == "torch" and fr:   # the fused SGD step (the trainer's)
                fused_vs_torch = "%.2fx" % statistics.median(fr)
        fused = j.get("fused_step_median_s")
        acc = j.get("floor_acc_median_s")

        def ratio(a, b):
            return "%.3f" % (a / b) if a and b else "-"
        print("| %s | %d | %s | %.3f | %s | %.3f | %s | %s | %s | %s | %s |"
              % (w, t, j["core"], floor * 1e3,
                 "%.3f" % (acc * 1e3) if acc else "-", step / floor,
                 ratio(fused, floor), ratio(step, acc), ratio(fused, acc),
                 " | ".join(cells), " | ".join(speed) + " | " +
                 fused_vs_torch), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
