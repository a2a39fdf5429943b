/*
 * activations.c - bias add fused with the activation (forward), and the
 * activation's derivative fused with the bias gradient (backward).
 *
 * One pass over the layer's output each way.  Every kernel also returns
 * an amax (base/base.h) so the caller learns, for free, both whether any
 * value was NaN or infinite and a bound on the magnitudes it proves its
 * products safe with.  The forward amax is taken over the pre-activation
 * z + b (so a NaN the activation would hide, e.g. ReLU(NaN) = 0, is still
 * seen) and is at least 1 for the bounded activations.
 *
 * The element functions are always_inline with the activation a
 * compile-time constant, so each wrapper gets its own branch-free loop.
 */
#include "isa.h"
#include "vecmath.h"

#include <string.h>

#if defined(__AVX2__)
#  include <immintrin.h>
#endif

#define NN__INLINE static inline __attribute__((always_inline))

#define NN__ONE_BITS 0x3f800000u   /* 1.0f: bound of sigmoid/tanh/softmax */

NN__INLINE float nn__act(int act, float v)
{
    switch (act) {
    case NN_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case NN_ACT_SIGMOID: return nn__sigmoidf(v);
    case NN_ACT_TANH: return nn__tanhf(v);
    default: return v;
    }
}

/* d(loss)/dz from d(loss)/da = g and the activation's output a */
NN__INLINE float nn__dact(int act, float g, float a)
{
    switch (act) {
    /* relu: g where a > 0, else 0, as a bit mask: written as a select,
       GCC turned the store/accumulate pair into a branch and left the
       AVX-512 row loop scalar (35% of the spiral step, mispredicted) */
    case NN_ACT_RELU:
        return nn__bits_f32(nn__f32_bits(g) & (0u - (uint32_t)(a > 0.0f)));
    case NN_ACT_SIGMOID: return g * (a * (1.0f - a));
    case NN_ACT_TANH: return g * (1.0f - a * a);
    default: return g;
    }
}

/* Fill tile with the bias row repeated; returns the tile length used
   (a whole number of rows). */
static size_t nn__bias_tile(float *tile, const float *b, size_t cols)
{
    /* by doubling copies: an element-by-element loop with a wrapping
       index was a fifth of a 300 x 3 softmax */
    size_t per = NN__TILE / cols * cols, len = cols;
    memcpy(tile, b, cols * sizeof(float));
    while (2 * len <= per) {
        memcpy(tile + len, tile, len * sizeof(float));
        len *= 2;
    }
    memcpy(tile + len, tile, (per - len) * sizeof(float));
    return per;
}

/*====== Forward: z = act(z + b) ======*/

NN__INLINE uint32_t nn__bias_act(float *restrict z, const float *restrict b,
                                 size_t rows, size_t cols, int act)
{
    uint32_t m = 0;
    if (cols >= NN__NARROW) {
        /* The magnitude is reduced into NN__LANES accumulators carried
           across rows: reducing a vector to one integer at the end of
           every row cost as much as the row itself for relu at 64
           columns. */
        uint32_t mv[NN__LANES] = {0};
        size_t nb = cols / NN__LANES * NN__LANES, r, j, l;
        for (r = 0; r < rows; r++) {
            float *restrict zr = z + r * cols;
            for (j = 0; j < nb; j += NN__LANES) {
                /* nn-vec: bias_act_rows */
                for (l = 0; l < NN__LANES; l++) {
                    float v = zr[j + l] + b[j + l];
                    uint32_t u = nn__absbits(v);
                    mv[l] = u > mv[l] ? u : mv[l];
                    zr[j + l] = nn__act(act, v);
                }
            }
            for (; j < cols; j++) {
                float v = zr[j] + b[j];
                uint32_t u = nn__absbits(v);
                m = u > m ? u : m;
                zr[j] = nn__act(act, v);
            }
        }
        for (l = 0; l < NN__LANES; l++) m = mv[l] > m ? mv[l] : m;
    } else {
        float tile[NN__TILE];
        size_t per = nn__bias_tile(tile, b, cols), n = rows * cols, i, k;
        for (i = 0; i < n; i += per) {
            size_t len = n - i < per ? n - i : per;
            float *restrict zi = z + i;
            /* nn-vec: bias_act_tiled */
            for (k = 0; k < len; k++) {
                float v = zi[k] + tile[k];
                uint32_t u = nn__absbits(v);
                m = u > m ? u : m;
                zi[k] = nn__act(act, v);
            }
        }
    }
    if (act == NN_ACT_SIGMOID || act == NN_ACT_TANH)
        m = m > NN__ONE_BITS ? m : NN__ONE_BITS;
    return m;
}

uint32_t NN__K(nn__bias_linear)(float *z, const float *b, size_t rows,
                                size_t cols)
{
    return nn__bias_act(z, b, rows, cols, NN_ACT_LINEAR);
}

