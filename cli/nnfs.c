/*
 * nnfs - command-line front end of libnnfs.
 *
 *   nnfs train [options]         train a network (default: the NNFS
 *                                course's 2-64-3 spiral classifier with
 *                                Adam) and report progress
 *   nnfs eval MODEL [options]    loss and accuracy of a saved model
 *   nnfs predict MODEL [FILE]    outputs for rows of numbers
 *   nnfs info MODEL              describe a saved model
 *   nnfs version                 library, BLAS and kernel set in use
 *
 * Exit status: 0 success, 1 a library or I/O failure, 2 a usage error.
 */
#include "nnfs.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_HIDDEN 64

static const char *prog = "nnfs";

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    exit(2);
}

static int lib_error(const char *what, int st)
{
    fprintf(stderr, "%s: %s failed: %s (%s)\n", prog, what, nn_last_error(),
            nn_strerror(st));
    return 1;
}

static void *xmalloc(size_t n, size_t size)
{
    void *p = n != 0 && size > SIZE_MAX / n ? NULL : malloc(n * size + 1);
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    return p;
}

/*------------------------------------------------------------- parsing --*/

static double parse_double(const char *opt, const char *s, double lo,
                           double hi)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        usage_error("%s expects a number, got '%s'", opt, s);
    if (v < lo || v > hi)
        usage_error("%s = %s is outside [%g, %g]", opt, s, lo, hi);
    return v;
}

