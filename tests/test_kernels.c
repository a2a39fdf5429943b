/*
 * test_kernels.c - every compiled kernel table (generic, avx2, avx512;
 * src/kernels/kernels.h's two tables) against scalar
 * double references written here, at n = 0, 1, 7, 8, 9, 31, 1000 on
 * pointers offset by one float from malloc's alignment; and the
 * vectorizable exp/log of src/kernels/vecmath.h against libm.
 *
 * Tables the CPU cannot run are skipped, with a line saying so.
 * Tolerances are rounding-error bounds of the float formula against the
 * double reference at the same float inputs (u = 2^-24):
 *   bias + linear/relu: exact; sgd, dropout: one rounding (u);
 *   sigmoid, tanh: 8u; softmax: (8 + 2 cols + |z - max|) u;
 *   backward: 4u plus the cancellation terms (2u a^2 |g| for tanh, the
 *   float sum of g a over the row for softmax); db and loss values: the
 *   elementwise bounds summed plus (2 + rows) u of the sum of |terms|;
 *   optimizers: a few u per operation, with the cancelling sums bounded by
 *   their |terms|.
 * Each test prints its worst |error| / tolerance per table.
 */
#include "nntest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels/vecmath.h"

#define U 5.9604644775390625e-8   /* 2^-24 */

static const size_t k_sizes[] = {0, 1, 7, 8, 9, 31, 1000};
#define N_SIZES (sizeof k_sizes / sizeof k_sizes[0])

/*--------------------------------------------------------- the tables --*/

static const char *const k_isa_names[3] = {"generic", "avx2", "avx512"};

static const struct nn__kernels *k_table(int isa)
{
    return nn__kernels_for(isa);
}

#if defined(__x86_64__)
/* kernels.h declares these under NNFS_HAVE_X86_KERNELS, which CMake sets
   for the library's x86-64 builds only */
extern const struct nn__train_kernels nn__train_kernels_avx2;
extern const struct nn__train_kernels nn__train_kernels_avx512;
#endif

static const struct nn__train_kernels *k_train(int isa)
{
    if (nn__kernels_for(isa) == NULL) return NULL;
    if (isa == 0) return &nn__train_kernels_generic;
#if defined(__x86_64__)
    if (isa == 1) return &nn__train_kernels_avx2;
    if (isa == 2) return &nn__train_kernels_avx512;
#endif
    return NULL;
}

/* 1 if the table runs here, else prints why not (once per test). */
static int k_runs(int isa, const char *test)
{
    if (nn__kernels_for(isa) != NULL) return 1;
    printf("  %s: %s skipped (not built or this CPU cannot run it; built: "
           "%s)\n", test, k_isa_names[isa], nn__kernels_built());
    return 0;
}

/*------------------------------------------------------------ helpers --*/

static uint64_t k_rng;
static double k_unif(void)   /* [0, 1) */
{
    uint64_t z = (k_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);
}
static float k_range(double lo, double hi)
{
    return (float)(lo + (hi - lo) * k_unif());
}

/* n floats at an address offset by one float from malloc's alignment;
   free with k_free. */
static float *k_alloc(size_t n)
{
    float *p = malloc((n + 2) * sizeof(float));
    NNT_TRUE(p != NULL);
    return p + 1;
}
static void k_free(float *p) { free(p - 1); }

static uint32_t k_amax_bits(const float *x, size_t n)
{
    uint32_t m = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint32_t b = nn__absbits(x[i]);
        if (b > m) m = b;
    }
    return m;
}

/* |got - ref| <= rel |ref| + abs; tracks the worst |got - ref| / tol
   (k_worst) and the worst relative error in units of u where |ref| >=
   1e-3 (k_worst_u) */
static double k_worst, k_worst_u;
static void k_check(const char *what, const char *isa, size_t rows,
                    size_t cols, size_t at, double got, double ref,
                    double rel, double abs)
{
    double d = fabs(got - ref), tol = rel * fabs(ref) + abs;
    if (!(d <= tol))
        nnt_fail(__FILE__, __LINE__, "%s [%s] rows %zu cols %zu at %zu: "
                 "kernel %.9g, reference %.12g, |delta| %.3g > %.3g", what,
                 isa, rows, cols, at, got, ref, d, tol);
    nnt_pass();
    if (tol > 0 && d / tol > k_worst) k_worst = d / tol;
    if (abs <= 1e-30 && fabs(ref) >= 1e-3 && d / (U * fabs(ref)) > k_worst_u)
        k_worst_u = d / (U * fabs(ref));
}

