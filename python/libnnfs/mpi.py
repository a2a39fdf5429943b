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

Or let Net.fit do all of that through libnnfs_mpi (nnfs_mpi.h,
nn_mpi_trainer_attach): every rank passes its own rows and the same comm,

    lo, hi = nnmpi.shard(len(X), comm)
    net = nn.Net(sizes, acts, seed=1)           # the same on every rank
    hist = net.fit(X[lo:hi], labels=y[lo:hi], comm=comm, batch_size=0)

and the losses, metrics and parameters are those of one fit over all the
rows (see "Data-parallel fits" in nnfs.h).  checkpoint_load(path, comm)
resumes every rank from a checkpoint file only root reads.  Both load
libnnfs_mpi.so: LIBNNFS_MPI_PATH, else beside libnnfs.so, else the system
loader.
"""
import ctypes
import os

import numpy as np

from . import _core

__all__ = ["shard", "broadcast", "allreduce_grads", "mean", "fit",
           "attach", "checkpoint_load"]

_mpi_lib = None


def _lib():
    """libnnfs_mpi, loaded once, with its prototypes."""
    global _mpi_lib
    if _mpi_lib is not None:
        return _mpi_lib
    from mpi4py import MPI
    env = os.environ.get("LIBNNFS_MPI_PATH")
    here = os.path.dirname(_core.library_path)
    cands = [env] if env else [os.path.join(here, "libnnfs_mpi.so.0"),
                               "libnnfs_mpi.so.0"]
    err = None
    for c in cands:
        try:
            lib = ctypes.CDLL(c, mode=ctypes.RTLD_GLOBAL)
            break
        except OSError as e:
            err = e
    else:
        raise ImportError("libnnfs.mpi: cannot load libnnfs_mpi (%s); set "
                          "LIBNNFS_MPI_PATH" % err)
    # MPI_Comm is a pointer in Open MPI, an int in MPICH
    comm_t = ctypes.c_void_p if MPI._sizeof(MPI.Comm) == \
        ctypes.sizeof(ctypes.c_void_p) else ctypes.c_int
    vp = ctypes.c_void_p
    lib.nn_mpi_trainer_attach.argtypes = [vp, comm_t]
    lib.nn_mpi_trainer_attach.restype = ctypes.c_int
    lib.nn_mpi_checkpoint_load.argtypes = [ctypes.POINTER(vp),
                                           ctypes.POINTER(vp),
                                           ctypes.c_char_p, ctypes.c_int,
                                           comm_t]
    lib.nn_mpi_checkpoint_load.restype = ctypes.c_int
    lib.nn_mpi_last_error.restype = ctypes.c_char_p
    lib.nn_mpi_last_error.argtypes = []
    _mpi_lib = lib
    return lib


def _comm(comm):
    from mpi4py import MPI
    return MPI._handleof(comm)


def _check(status):
    if status != 0:
        msg = _lib().nn_mpi_last_error() or b""
        cls = _core._ERRORS.get(status, _core.NNError)
        text = msg.decode("utf-8", "replace")
        if cls is _core.NNError:
            raise _core.NNError("status %d: %s" % (status, text), status)
        raise cls(text)


def attach(trainer_handle, comm):
    """nn_mpi_trainer_attach on a C nn_trainer handle (what Net.fit does
    with comm=): the trainer becomes this rank's replica of a fit over
    comm."""
    _check(_lib().nn_mpi_trainer_attach(trainer_handle, _comm(comm)))


def fit(net, x, comm, **kwargs):
    """net.fit(x, comm=comm, **kwargs): one data-parallel fit over the
    ranks of comm, each passing its own rows (see Net.fit)."""
    return net.fit(x, comm=comm, **kwargs)


def checkpoint_load(path, comm, root=0):
    """(net, optimizer) from the checkpoint at path, read by root only and
    broadcast (nn_mpi_checkpoint_load): every rank gets the same
    parameters and optimizer state.  optimizer is None when the file
    holds none; it is an Optimizer (its kind as saved) bound to net.
    path matters on root only.  Raises the same error on every rank."""
    net_h, opt_h = ctypes.c_void_p(), ctypes.c_void_p()
    p = os.fsencode(path) if path is not None else None
    _check(_lib().nn_mpi_checkpoint_load(ctypes.byref(net_h),
                                         ctypes.byref(opt_h), p, int(root),
                                         _comm(comm)))
    net = _core.Net._from_handle(net_h)
    if not opt_h.value:
        return net, None
    return net, _core._wrap_optimizer(net, opt_h.value)


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
