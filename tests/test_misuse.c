/*
 * test_misuse.c - handle misuse becomes NN_ERR_MISUSE (SQLite's
 * sqlite3SafetyCheckOk): every public function that takes a handle is
 * called with a handle of each other type, with destroyed handles of
 * every type and with a pointer that is no handle at all, and must return
 * NN_ERR_MISUSE (0 or -1 for the getters, nothing for destroy) with the
 * message "fn: arg is not a live nn_X (...)", changing nothing.
 *
 * Destroyed handles stay readable and unreused because the handles are
 * made under a keeping allocator (nn_set_allocator) whose free records the
 * block instead of releasing it; it also counts blocks freed twice, so a
 * second destroy that frees again is seen.  Every misuse call runs in a
 * forked child (without the checks it reads garbage and may crash); the
 * child sends back the return value, the message and whether the state
 * of all handles is unchanged.
 */
#include "nntest.h"
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*====== The keeping allocator ======*/

#define KEEP_MAX 8192
static void *kept[KEEP_MAX];
static size_t n_kept;
static long double_frees, lost_frees;

static void *k_alloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void k_free(void *user, void *ptr)
{
    size_t i;
    (void)user;
    for (i = 0; i < n_kept; i++)
        if (kept[i] == ptr) {
            double_frees++;
            return;
        }
    if (n_kept < KEEP_MAX) kept[n_kept++] = ptr;
    else lost_frees++;
}

static int keep_begin(void)
{
    n_kept = 0;
    double_frees = lost_frees = 0;
    return nn_set_allocator(k_alloc, k_free, NULL);
}

/* Back to the C library's allocator (every handle must be destroyed),
   then really free the kept blocks.  Returns the status of
   nn_set_allocator. */
static int keep_end(void)
{
    size_t i;
    int st = nn_set_allocator(NULL, NULL, NULL);
    if (st != NN_OK) return st;
    for (i = 0; i < n_kept; i++) free(kept[i]);
    n_kept = 0;
    return NN_OK;
}

/*====== The handles every case works on ======*/

enum { T_NET, T_OPT, T_TRAINER, T_PCA, T_N };
static const char *const tname[T_N] = {"nn_net", "nn_optimizer",
                                       "nn_trainer", "nn_pca"};

static struct {
    nn_net *net;
    nn_optimizer *opt;
    nn_trainer *tr;
    nn_pca *pca;
    void *dead[T_N];
    char path[4096], ppath[4096];
} G;

/* 64-byte aligned, zero: not a handle of any kind */
static _Alignas(64) unsigned char not_a_handle[128];

static float gx[8] = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.5f, 1.0f, 0.0f};
static float gt[8] = {0.1f, 0.9f, 0.8f, 0.2f, 0.3f, 0.7f, 0.6f, 0.4f};
static int32_t glab[4] = {1, 0, 1, 0};
static float pdata[16] = {1, 2, 2, 3.5f, 3, 5.5f, 4, 8, 5, 9.5f,
                          6, 12, 7, 14.5f, 8, 15};
static float gout[64], gw[64], gb[64], py[4] = {0.5f, -0.5f, 1, 0};
static double gd[64];
static unsigned char gbuf[1 << 16];

static int make_handles(nn_net **net, nn_optimizer **opt, nn_trainer **tr,
                        nn_pca **pca)
{
    static const size_t sizes[] = {2, 4, 2};
    static const int32_t acts[] = {NN_ACT_RELU, NN_ACT_LINEAR};
    float loss;
    int st = nn_net_create(net, 2, sizes, acts, 7);
    if (st == NN_OK) st = nn_optimizer_create(opt, *net, NN_OPT_ADAM);
    if (st == NN_OK) st = nn_trainer_create(tr, *net, *opt);
    if (st == NN_OK) st = nn_trainer_set(*tr, NN_TRAIN_LOSS, NN_LOSS_MSE);
    if (st == NN_OK) st = nn_pca_fit(pca, pdata, 8, 2, 1, 0, 0.0);
    /* a forward and a backward, so that the calls needing them work
       with the right handle */
    if (st == NN_OK) st = nn_forward(*net, gx, 4, gout);
    if (st == NN_OK) st = nn_backward(*net, NN_LOSS_MSE, gt, &loss);
    return st;
}

