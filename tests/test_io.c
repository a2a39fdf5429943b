/*
 * test_io.c - model files: CRC-32, the version 1 format byte for byte,
 * round trips, corrupt-input sweeps (docs/RELIABILITY.md T5), injected I/O
 * failures during save and load (T3) and the call order of an atomic
 * save (T4's order assertion).
 *
 * Expectations come from the format specification (docs/FORMAT.md),
 * re-implemented here with a separate little-endian writer and a bitwise
 * CRC (and zlib's crc32 when libz.so.1 can be loaded), never from the
 * library's own encoder alone.
 */
#include "nntest.h"
#include "internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/*====== Helpers: random numbers, little-endian bytes, reference CRC ======*/

static uint64_t t_state;

static uint64_t t_next(void)
{
    /* splitmix64: independent of the library's generator */
    uint64_t z = (t_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void t_seed(uint64_t salt) { t_state = nnt_seed() ^ salt; }

/* uniform in [-1, 1) */
static float t_unif(void)
{
    return (float)((double)(t_next() >> 40) / (double)(1ull << 23) - 1.0);
}

static void put32(unsigned char *p, uint32_t v)
{
    int i;
    for (i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    int i;
    for (i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    int i;
    for (i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bitsf(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

/* Bit at a time, straight from the definition: reflected 0xEDB88320,
   initial and final value 0xFFFFFFFF. */
static uint32_t ref_crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < n; i++) {
        c ^= p[i];
        for (k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

/* The same CRC a byte at a time through a 256-entry table made from
   ref_crc32 (io_crc32_vectors checks they agree): fast enough for the
   sweeps, which re-seal thousands of images. */
static uint32_t t_crc(const unsigned char *p, size_t n)
{
    static uint32_t tab[256];
    static int ready;
    uint32_t c = 0xFFFFFFFFu;
    size_t i;
    if (!ready) {
        for (i = 0; i < 256; i++) {
            uint32_t r = (uint32_t)i;
            int k;
            for (k = 0; k < 8; k++)
                r = (r & 1u) ? (r >> 1) ^ 0xEDB88320u : r >> 1;
            tab[i] = r;
        }
        ready = 1;
    }
    for (i = 0; i < n; i++) c = tab[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return ~c;
}

/* zlib's crc32, loaded at run time so the test build needs no -lz. */
typedef unsigned long (*zcrc_fn)(unsigned long, const unsigned char *,
                                 unsigned);
static zcrc_fn zlib_crc32(void)
{
    static int tried;
    static zcrc_fn fn;
    if (!tried) {
        void *h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
        tried = 1;
        if (h != NULL) {
            void *sym = dlsym(h, "crc32");
            memcpy(&fn, &sym, sizeof fn);
        }
    }
    return fn;
}

/* Recompute the trailing CRC of an image in place. */
static void fix_crc(unsigned char *img, size_t size)
{
    put32(img + size - 4, t_crc(img, size - 4));
}

/*====== A model described independently of the library ======*/

struct t_model {
    size_t n_layers;
    size_t sizes[NN_MAX_LAYERS + 2];
    int32_t acts[NN_MAX_LAYERS + 1];
    float dropout[NN_MAX_LAYERS + 1];
    double coef[NN_MAX_LAYERS + 1][4];   /* l1_w, l2_w, l1_b, l2_b */
    uint64_t rng[4];
    float *params;                       /* W0 b0 W1 b1 ... */
    size_t n_params;
};

static size_t t_count_params(const struct t_model *m)
{
    size_t i, n = 0;
    for (i = 0; i < m->n_layers; i++)
        n += m->sizes[i] * m->sizes[i + 1] + m->sizes[i + 1];
    return n;
}

/* The image docs/FORMAT.md describes, written field by field. */
static unsigned char *t_encode(const struct t_model *m, size_t *size_out)
{
    size_t layr = 8 + 48 * m->n_layers + 32, parm = 4 * m->n_params;
    size_t size = 32 + 16 + layr + 16 + parm + 4, i;
    unsigned char *b = calloc(1, size), *p;
    static const unsigned char magic[8] = {0x89, 0x4E, 0x4E, 0x46,
                                           0x0D, 0x0A, 0x1A, 0x0A};
    if (b == NULL) return NULL;
    memcpy(b, magic, 8);
    put32(b + 8, 1);
    put32(b + 12, 0x01020304u);
    put64(b + 16, size);
    put32(b + 24, 2);
    put32(b + 28, 0);
    p = b + 32;
    memcpy(p, "LAYR", 4);
    put32(p + 4, 0);
    put64(p + 8, layr);
    p += 16;
    put32(p, (uint32_t)m->n_layers);
    put32(p + 4, (uint32_t)m->sizes[0]);
    p += 8;
    for (i = 0; i < m->n_layers; i++, p += 48) {
        put32(p, (uint32_t)m->sizes[i + 1]);
        put32(p + 4, (uint32_t)m->acts[i]);
        put32(p + 8, fbits(m->dropout[i]));
        put32(p + 12, 0);
        put64(p + 16, dbits(m->coef[i][0]));
        put64(p + 24, dbits(m->coef[i][1]));
        put64(p + 32, dbits(m->coef[i][2]));
        put64(p + 40, dbits(m->coef[i][3]));
    }
    for (i = 0; i < 4; i++, p += 8) put64(p, m->rng[i]);
    memcpy(p, "PARM", 4);
    put32(p + 4, 0);
    put64(p + 8, parm);
    p += 16;
    for (i = 0; i < m->n_params; i++, p += 4) put32(p, fbits(m->params[i]));
    put32(p, t_crc(b, size - 4));
    *size_out = size;
    return b;
}

/* Make a library net matching m: shape, parameters, the per-layer
   options through the public API, and the generator state through the
   internal struct (there is no public setter for it). */
static nn_net *t_build(const struct t_model *m)
{
    nn_net *net = NULL;
    size_t i, k, off = 0;
    static const int32_t opt[4] = {NN_LAYER_L1_WEIGHTS, NN_LAYER_L2_WEIGHTS,
                                   NN_LAYER_L1_BIASES, NN_LAYER_L2_BIASES};
    if (nn_net_create(&net, m->n_layers, m->sizes, m->acts, 7) != NN_OK)
        return NULL;
    for (i = 0; i < m->n_layers; i++) {
        size_t nw = m->sizes[i] * m->sizes[i + 1];
        int st = nn_net_set_params(net, i, m->params + off,
                                   m->params + off + nw);
        off += nw + m->sizes[i + 1];
        for (k = 0; k < 4 && st == NN_OK; k++)
            st = nn_net_set_layer_option(net, i, opt[k], m->coef[i][k]);
        if (st == NN_OK)
            st = nn_net_set_layer_option(net, i, NN_LAYER_DROPOUT,
                                         (double)m->dropout[i]);
        if (st != NN_OK) {
            fprintf(stderr, "  t_build: %s\n", nn_last_error());
            nn_net_destroy(net);
            return NULL;
        }
    }
    memcpy(net->rng.s, m->rng, sizeof net->rng.s);
    return net;
}

/* Random model of the given shape: moderate parameters (forward stays
   finite) with some exact specials mixed in (-0, a subnormal, 0). */
static void t_random_model(struct t_model *m, size_t n_layers,
                           const size_t *sizes, const int32_t *acts)
{
    size_t i;
    memset(m, 0, sizeof *m);
    m->n_layers = n_layers;
    memcpy(m->sizes, sizes, (n_layers + 1) * sizeof *sizes);
    memcpy(m->acts, acts, n_layers * sizeof *acts);
    m->n_params = t_count_params(m);
    m->params = malloc(m->n_params * sizeof(float) + 1);
    for (i = 0; i < m->n_params; i++) {
        uint64_t r = t_next();
        m->params[i] = t_unif();
        /* some in [1, 2): one flip of bit 30 makes those infinite */
        if (r % 5 == 1) m->params[i] += m->params[i] >= 0 ? 1.0f : -1.0f;
        if (r % 97 == 0) m->params[i] = -0.0f;
        if (r % 89 == 0) m->params[i] = bitsf(0x00012345u);   /* subnormal */
        if (r % 83 == 0) m->params[i] = 0.0f;
    }
    for (i = 0; i < n_layers; i++) {
        /* hidden layers only, as nn_net_set_layer_option allows */
        m->dropout[i] = i + 1 < n_layers ? (float)(t_next() % 10) / 10.0f
                                         : 0.0f;
        m->coef[i][0] = (double)(t_next() % 1000) * 1e-6;
        m->coef[i][1] = (double)(t_next() % 1000) * 1e-5;
        m->coef[i][2] = i % 2 ? 0.0 : 5e-4;
        m->coef[i][3] = i % 3 ? -0.0 : 1e-3;   /* -0 is >= 0: valid */
    }
    for (i = 0; i < 4; i++) m->rng[i] = t_next();
}

static unsigned char *t_save(const nn_net *net, size_t *size)
{
    unsigned char *b;
    if (nn_net_save_buffer(net, NULL, 0, size) != NN_OK) return NULL;
    b = malloc(*size);
    if (b != NULL && nn_net_save_buffer(net, b, *size, size) != NN_OK) {
        free(b);
        return NULL;
    }
    return b;
}

/* a and b describe the same model, bit for bit, and compute the same
   outputs bit for bit. */
static void t_same_net(nn_net *a, nn_net *b)
{
    size_t L = nn_net_num_layers(a), i, n_in, n_out, batch = 5;
    float *x, *ya, *yb;
    uint64_t ra[4], rb[4];

    NNT_EQ_SIZE(nn_net_num_layers(b), L);
    NNT_EQ_SIZE(nn_net_num_params(b), nn_net_num_params(a));
    for (i = 0; i < L; i++) {
        size_t nw = nn_net_layer_inputs(a, i) * nn_net_layer_outputs(a, i);
        size_t nb = nn_net_layer_outputs(a, i);
        float *wa = malloc(nw * 4), *wb = malloc(nw * 4);
        float *ba = malloc(nb * 4), *bb = malloc(nb * 4);
        const struct nn__layer *la = &a->layers[i], *lb = &b->layers[i];
        NNT_EQ_SIZE(nn_net_layer_inputs(b, i), nn_net_layer_inputs(a, i));
        NNT_EQ_SIZE(nn_net_layer_outputs(b, i), nb);
        NNT_EQ_INT(nn_net_layer_activation(b, i),
                   nn_net_layer_activation(a, i));
        NNT_OK(nn_net_get_params(a, i, wa, ba));
        NNT_OK(nn_net_get_params(b, i, wb, bb));
        NNT_TRUE(memcmp(wa, wb, nw * 4) == 0);
        NNT_TRUE(memcmp(ba, bb, nb * 4) == 0);
        free(wa);
        free(wb);
        free(ba);
        free(bb);
        NNT_EQ_U64(fbits(lb->dropout), fbits(la->dropout));
        NNT_EQ_U64(dbits(lb->l1_w), dbits(la->l1_w));
        NNT_EQ_U64(dbits(lb->l2_w), dbits(la->l2_w));
        NNT_EQ_U64(dbits(lb->l1_b), dbits(la->l1_b));
        NNT_EQ_U64(dbits(lb->l2_b), dbits(la->l2_b));
        NNT_EQ_U64(lb->pmax, la->pmax);
    }
    for (i = 0; i < 4; i++) NNT_EQ_U64(b->rng.s[i], a->rng.s[i]);

    /* forward draws dropout masks from the nets' generators: run it on
       saved generator states, so the nets still match their images */
    memcpy(ra, a->rng.s, sizeof ra);
    memcpy(rb, b->rng.s, sizeof rb);
    n_in = nn_net_layer_inputs(a, 0);
    n_out = nn_net_layer_outputs(a, L - 1);
    x = malloc(batch * n_in * 4);
    ya = malloc(batch * n_out * 4);
    yb = malloc(batch * n_out * 4);
    for (i = 0; i < batch * n_in; i++) x[i] = 2.0f * t_unif();
    NNT_OK(nn_forward(a, x, batch, ya));
    memcpy(a->rng.s, ra, sizeof ra);   /* a may be b */
    NNT_OK(nn_forward(b, x, batch, yb));
    NNT_TRUE(memcmp(ya, yb, batch * n_out * 4) == 0);
    memcpy(a->rng.s, ra, sizeof ra);
    memcpy(b->rng.s, rb, sizeof rb);
    free(x);
    free(ya);
    free(yb);
}

static unsigned char *t_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long n;
    if (f == NULL) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0) {
        b = malloc((size_t)n + 1);
        if (b != NULL && fread(b, 1, (size_t)n, f) != (size_t)n) {
            free(b);
            b = NULL;
        }
        *size = (size_t)n;
    }
    fclose(f);
    return b;
}

static int t_write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL) return 0;
    ok = fwrite(b, 1, n, f) == n;
    return fclose(f) == 0 && ok;
}

static int t_file_equals(const char *path, const unsigned char *b, size_t n)
{
    size_t m = 0;
    unsigned char *c = t_read_file(path, &m);
    int eq = c != NULL && m == n && memcmp(b, c, n) == 0;
    free(c);
    return eq;
}

static int t_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

/* Entries of dir other than . and .. and `except` (may be NULL). */
static int t_dir_extra(const char *dir, const char *except)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (except != NULL && strcmp(e->d_name, except) == 0) continue;
        n++;
    }
    closedir(d);
    return n;
}

/* Remove every entry of dir except `keep` (leftover temporary files). */
static void t_dir_clean(const char *dir, const char *keep)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4600];
    if (d == NULL) return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' ||
                                    (e->d_name[1] == '.' &&
                                     e->d_name[2] == '\0')))
            continue;
        if (strcmp(e->d_name, keep) == 0) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

