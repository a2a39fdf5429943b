/*
 * test_oom.c - allocation-failure loops (SQLite's OOM tests) through the
 * public nn_set_allocator hook, and the no-allocation rule of steady-state
 * training steps.
 *
 * For every scenario (one library call on handles set up beforehand):
 *   1. a clean run counts the allocations K the call makes and records a
 *      fingerprint of everything observable afterwards (parameters,
 *      optimizer state and gradients read through the API, the bytes of
 *      the file written, the output buffers, any new handle);
 *   2. for k = 1..K, in one-shot mode (only allocation k fails) and in
 *      persistent mode (allocation k and every later one fail), the call
 *      must return NN_ERR_NOMEM with its out-pointer NULL, free everything
 *      it took (the library's live-block count and the hook's own count
 *      back to their values before the call), and leave the fingerprint
 *      bit-identical; then the same call, repeated without failures on the
 *      same handles, must give exactly the clean run's fingerprint.
 * The reference is the clean run on freshly set-up handles, so a failed
 * call that consumed random numbers, bumped an iteration count or left a
 * half-grown buffer is caught by the retry.
 */
#include "nntest.h"
#include "alloc_hook.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- the hook: tests/alloc_hook.c ---- */

/* ---- a growable byte string for fingerprints (plain malloc) ---- */

typedef struct { unsigned char *p; size_t n, cap; } fp_t;

static void fp_add(fp_t *f, const void *src, size_t n)
{
    if (f->n + n > f->cap) {
        size_t cap = (f->n + n) * 2 + 256;
        unsigned char *q = realloc(f->p, cap);
        if (q == NULL) abort();
        f->p = q;
        f->cap = cap;
    }
    memcpy(f->p + f->n, src, n);
    f->n += n;
}

/* ---- scenarios ---- */

enum { S_NET_CREATE, S_FORWARD, S_BACKWARD, S_OPT_CREATE, S_OPT_STEP,
       S_TRAINER_CREATE, S_TRAINER_FIT, S_SAVE, S_LOAD, S_SAVE_BUFFER,
       S_LOAD_BUFFER, S_CKPT_SAVE, S_CKPT_LOAD, S_CKPT_SAVE_BUFFER,
       S_CKPT_LOAD_BUFFER, S_IDX_READ, S_IDX_INFO, S_PREDICT, S_COUNT };

static const char *const s_names[S_COUNT] = {
    "nn_net_create", "nn_forward", "nn_backward", "nn_optimizer_create",
    "nn_optimizer_step", "nn_trainer_create", "nn_trainer_fit",
    "nn_net_save", "nn_net_load", "nn_net_save_buffer", "nn_net_load_buffer",
    "nn_checkpoint_save", "nn_checkpoint_load", "nn_checkpoint_save_buffer",
    "nn_checkpoint_load_buffer", "nn_idx_read(gzip)", "nn_idx_info(gzip)",
    "nn_predict"};

#define T_N 24          /* training rows (8 per class) */
#define T_V 9           /* validation rows */
#define IDX_N 5
#define IDX_R 6
#define IDX_C 7

static float t_x[T_N * 2], t_v[T_V * 2], t_t[T_N * 3];
static int32_t t_y[T_N], t_vy[T_V];
static size_t t_sizes[4] = {2, 16, 8, 3};
static int32_t t_acts[3] = {NN_ACT_RELU, NN_ACT_TANH, NN_ACT_SOFTMAX};

typedef struct {
    int scenario;
    int32_t kind;            /* optimizer kind */
    nn_net *net;
    nn_optimizer *opt;
    nn_trainer *tr;
    nn_net *net2;            /* outputs of create / load */
    nn_optimizer *opt2;
    nn_trainer *tr2;
    float out[T_N * 3];
    float idx[IDX_N * IDX_R * IDX_C];
    size_t count, ssize;
    unsigned char buf[16384];
    size_t bufsize;
    char path[512], gzpath[512];
} ctx_t;

static int c_net(nn_net **out, uint64_t seed)
{
    int s = nn_net_create(out, 3, t_sizes, t_acts, seed);
    if (s != NN_OK) return s;
    s = nn_net_set_layer_option(*out, 0, NN_LAYER_DROPOUT, 0.1);
    if (s == NN_OK) s = nn_net_set_layer_option(*out, 0, NN_LAYER_L2_WEIGHTS,
                                                5e-4);
    return s;
}

static int c_opt(nn_optimizer **out, nn_net *net, int32_t kind)
{
    int s = nn_optimizer_create(out, net, kind);
    if (s != NN_OK) return s;
    nn_optimizer_set(*out, NN_OPT_LEARNING_RATE,
                     kind == NN_OPT_SGD || kind == NN_OPT_ADAGRAD ? 0.5 : 0.02);
    nn_optimizer_set(*out, NN_OPT_DECAY, 1e-3);
    if (kind == NN_OPT_SGD) nn_optimizer_set(*out, NN_OPT_MOMENTUM, 0.9);
    return NN_OK;
}

static int c_step(nn_net *net, nn_optimizer *opt)
{
    int s = nn_forward(net, t_x, T_N, NULL);
    if (s == NN_OK) s = nn_backward_labels(net, t_y, NULL);
    if (s == NN_OK) s = nn_optimizer_step(opt);
    return s;
}

