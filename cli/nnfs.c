/*
 * nnfs - command-line front end of libnnfs.
 *
 *   nnfs train [options]     train a network (default: the NNFS course's
 *                            2-64-3 spiral classifier) and report progress
 *   nnfs info MODEL          describe a saved model
 *   nnfs version             library, BLAS and kernel set in use
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

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
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

static const char *const act_names[] = {"linear", "relu", "sigmoid", "tanh",
                                        "softmax"};

static int32_t parse_act(const char *opt, const char *s)
{
    int32_t i;
    for (i = 0; i < 5; i++)
        if (strcmp(s, act_names[i]) == 0) return i;
    usage_error("%s: unknown activation '%s' (linear, relu, sigmoid, tanh, "
                "softmax)", opt, s);
    return -1;
}

/* "64,32:tanh" -> widths and activations of the hidden layers */
static size_t parse_hidden(const char *s, size_t *widths, int32_t *acts,
                           int32_t default_act)
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
        acts[n] = colon != NULL ? parse_act("--hidden", colon + 1)
                                : default_act;
        n++;
    }
    if (n == 0) usage_error("--hidden: empty list");
    return n;
}

/*--------------------------------------------------------------- train --*/

struct train_opts {
    size_t samples, classes, epochs, every;
    size_t hidden[MAX_HIDDEN];
    int32_t hidden_act[MAX_HIDDEN];
    size_t n_hidden;
    double lr;
    unsigned long long seed;
    const char *output;
    int quiet, progress;   /* progress: -1 auto (terminal), 0 lines, 1 bar */
};

static void train_help(void)
{
    printf(
"Usage: %s train [options]\n"
"\n"
"Train a dense network on the NNFS course's spiral data set and report\n"
"progress.  With no options: 100 points per class, 3 classes, a 2-64-3\n"
"network (ReLU hidden layer, softmax output, categorical cross-entropy),\n"
"10000 epochs of full-batch gradient descent.\n"
"\n"
"Data:\n"
"  --samples N          points per class (default 100)\n"
"  --classes N          number of classes (default 3)\n"
"Network:\n"
"  --hidden LIST        hidden layer widths, comma-separated, each optionally\n"
"                       followed by :ACTIVATION (default 64:relu);\n"
"                       'none' for no hidden layer\n"
"Training:\n"
"  --epochs N           passes over the data (default 10000)\n"
"  --lr X               learning rate (default 1.0)\n"
"  --seed N             seed for the data and the initial weights (default 0)\n"
"Output:\n"
"  -o, --output PATH    save the trained model to PATH\n"
"  --every N            report every N epochs (default: 100 lines, or a\n"
"                       progress bar on a terminal)\n"
"  --progress=bar|lines choose the report style\n"
"  -q, --quiet          only the final summary\n"
"  -h, --help           this help\n"
"\n"
"Example:\n"
"  %s train --hidden 64,64 --epochs 2000 -o spiral.nnfs\n",
           prog, prog);
}

