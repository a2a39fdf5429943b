/*
 * test_grad.c - gradient correctness, docs/RELIABILITY.md T9.
 *
 *   a. the double reference (refnet.c) against double fourth-order
 *      centred differences (steps h and 2h, h = 2^-10): |g - n| <=
 *      1e-8 (|g| + |n|) + 1e-11 for every entry, and a relative error
 *      below 1e-8 for every entry with |g| >= 1e-4 (a plain two-point
 *      difference cannot do this: its truncation and rounding errors
 *      balance near 1e-6 relative for the smaller entries);
 *   b. the library's float32 forward output, loss and gradients against
 *      the reference at the same float parameters:
 *      |g - g_ref| <= 1e-5 + 1e-3 |g_ref| for every element, and per
 *      gradient tensor ||g - g_ref|| <= 5e-5 ||g_ref|| + 1e-7 sqrt(n);
 *   c. float32 fourth-order differences n through the API, steps 5e-3
 *      and 1e-2, per tensor (never elementwise: float32 differences are
 *      too noisy for that, docs/RELIABILITY.md §3): with nu the float-loss
 *      rounding noise of the differences, measured at every point against
 *      the double reference, ||g - (n - nu)|| <= 5e-5 (||g|| + ||n - nu||)
 *      + 1e-7 sqrt(entries), and the API's loss within 2e-6 relative of
 *      the reference at every differenced point;
 *   d. the kinks: fixtures keep clear of them (gradcases.c asserts it),
 *      and the documented values at the kinks are tested exactly.
 * The cases (gradcases.c) cover every output activation x loss, labels for
 * every output activation, hidden layers of every activation, batches 1,
 * 3, 64 and widths 1 to 257.  Each part prints its worst errors.
 */
#include "nntest.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "gradcases.h"
#include "refnet.h"

#define FD_MAX_ENTRIES 48     /* differenced entries per tensor, at most */

/* Part a: step and elementwise tolerance of the double differences. */
#define A_H 0x1p-10           /* ~1e-3; 2h stays inside GC_H's clearance */
#define A_REL 1e-8
#define A_ABS 1e-11

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    NNT_TRUE(p != NULL);
    return p;
}

static uint64_t case_seed(size_t i)
{
    return nnt_seed() + 0x632BE59BD9B4E019ull * (uint64_t)i;
}

/*------------------------------------------------------------- part a --*/

struct a_stats { double rel, absd, ratio; size_t n; };

/* Difference `n` entries of one reference tensor (param, analytic g). */
static void a_tensor(struct gc_fix *f, double *param, const double *g,
                     size_t n, const char *what, size_t layer,
                     uint64_t *rng, struct a_stats *st)
{
    const double h = A_H;
    size_t *idx = xmalloc(FD_MAX_ENTRIES * 2 * sizeof(size_t));
    size_t m = gc_pick(g, n, FD_MAX_ENTRIES * 2, rng, idx), q;
    for (q = 0; q < m; q++) {
        size_t e = idx[q];
        double save = param[e], l1p, l1m, l2p, l2m, nd;
        double d, big, tol;
        /* save is a widened float and h a power of two: save +- h and
           save +- 2h are exact in double for |save| >= 2^-29 and within
           1e-16 relative of the step otherwise */
        param[e] = save + h;
        l1p = gc_ref_loss(f);
        param[e] = save - h;
        l1m = gc_ref_loss(f);
        param[e] = save + 2 * h;
        l2p = gc_ref_loss(f);
        param[e] = save - 2 * h;
        l2m = gc_ref_loss(f);
        param[e] = save;
        /* fourth-order centred difference: truncation O(h^4 f^(5)) */
        nd = (8.0 * (l1p - l1m) - (l2p - l2m)) / (12.0 * h);
        d = fabs(g[e] - nd);
        big = fmax(fabs(g[e]), fabs(nd));
        tol = A_REL * (fabs(g[e]) + fabs(nd)) + A_ABS;
        if (!(d <= tol)) {
            free(idx);
            nnt_fail(__FILE__, __LINE__, "T9a %s: layer %zu %s[%zu]: "
                     "reference %.12g, difference %.12g, |delta| %.3g > %.3g",
                     f->c.name, layer, what, e, g[e], nd, d, tol);
        }
        nnt_pass();
        if (big >= 1e-4 && d / big > st->rel) st->rel = d / big;
        if (d > st->absd) st->absd = d;
        if (d / tol > st->ratio) st->ratio = d / tol;
        st->n++;
    }
    free(idx);
}