/* A gzip IDX file of IDX_N images IDX_R x IDX_C, written with zlib itself. */
static int c_write_gz(const char *path)
{
    unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, IDX_N, 0, 0, 0, IDX_R,
                             0, 0, 0, IDX_C};
    unsigned char px[IDX_N * IDX_R * IDX_C];
    size_t i;
    gzFile g = gzopen(path, "wb9");
    if (g == NULL) return 0;
    for (i = 0; i < sizeof px; i++) px[i] = (unsigned char)(i * 37u + 11u);
    if (gzwrite(g, hdr, sizeof hdr) != (int)sizeof hdr ||
        gzwrite(g, px, sizeof px) != (int)sizeof px) {
        gzclose(g);
        return 0;
    }
    return gzclose(g) == Z_OK;
}

/* Set the handles up for the scenario (no failures injected). */
static int setup(ctx_t *c)
{
    int s = NN_OK;
    size_t i;
    snprintf(c->path, sizeof c->path, "%s/model.nnfs", nnt_tmpdir());
    snprintf(c->gzpath, sizeof c->gzpath, "%s/img.idx.gz", nnt_tmpdir());
    for (i = 0; i < sizeof c->out / sizeof c->out[0]; i++) c->out[i] = -7.0f;
    for (i = 0; i < sizeof c->idx / sizeof c->idx[0]; i++) c->idx[i] = -3.0f;
    memset(c->buf, 0xA5, sizeof c->buf);
    c->count = c->ssize = 12345;
    if (c->scenario == S_NET_CREATE || c->scenario == S_IDX_READ ||
        c->scenario == S_IDX_INFO) {
        if (c->scenario != S_NET_CREATE && !c_write_gz(c->gzpath))
            return NN_ERR_IO;
        return NN_OK;
    }
    s = c_net(&c->net, 11);
    if (s != NN_OK) return s;
    switch (c->scenario) {
    case S_BACKWARD:
        return nn_forward(c->net, t_x, T_N, NULL);
    case S_OPT_STEP:
        s = c_opt(&c->opt, c->net, c->kind);
        if (s == NN_OK) s = nn_forward(c->net, t_x, T_N, NULL);
        if (s == NN_OK) s = nn_backward_labels(c->net, t_y, NULL);
        return s;
    case S_OPT_CREATE:
        return NN_OK;
    case S_TRAINER_CREATE: case S_TRAINER_FIT:
        s = c_opt(&c->opt, c->net, c->kind);
        if (s == NN_OK && c->scenario == S_TRAINER_FIT) {
            s = nn_trainer_create(&c->tr, c->net, c->opt);
            if (s == NN_OK) s = nn_trainer_set(c->tr, NN_TRAIN_BATCH_SIZE, 5);
            if (s == NN_OK) s = nn_trainer_set(c->tr, NN_TRAIN_EPOCHS, 2);
        }
        return s;
    case S_SAVE: {
        nn_net *old = NULL;     /* an existing file to be replaced */
        s = c_net(&old, 99);
        if (s == NN_OK) s = nn_net_save(old, c->path);
        nn_net_destroy(old);
        return s;
    }
    case S_CKPT_SAVE: case S_CKPT_SAVE_BUFFER:
    case S_CKPT_LOAD: case S_CKPT_LOAD_BUFFER:
        s = c_opt(&c->opt, c->net, c->kind);
        if (s == NN_OK) s = c_step(c->net, c->opt);
        if (s == NN_OK && c->scenario == S_CKPT_SAVE) {
            nn_net *old = NULL;
            s = c_net(&old, 99);
            if (s == NN_OK) s = nn_net_save(old, c->path);
            nn_net_destroy(old);
        }
        if (s == NN_OK && c->scenario == S_CKPT_LOAD)
            s = nn_checkpoint_save(c->net, c->opt, c->path);
        if (s == NN_OK && c->scenario == S_CKPT_LOAD_BUFFER)
            s = nn_checkpoint_save_buffer(c->net, c->opt, c->buf,
                                          sizeof c->buf, &c->bufsize);
        return s;
    case S_LOAD:
        return nn_net_save(c->net, c->path);
    case S_LOAD_BUFFER:
        return nn_net_save_buffer(c->net, c->buf, sizeof c->buf, &c->bufsize);
    default:
        return NN_OK;
    }
}

