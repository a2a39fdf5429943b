/*
 * fuzz_alloc_harness.h - the T8 allocation-failure program runner (libpng
 * nalloc.h idea), shared by the libFuzzer target fuzz/fuzz_alloc.c and the
 * unit test oom_random_schedules in tests/test_oom.c.  Everything is
 * static; include it from one translation unit.
 *
 * An input is a failure schedule followed by a small program of API calls:
 *
 *   bytes 0..7   schedule seed (little-endian)
 *   byte  8      density d: armed allocation i fails when
 *                splitmix64(seed + i) mod 65536 < d * d (0 never, 255: 99%)
 *   bytes 9..10  nth (little-endian, 0 = none): armed allocation nth fails
 *   then         opcodes, each followed by its argument bytes (the program
 *                ends with the input; missing bytes read as 0)
 *
 * Operations (fa_gen decodes them; two slots of net + optimizer + trainer
 * and one PCA): nn_net_create (1..4 layers, widths 1..40, any activation),
 * nn_net_init (every scheme, orthogonal by LAPACK), layer options
 * (penalties up to 1e38, dropout), nn_forward, nn_backward (every loss),
 * nn_backward_labels, nn_sgd_step, nn_optimizer_create/set/step/reset
 * (every kind), nn_trainer_create/set/fit (labels or targets, validation,
 * shuffling, a callback that records metrics and may stop the fit),
 * nn_predict (up to 293 rows: two inference blocks), model and checkpoint
 * save_buffer/load_buffer, nn_idx_parse_buffer (plain and gzip, one
 * inflating past its first 64 KiB buffer), singular values and spectral
 * norm, nn_net_set_params, nn_net_fit_readout, nn_pca_fit/transform/
 * inverse_transform/save_buffer/load_buffer, and destroying handles.
 *
 * Every operation runs in two worlds with the same handles: the reference
 * world never fails an allocation; the faulty world runs the call with
 * the schedule armed.  Each operation's arguments are valid (shapes,
 * enums, ranges, call order are tracked), so:
 *   - the reference status is NN_OK, or NN_ERR_NONFINITE for the numeric
 *     calls (a training run may legitimately diverge); anything else is a
 *     failure;
 *   - the faulty status equals the reference status or is NN_ERR_NOMEM;
 *     NN_ERR_NOMEM only when an allocation of that call was failed;
 *   - after NN_ERR_NOMEM: the live-block counts (the hook's and the
 *     library's) are what they were before the call, new-handle
 *     out-pointers are NULL, output buffers are untouched, and the
 *     fingerprint of every handle (checkpoint image with parameters,
 *     layer options, dropout generator and optimizer state; gradients;
 *     trainer settings and metrics) is byte-identical to before; the same
 *     call redone with failures off must then succeed like the reference;
 *   - after the call (first try or redo) the faulty world's outputs and
 *     fingerprint are byte-identical to the reference world's;
 *   - at every step every library block came through the hook, and at
 *     the end, with every handle destroyed, no block is live.
 */
#ifndef FUZZ_ALLOC_HARNESS_H
#define FUZZ_ALLOC_HARNESS_H

#include "nnfs.h"
#include "internal.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- limits of a program (keep one input at a few milliseconds) ---- */

#define FA_MAXL 4            /* layers */
#define FA_MAXW 40           /* widths */
#define FA_MAX_OPS 40        /* operations per input */
#define FA_FWD_MAXB 24       /* nn_forward batch */
#define FA_FIT_MAXN 32       /* nn_trainer_fit rows */
#define FA_VAL_MAXN 8        /* validation rows */
#define FA_PRED_MAXB 293     /* nn_predict batch: > 256 crosses a block */
#define FA_POOL (256 + FA_PRED_MAXB * FA_MAXW)
#define FA_IDX_BIG 84        /* 84 x 28 x 28 > 64 KiB: the gzip growth */
#define FA_OUT_MAX (FA_IDX_BIG * 28 * 28)
#define FA_BUF_MAX 131072    /* model or checkpoint image */
#define FA_CB_MAX 24         /* callback events recorded */

/* ---- the failing allocator ---- */

static struct {
    uint64_t seed, nth;      /* the schedule */
    uint32_t thresh;         /* d * d out of 65536 */
    uint64_t n;              /* armed allocations so far in this input */
    int armed;
    uint64_t failed;         /* failures injected in the current call */
    long live;               /* blocks handed out and not yet freed */
} fa_h;

static uint64_t fa_mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void *fa_alloc(void *user, size_t size)
{
    void *p;
    (void)user;
    if (fa_h.armed) {
        uint64_t i = ++fa_h.n;
        if (i == fa_h.nth ||
            (uint32_t)(fa_mix(fa_h.seed + i) & 0xFFFFu) < fa_h.thresh) {
            fa_h.failed++;
            return NULL;
        }
    }
    p = malloc(size ? size : 1);
    if (p != NULL) fa_h.live++;
    return p;
}

static void fa_free(void *user, void *ptr)
{
    (void)user;
    fa_h.live--;
    free(ptr);
}

/* ---- failure reports ---- */

static char fa_err[1024];

static int fa_failf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static int fa_failf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fa_err, sizeof fa_err, fmt, ap);
    va_end(ap);
    return -1;
}

#define FA_CHECK(cond, ...) \
    do { if (!(cond)) return fa_failf(__VA_ARGS__); } while (0)

/* ---- deterministic data (the same for every input) ---- */

static float fa_xpool[FA_POOL];     /* inputs in [-1, 1] */
static float fa_tpool[FA_POOL];     /* targets in [0, 1] */
static uint32_t fa_lpool[FA_POOL];  /* raw labels */

struct fa_idx { unsigned char *p; size_t n, count, ss; };
static struct fa_idx fa_idx[4];
static int fa_ready;

/* A gzip stream of src (deflate with the gzip wrapper); plain malloc. */
static int fa_gzip(const unsigned char *src, size_t n, struct fa_idx *o)
{
    z_stream z;
    size_t cap = n + 1024;
    memset(&z, 0, sizeof z);
    o->p = malloc(cap);
    if (o->p == NULL) return -1;
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = o->p;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        return -1;
    }
    o->n = cap - z.avail_out;
    deflateEnd(&z);
    return 0;
}

/* IDX images: plain 3x4x5, gzip 3x4x5, gzip 2x28x28 (noise) and gzip
   84x28x28 of low entropy (inflates past the first 64 KiB buffer). */