NN_TEST(grad_reference_vs_finite_differences)
{
    struct a_stats all = {0, 0, 0, 0};
    double t0 = now_s();
    size_t i, k;
    printf("  T9a: reference vs double 4th-order differences, h = 2^-10, "
           "seed %llu\n", (unsigned long long)nnt_seed());
    for (i = 0; i < gc_num_cases(); i++) {
        struct gc_fix f;
        struct a_stats st = {0, 0, 0, 0};
        uint64_t rng = case_seed(i) ^ 0xA;
        gc_build(&f, i, case_seed(i));
        NNT_TRUE(isfinite(gc_ref_step(&f)));
        for (k = 0; k < f.c.n_layers; k++) {
            size_t no = f.c.sizes[k + 1], nw = f.c.sizes[k] * no;
            /* keep the analytic gradients: differencing reruns forward */
            double *gw = xmalloc(nw * sizeof(double));
            double *gb = xmalloc(no * sizeof(double));
            memcpy(gw, f.ref.dw[k], nw * sizeof(double));
            memcpy(gb, f.ref.db[k], no * sizeof(double));
            a_tensor(&f, f.ref.w[k], gw, nw, "dW", k, &rng, &st);
            a_tensor(&f, f.ref.b[k], gb, no, "db", k, &rng, &st);
            free(gw);
            free(gb);
        }
        printf("  a %-44s max rel %.2e, max |g-n| %.2e, /tol %.3f (%zu)\n",
               f.c.name, st.rel, st.absd, st.ratio, st.n);
        all.rel = fmax(all.rel, st.rel);
        all.absd = fmax(all.absd, st.absd);
        all.ratio = fmax(all.ratio, st.ratio);
        all.n += st.n;
        gc_free(&f);
    }
    printf("  T9a worst over %zu cases, %zu entries: max relative error "
           "%.3e (entries >= 1e-4), max |g - n| %.3e, max |g - n| / "
           "(1e-8 (|g| + |n|) + 1e-11) = %.3f  [%.2f s]\n", gc_num_cases(),
           all.n, all.rel, all.absd, all.ratio, now_s() - t0);
    NNT_LE(all.rel, 1e-8);
}

/*------------------------------------------------------------- part b --*/

struct b_stats { double absd, rel, ratio; size_t n; };

/* Check a per-tensor normwise relative error against B_NORM.  Measured
   over seeds 1-40: at most 1.0e-5, most tensors 1e-7 to 5e-6; the larger
   ones come from cancellation in the backward pass (dz = a (g - sum g a)
   through a width-2 softmax, sums of opposite-signed rows): float32 work
   with an error of a few u = 6e-8 times a condition number near 1e2.  A
   wrong formula gives O(1).  Tensors whose entries cancel to near 0 (a
   bias gradient summing rows of opposite sign, 8e-4 relative once) keep
   an absolute floor of B_FLOOR per entry, 100 times below the elementwise
   1e-5. */
#define B_NORM 5e-5
#define B_FLOOR 1e-7

/* Compare float results with the reference: |got - ref| <= 1e-5 +
   1e-3 |ref| for each element. */
static double b_compare(const struct gc_fix *f, const char *what,
                        size_t layer, const float *got, const double *ref,
                        size_t n, struct b_stats *st)
{
    size_t e;
    double d2 = 0, r2 = 0;
    for (e = 0; e < n; e++) {
        double d = fabs((double)got[e] - ref[e]);
        d2 += d * d;
        r2 += ref[e] * ref[e];
        double tol = 1e-5 + 1e-3 * fabs(ref[e]);
        if (!(d <= tol))
            nnt_fail(__FILE__, __LINE__, "T9b %s: layer %zu %s[%zu]: "
                     "library %.9g, reference %.12g, |delta| %.3g > %.3g",
                     f->c.name, layer, what, e, (double)got[e], ref[e], d,
                     tol);
        nnt_pass();
        if (d > st->absd) st->absd = d;
        if (d / (1e-6 + fabs(ref[e])) > st->rel)
            st->rel = d / (1e-6 + fabs(ref[e]));
        if (d / tol > st->ratio) st->ratio = d / tol;
        st->n++;
    }
    /* per-tensor: ||got - ref|| / (||ref|| + B_FLOOR sqrt(n) / B_NORM),
       i.e. err <= B_NORM means ||d|| <= B_NORM ||ref|| + B_FLOOR sqrt(n) */
    return sqrt(d2) / (sqrt(r2) + B_FLOOR * sqrt((double)n) / B_NORM);
}

