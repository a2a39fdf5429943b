/*
 * mpi.c - nnfs train under an MPI launcher (mpirun -np N nnfs train ...).
 *
 * The program is built twice from the same files: `nnfs`, which links
 * only libnnfs, and `nnfs-mpi` (NNFS_CLI_MPI defined), which also links
 * libnnfs_mpi.  `nnfs` started by a launcher with more than one process
 * replaces itself with the nnfs-mpi beside it (or on PATH) before it
 * does anything else, so `mpirun -np 2 nnfs train ...` is one
 * data-parallel fit on 2 processes (nn_mpi_trainer_attach): each rank
 * keeps its shard of the rows, rank 0 prints and writes the files, and a
 * failure on any rank stops all of them with the failing rank's message.
 * Without MPI every function here is the one-process case.
 */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_rank = 0, cli_size = 1, cli_shard_on_load = 0;

/* One process reads the checkpoint itself. */
static int checkpoint_load_here(const char *path, nn_net **net,
                                nn_optimizer **opt)
{
    int st = nn_checkpoint_load(net, opt, path);
    return st != NN_OK ? lib_error("loading the checkpoint", st) : 0;
}

#ifndef NNFS_CLI_MPI

/* The process count an MPI launcher gave this process: Open MPI,
   MPICH / Hydra, PMIx, Slurm; 1 when none did. */
static long launcher_size(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE",
                                       "PMIX_SIZE", "MPI_LOCALNRANKS"};
    size_t i;
    for (i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && atol(v) > 0) return atol(v);
    }
    return 1;
}


void cli_mpi_start(int *argc, char ***argv)
{
    static char self[4096], path[4096 + 16];
    long n = launcher_size();
    (void)argc;
    ssize_t len;
    char *slash;
    if (n <= 1) return;
    /* nnfs-mpi beside this program, else on PATH */
    len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len > 0) {
        self[len] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            slash[1] = '\0';
            snprintf(path, sizeof path, "%snnfs-mpi", self);
            (*argv)[0] = path;
            execv(path, *argv);
        }
    }
    (*argv)[0] = (char *)"nnfs-mpi";
    execvp("nnfs-mpi", *argv);
    fprintf(stderr, "%s: started by an MPI launcher with %ld processes, but "
            "nnfs-mpi (this program built with MPI) is neither beside it "
            "(%snnfs-mpi) nor on PATH (%s).  Install Open MPI (apt-get "
            "install openmpi-bin libopenmpi-dev) and rebuild libnnfs: "
            "CMake builds nnfs-mpi when it finds MPI.\n", prog, n,
            len > 0 ? self : "", strerror(errno));
    exit(2);
}

void cli_mpi_end(void) {}
int cli_mpi_agree(int rc) { return rc; }
void cli_mpi_shard(struct dataset *d) { (void)d; }
int cli_mpi_attach(nn_trainer *tr, nn_net *net) { (void)tr; (void)net; return 0; }
int cli_mpi_checkpoint_load(const char *path, nn_net **net,
                            nn_optimizer **opt)
{
    return checkpoint_load_here(path, net, opt);
}
int cli_mpi_mean(double *values, size_t n, size_t rows)
{
    (void)values; (void)n; (void)rows;
    return 0;
}
int cli_mpi_threads(void) { return 0; }
int cli_mpi_bcast_int(int v) { return v; }

#else /* NNFS_CLI_MPI */

#include "nnfs_mpi.h"

static int mpi_up;

static void finalize(void)
{
    int done = 0;
    if (mpi_up && MPI_Finalized(&done) == MPI_SUCCESS && !done)
        MPI_Finalize();
}

void cli_mpi_start(int *argc, char ***argv)
{
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "%s: MPI_Init failed\n", prog);
        exit(1);
    }
    mpi_up = 1;
    atexit(finalize);
    MPI_Comm_rank(MPI_COMM_WORLD, &cli_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &cli_size);
}

void cli_mpi_end(void)
{
    finalize();
}

int cli_mpi_bcast_int(int v)
{
    if (cli_size > 1) MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v;
}

int cli_mpi_threads(void)
{
    MPI_Comm node;
    int local = 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0,
                            MPI_INFO_NULL, &node) == MPI_SUCCESS) {
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
    }
    return cpus / local >= 1 ? (int)(cpus / local) : 1;
}

/* The largest exit status of all ranks (each prints its own reason;
   the others say which rank failed). */
int cli_mpi_agree(int rc)
{
    int all = rc, mine = rc ? cli_rank : cli_size, first = cli_size;
    if (cli_size == 1) return rc;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (all != 0 && rc == 0 && cli_rank == 0)
        fprintf(stderr, "%s: stopped: rank %d failed (its message is "
                "above)\n", prog, first);
    return all;
}

/* Keep this rank's rows of d (nn_mpi_shard): moved to the front of the
   arrays, which keep their size. */
void cli_mpi_shard(struct dataset *d)
{
    size_t begin = 0, count = d->n;
    if (cli_size == 1 || d->n == 0 || d->sharded) return;
    nn_mpi_shard(d->n, cli_rank, cli_size, &begin, &count);
    memmove(d->x, d->x + begin * d->n_in, count * d->n_in * sizeof(float));
    if (d->t != NULL)
        memmove(d->t, d->t + begin * d->n_out,
                count * d->n_out * sizeof(float));
    if (d->y != NULL)
        memmove(d->y, d->y + begin, count * sizeof(int32_t));
    d->n = count;
}

/* Rank 0's parameters on every rank, and the trainer made this rank's
   replica of the fit. */
int cli_mpi_attach(nn_trainer *tr, nn_net *net)
{
    int st;
    if (cli_size == 1) return 0;
    st = nn_mpi_broadcast_net(net, 0, MPI_COMM_WORLD);
    if (st == NN_OK) st = nn_mpi_trainer_attach(tr, MPI_COMM_WORLD);
    if (st != NN_OK) {
        fprintf(stderr, "%s: rank %d: setting up the data-parallel fit "
                "failed: %s (%s)\n", prog, cli_rank, nn_mpi_last_error(),
                nn_strerror(st));
        return 1;
    }
    return 0;
}

/* Rank 0 reads the checkpoint and sends it to all (the optimizer state
   too; no shared file system needed). */
int cli_mpi_checkpoint_load(const char *path, nn_net **net,
                            nn_optimizer **opt)
{
    int st;
    if (cli_size == 1) return checkpoint_load_here(path, net, opt);
    st = nn_mpi_checkpoint_load(net, opt, path, 0, MPI_COMM_WORLD);
    if (st != NN_OK) {
        if (cli_rank == 0)
            fprintf(stderr, "%s: loading the checkpoint failed: %s (%s)\n",
                    prog, nn_mpi_last_error(), nn_strerror(st));
        return 1;
    }
    return 0;
}

/* values[0..n): this rank's means over rows rows -> all ranks' means */
int cli_mpi_mean(double *values, size_t n, size_t rows)
{
    if (cli_size == 1) return 0;
    return nn_mpi_mean(values, n, rows, MPI_COMM_WORLD) != NN_OK;
}

#endif
