/*
 * data.c - the data sets of nnfs train and eval: the library's toy sets
 * (spiral, vertical, sine) and IDX image/label pairs, and the checks of
 * the data options against each other.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dataset_free(struct dataset *d)
{
    if (d->x_idx) nn_idx_free(d->x);
    else free(d->x);
    free(d->t);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* Read an IDX image/label pair (limit: keep the first rows).  The images
   are decompressed once, into an array that grows with the data (a small
   file declaring a huge count fails before anything huge is allocated);
   the label file must hold as many labels, which bounds its array. */
static int load_idx(const char *images, const char *labels, int scale,
                    size_t limit, struct dataset *d)
{
    size_t count, size, lcount, lsize, i, first = 0, rows;
    int st;
    if (cli_shard_on_load && limit == 0) {
        /* this rank's rows only (nnfs-mpi) */
        st = nn_idx_load_part(images, scale, (size_t)cli_rank,
                              (size_t)cli_size, &d->x, &first, &rows, &count,
                              &size);
        d->sharded = 1;
    } else {
        st = nn_idx_load(images, scale, &d->x, &count, &size);
        rows = count;
    }
    if (st != NN_OK) return lib_error("reading the images", st);
    d->x_idx = 1;
    st = nn_idx_info(labels, &lcount, &lsize);
    if (st != NN_OK) return lib_error("reading the labels", st);
    if (lcount != count || lsize != 1) {
        fprintf(stderr, "%s: %s holds %zu samples of size %zu but %s holds "
                "%zu labels of size %zu\n", prog, images, count, size, labels,
                lcount, lsize);
        return 1;
    }
    d->y = xmalloc(count, sizeof(int32_t));
    st = nn_idx_read_labels(labels, d->y, count);
    if (st != NN_OK) return lib_error("reading the labels", st);
    d->n = limit != 0 && limit < count ? limit : count;
    d->n_in = size;
    d->n_out = 0;
    for (i = 0; i < d->n; i++)
        if ((size_t)d->y[i] + 1 > d->n_out) d->n_out = (size_t)d->y[i] + 1;
    if (d->sharded) {   /* the classes are counted over all rows */
        memmove(d->y, d->y + first, rows * sizeof(int32_t));
        d->n_all = count;
        d->n = rows;
    }
    return 0;
}

/* One sigmoid output: the labels (0 or 1) become targets. */
static int make_binary(const struct data_opts *o, int test, struct dataset *d)
{
    size_t i;
    for (i = 0; i < d->n; i++)
        if (d->y[i] > 1) {
            fprintf(stderr, "%s: one sigmoid output (binary "
                    "cross-entropy) needs labels 0 and 1; sample %zu of "
                    "%s has label %d\n", prog, i,
                    o->kind == DATA_IDX
                        ? (test ? o->test_labels : o->labels)
                        : data_name(o->kind), (int)d->y[i]);
            return 1;
        }
    d->t = xmalloc(d->n, sizeof(float));
    for (i = 0; i < d->n; i++) d->t[i] = (float)d->y[i];
    free(d->y);
    d->y = NULL;
    d->n_out = 1;
    return 0;
}

/* The training (or evaluation) data the options describe; for the toy
   sets `seed` picks the draw. */
int make_data(const struct data_opts *o, unsigned long long seed, int test,
              struct dataset *d)
{
    int st;
    memset(d, 0, sizeof *d);
    switch (o->kind) {
    case DATA_SPIRAL:
    case DATA_VERTICAL:
        d->n = o->samples * o->classes;
        d->n_in = 2;
        d->n_out = o->classes;
        d->x = xmalloc(d->n * 2, sizeof(float));
        d->y = xmalloc(d->n, sizeof(int32_t));
        st = o->kind == DATA_SPIRAL
                 ? nn_data_spiral(d->x, d->y, o->samples, o->classes, seed)
                 : nn_data_vertical(d->x, d->y, o->samples, o->classes, seed);
        if (st != NN_OK) return lib_error("generating the data", st);
        break;
    case DATA_SINE:
        d->n = o->samples;
        d->n_in = d->n_out = 1;
        d->x = xmalloc(d->n, sizeof(float));
        d->t = xmalloc(d->n, sizeof(float));
        st = nn_data_sine(d->x, d->t, o->samples);
        if (st != NN_OK) return lib_error("generating the data", st);
        break;
    default:
        if (test && (o->test_images == NULL || o->test_labels == NULL))
            return 0;
        if (load_idx(test ? o->test_images : o->images,
                     test ? o->test_labels : o->labels, o->scale,
                     test ? 0 : o->limit, d) != 0)
            return 1;
        break;
    }
    return o->binary ? make_binary(o, test, d) : 0;
}

/* eval: a --test-images/--test-labels pair is the data to evaluate. */
static void eval_test_pair(struct cli_opts *co)
{
    struct data_opts *o = &co->data;
    if (o->images != NULL || o->labels != NULL)
        usage_error("eval: give the data as --test-images/--test-labels "
                    "or as --images/--labels, not both");
    if (cli_given(co, "data") && o->kind != DATA_IDX)
        usage_error("eval: --test-images is IDX data, not --data %s",
                    data_name(o->kind));
    o->images = o->test_images;
    o->labels = o->test_labels;
    o->test_images = o->test_labels = NULL;
    o->kind = DATA_IDX;
}

/* Check the data options against each other: an option the chosen data
   set does not use is refused rather than silently ignored.  For eval
   (eval != 0) a --test-images/--test-labels pair is the data to evaluate. */
void data_finish(struct cli_opts *co, int eval)
{
    struct data_opts *o = &co->data;
    int samples = cli_given(co, "samples"), classes = cli_given(co, "classes");
    int scale = cli_given(co, "scale"), limit = cli_given(co, "limit");
    if ((o->test_images == NULL) != (o->test_labels == NULL))
        usage_error("--test-images and --test-labels go together");
    if (eval && o->test_images != NULL) eval_test_pair(co);
    if (o->kind != DATA_IDX && (o->images != NULL || o->labels != NULL))
        usage_error("--train-images/--train-labels are IDX data, not "
                    "--data %s", data_name(o->kind));
    if (o->kind != DATA_IDX && o->test_images != NULL)
        usage_error("--test-images/--test-labels validate IDX training data "
                    "(--train-images, --train-labels), not --data %s",
                    data_name(o->kind));
    if (o->kind == DATA_IDX && (o->images == NULL || o->labels == NULL))
        usage_error(eval ? "--data idx needs --images and --labels (or "
                           "--test-images and --test-labels)"
                         : "--data idx needs --train-images and "
                           "--train-labels");
    if (o->kind == DATA_IDX && (samples || classes))
        usage_error("--%s sizes the generated data sets, not --data idx",
                    samples ? "samples" : "classes");
    if (o->kind == DATA_SINE && classes)
        usage_error("--classes: --data sine is a regression set");
    if (o->kind != DATA_IDX && (scale || limit))
        usage_error("--%s applies to --data idx only",
                    scale ? "scale" : "limit");
    /* eval draws no weights: the seed only picks a spiral/vertical draw */
    if (eval && cli_given(co, "seed") && o->kind != DATA_SPIRAL &&
        o->kind != DATA_VERTICAL)
        usage_error("eval: --seed picks the spiral/vertical draw; --data %s "
                    "has no seed", data_name(o->kind));
    if (o->samples == 0) o->samples = o->kind == DATA_SINE ? 1000 : 100;
}
