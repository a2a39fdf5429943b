/*
 * io.c - model files: the version 1 format (docs/FORMAT.md), its encoder
 * and validating decoder, CRC-32, and atomic save / whole-file load.
 *
 * Design (docs/RELIABILITY.md P2-P5):
 *  - Loading reads the whole file (bounded by NN__MAX_FILE_BYTES) and then
 *    parses the buffer, so the file and buffer entry points share one
 *    parser and a fuzzer can drive it directly.
 *  - The parser validates every byte of structure before it allocates the
 *    network; no allocation exceeds the input size plus a few KiB.
 *  - Every field is decoded byte by byte as little-endian, so the code is
 *    the same on a big-endian host, and floats travel as exact bit
 *    patterns.  Everything that would not re-encode identically is
 *    rejected, so save(load(f)) == f.
 *  - Saving opens the target's directory, refuses a target that is not a
 *    regular file or symbolic link, writes a new temporary file next to
 *    it (names relative to the directory descriptor), fsyncs it, renames
 *    it over the target and fsyncs the directory.  All operating
 *    system file calls go through the nn__io table so tests can inject a
 *    failure into any one of them.
 */
#include "base/base.h"
#include "core/core.h"
#include "train/train.h"
#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

/*====== Format constants (docs/FORMAT.md) ======*/

static const unsigned char nn__magic[8] = {0x89, 'N', 'N', 'F',
                                           0x0D, 0x0A, 0x1A, 0x0A};
#define NN__FORMAT_VERSION 1u
#define NN__BOM 0x01020304u
#define NN__HEADER_BYTES 32u
#define NN__SECTION_HEAD_BYTES 16u
#define NN__LAYR_FIXED_BYTES 8u   /* n_layers, n_inputs */
#define NN__LAYER_BYTES 48u
#define NN__RNG_BYTES 32u
#define NN__CRC_BYTES 4u

/* Header field offsets. */
#define NN__OFF_VERSION 8u
#define NN__OFF_BOM 12u
#define NN__OFF_SIZE 16u
#define NN__OFF_COUNT 24u
#define NN__OFF_FLAGS 28u

/* The sections a version 1 file may hold, in the only order allowed.  A
   later version adds optional kinds here (e.g. "OPTM" after "PARM",
   required = 0); the walk in nn__find_sections already skips an absent
   optional kind and still rejects unknown, repeated or reordered tags. */
struct nn__section_kind {
    char tag[5];
    int required;
};
static const struct nn__section_kind nn__v1_sections[] = {
    {"LAYR", 1},
    {"PARM", 1},
    {"OPTM", 0},   /* optimizer state: checkpoints only */
};
#define NN__V1_KINDS \
    (sizeof nn__v1_sections / sizeof nn__v1_sections[0])
enum { NN__SEC_LAYR = 0, NN__SEC_PARM = 1, NN__SEC_OPTM = 2 };
/* OPTM payload: u32 kind, u32 reserved, 7 f64 settings, u64 iterations,
   then the state arrays (n_params f32 each; two for Adam). */
#define NN__OPTM_FIXED_BYTES 72u

/*====== CRC-32 ======*/

/* The zlib/PNG CRC-32 (reflected polynomial 0xEDB88320, initial and final
   value 0xFFFFFFFF) is zlib's crc32(), with zlib's convention: crc is the
   running CRC (0 to start), so calls chain over pieces of a buffer.
   crc32() takes a uInt length, so the buffer goes to it in pieces of
   NN__CRC_CHUNK bytes (any size up to UINT_MAX would do; 1 MiB keeps the
   loop exercised by ordinary files and costs nothing measurable). */