static void b_norm_check(const struct gc_fix *f, const char *what,
                         size_t layer, double err, double *worst)
{
    if (!(err <= B_NORM))
        nnt_fail(__FILE__, __LINE__, "T9b %s: layer %zu %s: normwise "
                 "relative error %.3g > %g", f->c.name, layer, what, err,
                 B_NORM);
    nnt_pass();
    if (err > *worst) *worst = err;
}

NN_TEST(grad_library_vs_reference)
{
    struct b_stats all = {0, 0, 0, 0}, outs = {0, 0, 0, 0};
    struct b_stats losses = {0, 0, 0, 0};
    double t0 = now_s(), worst_norm = 0;
    size_t i, k, e;
    printf("  T9b: library float32 vs double reference at the same "
           "parameters, seed %llu\n", (unsigned long long)nnt_seed());
    for (i = 0; i < gc_num_cases(); i++) {
        struct gc_fix f;
        struct b_stats st = {0, 0, 0, 0};
        double cnorm = 0;
        size_t n_out, batch;
        float *out, loss = NAN;
        double ref_loss_value;
        gc_build(&f, i, case_seed(i));
        n_out = f.c.sizes[f.c.n_layers];
        batch = f.c.batch;
        out = xmalloc(batch * n_out * sizeof(float));
        for (e = 0; e < batch * n_out; e++) out[e] = NAN;
        NNT_OK(gc_lib_step(&f, out, &loss));
        ref_loss_value = gc_ref_step(&f);
        b_compare(&f, "output", f.c.n_layers - 1, out, ref_output(&f.ref),
                  batch * n_out, &outs);
        b_compare(&f, "loss", f.c.n_layers - 1, &loss, &ref_loss_value, 1,
                  &losses);
        for (k = 0; k < f.c.n_layers; k++) {
            size_t no = f.c.sizes[k + 1], nw = f.c.sizes[k] * no;
            float *gw = xmalloc(nw * sizeof(float));
            float *gb = xmalloc(no * sizeof(float));
            for (e = 0; e < nw; e++) gw[e] = NAN;
            for (e = 0; e < no; e++) gb[e] = NAN;
            NNT_OK(nn_net_get_grads(f.net, k, gw, gb));
            b_norm_check(&f, "dW", k,
                         b_compare(&f, "dW", k, gw, f.ref.dw[k], nw, &st),
                         &cnorm);
            b_norm_check(&f, "db", k,
                         b_compare(&f, "db", k, gb, f.ref.db[k], no, &st),
                         &cnorm);
            free(gw);
            free(gb);
        }
        printf("  b %-44s max |d| %.2e, max |d|/(1e-6+|g|) %.2e, /tol "
               "%.4f, normwise %.2e\n", f.c.name, st.absd, st.rel, st.ratio,
               cnorm);
        worst_norm = fmax(worst_norm, cnorm);
        all.absd = fmax(all.absd, st.absd);
        all.rel = fmax(all.rel, st.rel);
        all.ratio = fmax(all.ratio, st.ratio);
        all.n += st.n;
        free(out);
        gc_free(&f);
    }
    printf("  T9b worst over %zu cases: gradients (%zu elements) max |d| "
           "%.3e, max |d|/(1e-6+|g_ref|) %.3e, max |d|/(1e-5+1e-3|g_ref|) "
           "%.4f; outputs max |d| %.3e (/tol %.4f); losses max |d| %.3e "
           "(/tol %.4f); per-tensor normwise ||g - g_ref|| / ||g_ref|| max "
           "%.3e (<= %g)  [%.2f s]\n", gc_num_cases(), all.n, all.absd,
           all.rel, all.ratio, outs.absd, outs.ratio, losses.absd,
           losses.ratio, worst_norm, B_NORM, now_s() - t0);
}