static int fa_setup(void)
{
    static unsigned char raw[16 + FA_OUT_MAX];
    static const unsigned dims[4][3] = {{3, 4, 5}, {3, 4, 5}, {2, 28, 28},
                                        {FA_IDX_BIG, 28, 28}};
    uint64_t s = 0x5EED;
    size_t i, k;
    if (fa_ready) return 0;
    for (i = 0; i < FA_POOL; i++) {
        uint64_t r = fa_mix(s += 0x9E3779B97F4A7C15ull);
        fa_xpool[i] = (float)((double)(r >> 11) * 0x1p-53 * 2.0 - 1.0);
        fa_tpool[i] = (float)((double)((r >> 3) & 0xFFFF) / 65535.0);
        fa_lpool[i] = (uint32_t)(r >> 40);
    }
    for (k = 0; k < 4; k++) {
        size_t c = dims[k][0], rr = dims[k][1], cc = dims[k][2];
        size_t n = c * rr * cc;
        raw[0] = 0; raw[1] = 0; raw[2] = 8; raw[3] = 3;
        for (i = 0; i < 3; i++) {
            uint32_t v = dims[k][i];
            raw[4 + 4 * i] = (unsigned char)(v >> 24);
            raw[5 + 4 * i] = (unsigned char)(v >> 16);
            raw[6 + 4 * i] = (unsigned char)(v >> 8);
            raw[7 + 4 * i] = (unsigned char)v;
        }
        for (i = 0; i < n; i++)
            raw[16 + i] = k == 3 ? (unsigned char)((i % 28) < 14 ? 0 : 255)
                                 : (unsigned char)(fa_mix(i + k) & 0xFF);
        fa_idx[k].count = c;
        fa_idx[k].ss = rr * cc;
        if (k == 0) {
            fa_idx[k].p = malloc(16 + n);
            if (fa_idx[k].p == NULL) return -1;
            memcpy(fa_idx[k].p, raw, 16 + n);
            fa_idx[k].n = 16 + n;
        } else if (fa_gzip(raw, 16 + n, &fa_idx[k]) != 0) {
            return -1;
        }
    }
    fa_ready = 1;
    return 0;
}

/* ---- the two worlds ---- */

typedef struct {
    int32_t st;
    float loss;
    size_t size, size2, count, ss;
    double d;
    int32_t i32;
    uint32_t ncb;
    double cb[FA_CB_MAX][8];
} fa_hdr;

typedef struct {
    fa_hdr h;
    float out[FA_OUT_MAX];
    unsigned char buf[FA_BUF_MAX];
} fa_outs;

typedef struct {
    nn_net *net[2];
    nn_optimizer *opt[2];
    nn_trainer *tr[2];
    uint32_t stop_at[2];     /* callback stops the fit at this event */
    nn_pca *pca;             /* one PCA handle, whatever the slot */
    fa_outs *o;
} fa_world;

static fa_outs fa_outs_ref, fa_outs_bad;
static fa_world fa_ref = {{0}, {0}, {0}, {0}, NULL, &fa_outs_ref};
static fa_world fa_bad = {{0}, {0}, {0}, {0}, NULL, &fa_outs_bad};

/* What the harness knows of each slot's call-order state (the same in
   both worlds): 1 yes, 0 no, -1 unknown (after a fit that failed). */
static struct { int fwd, grads; } fa_m[2];

/* The last image saved (from the reference world). */
static unsigned char fa_img[FA_BUF_MAX];
static size_t fa_img_n;
static unsigned char fa_pca_img[FA_BUF_MAX];
static size_t fa_pca_img_n;

typedef struct {
    uint64_t inputs, ops, calls_armed, injected, nomem, ok_despite,
             nonfinite, redo;
    uint64_t op_runs[32], op_nomem[32];   /* per FA_* operation */
} fa_stats_t;
static fa_stats_t fa_stats;
static int fa_trace;     /* 1: print each operation to stderr */

/* ---- fingerprints (plain malloc; kept across inputs) ---- */

typedef struct { unsigned char *p; size_t n, cap; } fa_fp;
static fa_fp fa_fp_prev, fa_fp_ref, fa_fp_bad;

static int fa_fp_add(fa_fp *f, const void *src, size_t n)
{
    if (f->n + n > f->cap) {
        size_t cap = (f->n + n) * 2 + 4096;
        unsigned char *q = realloc(f->p, cap);
        FA_CHECK(q != NULL, "fingerprint: out of memory");
        f->p = q;
        f->cap = cap;
    }
    memcpy(f->p + f->n, src, n);
    f->n += n;
    return 0;
}

static int fa_fingerprint(const fa_world *w, fa_fp *f)
{
    static float g[FA_MAXW * FA_MAXW + FA_MAXW];
    int s;
    f->n = 0;
    for (s = 0; s < 2; s++) {
        unsigned char tag[3];
        size_t need = 0, l, nl;
        tag[0] = w->net[s] != NULL;
        tag[1] = w->opt[s] != NULL;
        tag[2] = w->tr[s] != NULL;
        if (fa_fp_add(f, tag, 3)) return -1;
        if (w->net[s] == NULL) continue;
        FA_CHECK(nn_checkpoint_save_buffer(w->net[s], w->opt[s], NULL, 0,
                                           &need) == NN_OK &&
                 need <= FA_BUF_MAX, "fingerprint: image size: %s",
                 nn_last_error());
        if (f->n + need > f->cap) {
            unsigned char *q = realloc(f->p, f->n + need + 4096);
            FA_CHECK(q != NULL, "fingerprint: out of memory");
            f->p = q;
            f->cap = f->n + need + 4096;
        }
        FA_CHECK(nn_checkpoint_save_buffer(w->net[s], w->opt[s], f->p + f->n,
                                           need, &need) == NN_OK,
                 "fingerprint: checkpoint image: %s", nn_last_error());
        f->n += need;
        nl = nn_net_num_layers(w->net[s]);
        for (l = 0; l < nl; l++) {
            size_t ni = nn_net_layer_inputs(w->net[s], l);
            size_t no = nn_net_layer_outputs(w->net[s], l);
            int st = nn_net_get_grads(w->net[s], l, g, g + ni * no);
            if (fa_fp_add(f, &st, sizeof st)) return -1;
            if (st == NN_OK && fa_fp_add(f, g, (ni * no + no) * sizeof *g))
                return -1;
        }
        if (w->tr[s] != NULL) {
            int32_t k;
            for (k = NN_TRAIN_LOSS; k <= NN_TRAIN_REPORT_EVERY; k++) {
                double v = -1;
                FA_CHECK(nn_trainer_get(w->tr[s], k, &v) == NN_OK,
                         "fingerprint: nn_trainer_get %d", (int)k);
                if (fa_fp_add(f, &v, sizeof v)) return -1;
            }
            for (k = NN_METRIC_EPOCH; k <= NN_METRIC_STOPPED; k++) {
                double v = -1;
                if (k == NN_METRIC_SECONDS) continue;   /* wall clock */
                FA_CHECK(nn_trainer_metric(w->tr[s], k, &v) == NN_OK,
                         "fingerprint: nn_trainer_metric %d", (int)k);
                if (fa_fp_add(f, &v, sizeof v)) return -1;
            }
        }
    }
    if (w->pca != NULL) {   /* the PCA image holds all of its state */
        size_t need = 0;
        FA_CHECK(nn_pca_save_buffer(w->pca, NULL, 0, &need) == NN_OK,
                 "fingerprint: PCA image size: %s", nn_last_error());
        if (f->n + need > f->cap) {
            unsigned char *q = realloc(f->p, f->n + need + 4096);
            FA_CHECK(q != NULL, "fingerprint: out of memory");
            f->p = q;
            f->cap = f->n + need + 4096;
        }
        FA_CHECK(nn_pca_save_buffer(w->pca, f->p + f->n, need, &need) ==
                 NN_OK, "fingerprint: PCA image: %s", nn_last_error());
        f->n += need;
    } else if (fa_fp_add(f, "no PCA", 6)) {
        return -1;
    }
    return 0;
}