/* The shapes of the row kernels: for every n, one row of n, three rows
   of n, and n rows of 3 (the narrow, tiled path); then shapes that reach
   the softmax copies specialised for 2, 4 and 10 classes and the generic
   narrow one (row counts not a multiple of the 16-row transpose block),
   and wide rows (>= 64 columns) over several rows with and without a
   tail after the 16-lane blocks. */
struct k_shape { size_t rows, cols; };
static const struct k_shape k_extra_shapes[] = {
    {17, 2}, {33, 4}, {31, 10}, {16, 10}, {19, 7}, {5, 63},
    {21, 64}, {9, 65}, {3, 80}, {40, 100}
};
#define K_MAX_SHAPES \
    (3 * N_SIZES + sizeof k_extra_shapes / sizeof k_extra_shapes[0])
static size_t k_shapes(struct k_shape *s)
{
    size_t i, m = 0;
    for (i = 0; i < N_SIZES; i++) {
        size_t n = k_sizes[i];
        s[m].rows = n ? 1 : 0; s[m++].cols = n ? n : 5;
        s[m].rows = n ? 3 : 0; s[m++].cols = n ? n : 1;
        s[m].rows = n; s[m++].cols = 3;
    }
    for (i = 0; i < sizeof k_extra_shapes / sizeof k_extra_shapes[0]; i++)
        s[m++] = k_extra_shapes[i];
    return m;
}

/*-------------------------------------------------- activations fwd --*/

static double ref_act(int32_t act, double v)
{
    switch (act) {
    case NN_ACT_RELU: return v > 0 ? v : 0;
    case NN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
    case NN_ACT_TANH: return tanh(v);
    default: return v;
    }
}

NN_TEST(kernels_bias_activation_forward)
{
    struct k_shape sh[K_MAX_SHAPES];
    size_t ns = k_shapes(sh), si, r, j;
    int isa;
    int32_t act;
    k_rng = nnt_seed();
    for (isa = 0; isa < 3; isa++) {
        const struct nn__kernels *k = k_table(isa);
        if (!k_runs(isa, "bias_act")) continue;
        for (act = 0; act < 5; act++) {
            k_worst = 0;
            k_worst_u = 0;
            for (si = 0; si < ns; si++) {
                size_t rows = sh[si].rows, cols = sh[si].cols;
                size_t n = rows * cols;
                float *z = k_alloc(n), *z0 = k_alloc(n), *b = k_alloc(cols);
                double *ref = malloc((n + 1) * sizeof(double));
                double *arg = calloc(n + 1, sizeof(double));
                uint32_t m;
                NNT_TRUE(ref != NULL && arg != NULL);
                for (j = 0; j < n; j++) z0[j] = z[j] = k_range(-9, 9);
                for (j = 0; j < cols; j++) b[j] = k_range(-2, 2);
                for (r = 0; r < rows; r++) {
                    const float *zr = z0 + r * cols;
                    double *o = ref + r * cols;
                    if (act == NN_ACT_SOFTMAX) {
                        double mx = -HUGE_VAL, s = 0;
                        for (j = 0; j < cols; j++)
                            mx = fmax(mx, (double)(zr[j] + b[j]));
                        for (j = 0; j < cols; j++) {
                            o[j] = exp((double)(zr[j] + b[j]) - mx);
                            s += o[j];
                            /* exp's argument z - max is rounded: relative
                               error u |z - max| in the result */
                            arg[r * cols + j] = mx - (double)(zr[j] + b[j]);
                        }
                        for (j = 0; j < cols; j++) o[j] /= s;
                    } else {
                        /* z + b is one float addition in the contract */
                        for (j = 0; j < cols; j++)
                            o[j] = ref_act(act, (double)(zr[j] + b[j]));
                    }
                }
                m = k->bias_act[act](z, b, rows, cols);
                for (j = 0; j < n; j++) {
                    double rel = act == NN_ACT_SOFTMAX
                                     ? 8 * U + 2 * U * (double)cols +
                                           U * arg[j]
                                     : act <= NN_ACT_RELU ? 0 : 8 * U;
                    k_check("bias_act", k->name, rows, cols, j, z[j],
                            ref[j], rel, act == NN_ACT_SOFTMAX ? 1e-30
                                                               : 1e-38);
                }
                /* the returned amax (activations.c): that of z + b, the
                   pre-activation, raised to 1.0 for the bounded
                   activations; an upper bound of every output's |value|
                   (kernels.h says "the amax of the result": exact for
                   linear only) */
                {
                    uint32_t pre = 0;
                    for (j = 0; j < n; j++) {
                        uint32_t bb = nn__absbits(z0[j] + b[j % cols]);
                        if (bb > pre) pre = bb;
                    }
                    if (act >= NN_ACT_SIGMOID && pre < 0x3f800000u)
                        pre = 0x3f800000u;
                    if (m != pre)
                        nnt_fail(__FILE__, __LINE__, "bias_act[%d] [%s] "
                                 "rows %zu cols %zu: returned amax %.9g, "
                                 "expected %.9g", (int)act, k->name, rows,
                                 cols, (double)nn__bits_f32(m),
                                 (double)nn__bits_f32(pre));
                    nnt_pass();
                    NNT_TRUE(m >= k_amax_bits(z, n));
                }
                k_free(z); k_free(z0); k_free(b); free(ref); free(arg);
            }
            printf("  bias_act[%d] %-7s worst |d|/tol %.3f, rel %.2f u\n",
                   act, k->name, k_worst, k_worst_u);
        }
    }
}