static void destroy_handles(nn_net *net, nn_optimizer *opt, nn_trainer *tr,
                            nn_pca *pca)
{
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    nn_pca_destroy(pca);
}

/* FNV-1a over everything a misused call could change: the net and
   optimizer (a checkpoint image), the net's training state, the PCA's
   image, the trainer's settings and metrics, the library's live block
   count and the keeping allocator's counts. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

static uint64_t state_hash(void)
{
    static unsigned char img[1 << 16];
    uint64_t h = 0xcbf29ce484222325ull;
    size_t size = 0;
    long live = nn__alloc_live();
    double v;
    int32_t i;
    if (nn_checkpoint_save_buffer(G.net, G.opt, img, sizeof img, &size) !=
        NN_OK)
        return 1;
    h = fnv(h, img, size);
    if (nn_pca_save_buffer(G.pca, img, sizeof img, &size) != NN_OK) return 2;
    h = fnv(h, img, size);
    h = fnv(h, &G.net->batch, sizeof G.net->batch);
    h = fnv(h, &G.net->has_grads, sizeof G.net->has_grads);
    h = fnv(h, &G.net->cur, sizeof G.net->cur);
    for (i = NN_TRAIN_LOSS; i <= NN_TRAIN_REPORT_EVERY; i++) {
        if (nn_trainer_get(G.tr, i, &v) != NN_OK) return 3;
        h = fnv(h, &v, sizeof v);
    }
    for (i = NN_METRIC_EPOCH; i <= NN_METRIC_STOPPED; i++) {
        if (nn_trainer_metric(G.tr, i, &v) != NN_OK) return 4;
        h = fnv(h, &v, sizeof v);
    }
    h = fnv(h, &live, sizeof live);
    h = fnv(h, &n_kept, sizeof n_kept);
    h = fnv(h, &double_frees, sizeof double_frees);
    return h;
}

/*====== One wrapper per (function, handle argument) ======*/

/* Create wrappers return this when *out is not NULL after a failure. */
#define OUT_SET (-1000)

