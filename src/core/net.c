/*
 * net.c - the network handle: creation, parameters, forward, backward,
 * the plain SGD step and inference.
 *
 * Failure atomicity ("on failure nothing observable changes") is kept
 * without extra passes over memory on the hot path:
 *  - every argument is validated before anything is written;
 *  - the forward cache is double-buffered: a forward fills the spare slot
 *    and publishes it only when every layer's output proved finite;
 *  - backward computes every dL/dz into scratch first; each kernel pass
 *    also returns the largest magnitude it saw (amax, base/base.h), so the
 *    gradient GEMMs dW = X^T dZ are proved unable to overflow before any
 *    published gradient is overwritten (|dW| <= batch max|X| max|dZ|);
 *  - the SGD step is likewise proved finite from max|W| (kept exact by
 *    every writer) and the gradient bound.  Only when such a bound is too
 *    loose to decide does a slower exact path run.
 */
#include "base/base.h"
#include "kernels/kernels.h"
#include "core.h"
#include "parallel.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>


/*====== Shape and allocation ======*/

int nn__net_check_shape(size_t n_layers, const size_t *sizes,
                        const int32_t *acts, const char *fn)
{
    size_t i, total = 0;
    NN__CHECK(n_layers == 0, NN_ERR_INVALID_ARG, "%s: n_layers is 0", fn);
    NN__CHECK(n_layers > NN_MAX_LAYERS, NN_ERR_SHAPE,
              "%s: n_layers = %zu exceeds NN_MAX_LAYERS (%u)", fn, n_layers,
              NN_MAX_LAYERS);
    for (i = 0; i <= n_layers; i++) {
        NN__CHECK(sizes[i] == 0, NN_ERR_INVALID_ARG, "%s: sizes[%zu] is 0",
                  fn, i);
        NN__CHECK(sizes[i] > NN_MAX_WIDTH, NN_ERR_SHAPE,
                  "%s: sizes[%zu] = %zu exceeds NN_MAX_WIDTH (%u)", fn, i,
                  sizes[i], NN_MAX_WIDTH);
    }
    for (i = 0; i < n_layers; i++) {
        NN__CHECK(acts[i] < 0 || acts[i] >= NN__N_ACT,
                  NN_ERR_INVALID_ARG,
                  "%s: activations[%zu] = %d is not an NN_ACT_* value", fn,
                  i, (int)acts[i]);
        {
            /* widths <= 2^20, but their product can exceed a 32-bit
               size_t: every step is overflow-checked */
            size_t layer_params;
            NN__CHECK(!nn__mul_ok(sizes[i], sizes[i + 1], &layer_params) ||
                      !nn__add_ok(layer_params, sizes[i + 1],
                                  &layer_params) ||
                      !nn__add_ok(total, layer_params, &total) ||
                      total > NN_MAX_PARAMS,
                      NN_ERR_SHAPE, "%s: more than NN_MAX_PARAMS (%zu) "
                      "parameters by layer %zu", fn, NN_MAX_PARAMS, i);
        }
    }
    return NN_OK;
}

static void nn__net_free(nn_net *net)
{
    if (net == NULL) return;
    nn__free(net->layers);
    nn__free(net->params);
    nn__free(net->grads);
    nn__free(net->cache[0]);
    nn__free(net->cache[1]);
    nn__free(net->act_max);
    nn__free(net->act_max_next);
    nn__free(net->dz);
    nn__free(net->db_scratch);
    nn__free(net->gcheck);
    nn__free(net->dz_max);
    nn__free(net->pred);
    nn__free(net->par);
    nn__free(net);
}

/* Lay a cache slot out for the current dropout settings: x, then per
   layer its output a, and with dropout its mask and dropped output d,
   which is what the next layer reads. */
static void nn__layout(nn_net *net)
{
    size_t off = net->layers[0].n_in, i;
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        l->off_in = i == 0 ? 0
                           : (net->layers[i - 1].dropout > 0.0f
                                  ? net->layers[i - 1].off_d
                                  : net->layers[i - 1].off_a);
        l->off_a = off;
        off += l->n_out;
        if (l->dropout > 0.0f) {
            l->off_mask = off;
            l->off_d = off + l->n_out;
            off += 2 * l->n_out;
        } else {
            l->off_mask = l->off_d = l->off_a;
        }
    }
    net->cache_row = off;
}

int nn__net_alloc(nn_net **out, size_t n_layers, const size_t *sizes,
                  const int32_t *acts, const char *fn)
{
    nn_net *net;
    size_t i, off = 0;

    *out = NULL;
    net = nn__calloc(1, sizeof *net);
    if (net == NULL) goto nomem;
    net->tag = NN__TAG_NET;
    net->n_layers = n_layers;
    net->layers = nn__calloc(n_layers, sizeof *net->layers);
    if (net->layers == NULL) goto nomem;
    net->width_max = sizes[0];
    for (i = 0; i < n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        l->n_in = sizes[i];
        l->n_out = sizes[i + 1];
        l->act = acts[i];
        net->n_params += l->n_in * l->n_out + l->n_out;
        net->width_sum += l->n_out;
        if (l->n_out > net->width_max) net->width_max = l->n_out;
    }
    net->params = nn__calloc(net->n_params, sizeof(float));
    net->grads = nn__calloc(net->n_params, sizeof(float));
    net->act_max = nn__calloc(n_layers + 1, sizeof(uint32_t));
    net->act_max_next = nn__calloc(n_layers + 1, sizeof(uint32_t));
    net->db_scratch = nn__calloc(net->width_sum, sizeof(float));
    net->dz_max = nn__calloc(n_layers, sizeof(uint32_t));
    if (net->params == NULL || net->grads == NULL || net->act_max == NULL ||
        net->act_max_next == NULL || net->db_scratch == NULL ||
        net->dz_max == NULL)
        goto nomem;
    for (i = 0; i < n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        l->w = net->params + off;
        l->dw = net->grads + off;
        off += l->n_in * l->n_out;
        l->b = net->params + off;
        l->db = net->grads + off;
        off += l->n_out;
    }
    nn__layout(net);
    *out = net;
    return NN_OK;

nomem:
    nn__net_free(net);
    return nn__fail(NN_ERR_NOMEM, "%s: out of memory allocating a network "
                    "of %zu layers", fn, n_layers);
}

void nn__net_refresh_pmax(nn_net *net)
{
    const struct nn__kernels *k = nn__kernels();
    size_t i;
    nn__layout(net);   /* dropout rates may have been written too */
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        l->pmax = nn__umax(k->amax(l->w, l->n_in * l->n_out),
                           k->amax(l->b, l->n_out));
    }
}

