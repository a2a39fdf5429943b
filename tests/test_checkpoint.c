/*
 * test_checkpoint.c - optimizer state saved with the model (the "OPTM"
 * section, docs/FORMAT.md): a run stopped, checkpointed to a file and to
 * memory, loaded and continued must end bit-identical to the run that
 * never stopped, for every optimizer kind (dropout on, so the generator
 * state must travel too); damaged optimizer sections are refused.
 *
 * The reference is the uninterrupted run of the same program, which does
 * not touch the checkpoint code; the byte layout is checked against the
 * specification with this file's own little-endian reader.
 */
#include "nntest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_S = 40, T_C = 3, T_N = T_S * T_C, T_STEPS = 24, T_STOP = 9 };

static float t_x[T_N * 2];
static int32_t t_y[T_N];

static nn_net *t_net(void)
{
    size_t sizes[4] = {2, 16, 8, 3};
    int32_t acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};
    nn_net *net = NULL;
    if (nn_net_create(&net, 3, sizes, acts, 7) != NN_OK) return NULL;
    if (nn_net_set_layer_option(net, 0, NN_LAYER_DROPOUT, 0.1) != NN_OK ||
        nn_net_set_layer_option(net, 0, NN_LAYER_L2_WEIGHTS, 5e-4) != NN_OK) {
        nn_net_destroy(net);
        return NULL;
    }
    return net;
}

static nn_optimizer *t_opt(nn_net *net, int32_t kind)
{
    nn_optimizer *opt = NULL;
    if (nn_optimizer_create(&opt, net, kind) != NN_OK) return NULL;
    nn_optimizer_set(opt, NN_OPT_LEARNING_RATE,
                     kind == NN_OPT_SGD || kind == NN_OPT_ADAGRAD ? 0.5
                                                                 : 0.02);
    nn_optimizer_set(opt, NN_OPT_DECAY, 1e-3);
    if (kind == NN_OPT_SGD) nn_optimizer_set(opt, NN_OPT_MOMENTUM, 0.9);
    if (kind == NN_OPT_RMSPROP) nn_optimizer_set(opt, NN_OPT_RHO, 0.95);
    if (kind == NN_OPT_ADAM) nn_optimizer_set(opt, NN_OPT_BETA1, 0.8);
    return opt;
}

static int t_steps(nn_net *net, nn_optimizer *opt, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (nn_forward(net, t_x, T_N, NULL) != NN_OK) return 0;
        if (nn_backward_labels(net, t_y, NULL) != NN_OK) return 0;
        if (nn_optimizer_step(opt) != NN_OK) return 0;
    }
    return 1;
}

/* All parameters of net, concatenated. */
static float *t_params(const nn_net *net)
{
    size_t n = nn_net_num_params(net), off = 0, l;
    float *p = malloc(n * sizeof *p);
    for (l = 0; p && l < nn_net_num_layers(net); l++) {
        size_t ni = nn_net_layer_inputs(net, l), no = nn_net_layer_outputs(net, l);
        nn_net_get_params(net, l, p + off, p + off + ni * no);
        off += ni * no + no;
    }
    return p;
}

static const char *t_kind_name(int32_t k)
{
    static const char *const names[] = {"sgd", "adagrad", "rmsprop", "adam"};
    return names[k];
}