static unsigned long long parse_uint(const char *opt, const char *s,
                                     unsigned long long lo,
                                     unsigned long long hi)
{
    char *end;
    unsigned long long v;
    if (*s == '-' || *s == '\0')
        usage_error("%s expects a non-negative integer, got '%s'", opt, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0' || errno != 0)
        usage_error("%s expects a non-negative integer, got '%s'", opt, s);
    if (v < lo || v > hi)
        usage_error("%s = %s is outside [%llu, %llu]", opt, s, lo, hi);
    return v;
}

static int pick(const char *opt, const char *s, const char *const *names,
                int n)
{
    int i;
    char list[256] = "";
    for (i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    for (i = 0; i < n; i++) {
        strcat(list, names[i]);
        if (i + 1 < n) strcat(list, ", ");
    }
    usage_error("%s: unknown value '%s' (one of: %s)", opt, s, list);
    return -1;
}

static const char *const act_names[] = {"linear", "relu", "sigmoid", "tanh",
                                        "softmax"};
static const char *const loss_names[] = {"cce", "bce", "mse", "mae"};
static const char *const opt_names[] = {"sgd", "adagrad", "rmsprop", "adam"};
static const char *const data_names[] = {"spiral", "vertical", "sine",
                                         "idx"};
enum { DATA_SPIRAL, DATA_VERTICAL, DATA_SINE, DATA_IDX };
static const char *const scale_names[] = {"none", "unit", "symmetric"};

/* "64,32:tanh" -> widths and activations of the hidden layers */
static size_t parse_hidden(const char *s, size_t *widths, int32_t *acts)
{
    char buf[1024], *tok, *save = NULL;
    size_t n = 0;
    if (strlen(s) >= sizeof buf) usage_error("--hidden: list too long");
    strcpy(buf, s);
    if (strcmp(buf, "none") == 0) return 0;
    for (tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        if (n == MAX_HIDDEN)
            usage_error("--hidden: at most %d hidden layers", MAX_HIDDEN);
        if (colon != NULL) *colon = '\0';
        widths[n] = (size_t)parse_uint("--hidden", tok, 1, NN_MAX_WIDTH);
        acts[n] = colon != NULL
                      ? (int32_t)pick("--hidden", colon + 1, act_names, 5)
                      : NN_ACT_RELU;
        n++;
    }
    if (n == 0) usage_error("--hidden: empty list");
    return n;
}

/*---------------------------------------------------------------- data --*/

/* A data set in memory: x rows, and labels (classification) or targets. */
struct dataset {
    float *x, *t;
    int32_t *y;
    size_t n, n_in, n_out;   /* n_out: classes, or target width */
};

static void dataset_free(struct dataset *d)
{
    free(d->x);
    free(d->t);
    free(d->y);
    memset(d, 0, sizeof *d);
}

struct data_opts {
    int kind;
    size_t samples, classes, limit;
    unsigned long long seed;
    const char *images, *labels, *test_images, *test_labels;
    int scale;
    int binary;   /* BCE on 2 classes: one sigmoid output, 0/1 targets */
};

/* Read an IDX image/label pair (limit: keep the first rows). */
static int load_idx(const char *images, const char *labels, int scale,
                    size_t limit, struct dataset *d)
{
    size_t count, size, lcount, lsize, i;
    int st = nn_idx_info(images, &count, &size);
    if (st != NN_OK) return lib_error("reading the images", st);
    st = nn_idx_info(labels, &lcount, &lsize);
    if (st != NN_OK) return lib_error("reading the labels", st);
    if (lcount != count || lsize != 1) {
        fprintf(stderr, "%s: %s holds %zu samples of size %zu but %s holds "
                "%zu labels of size %zu\n", prog, images, count, size, labels,
                lcount, lsize);
        return 1;
    }
    d->x = xmalloc(count * size, sizeof(float));
    d->y = xmalloc(count, sizeof(int32_t));
    st = nn_idx_read(images, d->x, count, size, scale);
    if (st != NN_OK) return lib_error("reading the images", st);
    st = nn_idx_read_labels(labels, d->y, count);
    if (st != NN_OK) return lib_error("reading the labels", st);
    d->n = limit != 0 && limit < count ? limit : count;
    d->n_in = size;
    d->n_out = 0;
    for (i = 0; i < d->n; i++)
        if ((size_t)d->y[i] + 1 > d->n_out) d->n_out = (size_t)d->y[i] + 1;
    return 0;
}

/* The training (or evaluation) data the options describe; for the toy
   sets `seed` picks the draw. */
static int make_data(const struct data_opts *o, unsigned long long seed,
                     int test, struct dataset *d)
{
    int st;
    size_t i;
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
    if (o->binary) {   /* one sigmoid output, label as a 0/1 target */
        d->t = xmalloc(d->n, sizeof(float));
        for (i = 0; i < d->n; i++) d->t[i] = (float)d->y[i];
        free(d->y);
        d->y = NULL;
        d->n_out = 1;
    }
    return 0;
}

/* Parse one data option; returns 1 if argv[*i] was one. */
static int data_option(struct data_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    const char *v = *i + 1 < argc ? argv[*i + 1] : NULL;
#define TAKE() do { if (v == NULL) usage_error("%s needs a value", a); \
                    (*i)++; } while (0)
    if (strcmp(a, "--data") == 0) {
        TAKE();
        o->kind = pick(a, v, data_names, 4);
    } else if (strcmp(a, "--samples") == 0) {
        TAKE();
        o->samples = (size_t)parse_uint(a, v, 1, 10000000);
    } else if (strcmp(a, "--classes") == 0) {
        TAKE();
        o->classes = (size_t)parse_uint(a, v, 2, 100000);
    } else if (strcmp(a, "--train-images") == 0 || strcmp(a, "--images") == 0) {
        TAKE();
        o->images = v;
        o->kind = DATA_IDX;
    } else if (strcmp(a, "--train-labels") == 0 || strcmp(a, "--labels") == 0) {
        TAKE();
        o->labels = v;
        o->kind = DATA_IDX;
    } else if (strcmp(a, "--test-images") == 0) {
        TAKE();
        o->test_images = v;
    } else if (strcmp(a, "--test-labels") == 0) {
        TAKE();
        o->test_labels = v;
    } else if (strcmp(a, "--scale") == 0) {
        TAKE();
        o->scale = pick(a, v, scale_names, 3);
    } else if (strcmp(a, "--limit") == 0) {
        TAKE();
        o->limit = (size_t)parse_uint(a, v, 1, 1000000000);
    } else if (strcmp(a, "--seed") == 0) {
        TAKE();
        o->seed = parse_uint(a, v, 0, UINT64_MAX);
    } else {
        return 0;
    }
#undef TAKE
    return 1;
}

static void data_defaults(struct data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kind = DATA_SPIRAL;
    o->samples = 0;   /* per data set, below */
    o->classes = 3;
    o->scale = 2;     /* the course's (x - 127.5) / 127.5 */
}

static void data_finish(struct data_opts *o)
{
    if (o->samples == 0) o->samples = o->kind == DATA_SINE ? 1000 : 100;
    if (o->kind == DATA_IDX && (o->images == NULL || o->labels == NULL))
        usage_error("--data idx needs --train-images and --train-labels");
    if ((o->test_images == NULL) != (o->test_labels == NULL))
        usage_error("--test-images and --test-labels go together");
}

/*------------------------------------------------------------ progress --*/

struct progress {
    int bar, quiet;
    size_t every, epochs, n;
};

static int on_progress(void *user, const nn_trainer *tr, int32_t event)
{
    struct progress *p = user;
    double epoch, step, spe, loss, acc, vloss, vacc, lr, sec, reg;
    nn_trainer_metric(tr, NN_METRIC_EPOCH, &epoch);
    nn_trainer_metric(tr, NN_METRIC_STEP, &step);
    nn_trainer_metric(tr, NN_METRIC_STEPS_PER_EPOCH, &spe);
    nn_trainer_metric(tr, NN_METRIC_LOSS, &loss);
    nn_trainer_metric(tr, NN_METRIC_ACCURACY, &acc);
    nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &vloss);
    nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &vacc);
    nn_trainer_metric(tr, NN_METRIC_LEARNING_RATE, &lr);
    nn_trainer_metric(tr, NN_METRIC_SECONDS, &sec);
    nn_trainer_metric(tr, NN_METRIC_REG_LOSS, &reg);
    if (p->quiet) return 0;
    if (p->bar) {
        /* within-epoch position for long epochs, epochs otherwise */
        double done = event == NN_EVENT_STEP
                          ? (epoch - 1) + (step - (epoch - 1) * spe) / spe
                          : epoch;
        size_t fill = (size_t)(30.0 * done / (double)p->epochs), i;
        char bar[31];
        for (i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
        if (fill < 30) bar[fill] = '>';
        bar[30] = '\0';
        printf("\r[%s] epoch %.0f/%zu  loss %.4f", bar, epoch, p->epochs,
               loss);
        if (!isnan(acc)) printf("  acc %.3f", acc);
        if (!isnan(vacc)) printf("  val_acc %.3f", vacc);
        printf("  %.0f samples/s ", sec > 0 ? step * (double)p->n / spe / sec
                                           : 0.0);
        fflush(stdout);
        return 0;
    }
    if (event != NN_EVENT_EPOCH) return 0;
    if ((size_t)epoch % p->every != 0 && (size_t)epoch != 1 &&
        (size_t)epoch != p->epochs)
        return 0;
    printf("epoch %.0f  loss %.4f", epoch, loss);
    if (reg > 0) printf(" (+reg %.4f)", reg);
    if (!isnan(acc)) printf("  acc %.3f", acc);
    if (!isnan(vloss)) printf("  val_loss %.4f", vloss);
    if (!isnan(vacc)) printf("  val_acc %.3f", vacc);
    printf("  lr %.6g  %.1f s\n", lr, sec);
    fflush(stdout);
    return 0;
}

/*--------------------------------------------------------------- train --*/