/*------------------------------------------------------------- part c --*/

static float c_loss(struct gc_fix *f)
{
    float loss = NAN;
    NNT_OK(gc_lib_step(f, NULL, &loss));
    return loss;
}

/* Per-tensor results of part c. */
struct c_err {
    double err;      /* ||g - m|| / (||g|| + ||m|| + floor), m = n - nu */
    double raw;      /* ||g - n|| / (||g|| + ||n||) */
    double noise;    /* ||nu|| / (||g|| + ||n||) */
    double dloss;    /* max |L_lib - L_ref| / max(1, |L_ref|) */
};

/* float32 centred differences n of one tensor through the API against the
   library's float gradient g, over the chosen entries, fourth order
   (steps +-h, +-2h, h = GC_H / 2, with Lagrange weights for the steps as
   rounded to float), so that truncation (O(h^4)) is far below the bound.
   The float loss the API returns is rounded (half an ulp of |L| at least,
   ~2.4e-7 for L = 5.6, over a step of 1e-2 that is 2.4e-5 of gradient,
   more than 1e-3 of a 1e-2 gradient entry), so a plain normwise bound
   on g - n is either loose or fails by chance (it failed at 1.9e-3 on a
   257-wide softmax net).  That noise is measured, not assumed: the double
   reference evaluates the same float parameters at every point, delta =
   L_lib - L_ref, and nu_e = sum_a w_a delta_a is what the float loss adds
   to the difference.  Two checks per tensor:
     ||g - (n - nu)|| <= C_REL (||g|| + ||n - nu||) + C_FLOOR sqrt(m)
     (m entries; the floor, as part b's B_FLOOR, is for tensors that
     cancel to about 0, where float32 backprop has only absolute
     accuracy), and
     every |delta| <= C_DLOSS max(1, |L_ref|) (the API's loss is accurate
     at every differenced point),
   which together bound ||g - n|| by C_REL (...) + ||nu||, nu small.  The
   raw error and the noise share are reported.  weights selects W (else
   b) of layer k; the tensor is restored. */
#define C_REL B_NORM
#define C_FLOOR B_FLOOR
#define C_DLOSS 2e-6
static void c_tensor(struct gc_fix *f, size_t k, int weights,
                     const float *g, size_t n, uint64_t *rng,
                     size_t *counted, struct c_err *out)
{
    const double h = 0.5 * GC_H;   /* steps h and 2h <= GC_H */
    float *buf = weights ? f->w[k] : f->b[k];
    double *rp = weights ? f->ref.w[k] : f->ref.b[k];
    double *gd = xmalloc(n * sizeof(double)), num = 0, gn = 0, nn2 = 0;
    double nu2 = 0, dl = 0, lossd[4], raw2 = 0, mm2 = 0;
    size_t *idx = xmalloc(FD_MAX_ENTRIES * sizeof(size_t)), m, q;
    for (q = 0; q < n; q++) gd[q] = (double)g[q];
    m = gc_pick(gd, n, FD_MAX_ENTRIES, rng, idx);
    for (q = 0; q < m; q++) {
        size_t e = idx[q];
        float save = buf[e];
        double off[4], ls[4], nd = 0, nu = 0, d;
        size_t a, b2, c2;
        static const double mult[4] = {1, -1, 2, -2};
        for (a = 0; a < 4; a++) {
            float wq = (float)((double)save + mult[a] * h);
            double lq, rq;
            off[a] = (double)wq - (double)save;   /* the step taken */
            buf[e] = wq;
            rp[e] = (double)wq;
            NNT_OK(nn_net_set_params(f->net, k, weights ? buf : NULL,
                                     weights ? NULL : buf));
            lq = (double)c_loss(f);
            rq = gc_ref_loss(f);
            dl = fmax(dl, fabs(lq - rq) / fmax(1.0, fabs(rq)));
            ls[a] = lq;           /* the API loss at step a */
            lossd[a] = lq - rq;
        }
        buf[e] = save;
        rp[e] = (double)save;
        /* derivative at 0 of the cubic through (off[a], L_a): Lagrange
           weights for the actual (float-rounded) offsets */
        for (a = 0; a < 4; a++) {
            double num_a = 0, den_a = 1;
            for (b2 = 0; b2 < 4; b2++) {
                double prod = 1;
                if (b2 == a) continue;
                den_a *= off[a] - off[b2];
                for (c2 = 0; c2 < 4; c2++)
                    if (c2 != a && c2 != b2) prod *= -off[c2];
                num_a += prod;
            }
            nd += num_a / den_a * ls[a];
            nu += num_a / den_a * lossd[a];
        }
        d = gd[e] - nd;
        raw2 += d * d;
        d = gd[e] - (nd - nu);
        num += d * d;
        gn += gd[e] * gd[e];
        nn2 += nd * nd;
        mm2 += (nd - nu) * (nd - nu);
        nu2 += nu * nu;
    }
    NNT_OK(nn_net_set_params(f->net, k, weights ? buf : NULL,
                             weights ? NULL : buf));
    *counted += m;
    free(gd);
    free(idx);
    memset(out, 0, sizeof *out);
    out->dloss = dl;
    if (gn + nn2 > 0) {
        double den = sqrt(gn) + sqrt(nn2);
        out->raw = sqrt(raw2) / den;
        out->noise = sqrt(nu2) / den;
    }
    /* err <= C_REL is the criterion */
    out->err = sqrt(num) * C_REL /
               (C_REL * (sqrt(gn) + sqrt(mm2)) + C_FLOOR * sqrt((double)m));
}