uint32_t NN__K(nn__bias_relu)(float *z, const float *b, size_t rows,
                              size_t cols)
{
    return nn__bias_act(z, b, rows, cols, NN_ACT_RELU);
}

uint32_t NN__K(nn__bias_sigmoid)(float *z, const float *b, size_t rows,
                                 size_t cols)
{
    return nn__bias_act(z, b, rows, cols, NN_ACT_SIGMOID);
}

uint32_t NN__K(nn__bias_tanh)(float *z, const float *b, size_t rows,
                              size_t cols)
{
    return nn__bias_act(z, b, rows, cols, NN_ACT_TANH);
}

/* Order-preserving map of float bits to unsigned, so a float maximum is an
   integer maximum (which vectorizes without -ffinite-math-only). */
NN__INLINE uint32_t nn__key(float f)
{
    uint32_t u = nn__f32_bits(f);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

NN__INLINE float nn__unkey(uint32_t k)
{
    return nn__bits_f32((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

/* Sum with 16 independent float lanes (vectorizes without reassociation
   flags), finished in double. */
static float nn__sum(const float *restrict x, size_t n)
{
    float acc[16] = {0};
    double s = 0;
    size_t i, l, nb = n / 16 * 16;
    /* nn-vec: sum_lanes */
    for (i = 0; i < nb; i += 16) {
        for (l = 0; l < 16; l++) acc[l] += x[i + l];
    }
    for (; i < n; i++) s += x[i];
    for (l = 0; l < 16; l++) s += acc[l];
    return (float)s;
}

/* Softmax of one row already holding z + b: subtract the row max (so exp
   never overflows), exponentiate, normalise. */
static void nn__softmax_row(float *restrict z, size_t cols)
{
    uint32_t mk = 0;
    float mx, inv;
    size_t j;
    /* nn-vec: softmax_max */
    for (j = 0; j < cols; j++) {
        uint32_t k = nn__key(z[j]);
        mk = k > mk ? k : mk;
    }
    mx = nn__unkey(mk);
    /* nn-vec: softmax_exp */
    for (j = 0; j < cols; j++) z[j] = nn__expf(z[j] - mx);
    inv = 1.0f / nn__sum(z, cols);
    /* nn-vec: softmax_scale */
    for (j = 0; j < cols; j++) z[j] *= inv;
}

#if defined(__AVX2__)
/* Rows of 3 (the spiral's classes), 8 at a time: the 24 floats of 8 rows
   are 3 vectors; two blends gather each column's 8 values (scrambled) and
   one lane permute puts them in row order, and the same run backwards
   interleaves them again.  GCC built the generic transposes below from
   single-lane inserts and extracts, which cost more than the exps. */
static void nn__split3(const float *z, float *c0, float *c1, float *c2)
{
    __m256 v0 = _mm256_loadu_ps(z), v1 = _mm256_loadu_ps(z + 8);
    __m256 v2 = _mm256_loadu_ps(z + 16);
    /* lanes of column 0: v0 {0,3,6}, v1 {1,4,7}, v2 {2,5} */
    __m256 a = _mm256_blend_ps(_mm256_blend_ps(v0, v1, 0x92), v2, 0x24);
    __m256 b = _mm256_blend_ps(_mm256_blend_ps(v0, v1, 0x24), v2, 0x49);
    __m256 c = _mm256_blend_ps(_mm256_blend_ps(v0, v1, 0x49), v2, 0x92);
    _mm256_storeu_ps(c0, _mm256_permutevar8x32_ps(
                             a, _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5)));
    _mm256_storeu_ps(c1, _mm256_permutevar8x32_ps(
                             b, _mm256_setr_epi32(1, 4, 7, 2, 5, 0, 3, 6)));
    _mm256_storeu_ps(c2, _mm256_permutevar8x32_ps(
                             c, _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7)));
}

/* z[3 r + j] = cj[r] * s[r] for 8 rows: the inverse of nn__split3. */
static void nn__join3(float *z, const float *c0, const float *c1,
                      const float *c2, const float *s)
{
    __m256 sv = _mm256_loadu_ps(s);
    __m256 a = _mm256_permutevar8x32_ps(
        _mm256_mul_ps(_mm256_loadu_ps(c0), sv),
        _mm256_setr_epi32(0, 3, 6, 1, 4, 7, 2, 5));
    __m256 b = _mm256_permutevar8x32_ps(
        _mm256_mul_ps(_mm256_loadu_ps(c1), sv),
        _mm256_setr_epi32(5, 0, 3, 6, 1, 4, 7, 2));
    __m256 c = _mm256_permutevar8x32_ps(
        _mm256_mul_ps(_mm256_loadu_ps(c2), sv),
        _mm256_setr_epi32(2, 5, 0, 3, 6, 1, 4, 7));
    _mm256_storeu_ps(z, _mm256_blend_ps(_mm256_blend_ps(a, b, 0x92), c,
                                        0x24));
    _mm256_storeu_ps(z + 8, _mm256_blend_ps(_mm256_blend_ps(c, a, 0x92), b,
                                            0x24));
    _mm256_storeu_ps(z + 16, _mm256_blend_ps(_mm256_blend_ps(b, c, 0x92),
                                             a, 0x24));
}
#endif

/* Softmax of narrow rows (3 or 10 classes), in place: NN__LANES rows at
   a time are transposed into t[column][row], so the max, exp, sum and
   scale run across rows, one vector per column; row-by-row loops of 3
   were mostly loop overhead.  Inlined with cols a constant for the
   common class counts, so the transposes become fixed shuffles. */
NN__INLINE void nn__softmax_narrow(float *z, size_t rows, size_t cols)
{
    float t[NN__NARROW][NN__LANES], mx[NN__LANES], sum[NN__LANES];
    size_t r, j, l;
    for (r = 0; r < rows; r += NN__LANES) {
        size_t nr = rows - r < NN__LANES ? rows - r : NN__LANES;
        float *zr = z + r * cols;
#if defined(__AVX2__)
        if (cols == 3 && nr == NN__LANES) {
            for (l = 0; l < NN__LANES; l += 8)
                nn__split3(zr + l * 3, &t[0][l], &t[1][l], &t[2][l]);
        } else
#endif
        if (nr == NN__LANES) {
            for (l = 0; l < NN__LANES; l++)
                for (j = 0; j < cols; j++) t[j][l] = zr[l * cols + j];
        } else {
            for (l = 0; l < NN__LANES; l++)   /* padding rows: exp(0) */
                for (j = 0; j < cols; j++)
                    t[j][l] = l < nr ? zr[l * cols + j] : 0.0f;
        }
        for (l = 0; l < NN__LANES; l++) mx[l] = t[0][l];
        /* (this and the reciprocal loop below are unrolled and
           SLP-vectorized: GCC reports no loop for them) */
        for (j = 1; j < cols; j++) {
            for (l = 0; l < NN__LANES; l++)
                mx[l] = t[j][l] > mx[l] ? t[j][l] : mx[l];
        }
        for (l = 0; l < NN__LANES; l++) sum[l] = 0.0f;
        for (j = 0; j < cols; j++) {
            /* nn-vec: softmax_narrow_exp */
            for (l = 0; l < NN__LANES; l++) {
                t[j][l] = nn__expf(t[j][l] - mx[l]);
                sum[l] += t[j][l];
            }
        }
        for (l = 0; l < NN__LANES; l++) sum[l] = 1.0f / sum[l];
#if defined(__AVX2__)
        if (cols == 3 && nr == NN__LANES) {
            for (l = 0; l < NN__LANES; l += 8)
                nn__join3(zr + l * 3, &t[0][l], &t[1][l], &t[2][l], &sum[l]);
        } else
#endif
        if (nr == NN__LANES) {
            for (l = 0; l < NN__LANES; l++)
                for (j = 0; j < cols; j++)
                    zr[l * cols + j] = t[j][l] * sum[l];
        } else {
            for (l = 0; l < nr; l++)
                for (j = 0; j < cols; j++)
                    zr[l * cols + j] = t[j][l] * sum[l];
        }
    }
}

uint32_t NN__K(nn__bias_softmax)(float *z, const float *b, size_t rows,
                                 size_t cols)
{
    uint32_t m;
    size_t r;
    if (cols >= NN__NARROW) {
        m = 0;
        for (r = 0; r < rows; r++) {
            float *restrict zr = z + r * cols;
            size_t j;
            /* nn-vec: softmax_bias */
            for (j = 0; j < cols; j++) {
                float v = zr[j] + b[j];
                uint32_t u = nn__absbits(v);
                m = u > m ? u : m;
                zr[j] = v;
            }
            nn__softmax_row(zr, cols);
        }
    } else {
        m = nn__bias_act(z, b, rows, cols, NN_ACT_LINEAR);
        /* the common class counts get a copy with the count a constant */
        switch (cols) {
        case 2: nn__softmax_narrow(z, rows, 2); break;
        case 3: nn__softmax_narrow(z, rows, 3); break;
        case 4: nn__softmax_narrow(z, rows, 4); break;
        case 10: nn__softmax_narrow(z, rows, 10); break;
        default: nn__softmax_narrow(z, rows, cols); break;
        }
    }
    return m > NN__ONE_BITS ? m : NN__ONE_BITS;
}

/*====== Backward: dz = dz * act'(a), db = column sums of dz ======*/

NN__INLINE uint32_t nn__act_bwd(float *restrict dz, const float *restrict a,
                                float *restrict db, size_t rows, size_t cols,
                                int act)
{
    uint32_t m = 0;
    size_t j;
    if (cols >= NN__NARROW) {
        /* lane accumulators for the magnitude, as in nn__bias_act */
        uint32_t mv[NN__LANES] = {0};
        size_t nb = cols / NN__LANES * NN__LANES, r, l;
        for (j = 0; j < cols; j++) db[j] = 0.0f;
        for (r = 0; r < rows; r++) {
            float *restrict dr = dz + r * cols;
            const float *restrict ar = a != NULL ? a + r * cols : NULL;
            /* nn-vec: act_bwd_rows */
            for (j = 0; j < nb; j += NN__LANES) {
                for (l = 0; l < NN__LANES; l++) {
                    /* the identity reads no a (which may then be NULL) */
                    float d = nn__dact(act, dr[j + l],
                                       act == NN_ACT_LINEAR ? 0.0f
                                                            : ar[j + l]);
                    uint32_t u = nn__absbits(d);
                    mv[l] = u > mv[l] ? u : mv[l];
                    dr[j + l] = d;
                    db[j + l] += d;
                }
            }
            for (; j < cols; j++) {
                float d = nn__dact(act, dr[j],
                                   act == NN_ACT_LINEAR ? 0.0f : ar[j]);
                uint32_t u = nn__absbits(d);
                m = u > m ? u : m;
                dr[j] = d;
                db[j] += d;
            }
        }
        for (l = 0; l < NN__LANES; l++) m = mv[l] > m ? mv[l] : m;
    } else {
        /* one accumulator per tile position, folded per column at the end:
           the loop runs flat over the block */
        float acc[NN__TILE] = {0};
        size_t per = NN__TILE / cols * cols, n = rows * cols, i, k;
        for (i = 0; i < n; i += per) {
            size_t len = n - i < per ? n - i : per;
            float *restrict di = dz + i;
            const float *restrict ai = a != NULL ? a + i : NULL;
            /* nn-vec: act_bwd_tiled */
            for (k = 0; k < len; k++) {
                float d = nn__dact(act, di[k],
                                   act == NN_ACT_LINEAR ? 0.0f : ai[k]);
                uint32_t u = nn__absbits(d);
                m = u > m ? u : m;
                di[k] = d;
                acc[k] += d;
            }
        }
        for (j = 0; j < cols; j++) db[j] = 0.0f;
        for (k = 0; k < per; k += cols)
            for (j = 0; j < cols; j++) db[j] += acc[k + j];
    }
    return m;
}

uint32_t NN__K(nn__bwd_linear)(float *dz, const float *a, float *db,
                               size_t rows, size_t cols)
{
    (void)a;   /* the identity's derivative needs no output */
    return nn__act_bwd(dz, NULL, db, rows, cols, NN_ACT_LINEAR);
}

uint32_t NN__K(nn__bwd_relu)(float *dz, const float *a, float *db,
                             size_t rows, size_t cols)
{
    return nn__act_bwd(dz, a, db, rows, cols, NN_ACT_RELU);
}

uint32_t NN__K(nn__bwd_sigmoid)(float *dz, const float *a, float *db,
                                size_t rows, size_t cols)
{
    return nn__act_bwd(dz, a, db, rows, cols, NN_ACT_SIGMOID);
}

uint32_t NN__K(nn__bwd_tanh)(float *dz, const float *a, float *db,
                             size_t rows, size_t cols)
{
    return nn__act_bwd(dz, a, db, rows, cols, NN_ACT_TANH);
}

/* General softmax backward (used when the loss is not CCE): per row,
   dz_j = a_j (g_j - sum_k g_k a_k). */
uint32_t NN__K(nn__bwd_softmax)(float *dz, const float *a, float *db,
                                size_t rows, size_t cols)
{
    uint32_t m = 0;
    size_t r, j;
    for (j = 0; j < cols; j++) db[j] = 0.0f;
    for (r = 0; r < rows; r++) {
        float *restrict dr = dz + r * cols;
        const float *restrict ar = a + r * cols;
        float acc[16] = {0}, dot;
        double s = 0;
        size_t l, nb = cols / 16 * 16;
        /* nn-vec: softmax_bwd_dot */
        for (j = 0; j < nb; j += 16) {
            for (l = 0; l < 16; l++) acc[l] += dr[j + l] * ar[j + l];
        }
        for (; j < cols; j++) s += dr[j] * ar[j];
        for (l = 0; l < 16; l++) s += acc[l];
        dot = (float)s;
        /* nn-vec: softmax_bwd */
        for (j = 0; j < cols; j++) {
            float d = ar[j] * (dr[j] - dot);
            uint32_t u = nn__absbits(d);
            m = u > m ? u : m;
            dr[j] = d;
            db[j] += d;
        }
    }
    return m;
}