uint32_t nn__crc32(uint32_t crc, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    uLong c = crc;
    while (n > 0) {
        uInt k = n > NN__CRC_CHUNK ? (uInt)NN__CRC_CHUNK : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/*====== Encoder ======*/

static size_t nn__layr_bytes(size_t n_layers)
{
    return NN__LAYR_FIXED_BYTES + NN__LAYER_BYTES * n_layers + NN__RNG_BYTES;
}

/* A net's shape was validated when it was made (<= NN_MAX_LAYERS layers,
   <= NN_MAX_PARAMS parameters), so the total is below 1.1 GiB and fits a
   32-bit size_t too. */
static size_t nn__optm_bytes(size_t n_params, int32_t kind)
{
    return NN__OPTM_FIXED_BYTES +
           4 * n_params * (kind == NN_OPT_ADAM ? 2u : 1u);
}

static size_t nn__image_size(const nn_net *net, const nn_optimizer *opt)
{
    size_t size = NN__HEADER_BYTES + NN__SECTION_HEAD_BYTES +
                  nn__layr_bytes(net->n_layers) + NN__SECTION_HEAD_BYTES +
                  4 * net->n_params + NN__CRC_BYTES;
    if (opt != NULL)
        size += NN__SECTION_HEAD_BYTES +
                nn__optm_bytes(net->n_params, nn_optimizer_kind(opt));
    return size;
}

size_t nn__net_image_size(const nn_net *net)
{
    return nn__image_size(net, NULL);
}

static unsigned char *nn__put_section(unsigned char *p, const char *tag,
                                      size_t len)
{
    memcpy(p, tag, 4);
    nn__wr32(p + 4, 0);
    nn__wr64(p + 8, (uint64_t)len);
    return p + NN__SECTION_HEAD_BYTES;
}

static unsigned char *nn__put_floats(unsigned char *p, const float *x,
                                     size_t n)
{
    size_t i;
    for (i = 0; i < n; i++, p += 4) nn__wr32(p, nn__f32_bits(x[i]));
    return p;
}

static void nn__image_write(const nn_net *net, const nn_optimizer *opt,
                            unsigned char *buf)
{
    size_t size = nn__image_size(net, opt), i;
    unsigned char *p = buf;

    memcpy(p, nn__magic, sizeof nn__magic);
    nn__wr32(p + NN__OFF_VERSION, NN__FORMAT_VERSION);
    nn__wr32(p + NN__OFF_BOM, NN__BOM);
    nn__wr64(p + NN__OFF_SIZE, (uint64_t)size);
    nn__wr32(p + NN__OFF_COUNT, opt != NULL ? 3u : 2u);
    nn__wr32(p + NN__OFF_FLAGS, 0);
    p += NN__HEADER_BYTES;

    p = nn__put_section(p, "LAYR", nn__layr_bytes(net->n_layers));
    nn__wr32(p, (uint32_t)net->n_layers);
    nn__wr32(p + 4, (uint32_t)net->layers[0].n_in);
    p += NN__LAYR_FIXED_BYTES;
    for (i = 0; i < net->n_layers; i++, p += NN__LAYER_BYTES) {
        const struct nn__layer *l = &net->layers[i];
        nn__wr32(p, (uint32_t)l->n_out);
        nn__wr32(p + 4, (uint32_t)l->act);
        nn__wr32(p + 8, nn__f32_bits(l->dropout));
        nn__wr32(p + 12, 0);
        nn__wr64(p + 16, nn__f64_bits(l->l1_w));
        nn__wr64(p + 24, nn__f64_bits(l->l2_w));
        nn__wr64(p + 32, nn__f64_bits(l->l1_b));
        nn__wr64(p + 40, nn__f64_bits(l->l2_b));
    }
    for (i = 0; i < 4; i++, p += 8) nn__wr64(p, net->rng.s[i]);

    p = nn__put_section(p, "PARM", 4 * net->n_params);
    for (i = 0; i < net->n_layers; i++) {
        const struct nn__layer *l = &net->layers[i];
        p = nn__put_floats(p, l->w, l->n_in * l->n_out);
        p = nn__put_floats(p, l->b, l->n_out);
    }
    if (opt != NULL) {
        struct nn__opt_state st;
        nn__optimizer_export(opt, &st);
        p = nn__put_section(p, "OPTM", nn__optm_bytes(net->n_params,
                                                      st.kind));
        nn__wr32(p, (uint32_t)st.kind);
        nn__wr32(p + 4, 0);
        for (i = 0; i < NN__OPT_N_SETTINGS; i++)
            nn__wr64(p + 8 + 8 * i, nn__f64_bits(st.set[i]));
        nn__wr64(p + 64, st.iterations);
        p += NN__OPTM_FIXED_BYTES;
        p = nn__put_floats(p, st.s1, net->n_params);
        if (st.s2 != NULL) p = nn__put_floats(p, st.s2, net->n_params);
    }
    nn__wr32(p, nn__crc32(0, buf, size - NN__CRC_BYTES));
}

void nn__net_image_write(const nn_net *net, unsigned char *buf)
{
    nn__image_write(net, NULL, buf);
}

/*====== Decoder ======*/

/* Printable form of a section tag for messages: "LAYR" or hex bytes. */
static void nn__tag_text(const unsigned char *tag, char out[24])
{
    int printable = 1, i;
    for (i = 0; i < 4; i++)
        if (tag[i] < 0x20 || tag[i] > 0x7E || tag[i] == '"') printable = 0;
    if (printable)
        snprintf(out, 24, "\"%c%c%c%c\"", tag[0], tag[1], tag[2], tag[3]);
    else
        snprintf(out, 24, "%02X %02X %02X %02X", tag[0], tag[1], tag[2],
                 tag[3]);
}

/* Magic, version, byte-order mark and declared size: everything the first
   32 bytes can decide, so nn_net_load can refuse a foreign file before
   allocating for it.  size is the actual size of the whole input. */
static int nn__check_header(const unsigned char *h, uint64_t size,
                            const char *fn)
{
    uint32_t version, bom;
    uint64_t declared;

    NN__CHECK(size == 0, NN_ERR_FORMAT, "%s: the input is empty (0 bytes)",
              fn);
    NN__CHECK(size < NN__HEADER_BYTES + NN__CRC_BYTES, NN_ERR_FORMAT,
              "%s: truncated: %llu bytes is shorter than the %u-byte header "
              "and the CRC", fn, (unsigned long long)size,
              NN__HEADER_BYTES + NN__CRC_BYTES);
    NN__CHECK(memcmp(h, nn__magic, sizeof nn__magic) != 0, NN_ERR_FORMAT,
              "%s: not a libnnfs model: magic at offset 0 is %02X %02X %02X "
              "%02X %02X %02X %02X %02X, expected 89 4E 4E 46 0D 0A 1A 0A",
              fn, h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
    version = nn__rd32(h + NN__OFF_VERSION);
    NN__CHECK(version != NN__FORMAT_VERSION, NN_ERR_FORMAT,
              "%s: format version at offset %u is %lu; this library reads "
              "version %u", fn, NN__OFF_VERSION, (unsigned long)version,
              NN__FORMAT_VERSION);
    bom = nn__rd32(h + NN__OFF_BOM);
    NN__CHECK(bom != NN__BOM, NN_ERR_FORMAT,
              "%s: byte-order mark at offset %u is 0x%08lX, expected "
              "0x%08X (bytes 04 03 02 01)", fn, NN__OFF_BOM,
              (unsigned long)bom, NN__BOM);
    declared = nn__rd64(h + NN__OFF_SIZE);
    NN__CHECK(declared > NN__MAX_FILE_BYTES, NN_ERR_FORMAT,
              "%s: declared size at offset %u is %llu, over the limit of "
              "%llu bytes", fn, NN__OFF_SIZE, (unsigned long long)declared,
              (unsigned long long)NN__MAX_FILE_BYTES);
    NN__CHECK(declared != size, NN_ERR_FORMAT,
              "%s: declared size at offset %u is %llu but the input has "
              "%llu bytes (%s)", fn, NN__OFF_SIZE,
              (unsigned long long)declared, (unsigned long long)size,
              declared > size ? "truncated" : "trailing data");
    return NN_OK;
}

struct nn__span {
    size_t off;   /* of the section's payload */
    size_t len;
};

/* Walk the section headers: every tag known and in order, reserved words
   zero, every length inside the input, and the last section ending
   exactly at the CRC.  Fills span[kind] for each section present. */
static int nn__find_sections(const unsigned char *buf, size_t size,
                             struct nn__span *span, const char *fn)
{
    const struct nn__section_kind *kinds = nn__v1_sections;
    size_t n_kinds = NN__V1_KINDS, n_required = 0, next = 0, i, j;
    size_t p = NN__HEADER_BYTES, end = size - NN__CRC_BYTES;
    uint32_t count = nn__rd32(buf + NN__OFF_COUNT);
    uint32_t flags = nn__rd32(buf + NN__OFF_FLAGS);
    char tt[24];

    for (j = 0; j < n_kinds; j++) n_required += (size_t)kinds[j].required;
    NN__CHECK(flags != 0, NN_ERR_FORMAT,
              "%s: flags at offset %u are 0x%08lX; version %u defines none "
              "(must be 0)", fn, NN__OFF_FLAGS, (unsigned long)flags,
              NN__FORMAT_VERSION);
    NN__CHECK(count < n_required || count > n_kinds, NN_ERR_FORMAT,
              "%s: section count at offset %u is %lu, expected %zu to %zu",
              fn, NN__OFF_COUNT, (unsigned long)count, n_required, n_kinds);

    for (i = 0; i < count; i++) {
        const unsigned char *h = buf + p;
        uint32_t reserved;
        uint64_t len;

        NN__CHECK(end - p < NN__SECTION_HEAD_BYTES, NN_ERR_FORMAT,
                  "%s: truncated: section %zu header at offset %zu needs "
                  "%u bytes, %zu remain before the CRC", fn, i, p,
                  NN__SECTION_HEAD_BYTES, end - p);
        nn__tag_text(h, tt);
        /* the next kind at or after `next` with this tag; skipping past a
           required kind means the required one is missing */
        for (j = next; j < n_kinds; j++)
            if (memcmp(h, kinds[j].tag, 4) == 0 || kinds[j].required) break;
        if (j == n_kinds || memcmp(h, kinds[j].tag, 4) != 0) {
            size_t k;
            for (k = 0; k < n_kinds; k++)
                if (memcmp(h, kinds[k].tag, 4) == 0) break;
            if (k < next)
                return nn__fail(NN_ERR_FORMAT, "%s: section %zu at offset "
                                "%zu is %s again or out of order", fn, i, p,
                                tt);
            if (k == n_kinds)
                return nn__fail(NN_ERR_FORMAT, "%s: section %zu at offset "
                                "%zu has unknown tag %s", fn, i, p, tt);
            /* k is a later kind, so the scan stopped at a required kind
               before it: j < n_kinds */
            return nn__fail(NN_ERR_FORMAT, "%s: section %zu at offset %zu "
                            "is %s, expected \"%s\" before it", fn, i, p,
                            tt, kinds[j < n_kinds ? j : 0].tag);
        }
        reserved = nn__rd32(h + 4);
        NN__CHECK(reserved != 0, NN_ERR_FORMAT,
                  "%s: section %s reserved word at offset %zu is 0x%08lX "
                  "(must be 0)", fn, tt, p + 4, (unsigned long)reserved);
        len = nn__rd64(h + 8);
        NN__CHECK(len > end - p - NN__SECTION_HEAD_BYTES, NN_ERR_FORMAT,
                  "%s: section %s length at offset %zu is %llu, but only "
                  "%zu bytes remain before the CRC", fn, tt, p + 8,
                  (unsigned long long)len,
                  end - p - NN__SECTION_HEAD_BYTES);
        span[j].off = p + NN__SECTION_HEAD_BYTES;
        span[j].len = (size_t)len;
        p += NN__SECTION_HEAD_BYTES + (size_t)len;
        next = j + 1;
    }
    for (j = next; j < n_kinds; j++)
        NN__CHECK(kinds[j].required, NN_ERR_FORMAT,
                  "%s: required section \"%s\" is missing (%lu sections "
                  "declared)", fn, kinds[j].tag, (unsigned long)count);
    NN__CHECK(p != end, NN_ERR_FORMAT,
              "%s: %zu bytes of trailing data at offset %zu between the "
              "last section and the CRC", fn, end - p, p);
    return NN_OK;
}

/* The shape the layer table describes, validated. */
struct nn__shape {
    size_t n_layers;
    size_t n_params;
    size_t sizes[NN_MAX_LAYERS + 1];
    int32_t acts[NN_MAX_LAYERS];
};

static int nn__check_width(uint32_t w, size_t off, const char *what,
                           size_t layer, const char *fn)
{
    NN__CHECK(w == 0 || w > NN_MAX_WIDTH, NN_ERR_FORMAT,
              "%s: LAYR %s of layer %zu at offset %zu is %lu, outside "
              "[1, %u]", fn, what, layer, off, (unsigned long)w,
              NN_MAX_WIDTH);
    return NN_OK;
}

static int nn__check_coef(const unsigned char *p, size_t off,
                          const char *what, size_t layer, const char *fn)
{
    double v = nn__bits_f64(nn__rd64(p));
    NN__CHECK(!(isfinite(v) && v >= 0.0), NN_ERR_FORMAT,
              "%s: LAYR %s of layer %zu at offset %zu is %g (must be finite "
              "and >= 0)", fn, what, layer, off, v);
    return NN_OK;
}

/* ---- one row of the LAYR table: layer i of n at q */
static int nn__parse_layr_row(const unsigned char *buf,
                              const unsigned char *q, size_t i, size_t n,
                              struct nn__shape *shape, const char *fn)
{
    static const char *const coef[4] = {"l1_w", "l2_w", "l1_b", "l2_b"};
    size_t off = (size_t)(q - buf);
    uint32_t act = nn__rd32(q + 4), res = nn__rd32(q + 12);
    float rate = nn__bits_f32(nn__rd32(q + 8));
    int k;

    NN__FORWARD(nn__check_width(nn__rd32(q), off, "n_out", i, fn));
    /* read as unsigned: a negative int32 is a huge value here */
    NN__CHECK(act >= (uint32_t)NN__N_ACT, NN_ERR_FORMAT,
              "%s: LAYR activation of layer %zu at offset %zu is %ld, "
              "not an NN_ACT_* value", fn, i, off + 4, (long)(int32_t)act);
    /* written so that NaN fails too */
    NN__CHECK(!(rate >= 0.0f && rate < 1.0f), NN_ERR_FORMAT,
              "%s: LAYR dropout of layer %zu at offset %zu is %g, "
              "outside [0, 1)", fn, i, off + 8, (double)rate);
    /* as nn_net_set_layer_option: the output layer never drops */
    NN__CHECK(i + 1 == n && rate > 0.0f, NN_ERR_FORMAT,
              "%s: LAYR dropout of layer %zu (the output layer) at "
              "offset %zu is %g; only hidden layers may drop", fn, i,
              off + 8, (double)rate);
    NN__CHECK(res != 0, NN_ERR_FORMAT,
              "%s: LAYR reserved word of layer %zu at offset %zu is "
              "0x%08lX (must be 0)", fn, i, off + 12, (unsigned long)res);
    for (k = 0; k < 4; k++) {
        size_t at = 16 + 8 * (size_t)k;
        NN__FORWARD(nn__check_coef(q + at, off + at, coef[k], i, fn));
    }
    shape->sizes[i + 1] = nn__rd32(q);
    shape->acts[i] = (int32_t)act;
    return NN_OK;
}

/* ---- the parameter limit, through the same check nn_net_create uses
   so the two can never disagree (its message is kept after ours), then
   the parameter count */
static int nn__parse_layr_limits(struct nn__span s, struct nn__shape *shape,
                                 const char *fn)
{
    size_t i, n = shape->n_layers, total = 0;

    if (nn__net_check_shape(n, shape->sizes, shape->acts, fn) != NN_OK)
        return nn__fail_wrap(NN_ERR_FORMAT, fn, "%s: LAYR layer table at "
                             "offset %zu: ", fn, s.off);
    for (i = 0; i < n; i++) {
        size_t w;
        if (!nn__mul_ok(shape->sizes[i], shape->sizes[i + 1], &w) ||
            !nn__add_ok(total, w, &total) ||
            !nn__add_ok(total, shape->sizes[i + 1], &total))
            return nn__fail(NN_ERR_FORMAT, "%s: LAYR parameter count "
                            "overflows at layer %zu", fn, i);
    }
    shape->n_params = total;
    return NN_OK;
}

static int nn__parse_layr(const unsigned char *buf, struct nn__span s,
                          struct nn__shape *shape, const char *fn)
{
    const unsigned char *p = buf + s.off;
    size_t n, i;
    uint32_t v;

    NN__CHECK(s.len < NN__LAYR_FIXED_BYTES, NN_ERR_FORMAT,
              "%s: LAYR length at offset %zu is %zu, shorter than its "
              "%u-byte counts", fn, s.off - 8, s.len, NN__LAYR_FIXED_BYTES);
    v = nn__rd32(p);
    NN__CHECK(v == 0 || v > NN_MAX_LAYERS, NN_ERR_FORMAT,
              "%s: LAYR n_layers at offset %zu is %lu, outside [1, %u]", fn,
              s.off, (unsigned long)v, NN_MAX_LAYERS);
    n = v;
    NN__CHECK(s.len != nn__layr_bytes(n), NN_ERR_FORMAT,
              "%s: LAYR length at offset %zu is %zu, expected %zu for %zu "
              "layers", fn, s.off - 8, s.len, nn__layr_bytes(n), n);
    NN__FORWARD(nn__check_width(nn__rd32(p + 4), s.off + 4, "n_inputs", 0,
                                fn));
    shape->n_layers = n;
    shape->sizes[0] = nn__rd32(p + 4);
    for (i = 0; i < n; i++)
        NN__FORWARD(nn__parse_layr_row(buf, p + NN__LAYR_FIXED_BYTES +
                                                NN__LAYER_BYTES * i,
                                       i, n, shape, fn));
    return nn__parse_layr_limits(s, shape, fn);
}

/* Index of the first of n floats at p that is NaN or infinite, n if none.
   Blocks are scanned branch-free (so the loop vectorizes); only a block
   holding a bad value is searched again to find it. */
static size_t nn__find_nonfinite(const unsigned char *p, size_t n)
{
    size_t i0, i;
    for (i0 = 0; i0 < n; i0 += 1024) {
        size_t m = n - i0 < 1024 ? n - i0 : 1024;
        uint32_t bad = 0;
        for (i = 0; i < m; i++)
            bad |= (uint32_t)((nn__rd32(p + 4 * (i0 + i)) & 0x7F800000u) ==
                              0x7F800000u);
        if (bad == 0) continue;
        for (i = i0; i < i0 + m; i++)
            if ((nn__rd32(p + 4 * i) & 0x7F800000u) == 0x7F800000u) return i;
    }
    return n;
}

static int nn__check_parm(const unsigned char *buf, struct nn__span s,
                          const struct nn__shape *shape, const char *fn)
{
    size_t expect, i, off = s.off;

    NN__CHECK(!nn__mul_ok(shape->n_params, 4, &expect) || s.len != expect,
              NN_ERR_FORMAT, "%s: PARM length at offset %zu is %zu, "
              "expected %zu (4 bytes x %zu parameters)", fn, s.off - 8,
              s.len, shape->n_params * 4, shape->n_params);
    for (i = 0; i < shape->n_layers; i++) {
        size_t n[2], j, bad;
        n[0] = shape->sizes[i] * shape->sizes[i + 1];   /* W, then b */
        n[1] = shape->sizes[i + 1];
        for (j = 0; j < 2; j++) {
            bad = nn__find_nonfinite(buf + off, n[j]);
            if (bad < n[j]) {
                uint32_t u = nn__rd32(buf + off + 4 * bad);
                return nn__fail(NN_ERR_FORMAT, "%s: PARM %s[%zu] of layer "
                                "%zu at offset %zu is %s (bits 0x%08lX)",
                                fn, j == 0 ? "weights" : "biases", bad, i,
                                off + 4 * bad,
                                (u & 0x007FFFFFu) ? "NaN" : "infinite",
                                (unsigned long)u);
            }
            off += 4 * n[j];
        }
    }
    return NN_OK;
}

static void nn__get_floats(float *x, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++, p += 4) x[i] = nn__bits_f32(nn__rd32(p));
}

/* The OPTM section, validated without allocating: lengths, kind,
   settings, finite state, non-negative squared-gradient caches. */
static int nn__check_optm(const unsigned char *buf, struct nn__span s,
                          size_t n_params, struct nn__opt_state *st,
                          const char *fn)
{
    const unsigned char *p = buf + s.off;
    size_t i, want, bad;
    uint32_t reserved;

    NN__CHECK(s.len < NN__OPTM_FIXED_BYTES, NN_ERR_FORMAT,
              "%s: section \"OPTM\" is %zu bytes, less than its %u fixed "
              "bytes", fn, s.len, NN__OPTM_FIXED_BYTES);
    memset(st, 0, sizeof *st);
    st->kind = (int32_t)nn__rd32(p);
    reserved = nn__rd32(p + 4);
    NN__CHECK(reserved != 0, NN_ERR_FORMAT, "%s: OPTM reserved word at "
              "offset %zu is 0x%08lX (must be 0)", fn, s.off + 4,
              (unsigned long)reserved);
    for (i = 0; i < NN__OPT_N_SETTINGS; i++)
        st->set[i] = nn__bits_f64(nn__rd64(p + 8 + 8 * i));
    st->iterations = nn__rd64(p + 64);
    NN__FORWARD(nn__optimizer_check(st, fn));
    want = nn__optm_bytes(n_params, st->kind);
    NN__CHECK(s.len != want, NN_ERR_FORMAT, "%s: section \"OPTM\" is %zu "
              "bytes; %zu parameters of optimizer kind %d need %zu", fn,
              s.len, n_params, (int)st->kind, want);
    p += NN__OPTM_FIXED_BYTES;
    bad = nn__find_nonfinite(p, (want - NN__OPTM_FIXED_BYTES) / 4);
    NN__CHECK(bad != (want - NN__OPTM_FIXED_BYTES) / 4, NN_ERR_FORMAT, "%s: optimizer state value "
              "%zu at offset %zu is not finite", fn, bad,
              s.off + NN__OPTM_FIXED_BYTES + 4 * bad);
    /* Adagrad and RMSprop caches and Adam's second moment are sums of
       squares: a negative one would make sqrt produce NaN */
    if (st->kind != NN_OPT_SGD) {
        const unsigned char *c = st->kind == NN_OPT_ADAM ? p + 4 * n_params
                                                         : p;
        for (i = 0; i < n_params; i++) {
            float v = nn__bits_f32(nn__rd32(c + 4 * i));
            NN__CHECK(v < 0, NN_ERR_FORMAT, "%s: optimizer cache value %zu "
                      "is negative (%g)", fn, i, (double)v);
        }
    }
    return NN_OK;
}

/* ---- check a whole image (header, CRC, sections, layers, parameters,
   optimizer state) before anything is allocated */
static int nn__parse_check(const unsigned char *buf, size_t size,
                           struct nn__span *span, struct nn__shape *shape,
                           struct nn__opt_state *ost, const char *fn)
{
    memset(shape, 0, sizeof *shape);
    NN__FORWARD(nn__check_header(buf, (uint64_t)size, fn));

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    /* Early, so plain corruption gets the plainest message; the fuzz build
       skips it so mutated inputs reach every structural check below. */
    {
        uint32_t stored = nn__rd32(buf + size - NN__CRC_BYTES);
        uint32_t crc = nn__crc32(0, buf, size - NN__CRC_BYTES);
        NN__CHECK(stored != crc, NN_ERR_FORMAT,
                  "%s: CRC-32 at offset %zu is 0x%08lX, computed 0x%08lX "
                  "(corrupt or truncated)", fn, size - NN__CRC_BYTES,
                  (unsigned long)stored, (unsigned long)crc);
    }
#endif

    memset(span, 0, NN__V1_KINDS * sizeof *span);
    NN__FORWARD(nn__find_sections(buf, size, span, fn));
    NN__FORWARD(nn__parse_layr(buf, span[NN__SEC_LAYR], shape, fn));
    NN__FORWARD(nn__check_parm(buf, span[NN__SEC_PARM], shape, fn));
    if (span[NN__SEC_OPTM].off != 0)
        NN__FORWARD(nn__check_optm(buf, span[NN__SEC_OPTM],
                                   shape->n_params, ost, fn));
    return NN_OK;
}

/* ---- a checked image's layer options, rng state and parameters into
   a net allocated for its shape */
static void nn__parse_fill(nn_net *net, const unsigned char *buf,
                           const struct nn__span *span)
{
    const unsigned char *p;
    size_t i, k;

    p = buf + span[NN__SEC_LAYR].off + NN__LAYR_FIXED_BYTES;
    for (i = 0; i < net->n_layers; i++, p += NN__LAYER_BYTES) {
        struct nn__layer *l = &net->layers[i];
        l->dropout = nn__bits_f32(nn__rd32(p + 8));
        l->l1_w = nn__bits_f64(nn__rd64(p + 16));
        l->l2_w = nn__bits_f64(nn__rd64(p + 24));
        l->l1_b = nn__bits_f64(nn__rd64(p + 32));
        l->l2_b = nn__bits_f64(nn__rd64(p + 40));
    }
    for (k = 0; k < 4; k++, p += 8) net->rng.s[k] = nn__rd64(p);

    p = buf + span[NN__SEC_PARM].off;
    for (i = 0; i < net->n_layers; i++) {
        struct nn__layer *l = &net->layers[i];
        nn__get_floats(l->w, p, l->n_in * l->n_out);
        p += 4 * l->n_in * l->n_out;
        nn__get_floats(l->b, p, l->n_out);
        p += 4 * l->n_out;
    }
    nn__net_refresh_pmax(net);
}

/* ---- the optimizer of a checked OPTM section, for net */
static int nn__parse_optm(nn_optimizer **opt_out, nn_net *net,
                          const unsigned char *buf, struct nn__span s,
                          const struct nn__opt_state *ost, const char *fn)
{
    const unsigned char *p = buf + s.off + NN__OPTM_FIXED_BYTES;
    float *s1, *s2;
    nn_optimizer *opt;

    NN__FORWARD(nn__optimizer_import(&opt, net, ost, fn));
    nn__optimizer_arrays(opt, &s1, &s2);
    nn__get_floats(s1, p, net->n_params);
    if (s2 != NULL) nn__get_floats(s2, p + 4 * net->n_params,
                                   net->n_params);
    nn__optimizer_refresh_bounds(opt);
    *opt_out = opt;
    return NN_OK;
}

static int nn__parse(nn_net **out, nn_optimizer **opt_out,
                     const unsigned char *buf, size_t size, const char *fn)
{
    struct nn__opt_state ost;
    struct nn__span span[NN__V1_KINDS];
    struct nn__shape shape;
    nn_net *net;
    int st;

    memset(&ost, 0, sizeof ost);
    if (opt_out != NULL) *opt_out = NULL;
    *out = NULL;
    NN__FORWARD(nn__parse_check(buf, size, span, &shape, &ost, fn));

    /* Valid: only now allocate (params and grads are 4 * n_params bytes
       each, no more than the input). */
    NN__FORWARD(nn__net_alloc(&net, shape.n_layers, shape.sizes, shape.acts,
                              fn));
    nn__parse_fill(net, buf, span);
    if (opt_out != NULL && span[NN__SEC_OPTM].off != 0) {
        st = nn__parse_optm(opt_out, net, buf, span[NN__SEC_OPTM], &ost, fn);
        if (st != NN_OK) {
            nn_net_destroy(net);
            return st;
        }
    }
    *out = net;
    return NN_OK;
}

int nn__net_parse(nn_net **out, const unsigned char *buf, size_t size,
                  const char *fn)
{
    return nn__parse(out, NULL, buf, size, fn);
}

/*====== Buffer entry points ======*/

static int nn__check_pair(const nn_net *net, const nn_optimizer *opt,
                          const char *fn)
{
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK_HANDLE(opt, NN__TAG_OPTIMIZER, "opt", fn);
    NN__CHECK(opt != NULL && nn__optimizer_net(opt) != net,
              NN_ERR_INVALID_ARG, "%s: opt was created for another net", fn);
    return NN_OK;
}

static int nn__save_buffer(const nn_net *net, const nn_optimizer *opt,
                           void *buf, size_t capacity, size_t *size_out,
                           const char *fn)
{
    size_t size;
    NN__FORWARD(nn__check_pair(net, opt, fn));
    NN__CHECK(size_out == NULL, NN_ERR_INVALID_ARG, "%s: size_out is NULL",
              fn);
    size = nn__image_size(net, opt);
    *size_out = size;
    if (buf == NULL) return NN_OK;
    NN__CHECK(capacity < size, NN_ERR_SHAPE,
              "%s: capacity = %zu is smaller than the %zu bytes the model "
              "needs", fn, capacity, size);
    nn__image_write(net, opt, buf);
    return NN_OK;
}

int nn_net_save_buffer(const nn_net *net, void *buf, size_t capacity,
                       size_t *size_out)
{
    return nn__save_buffer(net, NULL, buf, capacity, size_out,
                           "nn_net_save_buffer");
}

int nn_checkpoint_save_buffer(const nn_net *net, const nn_optimizer *opt,
                              void *buf, size_t capacity, size_t *size_out)
{
    return nn__save_buffer(net, opt, buf, capacity, size_out,
                           "nn_checkpoint_save_buffer");
}

int nn_net_load_buffer(nn_net **out, const void *buf, size_t size)
{
    static const char fn[] = "nn_net_load_buffer";
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    NN__CHECK(buf == NULL, NN_ERR_INVALID_ARG, "%s: buf is NULL", fn);
    return nn__net_parse(out, buf, size, fn);
}

int nn_checkpoint_load_buffer(nn_net **net_out, nn_optimizer **opt_out,
                              const void *buf, size_t size)
{
    static const char fn[] = "nn_checkpoint_load_buffer";
    NN__CHECK(net_out == NULL, NN_ERR_INVALID_ARG, "%s: net_out is NULL",
              fn);
    *net_out = NULL;
    NN__CHECK(opt_out == NULL, NN_ERR_INVALID_ARG, "%s: opt_out is NULL",
              fn);
    *opt_out = NULL;
    NN__CHECK(buf == NULL, NN_ERR_INVALID_ARG, "%s: buf is NULL", fn);
    return nn__parse(net_out, opt_out, buf, size, fn);
}

/*====== Operating-system calls ======*/

static int nn__sys_open(int dirfd, const char *path, int flags,
                        unsigned mode)
{
    return openat(dirfd, path, flags, (mode_t)mode);
}

static long nn__sys_read(int fd, void *buf, size_t n)
{
    return (long)read(fd, buf, n);
}

static long nn__sys_write(int fd, const void *buf, size_t n)
{
    return (long)write(fd, buf, n);
}

static int nn__sys_fsync(int fd) { return fsync(fd); }
static int nn__sys_close(int fd) { return close(fd); }

static int nn__sys_rename(int dirfd, const char *from, const char *to)
{
    return renameat(dirfd, from, dirfd, to);
}

static int nn__sys_unlink(int dirfd, const char *path)
{
    return unlinkat(dirfd, path, 0);
}

static int nn__sys_lstat_mode(int dirfd, const char *path, unsigned *mode)
{
    struct stat st;
    if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) return -1;
    *mode = (unsigned)st.st_mode;
    return 0;
}

static int nn__sys_fstat_size(int fd, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0) {
        /* a FIFO or device has no size to check the model against */
        errno = EINVAL;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

#define NN__IO_DEFAULT                                                    \
    {                                                                     \
        nn__sys_open, nn__sys_read, nn__sys_write, nn__sys_fsync,         \
            nn__sys_close, nn__sys_rename, nn__sys_unlink,                \
            nn__sys_fstat_size, nn__sys_lstat_mode                        \
    }
const struct nn__io nn__io_default = NN__IO_DEFAULT;
struct nn__io nn__io = NN__IO_DEFAULT;

/* strerror_r into a caller buffer: strerror itself need not be thread-
   safe.  The XSI variant is the one _POSIX_C_SOURCE selects; the GNU one
   returns its text instead. */
static const char *nn__errtext(int e, char *buf, size_t n)
{
#if defined(_GNU_SOURCE) && defined(__GLIBC__)
    return strerror_r(e, buf, n);
#else
    if (strerror_r(e, buf, n) != 0) snprintf(buf, n, "errno %d", e);
    return buf;
#endif
}

/* Requests are capped so the byte count always fits the table's long
   return and Linux's 0x7ffff000-byte single-transfer limit. */
#define NN__IO_CHUNK ((size_t)1 << 30)

/* Read up to n bytes, retrying EINTR and short reads; stops early only at
   end of file (*got < n).  Returns 0, or -1 with errno set. */
static int nn__read_full(int fd, unsigned char *buf, size_t n, size_t *got)
{
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < NN__IO_CHUNK ? n - done : NN__IO_CHUNK;
        long r = nn__io.read(fd, buf + done, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            *got = done;
            return -1;
        }
        if (r == 0) break;
        if ((unsigned long)r > want) {   /* a broken read: never trust it */
            errno = EIO;
            *got = done;
            return -1;
        }
        done += (size_t)r;
    }
    *got = done;
    return 0;
}

/* Write all n bytes, retrying EINTR and short writes.  0 or -1/errno. */
static int nn__write_full(int fd, const unsigned char *buf, size_t n)
{
    size_t done = 0;
    while (done < n) {
        size_t want = n - done < NN__IO_CHUNK ? n - done : NN__IO_CHUNK;
        long r = nn__io.write(fd, buf + done, want);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0 || (unsigned long)r > want) {
            /* no progress would loop forever; treat as a full disk */
            errno = r == 0 ? ENOSPC : EIO;
            return -1;
        }
        done += (size_t)r;
    }
    return 0;
}

