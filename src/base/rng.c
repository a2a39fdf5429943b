/*
 * rng.c - the library's own random numbers.
 *
 * "Same seed, same weights on every platform" rules out rand() and libm's
 * log/sin/cos (their last bits differ between C libraries).  Everything
 * here is integer arithmetic or correctly rounded IEEE double (+ - * / and
 * sqrt), and CMake compiles this file with -ffp-contract=off so no
 * compiler fuses a multiply-add differently.
 */
#include "base.h"

#include <math.h>
#include <string.h>

/* splitmix64 (Steele, Lea, Flood): expands one 64-bit seed into the four
   state words, as the xoshiro authors recommend.  Never yields an all-zero
   state, which xoshiro must avoid. */
static uint64_t nn__splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void nn__rng_seed(struct nn__rng *r, uint64_t seed)
{
    uint64_t x = seed;
    int i;
    for (i = 0; i < 4; i++) r->s[i] = nn__splitmix64(&x);
}

static inline uint64_t nn__rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** 1.0 (Blackman and Vigna, public domain reference). */
uint64_t nn__rng_next(struct nn__rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = nn__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = nn__rotl(s[3], 45);
    return result;
}

double nn__rng_uniform(struct nn__rng *r)
{
    /* top 53 bits: every value k * 2^-53 in [0, 1) exactly */
    return (double)(nn__rng_next(r) >> 11) * 0x1.0p-53;
}

float nn__rng_uniform_f(struct nn__rng *r)
{
    return (float)(nn__rng_next(r) >> 40) * 0x1.0p-24f;
}

/* log(x) for finite x > 0: x = m 2^e with m in [sqrt(1/2), sqrt(2)), then
   log(m) = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716, summed as the
   series s + s^3/3 + ... to s^25/25 (next term < 1e-20 relative).
   ln 2 is split in two (fdlibm's constants) so e ln 2 is exact enough. */
double nn__det_log(double x)
{
    static const double ln2_hi = 6.93147180369123816490e-01;
    static const double ln2_lo = 1.90821492927058770002e-10;
    uint64_t bits;
    int64_t e;
    double m, s, z, p;
    int k;

    memcpy(&bits, &x, sizeof bits);
    e = (int64_t)((bits >> 52) & 0x7ff);
    if (e == 0) {                    /* subnormal: scale into normal range */
        x *= 0x1.0p54;
        memcpy(&bits, &x, sizeof bits);
        e = (int64_t)((bits >> 52) & 0x7ff) - 54;
    }
    e -= 1023;
    bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
    memcpy(&m, &bits, sizeof m);     /* m in [1, 2) */
    if (m > 1.4142135623730951) {    /* move to [sqrt(1/2), sqrt(2)) */
        m *= 0.5;
        e += 1;
    }
    s = (m - 1.0) / (m + 1.0);
    z = s * s;
    p = 1.0 / 25.0;
    for (k = 23; k >= 1; k -= 2) p = p * z + 1.0 / (double)k;
    return (double)e * ln2_hi + ((double)e * ln2_lo + 2.0 * s * p);
}

/* sin and cos of x for |x| < 2^20: reduce by pi/2 with fdlibm's two-part
   constant (enough bits for that range), then Taylor series on
   |r| <= pi/4 to degree 21/22 (truncation below 1e-20). */
void nn__det_sincos(double x, double *s_out, double *c_out)
{
    static const double invpio2 = 6.36619772367581382433e-01;
    static const double pio2_1 = 1.57079632673412561417e+00;
    static const double pio2_1t = 6.07710050650619224932e-11;
    double n, r, z, sn, cs;
    long q;
    int k;

    n = x * invpio2;
    n = n >= 0 ? floor(n + 0.5) : -floor(-n + 0.5);
    q = (long)n;
    r = (x - n * pio2_1) - n * pio2_1t;
    z = r * r;
    /* sin r = r (1 - z/3! + z^2/5! - ...), Horner from the top term */
    sn = 1.0;
    cs = 1.0;
    for (k = 21; k >= 3; k -= 2) sn = 1.0 - sn * z / ((double)k * (k - 1));
    for (k = 22; k >= 2; k -= 2) cs = 1.0 - cs * z / ((double)k * (k - 1));
    sn *= r;
    switch (q & 3) {
    case 0: *s_out = sn; *c_out = cs; break;
    case 1: *s_out = cs; *c_out = -sn; break;
    case 2: *s_out = -sn; *c_out = -cs; break;
    default: *s_out = -cs; *c_out = sn; break;
    }
}

/* Box-Muller: z = sqrt(-2 log u1) cos(2 pi u2), u1 in (0, 1].  The sine
   partner is discarded to keep the generator state the only state. */
double nn__rng_gauss(struct nn__rng *r)
{
    static const double two_pi = 6.28318530717958647692;
    double u1 = 1.0 - nn__rng_uniform(r);
    double u2 = nn__rng_uniform(r);
    double s, c;
    nn__det_sincos(two_pi * u2, &s, &c);
    return sqrt(-2.0 * nn__det_log(u1)) * c;
}

/* Uniform integer in [0, bound) without modulo bias (rejection of the
   final partial range), bound >= 1. */
uint64_t nn__rng_below(struct nn__rng *r, uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound, v;
    do {
        v = nn__rng_next(r);
    } while (v < threshold);
    return v % bound;
}