int nn_net_create(nn_net **out, size_t n_layers, const size_t *sizes,
                  const int32_t *activations, uint64_t seed)
{
    static const char fn[] = "nn_net_create";
    struct nn__rng r;
    nn_net *net;
    size_t i;

    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    NN__CHECK(sizes == NULL, NN_ERR_INVALID_ARG, "%s: sizes is NULL", fn);
    NN__CHECK(activations == NULL, NN_ERR_INVALID_ARG,
              "%s: activations is NULL", fn);
    NN__FORWARD(nn__net_check_shape(n_layers, sizes, activations, fn));
    NN__FORWARD(nn__net_alloc(&net, n_layers, sizes, activations, fn));

    nn__rng_seed(&r, seed);
    for (i = 0; i < n_layers; i++)
        nn__init_layer(&net->layers[i], NN_INIT_DEFAULT, 1.0, &r);
    /* The dropout stream: a second generator from the same seed, kept
       apart from the weight draw so adding dropout changes no weight. */
    nn__rng_seed(&net->rng, seed ^ 0xd1b54a32d192ed03ull);
    nn__net_refresh_pmax(net);
    *out = net;
    return NN_OK;
}

int nn_net_init(nn_net *net, size_t layer, int32_t scheme, double gain,
                uint64_t seed)
{
    static const char fn[] = "nn_net_init";
    struct nn__rng r;
    size_t i, lo, hi;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    if (layer != NN_ALL_LAYERS)
        NN__FORWARD(nn__check_layer(net, layer, fn));
    NN__CHECK(scheme < NN_INIT_DEFAULT || scheme > NN_INIT_ORTHOGONAL,
              NN_ERR_INVALID_ARG, "%s: scheme = %d is not an NN_INIT_* "
              "value", fn, (int)scheme);
    NN__CHECK(!isfinite(gain), NN_ERR_NONFINITE, "%s: gain is %s", fn,
              isnan(gain) ? "NaN" : "infinite");
    NN__CHECK(gain < 0 || gain > 1e30, NN_ERR_INVALID_ARG,
              "%s: gain = %g is outside [0, 1e30]", fn, gain);
    lo = layer == NN_ALL_LAYERS ? 0 : layer;
    hi = layer == NN_ALL_LAYERS ? net->n_layers : layer + 1;
    nn__rng_seed(&r, seed);
    if (scheme == NN_INIT_ORTHOGONAL) {
        /* LAPACK may fail: draw every layer into scratch first, then
           copy, so a failure changes nothing */
        size_t tot = 0, off = 0;
        for (i = lo; i < hi; i++)
            tot += net->layers[i].n_in * net->layers[i].n_out;
        float *tmp = nn__malloc(tot * sizeof *tmp);
        if (tmp == NULL)
            return nn__fail(NN_ERR_NOMEM, "%s: no memory for %zu "
                            "weights", fn, tot);
        for (i = lo; i < hi; i++) {
            const struct nn__layer *l = &net->layers[i];
            int st = nn__orthogonal_draw(tmp + off, l->n_in, l->n_out,
                                         gain, &r, fn);
            if (st != NN_OK) { nn__free(tmp); return st; }
            off += l->n_in * l->n_out;
        }
        for (i = lo, off = 0; i < hi; i++) {
            struct nn__layer *l = &net->layers[i];
            memcpy(l->w, tmp + off, l->n_in * l->n_out * sizeof(float));
            memset(l->b, 0, l->n_out * sizeof(float));
            off += l->n_in * l->n_out;
        }
        nn__free(tmp);
    } else {
        for (i = lo; i < hi; i++)
            nn__init_layer(&net->layers[i], scheme, gain, &r);
    }
    nn__net_refresh_pmax(net);
    net->batch = 0;   /* the cached forward used the old parameters */
    return NN_OK;
}

void nn_net_destroy(nn_net *net)
{
    NN__CHECK_HANDLE_OR(net, NN__TAG_NET, "net", "nn_net_destroy", );
    if (net != NULL) NN__KILL_HANDLE(net);
    nn__net_free(net);
}

/*====== Queries and parameters ======*/

size_t nn_net_num_layers(const nn_net *net)
{
    NN__CHECK_HANDLE_OR(net, NN__TAG_NET, "net", "nn_net_num_layers", 0);
    return net == NULL ? 0 : net->n_layers;
}

size_t nn_net_layer_inputs(const nn_net *net, size_t layer)
{
    NN__CHECK_HANDLE_OR(net, NN__TAG_NET, "net", "nn_net_layer_inputs", 0);
    return net == NULL || layer >= net->n_layers ? 0 : net->layers[layer].n_in;
}

size_t nn_net_layer_outputs(const nn_net *net, size_t layer)
{
    NN__CHECK_HANDLE_OR(net, NN__TAG_NET, "net", "nn_net_layer_outputs", 0);
    return net == NULL || layer >= net->n_layers ? 0
                                                 : net->layers[layer].n_out;
}

int32_t nn_net_layer_activation(const nn_net *net, size_t layer)
{
    NN__CHECK_HANDLE_OR(net, NN__TAG_NET, "net", "nn_net_layer_activation",
                        -1);
    return net == NULL || layer >= net->n_layers ? -1
                                                 : net->layers[layer].act;
}

size_t nn_net_num_params(const nn_net *net)
{
    NN__CHECK_HANDLE_OR(net, NN__TAG_NET, "net", "nn_net_num_params", 0);
    return net == NULL ? 0 : net->n_params;
}

int nn__check_layer(const nn_net *net, size_t layer, const char *fn)
{
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(layer >= net->n_layers, NN_ERR_INVALID_ARG,
              "%s: layer = %zu is outside [0, %zu)", fn, layer,
              net->n_layers);
    return NN_OK;
}

int nn_net_get_params(const nn_net *net, size_t layer, float *weights,
                      float *biases)
{
    const struct nn__layer *l;
    NN__FORWARD(nn__check_layer(net, layer, "nn_net_get_params"));
    l = &net->layers[layer];
    if (weights != NULL)
        memcpy(weights, l->w, l->n_in * l->n_out * sizeof(float));
    if (biases != NULL) memcpy(biases, l->b, l->n_out * sizeof(float));
    return NN_OK;
}