static long long c_net_init(void *h)
{ return nn_net_init(h, NN_ALL_LAYERS, NN_INIT_DEFAULT, 1.0, 3); }
static long long c_net_destroy(void *h) { nn_net_destroy(h); return 0; }
static long long c_num_layers(void *h)
{ return (long long)nn_net_num_layers(h); }
static long long c_layer_inputs(void *h)
{ return (long long)nn_net_layer_inputs(h, 0); }
static long long c_layer_outputs(void *h)
{ return (long long)nn_net_layer_outputs(h, 0); }
static long long c_layer_activation(void *h)
{ return nn_net_layer_activation(h, 0); }
static long long c_num_params(void *h)
{ return (long long)nn_net_num_params(h); }
static long long c_get_params(void *h)
{ return nn_net_get_params(h, 0, gw, gb); }
static long long c_set_params(void *h)
{ return nn_net_set_params(h, 0, gw, gb); }
static long long c_get_grads(void *h)
{ return nn_net_get_grads(h, 0, gw, gb); }
static long long c_forward(void *h) { return nn_forward(h, gx, 4, gout); }
static long long c_backward(void *h)
{ float l; return nn_backward(h, NN_LOSS_MSE, gt, &l); }
static long long c_backward_labels(void *h)
{ float l; return nn_backward_labels(h, glab, &l); }
static long long c_sgd_step(void *h) { return nn_sgd_step(h, 0.01f); }
static long long c_backward_sgd(void *h)
{ float l; return nn_backward_sgd(h, NN_LOSS_MSE, gt, 0.01f, &l); }
static long long c_backward_labels_sgd(void *h)
{ float l; return nn_backward_labels_sgd(h, glab, 0.01f, &l); }
static long long c_set_layer_option(void *h)
{ return nn_net_set_layer_option(h, 0, NN_LAYER_L2_WEIGHTS, 0.1); }
static long long c_get_layer_option(void *h)
{ return nn_net_get_layer_option(h, 0, NN_LAYER_L2_WEIGHTS, gd); }
static long long c_regularization_loss(void *h)
{ float l; return nn_net_regularization_loss(h, &l); }
static long long c_predict(void *h) { return nn_predict(h, gx, 4, gout); }
static long long c_net_save(void *h) { return nn_net_save(h, G.path); }
#ifdef NNFS_HAVE_ONNX
static long long c_export_onnx(void *h)
{ return nn_net_export_onnx(h, G.path); }
static long long c_export_onnx_buffer(void *h)
{ size_t n; return nn_net_export_onnx_buffer(h, NULL, 0, &n); }
#endif
static long long c_net_save_buffer(void *h)
{ size_t n; return nn_net_save_buffer(h, gbuf, sizeof gbuf, &n); }
static long long c_ckpt_save_net(void *h)
{ return nn_checkpoint_save(h, G.opt, G.path); }
static long long c_ckpt_save_opt(void *h)
{ return nn_checkpoint_save(G.net, h, G.path); }
static long long c_ckpt_buffer_net(void *h)
{ size_t n; return nn_checkpoint_save_buffer(h, G.opt, gbuf, sizeof gbuf, &n); }
static long long c_ckpt_buffer_opt(void *h)
{ size_t n; return nn_checkpoint_save_buffer(G.net, h, gbuf, sizeof gbuf, &n); }
static long long c_singular_values(void *h)
{ size_t n; return nn_net_layer_singular_values(h, 0, gout, 8, &n); }
static long long c_spectral_norm(void *h)
{ return nn_net_layer_spectral_norm(h, 0, gd); }
static long long c_fit_readout(void *h)
{ int32_t m; return nn_net_fit_readout(h, gx, gt, 4, 1e-3, &m, gd); }
static long long c_opt_create(void *h)
{
    nn_optimizer *o = (nn_optimizer *)(void *)not_a_handle;
    int st = nn_optimizer_create(&o, h, NN_OPT_SGD);
    if (st != NN_OK) return o == NULL ? st : OUT_SET;
    nn_optimizer_destroy(o);
    return st;
}
static long long c_trainer_create_net(void *h)
{
    nn_trainer *t = (nn_trainer *)(void *)not_a_handle;
    int st = nn_trainer_create(&t, h, G.opt);
    if (st != NN_OK) return t == NULL ? st : OUT_SET;
    nn_trainer_destroy(t);
    return st;
}
static long long c_trainer_create_opt(void *h)
{
    nn_trainer *t = (nn_trainer *)(void *)not_a_handle;
    int st = nn_trainer_create(&t, G.net, h);
    if (st != NN_OK) return t == NULL ? st : OUT_SET;
    nn_trainer_destroy(t);
    return st;
}
static long long c_opt_destroy(void *h) { nn_optimizer_destroy(h); return 0; }
static long long c_opt_kind(void *h) { return nn_optimizer_kind(h); }
static long long c_opt_set(void *h)
{ return nn_optimizer_set(h, NN_OPT_LEARNING_RATE, 0.01); }
static long long c_opt_get(void *h)
{ return nn_optimizer_get(h, NN_OPT_LEARNING_RATE, gd); }
static long long c_opt_step(void *h) { return nn_optimizer_step(h); }
static long long c_opt_reset(void *h) { return nn_optimizer_reset(h); }
static long long c_tr_destroy(void *h) { nn_trainer_destroy(h); return 0; }
static long long c_tr_set(void *h)
{ return nn_trainer_set(h, NN_TRAIN_EPOCHS, 2); }
static long long c_tr_get(void *h)
{ return nn_trainer_get(h, NN_TRAIN_EPOCHS, gd); }
static long long c_tr_set_callback(void *h)
{ return nn_trainer_set_callback(h, NULL, NULL); }
static long long c_tr_metric(void *h)
{ return nn_trainer_metric(h, NN_METRIC_LOSS, gd); }
static long long c_tr_fit(void *h)
{ return nn_trainer_fit(h, gx, gt, NULL, 4, NULL, NULL, NULL, 0); }
static long long c_pca_destroy(void *h) { nn_pca_destroy(h); return 0; }
static long long c_pca_transform(void *h)
{ return nn_pca_transform(h, gx, 4, gout); }
static long long c_pca_inverse(void *h)
{ return nn_pca_inverse_transform(h, py, 4, gout); }
static long long c_pca_features(void *h)
{ return (long long)nn_pca_num_features(h); }
static long long c_pca_components(void *h)
{ return (long long)nn_pca_num_components(h); }
static long long c_pca_params(void *h)
{ return nn_pca_get_params(h, gd, gout); }
static long long c_pca_variance(void *h)
{ return nn_pca_get_variance(h, gd, gd + 8); }
static long long c_pca_settings(void *h)
{ int32_t f; return nn_pca_get_settings(h, &f, gd); }
static long long c_pca_save(void *h) { return nn_pca_save(h, G.ppath); }
static long long c_pca_save_buffer(void *h)
{ size_t n; return nn_pca_save_buffer(h, gbuf, sizeof gbuf, &n); }

