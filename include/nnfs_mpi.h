/*
 * nnfs_mpi.h - data-parallel training across processes and machines on
 * MPI: the optional component libnnfs_mpi.so (pkg-config nnfs_mpi, CMake
 * target nnfs::nnfs_mpi), built when CMake finds MPI.  libnnfs.so itself
 * never links MPI.
 *
 * The model: every rank holds a replica of the same net and optimizer,
 * reads only its shard of the rows (nn_mpi_shard), runs nn_forward and
 * nn_backward* on it, then nn_mpi_allreduce_grads makes every replica's
 * gradient the mean over the global batch (weighted by each rank's rows,
 * so uneven shards give exactly the global mean), and every rank makes
 * the same nn_optimizer_step.  Or, simpler, nn_mpi_trainer_attach makes
 * nn_trainer_fit do all of that.  Every call here but nn_mpi_shard,
 * nn_mpi_trainer_attach and nn_mpi_last_error is collective: all ranks
 * of comm call it, in the same order.  The caller initialises MPI.
 * One thread per process calls these functions.
 */
#ifndef NNFS_MPI_H
#define NNFS_MPI_H

#include <mpi.h>

#include "nnfs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rows [*begin, *begin + *count) of rows split over size ranks: the first
   rows % size ranks get one more.  Returns NN_OK; NN_ERR_INVALID_ARG (a
   NULL pointer, size < 1, rank outside [0, size)).  Since 0.2. */
NN_API int nn_mpi_shard(size_t rows, int rank, int size, size_t *begin,
                        size_t *count);

/* Every layer's parameters of root's net to the nets of all ranks (which
   must have the same shape: checked, NN_ERR_SHAPE on every rank if not).
   Returns NN_OK, or the same status on every rank (NN_ERR_NOMEM,
   NN_ERR_SHAPE, NN_ERR_IO for an MPI error) with nn_mpi_last_error().
   Since 0.2. */
NN_API int nn_mpi_broadcast_net(nn_net *net, int root, MPI_Comm comm);

/* The largest piece nn_mpi_allreduce_grads hands to one MPI_Allreduce,
   in floats (2^20 = 4 MiB).  Measured with Open MPI 4 (Debian), 2 ranks
   on one host (AMD EPYC Zen 5, shared memory): one MPI_Allreduce of the
   25.2M floats of a 1024-4096-4096-1024 net took ~225 ms, the same
   block in pieces of 2^20 floats ~18 ms (2^16: ~20 ms, 2^22: ~21 ms);
   a block of 101770 floats (one piece) ~35-40 us either way.  Large
   single reductions fall off the shared-memory transport's fast path
   (cache-sized segments); pieces of 4 MiB stay on it and cost one extra
   latency (~tens of us) each.  Since 0.2. */
#define NN_MPI_BUCKET ((size_t)1 << 20)

/* Replace each rank's gradient block (nn_net_get_grad_block) by
   sum_r rows_r g_r / sum_r rows_r over the ranks, rows being the rows this
   rank's last backward ran on (0 allowed: the rank contributes zeros and
   need not have gradients; 0 on every rank is NN_ERR_INVALID_ARG on
   every rank).
   Collectives per call: one MPI_Allreduce of 4 doubles first (the total
   rows, the lowest failing rank, the parameter counts), so a failure on
   any rank is known before the big reduction; then either, on a failure,
   one MPI_Bcast of the lowest failing rank's status and message (which
   every rank returns, prefixed by "rank R: "), or ceil(n_params /
   NN_MPI_BUCKET) MPI_Allreduce calls of float sums, each rank's values
   scaled by rows_r / sum_r rows_r beforehand (one pass, no division
   afterwards).  A given rank count gives the same bits on every rank and
   run after run.  No allocation after the first call for a given
   parameter count.  Returns NN_OK, or the same status on every rank:
   NN_ERR_INVALID_ARG (net NULL, no rank has rows), NN_ERR_STATE (a rank
   with rows has no gradients), NN_ERR_SHAPE (the ranks' parameter counts
   differ), NN_ERR_NOMEM, NN_ERR_NONFINITE (the mean is not finite: some
   rank's gradient was not), NN_ERR_IO (an MPI error), with
   nn_mpi_last_error().  Since 0.2. */