/* The three shapes of the sweeps and round trips. */
static const size_t sz_tiny[] = {2, 3, 1};
static const int32_t act_tiny[] = {NN_ACT_RELU, NN_ACT_SIGMOID};
static const size_t sz_one[] = {4, 3};
static const int32_t act_one[] = {NN_ACT_SOFTMAX};
static const size_t sz_mixed[] = {5, 7, 4, 2};
static const int32_t act_mixed[] = {NN_ACT_RELU, NN_ACT_TANH,
                                    NN_ACT_SOFTMAX};
static const size_t sz_wide[] = {3, 4096, 2};
static const int32_t act_wide[] = {NN_ACT_RELU, NN_ACT_LINEAR};

/*====== CRC-32 ======*/

NN_TEST(io_crc32_vectors)
{
    static const struct { const char *s; uint32_t crc; } v[] = {
        {"", 0x00000000u},
        {"a", 0xE8B7BE43u},
        {"abc", 0x352441C2u},
        {"123456789", 0xCBF43926u},
        {"message digest", 0x20159D7Fu},
        {"The quick brown fox jumps over the lazy dog", 0x414FA339u},
    };
    unsigned char *buf;
    size_t i, n, off;
    zcrc_fn z = zlib_crc32();

    for (i = 0; i < sizeof v / sizeof v[0]; i++) {
        NNT_EQ_U64(nn__crc32(0, v[i].s, strlen(v[i].s)), v[i].crc);
        NNT_EQ_U64(ref_crc32((const unsigned char *)v[i].s, strlen(v[i].s)),
                   v[i].crc);
    }
    /* chaining, zlib style: crc(a ++ b) = crc32(crc32(0, a), b) */
    NNT_EQ_U64(nn__crc32(nn__crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);

    /* every length 0..300 at every alignment 0..7, against the bitwise
       reference (the table path handles 8-byte blocks and a tail) */
    t_seed(1);
    buf = malloc(1 << 20);
    NNT_TRUE(buf != NULL);
    for (i = 0; i < (1 << 20); i++) buf[i] = (unsigned char)t_next();
    for (off = 0; off < 8; off++)
        for (n = 0; n <= 300; n++) {
            uint32_t got = nn__crc32(0, buf + off, n);
            if (got != ref_crc32(buf + off, n))
                nnt_fail(__FILE__, __LINE__, "crc of %zu bytes at offset "
                         "%zu: 0x%08lx, reference 0x%08lx", n, off,
                         (unsigned long)got,
                         (unsigned long)ref_crc32(buf + off, n));
            nnt_pass();
        }
    NNT_EQ_U64(nn__crc32(0, buf, 1 << 20), ref_crc32(buf, 1 << 20));
    NNT_EQ_U64(t_crc(buf, 1 << 20), ref_crc32(buf, 1 << 20));
    for (n = 0; n <= 64; n++) NNT_EQ_U64(t_crc(buf, n), ref_crc32(buf, n));
    if (z != NULL) {
        /* zlib itself, on random buffers of random lengths */
        for (i = 0; i < 200; i++) {
            size_t len = (size_t)(t_next() % 70000), o = t_next() % 64;
            NNT_EQ_U64(nn__crc32(0, buf + o, len),
                       z(0, buf + o, (unsigned)len));
        }
        NNT_EQ_U64(nn__crc32(0, buf, 1 << 20), z(0, buf, 1u << 20));
    } else {
        printf("  note: libz.so.1 not loadable; zlib comparison skipped\n");
    }
    free(buf);
}

/*====== The format, byte for byte ======*/

NN_TEST(io_format_golden)
{
    /* 2-3-1, ReLU then sigmoid, with chosen parameters and settings */
    static float params[] = {
        0.5f, -1.25f, 3.0f, -0.0f, 1e-40f, 65504.0f, /* W0 [2][3] */
        0.125f, -2.0f, 7.0f,                         /* b0 */
        1.5f, -0.75f, 2.5f,                          /* W1 [3][1] */
        -3.5f,                                       /* b1 */
    };
    static const unsigned char head[32] = {
        0x89, 0x4E, 0x4E, 0x46, 0x0D, 0x0A, 0x1A, 0x0A, /* magic */
        0x01, 0x00, 0x00, 0x00,                         /* version 1 */
        0x04, 0x03, 0x02, 0x01,                         /* BOM */
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* size 256 */
        0x02, 0x00, 0x00, 0x00,                         /* 2 sections */
        0x00, 0x00, 0x00, 0x00,                         /* flags */
    };
    static const unsigned char layr_head[24] = {
        'L', 'A', 'Y', 'R', 0, 0, 0, 0, 136, 0, 0, 0, 0, 0, 0, 0,
        2, 0, 0, 0, 2, 0, 0, 0, /* n_layers 2, n_inputs 2 */
    };
    struct t_model m;
    unsigned char *want, *got, *file;
    size_t wsize, gsize, fsize, i;
    char path[4200];
    nn_net *net, *back = NULL;

    memset(&m, 0, sizeof m);
    m.n_layers = 2;
    memcpy(m.sizes, sz_tiny, sizeof sz_tiny);
    memcpy(m.acts, act_tiny, sizeof act_tiny);
    m.params = params;
    m.n_params = 13;
    m.dropout[0] = 0.25f;
    m.dropout[1] = 0.0f;
    m.coef[0][0] = 1e-4;
    m.coef[0][1] = 5e-4;
    m.coef[0][2] = 0.0;
    m.coef[0][3] = 2.5e-3;
    m.coef[1][1] = 1.0;
    m.rng[0] = 0x0123456789ABCDEFull;
    m.rng[1] = 0xFEDCBA9876543210ull;
    m.rng[2] = 1;
    m.rng[3] = 0x8000000000000000ull;
    NNT_EQ_SIZE(t_count_params(&m), 13);

    want = t_encode(&m, &wsize);
    NNT_TRUE(want != NULL);
    NNT_EQ_SIZE(wsize, 256);   /* 32 + 16 + 136 + 16 + 52 + 4 */
    /* a few bytes spelled out, so the test's own writer is checked too */
    NNT_TRUE(memcmp(want, head, 32) == 0);
    NNT_TRUE(memcmp(want + 32, layr_head, 24) == 0);
    NNT_TRUE(memcmp(want + 184, "PARM\0\0\0\0\x34\0\0\0\0\0\0\0", 16) == 0);
    NNT_EQ_U64(get32(want + 56), 3);              /* layer 0 n_out */
    NNT_EQ_U64(get32(want + 60), NN_ACT_RELU);
    NNT_EQ_U64(get32(want + 64), 0x3E800000u);    /* 0.25f */
    NNT_EQ_U64(get32(want + 200), 0x3F000000u);   /* W0[0][0] = 0.5f */
    NNT_EQ_U64(get32(want + 212), 0x80000000u);   /* W0[1][0] = -0 */
    if (zlib_crc32() != NULL)
        NNT_EQ_U64(get32(want + 252), zlib_crc32()(0, want, 252));

    net = t_build(&m);
    NNT_TRUE(net != NULL);
    gsize = 0;
    NNT_OK(nn_net_save_buffer(net, NULL, 0, &gsize));
    NNT_EQ_SIZE(gsize, 256);

    /* capacity one short: NN_ERR_SHAPE, size still reported, buf intact */
    got = malloc(300);
    memset(got, 0xA5, 300);
    gsize = 0;
    NNT_STATUS(nn_net_save_buffer(net, got, 255, &gsize), NN_ERR_SHAPE);
    NNT_MSG_HAS("nn_net_save_buffer:");
    NNT_MSG_HAS("255");
    NNT_EQ_SIZE(gsize, 256);
    for (i = 0; i < 300; i++)
        if (got[i] != 0xA5) NNT_EQ_INT(got[i], 0xA5);
    NNT_STATUS(nn_net_save_buffer(net, got, 0, &gsize), NN_ERR_SHAPE);

    /* exact capacity and a larger one: the image and nothing past it */
    NNT_OK(nn_net_save_buffer(net, got, 256, &gsize));
    NNT_EQ_SIZE(gsize, 256);
    NNT_TRUE(memcmp(got, want, 256) == 0);
    memset(got, 0xA5, 300);
    NNT_OK(nn_net_save_buffer(net, got, 300, &gsize));
    NNT_TRUE(memcmp(got, want, 256) == 0);
    for (i = 256; i < 300; i++) NNT_EQ_INT(got[i], 0xA5);

    /* the file is the same bytes */
    snprintf(path, sizeof path, "%s/golden.nnfs", nnt_tmpdir());
    NNT_OK(nn_net_save(net, path));
    file = t_read_file(path, &fsize);
    NNT_TRUE(file != NULL);
    NNT_EQ_SIZE(fsize, 256);
    NNT_TRUE(memcmp(file, want, 256) == 0);

    /* and the hand-made image loads into the same model */
    NNT_OK(nn_net_load_buffer(&back, want, wsize));
    t_same_net(net, back);
    nn_net_destroy(back);
    NNT_OK(nn_net_load(&back, path));
    t_same_net(net, back);
    nn_net_destroy(back);

    nn_net_destroy(net);
    free(want);
    free(got);
    free(file);
}

/*====== Round trips ======*/

static void t_roundtrip(size_t n_layers, const size_t *sizes,
                        const int32_t *acts, const char *name)
{
    struct t_model m;
    nn_net *net, *back = NULL, *back2 = NULL;
    unsigned char *img, *img2, *want, *file;
    size_t size, size2, wsize, fsize;
    char path[4200];
    long live0 = nn__alloc_live();

    t_random_model(&m, n_layers, sizes, acts);
    net = t_build(&m);
    NNT_TRUE(net != NULL);
    img = t_save(net, &size);
    NNT_TRUE(img != NULL);
    /* against the specification's encoding */
    want = t_encode(&m, &wsize);
    NNT_EQ_SIZE(size, wsize);
    NNT_TRUE(memcmp(img, want, size) == 0);

    /* buffer: load, compare, save again byte-identical */
    NNT_OK(nn_net_load_buffer(&back, img, size));
    NNT_TRUE(back != NULL);
    t_same_net(net, back);
    img2 = t_save(back, &size2);
    NNT_EQ_SIZE(size2, size);
    NNT_TRUE(memcmp(img, img2, size) == 0);
    free(img2);

    /* file: save, load, save over the first file, compare */
    snprintf(path, sizeof path, "%s/%s.nnfs", nnt_tmpdir(), name);
    NNT_OK(nn_net_save(net, path));
    NNT_TRUE(t_file_equals(path, img, size));
    NNT_OK(nn_net_load(&back2, path));
    t_same_net(net, back2);
    NNT_OK(nn_net_save(back2, path));
    file = t_read_file(path, &fsize);
    NNT_EQ_SIZE(fsize, size);
    NNT_TRUE(memcmp(file, img, size) == 0);
    NNT_EQ_INT(t_dir_extra(nnt_tmpdir(), NULL), 1);   /* no temp left */

    free(file);
    free(img);
    free(want);
    free(m.params);
    nn_net_destroy(back);
    nn_net_destroy(back2);
    nn_net_destroy(net);
    NNT_EQ_INT(nn__alloc_live(), live0);
}

NN_TEST(io_roundtrip_one_layer)
{
    t_seed(11);
    t_roundtrip(1, sz_one, act_one, "one");
}

NN_TEST(io_roundtrip_mixed)
{
    t_seed(12);
    t_roundtrip(3, sz_mixed, act_mixed, "mixed");
}

NN_TEST(io_roundtrip_wide)
{
    t_seed(13);
    t_roundtrip(2, sz_wide, act_wide, "wide");
}

/* Parameters with every kind of finite bit pattern (subnormals, huge
   values, both zeros) survive exactly; forward is not run on these. */
NN_TEST(io_roundtrip_bit_patterns)
{
    static const size_t sizes[] = {16, 32};
    static const int32_t acts[] = {NN_ACT_LINEAR};
    nn_net *net = NULL, *back = NULL;
    float w[512], b[32], w2[512], b2[32];
    unsigned char *img, *img2;
    size_t i, size, size2;

    t_seed(14);
    NNT_OK(nn_net_create(&net, 1, sizes, acts, 3));
    for (i = 0; i < 512; i++) {
        uint32_t u = (uint32_t)t_next();
        if ((u & 0x7F800000u) == 0x7F800000u) u &= ~0x00800000u;
        w[i] = bitsf(u);
    }
    w[0] = bitsf(0x7F7FFFFFu);   /* FLT_MAX */
    w[1] = bitsf(0xFF7FFFFFu);   /* -FLT_MAX */
    w[2] = bitsf(0x00000001u);   /* smallest subnormal */
    w[3] = bitsf(0x80000001u);
    for (i = 0; i < 32; i++) b[i] = bitsf((uint32_t)t_next() & 0x3FFFFFFFu);
    NNT_OK(nn_net_set_params(net, 0, w, b));
    img = t_save(net, &size);
    NNT_OK(nn_net_load_buffer(&back, img, size));
    NNT_OK(nn_net_get_params(back, 0, w2, b2));
    NNT_TRUE(memcmp(w, w2, sizeof w) == 0);
    NNT_TRUE(memcmp(b, b2, sizeof b) == 0);
    NNT_EQ_U64(back->layers[0].pmax, net->layers[0].pmax);
    NNT_EQ_U64(back->layers[0].pmax, 0x7F7FFFFFu);
    img2 = t_save(back, &size2);
    NNT_EQ_SIZE(size2, size);
    NNT_TRUE(memcmp(img, img2, size) == 0);
    free(img);
    free(img2);
    nn_net_destroy(net);
    nn_net_destroy(back);
}

/* The largest shapes: NN_MAX_LAYERS layers, and one layer NN_MAX_WIDTH
   wide, load and re-encode identically. */
NN_TEST(io_roundtrip_limits)
{
    static size_t sizes[NN_MAX_LAYERS + 1];
    static int32_t acts[NN_MAX_LAYERS];
    static const size_t wide[] = {1, NN_MAX_WIDTH};
    static const int32_t lin[] = {NN_ACT_LINEAR};
    nn_net *net = NULL, *back = NULL;
    unsigned char *img, *img2;
    size_t i, size, size2;

    for (i = 0; i <= NN_MAX_LAYERS; i++) sizes[i] = 1 + i % 3;
    for (i = 0; i < NN_MAX_LAYERS; i++) acts[i] = (int32_t)(i % 4);
    NNT_OK(nn_net_create(&net, NN_MAX_LAYERS, sizes, acts, 5));
    img = t_save(net, &size);
    NNT_OK(nn_net_load_buffer(&back, img, size));
    img2 = t_save(back, &size2);
    NNT_EQ_SIZE(size2, size);
    NNT_TRUE(memcmp(img, img2, size) == 0);
    t_same_net(net, back);
    nn_net_destroy(net);
    nn_net_destroy(back);
    free(img);
    free(img2);

    /* the smallest model, as docs/FORMAT.md counts it */
    {
        static const size_t one[] = {1, 1};
        NNT_OK(nn_net_create(&net, 1, one, lin, 6));
        NNT_OK(nn_net_save_buffer(net, NULL, 0, &size));
        NNT_EQ_SIZE(size, 164);
        nn_net_destroy(net);
    }

    NNT_OK(nn_net_create(&net, 1, wide, lin, 6));
    img = t_save(net, &size);
    NNT_EQ_SIZE(size, 32 + 16 + 88 + 16 + 8 * (size_t)NN_MAX_WIDTH + 4);
    NNT_OK(nn_net_load_buffer(&back, img, size));
    img2 = t_save(back, &size2);
    NNT_EQ_SIZE(size2, size);
    NNT_TRUE(memcmp(img, img2, size) == 0);
    nn_net_destroy(net);
    nn_net_destroy(back);
    free(img);
    free(img2);
}

/*====== Corrupt inputs (T5) ======*/

/* Load an exact-size heap copy (so a sanitizer sees any over-read) and
   expect `want`; on success the model must re-encode to the same bytes. */
static int t_load_copy(const unsigned char *img, size_t n)
{
    unsigned char *c = malloc(n ? n : 1);
    nn_net *net = (nn_net *)&net;   /* not NULL: must be cleared */
    int st;
    memcpy(c, img, n);
    st = nn_net_load_buffer(&net, c, n);
    if (st == NN_OK) {
        size_t m;
        unsigned char *again = t_save(net, &m);
        if (again == NULL || m != n || memcmp(again, img, n) != 0)
            st = -1;   /* not canonical */
        free(again);
        nn_net_destroy(net);
    } else if (net != NULL) {
        st = -2;       /* *out not NULL on failure */
    } else if (strncmp(nn_last_error(), "nn_net_load_buffer: ", 20) != 0) {
        st = -3;       /* message does not name the function */
    }
    free(c);
    return st;
}

static unsigned char *t_model_image(size_t n_layers, const size_t *sizes,
                                    const int32_t *acts, size_t *size,
                                    uint64_t salt)
{
    struct t_model m;
    unsigned char *img;
    t_seed(salt);
    t_random_model(&m, n_layers, sizes, acts);
    img = t_encode(&m, size);
    free(m.params);
    return img;
}

NN_TEST(io_corrupt_truncations)
{
    struct { size_t L; const size_t *s; const int32_t *a; } nets[] = {
        {1, sz_one, act_one}, {3, sz_mixed, act_mixed}, {2, sz_tiny, act_tiny},
    };
    static size_t big_sizes[NN_MAX_LAYERS + 1];
    static int32_t big_acts[NN_MAX_LAYERS];
    size_t k, t, size, cases = 0;
    unsigned char *img;
    long live0 = nn__alloc_live();
    char path[4200];

    for (k = 0; k < 3; k++) {
        img = t_model_image(nets[k].L, nets[k].s, nets[k].a, &size, 20 + k);
        NNT_EQ_INT(t_load_copy(img, size), NN_OK);
        for (t = 0; t < size; t++, cases++) {
            int st = t_load_copy(img, t);
            if (st != NN_ERR_FORMAT)
                nnt_fail(__FILE__, __LINE__, "model %zu cut to %zu of %zu "
                         "bytes: status %d (%s)", k, t, size, st,
                         nn_last_error());
            nnt_pass();
        }
        free(img);
    }
    /* near the limits: 256 layers of width 1 (14 KiB) */
    for (t = 0; t <= NN_MAX_LAYERS; t++) big_sizes[t] = 1;
    for (t = 0; t < NN_MAX_LAYERS; t++) big_acts[t] = NN_ACT_TANH;
    img = t_model_image(NN_MAX_LAYERS, big_sizes, big_acts, &size, 23);
    NNT_EQ_INT(t_load_copy(img, size), NN_OK);
    for (t = 0; t < size; t++, cases++) {
        int st = t_load_copy(img, t);
        if (st != NN_ERR_FORMAT)
            nnt_fail(__FILE__, __LINE__, "256 layers cut to %zu of %zu "
                     "bytes: status %d (%s)", t, size, st, nn_last_error());
        nnt_pass();
    }
    free(img);

    /* and through files, for the tiny model */
    img = t_model_image(2, sz_tiny, act_tiny, &size, 22);
    snprintf(path, sizeof path, "%s/cut.nnfs", nnt_tmpdir());
    for (t = 0; t < size; t++, cases++) {
        nn_net *net = (nn_net *)&net;
        NNT_TRUE(t_write_file(path, img, t));
        NNT_STATUS(nn_net_load(&net, path), NN_ERR_FORMAT);
        NNT_TRUE(net == NULL);
        NNT_MSG_HAS("nn_net_load: ");
    }
    free(img);
    NNT_EQ_INT(nn__alloc_live(), live0);
    printf("  %zu of %zu truncations rejected with NN_ERR_FORMAT\n", cases,
           cases);
}

/* Expected verdict of the tiny/mixed model image after one bit flip with
   the CRC recomputed, from the specification alone: structure bytes must
   be rejected; a value field is accepted iff its new value is allowed. */
static int t_flip_verdict(const unsigned char *img, size_t size,
                          size_t n_layers, size_t pos)
{
    size_t layr = 48, lend = layr + 8 + 48 * n_layers, rend = lend + 32;
    size_t pstart = rend + 16;
    if (pos < layr + 8) return NN_ERR_FORMAT;   /* header, LAYR head,
                                                   n_layers, n_inputs */
    if (pos < lend) {
        size_t f = (pos - layr - 8) % 48, q = pos - f;
        if (f < 4 || (f >= 12 && f < 16)) return NN_ERR_FORMAT;
        if (f < 8) return get32(img + q + 4) <= 4 ? NN_OK : NN_ERR_FORMAT;
        if (f < 12) {
            float d = bitsf(get32(img + q + 8));
            int last = q == lend - 48;   /* the output layer: 0 only */
            return d >= 0.0f && d < 1.0f && !(last && d > 0.0f)
                       ? NN_OK : NN_ERR_FORMAT;
        } else {
            double c = bitsd(get64(img + q + 16 + 8 * ((f - 16) / 8)));
            return isfinite(c) && c >= 0.0 ? NN_OK : NN_ERR_FORMAT;
        }
    }
    if (pos < rend) return NN_OK;                /* generator state */
    if (pos < pstart) return NN_ERR_FORMAT;      /* PARM head */
    if (pos < size - 4)
        return isfinite(bitsf(get32(img + pos - (pos - pstart) % 4)))
                   ? NN_OK : NN_ERR_FORMAT;
    return NN_OK;   /* the CRC itself: recomputed, so unchanged */
}

/* Does this build check the CRC?  A fuzzing build of the library
   (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION) does not. */
static int t_crc_checked(void)
{
    size_t size;
    unsigned char *img = t_model_image(2, sz_tiny, act_tiny, &size, 99);
    int st;
    img[size - 1] ^= 1;
    st = t_load_copy(img, size);
    free(img);
    return st == NN_ERR_FORMAT;
}

NN_TEST(io_corrupt_bit_flips)
{
    struct { size_t L; const size_t *s; const int32_t *a; } nets[] = {
        {1, sz_one, act_one}, {3, sz_mixed, act_mixed}, {2, sz_tiny, act_tiny},
    };
    static size_t big_sizes[NN_MAX_LAYERS + 1];
    static int32_t big_acts[NN_MAX_LAYERS];
    size_t k, pos, size, flips = 0, fixed = 0, fixed_ok = 0;
    unsigned char *img, *work;
    int bit, st, want, crc = t_crc_checked();
    long live0 = nn__alloc_live();

    if (!crc)
        printf("  note: this build skips the CRC check (fuzzing mode); "
               "only the CRC-recomputed flips are run\n");
    for (k = 0; k < 3; k++) {
        img = t_model_image(nets[k].L, nets[k].s, nets[k].a, &size, 30 + k);
        work = malloc(size);
        for (pos = 0; pos < size; pos++) {
            for (bit = 0; bit < 8; bit++) {
                /* as stored: the CRC catches every single-bit error */
                memcpy(work, img, size);
                work[pos] ^= (unsigned char)(1u << bit);
                st = crc ? t_load_copy(work, size) : NN_ERR_FORMAT;
                if (st != NN_ERR_FORMAT)
                    nnt_fail(__FILE__, __LINE__, "model %zu byte %zu bit "
                             "%d flipped: status %d", k, pos, bit, st);
                flips += (size_t)crc;
                nnt_pass();
                /* CRC recomputed: the structural checks must decide, as
                   the specification says */
                if (pos >= size - 4) continue;
                fix_crc(work, size);
                want = t_flip_verdict(work, size, nets[k].L, pos);
                st = t_load_copy(work, size);
                if (st != want)
                    nnt_fail(__FILE__, __LINE__, "model %zu byte %zu bit %d "
                             "flipped, CRC fixed: status %d, expected %d "
                             "(%s)", k, pos, bit, st, want, nn_last_error());
                fixed++;
                nnt_pass();
                fixed_ok += st == NN_OK;
            }
        }
        free(work);
        free(img);
    }

    /* 256 layers: the header and first layers, the last layers, the
       generator, the PARM head, the first and last parameters, and every
       211th byte between (all 115k flips would take a minute under
       valgrind) */
    for (pos = 0; pos <= NN_MAX_LAYERS; pos++) big_sizes[pos] = 1;
    for (pos = 0; pos < NN_MAX_LAYERS; pos++) big_acts[pos] = NN_ACT_RELU;
    img = t_model_image(NN_MAX_LAYERS, big_sizes, big_acts, &size, 33);
    work = malloc(size);
    for (pos = 0; pos < size; pos++) {
        size_t lend = 56 + 48 * (size_t)NN_MAX_LAYERS;
        if (!(pos < 256 || (pos + 96 >= lend && pos < lend + 32 + 16 + 64) ||
              pos + 16 >= size || pos % 211 == 0))
            continue;
        for (bit = 0; bit < 8; bit++) {
            memcpy(work, img, size);
            work[pos] ^= (unsigned char)(1u << bit);
            st = crc ? t_load_copy(work, size) : NN_ERR_FORMAT;
            if (st != NN_ERR_FORMAT)
                nnt_fail(__FILE__, __LINE__, "256 layers, byte %zu bit %d "
                         "flipped: status %d", pos, bit, st);
            flips += (size_t)crc;
            nnt_pass();
            if (pos >= size - 4) continue;
            fix_crc(work, size);
            want = t_flip_verdict(work, size, NN_MAX_LAYERS, pos);
            st = t_load_copy(work, size);
            if (st != want)
                nnt_fail(__FILE__, __LINE__, "256 layers, byte %zu bit %d "
                         "flipped, CRC fixed: status %d, expected %d (%s)",
                         pos, bit, st, want, nn_last_error());
            fixed++;
            nnt_pass();
            fixed_ok += st == NN_OK;
        }
    }
    free(work);
    free(img);
    NNT_EQ_INT(nn__alloc_live(), live0);
    printf("  %zu of %zu bit flips rejected (CRC); %zu of %zu with CRC "
           "recomputed gave the specified verdict (%zu valid and "
           "canonical)\n", flips, flips, fixed, fixed, fixed_ok);
}

/* Structural fields set to boundary values, CRC recomputed: rejected
   unless the value is the original one (or a valid activation). */
NN_TEST(io_corrupt_header_fields)
{
    struct field { const char *name; size_t off; int wide; uint64_t limit;
                   int is_act; };
    unsigned char *img, *work;
    size_t size, i, j, cases = 0;
    long live0 = nn__alloc_live();

    img = t_model_image(3, sz_mixed, act_mixed, &size, 40);
    {
        size_t parm = size - 4 - 4 * 84 - 16;   /* PARM section head */
        size_t last = 56 + 48 * 2;              /* layer 2 entry */
        const struct field f[] = {
            {"version", 8, 0, 1, 0},
            {"bom", 12, 0, 0x01020304u, 0},
            {"size", 16, 1, NN__MAX_FILE_BYTES, 0},
            {"count", 24, 0, 2, 0},
            {"flags", 28, 0, 0, 0},
            {"LAYR reserved", 36, 0, 0, 0},
            {"LAYR length", 40, 1, size, 0},
            {"n_layers", 48, 0, NN_MAX_LAYERS, 0},
            {"n_inputs", 52, 0, NN_MAX_WIDTH, 0},
            {"n_out[0]", 56, 0, NN_MAX_WIDTH, 0},
            {"act[0]", 60, 0, NN_ACT_SOFTMAX, 1},
            {"reserved[0]", 68, 0, 0, 0},
            {"n_out[2]", last, 0, NN_MAX_WIDTH, 0},
            {"act[2]", last + 4, 0, NN_ACT_SOFTMAX, 1},
            {"PARM reserved", parm + 4, 0, 0, 0},
            {"PARM length", parm + 8, 1, size, 0},
        };
        work = malloc(size);
        NNT_TRUE(memcmp(img + parm, "PARM", 4) == 0);
        for (i = 0; i < sizeof f / sizeof f[0]; i++) {
            const uint64_t vals[] = {0, 1, f[i].limit, f[i].limit + 1,
                                     0x7FFFFFFFull, 0xFFFFFFFFull,
                                     0xFFFFFFFFFFFFFFFFull};
            for (j = 0; j < sizeof vals / sizeof vals[0]; j++) {
                uint64_t v = vals[j], orig;
                int want, st;
                memcpy(work, img, size);
                if (f[i].wide) {
                    orig = get64(img + f[i].off);
                    put64(work + f[i].off, v);
                } else {
                    v &= 0xFFFFFFFFu;
                    orig = get32(img + f[i].off);
                    put32(work + f[i].off, (uint32_t)v);
                }
                fix_crc(work, size);
                want = v == orig || (f[i].is_act && v <= 4) ? NN_OK
                                                            : NN_ERR_FORMAT;
                st = t_load_copy(work, size);
                if (st != want)
                    fprintf(stderr, "  %s = %llu: %s\n", f[i].name,
                            (unsigned long long)v, nn_last_error());
                NNT_EQ_INT(st, want);
                cases++;
            }
        }
        free(work);
    }
    free(img);
    NNT_EQ_INT(nn__alloc_live(), live0);
    printf("  %zu of %zu field values gave the specified verdict\n", cases,
           cases);
}

/* Consistent images (lengths and CRC right) that break one rule each. */
NN_TEST(io_corrupt_crafted)
{
    struct t_model m;
    unsigned char *img, *work;
    size_t size, i;
    float one = 1.0f;

    /* 257 layers, every length consistent */
    memset(&m, 0, sizeof m);
    m.n_layers = NN_MAX_LAYERS + 1;
    for (i = 0; i <= m.n_layers; i++) m.sizes[i] = 1;
    m.n_params = t_count_params(&m);
    m.params = calloc(m.n_params, sizeof(float));
    img = t_encode(&m, &size);
    NNT_EQ_INT(t_load_copy(img, size), NN_ERR_FORMAT);
    NNT_MSG_HAS("n_layers");
    NNT_MSG_HAS("257");
    free(img);
    /* the same image with 256 layers is fine */
    m.n_layers = NN_MAX_LAYERS;
    m.n_params = t_count_params(&m);
    img = t_encode(&m, &size);
    NNT_EQ_INT(t_load_copy(img, size), NN_OK);
    free(img);
    free(m.params);

    /* a width of NN_MAX_WIDTH + 1 (two layers, the hidden one too wide) */
    memset(&m, 0, sizeof m);
    m.n_layers = 1;
    m.sizes[0] = 1;
    m.sizes[1] = NN_MAX_WIDTH + 1;
    m.n_params = t_count_params(&m);
    m.params = calloc(m.n_params, sizeof(float));
    img = t_encode(&m, &size);
    NNT_EQ_INT(t_load_copy(img, size), NN_ERR_FORMAT);
    NNT_MSG_HAS("n_out");
    free(img);
    free(m.params);

    /* over NN_MAX_PARAMS: 2^20 inputs x 257 outputs; the PARM section
       left empty, the layer table must be refused first */
    memset(&m, 0, sizeof m);
    m.n_layers = 1;
    m.sizes[0] = NN_MAX_WIDTH;
    m.sizes[1] = 257;
    m.n_params = 0;
    m.params = &one;
    img = t_encode(&m, &size);
    NNT_EQ_INT(t_load_copy(img, size), NN_ERR_FORMAT);
    NNT_MSG_HAS("NN_MAX_PARAMS");
    free(img);

    /* value rules, each on the mixed model */
    img = t_model_image(3, sz_mixed, act_mixed, &size, 50);
    work = malloc(size + 64);
    {
        const struct { size_t off; int wide; uint64_t v; const char *msg; }
        c[] = {
            {64, 0, 0x3F800000u, "dropout"},          /* 1.0f */
            {64, 0, 0xBF000000u, "dropout"},          /* -0.5f */
            {64, 0, 0x7FC00000u, "dropout"},          /* NaN */
            {64, 0, 0x80000000u, NULL},               /* -0.0f valid */
            {64, 0, 0x3F7FFFFFu, NULL},               /* largest < 1 */
            {56 + 96 + 8, 0, 0x3F000000u, "output layer"}, /* last: 0.5 */
            {56 + 96 + 8, 0, 0x80000000u, NULL},      /* last: -0 */
            {72, 1, 0xBFF0000000000000ull, "l1_w"},   /* -1.0 */
            {80, 1, 0x7FF0000000000000ull, "l2_w"},   /* +inf */
            {88, 1, 0x7FF8000000000000ull, "l1_b"},   /* NaN */
            {96, 1, 0x8000000000000001ull, "l2_b"},   /* -subnormal */
            {60, 0, 0xFFFFFFFFu, "activation"},       /* -1 */
            {60, 0, 5, "activation"},
            {68, 0, 1, "reserved"},
            {4 + 0, 0, 0, "magic"},                   /* "NNF" byte */
            {size - 8, 0, 0x7F800000u, "infinite"},   /* last param */
            {size - 8, 0, 0xFFC00001u, "NaN"},
        };
        for (i = 0; i < sizeof c / sizeof c[0]; i++) {
            memcpy(work, img, size);
            if (c[i].wide) put64(work + c[i].off, c[i].v);
            else put32(work + c[i].off, (uint32_t)c[i].v);
            fix_crc(work, size);
            NNT_EQ_INT(t_load_copy(work, size),
                       c[i].msg ? NN_ERR_FORMAT : NN_OK);
            if (c[i].msg) NNT_MSG_HAS(c[i].msg);
        }
    }

    /* one byte of trailing data inside the declared size */
    memcpy(work, img, size);
    memmove(work + size - 3, work + size - 4, 4);
    work[size - 4] = 0;
    put64(work + 16, size + 1);
    fix_crc(work, size + 1);
    NNT_EQ_INT(t_load_copy(work, size + 1), NN_ERR_FORMAT);
    /* the same with the section count raised and an empty "OPTM"
       section: the optimizer section has 72 fixed bytes */
    memcpy(work, img, size - 4);
    memcpy(work + size - 4, "OPTM\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    put64(work + 16, size + 16);
    put32(work + 24, 3);
    fix_crc(work, size + 16);
    NNT_EQ_INT(t_load_copy(work, size + 16), NN_ERR_FORMAT);
    NNT_MSG_HAS("\"OPTM\" is 0 bytes");
    put32(work + 24, 2);
    fix_crc(work, size + 16);
    NNT_EQ_INT(t_load_copy(work, size + 16), NN_ERR_FORMAT);
    NNT_MSG_HAS("trailing");

    /* sections swapped, duplicated, missing */
    {
        size_t layr = 16 + 8 + 48 * 3 + 32, parm = size - 4 - 32 - layr;
        unsigned char *sw = malloc(size);
        memcpy(sw, img, 32);
        memcpy(sw + 32, img + 32 + layr, parm);
        memcpy(sw + 32 + parm, img + 32, layr);
        fix_crc(sw, size);
        NNT_EQ_INT(t_load_copy(sw, size), NN_ERR_FORMAT);
        NNT_MSG_HAS("\"PARM\"");
        /* LAYR twice (size adjusted) */
        memcpy(work, img, 32 + layr);
        memcpy(work + 32 + layr, img + 32, layr);
        put64(work + 16, 32 + 2 * layr + 4);
        fix_crc(work, 32 + 2 * layr + 4);
        NNT_EQ_INT(t_load_copy(work, 32 + 2 * layr + 4), NN_ERR_FORMAT);
        NNT_MSG_HAS("again");
        /* PARM missing: count 1, LAYR alone */
        memcpy(work, img, 32 + layr);
        put32(work + 24, 1);
        put64(work + 16, 32 + layr + 4);
        fix_crc(work, 32 + layr + 4);
        NNT_EQ_INT(t_load_copy(work, 32 + layr + 4), NN_ERR_FORMAT);
        /* unknown tag in PARM's place */
        memcpy(work, img, size);
        memcpy(work + 32 + layr, "PARX", 4);
        fix_crc(work, size);
        NNT_EQ_INT(t_load_copy(work, size), NN_ERR_FORMAT);
        NNT_MSG_HAS("PARX");
        free(sw);
    }
    free(work);
    free(img);
}

NN_TEST(io_corrupt_magic_version_bom)
{
    unsigned char *img, *work;
    size_t size, i;

    img = t_model_image(2, sz_tiny, act_tiny, &size, 60);
    work = malloc(size);
    for (i = 0; i < 8; i++) {
        memcpy(work, img, size);
        work[i] ^= 0x20;
        fix_crc(work, size);
        NNT_EQ_INT(t_load_copy(work, size), NN_ERR_FORMAT);
        NNT_MSG_HAS("magic");
    }
    /* PNG's magic is not ours */
    memcpy(work, img, size);
    memcpy(work, "\x89PNG\r\n\x1a\n", 8);
    fix_crc(work, size);
    NNT_EQ_INT(t_load_copy(work, size), NN_ERR_FORMAT);
    NNT_MSG_HAS("magic");
    for (i = 0; i < 4; i++) {
        static const uint32_t ver[] = {0, 2, 0x01000000u, 0xFFFFFFFFu};
        memcpy(work, img, size);
        put32(work + 8, ver[i]);
        fix_crc(work, size);
        NNT_EQ_INT(t_load_copy(work, size), NN_ERR_FORMAT);
        NNT_MSG_HAS("version");
    }
    /* big-endian byte order mark, as a big-endian writer would leave it */
    memcpy(work, img, size);
    memcpy(work + 12, "\x01\x02\x03\x04", 4);
    fix_crc(work, size);
    NNT_EQ_INT(t_load_copy(work, size), NN_ERR_FORMAT);
    NNT_MSG_HAS("byte-order");
    /* a whole big-endian header (size field byte-swapped as well) */
    memcpy(work, img, size);
    for (i = 0; i < 8; i++) work[16 + i] = img[23 - i];
    memcpy(work + 12, "\x01\x02\x03\x04", 4);
    fix_crc(work, size);
    NNT_EQ_INT(t_load_copy(work, size), NN_ERR_FORMAT);
    /* text, and the empty input */
    NNT_EQ_INT(t_load_copy((const unsigned char *)
                           "hello, this is not a model at all, really", 41),
               NN_ERR_FORMAT);
    NNT_EQ_INT(t_load_copy(img, 0), NN_ERR_FORMAT);
    NNT_MSG_HAS("empty");
    free(work);
    free(img);
}

/*====== Arguments ======*/

NN_TEST(io_invalid_args)
{
    nn_net *net = NULL, *out = (nn_net *)&out;
    unsigned char buf[8];
    size_t size = 0;
    char path[4200];

    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));
    snprintf(path, sizeof path, "%s/a.nnfs", nnt_tmpdir());
    NNT_STATUS(nn_net_save(NULL, path), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_save: net");
    NNT_STATUS(nn_net_save(net, NULL), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_save: path");
    NNT_STATUS(nn_net_save(net, ""), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_save: path");
    NNT_STATUS(nn_net_load(NULL, path), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_load: out");
    NNT_STATUS(nn_net_load(&out, NULL), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_load: path");
    NNT_TRUE(out == NULL);
    NNT_STATUS(nn_net_save_buffer(NULL, buf, 8, &size), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_save_buffer: net");
    NNT_STATUS(nn_net_save_buffer(net, buf, 8, NULL), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_save_buffer: size_out");
    NNT_STATUS(nn_net_load_buffer(NULL, buf, 8), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_load_buffer: out");
    out = (nn_net *)&out;
    NNT_STATUS(nn_net_load_buffer(&out, NULL, 8), NN_ERR_INVALID_ARG);
    NNT_MSG_HAS("nn_net_load_buffer: buf");
    NNT_TRUE(out == NULL);
    out = (nn_net *)&out;
    NNT_STATUS(nn_net_load_buffer(&out, NULL, 0), NN_ERR_INVALID_ARG);
    NNT_TRUE(out == NULL);
    out = (nn_net *)&out;
    NNT_STATUS(nn_net_load_buffer(&out, buf, 0), NN_ERR_FORMAT);
    NNT_TRUE(out == NULL);
    NNT_EQ_INT(t_dir_extra(nnt_tmpdir(), NULL), 0);
    nn_net_destroy(net);
}

/*====== Injected I/O failures (T3) and the order of a save (T4) ======*/

enum { OP_OPEN, OP_READ, OP_WRITE, OP_FSYNC, OP_CLOSE, OP_RENAME,
       OP_UNLINK, OP_FSTAT, OP_LSTAT };
static const char *const op_names[] = {"open", "read", "write", "fsync",
                                       "close", "rename", "unlink",
                                       "fstat", "lstat"};

#define T_LOG 512
static struct {
    long calls;
    long fail_at;       /* 1-based call to fail; 0 = none */
    int persist;        /* fail every call from fail_at on */
    int err;            /* errno to inject; 0 = a short transfer */
    size_t cap;         /* > 0: every read/write moves at most cap bytes */
    long size_delta;    /* added to the size fstat reports */
    int eexist;         /* O_CREAT opens answered EEXIST first */
    int open_eacces;    /* O_CREAT opens answered EACCES */
    int n_log;
    int op[T_LOG];
    int fd[T_LOG];
    int flags[T_LOG];
    int dirfd[T_LOG];   /* the directory of an *at call */
    char creat[NAME_MAX + 2];   /* the whole name of the last O_CREAT open */
    char arg[T_LOG][160];
} F;

static void t_fault_reset(void)
{
    memset(&F, 0, sizeof F);
}

static int t_hit(int op, int fd, int flags, const char *arg)
{
    long n = ++F.calls;
    if (F.n_log < T_LOG) {
        F.op[F.n_log] = op;
        F.fd[F.n_log] = fd;
        F.flags[F.n_log] = flags;
        snprintf(F.arg[F.n_log], sizeof F.arg[0], "%s", arg ? arg : "");
        F.n_log++;
    }
    return F.fail_at > 0 && (n == F.fail_at || (F.persist && n > F.fail_at));
}

/* the directory descriptor of the call just logged */
static void t_log_dirfd(int dirfd)
{
    if (F.n_log > 0 && F.n_log <= T_LOG) F.dirfd[F.n_log - 1] = dirfd;
}

static int f_open(int dirfd, const char *path, int flags, unsigned mode)
{
    int fd;
    int hit = t_hit(OP_OPEN, -1, flags, path);
    t_log_dirfd(dirfd);
    if (flags & O_CREAT) snprintf(F.creat, sizeof F.creat, "%s", path);
    if (hit && F.err) {
        errno = F.err;
        return -1;
    }
    if ((flags & O_CREAT) && F.eexist > 0) {
        F.eexist--;
        errno = EEXIST;
        return -1;
    }
    if ((flags & O_CREAT) && F.open_eacces) {
        errno = EACCES;
        return -1;
    }
    fd = nn__io_default.open(dirfd, path, flags, mode);
    if (F.n_log > 0 && F.n_log <= T_LOG) F.fd[F.n_log - 1] = fd;
    return fd;
}

static long f_read(int fd, void *buf, size_t n)
{
    if (t_hit(OP_READ, fd, 0, NULL)) {
        if (F.err) {
            errno = F.err;
            return -1;
        }
        if (n > 1) n /= 2;
    }
    if (F.cap > 0 && n > F.cap) n = F.cap;
    return nn__io_default.read(fd, buf, n);
}

static long f_write(int fd, const void *buf, size_t n)
{
    if (t_hit(OP_WRITE, fd, 0, NULL)) {
        if (F.err) {
            errno = F.err;
            return -1;
        }
        if (n > 1) n /= 2;
    }
    if (F.cap > 0 && n > F.cap) n = F.cap;
    return nn__io_default.write(fd, buf, n);
}

static int f_fsync(int fd)
{
    if (t_hit(OP_FSYNC, fd, 0, NULL) && F.err) {
        errno = F.err;
        return -1;
    }
    return nn__io_default.fsync(fd);
}

static int f_close(int fd)
{
    int r = nn__io_default.close(fd);
    /* Linux semantics: the descriptor is released even when close
       reports an error */
    if (t_hit(OP_CLOSE, fd, 0, NULL) && F.err) {
        errno = F.err;
        return -1;
    }
    return r;
}

static int f_rename(int dirfd, const char *from, const char *to)
{
    int hit = t_hit(OP_RENAME, -1, 0, to);
    t_log_dirfd(dirfd);
    if (hit && F.err) {
        errno = F.err;
        return -1;
    }
    return nn__io_default.rename(dirfd, from, to);
}

static int f_unlink(int dirfd, const char *path)
{
    int hit = t_hit(OP_UNLINK, -1, 0, path);
    t_log_dirfd(dirfd);
    if (hit && F.err) {
        errno = F.err;
        return -1;
    }
    return nn__io_default.unlink(dirfd, path);
}

static int f_lstat_mode(int dirfd, const char *path, unsigned *mode)
{
    int hit = t_hit(OP_LSTAT, -1, 0, path);
    t_log_dirfd(dirfd);
    if (hit && F.err) {
        errno = F.err;
        return -1;
    }
    return nn__io_default.lstat_mode(dirfd, path, mode);
}

static int f_fstat_size(int fd, uint64_t *size)
{
    int r;
    if (t_hit(OP_FSTAT, fd, 0, NULL) && F.err) {
        errno = F.err;
        return -1;
    }
    r = nn__io_default.fstat_size(fd, size);
    if (r == 0) *size = (uint64_t)((int64_t)*size + F.size_delta);
    return r;
}

static const struct nn__io t_faulty = {f_open, f_read, f_write, f_fsync,
                                       f_close, f_rename, f_unlink,
                                       f_fstat_size, f_lstat_mode};

/* One save with the fault table in place; the real table is back before
   anything is asserted (an assert ends the test). */
static int t_faulty_save(const nn_net *net, const char *path)
{
    int st;
    nn__io = t_faulty;
    st = nn_net_save(net, path);
    nn__io = nn__io_default;
    return st;
}

static int t_faulty_load(nn_net **out, const char *path)
{
    int st;
    nn__io = t_faulty;
    st = nn_net_load(out, path);
    nn__io = nn__io_default;
    return st;
}

/* The call sequence of a clean save: open of the directory (dir, the
   path up to its last '/'), lstat of the base name in it, open(temp,
   O_CREAT|O_EXCL) in it, the writes, fsync and close of that descriptor,
   rename onto the base name in the directory, then fsync and close of the
   directory.  Returns the index of the rename; the temporary file is
   created by call T_TMP_OPEN (0-based). */
#define T_TMP_OPEN 2
static int t_check_save_order(const char *path, const char *dir)
{
    int i = 0, tmpfd, dfd, rn, n = F.n_log;
    const char *base = strrchr(path, '/') + 1;
    size_t blen = strlen(base);
    NNT_TRUE(n >= 9);
    NNT_EQ_STR(op_names[F.op[0]], "open");
    NNT_TRUE(strncmp(F.arg[0], dir, strlen(dir)) == 0);
    NNT_TRUE(F.flags[0] & O_DIRECTORY);
    NNT_TRUE(F.flags[0] & O_CLOEXEC);
    NNT_EQ_INT(F.dirfd[0], AT_FDCWD);
    dfd = F.fd[0];
    NNT_TRUE(dfd >= 0);
    NNT_EQ_STR(op_names[F.op[1]], "lstat");
    NNT_EQ_STR(F.arg[1], base);
    NNT_EQ_INT(F.dirfd[1], dfd);
    NNT_EQ_STR(op_names[F.op[T_TMP_OPEN]], "open");
    NNT_TRUE((F.flags[2] & (O_CREAT | O_EXCL | O_WRONLY)) ==
             (O_CREAT | O_EXCL | O_WRONLY));
    NNT_TRUE(F.flags[2] & O_CLOEXEC);
    NNT_EQ_INT(F.dirfd[2], dfd);
    NNT_TRUE(strncmp(F.arg[2], base, blen) == 0);
    NNT_TRUE(strncmp(F.arg[2] + blen, ".tmp-", 5) == 0);
    NNT_EQ_INT((int)strlen(F.arg[2]), (int)blen + 21);
    tmpfd = F.fd[2];
    NNT_TRUE(tmpfd >= 0);
    for (i = 3; i < n && F.op[i] == OP_WRITE; i++) NNT_EQ_INT(F.fd[i], tmpfd);
    NNT_TRUE(i > 3);
    NNT_EQ_STR(op_names[F.op[i]], "fsync");
    NNT_EQ_INT(F.fd[i], tmpfd);
    i++;
    NNT_EQ_STR(op_names[F.op[i]], "close");
    NNT_EQ_INT(F.fd[i], tmpfd);
    i++;
    NNT_EQ_STR(op_names[F.op[i]], "rename");
    NNT_EQ_STR(F.arg[i], base);
    NNT_EQ_INT(F.dirfd[i], dfd);
    rn = i++;
    NNT_EQ_STR(op_names[F.op[i]], "fsync");
    NNT_EQ_INT(F.fd[i], dfd);
    NNT_EQ_STR(op_names[F.op[i + 1]], "close");
    NNT_EQ_INT(F.fd[i + 1], dfd);
    NNT_EQ_INT(n, i + 2);
    return rn;
}

NN_TEST(io_save_faults)
{
    static const int errs[] = {EIO, ENOSPC, EINTR, 0 /* short */};
    nn_net *old_net = NULL, *net = NULL;
    unsigned char *old_img, *new_img;
    size_t old_size, new_size;
    char path[4200];
    const char *dir = nnt_tmpdir();
    long live0, n_calls;
    int fds0, rn, e, persist, k, cases = 0;

    NNT_OK(nn_net_create(&old_net, 2, sz_tiny, act_tiny, 1));
    NNT_OK(nn_net_create(&net, 3, sz_mixed, act_mixed, 2));
    old_img = t_save(old_net, &old_size);
    new_img = t_save(net, &new_size);
    snprintf(path, sizeof path, "%s/model.nnfs", dir);

    /* the clean run: its calls, in order */
    NNT_OK(nn_net_save(old_net, path));
    t_fault_reset();
    NNT_OK(t_faulty_save(net, path));
    n_calls = F.calls;
    rn = t_check_save_order(path, dir);
    NNT_TRUE(t_file_equals(path, new_img, new_size));

    for (persist = 0; persist < 2; persist++) {
        for (e = 0; e < 4; e++) {
            if (persist && (errs[e] == EINTR || errs[e] == 0)) continue;
            for (k = 1; k <= n_calls; k++) {
                int op, st, after = k - 1 > rn;
                nn_net *dummy = NULL;
                NNT_OK(nn_net_save(old_net, path));
                live0 = nn__alloc_live();
                fds0 = t_count_fds();
                t_fault_reset();
                F.fail_at = k;
                F.persist = persist;
                F.err = errs[e];
                st = t_faulty_save(net, path);
                op = F.op[k - 1];
                cases++;
                NNT_EQ_INT(t_count_fds(), fds0);
                NNT_EQ_INT(nn__alloc_live(), live0);
                if (errs[e] == EINTR || errs[e] == 0 ||
                    (after && op == OP_CLOSE)) {
                    /* retried, completed by the loop, or a harmless close
                       of the directory: the save succeeds */
                    if (st != NN_OK)
                        fprintf(stderr, "  k=%d (%s) err=%d: %s\n", k,
                                op_names[op], errs[e], nn_last_error());
                    NNT_EQ_INT(st, NN_OK);
                    NNT_TRUE(t_file_equals(path, new_img, new_size));
                    NNT_EQ_INT(t_dir_extra(dir, "model.nnfs"), 0);
                    continue;
                }
                if (st != NN_ERR_IO)
                    fprintf(stderr, "  k=%d (%s) err=%d persist=%d: "
                            "status %d\n", k, op_names[op], errs[e],
                            persist, st);
                NNT_EQ_INT(st, NN_ERR_IO);
                NNT_MSG_HAS("nn_net_save: ");
                NNT_MSG_HAS(path);
                NNT_MSG_HAS(strerror(errs[e]));
                if (after) {
                    /* the rename happened; only the directory flush
                       failed, and the message says so */
                    NNT_MSG_HAS("in place");
                    NNT_TRUE(t_file_equals(path, new_img, new_size));
                    NNT_EQ_INT(t_dir_extra(dir, "model.nnfs"), 0);
                } else {
                    NNT_MSG_HAS(op_names[op]);
                    NNT_TRUE(t_file_equals(path, old_img, old_size));
                    /* a temporary file may stay only when the unlink
                       itself was made to fail */
                    if (!(persist && k - 1 > T_TMP_OPEN)) {
                        NNT_EQ_INT(t_dir_extra(dir, "model.nnfs"), 0);
                    } else {
                        /* the unlink, then the directory's close */
                        NNT_TRUE(F.op[F.n_log - 2] == OP_UNLINK);
                        NNT_TRUE(F.op[F.n_log - 1] == OP_CLOSE);
                        NNT_MSG_HAS("removing the temporary file");
                        t_dir_clean(dir, "model.nnfs");
                    }
                }
                /* the old model still loads */
                NNT_OK(nn_net_load(&dummy, path));
                nn_net_destroy(dummy);
            }
        }
    }

    /* every write moving at most 3 bytes: the loop completes it */
    t_fault_reset();
    F.cap = 3;
    NNT_OK(t_faulty_save(net, path));
    NNT_TRUE(t_file_equals(path, new_img, new_size));
    NNT_TRUE(F.calls > (long)(new_size / 3));
    cases++;

    /* a directory fsync that is not supported is not a failure */
    {
        static const int ns[] = {EINVAL, ENOTSUP, EROFS};
        for (e = 0; e < 3; e++) {
            NNT_OK(nn_net_save(old_net, path));
            t_fault_reset();
            F.fail_at = rn + 2;   /* the directory's fsync, 1-based */
            F.err = ns[e];
            NNT_OK(t_faulty_save(net, path));
            NNT_EQ_STR(op_names[F.op[rn + 1]], "fsync");
            NNT_TRUE(t_file_equals(path, new_img, new_size));
            cases++;
        }
    }

    nn_net_destroy(old_net);
    nn_net_destroy(net);
    free(old_img);
    free(new_img);
    nn__io = nn__io_default;
    printf("  %d of %d injected save failures behaved as specified\n",
           cases, cases);
}

/* Temporary names: O_EXCL collisions are retried under a new name; a
   directory full of collisions ends in NN_ERR_IO. */
NN_TEST(io_save_temp_names)
{
    nn_net *net = NULL;
    char path[4200];
    int i, fds0 = t_count_fds();

    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));
    snprintf(path, sizeof path, "%s/m.nnfs", nnt_tmpdir());
    t_fault_reset();
    F.eexist = 3;
    NNT_OK(t_faulty_save(net, path));
    NNT_EQ_INT(F.op[0], OP_OPEN);   /* the directory */
    NNT_EQ_INT(F.op[1], OP_LSTAT);
    for (i = T_TMP_OPEN; i < T_TMP_OPEN + 4; i++) {
        NNT_EQ_INT(F.op[i], OP_OPEN);
        NNT_TRUE(F.flags[i] & O_CREAT);
        if (i > T_TMP_OPEN) NNT_TRUE(strcmp(F.arg[i], F.arg[i - 1]) != 0);
    }
    NNT_EQ_INT(t_dir_extra(nnt_tmpdir(), "m.nnfs"), 0);

    t_fault_reset();
    F.eexist = 1000;
    NNT_STATUS(t_faulty_save(net, path), NN_ERR_IO);
    NNT_MSG_HAS("File exists");
    NNT_TRUE(F.calls >= 4 && F.calls <= 64);
    NNT_EQ_INT(t_count_fds(), fds0);

    /* many saves in a row leave exactly one file */
    for (i = 0; i < 20; i++) NNT_OK(nn_net_save(net, path));
    NNT_EQ_INT(t_dir_extra(nnt_tmpdir(), NULL), 1);
    nn_net_destroy(net);
    nn__io = nn__io_default;
}

NN_TEST(io_save_bad_paths)
{
    nn_net *net = NULL;
    char path[4200], ro[4000];
    unsigned char *img;
    size_t size;
    int fd, fds0 = t_count_fds();
    long live0;

    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));
    live0 = nn__alloc_live();

    /* a directory that does not exist */
    snprintf(path, sizeof path, "%s/no/such/dir/m.nnfs", nnt_tmpdir());
    NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
    NNT_MSG_HAS("nn_net_save: ");
    NNT_MSG_HAS(path);
    NNT_MSG_HAS("No such file or directory");

    /* the target is a directory: refused before anything is written */
    snprintf(path, sizeof path, "%s/sub", nnt_tmpdir());
    NNT_TRUE(mkdir(path, 0755) == 0);
    NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
    NNT_MSG_HAS("is a directory, not a regular file; nothing was written");
    NNT_MSG_HAS(path);
    NNT_EQ_INT(t_dir_extra(nnt_tmpdir(), "sub"), 0);
    NNT_EQ_INT(t_dir_extra(path, NULL), 0);

    /* a read-only directory.  Root ignores the mode bits (the suite may
       well run as root), so that is detected with a probe file and the
       refusal is then injected through the I/O table as EACCES, the
       error open(2) gives in a mode-0555 directory. */
    snprintf(ro, sizeof ro, "%s/ro", nnt_tmpdir());
    NNT_TRUE(mkdir(ro, 0755) == 0);
    snprintf(path, sizeof path, "%s/m.nnfs", ro);
    NNT_OK(nn_net_save(net, path));
    img = t_read_file(path, &size);
    NNT_TRUE(chmod(ro, 0555) == 0);
    {
        char probe[4300];
        snprintf(probe, sizeof probe, "%s/probe", ro);
        fd = open(probe, O_CREAT | O_WRONLY, 0644);
        if (fd >= 0) {
            close(fd);
            unlink(probe);
            t_fault_reset();
            F.open_eacces = 1;
            NNT_STATUS(t_faulty_save(net, path), NN_ERR_IO);
        } else {
            NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
        }
    }
    NNT_MSG_HAS("nn_net_save: ");
    NNT_MSG_HAS(path);
    NNT_MSG_HAS("Permission denied");
    NNT_TRUE(t_file_equals(path, img, size));
    NNT_EQ_INT(t_dir_extra(ro, "m.nnfs"), 0);
    NNT_TRUE(chmod(ro, 0755) == 0);
    free(img);

    NNT_EQ_INT(t_count_fds(), fds0);
    NNT_EQ_INT(nn__alloc_live(), live0);
    nn_net_destroy(net);
    nn__io = nn__io_default;
}

NN_TEST(io_load_faults)
{
    static const int errs[] = {EIO, ENOSPC, EINTR, 0 /* short */};
    nn_net *net = NULL, *back;
    unsigned char *img;
    size_t size;
    char path[4200];
    long n_calls, live0;
    int e, k, persist, fds0, cases = 0;

    NNT_OK(nn_net_create(&net, 3, sz_mixed, act_mixed, 9));
    /* two forwards give net its training scratch for good, so the live
       block count below only moves with what nn_net_load allocates */
    t_same_net(net, net);
    img = t_save(net, &size);
    snprintf(path, sizeof path, "%s/m.nnfs", nnt_tmpdir());
    NNT_OK(nn_net_save(net, path));

    t_fault_reset();
    back = NULL;
    NNT_OK(t_faulty_load(&back, path));
    nn_net_destroy(back);
    n_calls = F.calls;
    /* open, fstat, read(s), the end-of-file probe, close */
    NNT_TRUE(n_calls >= 5);
    NNT_EQ_INT(F.op[0], OP_OPEN);
    NNT_TRUE((F.flags[0] & (O_WRONLY | O_RDWR | O_CREAT)) == 0);
    NNT_EQ_INT(F.op[1], OP_FSTAT);
    NNT_EQ_INT(F.op[n_calls - 1], OP_CLOSE);
    for (k = 2; k < n_calls - 1; k++) NNT_EQ_INT(F.op[k], OP_READ);

    for (persist = 0; persist < 2; persist++) {
        for (e = 0; e < 4; e++) {
            if (persist && (errs[e] == EINTR || errs[e] == 0)) continue;
            for (k = 1; k <= n_calls; k++) {
                int st, op;
                live0 = nn__alloc_live();
                fds0 = t_count_fds();
                t_fault_reset();
                F.fail_at = k;
                F.persist = persist;
                F.err = errs[e];
                back = (nn_net *)&back;
                st = t_faulty_load(&back, path);
                op = F.op[k - 1];
                cases++;
                NNT_EQ_INT(t_count_fds(), fds0);
                if (errs[e] == EINTR || errs[e] == 0) {
                    NNT_EQ_INT(st, NN_OK);
                    t_same_net(net, back);
                    nn_net_destroy(back);
                    NNT_EQ_INT(nn__alloc_live(), live0);
                    continue;
                }
                if (st != NN_ERR_IO)
                    fprintf(stderr, "  k=%d (%s): %s\n", k, op_names[op],
                            nn_last_error());
                NNT_EQ_INT(st, NN_ERR_IO);
                NNT_TRUE(back == NULL);
                NNT_MSG_HAS("nn_net_load: ");
                NNT_MSG_HAS(path);
                NNT_MSG_HAS(strerror(errs[e]));
                NNT_EQ_INT(nn__alloc_live(), live0);
            }
        }
    }

    /* every read moving at most 5 bytes */
    t_fault_reset();
    F.cap = 5;
    NNT_OK(t_faulty_load(&back, path));
    t_same_net(net, back);
    nn_net_destroy(back);
    NNT_TRUE(F.calls > (long)(size / 5));
    cases++;

    /* fstat disagreeing with the contents: the size is checked against the
       header first, and the read must end exactly where fstat said */
    {
        static const long deltas[] = {-1, 1, -100, 100, -((long)1 << 40)};
        for (k = 0; k < 5; k++) {
            live0 = nn__alloc_live();
            fds0 = t_count_fds();
            t_fault_reset();
            F.size_delta = deltas[k];
            back = (nn_net *)&back;
            NNT_STATUS(t_faulty_load(&back, path), NN_ERR_FORMAT);
            NNT_TRUE(back == NULL);
            NNT_EQ_INT(t_count_fds(), fds0);
            NNT_EQ_INT(nn__alloc_live(), live0);
            cases++;
        }
        /* a file one byte longer than its header says, and fstat agreeing
           with the header: only the end-of-file probe can notice */
        {
            unsigned char *longer = malloc(size + 1);
            memcpy(longer, img, size);
            longer[size] = 0;
            NNT_TRUE(t_write_file(path, longer, size + 1));
            t_fault_reset();
            F.size_delta = -1;
            NNT_STATUS(t_faulty_load(&back, path), NN_ERR_FORMAT);
            NNT_MSG_HAS("more than");
            /* shorter: fstat claims the full size, the read hits EOF */
            NNT_TRUE(t_write_file(path, img, size - 1));
            t_fault_reset();
            F.size_delta = 1;
            NNT_STATUS(t_faulty_load(&back, path), NN_ERR_FORMAT);
            NNT_MSG_HAS("truncated");
            /* the same for a file smaller than the header */
            NNT_TRUE(t_write_file(path, img, 10));
            t_fault_reset();
            F.size_delta = 5;
            NNT_STATUS(t_faulty_load(&back, path), NN_ERR_FORMAT);
            NNT_MSG_HAS("truncated");
            t_fault_reset();
            F.size_delta = -5;
            NNT_STATUS(t_faulty_load(&back, path), NN_ERR_FORMAT);
            NNT_MSG_HAS("more than");
            free(longer);
            cases += 4;
        }
    }

    nn_net_destroy(net);
    free(img);
    nn__io = nn__io_default;
    printf("  %d of %d injected load failures behaved as specified\n",
           cases, cases);
}

NN_TEST(io_load_bad_paths)
{
    nn_net *net = NULL, *back;
    char path[4200];
    unsigned char *img;
    size_t size;
    int fd, fds0 = t_count_fds();
    long live0 = nn__alloc_live();

    /* missing file */
    snprintf(path, sizeof path, "%s/missing.nnfs", nnt_tmpdir());
    back = (nn_net *)&back;
    NNT_STATUS(nn_net_load(&back, path), NN_ERR_IO);
    NNT_TRUE(back == NULL);
    NNT_MSG_HAS("nn_net_load: ");
    NNT_MSG_HAS(path);
    NNT_MSG_HAS("No such file or directory");

    /* a directory */
    back = (nn_net *)&back;
    NNT_STATUS(nn_net_load(&back, nnt_tmpdir()), NN_ERR_IO);
    NNT_TRUE(back == NULL);
    NNT_MSG_HAS(nnt_tmpdir());

    /* empty file */
    snprintf(path, sizeof path, "%s/empty.nnfs", nnt_tmpdir());
    NNT_TRUE(t_write_file(path, "", 0));
    NNT_STATUS(nn_net_load(&back, path), NN_ERR_FORMAT);
    NNT_MSG_HAS("nn_net_load: ");
    NNT_MSG_HAS("empty");

    /* a text file */
    NNT_TRUE(t_write_file(path, "#!/bin/sh\necho this is not a model, "
                          "only text\n", 45));
    NNT_STATUS(nn_net_load(&back, path), NN_ERR_FORMAT);
    NNT_MSG_HAS("magic");

    /* a FIFO must not block; it is not a regular file */
    snprintf(path, sizeof path, "%s/fifo", nnt_tmpdir());
    if (mkfifo(path, 0600) == 0) {
        NNT_STATUS(nn_net_load(&back, path), NN_ERR_IO);
        NNT_MSG_HAS(path);
    }

    /* unreadable: mode 0 stops everyone but root, who gets EACCES from
       the table instead */
    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));
    img = t_save(net, &size);
    snprintf(path, sizeof path, "%s/secret.nnfs", nnt_tmpdir());
    NNT_TRUE(t_write_file(path, img, size));
    NNT_TRUE(chmod(path, 0) == 0);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        close(fd);
        t_fault_reset();
        F.fail_at = 1;
        F.err = EACCES;
        NNT_STATUS(t_faulty_load(&back, path), NN_ERR_IO);
    } else {
        NNT_STATUS(nn_net_load(&back, path), NN_ERR_IO);
    }
    NNT_MSG_HAS(path);
    NNT_MSG_HAS("Permission denied");
    nn_net_destroy(net);
    free(img);

    /* over the size limit, refused before anything is allocated: a
       sparse file costs no disk */
    snprintf(path, sizeof path, "%s/huge.nnfs", nnt_tmpdir());
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    NNT_TRUE(fd >= 0);
    if (ftruncate(fd, (off_t)(NN__MAX_FILE_BYTES + 1)) == 0) {
        close(fd);
        NNT_STATUS(nn_net_load(&back, path), NN_ERR_FORMAT);
        NNT_MSG_HAS("limit");
    } else {
        close(fd);
        printf("  note: no sparse files here; size-limit case skipped\n");
    }
    /* 1 GiB of zeros: refused by its header, before a 1 GiB allocation */
    fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    NNT_TRUE(fd >= 0);
    if (ftruncate(fd, (off_t)1 << 30) == 0) {
        close(fd);
        NNT_STATUS(nn_net_load(&back, path), NN_ERR_FORMAT);
        NNT_MSG_HAS("magic");
    } else {
        close(fd);
    }
    unlink(path);

    NNT_EQ_INT(t_count_fds(), fds0);
    NNT_EQ_INT(nn__alloc_live(), live0);
    nn__io = nn__io_default;
}

/*====== Special files, long names and long messages (issue 13) ======*/

/* One save onto a node that is not a regular file: refused with
   NN_ERR_IO and a message naming the path and what it is, before anything
   is written (no temporary file in dir), the node left as it was. */
static void t_refused(const nn_net *net, const nn_optimizer *opt,
                      const char *dir, const char *path, const char *name,
                      const char *kind)
{
    struct stat before, after;
    char want[128];
    int entries = t_dir_extra(dir, NULL);
    (void)name;
    NNT_TRUE(lstat(path, &before) == 0);
    if (opt == NULL) NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
    else NNT_STATUS(nn_checkpoint_save(net, opt, path), NN_ERR_IO);
    NNT_MSG_HAS(opt == NULL ? "nn_net_save: " : "nn_checkpoint_save: ");
    NNT_MSG_HAS(path);
    snprintf(want, sizeof want, "is %s, not a regular file; nothing was "
             "written", kind);
    NNT_MSG_HAS(want);
    NNT_TRUE(lstat(path, &after) == 0);
    NNT_EQ_INT((int)(after.st_mode & S_IFMT), (int)(before.st_mode & S_IFMT));
    NNT_TRUE(after.st_ino == before.st_ino);
    NNT_TRUE(after.st_rdev == before.st_rdev);
    NNT_EQ_INT(t_dir_extra(dir, NULL), entries);   /* no temporary file */
}

NN_TEST(io_save_refuses_special_files)
{
    nn_net *net = NULL, *back = NULL;
    nn_optimizer *opt = NULL;
    unsigned char *img;
    size_t size;
    char dir[4200], path[4400], link[4400];
    struct stat sb;
    int fds0 = t_count_fds(), n_nodes = 0, sock = -1;
    long live0;

    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));
    NNT_OK(nn_optimizer_create(&opt, net, NN_OPT_ADAM));
    img = t_save(net, &size);
    snprintf(dir, sizeof dir, "%s/special", nnt_tmpdir());
    NNT_TRUE(mkdir(dir, 0755) == 0);
    live0 = nn__alloc_live();

    /* a FIFO: the old save renamed a regular file over it */
    snprintf(path, sizeof path, "%s/fifo", dir);
    NNT_TRUE(mkfifo(path, 0644) == 0);
    n_nodes++;
    t_refused(net, NULL, dir, path, "fifo", "a FIFO");
    t_refused(net, opt, dir, path, "fifo", "a FIFO");
    NNT_EQ_INT(t_dir_extra(dir, NULL), n_nodes);

    /* a directory, and a path ending in '/' */
    snprintf(path, sizeof path, "%s/sub", dir);
    NNT_TRUE(mkdir(path, 0755) == 0);
    n_nodes++;
    t_refused(net, NULL, dir, path, "sub", "a directory");
    NNT_EQ_INT(t_dir_extra(path, NULL), 0);
    snprintf(path, sizeof path, "%s/sub/", dir);
    NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
    NNT_MSG_HAS("ends in '/'");
    NNT_MSG_HAS("nothing was written");
    snprintf(path, sizeof path, "%s/sub", dir);
    NNT_EQ_INT(t_dir_extra(path, NULL), 0);

    /* a socket (sun_path holds at most 107 bytes) */
    snprintf(path, sizeof path, "%s/sock", dir);
    if (strlen(path) < sizeof ((struct sockaddr_un *)0)->sun_path) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        sock = socket(AF_UNIX, SOCK_STREAM, 0);
        NNT_TRUE(sock >= 0);
        NNT_TRUE(bind(sock, (struct sockaddr *)&sa, sizeof sa) == 0);
        n_nodes++;
        t_refused(net, NULL, dir, path, "sock", "a socket");
        close(sock);
    } else {
        printf("  note: socket case skipped, \"%s\" is too long to bind\n",
               path);
    }

    /* device nodes, made in the temporary directory (never the real
       /dev/null): only root may mknod */
    if (geteuid() == 0) {
        snprintf(path, sizeof path, "%s/null", dir);
        NNT_TRUE(mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0);
        n_nodes++;
        t_refused(net, NULL, dir, path, "null", "a character device");
        t_refused(net, opt, dir, path, "null", "a character device");
        snprintf(path, sizeof path, "%s/loop", dir);
        NNT_TRUE(mknod(path, S_IFBLK | 0600, makedev(7, 0)) == 0);
        n_nodes++;
        t_refused(net, NULL, dir, path, "loop", "a block device");
    } else {
        printf("  note: character and block device cases skipped (mknod "
               "needs root)\n");
    }
    NNT_EQ_INT(t_dir_extra(dir, NULL), n_nodes);   /* no temporary file */
    NNT_EQ_INT(t_count_fds(), fds0);
    NNT_EQ_INT(nn__alloc_live(), live0);

    /* a symbolic link, even to a FIFO, is replaced, not followed (as the
       header documents): the FIFO stays, the link becomes the model */
    snprintf(path, sizeof path, "%s/fifo", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    NNT_TRUE(symlink(path, link) == 0);
    NNT_OK(nn_net_save(net, link));
    NNT_TRUE(lstat(link, &sb) == 0 && S_ISREG(sb.st_mode));
    NNT_TRUE(lstat(path, &sb) == 0 && S_ISFIFO(sb.st_mode));
    NNT_TRUE(t_file_equals(link, img, size));
    NNT_OK(nn_net_load(&back, link));
    nn_net_destroy(back);
    NNT_EQ_INT(t_dir_extra(dir, NULL), n_nodes + 1);

    free(img);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
}

