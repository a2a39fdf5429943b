/*
 * nnfs_mpi.c - libnnfs_mpi.so: data-parallel replicas across processes on
 * MPI, on top of libnnfs's public API only (nnfs_mpi.h).
 */
#include "nnfs_mpi.h"

#include <cblas.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
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

/* Every rank learns status and message of rank `first` (known to all). */
static int nn_mpi_tell(int first, int status, const char *text,
                       MPI_Comm comm)
{
    struct { int status; char msg[sizeof nn_mpi_msg]; } m;
    int rank;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi: MPI_Comm_rank failed");
    memset(&m, 0, sizeof m);
    if (rank == first) {
        m.status = status;
        snprintf(m.msg, sizeof m.msg, "rank %d: %s", rank, text);
    }
    if (MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, comm) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi: MPI_Bcast failed");
    m.msg[sizeof m.msg - 1] = '\0';
    snprintf(nn_mpi_msg, sizeof nn_mpi_msg, "%s", m.msg);
    return m.status;
}

/* nn_mpi_agree with this rank's message text: the lowest failing rank
   (MPI_MIN) tells every rank its status and message. */
static int nn_mpi_agree_with(int status, const char *text, MPI_Comm comm)
{
    int rank, first, mine;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi_agree: MPI_Comm_rank failed");
    mine = status != NN_OK ? rank : 0x7fffffff;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) !=
        MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "nn_mpi_agree: MPI_Allreduce failed");
    if (first == 0x7fffffff) return NN_OK;
    return nn_mpi_tell(first, status, text, comm);
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

/* A buffer kept between calls, grown to at least `bytes` (never shrunk;
   NULL when out of memory, the old one kept). */
struct nn_mpi_keep { void *p; size_t cap; };

static void *nn_mpi_keep_grow(struct nn_mpi_keep *k, size_t bytes)
{
    if (k->cap < bytes) {
        void *p = malloc(bytes);
        if (p == NULL) return NULL;
        free(k->p);
        k->p = p;
        k->cap = bytes;
    }
    return k->p;
}

/* the float scratch of the gradient block and of the broadcasts */
static struct nn_mpi_keep nn_mpi_fbuf;