static int nn__openat_retry(int dirfd, const char *path, int flags,
                            unsigned mode)
{
    int fd;
    do fd = nn__io.open(dirfd, path, flags, mode);
    while (fd < 0 && errno == EINTR);
    return fd;
}

/* O_NOCTTY on every open by path: a load pointed at a terminal is
   refused after the open (not a regular file), but the open itself would
   make that terminal the controlling one of a session leader without one
   (a daemon), with its hangups and job-control signals. */
static int nn__open_retry(const char *path, int flags, unsigned mode)
{
    return nn__openat_retry(AT_FDCWD, path, flags | O_NOCTTY, mode);
}

static int nn__fsync_retry(int fd)
{
    int r;
    do r = nn__io.fsync(fd);
    while (r != 0 && errno == EINTR);
    return r;
}

/* close is never retried: on Linux the descriptor is gone even when close
   reports EINTR, and a retry could close another thread's new file.
   EINTR is therefore success; any other error is reported. */
static int nn__close_checked(int fd)
{
    if (nn__io.close(fd) == 0 || errno == EINTR) return 0;
    return -1;
}

/*====== nn_net_load ======*/

/* The failures of a model file's read: a system call's (errno read
   first), a file that shrank or grew while being read. */
static int nn__load_sys(const char *what, const char *path, const char *fn)
{
    char et[128];
    int e = errno;
    return nn__fail(NN_ERR_IO, "%s: %s of \"%s\" failed: %s", fn, what,
                    path, nn__errtext(e, et, sizeof et));
}