/* Index of the first non-finite float, for messages (n > 0, one exists). */
static size_t nn__first_nonfinite(const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

static int nn__fail_nonfinite(const char *fn, const char *what,
                              const float *x, size_t n, size_t cols)
{
    size_t i = nn__first_nonfinite(x, n);
    double v = i < n ? (double)x[i] : 0.0;
    if (cols > 1)
        return nn__fail(NN_ERR_NONFINITE,
                        "%s: %s[%zu] (row %zu, column %zu) is %s", fn, what,
                        i, i / cols, i % cols, isnan(v) ? "NaN" : "infinite");
    return nn__fail(NN_ERR_NONFINITE, "%s: %s[%zu] is %s", fn, what, i,
                    isnan(v) ? "NaN" : "infinite");
}

int nn_net_set_params(nn_net *net, size_t layer, const float *weights,
                      const float *biases)
{
    static const char fn[] = "nn_net_set_params";
    const struct nn__kernels *k = nn__kernels();
    struct nn__layer *l;
    size_t nw;
    uint32_t wmax, bmax;
    NN__FORWARD(nn__check_layer(net, layer, fn));
    l = &net->layers[layer];
    nw = l->n_in * l->n_out;

    /* validate both buffers before writing either */
    wmax = weights != NULL ? k->amax(weights, nw) : 0;
    bmax = biases != NULL ? k->amax(biases, l->n_out) : 0;
    if (wmax >= NN__NONFINITE_BITS)
        return nn__fail_nonfinite(fn, "weights", weights, nw, l->n_out);
    if (bmax >= NN__NONFINITE_BITS)
        return nn__fail_nonfinite(fn, "biases", biases, l->n_out, 1);
    if (weights == NULL && biases == NULL) return NN_OK;

    if (weights != NULL) memcpy(l->w, weights, nw * sizeof(float));
    if (biases != NULL) memcpy(l->b, biases, l->n_out * sizeof(float));
    l->pmax = nn__umax(weights != NULL ? wmax : k->amax(l->w, nw),
                       biases != NULL ? bmax : k->amax(l->b, l->n_out));
    net->batch = 0;   /* the cached forward used the old parameters */
    return NN_OK;
}

int nn_net_get_grads(const nn_net *net, size_t layer, float *dweights,
                     float *dbiases)
{
    static const char fn[] = "nn_net_get_grads";
    const struct nn__layer *l;
    NN__FORWARD(nn__check_layer(net, layer, fn));
    NN__CHECK(!net->has_grads, NN_ERR_STATE,
              "%s: no nn_backward has succeeded on this net yet", fn);
    l = &net->layers[layer];
    if (dweights != NULL)
        memcpy(dweights, l->dw, l->n_in * l->n_out * sizeof(float));
    if (dbiases != NULL) memcpy(dbiases, l->db, l->n_out * sizeof(float));
    return NN_OK;
}

/*====== Forward ======*/

/* Floats one cache slot holds per sample (nn__layout). */
static size_t nn__cache_row(const nn_net *net)
{
    return net->cache_row;
}

/* Validate batch against the BLAS limit and the cache size arithmetic. */
static int nn__check_batch(const nn_net *net, size_t batch, const char *fn)
{
    size_t cells;
    NN__CHECK(batch == 0, NN_ERR_INVALID_ARG, "%s: batch is 0", fn);
    NN__CHECK(batch > INT_MAX, NN_ERR_SHAPE,
              "%s: batch = %zu exceeds the BLAS limit %d", fn, batch,
              INT_MAX);
    NN__CHECK(!nn__mul_ok(batch, nn__cache_row(net), &cells) ||
              !nn__mul_ok(cells, sizeof(float), &cells),
              NN_ERR_SHAPE, "%s: batch = %zu times the layer widths "
              "overflows memory sizes", fn, batch);
    return NN_OK;
}

/* Make slot `s` and the backward scratch hold `batch` rows.  Grows only;
   the slot being grown is never the published one, and both blocks are
   allocated before either is swapped in, so a failure here changes
   nothing observable and keeps no memory. */
static int nn__reserve(nn_net *net, int s, size_t batch, const char *fn)
{
    size_t need = batch * nn__cache_row(net);
    float *pc = NULL, *pd = NULL;
    if (net->cache_cap[s] < need) {
        pc = nn__malloc(need * sizeof(float));
        NN__CHECK(pc == NULL, NN_ERR_NOMEM,
                  "%s: out of memory for a batch of %zu rows", fn, batch);
    }
    if (net->dz_cap < batch) {
        pd = nn__malloc(batch * net->width_sum * sizeof(float));
        if (pd == NULL) {
            nn__free(pc);
            return nn__fail(NN_ERR_NOMEM, "%s: out of memory for a batch of "
                            "%zu rows", fn, batch);
        }
    }
    if (pc != NULL) {
        nn__free(net->cache[s]);
        net->cache[s] = pc;
        net->cache_cap[s] = need;
    }
    if (pd != NULL) {
        nn__free(net->dz);
        net->dz = pd;
        net->dz_cap = batch;
    }
    return NN_OK;
}

/* Grow every training and inference buffer of net for batches of up to
   `batch` rows, all or nothing: both cache slots (the published one keeps
   its contents, so the last forward stays usable), the backward scratch
   and the inference scratch.  nn_trainer_fit calls it before its first
   step so that no step of a fit allocates, and so cannot fail for memory
   half-way. */
int nn__net_reserve(nn_net *net, size_t batch, const char *fn)
{
    size_t need, s;
    float *p[5] = {NULL, NULL, NULL, NULL, NULL};
    struct nn__par_net *par = NULL;
    unsigned nw;
    NN__FORWARD(nn__check_batch(net, batch, fn));
    need = batch * nn__cache_row(net);
    for (s = 0; s < 2; s++)
        if (net->cache_cap[s] < need &&
            (p[s] = nn__malloc(need * sizeof(float))) == NULL)
            goto nomem;
    if (net->dz_cap < batch &&
        (p[2] = nn__malloc(batch * net->width_sum * sizeof(float))) == NULL)
        goto nomem;
    if (net->pred == NULL &&
        (p[3] = nn__malloc(2 * NN__PREDICT_ROWS * net->width_max *
                           sizeof(float))) == NULL)
        goto nomem;
    if (net->gcheck == NULL &&
        (p[4] = nn__malloc(net->n_params * sizeof(float))) == NULL)
        goto nomem;
    /* and the replicas' scratch, for the thread count in force */
    nw = nn__par_reserve_count();
    if (nw > 1 && (net->par == NULL || net->par->workers < nw) &&
        (par = nn__par_net_alloc(net, nw)) == NULL)
        goto nomem;
    for (s = 0; s < 2; s++) {
        if (p[s] == NULL) continue;
        if (net->cache[s] != NULL && net->cache_cap[s] > 0)
            memcpy(p[s], net->cache[s], net->cache_cap[s] * sizeof(float));
        nn__free(net->cache[s]);
        net->cache[s] = p[s];
        net->cache_cap[s] = need;
    }
    if (p[2] != NULL) {
        nn__free(net->dz);
        net->dz = p[2];
        net->dz_cap = batch;
    }
    if (p[3] != NULL) net->pred = p[3];
    if (p[4] != NULL) net->gcheck = p[4];
    nn__par_net_install(net, par);
    return NN_OK;
nomem:
    for (s = 0; s < 5; s++) nn__free(p[s]);
    nn__free(par);
    return nn__fail(NN_ERR_NOMEM, "%s: out of memory for a batch of %zu "
                    "rows", fn, batch);
}

/* Blocks of layer i in slot s (nn__layout): its input, its activation
   output, its dropout mask. */
static float *nn__slot_in(const nn_net *net, int s, size_t batch, size_t i)
{
    return net->cache[s] + batch * net->layers[i].off_in;
}

static float *nn__slot_act(const nn_net *net, int s, size_t batch, size_t i)
{
    return net->cache[s] + batch * net->layers[i].off_a;
}

static float *nn__slot_mask(const nn_net *net, int s, size_t batch, size_t i)
{
    return net->cache[s] + batch * net->layers[i].off_mask;
}

/* Draw an inverted-dropout mask: each entry 1/keep with probability keep
   (numpy.random.binomial(1, keep) / keep in the course), else 0. */
static void nn__dropout_mask(struct nn__rng *r, float *mask, size_t n,
                             float rate)
{
    float keep = 1.0f - rate, scale = 1.0f / keep;
    size_t i;
    for (i = 0; i < n; i++)
        mask[i] = nn__rng_uniform_f(r) < keep ? scale : 0.0f;
}

/* The message for a non-finite x (the copy xs holds the gathered rows). */
static int nn__x_nonfinite(const float *x, const size_t *rows, size_t batch,
                           size_t n_in, const float *xs, const char *fn)
{
    size_t at, r;
    if (rows == NULL)
        return nn__fail_nonfinite(fn, "x", x, batch * n_in, n_in);
    /* named by its place in x, not in the gathered batch */
    at = nn__first_nonfinite(xs, batch * n_in);
    r = at < batch * n_in ? rows[at / n_in] : 0;
    return nn__fail(NN_ERR_NONFINITE, "%s: x[%zu] (row %zu, column %zu) is "
                    "%s", fn, r * n_in + at % n_in, r, at % n_in,
                    isnan(xs[at < batch * n_in ? at : 0]) ? "NaN"
                                                          : "infinite");
}

/* The forward on nw replicas (parallel.h): the masks drawn here first, in
   the serial order (layer by layer over the whole batch), so the bits of
   every mask are the serial ones; then the row blocks; then the checks in
   the serial order, with the serial messages. */
static int nn__forward_par(nn_net *net, const float *x, const size_t *rows,
                           size_t batch, int s, unsigned nw,
                           struct nn__rng *rng, const char *fn)
{
    struct nn__par_fwd c;
    size_t i, n_in = net->layers[0].n_in;
    uint32_t xmax = 0;
    unsigned t;
    NN__FORWARD(nn__par_net_reserve(net, nw, fn));
    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        if (l->dropout > 0.0f)
            nn__dropout_mask(rng, nn__slot_mask(net, s, batch, i),
                             batch * l->n_out, l->dropout);
    }
    c.net = net;
    c.x = x;
    c.rows = rows;
    c.batch = batch;
    c.s = s;
    nn__par_run(nw, nn__par_forward_fn, &c);
    for (t = 0; t < nw; t++) xmax = nn__umax(xmax, c.xmax[t]);
    if (xmax >= NN__NONFINITE_BITS)
        return nn__x_nonfinite(x, rows, batch, n_in,
                               nn__slot_in(net, s, batch, 0), fn);
    net->act_max_next[0] = xmax;
    for (i = 0; i < net->n_layers; i++) {
        uint32_t am = 0, dm = 0;
        for (t = 0; t < nw; t++) {
            am = nn__umax(am, *nn__par_m(net, NN__PM_ACT, i, t, nw));
            dm = nn__umax(dm, *nn__par_m(net, NN__PM_DROP, i, t, nw));
        }
        NN__CHECK(am >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                  "%s: layer %zu output is not finite (|x W + b| exceeds "
                  "the float range)", fn, i);
        NN__CHECK(dm >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                  "%s: layer %zu output is not finite after dropout "
                  "scaling", fn, i);
        net->act_max_next[i + 1] = dm;
    }
    return NN_OK;
}