NN_TEST(grad_float_finite_differences_api)
{
    double worst = 0, worst_raw = 0, worst_noise = 0, worst_dl = 0;
    double t0 = now_s();
    size_t i, k, counted = 0, tensors = 0;
    printf("  T9c: float32 4th-order differences through the API, h = "
           "5e-3, "
           "seed %llu\n", (unsigned long long)nnt_seed());
    for (i = 0; i < gc_num_cases(); i++) {
        struct gc_fix f;
        double cw = 0, cr = 0, cn = 0;
        uint64_t rng = case_seed(i) ^ 0xC;
        float *gw[GC_MAX_LAYERS], *gb[GC_MAX_LAYERS];
        gc_build(&f, i, case_seed(i));
        (void)c_loss(&f);
        /* every gradient of the base point before any difference (each
           difference runs nn_backward) */
        for (k = 0; k < f.c.n_layers; k++) {
            size_t no = f.c.sizes[k + 1], nw = f.c.sizes[k] * no;
            gw[k] = xmalloc(nw * sizeof(float));
            gb[k] = xmalloc(no * sizeof(float));
            NNT_OK(nn_net_get_grads(f.net, k, gw[k], gb[k]));
        }
        for (k = 0; k < f.c.n_layers; k++) {
            size_t no = f.c.sizes[k + 1], nw = f.c.sizes[k] * no, t;
            struct c_err err[2];
            c_tensor(&f, k, 1, gw[k], nw, &rng, &counted, &err[0]);
            c_tensor(&f, k, 0, gb[k], no, &rng, &counted, &err[1]);
            for (t = 0; t < 2; t++) {
                if (!(err[t].err <= C_REL))
                    nnt_fail(__FILE__, __LINE__, "T9c %s: layer %zu %s: "
                             "normwise error %.3g (raw %.3g, float-loss "
                             "noise %.3g) > %g", f.c.name, k,
                             t ? "db" : "dW", err[t].err, err[t].raw,
                             err[t].noise, C_REL);
                nnt_pass();
                if (!(err[t].dloss <= C_DLOSS))
                    nnt_fail(__FILE__, __LINE__, "T9c %s: layer %zu %s: "
                             "library loss off the reference by %.3g "
                             "(relative) > %g", f.c.name, k,
                             t ? "db" : "dW", err[t].dloss, C_DLOSS);
                nnt_pass();
                cw = fmax(cw, err[t].err);
                cr = fmax(cr, err[t].raw);
                cn = fmax(cn, err[t].noise);
                worst_dl = fmax(worst_dl, err[t].dloss);
                tensors++;
            }
            free(gw[k]);
            free(gb[k]);
        }
        printf("  c %-44s normwise error %.2e (raw %.2e, noise %.2e)\n",
               f.c.name, cw, cr, cn);
        worst = fmax(worst, cw);
        worst_raw = fmax(worst_raw, cr);
        worst_noise = fmax(worst_noise, cn);
        gc_free(&f);
    }
    printf("  T9c over %zu tensors (%zu entries differenced): worst "
           "normwise error with the measured float-loss noise removed %.3e "
           "(< %g); worst raw ||g-n||/(||g||+||n||) %.3e; worst noise "
           "share %.3e; library loss vs reference max %.3e relative  "
           "[%.2f s]\n", tensors, counted, worst, C_REL, worst_raw,
           worst_noise, worst_dl, now_s() - t0);
}