static float *nn_mpi_scratch(size_t n)
{
    return nn_mpi_keep_grow(&nn_mpi_fbuf, n * sizeof(float));
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

/* The head of a gradient reduction: 4 doubles reduced by nn_mpi_head_op,
   so one tiny collective tells every rank the total rows, the lowest
   failing rank and whether the parameter counts agree (a mismatch would
   make the bucketed reduce hang or fail inside MPI). */
enum { NN_MPI_H_ROWS, NN_MPI_H_FIRST, NN_MPI_H_NP, NN_MPI_H_NEGNP,
       NN_MPI_H_COUNT };
#define NN_MPI_NOBODY 1e300   /* NN_MPI_H_FIRST when no rank failed */

static void nn_mpi_head_fn(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    const double *a = in;
    double *b = inout;
    int i;
    (void)dt;
    for (i = 0; i < *len; i++) {
        if (i % NN_MPI_H_COUNT == NN_MPI_H_ROWS) b[i] += a[i];
        else if (i % NN_MPI_H_COUNT == NN_MPI_H_FIRST)
            b[i] = a[i] < b[i] ? a[i] : b[i];
        else b[i] = a[i] > b[i] ? a[i] : b[i];
    }
}

static MPI_Op nn_mpi_head_op = MPI_OP_NULL;

/* nn_mpi_allreduce_grads and the trainer's NN_SYNC_GRADS: status and text
   are this rank's failure so far (NN_OK: none).  Collectives: the head,
   then either the failing rank's broadcast or the buckets.  total (NULL
   for nn_mpi_allreduce_grads) receives sum_r rows_r, and its presence
   makes a total of 0 NN_OK with the gradients left alone (the trainer's
   contract: no rank had rows in this step, no update). */
static int nn_mpi_grads(nn_net *net, size_t rows, int status,
                        const char *text, MPI_Comm comm, double *total)
{
    static const char fn[] = "nn_mpi_allreduce_grads";
    double head[NN_MPI_H_COUNT], w;
    size_t np = net != NULL ? nn_net_num_params(net) : 0, off;
    float *buf = NULL;
    int st = status, rank;
    char local[sizeof nn_mpi_msg];
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Comm_rank failed", fn);
    if (nn_mpi_head_op == MPI_OP_NULL &&
        MPI_Op_create(nn_mpi_head_fn, 1, &nn_mpi_head_op) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Op_create failed", fn);
    if (st == NN_OK && net == NULL)
        st = nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    if (st == NN_OK && (buf = nn_mpi_scratch(np)) == NULL)
        st = nn_mpi_fail(NN_ERR_NOMEM, "%s: out of memory for %zu floats",
                         fn, np);
    if (st == NN_OK && rows > 0) {
        st = nn_net_get_grad_block(net, buf, np);
        if (st != NN_OK)
            nn_mpi_fail(st, "%s: %s", fn, nn_last_error());
    }
    if (st != NN_OK && text == NULL) text = nn_mpi_msg;
    local[0] = '\0';
    if (text != NULL) snprintf(local, sizeof local, "%s", text);
    head[NN_MPI_H_ROWS] = st == NN_OK ? (double)rows : 0.0;
    head[NN_MPI_H_FIRST] = st != NN_OK ? (double)rank : NN_MPI_NOBODY;
    head[NN_MPI_H_NP] = (double)np;
    head[NN_MPI_H_NEGNP] = -(double)np;
    if (MPI_Allreduce(MPI_IN_PLACE, head, NN_MPI_H_COUNT, MPI_DOUBLE,
                      nn_mpi_head_op, comm) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Allreduce failed", fn);
    if (head[NN_MPI_H_FIRST] < NN_MPI_NOBODY)
        return nn_mpi_tell((int)head[NN_MPI_H_FIRST], st, local, comm);
    if (head[NN_MPI_H_NP] != -head[NN_MPI_H_NEGNP])
        return nn_mpi_fail(NN_ERR_SHAPE, "%s: the ranks' nets differ: "
                           "%.0f to %.0f parameters", fn,
                           -head[NN_MPI_H_NEGNP], head[NN_MPI_H_NP]);
    if (total != NULL) *total = head[NN_MPI_H_ROWS];
    if (!(head[NN_MPI_H_ROWS] > 0) && total != NULL) return NN_OK;
    if (!(head[NN_MPI_H_ROWS] > 0))
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: no rank has rows",
                           fn);
    /* rows_r / total folded into this rank's values before the sum, so
       the reduced block is already the weighted mean (no pass after) */
    w = (double)rows / head[NN_MPI_H_ROWS];
    if (rows > 0) {
        /* buf <- (rows_r / total) buf: cblas_sscal, in float (one
           rounding of w, then one of each product); the plain double
           loop this replaces was scalar code and 7% of a 2-rank
           Fashion-MNIST step */
        cblas_sscal((int)np, (float)w, buf, 1);
    } else {
        memset(buf, 0, np * sizeof(float));
    }
    for (off = 0; off < np; off += NN_MPI_BUCKET) {
        size_t m = np - off < NN_MPI_BUCKET ? np - off : NN_MPI_BUCKET;
        if (MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)m, MPI_FLOAT,
                          MPI_SUM, comm) != MPI_SUCCESS)
            return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Allreduce failed", fn);
    }
    /* the same bits on every rank, so a failure here (a non-finite sum)
       is the same on every rank without another collective */
    st = nn_net_set_grad_block(net, buf, np);
    if (st != NN_OK)
        return nn_mpi_fail(st, "%s: the mean over the ranks: %s", fn,
                           nn_last_error());
    return NN_OK;
}

