"""libnnfs.mpi under mpirun (issue 15, the mpi4py path): N ranks x their
shard of 128 spiral rows (3 ranks: 43 + 43 + 42) against one process with
all rows, computed on rank 0: 100 Adam steps' losses within 1e-5
relative, and every rank's final parameters bit-identical.  Exit 77
(CTest SKIP) without numpy or mpi4py.
"""
import sys

try:
    import numpy as np
    from mpi4py import MPI
except ImportError as e:  # pragma: no cover
    print("SKIP: %s" % e)
    sys.exit(77)

import libnnfs as nn
import libnnfs.mpi as nnmpi


def params(net):
    return np.concatenate([np.concatenate([w.ravel(), b])
                           for w, b in (net.get_weights(i)
                                        for i in range(net.num_layers))])


def main():
    comm = MPI.COMM_WORLD
    nn.set_num_threads(1)
    X, y = nn.spiral_data(43, 3, seed=5)        # 129 rows
    X, y = X[:128], y[:128]
    sizes, acts = [2, 32, 16, 3], ["relu", "tanh", "softmax"]
    ref = []
    if comm.rank == 0:
        with nn.Net(sizes, acts, seed=7) as r, \
                nn.Adam(r, learning_rate=0.001) as o:
            for _ in range(100):
                r.forward(X)
                ref.append(r.backward(labels=y))
                o.step()
    lo, hi = nnmpi.shard(len(X), comm)
    net = nn.Net(sizes, acts, seed=7 + comm.rank)   # made one by broadcast
    nnmpi.broadcast(net, comm)
    opt = nn.Adam(net, learning_rate=0.001)
    worst = 0.0
    for i in range(100):
        net.forward(X[lo:hi])
        loss = net.backward(labels=y[lo:hi])
        nnmpi.allreduce_grads(net, hi - lo, comm)
        opt.step()
        loss = nnmpi.mean(loss, hi - lo, comm)
        if comm.rank == 0:
            r = abs(loss - ref[i]) / abs(ref[i])
            worst = max(worst, r)
    p = params(net)
    p0 = comm.bcast(p if comm.rank == 0 else None, root=0)
    same = comm.allreduce(int(np.array_equal(p, p0)), op=MPI.MIN)
    ok = same == 1 and (comm.rank != 0 or worst <= 1e-5)
    if comm.rank == 0:
        print("%d ranks: 100 Adam steps, loss %.4f -> %.4f, max relative "
              "loss difference to one process %.3g; parameters %s on every "
              "rank" % (comm.size, ref[0], ref[-1], worst,
                        "identical" if same else "DIFFERENT"))
    ok = comm.allreduce(int(ok), op=MPI.MIN)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
