/*
 * test_onnx.c - ONNX export and import (src/onnx/).  The independent
 * checks (onnx.checker, ONNX Runtime, PyTorch) are the scripted tests
 * (tests/python/test_onnx_*.py, bindings/node/test/); here: the round trip
 * is bit-exact, the buffer conventions, and hostile bytes (every
 * truncation, seeded corruption, edited operators, allocation failures)
 * give a status and a message, never a crash or a leak.
 */
#include "nntest.h"
#include "alloc_hook.h"
#include "internal.h"

#include <stdlib.h>

/* 1 if this build has ONNX; otherwise checks the stub's message. */
static int onnx_built(void)
{
    size_t n = 0;
    nn_net *net = NULL;
    size_t sizes[2] = {2, 2};
    int32_t acts[1] = {NN_ACT_LINEAR};
    int st;
    NNT_OK(nn_net_create(&net, 1, sizes, acts, 1));
    st = nn_net_export_onnx_buffer(net, NULL, 0, &n);
    nn_net_destroy(net);
    if (st == NN_OK) return 1;
    NNT_EQ_INT(st, NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("libprotobuf-c-dev");
    printf("  (built without ONNX: the stub's message checked)\n");
    return 0;
}

static unsigned char *export_bytes(const nn_net *net, size_t *size)
{
    unsigned char *buf;
    NNT_OK(nn_net_export_onnx_buffer(net, NULL, 0, size));
    buf = malloc(*size);
    NNT_TRUE(buf != NULL);
    NNT_OK(nn_net_export_onnx_buffer(net, buf, *size, size));
    return buf;
}

static void same_params(const nn_net *a, const nn_net *b)
{
    size_t L = nn_net_num_layers(a), i, k;
    NNT_EQ_SIZE(nn_net_num_layers(b), L);
    for (i = 0; i < L; i++) {
        const struct nn__layer *x = &a->layers[i], *y = &b->layers[i];
        NNT_EQ_SIZE(y->n_in, x->n_in);
        NNT_EQ_SIZE(y->n_out, x->n_out);
        NNT_EQ_INT(y->act, x->act);
        for (k = 0; k < x->n_in * x->n_out; k++)
            if (nn__f32_bits(x->w[k]) != nn__f32_bits(y->w[k]))
                NNT_EQ_U64(nn__f32_bits(y->w[k]), nn__f32_bits(x->w[k]));
        for (k = 0; k < x->n_out; k++)
            NNT_EQ_U64(nn__f32_bits(y->b[k]), nn__f32_bits(x->b[k]));
    }
}

/* nets of every activation at every depth 1..3, hidden widths 7 and 5 */
static nn_net *make_net(int32_t act, size_t depth, uint64_t seed)
{
    size_t sizes[4] = {6, 7, 5, 4};
    int32_t acts[3];
    size_t i;
    nn_net *net = NULL;
    for (i = 0; i < depth; i++) acts[i] = act;
    sizes[depth] = 4;
    NNT_OK(nn_net_create(&net, depth, sizes, acts, seed));
    /* nonzero biases, so a lost bias would show */
    for (i = 0; i < depth; i++) {
        struct nn__layer *l = &net->layers[i];
        size_t k;
        for (k = 0; k < l->n_out; k++)
            l->b[k] = 0.01f * (float)(k + 1) - 0.03f;
    }
    nn__net_refresh_pmax(net);
    return net;
}

NN_TEST(onnx_round_trip_bit_identical)
{
    int32_t act;
    size_t depth;
    if (!onnx_built()) return;
    for (act = NN_ACT_LINEAR; act <= NN_ACT_SOFTMAX; act++)
        for (depth = 1; depth <= 3; depth++) {
            nn_net *net = make_net(act, depth, nnt_seed() + (uint64_t)act),
                   *back = NULL;
            size_t size;
            unsigned char *buf = export_bytes(net, &size);
            NNT_OK(nn_net_import_onnx_buffer(&back, buf, size));
            same_params(net, back);
            nn_net_destroy(back);
            nn_net_destroy(net);
            free(buf);
        }
}

NN_TEST(onnx_file_matches_buffer)
{
    char path[512];
    nn_net *net, *back = NULL;
    unsigned char *buf, *file;
    size_t size, fsize;
    FILE *f;
    if (!onnx_built()) return;
    net = make_net(NN_ACT_TANH, 2, nnt_seed());
    buf = export_bytes(net, &size);
    snprintf(path, sizeof path, "%s/m.onnx", nnt_tmpdir());
    NNT_OK(nn_net_export_onnx(net, path));
    f = fopen(path, "rb");
    NNT_TRUE(f != NULL);
    file = malloc(size + 16);
    fsize = fread(file, 1, size + 16, f);
    fclose(f);
    NNT_EQ_SIZE(fsize, size);
    NNT_TRUE(memcmp(file, buf, size) == 0);
    NNT_OK(nn_net_import_onnx(&back, path));
    same_params(net, back);
    nn_net_destroy(back);
    /* a file that is not there: the path and errno text */
    snprintf(path, sizeof path, "%s/missing.onnx", nnt_tmpdir());
    back = (nn_net *)1;
    NNT_STATUS(nn_net_import_onnx(&back, path), NN_ERR_IO);
    NNT_TRUE(back == NULL);
    NNT_MSG_HAS("missing.onnx");
    NNT_STATUS(nn_net_export_onnx(net, ""), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_export_onnx(NULL, path), NN_ERR_INVALID_ARG);
    free(file);
    free(buf);
    nn_net_destroy(net);
}

NN_TEST(onnx_export_buffer_conventions)
{
    nn_net *net;
    unsigned char *buf;
    size_t size = 0, got = 0;
    if (!onnx_built()) return;
    net = make_net(NN_ACT_RELU, 2, nnt_seed());
    NNT_OK(nn_net_export_onnx_buffer(net, NULL, 0, &size));
    NNT_TRUE(size > 4 * nn_net_num_params(net));
    buf = malloc(size);
    memset(buf, 0xab, size);
    /* too small: NN_ERR_SHAPE, nothing written, size still reported */
    NNT_STATUS(nn_net_export_onnx_buffer(net, buf, size - 1, &got),
               NN_ERR_SHAPE);
    NNT_EQ_SIZE(got, size);
    NNT_TRUE(buf[0] == 0xab && buf[size - 2] == 0xab);
    NNT_STATUS(nn_net_export_onnx_buffer(net, buf, size, NULL),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_export_onnx_buffer(NULL, buf, size, &got),
               NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_net_import_onnx_buffer(NULL, buf, size),
               NN_ERR_INVALID_ARG);
    free(buf);
    nn_net_destroy(net);
}

/* Every prefix of a model: refused with FORMAT or UNSUPPORTED (a cut at a
   field boundary is well-formed protobuf missing parts), *out NULL, no
   library block left. */
NN_TEST(onnx_import_every_truncation_refused)
{
    nn_net *net, *back;
    unsigned char *buf;
    size_t size, cut;
    long live;
    if (!onnx_built()) return;
    net = make_net(NN_ACT_SOFTMAX, 2, nnt_seed());
    buf = export_bytes(net, &size);
    /* protobuf-c writes fields in number order, the metadata entry
       (ModelProto field 14: 72 0b 0a 04 "loss" 12 03 "cce") last: the
       one prefix that is a complete model stops right before it */
    NNT_TRUE(size > 13 && memcmp(buf + size - 13, "\x72\x0b\x0a\x04loss",
                                 8) == 0);
    live = nn__alloc_live();
    for (cut = 0; cut < size; cut++) {
        int st;
        back = (nn_net *)1;
        st = nn_net_import_onnx_buffer(&back, buf, cut);
        if (cut == size - 13) {
            NNT_OK(st);
            same_params(net, back);
            nn_net_destroy(back);
            continue;
        }
        if (st != NN_ERR_FORMAT && st != NN_ERR_UNSUPPORTED)
            NNT_EQ_INT(st, NN_ERR_FORMAT);
        if (back != NULL) NNT_TRUE(back == NULL);
        if (nn__alloc_live() != live) NNT_EQ_INT(nn__alloc_live(), live);
    }
    NNT_STATUS(nn_net_import_onnx_buffer(&back, buf, 0), NN_ERR_FORMAT);
    NNT_MSG_HAS("ir_version");
    NNT_STATUS(nn_net_import_onnx_buffer(&back, buf, size / 2),
               NN_ERR_FORMAT);
    NNT_MSG_HAS("not a protobuf ModelProto");
    free(buf);
    nn_net_destroy(net);
}

/* Seeded corruption: one to four random bytes changed.  Whatever the
   result, no crash (the sanitizer tiers run this too), no leak, and a
   success is a net whose shape the ONNX bytes could describe. */
NN_TEST(onnx_import_corrupted_bytes)
{
    nn_net *net, *back;
    unsigned char *buf, *bad;
    size_t size, i;
    struct nn__rng r;
    long live;
    int ok = 0, refused = 0;
    if (!onnx_built()) return;
    nn__rng_seed(&r, nnt_seed());
    net = make_net(NN_ACT_SIGMOID, 3, nnt_seed());
    buf = export_bytes(net, &size);
    bad = malloc(size);
    live = nn__alloc_live();
    for (i = 0; i < 4000; i++) {
        size_t k, n = 1 + (size_t)nn__rng_below(&r, 4);
        int st;
        memcpy(bad, buf, size);
        for (k = 0; k < n; k++)
            bad[nn__rng_below(&r, size)] = (unsigned char)nn__rng_next(&r);
        back = NULL;
        st = nn_net_import_onnx_buffer(&back, bad, size);
        if (st == NN_OK) {
            ok++;
            NNT_TRUE(back != NULL && nn_net_num_layers(back) >= 1);
            nn_net_destroy(back);
        } else {
            refused++;
            if (back != NULL) NNT_TRUE(back == NULL);
            if (nn_last_error()[0] == '\0') NNT_TRUE(0);
            if (st != NN_ERR_FORMAT && st != NN_ERR_UNSUPPORTED &&
                st != NN_ERR_SHAPE && st != NN_ERR_INVALID_ARG)
                NNT_EQ_INT(st, NN_ERR_FORMAT);
        }
        if (nn__alloc_live() != live) NNT_EQ_INT(nn__alloc_live(), live);
    }
    printf("  4000 corrupted models: %d imported, %d refused\n", ok,
           refused);
    NNT_TRUE(refused > 0);
    free(bad);
    free(buf);
    nn_net_destroy(net);
}

/* Replace the first occurrence of text `from` with `to` (same length). */
static void edit(unsigned char *buf, size_t size, const char *from,
                 const char *to)
{
    size_t n = strlen(from), i;
    NNT_EQ_SIZE(strlen(to), n);
    for (i = 0; i + n <= size; i++)
        if (memcmp(buf + i, from, n) == 0) {
            memcpy(buf + i, to, n);
            return;
        }
    NNT_TRUE(!"text to edit not found");
}

NN_TEST(onnx_import_unsupported_named)
{
    nn_net *net, *back = NULL;
    unsigned char *buf, *bad;
    size_t size;
    if (!onnx_built()) return;
    net = make_net(NN_ACT_RELU, 2, nnt_seed());
    buf = export_bytes(net, &size);
    bad = malloc(size);

    /* an operator libnnfs has no layer for */
    memcpy(bad, buf, size);
    /* op_type is NodeProto field 4: tag 0x22, length 4 */
    edit(bad, size, "\x22\x04Relu", "\x22\x04Selu");
    NNT_STATUS(nn_net_import_onnx_buffer(&back, bad, size),
               NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("node 'layer0.Relu' (op Selu): operator not supported");
    NNT_TRUE(back == NULL);

    /* a node off the chain: layer1's Gemm reads the input, not layer0 */
    memcpy(bad, buf, size);
    edit(bad, size, "layer0.a", "layer0.q");
    NNT_STATUS(nn_net_import_onnx_buffer(&back, bad, size),
               NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("node 'layer1.gemm' (op Gemm): does not read 'layer0.q'");

    /* a weight that is not an initializer */
    memcpy(bad, buf, size);
    edit(bad, size, "layer1.weight", "layer1.wXight");
    NNT_STATUS(nn_net_import_onnx_buffer(&back, bad, size),
               NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("input 1 'layer1.wXight' is not an initializer");

    /* another opset */
    memcpy(bad, buf, size);
    {
        /* opset_import { domain "" version 13 }: 42 04 0a 00 10 0d */
        static const unsigned char op13[] = {0x0a, 0x00, 0x10, 0x0d};
        size_t i;
        for (i = 0; i + 4 <= size; i++)
            if (memcmp(bad + i, op13, 4) == 0) { bad[i + 3] = 0x63; break; }
        NNT_TRUE(i + 4 <= size);
    }
    NNT_STATUS(nn_net_import_onnx_buffer(&back, bad, size),
               NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("opset 99");
    free(bad);
    free(buf);
    nn_net_destroy(net);

    /* a softmax axis other than the rows' */
    net = make_net(NN_ACT_SOFTMAX, 1, nnt_seed());
    buf = export_bytes(net, &size);
    {
        /* AttributeProto axis: 0a 04 "axis" 18 (i, varint -1) */
        static const unsigned char axis[] = {'a', 'x', 'i', 's', 0x18, 0xff};
        size_t i;
        for (i = 0; i + 6 <= size; i++)
            if (memcmp(buf + i, axis, 6) == 0) break;
        NNT_TRUE(i + 6 <= size);
        /* -1 is ten varint bytes ff..ff 01; make it 0: 80..80 00 */
        {
            size_t k;
            for (k = 0; k < 9; k++) buf[i + 5 + k] = 0x80;
            buf[i + 14] = 0x00;
        }
    }
    NNT_STATUS(nn_net_import_onnx_buffer(&back, buf, size),
               NN_ERR_UNSUPPORTED);
    NNT_MSG_HAS("node 'layer0.Softmax' (op Softmax): attribute 'axis' must "
                "be 1 or -1");
    free(buf);
    nn_net_destroy(net);
}

/* Each allocation of an import failing in turn: NN_ERR_NOMEM (or the
   decoder's refusal), nothing leaked, then success. */
NN_TEST(onnx_import_allocation_failures)
{
    nn_net *net, *back;
    unsigned char *buf;
    size_t size;
    long k;
    if (!onnx_built()) return;
    net = make_net(NN_ACT_TANH, 3, nnt_seed());
    buf = export_bytes(net, &size);
    nn_net_destroy(net);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    for (k = 1;; k++) {
        int st;
        h_arm(k, 0);
        back = NULL;
        st = nn_net_import_onnx_buffer(&back, buf, size);
        if (h_failed == 0) {
            NNT_OK(st);
            nn_net_destroy(back);
            break;
        }
        NNT_EQ_INT(st, NN_ERR_NOMEM);
        NNT_TRUE(back == NULL);
        NNT_EQ_INT(h_live, 0);
    }
    h_disarm();
    printf("  %ld allocations, each failed once\n", k - 1);
    NNT_TRUE(k > 10);
    /* export too */
    net = make_net(NN_ACT_TANH, 2, nnt_seed());
    h_arm(h_live + 0, 0);
    {
        size_t n;
        long before;
        h_arm(1, 0);
        before = h_live;
        NNT_STATUS(nn_net_export_onnx_buffer(net, NULL, 0, &n),
                   NN_ERR_NOMEM);
        NNT_EQ_INT(h_live, before);
    }
    h_disarm();
    nn_net_destroy(net);
    NNT_EQ_INT(h_live, 0);
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    free(buf);
}