NN_API int nn_mpi_allreduce_grads(nn_net *net, size_t rows, MPI_Comm comm);

/* values[0..n) <- sum_r rows_r values_r / sum_r rows_r (in double): the
   global batch's mean of per-rank means such as a loss or an accuracy.
   Since 0.2. */
NN_API int nn_mpi_mean(double *values, size_t n, size_t rows,
                       MPI_Comm comm);

/* Agree on a status: every rank passes its own; all receive the status of
   the lowest rank whose status is not NN_OK (NN_OK if none), and that
   rank's message (nn_last_error() there) prefixed by "rank R: " becomes
   nn_mpi_last_error() on every rank.  Bad input on one rank so stops all
   ranks with the same error.  Since 0.2. */
NN_API int nn_mpi_agree(int status, MPI_Comm comm);

/* Make trainer one replica of a data-parallel nn_trainer_fit over the
   ranks of comm (see "Data-parallel fits" in nnfs.h): calls
   nn_trainer_set_sync(trainer, rank, size, fn, user) with this library's
   sync function, user being comm's Fortran handle (MPI_Comm_c2f), so
   nothing is allocated and comm must stay valid while the trainer fits.
   The sync function makes NN_SYNC_SUM one MPI_Allreduce of n + 1 doubles
   (the values and a fail count; on a failure one more MPI_Allreduce and
   MPI_Bcast find and tell the lowest failing rank's status and message,
   prefixed by "rank R: "), and NN_SYNC_GRADS exactly
   nn_mpi_allreduce_grads with rows = values[0], values[0] becoming the
   total rows (a total of 0 is no failure there: the gradients are left
   alone and the trainer makes no update).  Every rank of comm
   attaches its own trainer (with its own shard of the rows, e.g. from
   nn_mpi_shard, and the same net and optimizer state: nn_mpi_broadcast_net
   or nn_mpi_checkpoint_load) and then calls nn_trainer_fit.  Not itself
   collective.
   Returns NN_OK; NN_ERR_INVALID_ARG (trainer NULL, comm MPI_COMM_NULL);
   NN_ERR_STATE (during a fit); NN_ERR_IO (an MPI error); the message in
   nn_mpi_last_error().  Since 0.2. */
NN_API int nn_mpi_trainer_attach(nn_trainer *trainer, MPI_Comm comm);

/* Load a checkpoint (nn_checkpoint_save) on every rank from a file that
   only root reads: root reads path's bytes, broadcasts their size and
   then the bytes (no shared file system needed), and every rank builds
   *net_out and *opt_out with nn_checkpoint_load_buffer (*opt_out NULL
   when the file holds no optimizer state), so every replica resumes with
   the same parameters and optimizer state bit for bit.  path is used on
   root only (may be NULL elsewhere).  Collective.  Both outputs are NULL
   on failure, on every rank.
   Returns NN_OK, or the same status on every rank with the failing
   rank's message ("rank R: ...") in nn_mpi_last_error():
   NN_ERR_INVALID_ARG (net_out or opt_out NULL, root outside [0, size),
   path NULL or empty on root); NN_ERR_IO (root cannot open or read path,
   with errno's text; an MPI error); NN_ERR_FORMAT; NN_ERR_NOMEM.
   Since 0.2. */
NN_API int nn_mpi_checkpoint_load(nn_net **net_out, nn_optimizer **opt_out,
                                  const char *path, int root,
                                  MPI_Comm comm);

/* The message of the last failing nn_mpi_* call on this process.
   Since 0.2. */
NN_API const char *nn_mpi_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* NNFS_MPI_H */