static void progress_bar(size_t epoch, size_t epochs, float loss, float acc,
                         double elapsed)
{
    char bar[31];
    size_t fill = epochs ? epoch * 30 / epochs : 30, i;
    double rate = elapsed > 0 ? (double)epoch / elapsed : 0;
    for (i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
    if (fill < 30) bar[fill] = '>';
    bar[30] = '\0';
    fprintf(stdout, "\r[%s] %zu/%zu  loss %.4f  acc %.3f  %.0f epochs/s ",
            bar, epoch, epochs, (double)loss, (double)acc, rate);
    fflush(stdout);
}

static int cmd_train(int argc, char **argv)
{
    struct train_opts o;
    size_t sizes[MAX_HIDDEN + 2];
    int32_t acts[MAX_HIDDEN + 1];
    size_t n_layers, i, n, epoch;
    float *x = NULL, *out = NULL, loss = 0, acc = 0;
    int32_t *y = NULL;
    nn_net *net = NULL;
    int st, rc = 1;
    double t0, elapsed;

    memset(&o, 0, sizeof o);
    o.samples = 100;
    o.classes = 3;
    o.epochs = 10000;
    o.lr = 1.0;
    o.hidden[0] = 64;
    o.hidden_act[0] = NN_ACT_RELU;
    o.n_hidden = 1;
    o.progress = -1;

    for (i = 0; i < (size_t)argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < (size_t)argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (v == NULL) usage_error("%s needs a value", a); i++; } while (0)
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            train_help();
            return 0;
        } else if (strcmp(a, "--samples") == 0) {
            NEED_VALUE();
            o.samples = (size_t)parse_uint(a, v, 1, 10000000);
        } else if (strcmp(a, "--classes") == 0) {
            NEED_VALUE();
            o.classes = (size_t)parse_uint(a, v, 2, 1000);
        } else if (strcmp(a, "--hidden") == 0) {
            NEED_VALUE();
            o.n_hidden = parse_hidden(v, o.hidden, o.hidden_act, NN_ACT_RELU);
        } else if (strcmp(a, "--epochs") == 0) {
            NEED_VALUE();
            o.epochs = (size_t)parse_uint(a, v, 1, 100000000);
        } else if (strcmp(a, "--lr") == 0) {
            NEED_VALUE();
            o.lr = parse_double(a, v, 0, 1e6);
        } else if (strcmp(a, "--seed") == 0) {
            NEED_VALUE();
            o.seed = parse_uint(a, v, 0, UINT64_MAX);
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            NEED_VALUE();
            o.output = v;
        } else if (strcmp(a, "--every") == 0) {
            NEED_VALUE();
            o.every = (size_t)parse_uint(a, v, 1, 100000000);
        } else if (strcmp(a, "--progress=bar") == 0) {
            o.progress = 1;
        } else if (strcmp(a, "--progress=lines") == 0) {
            o.progress = 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
        } else {
            usage_error("train: unknown option '%s'", a);
        }
#undef NEED_VALUE
    }
    if (o.progress < 0) o.progress = isatty(STDOUT_FILENO) ? 1 : 0;
    if (o.every == 0) o.every = o.epochs >= 100 ? o.epochs / 100 : 1;

    n = o.samples * o.classes;
    sizes[0] = 2;
    for (i = 0; i < o.n_hidden; i++) {
        sizes[i + 1] = o.hidden[i];
        acts[i] = o.hidden_act[i];
    }
    sizes[o.n_hidden + 1] = o.classes;
    acts[o.n_hidden] = NN_ACT_SOFTMAX;
    n_layers = o.n_hidden + 1;

    x = malloc(n * 2 * sizeof *x);
    y = malloc(n * sizeof *y);
    out = malloc(n * o.classes * sizeof *out);
    if (x == NULL || y == NULL || out == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto done;
    }
    st = nn_data_spiral(x, y, o.samples, o.classes, o.seed);
    if (st != NN_OK) { rc = lib_error("nn_data_spiral", st); goto done; }
    st = nn_net_create(&net, n_layers, sizes, acts, o.seed);
    if (st != NN_OK) { rc = lib_error("nn_net_create", st); goto done; }

    if (!o.quiet) {
        printf("Training ");
        for (i = 0; i <= n_layers; i++)
            printf("%zu%s", sizes[i], i < n_layers ? "-" : "");
        printf(" (");
        for (i = 0; i < n_layers; i++)
            printf("%s%s", act_names[acts[i]], i + 1 < n_layers ? ", " : "");
        printf(") on spiral data: %zu points, %zu classes, seed %llu\n", n,
               o.classes, o.seed);
        printf("SGD, learning rate %g, %zu epochs, full batch; %s, "
               "kernels %s\n", o.lr, o.epochs, nn_info(NN_INFO_BLAS),
               nn_info(NN_INFO_KERNELS));
    }

    t0 = now_seconds();
    for (epoch = 1; epoch <= o.epochs; epoch++) {
        st = nn_forward(net, x, n, out);
        if (st == NN_OK) st = nn_backward_labels(net, y, &loss);
        if (st == NN_OK) st = nn_sgd_step(net, (float)o.lr);
        if (st != NN_OK) {
            if (o.progress && !o.quiet) printf("\n");
            rc = lib_error("training step", st);
            goto done;
        }
        if (!o.quiet && (epoch % o.every == 0 || epoch == 1 ||
                         epoch == o.epochs)) {
            nn_accuracy(out, n, o.classes, y, &acc);
            if (o.progress)
                progress_bar(epoch, o.epochs, loss, acc, now_seconds() - t0);
            else
                printf("epoch %zu  loss %.4f  acc %.3f\n", epoch,
                       (double)loss, (double)acc);
        }
    }
    elapsed = now_seconds() - t0;
    if (o.progress && !o.quiet) printf("\n");

    /* the loss above was for the weights before the last step: evaluate
       the trained network once more */
    st = nn_predict(net, x, n, out);
    if (st == NN_OK) st = nn_loss_compute_labels(out, y, n, o.classes, &loss);
    if (st == NN_OK) st = nn_accuracy(out, n, o.classes, y, &acc);
    if (st != NN_OK) { rc = lib_error("evaluation", st); goto done; }
    printf("Done: %zu epochs in %.2f s (%.0f epochs/s). Final loss %.4f, "
           "accuracy %.1f%% (%zu of %zu points).\n", o.epochs, elapsed,
           elapsed > 0 ? (double)o.epochs / elapsed : 0.0, (double)loss,
           100.0 * (double)acc, (size_t)lround((double)acc * (double)n), n);
    if (o.output != NULL) {
        st = nn_net_save(net, o.output);
        if (st != NN_OK) { rc = lib_error("nn_net_save", st); goto done; }
        printf("Model saved to %s\n", o.output);
    }
    rc = 0;
done:
    nn_net_destroy(net);
    free(x);
    free(y);
    free(out);
    return rc;
}

/*---------------------------------------------------------------- info --*/

static int cmd_info(int argc, char **argv)
{
    nn_net *net = NULL;
    size_t i, L;
    int st;
    if (argc == 1 && (strcmp(argv[0], "-h") == 0 ||
                      strcmp(argv[0], "--help") == 0)) {
        printf("Usage: %s info MODEL\n\nDescribe a model saved by "
               "'%s train -o MODEL' or nn_net_save().\n", prog, prog);
        return 0;
    }
    if (argc != 1) usage_error("info: expects one MODEL path");
    st = nn_net_load(&net, argv[0]);
    if (st != NN_OK) return lib_error("loading the model", st);
    L = nn_net_num_layers(net);
    printf("%s: %zu layers, %zu parameters\n", argv[0], L,
           nn_net_num_params(net));
    for (i = 0; i < L; i++)
        printf("  layer %zu: %zu -> %zu, %s\n", i, nn_net_layer_inputs(net, i),
               nn_net_layer_outputs(net, i),
               act_names[nn_net_layer_activation(net, i)]);
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
"  train      train a network on the built-in spiral data (see\n"
"             '%s train --help'); with no options, the NNFS course's\n"
"             2-64-3 spiral classifier\n"
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
                                             : "(unknown)",
               nn_info(NN_INFO_KERNELS), nn_info(NN_INFO_KERNELS_BUILT));
        return 0;
    }
    if (strcmp(argv[1], "train") == 0) return cmd_train(argc - 2, argv + 2);
    if (strcmp(argv[1], "info") == 0) return cmd_info(argc - 2, argv + 2);
    usage_error("unknown command '%s'", argv[1]);
    return 2;
}