/*-------------------------------------------------- activations bwd --*/

NN_TEST(kernels_activation_backward)
{
    struct k_shape sh[K_MAX_SHAPES];
    size_t ns = k_shapes(sh), si, r, j;
    int isa;
    int32_t act;
    k_rng = nnt_seed() ^ 1;
    for (isa = 0; isa < 3; isa++) {
        const struct nn__kernels *k = k_table(isa);
        if (!k_runs(isa, "act_bwd")) continue;
        for (act = 0; act < 5; act++) {
            k_worst = 0;
            k_worst_u = 0;
            for (si = 0; si < ns; si++) {
                size_t rows = sh[si].rows, cols = sh[si].cols;
                size_t n = rows * cols;
                float *dz = k_alloc(n), *g = k_alloc(n), *a = k_alloc(n);
                float *db = k_alloc(cols);
                double *ref = malloc((n + 1) * sizeof(double));
                double *dbr = calloc(cols, sizeof(double));
                double *dba = calloc(cols, sizeof(double));
                double *sabs = calloc(rows + 1, sizeof(double));
                double *dbt = calloc(cols, sizeof(double));
                uint32_t m;
                NNT_TRUE(ref != NULL && dbr != NULL && dba != NULL &&
                         sabs != NULL && dbt != NULL);
                for (j = 0; j < n; j++) {
                    dz[j] = g[j] = k_range(-3, 3);
                    a[j] = act == NN_ACT_RELU ? (j % 3 ? k_range(0, 2) : 0.0f)
                         : act == NN_ACT_TANH ? k_range(-1, 1)
                         : k_range(0, 1);
                }
                for (r = 0; r < rows; r++) {
                    const float *gr = g + r * cols, *ar = a + r * cols;
                    double *o = ref + r * cols, s = 0;
                    sabs[r] = 0;
                    for (j = 0; j < cols; j++) {
                        s += (double)gr[j] * ar[j];
                        sabs[r] += fabs((double)gr[j] * ar[j]);
                    }
                    for (j = 0; j < cols; j++) {
                        double gj = gr[j], aj = ar[j];
                        switch (act) {
                        case NN_ACT_RELU: o[j] = aj > 0 ? gj : 0; break;
                        case NN_ACT_SIGMOID: o[j] = gj * aj * (1 - aj); break;
                        case NN_ACT_TANH: o[j] = gj * (1 - aj * aj); break;
                        case NN_ACT_SOFTMAX: o[j] = aj * (gj - s); break;
                        default: o[j] = gj; break;
                        }
                        dbr[j] += o[j];
                        dba[j] += fabs(o[j]);
                    }
                }
                for (j = 0; j < cols; j++) db[j] = NAN;
                m = k->act_bwd[act](dz, act == NN_ACT_LINEAR ? NULL : a, db,
                                    rows, cols);
                for (j = 0; j < n; j++) {
                    /* float evaluation of the same formula: 1 - a^2
                       carries 2 u a^2 absolute; softmax's s = sum g a
                       a float sum of cols terms */
                    double aj = fabs((double)a[j]), gj = fabs((double)g[j]);
                    double tol = act == NN_ACT_TANH ? 2 * U * gj * aj * aj
                                 : act == NN_ACT_SOFTMAX
                                     ? aj * (2 * U * gj + (2 * U + U *
                                       (double)cols) * sabs[j / cols])
                                     : 0;
                    k_check("act_bwd dz", k->name, rows, cols, j, dz[j],
                            ref[j], 4 * U, tol + 1e-38);
                    dbt[j % cols] += tol + 4 * U * fabs(ref[j]);
                }
                /* db: a float sum of rows terms */
                for (j = 0; j < cols; j++)
                    k_check("act_bwd db", k->name, rows, cols, j, db[j],
                            dbr[j], 0,
                            dbt[j] + (2 * U + U * (double)rows) * dba[j] +
                                1e-38);
                NNT_EQ_INT(m, k_amax_bits(dz, n));
                k_free(dz); k_free(g); k_free(a); k_free(db);
                free(ref); free(dbr); free(dba); free(sabs); free(dbt);
            }
            printf("  act_bwd[%d] %-7s worst |d|/tol %.3f\n", act,
                   k->name, k_worst);
        }
    }
}

