/*
 * nnfs_mpi.c - libnnfs_mpi.so: data-parallel replicas across processes on
 * MPI, on top of libnnfs's public API only (nnfs_mpi.h).
 */
#include "nnfs_mpi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char nn_mpi_msg[512];

static int nn_mpi_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nn_mpi_msg, sizeof nn_mpi_msg, fmt, ap);
    va_end(ap);
    return status;
}

const char *nn_mpi_last_error(void)
{
    return nn_mpi_msg;
}

int nn_mpi_shard(size_t rows, int rank, int size, size_t *begin,
                 size_t *count)
{
    size_t q, r, t;
    if (begin == NULL || count == NULL || size < 1 || rank < 0 ||
        rank >= size)
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "nn_mpi_shard: rank %d of "
                           "size %d, or a NULL pointer", rank, size);
    q = rows / (size_t)size;
    r = rows % (size_t)size;
    t = (size_t)rank;
    *begin = t * q + (t < r ? t : r);
    *count = q + (t < r ? 1 : 0);
    return NN_OK;
}

/* nn_mpi_agree with the failing rank's message taken from msg. */
static int nn_mpi_agree_with(int status, const char *text, MPI_Comm comm)
{
    int rank, first, mine, n;
    char msg[sizeof nn_mpi_msg];
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi_agree: MPI_Comm_rank failed");
    mine = status != NN_OK ? rank : 0x7fffffff;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) !=
        MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi_agree: MPI_Allreduce failed");
    if (first == 0x7fffffff) return NN_OK;
    if (rank == first)
        snprintf(msg, sizeof msg, "rank %d: %s", rank, text);
    n = status;
    if (MPI_Bcast(&n, 1, MPI_INT, first, comm) != MPI_SUCCESS ||
        MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, comm) !=
            MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi_agree: MPI_Bcast failed");
    msg[sizeof msg - 1] = '\0';
    snprintf(nn_mpi_msg, sizeof nn_mpi_msg, "%s", msg);
    return n;
}

int nn_mpi_agree(int status, MPI_Comm comm)
{
    return nn_mpi_agree_with(status, nn_last_error(), comm);
}

/* after a call of libnnfs (its message) or of this file (nn_mpi_msg) */
static int nn_mpi_agree_lib(int status, int ours, MPI_Comm comm)
{
    char text[sizeof nn_mpi_msg];
    snprintf(text, sizeof text, "%s", ours ? nn_mpi_msg : nn_last_error());
    return nn_mpi_agree_with(status, text, comm);
}

/* A float buffer kept between calls (grown, never shrunk). */
static float *nn_mpi_buf;
static size_t nn_mpi_cap;

static float *nn_mpi_scratch(size_t n)
{
    if (nn_mpi_cap < n) {
        float *p = malloc(n * sizeof(float));
        if (p == NULL) return NULL;
        free(nn_mpi_buf);
        nn_mpi_buf = p;
        nn_mpi_cap = n;
    }
    return nn_mpi_buf;
}

int nn_mpi_broadcast_net(nn_net *net, int root, MPI_Comm comm)
{
    static const char fn[] = "nn_mpi_broadcast_net";
    unsigned long long shape[2], want[2];
    size_t L, l, np;
    float *buf;
    int st = NN_OK;
    L = nn_net_num_layers(net);
    np = nn_net_num_params(net);
    shape[0] = want[0] = L;
    shape[1] = want[1] = np;
    if (MPI_Bcast(want, 2, MPI_UNSIGNED_LONG_LONG, root, comm) !=
        MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Bcast failed", fn);
    if (net == NULL || shape[0] != want[0] || shape[1] != want[1])
        st = nn_mpi_fail(NN_ERR_SHAPE, "%s: this rank's net has %llu "
                         "layers and %llu parameters, rank %d's %llu and "
                         "%llu", fn, shape[0], shape[1], root, want[0],
                         want[1]);
    buf = st == NN_OK ? nn_mpi_scratch(np) : NULL;
    if (st == NN_OK && buf == NULL)
        st = nn_mpi_fail(NN_ERR_NOMEM, "%s: out of memory for %zu floats",
                         fn, np);
    st = nn_mpi_agree_lib(st, 1, comm);
    if (st != NN_OK) return st;
    {
        size_t off = 0;
        for (l = 0; l < L; l++) {
            size_t nw = nn_net_layer_inputs(net, l) *
                        nn_net_layer_outputs(net, l);
            nn_net_get_params(net, l, buf + off, buf + off + nw);
            off += nw + nn_net_layer_outputs(net, l);
        }
        if (MPI_Bcast(buf, (int)np, MPI_FLOAT, root, comm) != MPI_SUCCESS)
            return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Bcast failed", fn);
        off = 0;
        for (l = 0; l < L && st == NN_OK; l++) {
            size_t nw = nn_net_layer_inputs(net, l) *
                        nn_net_layer_outputs(net, l);
            st = nn_net_set_params(net, l, buf + off, buf + off + nw);
            off += nw + nn_net_layer_outputs(net, l);
        }
    }
    return nn_mpi_agree_lib(st, 0, comm);
}

int nn_mpi_allreduce_grads(nn_net *net, size_t rows, MPI_Comm comm)
{
    static const char fn[] = "nn_mpi_allreduce_grads";
    size_t np = nn_net_num_params(net), j;
    float *buf = nn_mpi_scratch(np + 1), total, w = (float)rows;
    int st = NN_OK, ours = 1;
    if (net == NULL) st = nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: net is NULL",
                                      fn);
    else if (buf == NULL)
        st = nn_mpi_fail(NN_ERR_NOMEM, "%s: out of memory", fn);
    else if (rows > 0 && (st = nn_net_get_grad_block(net, buf, np)) != 0)
        ours = 0;
    st = nn_mpi_agree_lib(st, ours, comm);
    if (st != NN_OK) return st;
    /* rows_r g_r, then rows_r in the last slot: one reduction gives both
       sums (the row counts are exact in float up to 2^24) */
    for (j = 0; j < np; j++) buf[j] = rows > 0 ? buf[j] * w : 0.0f;
    buf[np] = w;
    if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)(np + 1), MPI_FLOAT, MPI_SUM,
                      comm) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Allreduce failed", fn);
    total = buf[np];
    if (!(total > 0))
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: no rank has rows", fn);
    for (j = 0; j < np; j++) buf[j] /= total;
    st = nn_net_set_grad_block(net, buf, np);
    return nn_mpi_agree_lib(st, 0, comm);
}

int nn_mpi_mean(double *values, size_t n, size_t rows, MPI_Comm comm)
{
    double stack[17], *buf = stack;
    size_t j;
    if (n + 1 > 17) buf = malloc((n + 1) * sizeof(double));
    if (buf == NULL || (values == NULL && n > 0))
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "nn_mpi_mean: values NULL "
                           "or out of memory");
    for (j = 0; j < n; j++) buf[j] = values[j] * (double)rows;
    buf[n] = (double)rows;
    if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)(n + 1), MPI_DOUBLE, MPI_SUM,
                      comm) != MPI_SUCCESS) {
        if (buf != stack) free(buf);
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi_mean: MPI_Allreduce failed");
    }
    for (j = 0; j < n; j++) values[j] = buf[j] / buf[n];
    if (buf != stack) free(buf);
    return NN_OK;
}