static void train_help(void)
{
    printf(
"Usage: %s train [options]\n"
"\n"
"Train a dense network and report progress.  With no options: the NNFS\n"
"course's spiral data (100 points per class, 3 classes), a 2-64-3 network\n"
"(ReLU, softmax, categorical cross-entropy), Adam with learning rate 0.05\n"
"and decay 5e-7, 10000 epochs of full-batch training.\n"
"\n"
"Data:\n"
"  --data spiral|vertical|sine|idx   data set (default spiral)\n"
"  --samples N          points per class (spiral, vertical; default 100) or\n"
"                       in all (sine; default 1000)\n"
"  --classes N          classes of spiral/vertical (default 3)\n"
"  --train-images F --train-labels F   IDX pair (MNIST/Fashion-MNIST,\n"
"                       plain or .gz); implies --data idx\n"
"  --test-images F --test-labels F     IDX pair used as validation data\n"
"  --scale none|unit|symmetric   IDX pixel scaling (default symmetric:\n"
"                       (x - 127.5) / 127.5, as the course)\n"
"  --limit N            use only the first N training samples\n"
"  --val-split F        hold out this fraction of the training data for\n"
"                       validation (default 0)\n"
"  --seed N             seed of the data, the weights and the shuffling\n"
"Network:\n"
"  --hidden LIST        hidden widths, each optionally :ACTIVATION, e.g.\n"
"                       64,64:tanh; 'none' for no hidden layer (defaults:\n"
"                       64 spiral/vertical, 64,64 sine, 128,128 idx)\n"
"  --output-activation ACT   (default: softmax for cce, sigmoid for bce,\n"
"                       linear for mse/mae)\n"
"  --loss cce|bce|mse|mae    (default: cce; mse for sine).  bce on a\n"
"                       2-class set trains one sigmoid output\n"
"  --init default|normal:G|uniform:G   weight scheme and gain; normal:0.1\n"
"                       is the course's 0.1 * randn (default: default,\n"
"                       normal:0.1 for sine)\n"
"Optimizer:\n"
"  --optimizer sgd|adagrad|rmsprop|adam   (default adam)\n"
"  --lr X --decay X     learning rate and its decay lr / (1 + decay * it)\n"
"                       (defaults: spiral/vertical 0.05, 5e-7; sine 0.005,\n"
"                       1e-3; idx 0.001, 1e-4)\n"
"  --momentum X --epsilon X --rho X --beta1 X --beta2 X\n"
"Regularization:\n"
"  --l1 X --l2 X        penalties on the hidden layers' weights and biases\n"
"  --dropout R          dropout rate after each hidden layer\n"
"Training:\n"
"  --epochs N           passes over the data (default 10000; 10 for idx)\n"
"  --batch-size N       rows per step, 0 = all (default 0; 128 for idx)\n"
"  --no-shuffle         keep the data order\n"
"  --threads N          threads (BLAS threads or replicas, see --parallel)\n"
"  --parallel MODE      auto (default: per step size), blas (the BLAS's own\n"
"                       threads) or replicas (the batch's rows split over\n"
"                       the threads)\n"
"Output:\n"
"  -o, --output PATH    save the trained model\n"
"  --checkpoint PATH    save the model with the optimizer's state at the\n"
"                       end, so that --resume can continue it (weights,\n"
"                       optimizer state and learning-rate schedule)\n"
"  --resume PATH        continue training a checkpoint: its network and\n"
"                       optimizer (and their settings) replace the\n"
"                       network and optimizer options\n"
"  --every N            print every N epochs (default: about 100 lines)\n"
"  --progress=bar|lines report style (default: a bar on a terminal)\n"
"  -q, --quiet          only the final summary\n"
"\n"
"Examples:\n"
"  %s train\n"
"  %s train --data sine --epochs 10000\n"
"  %s train --train-images train-images-idx3-ubyte.gz \\\n"
"      --train-labels train-labels-idx1-ubyte.gz --test-images \\\n"
"      t10k-images-idx3-ubyte.gz --test-labels t10k-labels-idx1-ubyte.gz \\\n"
"      --epochs 10 -o fashion.nnfs\n",
           prog, prog, prog, prog);
}

struct train_opts {
    struct data_opts data;
    size_t hidden[MAX_HIDDEN];
    int32_t hidden_act[MAX_HIDDEN];
    size_t n_hidden;     /* (size_t)-1: default for the data set */
    int out_act, loss, optimizer, init;
    double gain;
    double lr, decay, momentum, epsilon, rho, beta1, beta2;
    int set_lr, set_decay, set_momentum, set_epsilon, set_rho, set_beta1,
        set_beta2;
    double l1, l2, dropout, val_split;
    size_t epochs, batch, every;
    int shuffle, threads, quiet, bar, parallel;
    const char *output, *checkpoint, *resume;
};

static void split_validation(struct dataset *d, double frac,
                             struct dataset *v)
{
    size_t n_val = (size_t)((double)d->n * frac), keep, i;
    memset(v, 0, sizeof *v);
    if (n_val == 0) return;
    if (n_val >= d->n) usage_error("--val-split leaves no training data");
    /* the toy sets are ordered by class: shuffle before splitting */
    nn_data_shuffle(d->x, d->n, d->n_in, d->t, d->t ? d->n_out : 0, d->y,
                    0x5eed);
    keep = d->n - n_val;
    v->n = n_val;
    v->n_in = d->n_in;
    v->n_out = d->n_out;
    v->x = xmalloc(n_val * d->n_in, sizeof(float));
    memcpy(v->x, d->x + keep * d->n_in, n_val * d->n_in * sizeof(float));
    if (d->t != NULL) {
        v->t = xmalloc(n_val * d->n_out, sizeof(float));
        memcpy(v->t, d->t + keep * d->n_out, n_val * d->n_out * sizeof(float));
    }
    if (d->y != NULL) {
        v->y = xmalloc(n_val, sizeof(int32_t));
        for (i = 0; i < n_val; i++) v->y[i] = d->y[keep + i];
    }
    d->n = keep;
}