/*------------------------------------------------------------- losses --*/

/* The contract's clip, at the float bounds the kernels use. */
static double k_clip(double p)
{
    const double lo = (double)1e-7f, hi = (double)(1.0f - 1e-7f);
    return p < lo ? lo : p > hi ? hi : p;
}

/* Inputs: probabilities (a few at and beyond the clip) for CCE and BCE,
   values in [-2, 2] (a few equal to the target) for MSE and MAE. */
static void k_loss_inputs(int which, float *p, float *t, size_t rows,
                          size_t cols)
{
    size_t r, j;
    for (r = 0; r < rows; r++) {
        float *pr = p + r * cols, *tr = t + r * cols;
        for (j = 0; j < cols; j++) {
            size_t e = r * cols + j;
            if (which <= NN_LOSS_BCE) {
                pr[j] = e % 11 == 3 ? 0.0f : e % 11 == 5 ? 1e-9f
                      : e % 11 == 7 ? 1.0f : k_range(1e-4, 1);
                tr[j] = which == NN_LOSS_BCE ? (e % 2 ? k_range(0, 1)
                                                      : (float)(e % 4 / 2))
                                             : 0.0f;
            } else {
                pr[j] = k_range(-2, 2);
                tr[j] = e % 5 == 1 ? pr[j] : k_range(-2, 2);
            }
        }
        if (which == NN_LOSS_CCE) {      /* soft targets summing to 1 */
            for (j = 0; j < 8; j++)
                tr[(size_t)(k_unif() * (double)cols)] += 0.125f;
        }
    }
}