NN_TEST(checkpoint_resume_is_exact)
{
    int32_t kind;
    NNT_OK(nn_data_spiral(t_x, t_y, T_S, T_C, 3));
    for (kind = NN_OPT_SGD; kind <= NN_OPT_ADAM; kind++) {
        nn_net *a = t_net(), *b = t_net(), *c = NULL, *d = NULL;
        nn_optimizer *oa = NULL, *ob = NULL, *oc = NULL, *od = NULL;
        float *pa, *pc, *pd;
        size_t n, size = 0;
        unsigned char *img;
        char path[512];
        double va, vc;
        int32_t s;

        NNT_TRUE(a != NULL && b != NULL);
        oa = t_opt(a, kind);
        ob = t_opt(b, kind);
        NNT_TRUE(oa != NULL && ob != NULL);
        /* the reference: never stopped */
        NNT_TRUE(t_steps(a, oa, T_STEPS));
        /* stopped after T_STOP steps, saved to a file and to memory */
        NNT_TRUE(t_steps(b, ob, T_STOP));
        snprintf(path, sizeof path, "%s/ck-%s.nnfs", nnt_tmpdir(),
                 t_kind_name(kind));
        NNT_OK(nn_checkpoint_save(b, ob, path));
        NNT_OK(nn_checkpoint_save_buffer(b, ob, NULL, 0, &size));
        img = malloc(size);
        NNT_TRUE(img != NULL);
        NNT_OK(nn_checkpoint_save_buffer(b, ob, img, size, &size));
        nn_optimizer_destroy(ob);
        nn_net_destroy(b);

        NNT_OK(nn_checkpoint_load(&c, &oc, path));
        NNT_TRUE(oc != NULL);
        NNT_EQ_INT(nn_optimizer_kind(oc), kind);
        NNT_OK(nn_checkpoint_load_buffer(&d, &od, img, size));
        NNT_TRUE(od != NULL);
        NNT_TRUE(t_steps(c, oc, T_STEPS - T_STOP));
        NNT_TRUE(t_steps(d, od, T_STEPS - T_STOP));

        n = nn_net_num_params(a);
        pa = t_params(a);
        pc = t_params(c);
        pd = t_params(d);
        NNT_TRUE(pa && pc && pd);
        NNT_TRUE(memcmp(pa, pc, n * sizeof *pa) == 0);
        NNT_TRUE(memcmp(pa, pd, n * sizeof *pa) == 0);
        for (s = NN_OPT_LEARNING_RATE; s <= NN_OPT_CURRENT_LEARNING_RATE;
             s++) {
            if (nn_optimizer_get(oa, s, &va) != NN_OK) continue;
            NNT_OK(nn_optimizer_get(oc, s, &vc));
            NNT_TRUE(va == vc);
        }
        NNT_OK(nn_optimizer_get(oc, NN_OPT_ITERATIONS, &vc));
        NNT_TRUE(vc == (double)T_STEPS);

        /* and the file is not the same as a plain model: losing the state
           would change the continuation (guards against a vacuous pass) */
        {
            nn_net *e = NULL;
            nn_optimizer *oe;
            float *pe;
            NNT_OK(nn_net_load_buffer(&e, img, size));
            oe = t_opt(e, kind);
            NNT_TRUE(oe != NULL);
            NNT_OK(nn_optimizer_set(oe, NN_OPT_ITERATIONS, T_STOP));
            NNT_TRUE(t_steps(e, oe, T_STEPS - T_STOP));
            pe = t_params(e);
            NNT_TRUE(pe != NULL);
            NNT_TRUE(memcmp(pa, pe, n * sizeof *pa) != 0);
            free(pe);
            nn_optimizer_destroy(oe);
            nn_net_destroy(e);
        }
        free(pa);
        free(pc);
        free(pd);
        free(img);
        nn_optimizer_destroy(oa);
        nn_optimizer_destroy(oc);
        nn_optimizer_destroy(od);
        nn_net_destroy(a);
        nn_net_destroy(c);
        nn_net_destroy(d);
    }
}

/*====== Layout and rejection ======*/

static uint32_t t_get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t t_get64(const unsigned char *p)
{
    return (uint64_t)t_get32(p) | (uint64_t)t_get32(p + 4) << 32;
}