/* ---- x copied into slot s's input and checked in the same pass (a
   separate check and copy read x twice); with rows set, row i is
   x[rows[i]].  Its largest magnitude goes to act_max_next[0]. */
static int nn__forward_input(nn_net *net, const struct nn__kernels *k,
                             const float *x, const size_t *rows,
                             size_t batch, int s, const char *fn)
{
    size_t i, n_in = net->layers[0].n_in;
    float *xs = nn__slot_in(net, s, batch, 0);
    uint32_t xmax;

    if (rows == NULL) {
        xmax = k->copy_amax(xs, x, batch * n_in);
    } else {
        xmax = 0;
        for (i = 0; i < batch; i++)
            xmax = nn__umax(xmax, k->copy_amax(xs + i * n_in,
                                               x + rows[i] * n_in, n_in));
    }
    if (xmax >= NN__NONFINITE_BITS)
        return nn__x_nonfinite(x, rows, batch, n_in, xs, fn);
    net->act_max_next[0] = xmax;
    return NN_OK;
}

/* ---- the layers on one thread, in slot s, dropout drawn from *rng */
static int nn__forward_layers(nn_net *net, const struct nn__kernels *k,
                              size_t batch, int s, struct nn__rng *rng,
                              const char *fn)
{
    const struct nn__train_kernels *tk = nn__train_kernels();
    size_t i;

    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        size_t n = batch * l->n_out;
        uint32_t amax;
        float *a = nn__slot_act(net, s, batch, i);
        NN__FORWARD(nn__gemm_fwd(nn__slot_in(net, s, batch, i), l->w, a,
                                 batch, l->n_in, l->n_out));
        amax = k->bias_act[l->act](a, l->b, batch, l->n_out);
        NN__CHECK(amax >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                  "%s: layer %zu output is not finite (|x W + b| exceeds "
                  "the float range)", fn, i);
        if (l->dropout > 0.0f) {
            float *mask = nn__slot_mask(net, s, batch, i);
            nn__dropout_mask(rng, mask, n, l->dropout);
            amax = tk->dropout_apply(mask + n, a, mask, n);
            NN__CHECK(amax >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                      "%s: layer %zu output is not finite after dropout "
                      "scaling", fn, i);
        }
        net->act_max_next[i + 1] = amax;
    }
    return NN_OK;
}

/* ---- publish: slot s becomes current, with its activation bounds and
   the advanced rng; the output is copied out */
static void nn__forward_publish(nn_net *net, int s, size_t batch,
                                const struct nn__rng *rng, float *out)
{
    uint32_t *t = net->act_max;
    net->act_max = net->act_max_next;
    net->act_max_next = t;
    net->cur = s;
    net->batch = batch;
    net->rng = *rng;
    if (out != NULL)
        memcpy(out, nn__slot_act(net, s, batch, net->n_layers - 1),
               batch * net->layers[net->n_layers - 1].n_out *
                   sizeof(float));
}

/* nn_forward, and nn__forward_rows for nn_trainer_fit: with rows set,
   the batch is rows x[rows[0]], x[rows[1]], ... gathered straight into
   the slot (one copy instead of the trainer's gather and then this
   copy). */
static int nn__forward(nn_net *net, const float *x, const size_t *rows,
                       size_t batch, float *out, const char *fn)
{
    const struct nn__kernels *k = nn__kernels();
    struct nn__rng rng;
    unsigned nw;
    int s;

    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(x == NULL, NN_ERR_INVALID_ARG, "%s: x is NULL", fn);
    NN__FORWARD(nn__check_batch(net, batch, fn));
    s = net->batch != 0 ? 1 - net->cur : net->cur;
    NN__FORWARD(nn__reserve(net, s, batch, fn));

    rng = net->rng;   /* dropout draws from a copy, committed on success */
    nw = nn__par_rows(net, batch);
    if (nw > 1) {
        NN__FORWARD(nn__forward_par(net, x, rows, batch, s, nw, &rng, fn));
    } else {
        NN__FORWARD(nn__forward_input(net, k, x, rows, batch, s, fn));
        NN__FORWARD(nn__forward_layers(net, k, batch, s, &rng, fn));
    }
    nn__forward_publish(net, s, batch, &rng, out);
    return NN_OK;
}