NN_TEST(kernels_losses_and_gradients)
{
    struct k_shape sh[K_MAX_SHAPES];
    size_t ns = k_shapes(sh), si, j, r;
    int isa, which;
    k_rng = nnt_seed() ^ 2;
    for (isa = 0; isa < 3; isa++) {
        const struct nn__kernels *k = k_table(isa);
        if (!k_runs(isa, "losses")) continue;
        /* 0..3 NN_LOSS_*, 4 cce_labels, 5 softmax_cce, 6 softmax labels */
        for (which = 0; which < 7; which++) {
            double worst_value = 0;
            k_worst = 0;
            k_worst_u = 0;
            for (si = 0; si < ns; si++) {
                size_t rows = sh[si].rows, cols = sh[si].cols;
                size_t n = rows * cols;
                int base = which == 5 ? NN_LOSS_CCE
                         : which >= 4 ? NN_LOSS_CCE : which;
                float *p = k_alloc(n), *t = k_alloc(n), *g = k_alloc(n);
                int32_t *lab = malloc((rows + 1) * sizeof(int32_t));
                double sum = 0, sum_tol = 0, value, value2, nrm;
                NNT_TRUE(lab != NULL);
                k_loss_inputs(base, p, t, rows, cols);
                for (r = 0; r < rows; r++)
                    lab[r] = (int32_t)(k_unif() * (double)cols);
                if (which >= 5) {        /* softmax rows */
                    for (r = 0; r < rows; r++) {
                        double s = 0;
                        for (j = 0; j < cols; j++) s += p[r * cols + j];
                        for (j = 0; j < cols; j++)
                            p[r * cols + j] = (float)(p[r * cols + j] / s);
                    }
                }
                for (j = 0; j < n; j++) g[j] = NAN;
                if (which < 4) {
                    value = k->loss[which](p, t, g, rows, cols);
                    value2 = k->loss[which](p, t, NULL, rows, cols);
                } else if (which == 5) {
                    value = k->softmax_cce(p, t, g, rows, cols);
                    value2 = k->softmax_cce(p, t, NULL, rows, cols);
                } else {
                    const nn__loss_labels_fn fn = which == 4
                        ? k->cce_labels : k->softmax_cce_labels;
                    value = fn(p, lab, g, rows, cols);
                    value2 = fn(p, lab, NULL, rows, cols);
                }
                if (n == 0) {
                    NNT_TRUE(value == 0.0 || isnan(value));
                    k_free(p); k_free(t); k_free(g); free(lab);
                    continue;
                }
                NNT_TRUE(value == value2);    /* g == NULL: same value */
                /* mean over rows (CCE) or over all entries */
                nrm = base == NN_LOSS_CCE ? (double)rows : (double)n;
                for (j = 0; j < n; j++) {
                    double pj = p[j], tj = t[j], q = k_clip(pj);
                    double term, gr, tol;
                    if (which == 4 || which == 6)
                        tj = (size_t)lab[j / cols] == j % cols ? 1.0 : 0.0;
                    switch (base) {
                    case NN_LOSS_CCE:
                        term = -tj * log(q);
                        gr = which >= 5 ? (pj - tj) / nrm : -tj / q / nrm;
                        tol = 8 * U * fabs(term) + 2 * U * tj;
                        break;
                    case NN_LOSS_BCE:
                        term = -(tj * log(q) + (1 - tj) * log(1 - q));
                        gr = -(tj / q - (1 - tj) / (1 - q)) / nrm;
                        tol = 8 * U * fabs(term) + 4 * U * (tj + 1 - tj) *
                              (1 + q / (1 - q));
                        break;
                    case NN_LOSS_MSE:
                        term = (pj - tj) * (pj - tj);
                        gr = 2 * (pj - tj) / nrm;
                        tol = 4 * U * term;
                        break;
                    default:
                        term = fabs(pj - tj);
                        gr = (pj > tj ? 1.0 : pj < tj ? -1.0 : 0.0) / nrm;
                        tol = 2 * U * term;
                        break;
                    }
                    sum += term;
                    sum_tol += tol;
                    {
                        double gtol = base == NN_LOSS_BCE
                            ? 4 * U * (tj / q + (1 - tj) / (1 - q)) / nrm
                            : 4 * U * fabs(gr);
                        k_check("loss g", k->name, rows, cols, j, g[j], gr,
                                0, gtol + 1e-38);
                    }
                }
                k_check("loss value", k->name, rows, cols, 0, value,
                        sum / nrm, 0, sum_tol / nrm + 1e-300);
                if (fabs(value - sum / nrm) / fmax(sum / nrm, 1e-300) >
                    worst_value)
                    worst_value = fabs(value - sum / nrm) /
                                  fmax(sum / nrm, 1e-300);
                k_free(p); k_free(t); k_free(g); free(lab);
            }
            printf("  loss %d %-7s gradient worst |d|/tol %.3f; value "
                   "worst rel %.2e\n", which, k->name, k_worst,
                   worst_value);
        }
    }
}

/*--------------------------------------- updates, optimizers, dropout --*/

/* One check of a weight-like result with the amax the kernel returned. */
static void k_check_vec(const char *what, const char *isa, size_t n,
                        const float *got, const double *ref, double rel,
                        const double *abs_tol)
{
    size_t j;
    for (j = 0; j < n; j++)
        k_check(what, isa, 1, n, j, got[j], ref[j], rel,
                (abs_tol ? abs_tol[j] : 0) + 1e-38);
}