/* Save at path, check the bytes and that nothing but the model was added
   to dir, and load it back. */
static void t_save_at(const nn_net *net, const char *dir, const char *path,
                      const unsigned char *img, size_t size)
{
    nn_net *back = NULL;
    int extra = t_dir_extra(dir, NULL);
    t_fault_reset();
    nn__io = t_faulty;
    {
        int st = nn_net_save(net, path);
        nn__io = nn__io_default;
        NNT_OK(st);
    }
    NNT_TRUE(t_file_equals(path, img, size));
    NNT_EQ_INT(t_dir_extra(dir, NULL), extra + 1);
    NNT_OK(nn_net_load(&back, path));
    nn_net_destroy(back);
    NNT_TRUE(unlink(path) == 0);
}

NN_TEST(io_save_long_names)
{
    static const size_t lens[] = {NAME_MAX, NAME_MAX - 1, 240, 235, 234,
                                  233, 100};
    nn_net *net = NULL;
    unsigned char *img;
    size_t size, i, dlen;
    char base[NAME_MAX + 1], path[PATH_MAX + 64], *p;
    const char *dir = nnt_tmpdir();
    int depth = 0;

    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));
    img = t_save(net, &size);

    /* base names up to NAME_MAX: the temporary name fits NAME_MAX too,
       keeping as much of the base name as fits */
    for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i], keep = n + 21 <= NAME_MAX ? n : NAME_MAX - 21;
        memset(base, 'm', n);
        base[n] = '\0';
        snprintf(path, sizeof path, "%s/%s", dir, base);
        t_save_at(net, dir, path, img, size);
        NNT_EQ_SIZE(strlen(F.creat), keep + 21);
        NNT_TRUE(strncmp(F.creat, base, keep) == 0);
        NNT_TRUE(strncmp(F.creat + keep, ".tmp-", 5) == 0);
    }

    /* a UTF-8 base name is cut at a character boundary: "x" then 127
       two-byte characters (255 bytes); byte 234 is a continuation byte */
    base[0] = 'x';
    for (i = 0; i < 127; i++) {
        base[1 + 2 * i] = (char)0xC3;
        base[2 + 2 * i] = (char)0xA9;   /* U+00E9 */
    }
    base[255] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, base);
    t_save_at(net, dir, path, img, size);
    NNT_EQ_SIZE(strlen(F.creat), 233 + 21);
    NNT_TRUE(strncmp(F.creat, base, 233) == 0);

    /* one byte over NAME_MAX is refused by the file system, before
       anything is written */
    memset(base, 'm', NAME_MAX);
    snprintf(path, sizeof path, "%s/%sm", dir, base);
    NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
    NNT_MSG_HAS(strerror(ENAMETOOLONG));
    NNT_EQ_INT(t_dir_extra(dir, NULL), 0);

    /* a directory chain near PATH_MAX with a short base name: the path
       fits, "<path>.tmp-<16 hex>" would not, and the save works relative
       to the directory */
    snprintf(path, sizeof path, "%s", dir);
    dlen = strlen(path);
    memset(base, 'd', 200);
    base[200] = '\0';
    while (dlen + 1 + 200 + 2 < PATH_MAX - 1) {
        snprintf(path + dlen, sizeof path - dlen, "/%s", base);
        NNT_TRUE(mkdir(path, 0755) == 0);
        dlen += 201;
        depth++;
    }
    /* pad the last directory so the model path is PATH_MAX - 1 bytes */
    {
        size_t pad = PATH_MAX - 1 - dlen - 2 - 1;   /* "/x" + "/m" */
        NNT_TRUE(pad > 0 && pad <= 200);
        path[dlen] = '/';
        memset(path + dlen + 1, 'e', pad);
        path[dlen + 1 + pad] = '\0';
        NNT_TRUE(mkdir(path, 0755) == 0);
        dlen += 1 + pad;
    }
    p = path + dlen;
    memcpy(p, "/m", 3);
    NNT_EQ_SIZE(strlen(path), (size_t)PATH_MAX - 1);
    *p = '\0';
    {
        char d[PATH_MAX];
        snprintf(d, sizeof d, "%s", path);
        *p = '/';
        t_save_at(net, d, path, img, size);
        NNT_EQ_INT(t_dir_extra(d, NULL), 0);
    }
    printf("  saved and loaded a %zu-byte path (%d directories deep) and "
           "base names of %d to %d bytes\n", strlen(path), depth + 1, 100,
           NAME_MAX);
    free(img);
    nn_net_destroy(net);
}