static int nn__load_shrank(const char *path, size_t got, size_t size,
                           const char *fn)
{
    return nn__fail(NN_ERR_FORMAT, "%s: truncated: \"%s\" ended after %zu "
                    "bytes while being read, fstat said %zu", fn, path, got,
                    size);
}

static int nn__load_grew(const char *path, size_t size, const char *fn)
{
    return nn__fail(NN_ERR_FORMAT, "%s: \"%s\" holds more than the %zu "
                    "bytes fstat reported (written to while being read?)",
                    fn, path, size);
}

/* ---- fd's size by fstat (a regular file), within the model limit */
static int nn__load_size(int fd, const char *path, size_t *size_out,
                         const char *fn)
{
    uint64_t size64 = 0;
    int r;
    do r = nn__io.fstat_size(fd, &size64);
    while (r != 0 && errno == EINTR);
    if (r != 0) return nn__load_sys("fstat (or not a regular file)", path, fn);
    NN__CHECK(size64 > NN__MAX_FILE_BYTES || size64 > SIZE_MAX,
              NN_ERR_FORMAT, "%s: \"%s\" is %llu bytes, over the limit of "
              "%llu for a model file", fn, path, (unsigned long long)size64,
              (unsigned long long)NN__MAX_FILE_BYTES);
    *size_out = (size_t)size64;
    return NN_OK;
}