NN_TEST(kernels_updates_and_optimizers)
{
    size_t si, j;
    int isa;
    k_rng = nnt_seed() ^ 3;
    for (isa = 0; isa < 3; isa++) {
        const struct nn__kernels *k = k_table(isa);
        const struct nn__train_kernels *tk = k_train(isa);
        if (!k_runs(isa, "updates")) continue;
        NNT_TRUE(tk != NULL);
        k_worst = 0;
        k_worst_u = 0;
        for (si = 0; si < N_SIZES; si++) {
            size_t n = k_sizes[si];
            float *w = k_alloc(n), *w0 = k_alloc(n), *g = k_alloc(n);
            float *s1 = k_alloc(n), *s2 = k_alloc(n), *s10 = k_alloc(n);
            float *s20 = k_alloc(n), *d = k_alloc(n);
            double *rw = malloc((n + 1) * sizeof(double));
            double *r1 = malloc((n + 1) * sizeof(double));
            double *r2 = malloc((n + 1) * sizeof(double));
            double *at = malloc((n + 1) * sizeof(double));
            const float lr = 0.01f, mu = 0.9f, eps = 1e-7f;
            const float one_b1 = (float)(1.0 - 0.9);
            const float one_b2 = (float)(1.0 - 0.999);
            const float c1 = (float)(1.0 / (1.0 - pow(0.9, 3)));
            const float c2 = (float)(1.0 / (1.0 - pow(0.999, 3)));
            uint32_t m;
            double pen, pref = 0, pabs = 0;
            NNT_TRUE(rw && r1 && r2 && at);
            for (j = 0; j < n; j++) {
                w0[j] = k_range(-1, 1);
                g[j] = k_range(-0.5, 0.5);
                s10[j] = k_range(-0.1, 0.1);
                s20[j] = k_range(0, 0.05);
                if (j % 9 == 4) w0[j] = 0.0f;     /* sign(0) = 0 */
            }
            /* amax, copy_amax */
            m = k->amax(w0, n);
            NNT_EQ_INT(m, k_amax_bits(w0, n));
            for (j = 0; j < n; j++) d[j] = NAN;
            m = k->copy_amax(d, w0, n);
            NNT_EQ_INT(m, k_amax_bits(w0, n));
            NNT_TRUE(n == 0 || memcmp(d, w0, n * sizeof(float)) == 0);
            /* sgd: w - lr g, one product and one difference */
            memcpy(w, w0, n * sizeof(float));
            for (j = 0; j < n; j++) {
                rw[j] = (double)w0[j] - (double)lr * g[j];
                at[j] = 2 * U * fabs((double)lr * g[j]);
            }
            m = k->sgd(w, g, n, lr);
            k_check_vec("sgd", k->name, n, w, rw, U, at);
            NNT_EQ_INT(m, k_amax_bits(w, n));
            /* momentum: v = mu v - lr g; w += v */
            memcpy(w, w0, n * sizeof(float));
            memcpy(s1, s10, n * sizeof(float));
            for (j = 0; j < n; j++) {
                r1[j] = (double)mu * s10[j] - (double)lr * g[j];
                rw[j] = (double)w0[j] + r1[j];
                at[j] = 3 * U * (fabs((double)mu * s10[j]) +
                                 fabs((double)lr * g[j]));
            }
            m = tk->momentum(w, s1, g, n, lr, mu);
            k_check_vec("momentum v", k->name, n, s1, r1, 0, at);
            for (j = 0; j < n; j++) at[j] += U * fabs(rw[j]);
            k_check_vec("momentum w", k->name, n, w, rw, 0, at);
            NNT_EQ_INT(m, k_amax_bits(w, n));
            /* adagrad: c += g^2; w -= lr g / (sqrt(c) + eps) */
            memcpy(w, w0, n * sizeof(float));
            memcpy(s1, s20, n * sizeof(float));
            for (j = 0; j < n; j++) {
                double gj = g[j], up;
                r1[j] = (double)s20[j] + gj * gj;
                up = (double)lr * gj / (sqrt(r1[j]) + (double)eps);
                rw[j] = (double)w0[j] - up;
                at[j] = 8 * U * fabs(up) + U * fabs(rw[j]);
            }
            m = tk->adagrad(w, s1, g, n, lr, eps);
            k_check_vec("adagrad c", k->name, n, s1, r1, 3 * U, NULL);
            k_check_vec("adagrad w", k->name, n, w, rw, 0, at);
            NNT_EQ_INT(m, k_amax_bits(w, n));
            /* rmsprop: c = rho c + (1 - rho) g^2 */
            memcpy(w, w0, n * sizeof(float));
            memcpy(s1, s20, n * sizeof(float));
            for (j = 0; j < n; j++) {
                double gj = g[j], up, rho = 1.0 - (double)one_b1;
                r1[j] = rho * s20[j] + (double)one_b1 * gj * gj;
                up = (double)lr * gj / (sqrt(r1[j]) + (double)eps);
                rw[j] = (double)w0[j] - up;
                at[j] = 10 * U * fabs(up) + U * fabs(rw[j]);
            }
            m = tk->rmsprop(w, s1, g, n, lr, one_b1, eps);
            k_check_vec("rmsprop c", k->name, n, s1, r1, 6 * U, NULL);
            k_check_vec("rmsprop w", k->name, n, w, rw, 0, at);
            NNT_EQ_INT(m, k_amax_bits(w, n));
            /* adam, step 3 */
            memcpy(w, w0, n * sizeof(float));
            memcpy(s1, s10, n * sizeof(float));
            memcpy(s2, s20, n * sizeof(float));
            for (j = 0; j < n; j++) {
                double gj = g[j], up;
                double b1 = 1.0 - (double)one_b1, b2 = 1.0 - (double)one_b2;
                r1[j] = b1 * s10[j] + (double)one_b1 * gj;
                r2[j] = b2 * s20[j] + (double)one_b2 * gj * gj;
                up = (double)lr * (r1[j] * c1) /
                     (sqrt(r2[j] * c2) + (double)eps);
                rw[j] = (double)w0[j] - up;
                /* m: a sum of two products, may cancel */
                at[j] = 3 * U * (fabs(b1 * s10[j]) +
                                 fabs((double)one_b1 * gj));
            }
            m = tk->adam(w, s1, s2, g, n, lr, one_b1, one_b2, c1, c2, eps);
            k_check_vec("adam m", k->name, n, s1, r1, 0, at);
            k_check_vec("adam v", k->name, n, s2, r2, 6 * U, NULL);
            for (j = 0; j < n; j++) {
                double den = sqrt(r2[j] * c2) + (double)eps;
                at[j] = (at[j] * c1 * (double)lr + 10 * U *
                         fabs((double)lr * r1[j] * c1)) / den +
                        U * fabs(rw[j]);
            }
            k_check_vec("adam w", k->name, n, w, rw, 0, at);
            NNT_EQ_INT(m, k_amax_bits(w, n));
            /* regularize: g += l1 sign(w) + l2x2 w */
            memcpy(d, g, n * sizeof(float));
            for (j = 0; j < n; j++) {
                double sg = w0[j] > 0 ? 1.0 : w0[j] < 0 ? -1.0 : 0.0;
                rw[j] = (double)g[j] + 1e-3 * sg + 2e-3 * w0[j];
                at[j] = 3 * U * (fabs((double)g[j]) + 1e-3 +
                                 2e-3 * fabs((double)w0[j]));
            }
            m = tk->regularize(d, w0, n, 1e-3f, 2e-3f);
            k_check_vec("regularize", k->name, n, d, rw, 0, at);
            NNT_EQ_INT(m, k_amax_bits(d, n));
            /* penalty: sum l1 |w| + l2 w^2, in double */
            for (j = 0; j < n; j++) {
                pref += 0.5 * fabs((double)w0[j]) +
                        0.25 * (double)w0[j] * w0[j];
                pabs += 0.5 * fabs((double)w0[j]) +
                        0.25 * (double)w0[j] * w0[j];
            }
            pen = tk->penalty(w0, n, 0.5, 0.25);
            k_check("penalty", k->name, 1, n, 0, pen, pref, 0,
                    1e-14 * pabs + 1e-300);
            /* dropout: d = a mask, g *= mask, one rounding each */
            for (j = 0; j < n; j++) {
                s1[j] = j % 3 == 0 ? 0.0f : 1.25f;
                rw[j] = (double)w0[j] * s1[j];
            }
            m = tk->dropout_apply(d, w0, s1, n);
            k_check_vec("dropout_apply", k->name, n, d, rw, U, NULL);
            NNT_EQ_INT(m, k_amax_bits(d, n));
            memcpy(d, g, n * sizeof(float));
            for (j = 0; j < n; j++) rw[j] = (double)g[j] * s1[j];
            tk->dropout_back(d, s1, n);
            k_check_vec("dropout_back", k->name, n, d, rw, U, NULL);
            k_free(w); k_free(w0); k_free(g); k_free(s1); k_free(s2);
            k_free(s10); k_free(s20); k_free(d);
            free(rw); free(r1); free(r2); free(at);
        }
        printf("  updates %-7s (amax, copy_amax, sgd, momentum, adagrad, "
               "rmsprop, adam, regularize, penalty, dropout) worst "
               "|d|/tol %.3f\n", k->name, k_worst);
    }
}