/*------------------------------------------------------------- part d --*/

static nn_net *kink_net(size_t n_layers, const size_t *sizes,
                        const int32_t *acts)
{
    nn_net *net = NULL;
    NNT_OK(nn_net_create(&net, n_layers, sizes, acts, nnt_seed()));
    return net;
}

/* ReLU at z == 0 exactly has derivative 0, in a hidden layer and in the
   output layer, whatever the loss (also CCE/BCE, where dL/dp is huge at
   the clipped p = 0: 0 times it must stay 0). */
NN_TEST(grad_kink_relu_zero_exact)
{
    /* hidden, rows 0 and 2: x = (1, 1); unit 0: 0.5 - 0.5 + 0 = 0;
       unit 1: 0.25 + 0.5 - 0.75 = 0; unit 2: 0.25 + 0.5 = 0.75; unit 3:
       -0.5 + 0.25 < 0.  Row 1: x = (-1, 0.5): units 0, 1 < 0, unit 2 at
       -0.25 + 0.25 = 0, unit 3 > 0. */
    size_t sizes[3] = {2, 4, 2};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_LINEAR};
    float w1[8] = {0.5f, 0.25f, 0.25f, -0.5f, -0.5f, 0.5f, 0.5f, 0.25f};
    float b1[4] = {0, -0.75f, 0, 0};
    float w2[8] = {0.5f, -1, 0.25f, 2, -0.75f, 1, 1.5f, -0.5f};
    float b2[2] = {0.125f, -0.25f};
    float x[6] = {1, 1, -1, 0.5f, 1, 1}, t[6] = {1, 0, 0, 1, 0.5f, 0.5f};
    float g1[8], gb1[4], g2[8], gb2[2], loss;
    double xd[6], td[6];
    struct ref_net r;
    nn_net *net = kink_net(2, sizes, acts);
    size_t i, batch;
    int32_t l;

    NNT_OK(nn_net_set_params(net, 0, w1, b1));
    NNT_OK(nn_net_set_params(net, 1, w2, b2));
    NNT_EQ_INT(ref_create(&r, 2, sizes, acts), 0);
    ref_set_layer(&r, 0, w1, b1);
    ref_set_layer(&r, 1, w2, b2);
    for (i = 0; i < 6; i++) { xd[i] = x[i]; td[i] = t[i]; }
    /* batch 1 (only the kink row) and batch 3 (kink rows 0 and 2) */
    for (batch = 1; batch <= 3; batch += 2) {
        NNT_OK(nn_forward(net, x, batch, NULL));
        NNT_OK(nn_backward(net, NN_LOSS_MSE, t, &loss));
        NNT_OK(nn_net_get_grads(net, 0, g1, gb1));
        NNT_OK(nn_net_get_grads(net, 1, g2, gb2));
        NNT_EQ_INT(ref_forward(&r, xd, batch), 0);
        NNT_TRUE(r.z[0][0] == 0.0 && r.z[0][1] == 0.0);
        (void)ref_backward(&r, NN_LOSS_MSE, td);
        /* units 0 and 1 sit at z = 0 in every kink row and (batch 3)
           row 1 has z < 0 for them: their column of dW1 and db1 are 0,
           and so are rows 0, 1 of dW2 (a = 0) */
        for (i = 0; i < 2; i++) {
            NNT_TRUE(g1[0 * 4 + i] == 0.0f && g1[1 * 4 + i] == 0.0f);
            NNT_TRUE(gb1[i] == 0.0f);
            NNT_TRUE(g2[i * 2 + 0] == 0.0f && g2[i * 2 + 1] == 0.0f);
        }
        /* and the rest agrees with the reference */
        for (i = 0; i < 8; i++) {
            NNT_NEAR(g1[i], r.dw[0][i], 1e-5 + 1e-3 * fabs(r.dw[0][i]));
            NNT_NEAR(g2[i], r.dw[1][i], 1e-5 + 1e-3 * fabs(r.dw[1][i]));
        }
        NNT_TRUE(r.dw[0][2] != 0.0);   /* unit 2 is live */
    }
    nn_net_destroy(net);
    ref_destroy(&r);

    /* output ReLU at z = 0 exactly, each loss */
    {
        size_t s1[2] = {2, 2};
        int32_t a1[1] = {NN_ACT_RELU};
        float w[4] = {0.5f, 0.25f, -0.5f, 0.5f}, b[2] = {0, 0};
        float xo[2] = {1, 1}, to[2] = {1, 0.5f}, gw[4], gb[2], out[2];
        net = kink_net(1, s1, a1);
        NNT_OK(nn_net_set_params(net, 0, w, b));
        for (l = 0; l < 4; l++) {
            NNT_OK(nn_forward(net, xo, 1, out));
            NNT_TRUE(out[0] == 0.0f && out[1] == 0.75f);
            NNT_OK(nn_backward(net, l, to, &loss));
            NNT_TRUE(isfinite(loss));
            NNT_OK(nn_net_get_grads(net, 0, gw, gb));
            NNT_TRUE(gw[0] == 0.0f && gw[2] == 0.0f && gb[0] == 0.0f);
            NNT_TRUE(gb[1] != 0.0f && isfinite(gb[1]));
        }
        {
            int32_t lab[1] = {0};
            NNT_OK(nn_forward(net, xo, 1, out));
            NNT_OK(nn_backward_labels(net, lab, &loss));
            NNT_NEAR(loss, -log(1e-7), 1e-5 * 16.2);
            NNT_OK(nn_net_get_grads(net, 0, gw, gb));
            NNT_TRUE(gw[0] == 0.0f && gw[2] == 0.0f && gb[0] == 0.0f);
        }
        nn_net_destroy(net);
    }
    printf("  T9d: ReLU derivative at z == 0 is exactly 0 (hidden and "
           "output, every loss)\n");
}