/* A path of about len bytes below nnt_tmpdir() made of 200-byte
   directories (created when mk), ending in "/<leaf>". */
static void t_long_path(char *path, size_t cap, size_t len, int mk,
                        const char *leaf)
{
    size_t n;
    char comp[201];
    memset(comp, 'q', 200);
    comp[200] = '\0';
    snprintf(path, cap, "%s", nnt_tmpdir());
    n = strlen(path);
    while (n + 201 + 1 + strlen(leaf) < len) {
        snprintf(path + n, cap - n, "/%s", comp);
        if (mk) NNT_TRUE(mkdir(path, 0755) == 0 || errno == EEXIST);
        n += 201;
    }
    /* one shorter directory brings it to len */
    if (n + 2 + 1 + strlen(leaf) < len) {
        size_t pad = len - n - 2 - strlen(leaf);
        snprintf(path + n, cap - n, "/%.*s", (int)pad, comp);
        if (mk) NNT_TRUE(mkdir(path, 0755) == 0 || errno == EEXIST);
        n += 1 + pad;
    }
    snprintf(path + n, cap - n, "/%s", leaf);
}

NN_TEST(io_long_path_messages)
{
    nn_net *net = NULL, *back = NULL;
    char path[PATH_MAX + 64], *huge;
    const char *m;
    size_t n;

    NNT_OK(nn_net_create(&net, 2, sz_tiny, act_tiny, 1));

    /* a failing load of a ~4000-byte path keeps the reason */
    t_long_path(path, sizeof path, 4000, 1, "missing.nnfs");
    NNT_EQ_SIZE(strlen(path), 4000);
    NNT_STATUS(nn_net_load(&back, path), NN_ERR_IO);
    NNT_MSG_HAS("nn_net_load: ");
    NNT_MSG_HAS(path);
    NNT_MSG_HAS(strerror(ENOENT));

    /* a save into a missing directory at the same depth */
    t_long_path(path, sizeof path, 4000, 1, "no-such-dir/m.nnfs");
    NNT_STATUS(nn_net_save(net, path), NN_ERR_IO);
    NNT_MSG_HAS(path);
    NNT_MSG_HAS(strerror(ENOENT));

    /* a failing write: the message carries the path and the temporary
       file's path, and the reason */
    t_long_path(path, sizeof path, 4000, 1, "full.nnfs");
    t_fault_reset();
    F.fail_at = 4;   /* the first write */
    F.err = ENOSPC;
    nn__io = t_faulty;
    {
        int st = nn_net_save(net, path);
        nn__io = nn__io_default;
        NNT_STATUS(st, NN_ERR_IO);
    }
    NNT_EQ_STR(op_names[F.op[3]], "write");
    NNT_MSG_HAS(path);
    NNT_MSG_HAS(strerror(ENOSPC));
    NNT_MSG_HAS("the old file is unchanged");
    NNT_MSG_HAS(".tmp-");
    NNT_TRUE(strlen(nn_last_error()) > 2 * 3900);

    /* past PATH_MAX nothing is promised but a visible cut: the message
       starts with the function and ends in "..." */
    n = 3 * PATH_MAX;
    huge = malloc(n + 1);
    NNT_TRUE(huge != NULL);
    memset(huge, 'z', n);
    huge[n] = '\0';
    NNT_STATUS(nn_net_load(&back, huge), NN_ERR_IO);
    m = nn_last_error();
    NNT_TRUE(strncmp(m, "nn_net_load: ", 13) == 0);
    NNT_TRUE(strlen(m) > 2 * PATH_MAX && strlen(m) < n);
    NNT_EQ_STR(m + strlen(m) - 3, "...");
    free(huge);
    nn_net_destroy(net);
}