/* ---- the end: one more byte must hit end of file (the file did not
   grow after fstat: a concurrent writer, or the image would be cut
   short), then fd is closed and the close checked; *fd is -1 once
   closed */
static int nn__load_finish(int *fd, const char *path, size_t size,
                           const char *fn)
{
    unsigned char probe;
    size_t got;
    if (nn__read_full(*fd, &probe, 1, &got) != 0)
        return nn__load_sys("read", path, fn);
    if (got != 0) return nn__load_grew(path, size, fn);
    if (nn__close_checked(*fd) != 0) {
        *fd = -1;
        return nn__load_sys("close", path, fn);
    }
    *fd = -1;
    return NN_OK;
}

/* ---- the header first: a foreign or mislabeled file is refused
   before the whole of it is allocated and read.  A file too small to be
   a model is read whole into head and closed (*fd = -1): the parser
   says why. */
static int nn__load_head(int *fd, unsigned char *head, size_t head_size,
                         size_t size, const char *path, const char *fn)
{
    size_t hn = size < head_size ? size : head_size, got;
    if (nn__read_full(*fd, head, hn, &got) != 0)
        return nn__load_sys("read", path, fn);
    if (got < hn) return nn__load_shrank(path, got, size, fn);
    if (size < head_size) return nn__load_finish(fd, path, size, fn);
    return nn__check_header(head, (uint64_t)size, fn);
}