int nn_mpi_allreduce_grads(nn_net *net, size_t rows, MPI_Comm comm)
{
    return nn_mpi_grads(net, rows, NN_OK, NULL, comm, NULL);
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

/*====== The trainer's sync function ======*/

/* the double buffer of a large NN_SYNC_SUM, apart from the float
   scratch of the gradients */
static struct nn_mpi_keep nn_mpi_dbuf;

#define NN_MPI_SUM_STACK 64   /* the trainer sums at most 8 values */

/* NN_SYNC_SUM: up to NN_MPI_SUM_STACK - 1 values and the fail count in
   one MPI_Allreduce from the stack; more values take a heap buffer, so
   the fail count (an allocation failure included) goes first on its
   own, lest the ranks' calls differ.  On a failure the lowest failing
   rank is found (MPI_MIN) and tells its status and message. */
static int nn_mpi_sum(double *values, size_t n, int status,
                      const char *text, MPI_Comm comm)
{
    static const char fn[] = "nn_mpi_trainer_attach: NN_SYNC_SUM";
    double stack[NN_MPI_SUM_STACK], *buf = stack, fail;
    size_t j, m = n + 1;
    if (status == NN_OK && values == NULL && n > 0)
        status = nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: values is NULL", fn);
    if (n + 1 > NN_MPI_SUM_STACK) {
        buf = nn_mpi_keep_grow(&nn_mpi_dbuf, n * sizeof(double));
        if (status == NN_OK && buf == NULL)
            status = nn_mpi_fail(NN_ERR_NOMEM, "%s: out of memory for %zu "
                                 "doubles", fn, n);
        fail = status != NN_OK ? 1.0 : 0.0;
        if (MPI_Allreduce(MPI_IN_PLACE, &fail, 1, MPI_DOUBLE, MPI_SUM,
                          comm) != MPI_SUCCESS)
            return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Allreduce failed", fn);
        if (fail > 0)
            return nn_mpi_agree_with(status, text ? text : nn_mpi_msg,
                                     comm);
        m = n;
    }
    for (j = 0; j < n; j++) buf[j] = status == NN_OK ? values[j] : 0.0;
    if (m > n) buf[n] = status != NN_OK ? 1.0 : 0.0;
    if (MPI_Allreduce(MPI_IN_PLACE, buf, (int)m, MPI_DOUBLE, MPI_SUM,
                      comm) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Allreduce failed", fn);
    if (m > n && buf[n] > 0)
        return nn_mpi_agree_with(status, text ? text : nn_mpi_msg, comm);
    for (j = 0; j < n; j++) values[j] = buf[j];
    return NN_OK;
}

static int nn_mpi_sync(void *user, int32_t op, nn_net *net, double *values,
                       size_t n, int32_t status, char *msg, size_t msg_size)
{
    MPI_Comm comm = MPI_Comm_f2c((MPI_Fint)(intptr_t)user);
    const char *text = status != NN_OK && msg != NULL ? msg : NULL;
    int st;
    if (status != NN_OK && text == NULL) text = "(no message)";
    if (op == NN_SYNC_GRADS) {
        size_t rows = 0;
        if (status == NN_OK && (values == NULL || n != 1 ||
                                !(values[0] >= 0) || values[0] > 9e15))
            status = nn_mpi_fail(NN_ERR_INVALID_ARG, "nn_mpi_trainer_attach:"
                                 " NN_SYNC_GRADS wants n = 1 and values[0] "
                                 "= rows >= 0");
        else if (status == NN_OK)
            rows = (size_t)values[0];
        st = nn_mpi_grads(net, rows, status, text, comm, values);
    } else if (op == NN_SYNC_SUM) {
        st = nn_mpi_sum(values, n, status, text, comm);
    } else {   /* the same op on every rank: the same failure */
        st = nn_mpi_fail(NN_ERR_INVALID_ARG, "nn_mpi_trainer_attach: op %d "
                         "is not NN_SYNC_SUM or NN_SYNC_GRADS", (int)op);
    }
    if (st != NN_OK && msg != NULL && msg_size > 0)
        snprintf(msg, msg_size, "%s", nn_mpi_msg);
    return st;
}

int nn_mpi_trainer_attach(nn_trainer *trainer, MPI_Comm comm)
{
    static const char fn[] = "nn_mpi_trainer_attach";
    int rank, size, st;
    if (trainer == NULL)
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: trainer is NULL", fn);
    if (comm == MPI_COMM_NULL)
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: comm is MPI_COMM_NULL",
                           fn);
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS ||
        MPI_Comm_size(comm, &size) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Comm_rank/size failed", fn);
    /* the handle as a Fortran integer: user needs no allocation */
    st = nn_trainer_set_sync(trainer, rank, size, nn_mpi_sync,
                             (void *)(intptr_t)MPI_Comm_c2f(comm));
    if (st != NN_OK)
        return nn_mpi_fail(st, "%s: %s", fn, nn_last_error());
    return NN_OK;
}

/*====== Checkpoints through root ======*/

/* root's file into a new buffer; *size_out its length */
static int nn_mpi_read_file(const char *path, unsigned char **out,
                            unsigned long long *size_out)
{
    static const char fn[] = "nn_mpi_checkpoint_load";
    unsigned char *buf = NULL;
    size_t cap = 0, len = 0, got;
    FILE *f;
    if (path == NULL || path[0] == '\0')
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: path is NULL or empty "
                           "on the root", fn);
    f = fopen(path, "rb");
    if (f == NULL)
        return nn_mpi_fail(NN_ERR_IO, "%s: cannot open '%s': %s", fn, path,
                           strerror(errno));
    for (;;) {
        if (len == cap) {
            size_t nc = cap ? cap * 2 : 65536;
            unsigned char *p = realloc(buf, nc);
            if (p == NULL) {
                free(buf);
                fclose(f);
                return nn_mpi_fail(NN_ERR_NOMEM, "%s: out of memory "
                                   "reading '%s'", fn, path);
            }
            buf = p;
            cap = nc;
        }
        got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return nn_mpi_fail(NN_ERR_IO, "%s: cannot read '%s': %s", fn, path,
                           strerror(e));
    }
    fclose(f);
    *out = buf;
    *size_out = len;
    return NN_OK;
}