/* Loading from a terminal must not make it the caller's controlling
   terminal: a session leader without one (a daemon) that opens a tty
   without O_NOCTTY acquires it, and then gets its hangups and job-control
   signals.  The child becomes such a leader, loads from a pseudo-terminal
   (refused: not a regular file) and checks it still has no terminal. */
NN_TEST(io_load_tty_no_ctty)
{
#ifdef TIOCGPTN
    pid_t pid;
    int status = -1;
    fflush(NULL);
    pid = fork();
    NNT_TRUE(pid >= 0);
    if (pid == 0) {
        nn_net *back = NULL;
        unsigned n = 0;
        int unlock = 0, m, fd;
        char name[64];
        if (setsid() < 0) _exit(10);
        m = open("/dev/ptmx", O_RDWR | O_NOCTTY);
        if (m < 0) _exit(11);
        if (ioctl(m, TIOCSPTLCK, &unlock) != 0 ||
            ioctl(m, TIOCGPTN, &n) != 0)
            _exit(11);
        snprintf(name, sizeof name, "/dev/pts/%u", n);
        if (nn_net_load(&back, name) != NN_ERR_IO || back != NULL) _exit(12);
        if (nn_net_load(&back, "/dev/tty") != NN_ERR_IO) _exit(13);
        fd = open("/dev/tty", O_RDONLY | O_NOCTTY);
        _exit(fd >= 0 ? 14 : 0);   /* 14: the load took the terminal */
    }
    NNT_TRUE(waitpid(pid, &status, 0) == pid);
    NNT_TRUE(WIFEXITED(status));
    if (WEXITSTATUS(status) == 11) {
        printf("  note: no pseudo-terminal available; case skipped\n");
        return;
    }
    NNT_EQ_INT(WEXITSTATUS(status), 0);
#else
    printf("  note: no TIOCGPTN on this system; case skipped\n");
#endif
}