int nn_forward(nn_net *net, const float *x, size_t batch, float *out)
{
    return nn__forward(net, x, NULL, batch, out, "nn_forward");
}

int nn__forward_rows(nn_net *net, const float *x, const size_t *rows,
                     size_t batch, float *out, const char *fn)
{
    return nn__forward(net, x, rows, batch, out, fn);
}

/*====== Backward ======*/

/* Pointer to layer i's dL/dz block in the backward scratch. */
static float *nn__dz(const nn_net *net, size_t batch, size_t i)
{
    size_t off = 0, j;
    for (j = 0; j < i; j++) off += batch * net->layers[j].n_out;
    return net->dz + off;
}

static float *nn__db(const nn_net *net, size_t i)
{
    size_t off = 0, j;
    for (j = 0; j < i; j++) off += net->layers[j].n_out;
    return net->db_scratch + off;
}

/* Shared by nn_backward and nn_backward_labels: targets xor labels. */
/* Round a non-negative double bound up to a float's bits (an amax). */
static uint32_t nn__bound_bits(double v)
{
    float f;
    if (!(v < (double)FLT_MAX)) return NN__NONFINITE_BITS;
    f = (float)v;
    if ((double)f < v) f = nextafterf(f, FLT_MAX);
    return nn__f32_bits(f);
}

/* The fused SGD step of nn_backward_sgd, after the dL/dz of every layer
   are in scratch: W += -lr X^T dZ by the gradient product itself (beta =
   1), b -= lr db.  Taken only when, for every layer, nothing can overflow
   by the bounds (|W'| <= pmax + |lr| |dW|, |dW| <= batch max|X| max|dZ|)
   and no L1/L2 penalty is set; returns 0 without touching anything
   otherwise (the caller takes the unfused path). */
static int nn__fused_sgd(nn_net *net, float lr)
{
    const struct nn__kernels *k = nn__kernels();
    size_t batch = net->batch, L = net->n_layers, i;
    double wbound[NN_MAX_LAYERS];   /* bound on each new |W| */
    int s = net->cur;
    if (!nn__grads_provable(net, batch, net->dz_max, &lr, wbound)) return 0;
    for (i = 0; i < L; i++) {
        struct nn__layer *l = &net->layers[i];
        uint32_t bmax;
        /* W <- -lr X^T dZ + W: the dims were accepted by the forward */
        (void)nn__gemm_dw(nn__slot_in(net, s, batch, i),
                          nn__dz(net, batch, i), l->w, batch, l->n_in,
                          l->n_out, -lr, 1.0f);
        bmax = k->sgd(l->b, nn__db(net, i), l->n_out, lr);
        /* W is not re-read: its magnitude is the bound (an upper bound,
           as every use of pmax needs; exact again after any other
           writer) */
        l->pmax = nn__umax(bmax, nn__bound_bits(wbound[i]));
    }
    net->has_grads = 0;   /* the gradients were never stored */
    net->batch = 0;       /* the cached forward used the old parameters */
    return 1;
}

/* The backward on replicas (parallel.h), after the caller's checks of
   targets or labels: the loss, the checks in the serial order with the
   serial messages, and *done: 0 when the products are left to the serial
   code (a bound could not prove them finite, or a penalty is set), else
   the gradients are stored (or, fused, the SGD step made). */
static int nn__backward_par(nn_net *net, int32_t loss, const float *targets,
                            const int32_t *labels, const float *fused_lr,
                            double *value, int *done, const char *fn)
{
    struct nn__par_bwd c;
    size_t L = net->n_layers, i;
    unsigned nw = nn__par_rows(net, net->batch), t;
    NN__FORWARD(nn__par_net_reserve(net, nw, fn));
    c.net = net;
    c.s = net->cur;
    c.batch = net->batch;
    c.loss = loss;
    c.targets = targets;
    c.labels = labels;
    c.fused_lr = fused_lr;
    c.done = 0;
    nn__par_run2(nw, nn__par_backward_rows_fn, nn__par_backward_fn, &c);
    *value = 0;
    for (t = 0; t < nw; t++) *value += c.value[t];
    for (i = 0; i < L; i++) {
        uint32_t m = 0;
        for (t = 0; t < nw; t++)
            m = nn__umax(m, *nn__par_m(net, NN__PM_DZ, i, t, nw));
        net->dz_max[i] = m;
    }
    NN__CHECK(!isfinite(*value), NN_ERR_NONFINITE,
              "%s: the loss is not finite", fn);
    for (i = L; i-- > 0;)
        NN__CHECK(net->dz_max[i] >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                  "%s: the gradient of layer %zu is not finite", fn, i);
    *done = c.done;
    if (c.done == 2) {   /* as nn__fused_sgd */
        for (i = 0; i < L; i++) {
            uint32_t bmax = 0;
            for (t = 0; t < nw; t++)
                bmax = nn__umax(bmax, *nn__par_m(net, NN__PM_AUX, i, t, nw));
            net->layers[i].pmax = nn__umax(bmax,
                                           nn__bound_bits(c.wbound[i]));
        }
        net->has_grads = 0;
        net->batch = 0;
    } else if (c.done == 1) {   /* as the publishing loop, no penalty */
        for (i = 0; i < L; i++)
            net->layers[i].gbound = 2.0 * nn__grad_bound(net, net->batch, i);
        net->has_grads = 1;
    }
    return NN_OK;
}

/* ---- validate the batch's labels (in [0, n_out)) or targets (finite) */
static int nn__backward_data(const nn_net *net, const struct nn__kernels *k,
                             const float *targets, const int32_t *labels,
                             size_t batch, const char *fn)
{
    size_t i, n_out = net->layers[net->n_layers - 1].n_out;

    if (labels != NULL) {
        for (i = 0; i < batch; i++)
            NN__CHECK(labels[i] < 0 || (size_t)labels[i] >= n_out,
                      NN_ERR_SHAPE, "%s: labels[%zu] = %d is outside "
                      "[0, %zu)", fn, i, (int)labels[i], n_out);
    } else {
        uint32_t tmax = k->amax(targets, batch * n_out);
        if (tmax >= NN__NONFINITE_BITS)
            return nn__fail_nonfinite(fn, "targets", targets, batch * n_out,
                                      n_out);
    }
    return NN_OK;
}