/* The call under test. */
static int call(ctx_t *c)
{
    switch (c->scenario) {
    case S_NET_CREATE: return c_net(&c->net2, 11);
    case S_FORWARD: return nn_forward(c->net, t_x, T_N, c->out);
    case S_BACKWARD: return nn_backward(c->net, NN_LOSS_CCE, t_t, c->out);
    case S_OPT_CREATE: return nn_optimizer_create(&c->opt2, c->net, c->kind);
    case S_OPT_STEP: return nn_optimizer_step(c->opt);
    case S_TRAINER_CREATE: return nn_trainer_create(&c->tr2, c->net, c->opt);
    case S_TRAINER_FIT:
        return nn_trainer_fit(c->tr, t_x, NULL, t_y, T_N, t_v, NULL, t_vy,
                              T_V);
    case S_SAVE: return nn_net_save(c->net, c->path);
    case S_LOAD: return nn_net_load(&c->net2, c->path);
    case S_SAVE_BUFFER:
        return nn_net_save_buffer(c->net, c->buf, sizeof c->buf, &c->bufsize);
    case S_LOAD_BUFFER: return nn_net_load_buffer(&c->net2, c->buf,
                                                  c->bufsize);
    case S_CKPT_SAVE: return nn_checkpoint_save(c->net, c->opt, c->path);
    case S_CKPT_LOAD: return nn_checkpoint_load(&c->net2, &c->opt2, c->path);
    case S_CKPT_SAVE_BUFFER:
        return nn_checkpoint_save_buffer(c->net, c->opt, c->buf,
                                         sizeof c->buf, &c->bufsize);
    case S_CKPT_LOAD_BUFFER:
        return nn_checkpoint_load_buffer(&c->net2, &c->opt2, c->buf,
                                         c->bufsize);
    case S_IDX_READ:
        return nn_idx_read(c->gzpath, c->idx, IDX_N, IDX_R * IDX_C,
                           NN_SCALE_UNIT);
    case S_IDX_INFO: return nn_idx_info(c->gzpath, &c->count, &c->ssize);
    case S_PREDICT: return nn_predict(c->net, t_x, T_N, c->out);
    default: return NN_ERR_INVALID_ARG;
    }
}

/* Everything observable about a net (and its optimizer): the checkpoint
   image (parameters, settings, optimizer state, bit-exact), the gradients
   when there are any, and the forward output of a fixed batch in
   inference mode is deliberately not used (it would grow scratch). */
static void fp_net(fp_t *f, const nn_net *net, const nn_optimizer *opt)
{
    static unsigned char img[16384];
    size_t n = 0, l;
    double it = -1.0;
    float g[16 * 8];
    if (net == NULL) { fp_add(f, "none", 4); return; }
    if (nn_checkpoint_save_buffer(net, opt, img, sizeof img, &n) != NN_OK)
        abort();
    fp_add(f, img, n);
    for (l = 0; l < 3; l++) {
        int s = nn_net_get_grads(net, l, g, NULL);
        fp_add(f, &s, sizeof s);
        if (s == NN_OK)
            fp_add(f, g, t_sizes[l] * t_sizes[l + 1] * sizeof(float));
    }
    if (opt != NULL && nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it) != NN_OK)
        abort();
    fp_add(f, &it, sizeof it);
}

static void fingerprint(const ctx_t *c, fp_t *f)
{
    FILE *fh;
    unsigned char b[4096];
    size_t n;
    f->n = 0;
    fp_net(f, c->net, c->opt);
    if (c->opt2 != NULL) fp_net(f, c->net2 ? c->net2 : c->net, c->opt2);
    else fp_net(f, c->net2, NULL);
    fp_add(f, c->tr2 ? "T" : "-", 1);
    fp_add(f, c->out, sizeof c->out);
    fp_add(f, c->idx, sizeof c->idx);
    fp_add(f, &c->count, sizeof c->count);
    fp_add(f, &c->ssize, sizeof c->ssize);
    fp_add(f, c->buf, sizeof c->buf);
    fp_add(f, &c->bufsize, sizeof c->bufsize);
    fh = fopen(c->path, "rb");
    if (fh != NULL) {
        while ((n = fread(b, 1, sizeof b, fh)) > 0) fp_add(f, b, n);
        fclose(fh);
    }
}

static void teardown(ctx_t *c)
{
    nn_trainer_destroy(c->tr2);
    nn_trainer_destroy(c->tr);
    nn_optimizer_destroy(c->opt2);
    nn_optimizer_destroy(c->opt);
    nn_net_destroy(c->net2);
    nn_net_destroy(c->net);
    remove(c->path);
    remove(c->gzpath);
    memset(c, 0, sizeof *c);
}

static void t_data(void)
{
    size_t i;
    if (nn_data_spiral(t_x, t_y, T_N / 3, 3, 5) != NN_OK ||
        nn_data_spiral(t_v, t_vy, T_V / 3, 3, 6) != NN_OK)
        nnt_fail(__FILE__, __LINE__, "nn_data_spiral: %s", nn_last_error());
    for (i = 0; i < T_N * 3; i++) t_t[i] = (i % 3 == (size_t)t_y[i / 3]);
}