/* what a misused call returns: a status, a size 0, -1, or nothing */
enum { K_STATUS, K_ZERO, K_NEG, K_VOID };

struct mcase {
    const char *fn, *arg;
    int type, kind;
    long long (*call)(void *h);
    long long good;   /* what it returns with the right live handle */
};

static const struct mcase cases[] = {
    {"nn_net_init", "net", T_NET, K_STATUS, c_net_init, NN_OK},
    {"nn_net_destroy", "net", T_NET, K_VOID, c_net_destroy, 0},
    {"nn_net_num_layers", "net", T_NET, K_ZERO, c_num_layers, 2},
    {"nn_net_layer_inputs", "net", T_NET, K_ZERO, c_layer_inputs, 2},
    {"nn_net_layer_outputs", "net", T_NET, K_ZERO, c_layer_outputs, 4},
    {"nn_net_layer_activation", "net", T_NET, K_NEG, c_layer_activation,
     NN_ACT_RELU},
    {"nn_net_num_params", "net", T_NET, K_ZERO, c_num_params, 22},
    {"nn_net_get_params", "net", T_NET, K_STATUS, c_get_params, NN_OK},
    {"nn_net_set_params", "net", T_NET, K_STATUS, c_set_params, NN_OK},
    {"nn_net_get_grads", "net", T_NET, K_STATUS, c_get_grads, NN_OK},
    {"nn_forward", "net", T_NET, K_STATUS, c_forward, NN_OK},
    {"nn_backward", "net", T_NET, K_STATUS, c_backward, NN_OK},
    {"nn_backward_labels", "net", T_NET, K_STATUS, c_backward_labels, NN_OK},
    {"nn_sgd_step", "net", T_NET, K_STATUS, c_sgd_step, NN_OK},
    {"nn_backward_sgd", "net", T_NET, K_STATUS, c_backward_sgd, NN_OK},
    {"nn_backward_labels_sgd", "net", T_NET, K_STATUS, c_backward_labels_sgd,
     NN_OK},
    {"nn_net_set_layer_option", "net", T_NET, K_STATUS, c_set_layer_option,
     NN_OK},
    {"nn_net_get_layer_option", "net", T_NET, K_STATUS, c_get_layer_option,
     NN_OK},
    {"nn_net_regularization_loss", "net", T_NET, K_STATUS,
     c_regularization_loss, NN_OK},
    {"nn_predict", "net", T_NET, K_STATUS, c_predict, NN_OK},
    {"nn_net_save", "net", T_NET, K_STATUS, c_net_save, NN_OK},
    {"nn_net_save_buffer", "net", T_NET, K_STATUS, c_net_save_buffer, NN_OK},
#ifdef NNFS_HAVE_ONNX
    {"nn_net_export_onnx", "net", T_NET, K_STATUS, c_export_onnx, NN_OK},
    {"nn_net_export_onnx_buffer", "net", T_NET, K_STATUS,
     c_export_onnx_buffer, NN_OK},
#endif
    {"nn_checkpoint_save", "net", T_NET, K_STATUS, c_ckpt_save_net, NN_OK},
    {"nn_checkpoint_save", "opt", T_OPT, K_STATUS, c_ckpt_save_opt, NN_OK},
    {"nn_checkpoint_save_buffer", "net", T_NET, K_STATUS, c_ckpt_buffer_net,
     NN_OK},
    {"nn_checkpoint_save_buffer", "opt", T_OPT, K_STATUS, c_ckpt_buffer_opt,
     NN_OK},
    {"nn_net_layer_singular_values", "net", T_NET, K_STATUS,
     c_singular_values, NN_OK},
    {"nn_net_layer_spectral_norm", "net", T_NET, K_STATUS, c_spectral_norm,
     NN_OK},
    {"nn_net_fit_readout", "net", T_NET, K_STATUS, c_fit_readout, NN_OK},
    {"nn_optimizer_create", "net", T_NET, K_STATUS, c_opt_create, NN_OK},
    {"nn_trainer_create", "net", T_NET, K_STATUS, c_trainer_create_net,
     NN_OK},
    {"nn_trainer_create", "opt", T_OPT, K_STATUS, c_trainer_create_opt,
     NN_OK},
    {"nn_optimizer_destroy", "opt", T_OPT, K_VOID, c_opt_destroy, 0},
    {"nn_optimizer_kind", "opt", T_OPT, K_NEG, c_opt_kind, NN_OPT_ADAM},
    {"nn_optimizer_set", "opt", T_OPT, K_STATUS, c_opt_set, NN_OK},
    {"nn_optimizer_get", "opt", T_OPT, K_STATUS, c_opt_get, NN_OK},
    {"nn_optimizer_step", "opt", T_OPT, K_STATUS, c_opt_step, NN_OK},
    {"nn_optimizer_reset", "opt", T_OPT, K_STATUS, c_opt_reset, NN_OK},
    {"nn_trainer_destroy", "trainer", T_TRAINER, K_VOID, c_tr_destroy, 0},
    {"nn_trainer_set", "trainer", T_TRAINER, K_STATUS, c_tr_set, NN_OK},
    {"nn_trainer_get", "trainer", T_TRAINER, K_STATUS, c_tr_get, NN_OK},
    {"nn_trainer_set_callback", "trainer", T_TRAINER, K_STATUS,
     c_tr_set_callback, NN_OK},
    {"nn_trainer_metric", "trainer", T_TRAINER, K_STATUS, c_tr_metric,
     NN_OK},
    {"nn_trainer_fit", "trainer", T_TRAINER, K_STATUS, c_tr_fit, NN_OK},
    {"nn_pca_destroy", "pca", T_PCA, K_VOID, c_pca_destroy, 0},
    {"nn_pca_transform", "pca", T_PCA, K_STATUS, c_pca_transform, NN_OK},
    {"nn_pca_inverse_transform", "pca", T_PCA, K_STATUS, c_pca_inverse,
     NN_OK},
    {"nn_pca_num_features", "pca", T_PCA, K_ZERO, c_pca_features, 2},
    {"nn_pca_num_components", "pca", T_PCA, K_ZERO, c_pca_components, 1},
    {"nn_pca_get_params", "pca", T_PCA, K_STATUS, c_pca_params, NN_OK},
    {"nn_pca_get_variance", "pca", T_PCA, K_STATUS, c_pca_variance, NN_OK},
    {"nn_pca_get_settings", "pca", T_PCA, K_STATUS, c_pca_settings, NN_OK},
    {"nn_pca_save", "pca", T_PCA, K_STATUS, c_pca_save, NN_OK},
    {"nn_pca_save_buffer", "pca", T_PCA, K_STATUS, c_pca_save_buffer, NN_OK},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/*====== Running a call in a child ======*/

struct report {
    int done;            /* the child got to the end */
    long long ret;
    int unchanged;       /* state_hash equal before and after */
    char msg[512];
};

/* Run call(h) in a forked child; *r receives its report.  Returns 0, or
   the signal that killed the child, or -1 if it exited without one. */
static int in_child(long long (*call)(void *), void *h, struct report *r)
{
    int fd[2], wst = 0;
    pid_t pid;
    ssize_t got;
    memset(r, 0, sizeof *r);
    if (pipe(fd) != 0) return -1;
    fflush(NULL);
    pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        struct report c;
        uint64_t before;
        size_t done = 0;
        memset(&c, 0, sizeof c);
        close(fd[0]);
        before = state_hash();
        /* a known message first, so a stale one cannot pass */
        (void)nn_net_create(NULL, 0, NULL, NULL, 0);
        c.ret = call(h);
        snprintf(c.msg, sizeof c.msg, "%s", nn_last_error());
        c.unchanged = state_hash() == before;
        c.done = 1;
        while (done < sizeof c) {
            ssize_t w = write(fd[1], (char *)&c + done, sizeof c - done);
            if (w <= 0) break;
            done += (size_t)w;
        }
        _exit(0);
    }
    close(fd[1]);
    got = 0;
    while ((size_t)got < sizeof *r) {
        ssize_t n = read(fd[0], (char *)r + got, sizeof *r - (size_t)got);
        if (n <= 0) break;
        got += n;
    }
    close(fd[0]);
    if (waitpid(pid, &wst, 0) != pid) return -1;
    if (WIFSIGNALED(wst)) return WTERMSIG(wst);
    if ((size_t)got != sizeof *r || !r->done) return -1;
    return 0;
}