/* ---- the rest of the file after its head_size bytes, into buf */
static int nn__load_body(int fd, unsigned char *buf, size_t head_size,
                         size_t size, const char *path, const char *fn)
{
    size_t got;
    if (nn__read_full(fd, buf + head_size, size - head_size, &got) != 0)
        return nn__load_sys("read", path, fn);
    if (got < size - head_size)
        return nn__load_shrank(path, got + head_size, size, fn);
    return NN_OK;
}

static int nn__load(nn_net **out, nn_optimizer **opt_out, const char *path,
                    const char *fn)
{
    unsigned char head[NN__HEADER_BYTES + NN__CRC_BYTES];
    unsigned char *buf = NULL;
    size_t size = 0;
    int fd, st, e;
    char et[128];

    NN__CHECK(path == NULL, NN_ERR_INVALID_ARG, "%s: path is NULL", fn);

    /* O_NONBLOCK: a FIFO at path must not hang the caller; fstat_size
       rejects it right after.  It changes nothing for regular files. */
    fd = nn__open_retry(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0) {
        e = errno;
        return nn__fail(NN_ERR_IO, "%s: cannot open \"%s\": %s", fn, path,
                        nn__errtext(e, et, sizeof et));
    }
    st = nn__load_size(fd, path, &size, fn);
    if (st != NN_OK) goto fail;
    st = nn__load_head(&fd, head, sizeof head, size, path, fn);
    if (st != NN_OK) goto fail;
    if (fd < 0) return nn__parse(out, opt_out, head, size, fn);

    buf = nn__malloc(size);
    if (buf == NULL) {
        st = nn__fail(NN_ERR_NOMEM, "%s: out of memory reading the %zu "
                      "bytes of \"%s\"", fn, size, path);
        goto fail;
    }
    memcpy(buf, head, sizeof head);
    st = nn__load_body(fd, buf, sizeof head, size, path, fn);
    if (st != NN_OK) goto fail;
    st = nn__load_finish(&fd, path, size, fn);
    if (st != NN_OK) goto fail;
    st = nn__parse(out, opt_out, buf, size, fn);
    nn__free(buf);
    return st;

fail:
    if (fd >= 0) (void)nn__io.close(fd);
    nn__free(buf);
    return st;
}

/*====== Whole-file reader for other formats (idx.c) ======*/