/* Run one scenario's loop; returns the failure points tried. */
static long run_scenario(int scenario, int32_t kind)
{
    ctx_t c;
    fp_t clean = {0}, before = {0}, after = {0};
    long base = nn__alloc_live(), hbase = h_live, k_clean, k, tried = 0;
    int mode, s;

    memset(&c, 0, sizeof c);
    c.scenario = scenario;
    c.kind = kind;
    NNT_OK(setup(&c));
    h_arm(0, 0);
    NNT_OK(call(&c));
    k_clean = h_calls;
    fingerprint(&c, &clean);
    teardown(&c);
    NNT_EQ_INT(nn__alloc_live(), base);
    NNT_EQ_INT(h_live, hbase);

    for (mode = 0; mode < 2; mode++) {
        for (k = 1; k <= k_clean; k++) {
            long live0, hlive0;
            c.scenario = scenario;
            c.kind = kind;
            NNT_OK(setup(&c));
            fingerprint(&c, &before);
            live0 = nn__alloc_live();
            hlive0 = h_live;
            h_arm(k, mode);
            s = call(&c);
            h_disarm();
            if (s != NN_ERR_NOMEM || h_failed == 0)
                nnt_fail(__FILE__, __LINE__, "%s (kind %d) k=%ld %s: status "
                         "%d (%s), %ld failures injected: %s",
                         s_names[scenario], (int)kind, k,
                         mode ? "persistent" : "one-shot", s, nn_strerror(s),
                         h_failed, nn_last_error());
            NNT_TRUE(nn_last_error()[0] != '\0');
            NNT_TRUE(c.net2 == NULL && c.opt2 == NULL && c.tr2 == NULL);
            if (nn__alloc_live() != live0 || h_live != hlive0)
                nnt_fail(__FILE__, __LINE__, "%s k=%ld %s: leaked %ld "
                         "library blocks, %ld hook blocks",
                         s_names[scenario], k, mode ? "persistent" : "one-shot",
                         nn__alloc_live() - live0, h_live - hlive0);
            fingerprint(&c, &after);
            if (after.n != before.n || memcmp(after.p, before.p, after.n))
                nnt_fail(__FILE__, __LINE__, "%s (kind %d) k=%ld %s: failed "
                         "call changed observable state", s_names[scenario],
                         (int)kind, k, mode ? "persistent" : "one-shot");
            /* the same handles still work and give the clean result */
            s = call(&c);
            if (s != NN_OK)
                nnt_fail(__FILE__, __LINE__, "%s k=%ld retry: %s",
                         s_names[scenario], k, nn_last_error());
            fingerprint(&c, &after);
            if (after.n != clean.n || memcmp(after.p, clean.p, after.n))
                nnt_fail(__FILE__, __LINE__, "%s (kind %d) k=%ld %s: retry "
                         "differs from the clean run", s_names[scenario],
                         (int)kind, k, mode ? "persistent" : "one-shot");
            teardown(&c);
            NNT_EQ_INT(nn__alloc_live(), base);
            NNT_EQ_INT(h_live, hbase);
            tried++;
        }
    }
    printf("  %-26s kind %d: %ld allocations, %ld failure points\n",
           s_names[scenario], (int)kind, k_clean, tried);
    free(clean.p);
    free(before.p);
    free(after.p);
    return tried;
}

NN_TEST(oom_set_allocator_rules)
{
    nn_net *net = NULL;
    long base = nn__alloc_live();
    NNT_EQ_INT(base, 0);
    NNT_STATUS(nn_set_allocator(h_alloc, NULL, NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_set_allocator(NULL, h_free, NULL), NN_ERR_INVALID_ARG);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    h_arm(0, 0);
    NNT_OK(c_net(&net, 1));
    NNT_TRUE(h_calls > 0);
    NNT_EQ_INT(h_live, nn__alloc_live());
    /* blocks are live: no change allowed, in either direction */
    NNT_STATUS(nn_set_allocator(NULL, NULL, NULL), NN_ERR_STATE);
    NNT_STATUS(nn_set_allocator(h_alloc, h_free, &base), NN_ERR_STATE);
    nn_net_destroy(net);
    NNT_EQ_INT(h_live, 0);
    NNT_EQ_INT(nn__alloc_live(), 0);
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    /* the default is back: the hook sees nothing */
    h_arm(0, 0);
    net = NULL;
    NNT_OK(c_net(&net, 1));
    NNT_EQ_INT(h_calls, 0);
    nn_net_destroy(net);
    NNT_EQ_INT(nn__alloc_live(), 0);
}

NN_TEST(oom_every_failure_point)
{
    long total = 0;
    int s;
    int32_t kind;
    t_data();
    NNT_EQ_INT(nn__alloc_live(), 0);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    for (s = 0; s < S_COUNT; s++) {
        if (s == S_OPT_CREATE || s == S_OPT_STEP || s == S_TRAINER_FIT ||
            s == S_CKPT_SAVE || s == S_CKPT_LOAD || s == S_CKPT_LOAD_BUFFER) {
            for (kind = NN_OPT_SGD; kind <= NN_OPT_ADAM; kind++)
                total += run_scenario(s, kind);
        } else {
            total += run_scenario(s, NN_OPT_ADAM);
        }
    }
    h_disarm();
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    printf("  %ld failure points, each NN_ERR_NOMEM with no leak and no "
           "observable change\n", total);
    NNT_TRUE(total > 0);
}

static long z_calls_at_step[64];
static int z_steps;

static int z_cb(void *user, const nn_trainer *tr, int32_t event)
{
    (void)user; (void)tr;
    if (event == NN_EVENT_STEP && z_steps < 64)
        z_calls_at_step[z_steps++] = h_calls;
    return 0;
}

NN_TEST(oom_steady_state_steps_allocate_nothing)
{
    int32_t kind;
    t_data();
    NNT_EQ_INT(nn__alloc_live(), 0);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    for (kind = NN_OPT_SGD; kind <= NN_OPT_ADAM; kind++) {
        nn_net *net = NULL;
        nn_optimizer *opt = NULL;
        nn_trainer *tr = NULL;
        int i;
        long steps;
        NNT_OK(c_net(&net, 3));
        NNT_OK(c_opt(&opt, net, kind));
        NNT_OK(c_step(net, opt));                   /* warm-up */
        h_arm(0, 0);
        for (i = 0; i < 10; i++) {
            NNT_OK(nn_forward(net, t_x, T_N, NULL));
            NNT_OK(nn_backward(net, NN_LOSS_CCE, t_t, NULL));
            NNT_OK(nn_optimizer_step(opt));
            NNT_OK(c_step(net, opt));
            /* the fused backward + SGD step too */
            NNT_OK(nn_forward(net, t_x, T_N, NULL));
            NNT_OK(nn_backward_sgd(net, NN_LOSS_CCE, t_t, 0.01f, NULL));
        }
        NNT_EQ_INT(h_calls, 0);
        /* trainer: batches of 5 (the last one 4), 3 epochs, a report at
           every step; no allocation between the first and last step */
        NNT_OK(nn_trainer_create(&tr, net, opt));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 5));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 3));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_REPORT_EVERY, 1));
        NNT_OK(nn_trainer_set_callback(tr, z_cb, NULL));
        z_steps = 0;
        h_arm(0, 0);
        NNT_OK(nn_trainer_fit(tr, t_x, NULL, t_y, T_N, t_v, NULL, t_vy, T_V));
        steps = z_steps;
        NNT_EQ_INT(steps, 15);
        NNT_EQ_INT(z_calls_at_step[steps - 1], z_calls_at_step[0]);
        if (kind == NN_OPT_SGD)
            printf("  fit: %ld allocations before the first step, %ld over "
                   "the next %ld steps\n", z_calls_at_step[0],
                   z_calls_at_step[steps - 1] - z_calls_at_step[0],
                   steps - 1);
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
        NNT_EQ_INT(h_live, 0);
    }
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
}