static int cmd_train(int argc, char **argv)
{
    struct train_opts o;
    struct dataset d, val;
    size_t sizes[MAX_HIDDEN + 2], n_layers, i;
    int32_t acts[MAX_HIDDEN + 1];
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    struct progress pr;
    float *out = NULL, loss = 0, acc = 0;
    double secs;
    int st, rc = 1, ai;

    memset(&o, 0, sizeof o);
    data_defaults(&o.data);
    o.n_hidden = (size_t)-1;
    o.out_act = o.loss = o.init = -1;
    o.optimizer = NN_OPT_ADAM;
    o.gain = 1.0;
    o.shuffle = 1;
    o.bar = -1;
    o.epochs = 0;
    o.batch = (size_t)-1;

    for (ai = 0; ai < argc; ai++) {
        const char *a = argv[ai];
        const char *v = ai + 1 < argc ? argv[ai + 1] : NULL;
#define TAKE() do { if (v == NULL) usage_error("%s needs a value", a); ai++; } while (0)
        if (data_option(&o.data, argc, argv, &ai)) continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            train_help();
            return 0;
        } else if (strcmp(a, "--hidden") == 0) {
            TAKE();
            o.n_hidden = parse_hidden(v, o.hidden, o.hidden_act);
        } else if (strcmp(a, "--output-activation") == 0) {
            TAKE();
            o.out_act = pick(a, v, act_names, 5);
        } else if (strcmp(a, "--loss") == 0) {
            TAKE();
            o.loss = pick(a, v, loss_names, 4);
        } else if (strcmp(a, "--init") == 0) {
            const char *colon;
            TAKE();
            colon = strchr(v, ':');
            if (strncmp(v, "default", 7) == 0 && (v[7] == 0 || v[7] == ':'))
                o.init = NN_INIT_DEFAULT;
            else if (strncmp(v, "normal:", 7) == 0)
                o.init = NN_INIT_NORMAL;
            else if (strncmp(v, "uniform:", 8) == 0)
                o.init = NN_INIT_UNIFORM;
            else
                usage_error("--init: expected default, normal:GAIN or "
                            "uniform:GAIN, got '%s'", v);
            o.gain = colon ? parse_double("--init gain", colon + 1, 0, 1e6)
                           : 1.0;
        } else if (strcmp(a, "--optimizer") == 0) {
            TAKE();
            o.optimizer = pick(a, v, opt_names, 4);
        } else if (strcmp(a, "--lr") == 0) {
            TAKE(); o.lr = parse_double(a, v, 0, 1e6); o.set_lr = 1;
        } else if (strcmp(a, "--decay") == 0) {
            TAKE(); o.decay = parse_double(a, v, 0, 1e6); o.set_decay = 1;
        } else if (strcmp(a, "--momentum") == 0) {
            TAKE(); o.momentum = parse_double(a, v, 0, 0.999999);
            o.set_momentum = 1;
        } else if (strcmp(a, "--epsilon") == 0) {
            TAKE(); o.epsilon = parse_double(a, v, 1e-30, 1); o.set_epsilon = 1;
        } else if (strcmp(a, "--rho") == 0) {
            TAKE(); o.rho = parse_double(a, v, 0, 0.999999); o.set_rho = 1;
        } else if (strcmp(a, "--beta1") == 0) {
            TAKE(); o.beta1 = parse_double(a, v, 0, 0.999999); o.set_beta1 = 1;
        } else if (strcmp(a, "--beta2") == 0) {
            TAKE(); o.beta2 = parse_double(a, v, 0, 0.999999); o.set_beta2 = 1;
        } else if (strcmp(a, "--l1") == 0) {
            TAKE(); o.l1 = parse_double(a, v, 0, 1e6);
        } else if (strcmp(a, "--l2") == 0) {
            TAKE(); o.l2 = parse_double(a, v, 0, 1e6);
        } else if (strcmp(a, "--dropout") == 0) {
            TAKE(); o.dropout = parse_double(a, v, 0, 0.99);
        } else if (strcmp(a, "--val-split") == 0) {
            TAKE(); o.val_split = parse_double(a, v, 0, 0.9);
        } else if (strcmp(a, "--epochs") == 0) {
            TAKE(); o.epochs = (size_t)parse_uint(a, v, 1, 100000000);
        } else if (strcmp(a, "--batch-size") == 0) {
            TAKE(); o.batch = (size_t)parse_uint(a, v, 0, 2147483647);
        } else if (strcmp(a, "--no-shuffle") == 0) {
            o.shuffle = 0;
        } else if (strcmp(a, "--threads") == 0) {
            TAKE(); o.threads = (int)parse_uint(a, v, 1, 1024);
        } else if (strcmp(a, "--parallel") == 0) {
            TAKE();
            if (strcmp(v, "auto") == 0) o.parallel = NN_PARALLEL_AUTO;
            else if (strcmp(v, "blas") == 0) o.parallel = NN_PARALLEL_BLAS;
            else if (strcmp(v, "replicas") == 0)
                o.parallel = NN_PARALLEL_REPLICAS;
            else usage_error("--parallel must be auto, blas or replicas, "
                             "not '%s'", v);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            TAKE(); o.output = v;
        } else if (strcmp(a, "--checkpoint") == 0) {
            TAKE(); o.checkpoint = v;
        } else if (strcmp(a, "--resume") == 0) {
            TAKE(); o.resume = v;
        } else if (strcmp(a, "--every") == 0) {
            TAKE(); o.every = (size_t)parse_uint(a, v, 1, 100000000);
        } else if (strcmp(a, "--progress=bar") == 0) {
            o.bar = 1;
        } else if (strcmp(a, "--progress=lines") == 0) {
            o.bar = 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
        } else {
            usage_error("train: unknown option '%s'", a);
        }
#undef TAKE
    }
    data_finish(&o.data);

    /* defaults that depend on the data set */
    if (o.loss < 0) o.loss = o.data.kind == DATA_SINE ? NN_LOSS_MSE
                                                      : NN_LOSS_CCE;
    if (o.loss == NN_LOSS_BCE && o.data.kind != DATA_SINE) {
        if (o.data.kind != DATA_IDX && o.data.classes != 2)
            usage_error("--loss bce trains one sigmoid output: use "
                        "--classes 2");
        o.data.binary = 1;
    }
    if ((o.loss == NN_LOSS_MSE || o.loss == NN_LOSS_MAE) &&
        o.data.kind != DATA_SINE)
        usage_error("--loss %s needs regression targets: use --data sine",
                    loss_names[o.loss]);
    if (o.data.kind == DATA_SINE && o.loss != NN_LOSS_MSE &&
        o.loss != NN_LOSS_MAE)
        usage_error("--data sine is a regression set: use --loss mse or mae");
    if (o.n_hidden == (size_t)-1) {
        o.n_hidden = o.data.kind == DATA_SPIRAL || o.data.kind == DATA_VERTICAL
                         ? 1 : 2;
        for (i = 0; i < o.n_hidden; i++) {
            o.hidden[i] = o.data.kind == DATA_IDX ? 128 : 64;
            o.hidden_act[i] = NN_ACT_RELU;
        }
    }
    if (o.out_act < 0)
        o.out_act = o.loss == NN_LOSS_CCE ? NN_ACT_SOFTMAX
                    : o.loss == NN_LOSS_BCE ? NN_ACT_SIGMOID : NN_ACT_LINEAR;
    if (o.init < 0) {
        o.init = o.data.kind == DATA_SINE ? NN_INIT_NORMAL : NN_INIT_DEFAULT;
        o.gain = o.data.kind == DATA_SINE ? 0.1 : 1.0;
    }
    if (!o.set_lr)
        o.lr = o.optimizer != NN_OPT_ADAM ? (o.optimizer == NN_OPT_RMSPROP
                                                 ? 0.001 : 1.0)
               : o.data.kind == DATA_SINE ? 0.005
               : o.data.kind == DATA_IDX ? 0.001 : 0.05;
    if (!o.set_decay)
        o.decay = o.optimizer != NN_OPT_ADAM ? 0.0
                  : o.data.kind == DATA_SINE ? 1e-3
                  : o.data.kind == DATA_IDX ? 1e-4 : 5e-7;
    if (o.epochs == 0) o.epochs = o.data.kind == DATA_IDX ? 10 : 10000;
    if (o.batch == (size_t)-1) o.batch = o.data.kind == DATA_IDX ? 128 : 0;
    if (o.bar < 0) o.bar = isatty(STDOUT_FILENO);
    if (o.every == 0) o.every = o.epochs >= 100 ? o.epochs / 100 : 1;
    if (nn_set_parallel_mode(o.parallel) != NN_OK)
        return lib_error("setting the parallel mode", NN_ERR_INVALID_ARG);
    if (o.threads > 0 && nn_set_num_threads(o.threads) != NN_OK)
        return lib_error("setting threads", NN_ERR_UNSUPPORTED);

    memset(&val, 0, sizeof val);
    if (make_data(&o.data, o.data.seed, 0, &d) != 0) goto done;
    if (o.val_split > 0) {
        split_validation(&d, o.val_split, &val);
    } else if (o.data.kind == DATA_IDX && o.data.test_images != NULL) {
        if (make_data(&o.data, 0, 1, &val) != 0) goto done;
        if (val.n_out > d.n_out) d.n_out = val.n_out;
    }

    sizes[0] = d.n_in;
    for (i = 0; i < o.n_hidden; i++) {
        sizes[i + 1] = o.hidden[i];
        acts[i] = o.hidden_act[i];
    }
    n_layers = o.n_hidden + 1;
    sizes[n_layers] = d.n_out;
    acts[o.n_hidden] = o.out_act;

    if (o.resume != NULL) {
        st = nn_checkpoint_load(&net, &opt, o.resume);
        if (st != NN_OK) { rc = lib_error("loading the checkpoint", st); goto done; }
        if (opt == NULL) {
            fprintf(stderr, "%s: %s holds a model but no optimizer state "
                    "(save it with --checkpoint)\n", prog, o.resume);
            rc = 1;
            goto done;
        }
        n_layers = nn_net_num_layers(net);
        if (nn_net_layer_inputs(net, 0) != d.n_in ||
            nn_net_layer_outputs(net, n_layers - 1) != d.n_out) {
            fprintf(stderr, "%s: %s takes %zu inputs and gives %zu outputs; "
                    "the data has %zu and %zu\n", prog, o.resume,
                    nn_net_layer_inputs(net, 0),
                    nn_net_layer_outputs(net, n_layers - 1), d.n_in, d.n_out);
            rc = 1;
            goto done;
        }
        sizes[0] = d.n_in;
        for (i = 0; i < n_layers; i++) {
            sizes[i + 1] = nn_net_layer_outputs(net, i);
            acts[i] = nn_net_layer_activation(net, i);
        }
        o.optimizer = nn_optimizer_kind(opt);
        nn_optimizer_get(opt, NN_OPT_LEARNING_RATE, &o.lr);
        nn_optimizer_get(opt, NN_OPT_DECAY, &o.decay);
        goto have_optimizer;
    }
    st = nn_net_create(&net, n_layers, sizes, acts, o.data.seed);
    if (st == NN_OK && o.init != NN_INIT_DEFAULT)
        st = nn_net_init(net, NN_ALL_LAYERS, o.init, o.gain, o.data.seed);
    for (i = 0; st == NN_OK && i + 1 < n_layers; i++) {
        if (o.l1 > 0) st = nn_net_set_layer_option(net, i, NN_LAYER_L1_WEIGHTS, o.l1);
        if (st == NN_OK && o.l1 > 0)
            st = nn_net_set_layer_option(net, i, NN_LAYER_L1_BIASES, o.l1);
        if (st == NN_OK && o.l2 > 0)
            st = nn_net_set_layer_option(net, i, NN_LAYER_L2_WEIGHTS, o.l2);
        if (st == NN_OK && o.l2 > 0)
            st = nn_net_set_layer_option(net, i, NN_LAYER_L2_BIASES, o.l2);
        if (st == NN_OK && o.dropout > 0)
            st = nn_net_set_layer_option(net, i, NN_LAYER_DROPOUT, o.dropout);
    }
    if (st != NN_OK) { rc = lib_error("creating the network", st); goto done; }
    st = nn_optimizer_create(&opt, net, o.optimizer);
    if (st == NN_OK) st = nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, o.lr);
    if (st == NN_OK) st = nn_optimizer_set(opt, NN_OPT_DECAY, o.decay);