static int fa_fp_eq(const fa_fp *a, const fa_fp *b)
{
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

/* ---- the trainer callback: records metrics, may stop the fit ---- */

static int fa_cb(void *user, const nn_trainer *tr, int32_t event)
{
    fa_world *w = user;
    fa_hdr *h = &w->o->h;
    static const int32_t keys[7] = {
        NN_METRIC_EPOCH, NN_METRIC_STEP, NN_METRIC_LOSS, NN_METRIC_ACCURACY,
        NN_METRIC_REG_LOSS, NN_METRIC_VAL_LOSS, NN_METRIC_LEARNING_RATE};
    uint32_t i, s = w->tr[1] == tr ? 1 : 0;
    if (h->ncb < FA_CB_MAX) {
        h->cb[h->ncb][0] = event;
        for (i = 0; i < 7; i++)
            if (nn_trainer_metric(tr, keys[i], &h->cb[h->ncb][i + 1]) !=
                NN_OK)
                h->cb[h->ncb][i + 1] = -12345.0;
    }
    h->ncb++;
    return w->stop_at[s] != 0 && h->ncb >= w->stop_at[s];
}

/* ---- operations ---- */

enum {
    FA_CREATE, FA_INIT, FA_OPTION, FA_FORWARD, FA_BACKWARD, FA_BACKWARD_LABELS,
    FA_SGD, FA_OPT_CREATE, FA_OPT_SET, FA_OPT_STEP, FA_OPT_RESET,
    FA_TR_CREATE, FA_TR_SET, FA_FIT, FA_PREDICT, FA_SAVE, FA_LOAD, FA_IDX,
    FA_LINALG, FA_SET_PARAMS, FA_DESTROY, FA_READOUT, FA_PCA_FIT,
    FA_PCA_TRANSFORM, FA_PCA_INVERSE, FA_PCA_SAVE, FA_PCA_LOAD, FA_NOPS
};

static const char *const fa_names[FA_NOPS] = {
    "nn_net_create", "nn_net_init", "nn_net_set_layer_option", "nn_forward",
    "nn_backward", "nn_backward_labels", "nn_sgd_step",
    "nn_optimizer_create", "nn_optimizer_set", "nn_optimizer_step",
    "nn_optimizer_reset", "nn_trainer_create", "nn_trainer_set",
    "nn_trainer_fit", "nn_predict", "nn_(net|checkpoint)_save_buffer",
    "nn_(net|checkpoint)_load_buffer", "nn_idx_parse_buffer",
    "nn_net_layer_singular_values/spectral_norm", "nn_net_set_params",
    "destroy", "nn_net_fit_readout", "nn_pca_fit", "nn_pca_transform",
    "nn_pca_inverse_transform", "nn_pca_save_buffer", "nn_pca_load_buffer"};

typedef struct {
    int op, slot;
    size_t nl, sizes[FA_MAXL + 1];
    int32_t acts[FA_MAXL];
    uint64_t seed;
    size_t layer, batch, n, n_val, cap;
    int32_t kind, scheme, option, loss, key;
    double gain, value;
    float lr;
    const float *x, *t, *vx, *vt;
    int32_t labels[FA_PRED_MAXB], vlabels[FA_VAL_MAXN];
    int use_labels, with_out, ckpt, which;
    int fused;                 /* backward: nn_backward*_sgd instead */
    size_t ext_out, ext_buf;   /* output extents the call may write */
    int ncfg;                  /* settings applied after a success */
    int32_t cfg_key[8];
    double cfg_val[8];
    uint32_t stop_at;
} fa_args;

typedef struct { const uint8_t *p; size_t n, i; } fa_rd;

static unsigned fa_u8(fa_rd *r) { return r->i < r->n ? r->p[r->i++] : 0u; }

static size_t fa_outw(const nn_net *net)
{
    return nn_net_layer_outputs(net, nn_net_num_layers(net) - 1);
}

static void fa_destroy_slot(fa_world *w, int s, int what)
{
    /* what: 0 the trainer, 1 the optimizer too, 2 everything */
    nn_trainer_destroy(w->tr[s]);
    w->tr[s] = NULL;
    if (what >= 1) {
        nn_optimizer_destroy(w->opt[s]);
        w->opt[s] = NULL;
    }
    if (what >= 2) {
        nn_net_destroy(w->net[s]);
        w->net[s] = NULL;
    }
}

/* Decode one operation from r into a; 0 when it cannot apply now (the
   op is skipped), 1 when it runs.  Reads the reference world only. */
static int fa_gen(fa_rd *r, fa_args *a)
{
    static const double gains[5] = {0.0, 0.05, 0.5, 1.0, 2.0};
    static const double pens[8] = {0, 1e-4, 1e-2, 0.5, 0, 1e-3, 0.1, 1e38};
    static const double drops[4] = {0.0, 0.1, 0.5, 0.9};
    static const float lrs[3] = {0.001f, 0.01f, 0.1f};
    const fa_world *w = &fa_ref;
    unsigned b = fa_u8(r);
    size_t i, nl = 0, n_in = 0, n_out = 0;
    int s;
    memset(a, 0, sizeof *a);
    a->op = (int)((b >> 1) % FA_NOPS);
    a->slot = s = (int)(b & 1);
    if (w->net[s] != NULL) {
        nl = nn_net_num_layers(w->net[s]);
        n_in = nn_net_layer_inputs(w->net[s], 0);
        n_out = fa_outw(w->net[s]);
    }
    switch (a->op) {
    case FA_CREATE:
        a->nl = 1 + fa_u8(r) % FA_MAXL;
        for (i = 0; i <= a->nl; i++) a->sizes[i] = 1 + fa_u8(r) % FA_MAXW;
        for (i = 0; i < a->nl; i++) a->acts[i] = (int32_t)(fa_u8(r) % 5);
        a->seed = fa_u8(r) | (uint64_t)fa_u8(r) << 8;
        return 1;
    case FA_INIT:
        if (nl == 0) return 0;
        a->layer = fa_u8(r) % (nl + 1);
        if (a->layer == nl) a->layer = NN_ALL_LAYERS;
        a->scheme = (int32_t)(fa_u8(r) % 4);
        a->gain = gains[fa_u8(r) % 5];
        a->seed = fa_u8(r);
        return 1;
    case FA_OPTION:
        if (nl == 0) return 0;
        a->layer = fa_u8(r) % nl;
        a->option = (int32_t)(fa_u8(r) % 5);
        if (a->option == NN_LAYER_DROPOUT && a->layer + 1 == nl)
            a->option = NN_LAYER_L2_WEIGHTS;
        a->value = a->option == NN_LAYER_DROPOUT ? drops[fa_u8(r) % 4]
                                                 : pens[fa_u8(r) % 8];
        return 1;
    case FA_FORWARD:
        if (nl == 0) return 0;
        a->batch = 1 + fa_u8(r) % FA_FWD_MAXB;
        a->x = fa_xpool + fa_u8(r);
        a->with_out = (int)(fa_u8(r) & 1);
        a->ext_out = a->with_out ? a->batch * n_out : 0;
        return 1;
    case FA_BACKWARD:
    case FA_BACKWARD_LABELS:
        if (nl == 0 || fa_m[s].fwd != 1) return 0;
        i = fa_u8(r);
        a->loss = (int32_t)(i % 4);
        /* the top bit: the fused backward + SGD step, with the rate from
           bits 4-5 (the other bits already chose the loss) */
        a->fused = (int)(i >> 7);
        a->lr = lrs[(i >> 4) % 3];
        a->t = fa_tpool + fa_u8(r);
        i = fa_u8(r);
        for (a->n = 0; a->n < FA_FWD_MAXB; a->n++)
            a->labels[a->n] = (int32_t)(fa_lpool[i + a->n] % n_out);
        return 1;
    case FA_SGD:
        if (nl == 0 || fa_m[s].grads != 1) return 0;
        a->lr = lrs[fa_u8(r) % 3];
        return 1;
    case FA_OPT_CREATE:
        if (nl == 0) return 0;
        a->kind = (int32_t)(fa_u8(r) % 4);
        a->cfg_key[0] = NN_OPT_LEARNING_RATE;
        a->cfg_val[0] =
            (const double[4]){0.001, 0.01, 0.05, 0.2}[fa_u8(r) % 4];
        a->cfg_key[1] = NN_OPT_DECAY;
        a->cfg_val[1] = (const double[3]){0.0, 1e-3, 0.1}[fa_u8(r) % 3];
        a->ncfg = 2;
        switch (a->kind) {
        case NN_OPT_SGD:
            a->cfg_key[2] = NN_OPT_MOMENTUM;
            a->cfg_val[2] = (const double[3]){0.0, 0.5, 0.9}[fa_u8(r) % 3];
            break;
        case NN_OPT_ADAGRAD:
            a->cfg_key[2] = NN_OPT_EPSILON;
            a->cfg_val[2] = fa_u8(r) & 1 ? 1e-3 : 1e-7;
            break;
        case NN_OPT_RMSPROP:
            a->cfg_key[2] = NN_OPT_RHO;
            a->cfg_val[2] = fa_u8(r) & 1 ? 0.5 : 0.9;
            break;
        default:
            a->cfg_key[2] = NN_OPT_BETA1;
            a->cfg_val[2] = fa_u8(r) & 1 ? 0.5 : 0.9;
            a->cfg_key[3] = NN_OPT_BETA2;
            a->cfg_val[3] = fa_u8(r) & 1 ? 0.9 : 0.999;
            a->ncfg++;
            break;
        }
        a->ncfg++;
        return 1;
    case FA_OPT_SET: {
        int32_t kind;
        if (w->opt[s] == NULL) return 0;
        kind = nn_optimizer_kind(w->opt[s]);
        switch (fa_u8(r) % 4) {
        case 0:
            a->key = NN_OPT_LEARNING_RATE;
            a->value = (const double[3]){0.0, 0.003, 0.1}[fa_u8(r) % 3];
            break;
        case 1:
            a->key = NN_OPT_DECAY;
            a->value = (const double[2]){0.0, 0.01}[fa_u8(r) % 2];
            break;
        case 2:
            a->key = NN_OPT_ITERATIONS;
            a->value = (const double[3]){0.0, 3.0, 1000.0}[fa_u8(r) % 3];
            break;
        default:
            a->key = kind == NN_OPT_SGD ? NN_OPT_MOMENTUM
                     : kind == NN_OPT_RMSPROP ? NN_OPT_RHO
                     : kind == NN_OPT_ADAM ? NN_OPT_BETA2 : NN_OPT_EPSILON;
            a->value = a->key == NN_OPT_EPSILON ? 1e-5
                       : (const double[2]){0.0, 0.8}[fa_u8(r) % 2];
            break;
        }
        return 1;
    }
    case FA_OPT_STEP:
        return w->opt[s] != NULL && fa_m[s].grads == 1;
    case FA_OPT_RESET:
        return w->opt[s] != NULL;
    case FA_TR_CREATE:
        if (w->opt[s] == NULL) return 0;
        a->cfg_key[0] = NN_TRAIN_BATCH_SIZE;
        a->cfg_val[0] = (const double[5]){0, 1, 4, 8, 16}[fa_u8(r) % 5];
        a->cfg_key[1] = NN_TRAIN_EPOCHS;
        a->cfg_val[1] = 1 + fa_u8(r) % 3;
        a->cfg_key[2] = NN_TRAIN_SHUFFLE;
        a->cfg_val[2] = fa_u8(r) & 1;
        a->cfg_key[3] = NN_TRAIN_SEED;
        a->cfg_val[3] = fa_u8(r);
        a->cfg_key[4] = NN_TRAIN_LOSS;
        a->cfg_val[4] = fa_u8(r) % 4;
        a->cfg_key[5] = NN_TRAIN_REPORT_EVERY;
        a->cfg_val[5] = fa_u8(r) % 3;
        a->cfg_key[6] = NN_TRAIN_PRECISION;
        a->cfg_val[6] = fa_u8(r) & 1 ? 0.1 : 0.0;
        a->ncfg = 7;
        i = fa_u8(r) % 6;           /* 4, 5: leave the accuracy default */
        if (i < 4) {
            a->cfg_key[7] = NN_TRAIN_ACCURACY;
            a->cfg_val[7] = (double)i;
            a->ncfg = 8;
        }
        a->stop_at = fa_u8(r) % 8;  /* 0: no callback, else stop there */
        return 1;
    case FA_TR_SET:
        if (w->tr[s] == NULL) return 0;
        a->key = (int32_t)(fa_u8(r) % 8);
        switch (a->key) {
        case NN_TRAIN_LOSS: case NN_TRAIN_ACCURACY:
            a->value = fa_u8(r) % 4; break;
        case NN_TRAIN_BATCH_SIZE:
            a->value = (const double[4]){0, 2, 5, 32}[fa_u8(r) % 4]; break;
        case NN_TRAIN_EPOCHS: a->value = 1 + fa_u8(r) % 3; break;
        case NN_TRAIN_SHUFFLE: a->value = fa_u8(r) & 1; break;
        case NN_TRAIN_PRECISION: a->value = fa_u8(r) & 1 ? 0.05 : 0.0; break;
        case NN_TRAIN_REPORT_EVERY: a->value = fa_u8(r) % 3; break;
        default: a->value = fa_u8(r); break;
        }
        return 1;
    case FA_FIT: {
        double bs = 0, acc = -1;
        size_t o1, o2, maxn;
        if (w->tr[s] == NULL) return 0;
        if (nn_trainer_get(w->tr[s], NN_TRAIN_BATCH_SIZE, &bs) != NN_OK ||
            nn_trainer_get(w->tr[s], NN_TRAIN_ACCURACY, &acc) != NN_OK)
            return fa_failf("nn_trainer_get: %s", nn_last_error());
        /* at most 4 steps an epoch */
        maxn = bs >= 1 && bs < 8 ? 4 * (size_t)bs : FA_FIT_MAXN;
        a->n = 1 + fa_u8(r) % maxn;
        a->n_val = fa_u8(r) % (FA_VAL_MAXN + 1);
        a->use_labels = (int)(fa_u8(r) & 1) &&
                        (acc < 0 || acc == NN_ACCURACY_NONE ||
                         acc == NN_ACCURACY_CATEGORICAL);
        o1 = fa_u8(r);
        o2 = fa_u8(r);
        a->x = fa_xpool + o1;
        a->t = fa_tpool + o1;
        a->vx = fa_xpool + o2;
        a->vt = fa_tpool + o2;
        for (i = 0; i < a->n; i++)
            a->labels[i] = (int32_t)(fa_lpool[o1 + i] % n_out);
        for (i = 0; i < a->n_val; i++)
            a->vlabels[i] = (int32_t)(fa_lpool[o2 + i] % n_out);
        return 1;
    }
    case FA_PREDICT:
        if (nl == 0) return 0;
        i = fa_u8(r);
        a->batch = i < 224 ? 1 + i % 32 : 200 + (i - 224) * 93 / 31;
        a->x = fa_xpool + fa_u8(r);
        a->ext_out = a->batch * n_out;
        return 1;
    case FA_SAVE:
        if (nl == 0) return 0;
        a->ckpt = (int)(fa_u8(r) & 1);
        if (nn_checkpoint_save_buffer(w->net[s], a->ckpt ? w->opt[s] : NULL,
                                      NULL, 0, &a->ext_buf) != NN_OK)
            return fa_failf("save size: %s", nn_last_error());
        if (a->ext_buf > FA_BUF_MAX)
            return fa_failf("image of %zu bytes", a->ext_buf);
        return 1;
    case FA_LOAD:
        if (fa_img_n == 0) return 0;
        a->ckpt = (int)(fa_u8(r) & 1);
        return 1;
    case FA_IDX:
        a->which = (int)(fa_u8(r) % 4);
        a->with_out = (int)(fa_u8(r) & 1);
        a->kind = (int32_t)(fa_u8(r) % 3);   /* the scale */
        a->cap = fa_idx[a->which].count * fa_idx[a->which].ss;
        a->ext_out = a->with_out ? a->cap : 0;
        return 1;
    case FA_LINALG: {
        size_t ni, no;
        if (nl == 0) return 0;
        a->layer = fa_u8(r) % nl;
        a->with_out = (int)(fa_u8(r) & 1);   /* 1: all values, 0: norm */
        ni = nn_net_layer_inputs(w->net[s], a->layer);
        no = nn_net_layer_outputs(w->net[s], a->layer);
        a->cap = ni < no ? ni : no;
        a->ext_out = a->with_out ? a->cap : 0;
        return 1;
    }
    case FA_SET_PARAMS:
        if (nl == 0) return 0;
        a->layer = fa_u8(r) % nl;
        a->x = fa_xpool + fa_u8(r);
        a->t = fa_xpool + fa_u8(r);
        return 1;
    case FA_DESTROY:
        if (nl == 0) return 0;
        a->which = (int)(fa_u8(r) % 3);
        return 1;
    case FA_READOUT:   /* the last layer must be linear */
        if (nl == 0 ||
            nn_net_layer_activation(w->net[s], nl - 1) != NN_ACT_LINEAR)
            return 0;
        a->batch = 1 + fa_u8(r) % FA_FIT_MAXN;
        a->x = fa_xpool + fa_u8(r);
        a->t = fa_tpool + fa_u8(r);
        a->value = (const double[4]){0.0, 1e-3, 0.1, 10.0}[fa_u8(r) % 4];
        return 1;
    case FA_PCA_FIT:
        a->n = 2 + fa_u8(r) % (FA_FIT_MAXN - 1);        /* rows */
        a->sizes[0] = 1 + fa_u8(r) % FA_MAXW;           /* cols */
        a->sizes[1] = 1 + fa_u8(r) % a->sizes[0];       /* k */
        a->kind = (int32_t)(fa_u8(r) & NN_PCA_WHITEN);  /* flags */
        a->value = (const double[3]){0.0, 1e-3, 0.1}[fa_u8(r) % 3];
        a->x = fa_xpool + fa_u8(r);
        return 1;
    case FA_PCA_TRANSFORM:
    case FA_PCA_INVERSE: {
        size_t cols, k;
        if (w->pca == NULL) return 0;
        cols = nn_pca_num_features(w->pca);
        k = nn_pca_num_components(w->pca);
        i = fa_u8(r);   /* rows * cols <= FA_PRED_MAXB * FA_MAXW */
        a->batch = i < 224 ? 1 + i % 32 : 200 + (i - 224) * 93 / 31;
        a->x = fa_xpool + fa_u8(r);
        a->ext_out = a->batch * (a->op == FA_PCA_TRANSFORM ? k : cols);
        return 1;
    }
    case FA_PCA_SAVE:
        if (w->pca == NULL) return 0;
        if (nn_pca_save_buffer(w->pca, NULL, 0, &a->ext_buf) != NN_OK)
            return fa_failf("PCA save size: %s", nn_last_error());
        if (a->ext_buf > FA_BUF_MAX)
            return fa_failf("PCA image of %zu bytes", a->ext_buf);
        return 1;
    case FA_PCA_LOAD:
        return fa_pca_img_n != 0;
    default:
        (void)n_in;
        return 0;
    }
}

/* Whatever must happen before the call in both worlds (unarmed): make
   room for a new handle. */
static void fa_pre(fa_world *w, const fa_args *a)
{
    int s = a->slot;
    switch (a->op) {
    case FA_CREATE: case FA_LOAD: fa_destroy_slot(w, s, 2); break;
    case FA_OPT_CREATE: fa_destroy_slot(w, s, 1); break;
    case FA_TR_CREATE: fa_destroy_slot(w, s, 0); break;
    case FA_DESTROY: fa_destroy_slot(w, s, a->which); break;
    case FA_PCA_FIT: case FA_PCA_LOAD:
        nn_pca_destroy(w->pca);
        w->pca = NULL;
        break;
    default: break;
    }
}

/* The call under test: exactly one call that may allocate. */
static int fa_do(fa_world *w, const fa_args *a)
{
    fa_hdr *h = &w->o->h;
    float *out = w->o->out;
    int s = a->slot;
    nn_net *net = w->net[s];
    switch (a->op) {
    case FA_CREATE:
        return nn_net_create(&w->net[s], a->nl, a->sizes, a->acts, a->seed);
    case FA_INIT:
        return nn_net_init(net, a->layer, a->scheme, a->gain, a->seed);
    case FA_OPTION:
        return nn_net_set_layer_option(net, a->layer, a->option, a->value);
    case FA_FORWARD:
        return nn_forward(net, a->x, a->batch, a->with_out ? out : NULL);
    case FA_BACKWARD:
        return a->fused
                   ? nn_backward_sgd(net, a->loss, a->t, a->lr, &h->loss)
                   : nn_backward(net, a->loss, a->t, &h->loss);
    case FA_BACKWARD_LABELS:
        return a->fused
                   ? nn_backward_labels_sgd(net, a->labels, a->lr, &h->loss)
                   : nn_backward_labels(net, a->labels, &h->loss);
    case FA_SGD:
        return nn_sgd_step(net, a->lr);
    case FA_OPT_CREATE:
        return nn_optimizer_create(&w->opt[s], net, a->kind);
    case FA_OPT_SET:
        return nn_optimizer_set(w->opt[s], a->key, a->value);
    case FA_OPT_STEP:
        return nn_optimizer_step(w->opt[s]);
    case FA_OPT_RESET:
        return nn_optimizer_reset(w->opt[s]);
    case FA_TR_CREATE:
        return nn_trainer_create(&w->tr[s], net, w->opt[s]);
    case FA_TR_SET:
        return nn_trainer_set(w->tr[s], a->key, a->value);
    case FA_FIT:
        return nn_trainer_fit(w->tr[s], a->x, a->use_labels ? NULL : a->t,
                              a->use_labels ? a->labels : NULL, a->n,
                              a->n_val ? a->vx : NULL,
                              a->n_val && !a->use_labels ? a->vt : NULL,
                              a->n_val && a->use_labels ? a->vlabels : NULL,
                              a->n_val);
    case FA_PREDICT:
        return nn_predict(net, a->x, a->batch, out);
    case FA_SAVE: {
        int st = nn_checkpoint_save_buffer(net, a->ckpt ? w->opt[s] : NULL,
                                           NULL, 0, &h->size);
        if (st == NN_OK)
            st = a->ckpt ? nn_checkpoint_save_buffer(net, w->opt[s],
                                                     w->o->buf, a->ext_buf,
                                                     &h->size2)
                         : nn_net_save_buffer(net, w->o->buf, a->ext_buf,
                                              &h->size2);
        return st;
    }
    case FA_LOAD:
        return a->ckpt ? nn_checkpoint_load_buffer(&w->net[s], &w->opt[s],
                                                   fa_img, fa_img_n)
                       : nn_net_load_buffer(&w->net[s], fa_img, fa_img_n);
    case FA_IDX:
        return nn_idx_parse_buffer(fa_idx[a->which].p, fa_idx[a->which].n,
                                   a->with_out ? out : NULL, a->cap, a->kind,
                                   &h->count, &h->ss);
    case FA_LINALG:
        return a->with_out
                   ? nn_net_layer_singular_values(net, a->layer, out, a->cap,
                                                  &h->count)
                   : nn_net_layer_spectral_norm(net, a->layer, &h->d);
    case FA_SET_PARAMS:
        return nn_net_set_params(net, a->layer, a->x, a->t);
    case FA_READOUT:
        return nn_net_fit_readout(net, a->x, a->t, a->batch, a->value,
                                  &h->i32, &h->d);
    case FA_PCA_FIT:
        return nn_pca_fit(&w->pca, a->x, a->n, a->sizes[0], a->sizes[1],
                          a->kind, a->value);
    case FA_PCA_TRANSFORM:
        return nn_pca_transform(w->pca, a->x, a->batch, out);
    case FA_PCA_INVERSE:
        return nn_pca_inverse_transform(w->pca, a->x, a->batch, out);
    case FA_PCA_SAVE: {
        int st = nn_pca_save_buffer(w->pca, NULL, 0, &h->size);
        if (st == NN_OK)
            st = nn_pca_save_buffer(w->pca, w->o->buf, a->ext_buf,
                                    &h->size2);
        return st;
    }
    case FA_PCA_LOAD:
        return nn_pca_load_buffer(&w->pca, fa_pca_img, fa_pca_img_n);
    default:
        return NN_OK;
    }
}

/* Settings applied after a successful create, in both worlds. */
static int fa_post(fa_world *w, const fa_args *a)
{
    int s = a->slot, i;
    for (i = 0; i < a->ncfg; i++) {
        int st = a->op == FA_OPT_CREATE
                     ? nn_optimizer_set(w->opt[s], a->cfg_key[i],
                                        a->cfg_val[i])
                     : nn_trainer_set(w->tr[s], a->cfg_key[i], a->cfg_val[i]);
        FA_CHECK(st == NN_OK, "setting %d = %g after %s: %s",
                 (int)a->cfg_key[i], a->cfg_val[i], fa_names[a->op],
                 nn_last_error());
    }
    if (a->op == FA_TR_CREATE) {
        w->stop_at[s] = a->stop_at;
        if (a->stop_at != 0)
            FA_CHECK(nn_trainer_set_callback(w->tr[s], fa_cb, w) == NN_OK,
                     "nn_trainer_set_callback: %s", nn_last_error());
    }
    return 0;
}

/* Statuses the reference world may give for valid arguments. */
static int fa_ref_status_ok(int op, int st)
{
    if (st == NN_OK) return 1;
    if (st != NN_ERR_NONFINITE) return 0;
    switch (op) {
    case FA_FORWARD: case FA_BACKWARD: case FA_BACKWARD_LABELS: case FA_SGD:
    case FA_OPT_STEP: case FA_FIT: case FA_PREDICT: case FA_LINALG:
    case FA_READOUT: case FA_PCA_FIT: case FA_PCA_TRANSFORM:
    case FA_PCA_INVERSE:
        return 1;   /* diverged training: the data, not the arguments */
    default:
        return 0;
    }
}

static void fa_sentinel(fa_outs *o, const fa_args *a)
{
    memset(&o->h, 0xA5, sizeof o->h);
    o->h.ncb = 0;
    memset(o->out, 0xA5, a->ext_out * sizeof(float));
    memset(o->buf, 0xA5, a->ext_buf);
}

static int fa_is_sentinel(const fa_outs *o, const fa_args *a)
{
    static fa_outs s;
    static int init;
    if (!init) {
        memset(&s, 0xA5, sizeof s);
        s.h.ncb = 0;
        init = 1;
    }
    return memcmp(&o->h, &s.h, sizeof s.h) == 0 &&
           memcmp(o->out, s.out, a->ext_out * sizeof(float)) == 0 &&
           memcmp(o->buf, s.buf, a->ext_buf) == 0;
}

static int fa_outs_eq(const fa_outs *x, const fa_outs *y, const fa_args *a)
{
    return memcmp(&x->h, &y->h, sizeof x->h) == 0 &&
           memcmp(x->out, y->out, a->ext_out * sizeof(float)) == 0 &&
           memcmp(x->buf, y->buf, a->ext_buf) == 0;
}

static int fa_new_handles_null(const fa_world *w, const fa_args *a)
{
    int s = a->slot;
    switch (a->op) {
    case FA_CREATE: return w->net[s] == NULL;
    case FA_LOAD: return w->net[s] == NULL && w->opt[s] == NULL;
    case FA_OPT_CREATE: return w->opt[s] == NULL;
    case FA_TR_CREATE: return w->tr[s] == NULL;
    case FA_PCA_FIT: case FA_PCA_LOAD: return w->pca == NULL;
    default: return 1;
    }
}

/* Update the call-order model after the call gave status st. */
static void fa_model(const fa_args *a, int st, int dropout_changed)
{
    int s = a->slot;
    /* nn_trainer_fit with plain SGD steps with nn_backward_sgd, which
       keeps no gradients (the trainer's optimizer is the slot's) */
    double mom = 0;
    int plain = a->op == FA_FIT && fa_ref.opt[s] != NULL &&
                nn_optimizer_kind(fa_ref.opt[s]) == NN_OPT_SGD &&
                nn_optimizer_get(fa_ref.opt[s], NN_OPT_MOMENTUM, &mom) ==
                    NN_OK && mom == 0;
    if (a->op == FA_CREATE || a->op == FA_LOAD ||
        (a->op == FA_DESTROY && a->which == 2)) {
        fa_m[s].fwd = 0;
        fa_m[s].grads = 0;
        return;
    }
    if (a->op == FA_FIT && st != NN_OK) {
        /* stopped at a failed step: the forward may be live or stale */
        fa_m[s].fwd = -1;
        if (fa_m[s].grads != 1 || plain) fa_m[s].grads = -1;
        return;
    }
    if (st != NN_OK) return;
    switch (a->op) {
    case FA_FORWARD: fa_m[s].fwd = 1; break;
    case FA_BACKWARD: case FA_BACKWARD_LABELS:
        if (a->fused)   /* stepped: forward stale, gradients not kept */
            fa_m[s].fwd = fa_m[s].grads = 0;
        else
            fa_m[s].grads = 1;
        break;
    case FA_INIT: case FA_SGD: case FA_OPT_STEP: case FA_SET_PARAMS:
    case FA_READOUT:
        fa_m[s].fwd = 0; break;
    case FA_FIT: fa_m[s].fwd = 0; fa_m[s].grads = !plain; break;
    case FA_OPTION: if (dropout_changed) fa_m[s].fwd = 0; break;
    default: break;
    }
}

/* Both worlds' handles agree on what exists. */
static int fa_same_shape(void)
{
    int s;
    for (s = 0; s < 2; s++)
        if ((fa_ref.net[s] == NULL) != (fa_bad.net[s] == NULL) ||
            (fa_ref.opt[s] == NULL) != (fa_bad.opt[s] == NULL) ||
            (fa_ref.tr[s] == NULL) != (fa_bad.tr[s] == NULL))
            return 0;
    return (fa_ref.pca == NULL) == (fa_bad.pca == NULL);
}

/* One operation in both worlds, with every check. */
static int fa_step(const fa_args *a, int k)
{
    const char *nm = fa_names[a->op];
    long live0, nlive0;
    int st_ref, st, first, handles = a->op != FA_IDX, dropout_changed = 0;
    uint64_t failed;

    if (a->op == FA_OPTION && a->option == NN_LAYER_DROPOUT) {
        double v = -1;
        FA_CHECK(nn_net_get_layer_option(fa_ref.net[a->slot], a->layer,
                                         NN_LAYER_DROPOUT, &v) == NN_OK,
                 "nn_net_get_layer_option: %s", nn_last_error());
        dropout_changed = (float)v != (float)a->value;
    }
    if (a->op == FA_CREATE || a->op == FA_LOAD || a->op == FA_OPT_CREATE ||
        a->op == FA_TR_CREATE || a->op == FA_DESTROY ||
        a->op == FA_PCA_FIT || a->op == FA_PCA_LOAD) {
        fa_pre(&fa_ref, a);
        fa_pre(&fa_bad, a);
        if (fa_fingerprint(&fa_ref, &fa_fp_prev)) return -1;
    }
    if (a->op == FA_DESTROY) {
        fa_model(a, NN_OK, 0);
        FA_CHECK(fa_h.live == nn__alloc_live(), "op %d destroy: hook counts "
                 "%ld live blocks, the library %ld", k, fa_h.live,
                 nn__alloc_live());
        return 0;
    }

    fa_sentinel(fa_ref.o, a);
    fa_sentinel(fa_bad.o, a);
    fa_h.armed = 0;
    st_ref = fa_do(&fa_ref, a);
    fa_ref.o->h.st = st_ref;
    FA_CHECK(fa_ref_status_ok(a->op, st_ref), "op %d %s: reference (no "
             "failures) returned %d (%s) for valid arguments: %s", k, nm,
             st_ref, nn_strerror(st_ref), nn_last_error());
    if (st_ref == NN_ERR_NONFINITE) fa_stats.nonfinite++;
    if (handles && fa_fingerprint(&fa_ref, &fa_fp_ref)) return -1;

    live0 = fa_h.live;
    nlive0 = nn__alloc_live();
    fa_h.failed = 0;
    fa_h.armed = 1;
    st = fa_do(&fa_bad, a);
    fa_h.armed = 0;
    first = st;
    failed = fa_h.failed;
    fa_stats.calls_armed++;
    fa_stats.injected += fa_h.failed;
    if (st == NN_ERR_NOMEM) {
        fa_stats.nomem++;
        fa_stats.op_nomem[a->op]++;
        FA_CHECK(fa_h.failed > 0, "op %d %s: NN_ERR_NOMEM with no allocation "
                 "failed", k, nm);
        FA_CHECK(fa_h.live == live0 && nn__alloc_live() == nlive0,
                 "op %d %s: NN_ERR_NOMEM kept memory: hook %ld -> %ld blocks,"
                 " library %ld -> %ld", k, nm, live0, fa_h.live, nlive0,
                 nn__alloc_live());
        FA_CHECK(fa_new_handles_null(&fa_bad, a), "op %d %s: NN_ERR_NOMEM "
                 "left a new handle behind", k, nm);
        FA_CHECK(nn_last_error()[0] != '\0', "op %d %s: no message", k, nm);
        FA_CHECK(fa_is_sentinel(fa_bad.o, a), "op %d %s: NN_ERR_NOMEM but "
                 "an output buffer was written", k, nm);
        if (handles) {
            if (fa_fingerprint(&fa_bad, &fa_fp_bad)) return -1;
            FA_CHECK(fa_fp_eq(&fa_fp_bad, &fa_fp_prev), "op %d %s: "
                     "NN_ERR_NOMEM but the handles' observable state "
                     "changed", k, nm);
        }
        /* the same call, failures off, on the same handles */
        fa_sentinel(fa_bad.o, a);
        fa_stats.redo++;
        st = fa_do(&fa_bad, a);
        FA_CHECK(st == st_ref, "op %d %s: redo after NN_ERR_NOMEM returned "
                 "%d (%s), the reference %d: %s", k, nm, st, nn_strerror(st),
                 st_ref, nn_last_error());
    } else {
        FA_CHECK(st == st_ref, "op %d %s: returned %d (%s) with %llu "
                 "allocation(s) failed; the reference returned %d: %s", k,
                 nm, st, nn_strerror(st), (unsigned long long)fa_h.failed,
                 st_ref, nn_last_error());
        if (fa_h.failed > 0) fa_stats.ok_despite++;
    }
    fa_bad.o->h.st = st;
    if (fa_trace)
        fprintf(stderr, "fuzz_alloc: op %d slot %d %s: status %d (first "
                "try %d, %llu allocation(s) failed)\n", k, a->slot, nm, st,
                first, (unsigned long long)failed);
    FA_CHECK(fa_same_shape(), "op %d %s: the worlds hold different handles",
             k, nm);
    FA_CHECK(fa_outs_eq(fa_bad.o, fa_ref.o, a), "op %d %s: outputs differ "
             "from the reference", k, nm);
    if (handles) {
        if (fa_fingerprint(&fa_bad, &fa_fp_bad)) return -1;
        FA_CHECK(fa_fp_eq(&fa_fp_bad, &fa_fp_ref), "op %d %s: state differs "
                 "from the reference after the call", k, nm);
    }
    if (st == NN_OK && a->ncfg + (a->op == FA_TR_CREATE) > 0) {
        if (fa_post(&fa_ref, a) || fa_post(&fa_bad, a)) return -1;
        if (fa_fingerprint(&fa_ref, &fa_fp_ref)) return -1;
    }
    if (a->op == FA_SAVE && st == NN_OK) {
        FA_CHECK(fa_ref.o->h.size == a->ext_buf &&
                 fa_ref.o->h.size2 == a->ext_buf, "op %d %s: size %zu, "
                 "then %zu, expected %zu", k, nm, fa_ref.o->h.size,
                 fa_ref.o->h.size2, a->ext_buf);
        memcpy(fa_img, fa_ref.o->buf, a->ext_buf);
        fa_img_n = a->ext_buf;
    }
    if (a->op == FA_PCA_SAVE && st == NN_OK) {
        FA_CHECK(fa_ref.o->h.size == a->ext_buf &&
                 fa_ref.o->h.size2 == a->ext_buf, "op %d %s: size %zu, "
                 "then %zu, expected %zu", k, nm, fa_ref.o->h.size,
                 fa_ref.o->h.size2, a->ext_buf);
        memcpy(fa_pca_img, fa_ref.o->buf, a->ext_buf);
        fa_pca_img_n = a->ext_buf;
    }
    if (a->op == FA_IDX)
        FA_CHECK(fa_ref.o->h.count == fa_idx[a->which].count &&
                 fa_ref.o->h.ss == fa_idx[a->which].ss, "op %d %s: shape "
                 "%zu x %zu", k, nm, fa_ref.o->h.count, fa_ref.o->h.ss);
    fa_model(a, st, dropout_changed);
    if (handles) {   /* the state before the next op */
        fa_fp t = fa_fp_prev;
        fa_fp_prev = fa_fp_ref;
        fa_fp_ref = t;
    }
    FA_CHECK(fa_h.live == nn__alloc_live(), "op %d %s: hook counts %ld live "
             "blocks, the library %ld", k, nm, fa_h.live, nn__alloc_live());
    return 0;
}

static void fa_teardown(void)
{
    int s;
    for (s = 0; s < 2; s++) {
        fa_destroy_slot(&fa_ref, s, 2);
        fa_destroy_slot(&fa_bad, s, 2);
        fa_m[s].fwd = fa_m[s].grads = 0;
        fa_ref.stop_at[s] = fa_bad.stop_at[s] = 0;
    }
    nn_pca_destroy(fa_ref.pca);
    nn_pca_destroy(fa_bad.pca);
    fa_ref.pca = fa_bad.pca = NULL;
    fa_img_n = 0;
    fa_pca_img_n = 0;
    fa_h.armed = 0;
}

/* Install the hook (no library block may be live). */
static int fa_install(void)
{
    if (fa_setup() != 0) return fa_failf("setup: out of memory");
    memset(&fa_h, 0, sizeof fa_h);
    FA_CHECK(nn_set_allocator(fa_alloc, fa_free, NULL) == NN_OK,
             "nn_set_allocator: %s", nn_last_error());
    return 0;
}

/* Remove the hook and free the harness's own memory (unit test). */
static void fa_uninstall(void) __attribute__((unused));
static void fa_uninstall(void)
{
    size_t k;
    nn_set_allocator(NULL, NULL, NULL);
    for (k = 0; k < 4; k++) {
        free(fa_idx[k].p);
        fa_idx[k].p = NULL;
    }
    free(fa_fp_prev.p);
    free(fa_fp_ref.p);
    free(fa_fp_bad.p);
    memset(&fa_fp_prev, 0, sizeof fa_fp_prev);
    memset(&fa_fp_ref, 0, sizeof fa_fp_ref);
    memset(&fa_fp_bad, 0, sizeof fa_fp_bad);
    fa_ready = 0;
}

/* Run one input; 0 if every check held, else -1 with fa_err set (the
   handles are destroyed either way). */
static int fa_run(const uint8_t *data, size_t size)
{
    fa_rd r = {data, size, 0};
    fa_args a;
    int k, g;
    uint64_t seed = 0;
    unsigned d;

    if (size < 11) return 0;
    fa_err[0] = '\0';
    for (k = 0; k < 8; k++) seed |= (uint64_t)data[k] << (8 * k);
    d = data[8];
    fa_h.seed = seed;
    fa_h.thresh = d * d;
    fa_h.nth = data[9] | (uint64_t)data[10] << 8;
    fa_h.n = 0;
    r.i = 11;
    FA_CHECK(nn__alloc_live() == 0 && fa_h.live == 0, "blocks live at the "
             "start of an input: library %ld, hook %ld", nn__alloc_live(),
             fa_h.live);
    fa_stats.inputs++;
    if (fa_fingerprint(&fa_ref, &fa_fp_prev)) return -1;
    for (k = 0; k < FA_MAX_OPS && r.i < r.n; k++) {
        g = fa_gen(&r, &a);
        if (g < 0) break;
        if (g == 0) continue;
        fa_stats.ops++;
        fa_stats.op_runs[a.op]++;
        if (fa_step(&a, k) != 0) break;
    }
    fa_teardown();
    if (fa_err[0] != '\0') return -1;
    FA_CHECK(fa_h.live == 0 && nn__alloc_live() == 0, "after destroying "
             "every handle: %ld blocks live (library count %ld)", fa_h.live,
             nn__alloc_live());
    return 0;
}

#endif /* FUZZ_ALLOC_HARNESS_H */