/*-------------------------------------------------------- vecmath.h --*/

/* Relative error and ulps (of the float result's binade) of a float
   function value against a double reference. */
struct k_err { double rel, ulp, at; };
static void k_err_add(struct k_err *e, float x, float got, double ref)
{
    double rel = fabs((double)got - ref) / fabs(ref);
    int ex;
    double ulp;
    (void)frexp(ref, &ex);
    ulp = ldexp(1.0, ex - 24);
    if (fabs(ref) < 1.1754943508222875e-38) ulp = ldexp(1.0, -149);
    if (rel > e->rel) { e->rel = rel; e->at = x; }
    if (fabs((double)got - ref) / ulp > e->ulp)
        e->ulp = fabs((double)got - ref) / ulp;
}

/* This build's vecmath (the test compiles it without -mfma: the generic
   kernels' variant; the FMA variants are covered through the sigmoid,
   tanh, softmax and loss kernels above). */
NN_TEST(kernels_vecmath_exp_log_vs_libm)
{
    struct k_err ee = {0, 0, 0}, le = {0, 0, 0}, se = {0, 0, 0};
    struct k_err te = {0, 0, 0};
    uint32_t u;
    size_t count = 0;
    /* exp: every 389th float of [-87.33, 88.37] (both signs), and the
       edges */
    for (u = 0; u < 0x42B0C0A5u; u += 389) {
        int s;
        for (s = 0; s < 2; s++) {
            float x = nn__bits_f32(u | (s ? 0x80000000u : 0));
            if (x < -87.33f || x > 88.37f) continue;
            k_err_add(&ee, x, nn__expf(x), exp((double)x));
            count++;
        }
    }
    NNT_TRUE(nn__expf(-90.0f) == 0.0f);
    NNT_TRUE(isfinite(nn__expf(100.0f)) && nn__expf(100.0f) > 1e38f);
    NNT_TRUE(isnan(nn__expf(NAN)));
    /* log: every 389th normal positive float */
    for (u = 0x00800000u; u < 0x7f800000u; u += 389) {
        float x = nn__bits_f32(u);
        double ref = log((double)x);
        if (ref == 0.0) continue;
        k_err_add(&le, x, nn__logf(x), ref);
        count++;
    }
    NNT_TRUE(nn__logf(1.0f) == 0.0f);
    /* sigmoid and tanh on [-20, 20] where the result is normal */
    for (u = 0; u < 0x41A00000u; u += 389) {
        int s;
        for (s = 0; s < 2; s++) {
            float x = nn__bits_f32(u | (s ? 0x80000000u : 0));
            double tr = tanh((double)x);
            k_err_add(&se, x, nn__sigmoidf(x), 1.0 / (1.0 + exp(-(double)x)));
            if (fabs(tr) >= 1.1754943508222875e-38)
                k_err_add(&te, x, nn__tanhf(x), tr);
            count += 2;
        }
    }
    printf("  vecmath vs libm (double), %zu points: exp max rel %.3e "
           "(%.2f ulp, at %.9g); log max rel %.3e (%.2f ulp, at %.9g); "
           "sigmoid max rel %.3e (%.2f ulp); tanh max rel %.3e (%.2f ulp)\n",
           count, ee.rel, ee.ulp, ee.at, le.rel, le.ulp, le.at, se.rel,
           se.ulp, te.rel, te.ulp);
    /* the bounds stated in vecmath.h (measured: exp 0.96, log 0.78,
       sigmoid 2.4, tanh 1.3 ulp) */
    NNT_LE(ee.ulp, 1.5);
    NNT_LE(le.ulp, 1.5);
    NNT_LE(se.ulp, 3.0);
    NNT_LE(te.ulp, 2.0);
}