#define SETOPT(flag, key, val) \
    if (st == NN_OK && o.flag) st = nn_optimizer_set(opt, key, val)
    SETOPT(set_momentum, NN_OPT_MOMENTUM, o.momentum);
    SETOPT(set_epsilon, NN_OPT_EPSILON, o.epsilon);
    SETOPT(set_rho, NN_OPT_RHO, o.rho);
    SETOPT(set_beta1, NN_OPT_BETA1, o.beta1);
    SETOPT(set_beta2, NN_OPT_BETA2, o.beta2);
#undef SETOPT
    if (st != NN_OK) { rc = lib_error("setting up the optimizer", st); goto done; }
have_optimizer:
    st = nn_trainer_create(&tr, net, opt);
    if (st == NN_OK) st = nn_trainer_set(tr, NN_TRAIN_LOSS, o.loss);
    if (st == NN_OK) st = nn_trainer_set(tr, NN_TRAIN_EPOCHS, (double)o.epochs);
    if (st == NN_OK) st = nn_trainer_set(tr, NN_TRAIN_BATCH_SIZE, (double)o.batch);
    if (st == NN_OK) st = nn_trainer_set(tr, NN_TRAIN_SHUFFLE, o.shuffle);
    if (st == NN_OK)
        st = nn_trainer_set(tr, NN_TRAIN_SEED, (double)(o.data.seed & 0xffffffffffffull));
    if (st != NN_OK) { rc = lib_error("setting up the trainer", st); goto done; }
    if (o.bar) {
        /* a few updates per epoch when epochs are long */
        size_t bs = o.batch == 0 || o.batch > d.n ? d.n : o.batch;
        size_t spe = (d.n + bs - 1) / bs;
        if (spe >= 20) nn_trainer_set(tr, NN_TRAIN_REPORT_EVERY, (double)(spe / 20));
    }
    pr.bar = o.bar;
    pr.quiet = o.quiet;
    pr.every = o.every;
    pr.epochs = o.epochs;
    pr.n = d.n;
    nn_trainer_set_callback(tr, on_progress, &pr);

    if (!o.quiet) {
        printf("Training ");
        for (i = 0; i <= n_layers; i++)
            printf("%zu%s", sizes[i], i < n_layers ? "-" : "");
        printf(" (");
        for (i = 0; i < n_layers; i++)
            printf("%s%s", act_names[acts[i]], i + 1 < n_layers ? ", " : "");
        printf(", %s loss) on %s data: %zu samples", loss_names[o.loss],
               data_names[o.data.kind], d.n);
        if (val.n) printf(", %zu for validation", val.n);
        printf(", seed %llu\n", o.data.seed);
        printf("%s, learning rate %g, decay %g; %zu epochs, ",
               opt_names[o.optimizer], o.lr, o.decay, o.epochs);
        if (o.batch == 0 || o.batch >= d.n) printf("full batch");
        else printf("batches of %zu", o.batch);
        printf("; %s, kernels %s\n", nn_info(NN_INFO_BLAS),
               nn_info(NN_INFO_KERNELS));
    }

    st = nn_trainer_fit(tr, d.x, d.t, d.y, d.n, val.x, val.t, val.y, val.n);
    if (o.bar && !o.quiet) printf("\n");
    if (st != NN_OK) { rc = lib_error("training", st); goto done; }
    nn_trainer_metric(tr, NN_METRIC_SECONDS, &secs);

    /* evaluate the trained network once more on its training data */
    out = xmalloc(d.n * d.n_out, sizeof(float));
    st = nn_predict(net, d.x, d.n, out);
    if (st == NN_OK)
        st = d.y != NULL ? nn_loss_compute_labels(out, d.y, d.n, d.n_out, &loss)
                         : nn_loss_compute(o.loss, out, d.t, d.n, d.n_out, &loss);
    if (st == NN_OK) {
        double a;
        nn_trainer_metric(tr, NN_METRIC_ACCURACY, &a);
        if (d.y != NULL) st = nn_accuracy(out, d.n, d.n_out, d.y, &acc);
        else if (o.loss == NN_LOSS_BCE)
            st = nn_accuracy_binary(out, d.t, d.n, d.n_out, &acc);
        else
            acc = (float)a;   /* regression: the fit's own precision */
    }
    if (st != NN_OK) { rc = lib_error("evaluation", st); goto done; }
    printf("Done: %zu epochs in %.2f s (%.3g s per epoch). Training loss "
           "%.4f, accuracy %.1f%%", o.epochs, secs, secs / (double)o.epochs,
           (double)loss, 100.0 * (double)acc);
    if (val.n) {
        double vl, va;
        nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &vl);
        nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &va);
        printf("; validation loss %.4f, accuracy %.1f%%", vl, 100.0 * va);
    }
    printf(".\n");
    if (o.output != NULL) {
        st = nn_net_save(net, o.output);
        if (st != NN_OK) { rc = lib_error("saving the model", st); goto done; }
        printf("Model saved to %s\n", o.output);
    }
    if (o.checkpoint != NULL) {
        double it = 0;
        st = nn_checkpoint_save(net, opt, o.checkpoint);
        if (st != NN_OK) { rc = lib_error("saving the checkpoint", st); goto done; }
        nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it);
        printf("Checkpoint (model and %s state after %.0f steps) saved to "
               "%s\n", opt_names[o.optimizer], it, o.checkpoint);
    }
    rc = 0;