static long long misuse_return(int kind)
{
    return kind == K_STATUS ? NN_ERR_MISUSE : kind == K_NEG ? -1 : 0;
}

/* One misused call: what it returns, its message, nothing changed.
   Returns 1 if all is as expected, else prints why and returns 0. */
static int check_misuse(const struct mcase *c, void *h, const char *what)
{
    struct report r;
    char want[512];
    int sig = in_child(c->call, h, &r);
    snprintf(want, sizeof want, "%s: %s is not a live %s (%s)", c->fn,
             c->arg, tname[c->type], what);
    if (sig != 0) {
        fprintf(stderr, "  %s(%s = %s): child %s %d\n", c->fn, c->arg, what,
                sig > 0 ? "killed by signal" : "failed", sig);
        return 0;
    }
    if (r.ret != misuse_return(c->kind) || strcmp(r.msg, want) != 0 ||
        !r.unchanged) {
        fprintf(stderr, "  %s(%s = %s): returned %lld (want %lld), message "
                "\"%s\" (want \"%s\"), state %s\n", c->fn, c->arg, what,
                r.ret, misuse_return(c->kind), r.msg, want,
                r.unchanged ? "unchanged" : "CHANGED");
        return 0;
    }
    return 1;
}

/*====== The tests ======*/

static int setup_all(void)
{
    nn_net *n;
    nn_optimizer *o;
    nn_trainer *t;
    nn_pca *p;
    int st;
    memset(&G, 0, sizeof G);
    snprintf(G.path, sizeof G.path, "%s/m.nnfs", nnt_tmpdir());
    snprintf(G.ppath, sizeof G.ppath, "%s/p.nnpca", nnt_tmpdir());
    st = keep_begin();
    if (st != NN_OK) return st;
    /* the dead handles: made, then destroyed (the memory is kept) */
    st = make_handles(&n, &o, &t, &p);
    if (st != NN_OK) return st;
    destroy_handles(n, o, t, p);
    G.dead[T_NET] = n;
    G.dead[T_OPT] = o;
    G.dead[T_TRAINER] = t;
    G.dead[T_PCA] = p;
    return make_handles(&G.net, &G.opt, &G.tr, &G.pca);
}