/* ---- dL/dz of the last layer, into scratch, and the loss */
static int nn__backward_last(nn_net *net, const struct nn__kernels *k,
                             int32_t loss, const float *targets,
                             const int32_t *labels, int s, size_t batch,
                             double *value_out, const char *fn)
{
    size_t L = net->n_layers;
    const struct nn__layer *last = &net->layers[L - 1];
    size_t n_out = last->n_out;
    const float *p = nn__slot_act(net, s, batch, L - 1);
    float *dz = nn__dz(net, batch, L - 1);
    double value;

    if (last->act == NN_ACT_SOFTMAX && loss == NN_LOSS_CCE) {
        value = labels != NULL
                    ? k->softmax_cce_labels(p, labels, dz, batch, n_out)
                    : k->softmax_cce(p, targets, dz, batch, n_out);
        /* dz is already dL/dz: the linear backward only sums the bias
           gradient and measures */
        net->dz_max[L - 1] = k->act_bwd[NN_ACT_LINEAR](
            dz, p, nn__db(net, L - 1), batch, n_out);
    } else {
        value = labels != NULL ? k->cce_labels(p, labels, dz, batch, n_out)
                               : k->loss[loss](p, targets, dz, batch, n_out);
        net->dz_max[L - 1] = k->act_bwd[last->act](
            dz, p, nn__db(net, L - 1), batch, n_out);
    }
    NN__CHECK(!isfinite(value), NN_ERR_NONFINITE,
              "%s: the loss is not finite", fn);
    NN__CHECK(net->dz_max[L - 1] >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
              "%s: the gradient of layer %zu is not finite", fn, L - 1);
    *value_out = value;
    return NN_OK;
}

/* ---- dL/dz of the hidden layers: dA_i = dZ_{i+1} W_{i+1}^T, then
   through the activation; all into scratch */
static int nn__backward_hidden(nn_net *net, const struct nn__kernels *k,
                               const struct nn__train_kernels *tk, int s,
                               size_t batch, const char *fn)
{
    size_t i;
    for (i = net->n_layers - 1; i-- > 0;) {
        const struct nn__layer *l = &net->layers[i];
        const struct nn__layer *nx = &net->layers[i + 1];
        float *dzi = nn__dz(net, batch, i);
        NN__FORWARD(nn__gemm_dx(nn__dz(net, batch, i + 1), nx->w, dzi,
                                batch, nx->n_in, nx->n_out));
        if (l->dropout > 0.0f)   /* through the mask of the forward */
            tk->dropout_back(dzi, nn__slot_mask(net, s, batch, i),
                             batch * l->n_out);
        net->dz_max[i] = k->act_bwd[l->act](
            dzi, nn__slot_act(net, s, batch, i), nn__db(net, i), batch,
            l->n_out);
        NN__CHECK(net->dz_max[i] >= NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                  "%s: the gradient of layer %zu is not finite", fn, i);
    }
    return NN_OK;
}

/* Layer i's exact gradient (weights, then biases, with the penalties)
   into g, and checked finite. */
static int nn__backward_exact(const nn_net *net,
                              const struct nn__train_kernels *tk, int s,
                              size_t batch, size_t i, float *g,
                              const char *fn)
{
    const struct nn__layer *l = &net->layers[i];
    size_t nw = l->n_in * l->n_out;
    float *tb = g + nw;
    uint32_t m;

    NN__FORWARD(nn__gemm_dw(nn__slot_in(net, s, batch, i),
                            nn__dz(net, batch, i), g, batch, l->n_in,
                            l->n_out, 1.0f, 0.0f));
    memcpy(tb, nn__db(net, i), l->n_out * sizeof(float));
    m = nn__umax(tk->regularize(g, l->w, nw, (float)l->l1_w,
                                (float)(2.0 * l->l2_w)),
                 tk->regularize(tb, l->b, l->n_out, (float)l->l1_b,
                                (float)(2.0 * l->l2_b)));
    NN__CHECK(m >= NN__NONFINITE_BITS, NN_ERR_NONFINITE, "%s: the gradient "
              "of layer %zu overflows the float range", fn, i);
    return NN_OK;
}

/* ---- Prove each gradient finite before writing any: |dW| <= batch
   max|X| max|dZ| (+ the penalty terms <= l1 + 2 l2 max|W|).  Where that
   bound is too loose to decide, compute the gradient exactly into
   tmp[i] (in net->gcheck) and check it; tmp[i] is NULL elsewhere. */
static int nn__backward_prove(nn_net *net,
                              const struct nn__train_kernels *tk, int s,
                              size_t batch, float **tmp, const char *fn)
{
    size_t i;
    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        double pen = l->l1_w + l->l1_b +
                     2.0 * (l->l2_w + l->l2_b) * nn__amaxd(l->pmax);
        tmp[i] = NULL;
        if (batch <= NN__SAFE_K &&
            nn__grad_bound(net, batch, i) + pen <= NN__SAFE_BOUND)
            continue;
        if (net->gcheck == NULL) {
            /* taken the first time a bound cannot decide (huge weights or
               penalties), then kept: n_params floats a typical net never
               needs.  nn_trainer_fit reserves it up front. */
            net->gcheck = nn__malloc(net->n_params * sizeof(float));
            NN__CHECK(net->gcheck == NULL, NN_ERR_NOMEM,
                      "%s: out of memory for the exact check of layer "
                      "%zu's gradient (%zu floats)", fn, i, net->n_params);
        }
        tmp[i] = net->gcheck + (l->dw - net->grads);
        NN__FORWARD(nn__backward_exact(net, tk, s, batch, i, tmp[i], fn));
    }
    return NN_OK;
}

/* ---- publish: each layer's gradient, copied from tmp[i] where it was
   computed exactly, else computed in place, with its bound */
static void nn__backward_publish(nn_net *net, const struct nn__kernels *k,
                                 const struct nn__train_kernels *tk, int s,
                                 size_t batch, float *const *tmp)
{
    size_t i;
    int st;
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        size_t nw = l->n_in * l->n_out;
        if (tmp[i] != NULL) {
            memcpy(l->dw, tmp[i], nw * sizeof(float));
            memcpy(l->db, tmp[i] + nw, l->n_out * sizeof(float));
            l->gbound = nn__amaxd(nn__umax(k->amax(l->dw, nw),
                                           k->amax(l->db, l->n_out)));
            continue;
        }
        st = nn__gemm_dw(nn__slot_in(net, s, batch, i),
                         nn__dz(net, batch, i), l->dw, batch, l->n_in,
                         l->n_out, 1.0f, 0.0f);
        (void)st;   /* dimensions were accepted by the products above */
        memcpy(l->db, nn__db(net, i), l->n_out * sizeof(float));
        if (l->l1_w > 0 || l->l2_w > 0 || l->l1_b > 0 || l->l2_b > 0) {
            /* the penalty pass reads every gradient anyway: its amax is
               exact */
            l->gbound = nn__amaxd(nn__umax(
                tk->regularize(l->dw, l->w, nw, (float)l->l1_w,
                               (float)(2.0 * l->l2_w)),
                tk->regularize(l->db, l->b, l->n_out, (float)l->l1_b,
                               (float)(2.0 * l->l2_b))));
        } else {
            /* x2: float rounding can exceed the exact bound, never by 2 */
            l->gbound = 2.0 * nn__grad_bound(net, batch, i);
        }
    }
    net->has_grads = 1;
}