done:
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    dataset_free(&d);
    dataset_free(&val);
    free(out);
    return rc;
}

/*---------------------------------------------------------------- eval --*/

static int load_model(const char *path, nn_net **net)
{
    int st = nn_net_load(net, path);
    if (st != NN_OK) return lib_error("loading the model", st);
    return 0;
}

static int cmd_eval(int argc, char **argv)
{
    struct data_opts o;
    struct dataset d;
    const char *model = NULL;
    nn_net *net = NULL;
    float *out = NULL, loss = 0, acc = 0;
    size_t n_out, L;
    int ai, st, rc = 1, bce;

    data_defaults(&o);
    for (ai = 0; ai < argc; ai++) {
        if (data_option(&o, argc, argv, &ai)) continue;
        if (strcmp(argv[ai], "-h") == 0 || strcmp(argv[ai], "--help") == 0) {
            printf("Usage: %s eval MODEL [data options]\n\n"
                   "Loss and accuracy of a saved model on a data set, given "
                   "with the data options\nof '%s train' (--data, --samples, "
                   "--classes, --seed, --images/--labels,\n--scale, --limit). "
                   "Default: spiral data with seed 0.\n", prog, prog);
            return 0;
        }
        if (argv[ai][0] == '-') usage_error("eval: unknown option '%s'", argv[ai]);
        if (model != NULL) usage_error("eval: one MODEL only");
        model = argv[ai];
    }
    if (model == NULL) usage_error("eval: expects a MODEL path");
    data_finish(&o);
    if (load_model(model, &net) != 0) return 1;
    L = nn_net_num_layers(net);
    n_out = nn_net_layer_outputs(net, L - 1);
    bce = n_out == 1 && nn_net_layer_activation(net, L - 1) == NN_ACT_SIGMOID;
    o.binary = bce && o.kind != DATA_SINE;
    if (make_data(&o, o.seed, 0, &d) != 0) goto done;
    if (d.n_in != nn_net_layer_inputs(net, 0) || d.n_out > n_out) {
        fprintf(stderr, "%s: the model takes %zu inputs and gives %zu outputs;"
                " the data has %zu features and %zu %s\n", prog,
                nn_net_layer_inputs(net, 0), n_out, d.n_in, d.n_out,
                d.y ? "classes" : "targets");
        goto done;
    }
    out = xmalloc(d.n * n_out, sizeof(float));
    st = nn_predict(net, d.x, d.n, out);
    if (st != NN_OK) { rc = lib_error("prediction", st); goto done; }
    if (d.y != NULL) {
        st = nn_loss_compute_labels(out, d.y, d.n, n_out, &loss);
        if (st == NN_OK) st = nn_accuracy(out, d.n, n_out, d.y, &acc);
        if (st == NN_OK)
            printf("%s on %s data (%zu samples): categorical cross-entropy "
                   "%.4f, accuracy %.2f%%\n", model, data_names[o.kind], d.n,
                   (double)loss, 100.0 * (double)acc);
    } else if (o.binary) {
        st = nn_loss_compute(NN_LOSS_BCE, out, d.t, d.n, 1, &loss);
        if (st == NN_OK) st = nn_accuracy_binary(out, d.t, d.n, 1, &acc);
        if (st == NN_OK)
            printf("%s on %s data (%zu samples): binary cross-entropy %.4f, "
                   "accuracy %.2f%%\n", model, data_names[o.kind], d.n,
                   (double)loss, 100.0 * (double)acc);
    } else {
        double mean = 0, var = 0;
        size_t i;
        for (i = 0; i < d.n; i++) mean += d.t[i];
        mean /= (double)d.n;
        for (i = 0; i < d.n; i++) var += (d.t[i] - mean) * (d.t[i] - mean);
        st = nn_loss_compute(NN_LOSS_MSE, out, d.t, d.n, 1, &loss);
        if (st == NN_OK)
            st = nn_accuracy_regression(out, d.t, d.n, 1,
                                        (float)(sqrt(var / (double)d.n) / 250),
                                        &acc);
        if (st == NN_OK)
            printf("%s on %s data (%zu samples): mean squared error %.6g, "
                   "accuracy %.2f%% (within std/250)\n", model,
                   data_names[o.kind], d.n, (double)loss, 100.0 * (double)acc);
    }
    if (st != NN_OK) { rc = lib_error("evaluation", st); goto done; }
    rc = 0;
done:
    nn_net_destroy(net);
    dataset_free(&d);
    free(out);
    return rc;
}