/* gzip (not zlib) stream of src, made with zlib's deflate; returns the
   size written to dst (capacity cap), 0 on failure. */
static size_t g_gzip(const unsigned char *src, size_t n, unsigned char *dst,
                     size_t cap)
{
    z_stream z;
    size_t out;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        deflateEnd(&z);
        return 0;
    }
    out = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* A tiny gzip stream that declares a huge image must not make the parser
   allocate the declared size: the largest block stays within a small
   multiple of what the stream really inflates to (the buffer grows with
   the data).  Real data of high compression ratio still decodes exactly,
   and an allocation failure at every step of the growth is clean. */
NN_TEST(oom_idx_gzip_allocation_bounded)
{
    enum { N = 100, R = 28, C = 28, P = N * R * C };
    static unsigned char raw[16 + P], gz[4096];
    static float out[P];
    size_t gzn, cnt = 0, ss = 0, i, bad = 0, gzbig, peak_good, peak_bad;
    long k, pts = 0;
    int st, mode;
    const unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, R,
                                   0, 0, 0, C};
    memcpy(raw, hdr, 16);
    for (i = 0; i < P; i++)   /* low-entropy rows: ratio far above 8 */
        raw[16 + i] = (unsigned char)((i % C) < 14 ? 0 : 255);
    gzn = g_gzip(raw, sizeof raw, gz, sizeof gz);
    NNT_TRUE(gzn > 0 && gzn * 8 < P);   /* so the growth path runs */
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    h_arm(0, 0);
    h_peak = 0;
    NNT_OK(nn_idx_parse_buffer(gz, gzn, out, P, NN_SCALE_UNIT, &cnt, &ss));
    NNT_TRUE(cnt == N && ss == R * C);
    for (i = 0; i < P; i++)
        if (out[i] != (float)raw[16 + i] / 255.0f) bad++;
    NNT_TRUE(bad == 0);
    NNT_TRUE(h_calls >= 2);
    NNT_TRUE(h_peak <= 2u * P + 4096u);
    peak_good = h_peak;
    NNT_EQ_INT(h_live, 0);
    /* the same data declared as 60000 images: 47 MB announced */
    raw[6] = 0xEA;
    raw[7] = 0x60;
    gzbig = g_gzip(raw, sizeof raw, gz, sizeof gz);
    NNT_TRUE(gzbig > 0);
    h_arm(0, 0);
    h_peak = 0;
    st = nn_idx_parse_buffer(gz, gzbig, NULL, 0, NN_SCALE_UNIT, &cnt, &ss);
    NNT_STATUS(st, NN_ERR_FORMAT);
    NNT_TRUE(h_peak <= 4u * P);
    peak_bad = h_peak;
    NNT_EQ_INT(h_live, 0);
    /* every allocation of the good parse failed in turn */
    gzn = g_gzip((raw[6] = 0, raw[7] = N, raw), sizeof raw, gz, sizeof gz);
    for (mode = 0; mode < 2; mode++) {
        for (k = 1;; k++) {
            h_arm(k, mode);
            st = nn_idx_parse_buffer(gz, gzn, out, P, NN_SCALE_UNIT, &cnt,
                                     &ss);
            h_disarm();
            NNT_EQ_INT(h_live, 0);
            NNT_EQ_INT(nn__alloc_live(), 0);
            if (h_failed == 0) {
                NNT_OK(st);
                break;
            }
            NNT_STATUS(st, NN_ERR_NOMEM);
            pts++;
        }
    }
    NNT_TRUE(pts >= 4);
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    printf("  gzip %zu -> %d bytes: largest block %zu; 60000-image forgery "
           "(%zu bytes) rejected, largest block %zu; %ld failure points\n",
           gzn, P + 16, peak_good, gzbig, peak_bad, pts);
}