static int nn__backward(nn_net *net, int32_t loss, const float *targets,
                        const int32_t *labels, float *loss_out,
                        const float *fused_lr, const char *fn)
{
    const struct nn__kernels *k = nn__kernels();
    const struct nn__train_kernels *tk = nn__train_kernels();
    size_t batch = net->batch;
    double value;
    int s = net->cur;
    /* a layer whose bound cannot rule out overflow: its exact gradient is
       computed into net->gcheck (taken once, the first time it is
       needed, or up front by nn_trainer_fit) and checked before publishing */
    float *tmp[NN_MAX_LAYERS];

    NN__FORWARD(nn__backward_data(net, k, targets, labels, batch, fn));
    if (nn__par_rows(net, batch) > 1) {
        int done;
        NN__FORWARD(nn__backward_par(net, loss, targets, labels, fused_lr,
                                     &value, &done, fn));
        if (done != 0) {
            if (loss_out != NULL) *loss_out = (float)value;
            return NN_OK;
        }
        /* not provable: the serial code finishes from the dL/dz and bias
           sums the replicas left in its scratch */
    } else {
        NN__FORWARD(nn__backward_last(net, k, loss, targets, labels, s,
                                      batch, &value, fn));
        NN__FORWARD(nn__backward_hidden(net, k, tk, s, batch, fn));
    }

    if (fused_lr != NULL && nn__fused_sgd(net, *fused_lr)) {
        if (loss_out != NULL) *loss_out = (float)value;
        return NN_OK;
    }
    NN__FORWARD(nn__backward_prove(net, tk, s, batch, tmp, fn));
    nn__backward_publish(net, k, tk, s, batch, tmp);
    if (loss_out != NULL) *loss_out = (float)value;
    return NN_OK;
}

/* The arguments shared by the backward calls, in their documented order:
   net, then the targets (with a valid loss) or the labels, then the
   state.  data is targets, or labels when labels is set. */
static int nn__backward_check(const nn_net *net, int32_t loss,
                              const void *data, int labels, const char *fn)
{
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(data == NULL, NN_ERR_INVALID_ARG, "%s: %s is NULL", fn,
              labels ? "labels" : "targets");
    NN__CHECK(!labels && (loss < 0 || loss >= NN__N_LOSS),
              NN_ERR_INVALID_ARG, "%s: loss = %d is not an NN_LOSS_* value",
              fn, (int)loss);
    NN__CHECK(net->batch == 0, NN_ERR_STATE,
              "%s: no successful nn_forward since the net was created, "
              "loaded or its parameters changed", fn);
    return NN_OK;
}

int nn_backward(nn_net *net, int32_t loss, const float *targets,
                float *loss_out)
{
    static const char fn[] = "nn_backward";
    NN__FORWARD(nn__backward_check(net, loss, targets, 0, fn));
    return nn__backward(net, loss, targets, NULL, loss_out, NULL, fn);
}

int nn_backward_labels(nn_net *net, const int32_t *labels, float *loss_out)
{
    static const char fn[] = "nn_backward_labels";
    NN__FORWARD(nn__backward_check(net, NN_LOSS_CCE, labels, 1, fn));
    return nn__backward(net, NN_LOSS_CCE, NULL, labels, loss_out, NULL,
                        fn);
}

/*====== SGD step ======*/

/* Would w - lr g be finite everywhere?  The exact check, for when the
   bound cannot decide. */
static int nn__sgd_finite(const float *w, const float *g, size_t n, float lr)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(w[i] - lr * g[i])) return 0;
    return 1;
}

int nn_sgd_step(nn_net *net, float learning_rate)
{
    static const char fn[] = "nn_sgd_step";
    const struct nn__kernels *k = nn__kernels();
    size_t i;

    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(!isfinite(learning_rate), NN_ERR_NONFINITE,
              "%s: learning_rate is %s", fn,
              isnan(learning_rate) ? "NaN" : "infinite");
    NN__CHECK(!net->has_grads, NN_ERR_STATE,
              "%s: no nn_backward has succeeded on this net yet", fn);

    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        double bound = nn__amaxd(l->pmax) +
                       fabs((double)learning_rate) * l->gbound;
        if (bound <= NN__SAFE_BOUND) continue;
        NN__CHECK(!nn__sgd_finite(l->w, l->dw, l->n_in * l->n_out,
                                  learning_rate) ||
                  !nn__sgd_finite(l->b, l->db, l->n_out, learning_rate),
                  NN_ERR_NONFINITE, "%s: the step would make layer %zu's "
                  "parameters overflow (learning_rate = %g)", fn, i,
                  (double)learning_rate);
    }
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        l->pmax = nn__umax(k->sgd(l->w, l->dw, l->n_in * l->n_out,
                                  learning_rate),
                           k->sgd(l->b, l->db, l->n_out, learning_rate));
    }
    net->batch = 0;   /* the cached forward used the old parameters */
    return NN_OK;
}

/*====== Fused backward + SGD step ======*/

/* After nn__backward_check. */
static int nn__backward_sgd(nn_net *net, int32_t loss, const float *targets,
                            const int32_t *labels, float learning_rate,
                            float *loss_out, const char *fn)
{
    float value;
    int st;
    NN__CHECK(!isfinite(learning_rate), NN_ERR_NONFINITE,
              "%s: learning_rate is %s", fn,
              isnan(learning_rate) ? "NaN" : "infinite");
    NN__FORWARD(nn__backward(net, loss, targets, labels, &value,
                             &learning_rate, fn));
    if (net->has_grads) {
        /* the fused path was not provable (or a penalty is set): the
           gradients were stored; step with them */
        st = nn_sgd_step(net, learning_rate);
        if (st != NN_OK)   /* the message renamed to this function */
            return nn__fail_wrap(st, "nn_sgd_step", "%s (as nn_sgd_step): ",
                                 fn);
        net->has_grads = 0;
    }
    if (loss_out != NULL) *loss_out = value;
    return NN_OK;
}

int nn_backward_sgd(nn_net *net, int32_t loss, const float *targets,
                    float learning_rate, float *loss_out)
{
    static const char fn[] = "nn_backward_sgd";
    NN__FORWARD(nn__backward_check(net, loss, targets, 0, fn));
    return nn__backward_sgd(net, loss, targets, NULL, learning_rate,
                            loss_out, fn);
}

int nn_backward_labels_sgd(nn_net *net, const int32_t *labels,
                           float learning_rate, float *loss_out)
{
    static const char fn[] = "nn_backward_labels_sgd";
    NN__FORWARD(nn__backward_check(net, NN_LOSS_CCE, labels, 1, fn));
    return nn__backward_sgd(net, NN_LOSS_CCE, NULL, labels, learning_rate,
                            loss_out, fn);
}

/*====== Inference ======*/

