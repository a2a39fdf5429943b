"""Data-parallel training across processes with mpi4py (issue 15).

The same scheme as libnnfs_mpi (nnfs_mpi.h), over mpi4py and the core
binding, so it needs no compiled MPI component:

    from mpi4py import MPI
    import libnnfs as nn, libnnfs.mpi as nnmpi
    comm = MPI.COMM_WORLD
    lo, hi = nnmpi.shard(len(X), comm)          # this rank's rows
    net = nn.Net(sizes, acts, seed=comm.rank)
    nnmpi.broadcast(net, comm)                  # rank 0's parameters
    opt = nn.Adam(net)
    for step in range(steps):
        net.forward(X[lo:hi])
        loss = net.backward(labels=y[lo:hi])
        nnmpi.allreduce_grads(net, hi - lo, comm)   # global-batch mean
        opt.step()
        loss = nnmpi.mean(loss, hi - lo, comm)

allreduce_grads sums rows_r * g_r and rows_r in one Allreduce, so uneven
shards give exactly the global batch's mean gradient.
"""
import numpy as np

__all__ = ["shard", "broadcast", "allreduce_grads", "mean"]


def shard(rows, comm):
    """(begin, end) of this rank's rows: the first rows % size ranks get
    one more (as nn_mpi_shard)."""
    q, r = divmod(int(rows), comm.size)
    t = comm.rank
    begin = t * q + min(t, r)
    return begin, begin + q + (1 if t < r else 0)


def broadcast(net, comm, root=0):
    """Every layer's parameters of root's net to every rank's net."""
    for i in range(net.num_layers):
        w, b = net.get_weights(i)
        comm.Bcast(w, root=root)
        comm.Bcast(b, root=root)
        net.set_weights(i, w, b)


def allreduce_grads(net, rows, comm):
    """Replace this rank's gradients (of a backward over `rows` rows) by
    the mean over all ranks' rows."""
    from mpi4py import MPI
    n = net.num_params
    buf = np.empty(n + 1, dtype=np.float32)
    if rows > 0:
        buf[:n] = net.get_grad_block() * np.float32(rows)
    else:
        buf[:n] = 0
    buf[n] = rows
    comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
    if not buf[n] > 0:
        raise ValueError("allreduce_grads: no rank has rows")
    net.set_grad_block(buf[:n] / buf[n])


def mean(value, rows, comm):
    """The global batch's mean of per-rank means (loss, accuracy)."""
    from mpi4py import MPI
    v = np.array([float(value) * rows, float(rows)])
    comm.Allreduce(MPI.IN_PLACE, v, op=MPI.SUM)
    return v[0] / v[1]