/* nn_idx_load, the one-pass loader the CLI uses: every allocation sized
   by what the data has proven.  Sizes of the blocks requested are kept
   here (the hook keeps only the largest). */
static size_t l_big, l_limit;
static void *l_alloc(void *user, size_t size)
{
    if (size >= l_limit) l_big++;
    return h_alloc(user, size);
}

static const char *l_write(const char *name, const unsigned char *b,
                           size_t n)
{
    static char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", nnt_tmpdir(), name);
    f = fopen(path, "wb");
    NNT_TRUE(f != NULL);
    NNT_EQ_SIZE(fwrite(b, 1, n, f), n);
    NNT_EQ_INT(fclose(f), 0);
    return path;
}

/* every allocation failure of nn_idx_load(path) in turn is clean */
static long l_failures(const char *path)
{
    float *x;
    size_t cnt, ss;
    long k, pts = 0;
    int st, mode;
    for (mode = 0; mode < 2; mode++) {
        for (k = 1;; k++) {
            h_arm(k, mode);
            x = (float *)&cnt;
            st = nn_idx_load(path, NN_SCALE_UNIT, &x, &cnt, &ss);
            h_disarm();
            if (h_failed == 0) {
                NNT_OK(st);
                nn_idx_free(x);
                break;
            }
            NNT_STATUS(st, NN_ERR_NOMEM);
            NNT_TRUE(x == NULL);
            NNT_EQ_INT(h_live, 0);
            NNT_EQ_INT(nn__alloc_live(), 0);
            pts++;
        }
    }
    return pts;
}

NN_TEST(oom_idx_load_bounded_and_clean)
{
    enum { N = 100, R = 28, C = 28, P = N * R * C };
    static unsigned char raw[16 + P], gz[2 * P];
    const unsigned char hdr[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, R,
                                   0, 0, 0, C};
    const char *path;
    float *x = NULL;
    size_t gzn, cnt = 0, ss = 0, i, bad = 0, peak_fast, peak_forged;
    uint32_t r = 12345;
    long pts;

    memcpy(raw, hdr, 16);
    for (i = 0; i < P; i++) {   /* noisy pixels: ratio about 1, fast path */
        r = r * 1103515245u + 12345u;
        raw[16 + i] = (unsigned char)(r >> 24);
    }
    gzn = g_gzip(raw, sizeof raw, gz, sizeof gz);
    NNT_TRUE(gzn > 0 && gzn * 8 > P);
    path = l_write("load-noisy.idx.gz", gz, gzn);
    NNT_OK(nn_set_allocator(l_alloc, h_free, NULL));
    h_arm(0, 0);
    h_peak = 0;
    l_big = 0;
    l_limit = P / 2;
    NNT_OK(nn_idx_load(path, NN_SCALE_UNIT, &x, &cnt, &ss));
    NNT_TRUE(cnt == N && ss == R * C);
    for (i = 0; i < P; i++)
        if (x[i] != (float)raw[16 + i] / 255.0f) bad++;
    NNT_EQ_SIZE(bad, 0);
    NNT_EQ_INT(h_live, 1);   /* the array, until nn_idx_free */
    nn_idx_free(x);
    NNT_EQ_INT(h_live, 0);
    /* one pass: the file, then the float array holding the bytes until
       they are widened in place; no separate block of the P bytes */
#ifdef NNFS_HAVE_LIBDEFLATE
    NNT_EQ_SIZE(l_big, 2);   /* the file (gzn > P / 2) and the array */
#else
    NNT_TRUE(l_big <= 3);    /* zlib: the bytes, then the array */
#endif
    NNT_TRUE(h_peak <= 4u * (16u + P) + 128u);   /* + alignment */
    peak_fast = h_peak;
    pts = l_failures(path);
    NNT_TRUE(pts >= 2);

    /* the same noisy stream declaring 60000 images (47 MB): refused as
       truncated, the largest block bounded by the stream, not the header */
    raw[6] = 0xEA;
    raw[7] = 0x60;
    gzn = g_gzip(raw, sizeof raw, gz, sizeof gz);
    path = l_write("load-forged.idx.gz", gz, gzn);
    h_arm(0, 0);
    h_peak = 0;
    x = (float *)&cnt;
    cnt = 7;
    NNT_STATUS(nn_idx_load(path, NN_SCALE_UNIT, &x, &cnt, &ss),
               NN_ERR_FORMAT);
    NNT_MSG_HAS("truncated");
    NNT_MSG_HAS(path);
    NNT_TRUE(x == NULL && cnt == 7);
    NNT_TRUE(h_peak <= 32u * gzn + 128u);
    peak_forged = h_peak;
    NNT_EQ_INT(h_live, 0);
    /* a forged trailer claiming 8 times the file: at most 32 times the
       file is allocated before the data is seen, then refused */
    raw[6] = 0;
    raw[7] = N;
    gzn = g_gzip(raw, sizeof raw, gz, sizeof gz);
    i = 8 * gzn;
    gz[gzn - 4] = (unsigned char)i;
    gz[gzn - 3] = (unsigned char)(i >> 8);
    gz[gzn - 2] = (unsigned char)(i >> 16);
    gz[gzn - 1] = (unsigned char)(i >> 24);
    path = l_write("load-isize.idx.gz", gz, gzn);
    h_arm(0, 0);
    h_peak = 0;
    NNT_STATUS(nn_idx_load(path, NN_SCALE_UNIT, &x, &cnt, &ss),
               NN_ERR_FORMAT);
    NNT_MSG_HAS("damaged gzip");
    NNT_TRUE(h_peak <= 32u * gzn + 128u);
    NNT_EQ_INT(h_live, 0);

    /* low-entropy rows (ratio far above 8): the zlib path, exact values,
       clean failures */
    for (i = 0; i < P; i++)
        raw[16 + i] = (unsigned char)((i % C) < 14 ? 0 : 255);
    gzn = g_gzip(raw, sizeof raw, gz, sizeof gz);
    NNT_TRUE(gzn * 8 < P);
    path = l_write("load-flat.idx.gz", gz, gzn);
    h_arm(0, 0);
    NNT_OK(nn_idx_load(path, NN_SCALE_UNIT, &x, &cnt, &ss));
    for (i = 0; i < P; i++)
        if (x[i] != (float)raw[16 + i] / 255.0f) bad++;
    NNT_EQ_SIZE(bad, 0);
    nn_idx_free(x);
    pts += l_failures(path);
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    printf("  noisy %d bytes: largest block %zu; 60000-image forgery "
           "refused, largest block %zu; %ld failure points\n", P + 16,
           peak_fast, peak_forged, pts);
}

