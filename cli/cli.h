/*
 * cli.h - internals shared by the files of the nnfs program (not
 * installed).
 *
 *   main.c       command dispatch, the top-level usage, errors
 *   options.c    THE table of options, the getopt_long parser built from
 *                it, value parsers, the generated option help
 *   data.c       the data sets (toy sets, IDX pairs) train and eval use
 *   cmd_train.c  nnfs train
 *   cmd_eval.c   nnfs eval, predict, info
 *   cmd_onnx.c   nnfs export, import
 *   cmd_misc.c   nnfs version
 *
 * Exit status: 0 success, 1 a library, I/O or data failure, 2 a usage
 * error (usage_error() exits with it).
 */
#ifndef NNFS_CLI_H
#define NNFS_CLI_H

#include "nnfs.h"

#include <stddef.h>
#include <stdint.h>

#define MAX_HIDDEN 64

extern const char *prog;

/* The commands, as bits: which commands accept an option. */
enum {
    C_TRAIN = 1, C_EVAL = 2, C_PREDICT = 4, C_INFO = 8, C_EXPORT = 16,
    C_IMPORT = 32, C_VERSION = 64, C_ALL = 127
};

/*---------------------------------------------------------- main.c --*/

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
void usage_error(const char *fmt, ...);
int lib_error(const char *what, int st);
void *xmalloc(size_t n, size_t size);

/*------------------------------------------------------- options.c --*/

enum { DATA_SPIRAL, DATA_VERTICAL, DATA_SINE, DATA_IDX };

/* The data options (train and eval). */
struct data_opts {
    int kind;
    size_t samples, classes, limit;
    unsigned long long seed;
    const char *images, *labels, *test_images, *test_labels;
    int scale;
    int binary;   /* BCE on 2 classes: one sigmoid output, 0/1 targets */
};

/* Everything the command line can set; each option of the table in
   options.c stores into one field here. */
struct cli_opts {
    struct data_opts data;
    size_t hidden[MAX_HIDDEN];
    int32_t hidden_act[MAX_HIDDEN];
    size_t n_hidden;     /* (size_t)-1: default for the data set */
    int out_act, loss, optimizer, init;
    double gain;
    double lr, decay, momentum, epsilon, rho, beta1, beta2;
    double l1, l2, dropout, val_split;
    size_t epochs, batch, every, checkpoint_every;
    int shuffle, threads, quiet, bar, parallel;  /* parallel: NN_PARALLEL_* */
    int class_only;      /* predict --class */
    const char *output, *checkpoint, *resume;
    const char *net_opt; /* the last network/optimizer option given */
    uint64_t given;      /* bit i: row i of the table was given */
    int n_args;          /* the positional arguments, in order */
    char **args;
};

/* Defaults of every field (those that depend on the data set are
   filled in by the command after parsing). */
void cli_defaults(struct cli_opts *o);

/* Parse argv[1..argc-1] (argv[0] is the command's name) for the command
   bit `cmd` with getopt_long: --opt=value and --opt value, unambiguous
   abbreviations, the short options, options mixed with positional
   arguments, "--" ends the options.  Positional arguments go to o->args
   (o->args is allocated; free it).  Returns 1 if -h/--help was given (the
   rest is then not parsed), 0 otherwise; usage errors exit 2. */
int cli_parse(unsigned cmd, int argc, char **argv, struct cli_opts *o);

/* Whether the option with this long name was on the command line. */
int cli_given(const struct cli_opts *o, const char *name);

/* Print the options of command `cmd`, grouped by their sections, from the
   table's help texts. */
void cli_print_options(unsigned cmd);

const char *data_name(int32_t kind);

/*---------------------------------------------------------- data.c --*/

/* A data set in memory: x rows, and labels (classification) or targets. */
struct dataset {
    float *x, *t;
    int32_t *y;
    size_t n, n_in, n_out;   /* n_out: classes, or target width */
    int x_idx;               /* x is from nn_idx_load: nn_idx_free it */
    int sharded;             /* only this rank's rows were loaded (MPI) */
    size_t n_all;            /* then: the rows of all ranks */
};

void dataset_free(struct dataset *d);
int make_data(const struct data_opts *o, unsigned long long seed, int test,
              struct dataset *d);
void data_finish(struct cli_opts *o, int eval);

/*------------------------------------------------------ the commands --*/

/*------------------------------------------- MPI (mpi.c; see its top) --*/

extern int cli_rank, cli_size;   /* 0 and 1 unless nnfs-mpi under mpirun */
extern int cli_shard_on_load;    /* IDX images: load this rank's part only */
/* nnfs: under a launcher with several processes, exec nnfs-mpi (exits 2
   if there is none); nnfs-mpi: MPI_Init. */
void cli_mpi_start(int *argc, char ***argv);
void cli_mpi_end(void);
int cli_mpi_agree(int rc);           /* the largest rc of all ranks */
void cli_mpi_shard(struct dataset *d);   /* keep this rank's rows */
int cli_mpi_attach(nn_trainer *tr, nn_net *net);
int cli_mpi_checkpoint_load(const char *path, nn_net **net,
                            nn_optimizer **opt);
int cli_mpi_mean(double *values, size_t n, size_t rows);
/* threads a rank uses when --threads is not given: the online CPUs over
   the ranks on this machine (at least 1) */
int cli_mpi_threads(void);
/* rank 0's v on every rank (a choice that depends on the terminal) */
int cli_mpi_bcast_int(int v);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_version(int argc, char **argv);
int load_model(const char *path, nn_net **net);

#endif
