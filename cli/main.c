/*
 * nnfs - command-line front end of libnnfs.
 *
 *   nnfs train [options]         train a network (default: the NNFS
 *                                course's 2-64-3 spiral classifier with
 *                                Adam) and report progress
 *   nnfs eval MODEL [options]    loss and accuracy of a saved model
 *   nnfs predict MODEL [FILE]    outputs for rows of numbers
 *   nnfs info MODEL              describe a saved model
 *   nnfs export MODEL OUT.onnx   write a saved model as ONNX
 *   nnfs import IN.onnx MODEL    read an ONNX model (e.g. from PyTorch)
 *   nnfs version                 library, BLAS and kernel set in use
 *
 * main.c: the command dispatch, the top-level usage and the error exits.
 * The options are one table in options.c (see cli.h for the files).
 *
 * Exit status: 0 success, 1 a library, I/O or data failure, 2 a usage
 * error (an unknown or ambiguous option, a bad number, an option the
 * command or the chosen data set does not use, an unexpected argument).
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *prog = "nnfs";

void usage_error(const char *fmt, ...)
{
    va_list ap;
    if (cli_rank != 0) exit(2);   /* every rank parsed the same line */
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    exit(2);
}

int lib_error(const char *what, int st)
{
    fprintf(stderr, "%s: %s failed: %s (%s)\n", prog, what, nn_last_error(),
            nn_strerror(st));
    return 1;
}

void *xmalloc(size_t n, size_t size)
{
    void *p = n != 0 && size > SIZE_MAX / n ? NULL : malloc(n * size + 1);
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    return p;
}

static void main_help(void)
{
    printf(
"Usage: %s COMMAND [options]\n"
"\n"
"Commands:\n"
"  train      train a network; with no options, the NNFS course's 2-64-3\n"
"             spiral classifier (see '%s train --help')\n"
"  eval       loss and accuracy of a saved model on a data set\n"
"  predict    a saved model's outputs for rows of numbers\n"
"  info       describe a saved model\n"
"  export     write a saved model as ONNX\n"
"  import     read an ONNX model into a libnnfs model file\n"
"  version    library version, BLAS, BLAS core and kernel set\n"
"\n"
"Run '%s COMMAND --help' for a command's options.  Options follow the\n"
"GNU conventions: --opt=value or --opt value, unambiguous abbreviations\n"
"of long options, '--' ends the options.\n",
           prog, prog, prog);
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"train", cmd_train},     {"eval", cmd_eval},
    {"predict", cmd_predict}, {"info", cmd_info},
    {"export", cmd_export},   {"import", cmd_import},
    {"version", cmd_version}, {"--version", cmd_version},
};

int main(int argc, char **argv)
{
    size_t i;
    cli_mpi_start(&argc, &argv);
    /* under mpirun, rank 0 speaks for all */
    if (cli_rank != 0 && freopen("/dev/null", "w", stdout) == NULL) return 1;
    if (argc < 2) {
        main_help();
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        if (argc > 2) usage_error("%s: unexpected argument '%s'", argv[1],
                                  argv[2]);
        main_help();
        return 0;
    }
    /* each command parses argv[1..]: its own name is its argv[0] */
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) {
            int rc;
            /* only train runs on several processes; the others once */
            if (cli_rank != 0 && strcmp(argv[1], "train") != 0) return 0;
            rc = commands[i].run(argc - 1, argv + 1);
            cli_mpi_end();
            return rc;
        }
    usage_error("unknown command '%s'", argv[1]);
}
