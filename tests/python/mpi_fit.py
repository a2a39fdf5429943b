"""Net.fit(comm=) and libnnfs.mpi.checkpoint_load under mpirun (issue 15,
through libnnfs_mpi): N ranks x their shard of 128 spiral rows (3 ranks:
43 + 43 + 42), Adam, full batch, no shuffle, 100 epochs, against one
process's plain fit on all rows (rank 0): every epoch's loss within 1e-5
relative and final parameters identical on every rank; a checkpoint saved
by rank 0 in a directory only it knows, loaded by every rank: the same
parameters and, after one more Adam step, the same bits everywhere; a
missing file raises NNNNIOError on every rank.  Exit 77 (CTest SKIP) without
numpy or mpi4py.
"""
import ctypes
import os
import shutil
import sys
import tempfile

try:
    import numpy as np
    from mpi4py import MPI
except ImportError as e:  # pragma: no cover
    print("SKIP: %s" % e)
    sys.exit(77)

import libnnfs as nn
import libnnfs.mpi as nnmpi
from libnnfs import _core


def params(net):
    return np.concatenate([np.concatenate([w.ravel(), b])
                           for w, b in (net.get_weights(i)
                                        for i in range(net.num_layers))])


def main():
    comm = MPI.COMM_WORLD
    nn.set_num_threads(1)
    X, y = nn.spiral_data(43, 3, seed=5)
    X, y = X[:128], y[:128]
    sizes, acts = [2, 32, 16, 3], ["relu", "tanh", "softmax"]
    kw = dict(epochs=100, batch_size=0, shuffle=False, progress=False)
    ok = True
    ref = None
    if comm.rank == 0:
        with nn.Net(sizes, acts, seed=7) as r:
            ref = r.fit(X, labels=y, optimizer=nn.Adam(learning_rate=0.01),
                        **kw)["loss"]
    lo, hi = nnmpi.shard(len(X), comm)
    net = nn.Net(sizes, acts, seed=7)
    opt = nn.Adam(learning_rate=0.01)
    got = nnmpi.fit(net, X[lo:hi], comm, labels=y[lo:hi], optimizer=opt,
                    **kw)["loss"]
    p = params(net)
    p0 = comm.bcast(p if comm.rank == 0 else None, root=0)
    same = comm.allreduce(int(np.array_equal(p, p0)), op=MPI.MIN)
    ok = ok and same == 1
    if comm.rank == 0:
        worst = max(abs(a - b) / abs(b) for a, b in zip(got, ref))
        ok = ok and len(got) == 100 and worst <= 1e-5
        print("%d ranks: Net.fit(comm=), 100 epochs, loss %.4f -> %.4f, "
              "max relative difference to one process %.3g; parameters %s "
              "on every rank" % (comm.size, ref[0], ref[-1], worst,
                                 "identical" if same else "DIFFERENT"))

    # checkpoint_load: a file only rank 0 knows
    path = d = None
    if comm.rank == 0:
        d = tempfile.mkdtemp(prefix="nnfs_py_ckpt_")
        path = os.path.join(d, "c.nnfs")
        save = _core._lib.nn_checkpoint_save
        save.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p]
        save.restype = ctypes.c_int
        assert save(net.handle, opt.handle, os.fsencode(path)) == 0
    net2, opt2 = nnmpi.checkpoint_load(path, comm)
    ok = ok and isinstance(opt2, nn.Adam) and np.array_equal(params(net2), p)
    net.forward(X)
    net.backward(labels=y)
    opt.step()
    net2.forward(X)
    net2.backward(labels=y)
    opt2.step()
    ok = ok and np.array_equal(params(net2), params(net))
    err = None
    try:
        nnmpi.checkpoint_load(os.path.join(d, "missing") if d else None,
                              comm)
    except nn.NNIOError as e:
        err = str(e)
    errs = comm.allgather(err)
    ok = ok and err is not None and all(e == errs[0] for e in errs) and \
        "rank 0: nn_mpi_checkpoint_load: cannot open" in err
    if comm.rank == 0:
        print("checkpoint_load: resumed on every rank; missing file: %s"
              % err)
        shutil.rmtree(d)
    ok = comm.allreduce(int(ok), op=MPI.MIN)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