NN_TEST(error_wrap_keeps_the_message_whole)
{
    /* nn__fail_wrap: the prefix goes before the callee's message, the
       callee's "name: " is dropped when asked, and the message is cut only
       where the thread's buffer ends (the callers used to copy it through
       400- and 512-byte buffers first). */
    char want[1500];
    size_t n;
    memset(want, 'x', 1200);
    want[1200] = '\0';
    (void)nn__fail(NN_ERR_IO, "callee: %s", want);
    NNT_EQ_INT(nn__fail_wrap(NN_ERR_FORMAT, "callee", "outer %d: ", 7),
               NN_ERR_FORMAT);
    n = strlen(nn_last_error());
    NNT_EQ_SIZE(n, strlen("outer 7: ") + 1200);
    NNT_TRUE(strncmp(nn_last_error(), "outer 7: xxx", 12) == 0);
    NNT_TRUE(nn_last_error()[n - 1] == 'x');
    /* without strip_fn (or when the name differs) the text stays as is */
    (void)nn__fail(NN_ERR_IO, "callee: reason");
    (void)nn__fail_wrap(NN_ERR_IO, NULL, "a: ");
    NNT_EQ_STR(nn_last_error(), "a: callee: reason");
    (void)nn__fail(NN_ERR_IO, "callee: reason");
    (void)nn__fail_wrap(NN_ERR_IO, "other", "a: ");
    NNT_EQ_STR(nn_last_error(), "a: callee: reason");
    /* a message that fills the buffer is cut at its end, marked "..." */
    {
        size_t big = 3 * 4096;
        char *s = malloc(big + 1);
        NNT_TRUE(s != NULL);
        memset(s, 'y', big);
        s[big] = '\0';
        (void)nn__fail(NN_ERR_IO, "%s", s);
        (void)nn__fail_wrap(NN_ERR_IO, NULL, "prefix: ");
        n = strlen(nn_last_error());
        NNT_TRUE(n < big);
        NNT_TRUE(strncmp(nn_last_error(), "prefix: yyy", 11) == 0);
        NNT_EQ_STR(nn_last_error() + n - 3, "...");
        free(s);
    }
}