/*------------------------------------------------------------- predict --*/

static int cmd_predict(int argc, char **argv)
{
    const char *model = NULL, *file = NULL;
    int classes_only = 0, ai, st, rc = 1;
    nn_net *net = NULL;
    FILE *in = stdin;
    size_t n_in, n_out, L, line_no = 0;
    float *x = NULL, *out = NULL;
    char line[65536];

    for (ai = 0; ai < argc; ai++) {
        const char *a = argv[ai];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("Usage: %s predict MODEL [FILE] [--class]\n\n"
                   "Reads one sample per line from FILE (or standard input):"
                   " numbers separated\nby spaces or commas, as many as the "
                   "model's inputs.  Prints the model's\noutputs for each "
                   "line, or with --class the index of the largest "
                   "output.\n", prog);
            return 0;
        }
        if (strcmp(a, "--class") == 0) { classes_only = 1; continue; }
        if (a[0] == '-' && a[1] != '\0')
            usage_error("predict: unknown option '%s'", a);
        if (model == NULL) model = a;
        else if (file == NULL) file = a;
        else usage_error("predict: too many arguments");
    }
    if (model == NULL) usage_error("predict: expects a MODEL path");
    if (load_model(model, &net) != 0) return 1;
    L = nn_net_num_layers(net);
    n_in = nn_net_layer_inputs(net, 0);
    n_out = nn_net_layer_outputs(net, L - 1);
    if (file != NULL && strcmp(file, "-") != 0) {
        in = fopen(file, "r");
        if (in == NULL) {
            fprintf(stderr, "%s: cannot open %s: %s\n", prog, file,
                    strerror(errno));
            goto done;
        }
    }
    x = xmalloc(n_in, sizeof(float));
    out = xmalloc(n_out, sizeof(float));
    while (fgets(line, sizeof line, in) != NULL) {
        char *p = line, *end;
        size_t k = 0, j;
        line_no++;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\n' || *p == '\0' || *p == '#') continue;
        while (k < n_in) {
            while (*p == ' ' || *p == '\t' || *p == ',') p++;
            if (*p == '\n' || *p == '\0') break;
            errno = 0;
            x[k] = strtof(p, &end);
            if (end == p || errno == ERANGE) {
                fprintf(stderr, "%s: line %zu: '%.20s' is not a number\n",
                        prog, line_no, p);
                goto done;
            }
            p = end;
            k++;
        }
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\r') p++;
        if (k != n_in || (*p != '\n' && *p != '\0')) {
            fprintf(stderr, "%s: line %zu: expected %zu numbers (the model's "
                    "inputs)\n", prog, line_no, n_in);
            goto done;
        }
        st = nn_predict(net, x, 1, out);
        if (st != NN_OK) {
            char what[64];
            snprintf(what, sizeof what, "line %zu", line_no);
            rc = lib_error(what, st);
            goto done;
        }
        if (classes_only) {
            size_t best = 0;
            for (j = 1; j < n_out; j++)
                if (out[j] > out[best]) best = j;
            printf("%zu\n", n_out == 1 ? (size_t)(out[0] > 0.5f) : best);
        } else {
            for (j = 0; j < n_out; j++)
                printf("%s%.7g", j ? " " : "", (double)out[j]);
            printf("\n");
        }
    }
    if (ferror(in)) {
        fprintf(stderr, "%s: reading %s failed\n", prog, file ? file : "stdin");
        goto done;
    }
    rc = 0;