int nn_predict(nn_net *net, const float *x, size_t batch, float *out)
{
    static const char fn[] = "nn_predict";
    const struct nn__kernels *k = nn__kernels();
    size_t r0, i, n_in, n_out;

    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(x == NULL, NN_ERR_INVALID_ARG, "%s: x is NULL", fn);
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    NN__CHECK(batch == 0, NN_ERR_INVALID_ARG, "%s: batch is 0", fn);
    n_in = net->layers[0].n_in;
    n_out = net->layers[net->n_layers - 1].n_out;
    NN__CHECK(batch > SIZE_MAX / sizeof(float) / n_in ||
              batch > SIZE_MAX / sizeof(float) / n_out,
              NN_ERR_SHAPE, "%s: batch = %zu overflows memory sizes", fn,
              batch);
    /* Rows go through in blocks and the last layer writes straight into
       out, so out overlapping x would overwrite rows not read yet. */
    NN__CHECK(nn__overlap(x, batch * n_in * sizeof(float), out,
                          batch * n_out * sizeof(float)),
              NN_ERR_INVALID_ARG, "%s: out overlaps x (out must not share "
              "memory with the input; nn_forward's out may)", fn);
    if (net->pred == NULL) {
        net->pred = nn__malloc(2 * NN__PREDICT_ROWS * net->width_max *
                               sizeof(float));
        NN__CHECK(net->pred == NULL, NN_ERR_NOMEM,
                  "%s: out of memory for inference scratch", fn);
    }

    /* replicas: each worker its rows, in blocks as below; any failure
       (a non-finite value) is left to the serial code to report */
    {
        unsigned nw = nn__par_rows(net, batch);
        if (nw > 1 && nn__par_predict(net, x, batch, out, nw) == NN_OK)
            return NN_OK;
    }

    /* Blocks of rows keep the scratch fixed and the products cache-sized.
       Each layer reads the previous block (x itself first) and writes the
       other half of the scratch, the last layer straight into out. */
    for (r0 = 0; r0 < batch; r0 += NN__PREDICT_ROWS) {
        size_t rows = batch - r0 < NN__PREDICT_ROWS ? batch - r0
                                                    : NN__PREDICT_ROWS;
        const float *in = x + r0 * n_in;
        uint32_t xmax = k->amax(in, rows * n_in);
        if (xmax >= NN__NONFINITE_BITS)
            return nn__fail_nonfinite(fn, "x", x, batch * n_in, n_in);
        for (i = 0; i < net->n_layers; i++) {
            const struct nn__layer *l = &net->layers[i];
            float *dst = i + 1 == net->n_layers
                             ? out + r0 * n_out
                             : net->pred + (i % 2) * NN__PREDICT_ROWS *
                                               net->width_max;
            NN__FORWARD(nn__gemm_fwd(in, l->w, dst, rows, l->n_in, l->n_out));
            NN__CHECK(k->bias_act[l->act](dst, l->b, rows, l->n_out) >=
                      NN__NONFINITE_BITS, NN_ERR_NONFINITE,
                      "%s: layer %zu output is not finite for rows "
                      "[%zu, %zu)", fn, i, r0, r0 + rows);
            in = dst;
        }
    }
    return NN_OK;
}

/*====== Regularization and dropout options ======*/

int nn_net_set_layer_option(nn_net *net, size_t layer, int32_t option,
                            double value)
{
    static const char fn[] = "nn_net_set_layer_option";
    struct nn__layer *l;
    NN__FORWARD(nn__check_layer(net, layer, fn));
    l = &net->layers[layer];
    NN__CHECK(option < NN_LAYER_L1_WEIGHTS || option > NN_LAYER_DROPOUT,
              NN_ERR_INVALID_ARG, "%s: option = %d is not an NN_LAYER_* "
              "value", fn, (int)option);
    NN__CHECK(!isfinite(value), NN_ERR_NONFINITE, "%s: value is %s", fn,
              isnan(value) ? "NaN" : "infinite");
    if (option == NN_LAYER_DROPOUT) {
        NN__CHECK(value < 0.0 || value >= 1.0, NN_ERR_INVALID_ARG,
                  "%s: dropout rate %g is outside [0, 1)", fn, value);
        NN__CHECK(layer + 1 == net->n_layers && value > 0.0,
                  NN_ERR_INVALID_ARG, "%s: layer %zu is the output layer; "
                  "dropout applies to hidden layers", fn, layer);
        /* a rate that rounds to 1 in float would divide by zero */
        NN__CHECK((float)value >= 1.0f, NN_ERR_INVALID_ARG,
                  "%s: dropout rate %g rounds to 1 in float", fn, value);
        if (l->dropout != (float)value) {
            l->dropout = (float)value;
            nn__layout(net);
            net->batch = 0;   /* the last forward's masks no longer apply */
        }
        return NN_OK;
    }
    NN__CHECK(value < 0.0, NN_ERR_INVALID_ARG,
              "%s: penalty coefficient %g is negative", fn, value);
    /* the penalty's gradient 2 l2 w is formed in float */
    NN__CHECK(value > (double)FLT_MAX, NN_ERR_INVALID_ARG,
              "%s: penalty coefficient %g exceeds the float range "
              "(FLT_MAX = %g)", fn, value, (double)FLT_MAX);
    switch (option) {
    case NN_LAYER_L1_WEIGHTS: l->l1_w = value; break;
    case NN_LAYER_L2_WEIGHTS: l->l2_w = value; break;
    case NN_LAYER_L1_BIASES: l->l1_b = value; break;
    default: l->l2_b = value; break;
    }
    return NN_OK;
}

int nn_net_get_layer_option(const nn_net *net, size_t layer, int32_t option,
                            double *value_out)
{
    static const char fn[] = "nn_net_get_layer_option";
    const struct nn__layer *l;
    NN__FORWARD(nn__check_layer(net, layer, fn));
    NN__CHECK(value_out == NULL, NN_ERR_INVALID_ARG, "%s: value_out is NULL",
              fn);
    l = &net->layers[layer];
    switch (option) {
    case NN_LAYER_L1_WEIGHTS: *value_out = l->l1_w; return NN_OK;
    case NN_LAYER_L2_WEIGHTS: *value_out = l->l2_w; return NN_OK;
    case NN_LAYER_L1_BIASES: *value_out = l->l1_b; return NN_OK;
    case NN_LAYER_L2_BIASES: *value_out = l->l2_b; return NN_OK;
    case NN_LAYER_DROPOUT: *value_out = (double)l->dropout; return NN_OK;
    default:
        return nn__fail(NN_ERR_INVALID_ARG, "%s: option = %d is not an "
                        "NN_LAYER_* value", fn, (int)option);
    }
}

int nn_net_regularization_loss(const nn_net *net, float *loss_out)
{
    static const char fn[] = "nn_net_regularization_loss";
    const struct nn__train_kernels *tk = nn__train_kernels();
    double sum = 0;
    size_t i;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(loss_out == NULL, NN_ERR_INVALID_ARG, "%s: loss_out is NULL",
              fn);
    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        if (l->l1_w > 0 || l->l2_w > 0)
            sum += tk->penalty(l->w, l->n_in * l->n_out, l->l1_w, l->l2_w);
        if (l->l1_b > 0 || l->l2_b > 0)
            sum += tk->penalty(l->b, l->n_out, l->l1_b, l->l2_b);
    }
    /* an overflowing penalty is reported, not returned as infinity */
    NN__CHECK(!isfinite((float)sum), NN_ERR_NONFINITE,
              "%s: the regularization loss (%g) overflows float", fn, sum);
    *loss_out = (float)sum;
    return NN_OK;
}