static int teardown_all(void)
{
    destroy_handles(G.net, G.opt, G.tr, G.pca);
    return keep_end();
}

NN_TEST(misuse_wrong_type_and_destroyed_handles)
{
    void *live[T_N];
    size_t i, checked = 0, bad = 0, good_bad = 0;
    int t, st = setup_all();
    NNT_OK(st);
    live[T_NET] = G.net;
    live[T_OPT] = G.opt;
    live[T_TRAINER] = G.tr;
    live[T_PCA] = G.pca;
    for (i = 0; i < N_CASES; i++) {
        const struct mcase *c = &cases[i];
        struct report r;
        char what[64];
        /* the wrapper is sound: with the right handle it works */
        int sig = in_child(c->call, live[c->type], &r);
        if (sig != 0 || r.ret != c->good) {
            fprintf(stderr, "  %s(%s = the live %s): returned %lld (want "
                    "%lld): %s\n", c->fn, c->arg, tname[c->type], r.ret,
                    c->good, r.msg);
            good_bad++;
        }
        for (t = 0; t < T_N; t++) {
            if (t != c->type) {
                snprintf(what, sizeof what, "it is an %s", tname[t]);
                bad += !check_misuse(c, live[t], what);
                snprintf(what, sizeof what, "it is a destroyed %s",
                         tname[t]);
            } else {
                snprintf(what, sizeof what, "it was destroyed");
            }
            bad += !check_misuse(c, G.dead[t], what);
            checked += 2;
        }
        bad += !check_misuse(c, not_a_handle,
                             "no libnnfs handle tag at that address");
    }
    /* (the misused destroys ran in the children: state_hash covers the
       live block count and the blocks freed, once or twice) */
    NNT_EQ_INT(teardown_all(), NN_OK);
    NNT_EQ_INT(double_frees, 0);
    NNT_EQ_INT(lost_frees, 0);
    NNT_EQ_SIZE(good_bad, 0);
    NNT_EQ_SIZE(bad, 0);
    NNT_TRUE(checked > 7 * 50);
}