done:
    if (in != stdin && in != NULL) fclose(in);
    nn_net_destroy(net);
    free(x);
    free(out);
    return rc;
}

/*---------------------------------------------------------------- info --*/

static int cmd_info(int argc, char **argv)
{
    nn_net *net = NULL;
    size_t i, L;
    if (argc == 1 && (strcmp(argv[0], "-h") == 0 ||
                      strcmp(argv[0], "--help") == 0)) {
        printf("Usage: %s info MODEL\n\nDescribe a model saved by "
               "'%s train -o MODEL' or nn_net_save().\n", prog, prog);
        return 0;
    }
    if (argc != 1) usage_error("info: expects one MODEL path");
    if (load_model(argv[0], &net) != 0) return 1;
    L = nn_net_num_layers(net);
    printf("%s: %zu layers, %zu parameters\n", argv[0], L,
           nn_net_num_params(net));
    for (i = 0; i < L; i++) {
        double drop = 0, l1 = 0, l2 = 0;
        nn_net_get_layer_option(net, i, NN_LAYER_DROPOUT, &drop);
        nn_net_get_layer_option(net, i, NN_LAYER_L1_WEIGHTS, &l1);
        nn_net_get_layer_option(net, i, NN_LAYER_L2_WEIGHTS, &l2);
        printf("  layer %zu: %zu -> %zu, %s", i, nn_net_layer_inputs(net, i),
               nn_net_layer_outputs(net, i),
               act_names[nn_net_layer_activation(net, i)]);
        if (drop > 0) printf(", dropout %g", drop);
        if (l1 > 0) printf(", l1 %g", l1);
        if (l2 > 0) printf(", l2 %g", l2);
        {   /* weight spectrum: largest singular value (LAPACKE_sgesdd) */
            double sn = 0;
            if (nn_net_layer_spectral_norm(net, i, &sn) == NN_OK)
                printf(", spectral norm %.4g", sn);
        }
        printf("\n");
    }
    nn_net_destroy(net);
    return 0;
}

/*---------------------------------------------------------------- main --*/

static void main_help(void)
{
    printf(
"Usage: %s COMMAND [options]\n"
"\n"
"Commands:\n"
"  train      train a network; with no options, the NNFS course's 2-64-3\n"
"             spiral classifier (see '%s train --help')\n"
"  eval       loss and accuracy of a saved model on a data set\n"
"  predict    a saved model's outputs for rows of numbers\n"
"  info       describe a saved model\n"
"  version    library version, BLAS, BLAS core and kernel set\n"
"\n"
"Run '%s COMMAND --help' for a command's options.\n",
           prog, prog, prog);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        main_help();
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        main_help();
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("nnfs %s, %s (core %s), kernels %s (built: %s)\n",
               nn_version(), nn_info(NN_INFO_BLAS),
               nn_info(NN_INFO_BLAS_CORE)[0] ? nn_info(NN_INFO_BLAS_CORE)
                                             : "unknown",
               nn_info(NN_INFO_KERNELS), nn_info(NN_INFO_KERNELS_BUILT));
        printf("BLAS core choice: %s\n", nn_info(NN_INFO_BLAS_CORE_CHOICE));
        return 0;
    }
    if (strcmp(argv[1], "train") == 0) return cmd_train(argc - 2, argv + 2);
    if (strcmp(argv[1], "eval") == 0) return cmd_eval(argc - 2, argv + 2);
    if (strcmp(argv[1], "predict") == 0) return cmd_predict(argc - 2, argv + 2);
    if (strcmp(argv[1], "info") == 0) return cmd_info(argc - 2, argv + 2);
    usage_error("unknown command '%s'", argv[1]);
    return 2;
}