/* Regression, found by fuzz_alloc: with a penalty so large that the bound
   on a gradient cannot prove it finite (L1 = 1e38 > FLT_MAX / 8), every
   nn_backward computed the exact gradient in memory it allocated, so a
   fit could fail with NN_ERR_NOMEM after its first steps had changed the
   net (and kept the scratch it had reserved).  The exact check now uses
   scratch the forward takes: no step allocates, and a fit that runs out
   of memory changes nothing. */
NN_TEST(oom_fit_huge_penalty_steps_allocate_nothing)
{
    static unsigned char before[8192], after[8192];
    size_t sizes[3] = {2, 6, 3}, nb = 0, na = 0;
    int32_t acts[2] = {NN_ACT_TANH, NN_ACT_LINEAR};
    long k, k_clean = 0, pts = 0;
    t_data();
    NNT_EQ_INT(nn__alloc_live(), 0);
    NNT_OK(nn_set_allocator(h_alloc, h_free, NULL));
    for (k = 0; k == 0 || k <= k_clean; k++) {   /* k = 0: the clean run */
        nn_net *net = NULL;
        nn_optimizer *opt = NULL;
        nn_trainer *tr = NULL;
        long live0;
        int st;
        h_disarm();
        NNT_OK(nn_net_create(&net, 2, sizes, acts, 5));
        NNT_OK(nn_net_set_layer_option(net, 0, NN_LAYER_L1_WEIGHTS, 1e38));
        NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_SGD));
        NNT_OK(nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 1e-3));
        NNT_OK(nn_trainer_create(&tr, net, opt));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_LOSS, NN_LOSS_MSE));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, 4));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_EPOCHS, 2));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_SHUFFLE, 0));
        NNT_OK(nn_trainer_set(tr, NN_TRAIN_REPORT_EVERY, 1));
        NNT_OK(nn_trainer_set_callback(tr, z_cb, NULL));
        NNT_OK(nn_checkpoint_save_buffer(net, opt, before, sizeof before,
                                         &nb));
        live0 = h_live;
        z_steps = 0;
        h_arm(k, 0);
        st = nn_trainer_fit(tr, t_x, t_t, NULL, 16, NULL, NULL, NULL, 0);
        h_disarm();
        if (k == 0) {
            NNT_OK(st);
            k_clean = h_calls;
            NNT_EQ_INT(z_steps, 8);
            NNT_EQ_INT(z_calls_at_step[z_steps - 1], z_calls_at_step[0]);
            NNT_OK(nn_checkpoint_save_buffer(net, opt, after, sizeof after,
                                             &na));
            NNT_TRUE(na == nb && memcmp(after, before, nb) != 0);
        } else {
            NNT_STATUS(st, NN_ERR_NOMEM);
            NNT_EQ_INT(z_steps, 0);
            NNT_EQ_INT(h_live, live0);
            NNT_OK(nn_checkpoint_save_buffer(net, opt, after, sizeof after,
                                             &na));
            NNT_TRUE(na == nb && memcmp(after, before, nb) == 0);
            pts++;
        }
        nn_trainer_destroy(tr);
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
        NNT_EQ_INT(h_live, 0);
    }
    NNT_OK(nn_set_allocator(NULL, NULL, NULL));
    NNT_TRUE(pts > 0);
    printf("  fit with L1 = 1e38: %ld allocations, all before the first "
           "step; each failed in turn: NN_ERR_NOMEM, nothing changed\n",
           k_clean);
}