/* MAE derivative at p == t is 0: with p = (1, 0.75) exactly, t = (1, 0.5),
   dL/dp = (0, 1 / (n_out batch)) and everything else follows exactly. */
NN_TEST(grad_kink_mae_equal_exact)
{
    size_t sizes[2] = {2, 2};
    int32_t acts[1] = {NN_ACT_LINEAR};
    float w[4] = {0.5f, 0.25f, 0.25f, 0.25f}, b[2] = {0, 0};
    float x[4] = {1, 2, 1, 2}, t[4] = {1, 0.5f, 1, 0.5f}, out[4];
    float gw[4], gb[2], loss;
    nn_net *net = kink_net(1, sizes, acts);
    size_t batch;
    NNT_OK(nn_net_set_params(net, 0, w, b));
    for (batch = 1; batch <= 2; batch++) {
        double s = 1.0 / (2.0 * (double)batch);   /* 1 / (n_out batch) */
        NNT_OK(nn_forward(net, x, batch, out));
        NNT_TRUE(out[0] == 1.0f && out[1] == 0.75f);
        NNT_OK(nn_backward(net, NN_LOSS_MAE, t, &loss));
        NNT_TRUE(loss == 0.125f);
        NNT_OK(nn_net_get_grads(net, 0, gw, gb));
        /* db = sum over rows of dL/dp; dW = x^T dL/dp */
        NNT_TRUE(gb[0] == 0.0f);
        NNT_TRUE(gb[1] == (float)(s * (double)batch));
        NNT_TRUE(gw[0] == 0.0f && gw[2] == 0.0f);
        NNT_TRUE(gw[1] == (float)(1.0 * s * (double)batch));
        NNT_TRUE(gw[3] == (float)(2.0 * s * (double)batch));
    }
    nn_net_destroy(net);
    printf("  T9d: MAE derivative at p == t is exactly 0\n");
}
