/*
 * fuzz_onnx_import.c - libFuzzer target for nn_net_import_onnx_buffer (the
 * protobuf-c decoder under its memory budget, and every check after it;
 * nn_net_import_onnx reads the file and calls the same code).
 *
 * Properties beyond "no crash, no leak, no sanitizer report":
 *   - a refused import leaves *out NULL, returns one of the documented
 *     statuses with a message, and keeps no library block;
 *   - an accepted model exported again (nn_net_export_onnx_buffer) and
 *     imported again gives a net with the same shape and bit-identical
 *     parameters (libnnfs -> ONNX -> libnnfs is exact).
 */
#include "nnfs.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same(const nn_net *a, const nn_net *b)
{
    size_t i;
    if (a->n_layers != b->n_layers || a->n_params != b->n_params) abort();
    for (i = 0; i < a->n_layers; i++)
        if (a->layers[i].n_in != b->layers[i].n_in ||
            a->layers[i].n_out != b->layers[i].n_out ||
            a->layers[i].act != b->layers[i].act)
            abort();
    if (memcmp(a->params, b->params, a->n_params * sizeof(float)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_net *net = NULL, *again = NULL;
    unsigned char *out;
    size_t need = 0, got = 0;
    int st;

    st = nn_net_import_onnx_buffer(&net, data, size);
    if (st != NN_OK) {
        if (net != NULL) abort();               /* out must stay NULL */
        if (st != NN_ERR_FORMAT && st != NN_ERR_UNSUPPORTED &&
            st != NN_ERR_SHAPE && st != NN_ERR_NOMEM)
            abort();
        if (nn_last_error()[0] == '\0') abort();
        if (nn__alloc_live() != 0) abort();     /* failed import kept memory */
        return 0;
    }
    if (nn_net_export_onnx_buffer(net, NULL, 0, &need) != NN_OK) abort();
    out = malloc(need ? need : 1);
    if (out == NULL) abort();
    if (nn_net_export_onnx_buffer(net, out, need, &got) != NN_OK ||
        got != need)
        abort();
    if (nn_net_import_onnx_buffer(&again, out, got) != NN_OK) abort();
    same(net, again);
    free(out);
    nn_net_destroy(again);
    nn_net_destroy(net);
    if (nn__alloc_live() != 0) abort();
    return 0;
}
