/*
 * cmd_onnx.c - nnfs export and nnfs import: a saved model to ONNX and
 * back.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

/* The two paths of export/import into p[0], p[1]; returns 1 for --help. */
static int two_paths(unsigned cmd, int argc, char **argv, const char *what,
                     char *p[2])
{
    struct cli_opts o;
    cli_defaults(&o);
    if (cli_parse(cmd, argc, argv, &o)) {
        free(o.args);
        return 1;
    }
    if (o.n_args != 2) usage_error("%s: expects %s", argv[0], what);
    p[0] = o.args[0];
    p[1] = o.args[1];
    free(o.args);
    return 0;
}

int cmd_export(int argc, char **argv)
{
    nn_net *net = NULL;
    char *p[2];
    int st;
    if (two_paths(C_EXPORT, argc, argv, "MODEL and OUT.onnx", p)) {
        printf("Usage: %s export MODEL OUT.onnx\n\n"
               "Write a model saved by '%s train -o MODEL' as an ONNX model "
               "(opset 13: one\nGemm and its activation per layer, input "
               "\"input\" [N, n_in], output\n\"output\" [N, n_out]) for ONNX "
               "Runtime and other ONNX tools.  The file is\nreplaced "
               "atomically.\n", prog, prog);
        return 0;
    }
    if (load_model(p[0], &net) != 0) return 1;
    st = nn_net_export_onnx(net, p[1]);
    nn_net_destroy(net);
    if (st != NN_OK) return lib_error("exporting to ONNX", st);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    nn_net *net = NULL;
    char *p[2];
    int st;
    if (two_paths(C_IMPORT, argc, argv, "IN.onnx and MODEL", p)) {
        printf("Usage: %s import IN.onnx MODEL\n\n"
               "Read an ONNX model of dense layers (written by '%s export' "
               "or by\ntorch.onnx.export for an nn.Sequential of nn.Linear "
               "and ReLU, Sigmoid,\nTanh, Softmax or Identity, optionally "
               "after an nn.Flatten) and save it\nas a libnnfs model for "
               "'%s predict', '%s eval' and the library.\n", prog, prog,
               prog, prog);
        return 0;
    }
    st = nn_net_import_onnx(&net, p[0]);
    if (st != NN_OK) return lib_error("importing the ONNX model", st);
    st = nn_net_save(net, p[1]);
    nn_net_destroy(net);
    if (st != NN_OK) return lib_error("saving the model", st);
    return 0;
}