int nn__read_file(const char *path, uint64_t max_bytes, unsigned char **buf_out,
                  size_t *size_out, const char *fn)
{
    unsigned char *buf = NULL, probe;
    uint64_t size64 = 0;
    size_t size, got;
    int fd, e, r;
    const char *what;
    char et[128];

    *buf_out = NULL;
    *size_out = 0;
    fd = nn__open_retry(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0);
    if (fd < 0) {
        e = errno;
        return nn__fail(NN_ERR_IO, "%s: cannot open \"%s\": %s", fn, path,
                        nn__errtext(e, et, sizeof et));
    }
    do r = nn__io.fstat_size(fd, &size64);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        what = "fstat (or not a regular file)";
        goto sys_fail;
    }
    if (size64 > max_bytes || size64 > SIZE_MAX - 1) {
        (void)nn__io.close(fd);
        return nn__fail(NN_ERR_FORMAT, "%s: \"%s\" is %llu bytes, over the "
                        "limit of %llu", fn, path, (unsigned long long)size64,
                        (unsigned long long)max_bytes);
    }
    size = (size_t)size64;
    buf = nn__malloc(size);
    if (buf == NULL) {
        (void)nn__io.close(fd);
        return nn__fail(NN_ERR_NOMEM, "%s: out of memory reading the %zu "
                        "bytes of \"%s\"", fn, size, path);
    }
    if (nn__read_full(fd, buf, size, &got) != 0) {
        what = "read";
        goto sys_fail;
    }
    if (got < size) {
        (void)nn__io.close(fd);
        nn__free(buf);
        return nn__fail(NN_ERR_FORMAT, "%s: truncated: \"%s\" ended after "
                        "%zu bytes while being read, fstat said %zu", fn,
                        path, got, size);
    }
    if (nn__read_full(fd, &probe, 1, &got) != 0) {
        what = "read";
        goto sys_fail;
    }
    if (got != 0) {
        (void)nn__io.close(fd);
        nn__free(buf);
        return nn__fail(NN_ERR_FORMAT, "%s: \"%s\" holds more than the %zu "
                        "bytes fstat reported (written to while being "
                        "read?)", fn, path, size);
    }
    if (nn__close_checked(fd) != 0) {
        fd = -1;
        what = "close";
        goto sys_fail;
    }
    *buf_out = buf;
    *size_out = size;
    return NN_OK;

sys_fail:
    e = errno;
    if (fd >= 0) (void)nn__io.close(fd);
    nn__free(buf);
    return nn__fail(NN_ERR_IO, "%s: %s of \"%s\" failed: %s", fn, what,
                    path, nn__errtext(e, et, sizeof et));
}

int nn_net_load(nn_net **out, const char *path)
{
    static const char fn[] = "nn_net_load";
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    return nn__load(out, NULL, path, fn);
}

int nn_checkpoint_load(nn_net **net_out, nn_optimizer **opt_out,
                       const char *path)
{
    static const char fn[] = "nn_checkpoint_load";
    NN__CHECK(net_out == NULL, NN_ERR_INVALID_ARG, "%s: net_out is NULL",
              fn);
    *net_out = NULL;
    NN__CHECK(opt_out == NULL, NN_ERR_INVALID_ARG, "%s: opt_out is NULL",
              fn);
    *opt_out = NULL;
    return nn__load(net_out, opt_out, path, fn);
}

/*====== nn_net_save ======*/

static uint64_t nn__mix64(uint64_t z)
{
    /* splitmix64's finalizer: every input bit reaches every output bit */
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static atomic_ulong nn__tmp_counter;

/* A fresh suffix for the temporary name.  Not rand(): that would disturb
   the caller's own sequence.  Collisions are harmless anyway (O_EXCL and
   a retry); the mix only makes them unlikely between processes and
   threads saving next to each other. */
static uint64_t nn__tmp_suffix(void)
{
    struct timespec ts;
    int local = 0;
    uint64_t z;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) ts.tv_sec = ts.tv_nsec = 0;
    z = nn__mix64((uint64_t)getpid());
    z = nn__mix64(z ^ (uint64_t)atomic_fetch_add(&nn__tmp_counter, 1ul));
    z = nn__mix64(z ^ ((uint64_t)ts.tv_sec * 1000000000ull +
                       (uint64_t)ts.tv_nsec));
    z = nn__mix64(z ^ (uint64_t)(uintptr_t)&local);
    return z;
}

#define NN__TMP_TRIES 16
/* ".tmp-" and 16 hex digits */
#define NN__TMP_SUFFIX_BYTES 21

/* One save in progress.  The target's directory is opened first and every
   later call names a file relative to it (openat, fstatat, renameat,
   unlinkat): the temporary name then never lengthens the caller's path,
   so a path near PATH_MAX with a short base name saves too, and the
   directory flushed at the end is the one the rename happened in. */
struct nn__saving {
    const char *path, *fn;
    const char *base;             /* the last component, inside path */
    int pre;                      /* bytes of path before base ("dir/") */
    int dfd;                      /* the directory, or -1 */
    char tmp[NAME_MAX + 1];       /* the temporary name, relative to dfd */
};

/* What a non-regular file is, for the refusal message. */
static const char *nn__file_kind(unsigned mode)
{
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "of an unknown kind";
}

/* Open the directory (dir: path's first s->pre bytes, or ".") and look at
   what is at path now, without following a symbolic link.  Anything but
   a regular file, a symbolic link or nothing is refused here, before a
   byte is written: renaming over a FIFO or a device node would replace
   it with a regular file (root saving to /dev/null).  On failure the
   directory is closed again. */