/* Handles kept inside others: an optimizer whose net was destroyed, a
   trainer whose net or optimizer was destroyed. */
static long long c_fit_tr2(void *h)
{ return nn_trainer_fit(h, gx, gt, NULL, 4, NULL, NULL, NULL, 0); }

NN_TEST(misuse_destroyed_handle_inside_another)
{
    static const struct mcase inner[] = {
        {"nn_optimizer_step", "opt's net", T_NET, K_STATUS, c_opt_step, 0},
        {"nn_optimizer_reset", "opt's net", T_NET, K_STATUS, c_opt_reset, 0},
        {"nn_trainer_fit", "trainer's net", T_NET, K_STATUS, c_fit_tr2, 0},
        {"nn_trainer_fit", "trainer's optimizer", T_OPT, K_STATUS, c_fit_tr2,
         0},
    };
    nn_net *n2, *n3;
    nn_optimizer *o2, *o3;
    nn_trainer *t2, *t3;
    nn_pca *p2, *p3;
    size_t bad = 0;
    int st = setup_all();
    NNT_OK(st);
    NNT_OK(make_handles(&n2, &o2, &t2, &p2));
    NNT_OK(make_handles(&n3, &o3, &t3, &p3));
    nn_net_destroy(n2);     /* o2 and t2 still refer to it */
    nn_optimizer_destroy(o3);   /* t3 still refers to it */
    bad += !check_misuse(&inner[0], o2, "it was destroyed");
    bad += !check_misuse(&inner[1], o2, "it was destroyed");
    bad += !check_misuse(&inner[2], t2, "it was destroyed");
    bad += !check_misuse(&inner[3], t3, "it was destroyed");
    /* and the live handles next to them still work */
    NNT_OK(nn_trainer_fit(G.tr, gx, gt, NULL, 4, NULL, NULL, NULL, 0));
    NNT_OK(nn_optimizer_reset(G.opt));
    nn_trainer_destroy(t2);
    nn_optimizer_destroy(o2);
    nn_pca_destroy(p2);
    nn_trainer_destroy(t3);
    nn_net_destroy(n3);
    nn_pca_destroy(p3);
    NNT_EQ_INT(teardown_all(), NN_OK);
    NNT_EQ_INT(double_frees, 0);
    NNT_EQ_SIZE(bad, 0);
}