static void t_put32(unsigned char *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void t_put64(unsigned char *p, uint64_t v)
{
    t_put32(p, (uint32_t)v);
    t_put32(p + 4, (uint32_t)(v >> 32));
}

/* bitwise CRC-32 (reflected 0xEDB88320), independent of the library */
static uint32_t t_crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static void t_fix_crc(unsigned char *img, size_t size)
{
    t_put32(img + size - 4, t_crc(img, size - 4));
}

static double t_f64(const unsigned char *p)
{
    uint64_t u = t_get64(p);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void t_set_f64(unsigned char *p, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    t_put64(p, u);
}

/* Offset of the OPTM payload in a checkpoint image: walk the sections. */
static size_t t_optm(const unsigned char *img, size_t size)
{
    size_t p = 32;
    while (p + 16 <= size - 4) {
        uint64_t len = t_get64(img + p + 8);
        if (memcmp(img + p, "OPTM", 4) == 0) return p + 16;
        p += 16 + (size_t)len;
    }
    return 0;
}

NN_TEST(checkpoint_layout_and_rejection)
{
    size_t sizes[3] = {3, 5, 2};
    int32_t acts[2] = {NN_ACT_SIGMOID, NN_ACT_LINEAR};
    float x[4 * 3], y[4 * 2];
    nn_net *net, *back = NULL;
    nn_optimizer *opt, *oback = NULL;
    unsigned char *img, *work;
    size_t size, n, o, i;
    int k;

    for (i = 0; i < 12; i++) x[i] = (float)i / 7.0f - 0.5f;
    for (i = 0; i < 8; i++) y[i] = (float)(i % 3) - 1.0f;
    NNT_OK(nn_net_create(&net, 2, sizes, acts, 11));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    for (k = 0; k < 3; k++) {
        NNT_OK(nn_forward(net, x, 4, NULL));
        NNT_OK(nn_backward(net, NN_LOSS_MSE, y, NULL));
        NNT_OK(nn_optimizer_step(opt));
    }
    n = nn_net_num_params(net);
    NNT_EQ_SIZE(n, 3 * 5 + 5 + 5 * 2 + 2);
    NNT_OK(nn_checkpoint_save_buffer(net, opt, NULL, 0, &size));
    {
        size_t plain;
        NNT_OK(nn_net_save_buffer(net, NULL, 0, &plain));
        /* 16-byte section header, 72 fixed bytes, two moments */
        NNT_EQ_SIZE(size, plain + 16 + 72 + 8 * n);
    }
    img = malloc(size);
    work = malloc(size);
    NNT_TRUE(img && work);
    NNT_OK(nn_checkpoint_save_buffer(net, opt, img, size, &size));
    NNT_EQ_U64(t_get32(img + 24), 3);   /* section count */
    o = t_optm(img, size);
    NNT_TRUE(o != 0);
    NNT_EQ_U64(t_get32(img + o), NN_OPT_ADAM);
    NNT_EQ_U64(t_get32(img + o + 4), 0);
    NNT_TRUE(t_f64(img + o + 8) == 0.001);        /* learning rate */
    NNT_TRUE(t_f64(img + o + 8 + 8 * 6) == 0.999); /* beta2 */
    NNT_EQ_U64(t_get64(img + o + 64), 3);          /* iterations */

    /* round trip is canonical */
    NNT_OK(nn_checkpoint_load_buffer(&back, &oback, img, size));
    {
        size_t s2;
        NNT_OK(nn_checkpoint_save_buffer(back, oback, work, size, &s2));
        NNT_EQ_SIZE(s2, size);
        NNT_TRUE(memcmp(img, work, size) == 0);
    }
    nn_optimizer_destroy(oback);
    nn_net_destroy(back);
    /* nn_net_load_buffer reads a checkpoint, ignoring the state */
    NNT_OK(nn_net_load_buffer(&back, img, size));
    NNT_EQ_SIZE(nn_net_num_params(back), n);
    nn_net_destroy(back);

#define T_DAMAGE(edit, text)                                              \
    do {                                                                  \
        memcpy(work, img, size);                                          \
        edit;                                                             \
        t_fix_crc(work, size);                                            \
        NNT_STATUS(nn_checkpoint_load_buffer(&back, &oback, work, size),  \
                   NN_ERR_FORMAT);                                        \
        NNT_MSG_HAS(text);                                                \
        NNT_TRUE(back == NULL && oback == NULL);                          \
        NNT_STATUS(nn_net_load_buffer(&back, work, size), NN_ERR_FORMAT); \
    } while (0)

    T_DAMAGE(t_put32(work + o, 4), "kind 4");
    /* relabelled as SGD: Adam's two moment arrays are one too many */
    T_DAMAGE(t_put32(work + o, 0), "need 200");
    T_DAMAGE(t_put32(work + o + 4, 1), "reserved");
    T_DAMAGE(t_set_f64(work + o + 8, -1.0), "learning_rate");
    T_DAMAGE(t_set_f64(work + o + 8 + 8 * 2, 0.5), "momentum");
    T_DAMAGE(t_set_f64(work + o + 8 + 8 * 5, 1.0), "beta1");
    T_DAMAGE(t_set_f64(work + o + 8 + 8 * 3, NAN), "epsilon");
    T_DAMAGE(t_put64(work + o + 64, 10000000000000000ull), "iterations");
    T_DAMAGE(t_put32(work + o + 72 + 4 * 3, 0x7FC00000u), "not finite");
    T_DAMAGE(t_put32(work + o + 72 + 4 * n + 4 * 5, 0xBF800000u),
             "negative");
    /* relabelled as RMSprop: same length check */
    T_DAMAGE(t_put32(work + o, NN_OPT_RMSPROP), "need 200");
    /* a non-default setting that RMSprop does not use */
    T_DAMAGE((t_put32(work + o, NN_OPT_RMSPROP),
              t_set_f64(work + o + 8 + 8 * 5, 0.8)), "beta1");

    /* opt bound to another net */
    {
        nn_net *other;
        NNT_OK(nn_net_create(&other, 2, sizes, acts, 12));
        NNT_STATUS(nn_checkpoint_save_buffer(other, opt, img, size, &size),
                   NN_ERR_INVALID_ARG);
        NNT_MSG_HAS("another net");
        NNT_STATUS(nn_checkpoint_save(other, opt, "unused"),
                   NN_ERR_INVALID_ARG);
        nn_net_destroy(other);
    }
    /* a plain model through nn_checkpoint_load: no optimizer */
    {
        char path[512];
        snprintf(path, sizeof path, "%s/plain.nnfs", nnt_tmpdir());
        NNT_OK(nn_net_save(net, path));
        NNT_OK(nn_checkpoint_load(&back, &oback, path));
        NNT_TRUE(back != NULL && oback == NULL);
        nn_net_destroy(back);
        NNT_STATUS(nn_checkpoint_load(NULL, &oback, path),
                   NN_ERR_INVALID_ARG);
        NNT_STATUS(nn_checkpoint_load(&back, NULL, path),
                   NN_ERR_INVALID_ARG);
        NNT_MSG_HAS("opt_out");
    }
    free(img);
    free(work);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}
