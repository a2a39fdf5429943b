/*
 * fuzz_model_load.c - libFuzzer target for nn_net_load_buffer (the whole
 * model-file parser; nn_net_load reads the file and calls the same code).
 *
 * Property checked beyond "no crash, no leak, no sanitizer report": when a
 * load succeeds, nn_net_save_buffer of the loaded net must give back the
 * input bytes exactly (the encoding is canonical).  The fuzz build defines
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, which skips the CRC check so
 * mutated inputs reach the structural checks; the trailing CRC-32 (last 4
 * bytes) is then the one thing the round trip may not reproduce.
 * Every library block must be freed again (nn__alloc_live back to 0).
 */
#include "nnfs.h"
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nn_net *net = NULL;
    unsigned char *out;
    size_t need = 0, got = 0;
    int st;

    st = nn_net_load_buffer(&net, data, size);
    if (st != NN_OK) {
        if (net != NULL) abort();               /* out must stay NULL */
        if (st != NN_ERR_FORMAT && st != NN_ERR_NOMEM &&
            st != NN_ERR_INVALID_ARG)
            abort();
        if (nn__alloc_live() != 0) abort();     /* failed load kept memory */
        return 0;
    }
    if (nn_net_save_buffer(net, NULL, 0, &need) != NN_OK) abort();
    if (need != size) abort();                  /* not canonical */
    out = malloc(need ? need : 1);
    if (out == NULL) abort();
    if (nn_net_save_buffer(net, out, need, &got) != NN_OK || got != need)
        abort();
    if (size < 4 || memcmp(out, data, size - 4) != 0) abort();
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    if (memcmp(out + size - 4, data + size - 4, 4) != 0) abort();
#endif
    free(out);
    nn_net_destroy(net);
    if (nn__alloc_live() != 0) abort();
    return 0;
}