static int nn__save_target(struct nn__saving *s, char *dir)
{
    unsigned mode = 0;
    int r, e;
    char et[128];

    if (s->pre == 0) {
        memcpy(dir, ".", 2);
    } else {
        memcpy(dir, s->path, (size_t)s->pre);
        dir[s->pre] = '\0';
    }
    s->dfd = nn__open_retry(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (s->dfd < 0) {
        e = errno;
        return nn__fail(NN_ERR_IO, "%s: cannot save \"%s\": open of its "
                        "directory failed: %s; nothing was written "
                        "(directory \"%s\")", s->fn, s->path,
                        nn__errtext(e, et, sizeof et), dir);
    }
    do r = nn__io.lstat_mode(s->dfd, s->base, &mode);
    while (r != 0 && errno == EINTR);
    if (r != 0 && errno != ENOENT) {
        e = errno;
        (void)nn__io.close(s->dfd);
        s->dfd = -1;
        return nn__fail(NN_ERR_IO, "%s: cannot save \"%s\": lstat of the "
                        "target failed: %s; nothing was written", s->fn,
                        s->path, nn__errtext(e, et, sizeof et));
    }
    if (r == 0 && !S_ISREG(mode) && !S_ISLNK(mode)) {
        (void)nn__io.close(s->dfd);
        s->dfd = -1;
        return nn__fail(NN_ERR_IO, "%s: \"%s\" is %s, not a regular file; "
                        "nothing was written", s->fn, s->path,
                        nn__file_kind(mode));
    }
    return NN_OK;
}

/* Create the temporary file in s->dfd: the base name, cut so the whole
   name fits the directory's NAME_MAX, then ".tmp-" and 16 hex digits.
   The cut is at a UTF-8 character boundary (a file system that insists
   on valid UTF-8 names still accepts it); O_EXCL collisions are retried
   under a new suffix.  Returns the descriptor, or -1 with errno set. */
static int nn__save_tmp_open(struct nn__saving *s)
{
    size_t keep = strlen(s->base), room;
    long name_max = fpathconf(s->dfd, _PC_NAME_MAX);
    int fd, tries;

    if (name_max <= 0 || name_max > NAME_MAX) name_max = NAME_MAX;
    room = (size_t)name_max > NN__TMP_SUFFIX_BYTES
               ? (size_t)name_max - NN__TMP_SUFFIX_BYTES : 1;
    if (keep > room) {
        keep = room;
        while (keep > 1 && ((unsigned char)s->base[keep] & 0xC0) == 0x80)
            keep--;
    }
    for (tries = 0;; tries++) {
        snprintf(s->tmp, sizeof s->tmp, "%.*s.tmp-%016llx", (int)keep,
                 s->base, (unsigned long long)nn__tmp_suffix());
        /* 0666: the caller's umask decides, as for any new file */
        fd = nn__openat_retry(s->dfd, s->tmp,
                              O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST || tries + 1 == NN__TMP_TRIES) break;
    }
    return fd;
}

/* After the rename: make the directory entry durable, then close the
   directory.  File systems that cannot fsync a directory say so with
   EINVAL/ENOTSUP/EROFS-type errors; those are not failures of the save. */
static int nn__sync_dir(struct nn__saving *s)
{
    int e;
    char et[128];

    if (nn__fsync_retry(s->dfd) != 0) {
        e = errno;
        (void)nn__io.close(s->dfd);
        if (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP || e == EROFS)
            return NN_OK;
        return nn__fail(NN_ERR_IO, "%s: the new model is in place at \"%s\" "
                        "but its directory could not be flushed (fsync: "
                        "%s); the rename may not survive a crash", s->fn,
                        s->path, nn__errtext(e, et, sizeof et));
    }
    /* the fsync succeeded; an error closing a read-only descriptor cannot
       lose anything */
    (void)nn__io.close(s->dfd);
    return NN_OK;
}

/* A failure after the temporary file was created: remove it, close the
   directory and report (the reason before the temporary file's path, so
   a message cut short still gives it). */
static int nn__save_fail(struct nn__saving *s, const char *what, int e)
{
    int r;
    char et[128], ut[192], ue_t[128];

    ut[0] = '\0';
    do r = nn__io.unlink(s->dfd, s->tmp);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        int ue = errno;
        snprintf(ut, sizeof ut, " (and removing the temporary file "
                 "failed: %s)", nn__errtext(ue, ue_t, sizeof ue_t));
    }
    (void)nn__io.close(s->dfd);
    return nn__fail(NN_ERR_IO, "%s: cannot save \"%s\": %s of the temporary "
                    "file failed: %s; the old file is unchanged%s "
                    "(temporary file \"%.*s%s\")", s->fn, s->path, what,
                    nn__errtext(e, et, sizeof et), ut, s->pre, s->path,
                    s->tmp);
}

/* ---- validate path and name its parts in s; *plen_out is its length */
static int nn__save_check(struct nn__saving *s, const char *path,
                          size_t *plen_out, const char *fn)
{
    const char *slash;
    size_t plen;

    NN__CHECK(path == NULL, NN_ERR_INVALID_ARG, "%s: path is NULL", fn);
    NN__CHECK(path[0] == '\0', NN_ERR_INVALID_ARG, "%s: path is empty", fn);
    plen = strlen(path);
    NN__CHECK(plen > INT_MAX - 2, NN_ERR_INVALID_ARG, "%s: path is %zu "
              "bytes long", fn, plen);
    s->path = path;
    s->fn = fn;
    slash = strrchr(path, '/');
    s->base = slash == NULL ? path : slash + 1;
    s->pre = (int)(s->base - path);
    s->dfd = -1;
    if (s->base[0] == '\0')
        return nn__fail(NN_ERR_IO, "%s: \"%s\" ends in '/', so it names a "
                        "directory, not a regular file; nothing was written",
                        fn, path);
    *plen_out = plen;
    return NN_OK;
}

/* ---- the image buffer, and the target checked (its directory open in
   s->dfd); rename is atomic only within one file system, so the
   temporary file lives in the target's directory */
static int nn__save_prepare(struct nn__saving *s, size_t size, size_t plen,
                            unsigned char **img_out)
{
    unsigned char *img = nn__malloc(size);
    char *dir = nn__malloc(plen + 2);
    int st;

    if (img == NULL || dir == NULL) {
        nn__free(img);
        nn__free(dir);
        return nn__fail(NN_ERR_NOMEM, "%s: out of memory for the %zu-byte "
                        "image of \"%s\"", s->fn, size, s->path);
    }
    st = nn__save_target(s, dir);
    nn__free(dir);
    if (st != NN_OK) {
        nn__free(img);
        return st;
    }
    *img_out = img;
    return NN_OK;
}

/* ---- the image into the open temporary file fd, on disk, then renamed
   over the target; fd is closed on every path */
static int nn__save_commit(struct nn__saving *s, int fd,
                           const unsigned char *img, size_t size)
{
    const char *what;
    int r, e;

    if (nn__write_full(fd, img, size) != 0) {
        what = "write";
        goto fail_open;
    }
    /* the data must be on disk before the rename makes it the model */
    if (nn__fsync_retry(fd) != 0) {
        what = "fsync";
        goto fail_open;
    }
    /* the descriptor is gone from here on, even when close fails */
    if (nn__close_checked(fd) != 0) {
        e = errno;
        return nn__save_fail(s, "close", e);
    }
    /* Between nn__save_target's lstat and this rename another process
       could put a FIFO or device at path; nothing short of renameat2's
       flags (which have no "only a regular file" mode) closes that
       window, and the header says so. */
    do r = nn__io.rename(s->dfd, s->tmp, s->base);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
        e = errno;
        return nn__save_fail(s, "rename", e);
    }
    return NN_OK;

fail_open:
    e = errno;
    (void)nn__io.close(fd);
    return nn__save_fail(s, what, e);
}

int nn__save_image(size_t size, nn__image_writer write_image,
                   const void *ctx, const char *path, const char *fn)
{
    struct nn__saving s;
    size_t plen = 0;
    unsigned char *img = NULL;
    int fd, st, e;
    char et[128];

    NN__FORWARD(nn__save_check(&s, path, &plen, fn));
    NN__FORWARD(nn__save_prepare(&s, size, plen, &img));
    write_image(ctx, img);

    fd = nn__save_tmp_open(&s);
    if (fd < 0) {
        e = errno;
        (void)nn__io.close(s.dfd);
        nn__free(img);
        return nn__fail(NN_ERR_IO, "%s: cannot save \"%s\": open of a new "
                        "temporary file failed: %s; nothing was written "
                        "(temporary file \"%.*s%s\")", fn, path,
                        nn__errtext(e, et, sizeof et), s.pre, path, s.tmp);
    }
    st = nn__save_commit(&s, fd, img, size);
    nn__free(img);
    if (st != NN_OK) return st;
    return nn__sync_dir(&s);
}

/* nn__save_image's writer for a model or checkpoint image */
struct nn__net_image { const nn_net *net; const nn_optimizer *opt; };

static void nn__net_image_fill(const void *ctx, unsigned char *buf)
{
    const struct nn__net_image *c = ctx;
    nn__image_write(c->net, c->opt, buf);
}

static int nn__save(const nn_net *net, const nn_optimizer *opt,
                    const char *path, const char *fn)
{
    struct nn__net_image c;
    NN__FORWARD(nn__check_pair(net, opt, fn));
    c.net = net;
    c.opt = opt;
    return nn__save_image(nn__image_size(net, opt), nn__net_image_fill, &c,
                          path, fn);
}

int nn_net_save(const nn_net *net, const char *path)
{
    return nn__save(net, NULL, path, "nn_net_save");
}

int nn_checkpoint_save(const nn_net *net, const nn_optimizer *opt,
                       const char *path)
{
    return nn__save(net, opt, path, "nn_checkpoint_save");
}