/* Regression, found by fuzz_alloc under UBSan: a layer whose x W + b is
   NaN (here inf - inf: x = (3e38, -3e38) times W = (2, 2)) reached
   nn__expf, which converted the NaN to int, undefined behaviour that
   UBSan's float-cast-overflow check reports.  Every activation built on
   the exponential must still give NN_ERR_NONFINITE, in nn_forward and
   nn_predict, without the undefined conversion (checked by the
   asan-ubsan tier, which runs this test under UBSan). */
NN_TEST(oom_fuzz_nan_preactivation_is_defined)
{
    static const int32_t acts[3] = {NN_ACT_SIGMOID, NN_ACT_TANH,
                                    NN_ACT_SOFTMAX};
    size_t sizes[2] = {2, 1}, i;
    const float w[2] = {2.0f, 2.0f}, b[1] = {0.0f};
    const float x[2] = {3e38f, -3e38f};
    for (i = 0; i < 3; i++) {
        nn_net *net = NULL;
        float out[1] = {-7.0f};
        NNT_OK(nn_net_create(&net, 1, sizes, &acts[i], 1));
        NNT_OK(nn_net_set_params(net, 0, w, b));
        NNT_STATUS(nn_forward(net, x, 1, out), NN_ERR_NONFINITE);
        NNT_TRUE(out[0] == -7.0f);
        NNT_STATUS(nn_predict(net, x, 1, out), NN_ERR_NONFINITE);
        nn_net_destroy(net);
    }
    NNT_EQ_INT(nn__alloc_live(), 0);
}

/* T8 without libFuzzer: the fuzz_alloc harness (two worlds, one with the
   seeded failure schedule armed; see fuzz/fuzz_alloc_harness.h for every
   check) on 200 random programs and schedules drawn from the run's seed,
   then on every input of the committed corpus (fuzz/corpus/fuzz_alloc/,
   which holds the inputs that found bugs). */
#include "../fuzz/fuzz_alloc_harness.h"

#include <dirent.h>

static void r_fail(const char *what, const char *err)
{
    char msg[1200];
    snprintf(msg, sizeof msg, "%s", err);
    fa_uninstall();
    nnt_fail(__FILE__, __LINE__, "%s: %s", what, msg);
}

NN_TEST(oom_random_schedules)
{
    static uint8_t in[4096];
    const char *dir = NNT_SOURCE_DIR "/fuzz/corpus/fuzz_alloc";
    uint64_t seed = nnt_seed();
    char what[600];
    size_t i, j, len, files = 0;
    DIR *d;
    struct dirent *e;
    NNT_EQ_INT(nn__alloc_live(), 0);
    if (fa_install() != 0) r_fail("fa_install", fa_err);
    memset(&fa_stats, 0, sizeof fa_stats);
    for (i = 0; i < 200; i++) {
        uint64_t r = seed * 0x9E3779B97F4A7C15ull + i;
        len = 11 + 24 + fa_mix(r) % 256;
        for (j = 0; j < len; j++) in[j] = (uint8_t)fa_mix(r ^ (j << 32));
        /* densities from none (nth only) to about 1 in 4 */
        in[8] = (uint8_t)((i % 4) * 40);
        in[11] = FA_CREATE << 1;   /* most programs start with a net */
        in[12] %= 3;
        if (fa_run(in, len) != 0) {
            snprintf(what, sizeof what, "random program %zu (seed %llu)", i,
                     (unsigned long long)seed);
            r_fail(what, fa_err);
        }
    }
    d = opendir(dir);
    if (d == NULL) r_fail(dir, "cannot open the corpus");
    while ((e = readdir(d)) != NULL) {
        char path[1024];
        FILE *f;
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        f = fopen(path, "rb");
        if (f == NULL) continue;
        len = fread(in, 1, sizeof in, f);
        fclose(f);
        files++;
        if (fa_run(in, len) != 0) {
            closedir(d);
            r_fail(path, fa_err);
        }
    }
    closedir(d);
    fa_uninstall();
    printf("  %llu programs (%zu from the corpus), %llu calls with failures "
           "armed, %llu allocations failed, %llu NN_ERR_NOMEM (each redone "
           "and equal to the reference), %llu diverged alike\n",
           (unsigned long long)fa_stats.inputs, files,
           (unsigned long long)fa_stats.calls_armed,
           (unsigned long long)fa_stats.injected,
           (unsigned long long)fa_stats.nomem,
           (unsigned long long)fa_stats.nonfinite);
    NNT_TRUE(files >= 25);
    NNT_TRUE(fa_stats.nomem > 100);
    NNT_EQ_INT(nn__alloc_live(), 0);
}