int nn_mpi_checkpoint_load(nn_net **net_out, nn_optimizer **opt_out,
                           const char *path, int root, MPI_Comm comm)
{
    static const char fn[] = "nn_mpi_checkpoint_load";
    unsigned char *buf = NULL;
    unsigned long long size = 0, off;
    int rank, nranks, st = NN_OK, ours = 1;
    if (net_out != NULL) *net_out = NULL;
    if (opt_out != NULL) *opt_out = NULL;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS ||
        MPI_Comm_size(comm, &nranks) != MPI_SUCCESS)
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Comm_rank/size failed", fn);
    if (root < 0 || root >= nranks)   /* the same on every rank */
        return nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: root %d is outside "
                           "[0, %d)", fn, root, nranks);
    if (net_out == NULL || opt_out == NULL)
        st = nn_mpi_fail(NN_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                         net_out == NULL ? "net_out" : "opt_out");
    else if (rank == root)
        st = nn_mpi_read_file(path, &buf, &size);
    st = nn_mpi_agree_lib(st, 1, comm);
    if (st != NN_OK) return st;
    if (MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, root, comm) !=
        MPI_SUCCESS) {
        free(buf);
        return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Bcast failed", fn);
    }
    if (rank != root && (buf = malloc(size ? (size_t)size : 1)) == NULL)
        st = nn_mpi_fail(NN_ERR_NOMEM, "%s: out of memory for %llu bytes",
                         fn, size);
    st = nn_mpi_agree_lib(st, 1, comm);
    if (st != NN_OK) {
        free(buf);
        return st;
    }
    for (off = 0; off < size; off += (unsigned long long)INT_MAX) {
        unsigned long long m = size - off < (unsigned long long)INT_MAX
                                   ? size - off : (unsigned long long)INT_MAX;
        if (MPI_Bcast(buf + off, (int)m, MPI_BYTE, root, comm) !=
            MPI_SUCCESS) {
            free(buf);
            return nn_mpi_fail(NN_ERR_IO, "%s: MPI_Bcast failed", fn);
        }
    }
    st = nn_checkpoint_load_buffer(net_out, opt_out, buf, (size_t)size);
    free(buf);
    if (st != NN_OK) ours = 0;
    st = nn_mpi_agree_lib(st, ours, comm);
    if (st != NN_OK) {   /* another rank failed: undo ours */
        nn_optimizer_destroy(*opt_out);
        nn_net_destroy(*net_out);
        *opt_out = NULL;
        *net_out = NULL;
    }
    return st;
}