NN_TEST(misuse_double_destroy_is_harmless)
{
    nn_net *n;
    nn_optimizer *o;
    nn_trainer *t;
    nn_pca *p;
    long live0;
    size_t kept0;
    char msg[4][160];
    NNT_OK(keep_begin());
    live0 = nn__alloc_live();
    NNT_OK(make_handles(&n, &o, &t, &p));
    destroy_handles(n, o, t, p);
    NNT_EQ_INT(nn__alloc_live(), live0);
    kept0 = n_kept;
    NNT_EQ_INT(double_frees, 0);
    /* each destroy again: nothing freed, a message naming it */
    nn_trainer_destroy(t);
    snprintf(msg[0], sizeof msg[0], "%s", nn_last_error());
    nn_optimizer_destroy(o);
    snprintf(msg[1], sizeof msg[1], "%s", nn_last_error());
    nn_net_destroy(n);
    snprintf(msg[2], sizeof msg[2], "%s", nn_last_error());
    nn_pca_destroy(p);
    snprintf(msg[3], sizeof msg[3], "%s", nn_last_error());
    NNT_EQ_INT(double_frees, 0);
    NNT_EQ_SIZE(n_kept, kept0);
    NNT_EQ_INT(nn__alloc_live(), live0);
    NNT_EQ_STR(msg[0], "nn_trainer_destroy: trainer is not a live "
               "nn_trainer (it was destroyed)");
    NNT_EQ_STR(msg[1], "nn_optimizer_destroy: opt is not a live "
               "nn_optimizer (it was destroyed)");
    NNT_EQ_STR(msg[2], "nn_net_destroy: net is not a live nn_net "
               "(it was destroyed)");
    NNT_EQ_STR(msg[3], "nn_pca_destroy: pca is not a live nn_pca "
               "(it was destroyed)");
    NNT_OK(keep_end());
}

NN_TEST(misuse_null_stays_invalid_arg)
{
    /* NULL keeps its status and message; getters and destroys of NULL
       stay silent no-ops */
    NNT_STATUS(nn_forward(NULL, gx, 4, gout), NN_ERR_INVALID_ARG);
    NNT_EQ_STR(nn_last_error(), "nn_forward: net is NULL");
    NNT_STATUS(nn_optimizer_step(NULL), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_trainer_set(NULL, NN_TRAIN_EPOCHS, 1), NN_ERR_INVALID_ARG);
    NNT_STATUS(nn_pca_get_params(NULL, gd, gout), NN_ERR_INVALID_ARG);
    (void)nn_net_create(NULL, 0, NULL, NULL, 0);
    NNT_EQ_SIZE(nn_net_num_layers(NULL), 0);
    NNT_EQ_INT(nn_optimizer_kind(NULL), -1);
    NNT_EQ_SIZE(nn_pca_num_features(NULL), 0);
    nn_net_destroy(NULL);
    nn_optimizer_destroy(NULL);
    nn_trainer_destroy(NULL);
    nn_pca_destroy(NULL);
    NNT_EQ_STR(nn_last_error(), "nn_net_create: out is NULL");
}
