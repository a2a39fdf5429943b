/*
 * bounds.c - the overflow proofs that forward and backward share with the
 * in-process replicas: bounds on a layer's gradient product from the
 * magnitudes the kernels reported, and the rule that lets gradients be
 * stored (or the fused SGD step run) without the exact check.  net.c and
 * replicas.c both call these; nothing here calls back into either.
 */
#include "base/base.h"
#include "core.h"

#include <math.h>

/* Bound on |dW| = |X^T dZ| (and |db|) of layer i, from the magnitudes the
   kernels reported. */
double nn__grad_bound_of(const nn_net *net, size_t batch, size_t i,
                         uint32_t dz_max)
{
    double xm = nn__amaxd(net->act_max[i]);
    double dm = nn__amaxd(dz_max);
    double b = (double)batch * dm;
    return (xm > 1.0 ? xm : 1.0) * b;
}

double nn__grad_bound(const nn_net *net, size_t batch, size_t i)
{
    return nn__grad_bound_of(net, batch, i, net->dz_max[i]);
}

int nn__grads_provable(const nn_net *net, size_t batch,
                       const uint32_t *dz_max, const float *lr,
                       double *wbound)
{
    size_t i;
    if (batch > NN__SAFE_K) return 0;
    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        double g = 2.0 * nn__grad_bound_of(net, batch, i, dz_max[i]);
        if (l->l1_w > 0 || l->l2_w > 0 || l->l1_b > 0 || l->l2_b > 0)
            return 0;
        /* the product X^T dZ is formed before it is scaled by -lr: it
           must itself be provably finite, whatever lr (even 0) */
        if (g > NN__SAFE_BOUND) return 0;
        if (lr == NULL) continue;
        wbound[i] = nn__amaxd(l->pmax) + fabs((double)*lr) * g;
        if (wbound[i] > NN__SAFE_BOUND) return 0;
    }
    return 1;
}
