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
 * the same nn_optimizer_step.  Every call here is collective: all ranks
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

/* Replace each rank's gradient block (nn_net_get_grad_block) by
   sum_r rows_r g_r / sum_r rows_r over the ranks, rows being the rows this
   rank's last backward ran on (0 allowed: the rank contributes nothing).
   One MPI_Allreduce of n_params + 1 floats.  A given rank count gives the
   same bits on every rank.  No allocation after the first call for a
   given parameter count.  Statuses as nn_mpi_broadcast_net, plus
   NN_ERR_STATE (a rank has no gradients).  Since 0.2. */
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

/* The message of the last failing nn_mpi_* call on this process.
   Since 0.2. */
NN_API const char *nn_mpi_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* NNFS_MPI_H */
