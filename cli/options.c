/*
 * options.c - the nnfs program's options: ONE table (each option one row:
 * its long name, short name, the kind of its argument, the field it sets,
 * its range or value names, the commands that accept it, its section and
 * help text), a getopt_long parser built from it, and the --help lists
 * printed from it.
 *
 * Adding an option is adding a row to `options[]` (and the field it sets
 * to struct cli_opts in cli.h); cli_parse() stores it, refuses it for the
 * commands not in its `cmds`, and `nnfs train --help` lists it.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds of argument, and how cli_parse stores them. */
enum kind {
    K_FLAG,     /* no argument: the int field = (int)lo */
    K_SIZE,     /* size_t in [min, max] */
    K_U64,      /* unsigned long long in [min, max] */
    K_INT,      /* int in [min, max] */
    K_DOUBLE,   /* double in [lo, hi] */
    K_STRING,   /* const char * */
    K_CHOICE,   /* int: the index of the value among names(0), names(1)... */
    K_CUSTOM    /* set(row, o, value) parses and stores */
};

enum { F_NET = 1 };   /* a network/optimizer setting: refused by --resume */

struct cli_option;
typedef void option_setter(const struct cli_option *row, struct cli_opts *o,
                           const char *arg);

struct cli_option {
    const char *name;        /* long name, without "--" */
    char short_name;         /* 'o' for -o, or 0 */
    enum kind kind;
    size_t field;            /* offsetof(struct cli_opts, ...) */
    double lo, hi;                 /* K_DOUBLE range; K_FLAG value */
    unsigned long long min, max;   /* K_SIZE, K_U64, K_INT range */
    const char *(*names)(int32_t); /* K_CHOICE value names */
    option_setter *set;            /* K_CUSTOM */
    unsigned cmds;           /* C_* bits of the commands that accept it */
    unsigned flags;          /* F_NET */
    const char *section;     /* help: a heading printed before this row */
    const char *arg;         /* help: the value's name, e.g. "N" */
    const char *help;        /* help text ('\n' continues it); NULL: not
                                listed */
};

static const char *const data_names[] = {"spiral", "vertical", "sine",
                                         "idx"};
static const char *const scale_names[] = {"none", "unit", "symmetric"};
static const char *const progress_names[] = {"lines", "bar"};

const char *data_name(int32_t kind)
{
    return kind >= 0 && kind <= DATA_IDX ? data_names[kind] : NULL;
}

static const char *scale_name(int32_t scale)
{
    return scale >= NN_SCALE_NONE && scale <= NN_SCALE_SYMMETRIC
               ? scale_names[scale] : NULL;
}

static const char *progress_name(int32_t i)
{
    return i >= 0 && i <= 1 ? progress_names[i] : NULL;
}

/* index = NN_PARALLEL_AUTO, _BLAS, _REPLICAS */
static const char *const parallel_names[] = {"auto", "blas", "replicas"};
static const char *parallel_name(int32_t i)
{
    return i >= 0 && i <= 2 ? parallel_names[i] : NULL;
}

static option_setter set_idx_path, set_hidden, set_init;

#define FIELD(f) offsetof(struct cli_opts, f)
#define DATA_CMDS (C_TRAIN | C_EVAL)

static const struct cli_option options[] = {
    {.name = "help", .short_name = 'h', .kind = K_FLAG, .cmds = C_ALL},
    /* data: train and eval */
    {.name = "data", .kind = K_CHOICE, .field = FIELD(data.kind),
     .names = data_name, .cmds = DATA_CMDS, .section = "Data",
     .arg = "spiral|vertical|sine|idx", .help = "data set (default spiral)"},
    {.name = "samples", .kind = K_SIZE, .field = FIELD(data.samples),
     .min = 1, .max = 10000000, .cmds = DATA_CMDS, .arg = "N",
     .help = "points per class (spiral, vertical; default 100) or\n"
             "in all (sine; default 1000)"},
    {.name = "classes", .kind = K_SIZE, .field = FIELD(data.classes),
     .min = 2, .max = 100000, .cmds = DATA_CMDS, .arg = "N",
     .help = "classes of spiral/vertical (default 3)"},
    {.name = "train-images", .kind = K_CUSTOM, .field = FIELD(data.images),
     .set = set_idx_path, .cmds = DATA_CMDS, .arg = "F",
     .help = "IDX images (MNIST/Fashion-MNIST, plain or .gz);\n"
             "implies --data idx"},
    {.name = "train-labels", .kind = K_CUSTOM, .field = FIELD(data.labels),
     .set = set_idx_path, .cmds = DATA_CMDS, .arg = "F",
     .help = "their IDX labels"},
    {.name = "images", .kind = K_CUSTOM, .field = FIELD(data.images),
     .set = set_idx_path, .cmds = DATA_CMDS, .arg = "F"},
    {.name = "labels", .kind = K_CUSTOM, .field = FIELD(data.labels),
     .set = set_idx_path, .cmds = DATA_CMDS, .arg = "F"},
    {.name = "test-images", .kind = K_STRING,
     .field = FIELD(data.test_images), .cmds = DATA_CMDS, .arg = "F",
     .help = "IDX pair used as validation data (samples of the\n"
             "training images' size; with --test-labels F)"},
    {.name = "test-labels", .kind = K_STRING,
     .field = FIELD(data.test_labels), .cmds = DATA_CMDS, .arg = "F",
     .help = "labels of --test-images"},
    {.name = "scale", .kind = K_CHOICE, .field = FIELD(data.scale),
     .names = scale_name, .cmds = DATA_CMDS, .arg = "none|unit|symmetric",
     .help = "IDX pixel scaling (default symmetric:\n"
             "(x - 127.5) / 127.5, as the course)"},
    {.name = "limit", .kind = K_SIZE, .field = FIELD(data.limit), .min = 1,
     .max = 1000000000, .cmds = DATA_CMDS, .arg = "N",
     .help = "use only the first N training samples (idx)"},
    {.name = "val-split", .kind = K_DOUBLE, .field = FIELD(val_split),
     .lo = 0, .hi = 0.9, .cmds = C_TRAIN, .arg = "F",
     .help = "hold out this fraction of the training data for\n"
             "validation (default 0)"},
    {.name = "seed", .kind = K_U64, .field = FIELD(data.seed), .min = 0,
     .max = UINT64_MAX, .cmds = DATA_CMDS, .arg = "N",
     .help = "seed of the data, the weights and the shuffling"},
    /* network */
    {.name = "hidden", .kind = K_CUSTOM, .set = set_hidden, .cmds = C_TRAIN,
     .flags = F_NET, .section = "Network", .arg = "LIST",
     .help = "hidden widths, each optionally :ACTIVATION, e.g.\n"
             "64,64:tanh; 'none' for no hidden layer (defaults:\n"
             "64 spiral/vertical, 64,64 sine, 128,128 idx)"},
    {.name = "output-activation", .kind = K_CHOICE, .field = FIELD(out_act),
     .names = nn_activation_name, .cmds = C_TRAIN, .flags = F_NET,
     .arg = "ACT", .help = "(default: softmax for cce, sigmoid for bce,\n"
                           "linear for mse/mae)"},
    {.name = "loss", .kind = K_CHOICE, .field = FIELD(loss),
     .names = nn_loss_name, .cmds = C_TRAIN, .arg = "cce|bce|mse|mae",
     .help = "(default: cce; mse for sine).  bce on a\n"
             "2-class set trains one sigmoid output"},
    {.name = "init", .kind = K_CUSTOM, .set = set_init, .cmds = C_TRAIN,
     .flags = F_NET, .arg = "default|normal:G|uniform:G",
     .help = "weight scheme and gain; normal:0.1 is the\n"
             "course's 0.1 * randn (default: default, normal:0.1\n"
             "for sine)"},
    /* optimizer */
    {.name = "optimizer", .kind = K_CHOICE, .field = FIELD(optimizer),
     .names = nn_optimizer_name, .cmds = C_TRAIN, .flags = F_NET,
     .section = "Optimizer", .arg = "sgd|adagrad|rmsprop|adam",
     .help = "(default adam)"},
    {.name = "lr", .kind = K_DOUBLE, .field = FIELD(lr), .lo = 0, .hi = 1e6,
     .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "learning rate (defaults: spiral/vertical 0.05;\n"
             "sine 0.005; idx 0.001)"},
    {.name = "decay", .kind = K_DOUBLE, .field = FIELD(decay), .lo = 0,
     .hi = 1e6, .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "its decay lr / (1 + decay * it) (defaults:\n"
             "spiral/vertical 5e-7; sine 1e-3; idx 1e-4)"},
    {.name = "momentum", .kind = K_DOUBLE, .field = FIELD(momentum),
     .lo = 0, .hi = 0.999999, .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "sgd's momentum"},
    {.name = "epsilon", .kind = K_DOUBLE, .field = FIELD(epsilon),
     .lo = 1e-30, .hi = 1, .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "epsilon of adagrad, rmsprop, adam"},
    {.name = "rho", .kind = K_DOUBLE, .field = FIELD(rho), .lo = 0,
     .hi = 0.999999, .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "rmsprop's rho"},
    {.name = "beta1", .kind = K_DOUBLE, .field = FIELD(beta1), .lo = 0,
     .hi = 0.999999, .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "adam's beta1"},
    {.name = "beta2", .kind = K_DOUBLE, .field = FIELD(beta2), .lo = 0,
     .hi = 0.999999, .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "adam's beta2"},
    /* regularization */
    {.name = "l1", .kind = K_DOUBLE, .field = FIELD(l1), .lo = 0, .hi = 1e6,
     .cmds = C_TRAIN, .flags = F_NET, .section = "Regularization",
     .arg = "X", .help = "L1 penalty on the hidden layers' weights and biases"},
    {.name = "l2", .kind = K_DOUBLE, .field = FIELD(l2), .lo = 0, .hi = 1e6,
     .cmds = C_TRAIN, .flags = F_NET, .arg = "X",
     .help = "L2 penalty on the hidden layers' weights and biases"},
    {.name = "dropout", .kind = K_DOUBLE, .field = FIELD(dropout), .lo = 0,
     .hi = 0.99, .cmds = C_TRAIN, .flags = F_NET, .arg = "R",
     .help = "dropout rate after each hidden layer"},
    /* training */
    {.name = "epochs", .kind = K_SIZE, .field = FIELD(epochs), .min = 1,
     .max = 100000000, .cmds = C_TRAIN, .section = "Training", .arg = "N",
     .help = "passes over the data (default 10000; 10 for idx)"},
    {.name = "batch-size", .kind = K_SIZE, .field = FIELD(batch), .min = 0,
     .max = 2147483647, .cmds = C_TRAIN, .arg = "N",
     .help = "rows per step, 0 = all (default 0; 128 for idx)"},
    {.name = "no-shuffle", .kind = K_FLAG, .field = FIELD(shuffle), .lo = 0,
     .cmds = C_TRAIN, .help = "keep the data order"},
    {.name = "threads", .kind = K_INT, .field = FIELD(threads), .min = 1,
     .max = 1024, .cmds = C_TRAIN, .arg = "N",
     .help = "threads (BLAS threads or replicas, see --parallel)"},
    {.name = "parallel", .kind = K_CHOICE, .field = FIELD(parallel),
     .names = parallel_name, .cmds = C_TRAIN, .arg = "auto|blas|replicas",
     .help = "auto (default: per step size), blas (the BLAS's own\n"
             "threads) or replicas (the batch's rows split over\n"
             "the threads)"},
    /* output */
    {.name = "output", .short_name = 'o', .kind = K_STRING,
     .field = FIELD(output), .cmds = C_TRAIN, .section = "Output",
     .arg = "PATH", .help = "save the trained model"},
    {.name = "checkpoint", .kind = K_STRING, .field = FIELD(checkpoint),
     .cmds = C_TRAIN, .arg = "PATH",
     .help = "save the model with the optimizer's state at the\n"
             "end, so that --resume can continue it (weights,\n"
             "optimizer state and learning-rate schedule)"},
    {.name = "checkpoint-every", .kind = K_SIZE,
     .field = FIELD(checkpoint_every), .min = 1, .max = 100000000,
     .cmds = C_TRAIN, .arg = "N",
     .help = "also save the --checkpoint after every N epochs, so\n"
             "a run that dies can --resume from the last one"},
    {.name = "resume", .kind = K_STRING, .field = FIELD(resume),
     .cmds = C_TRAIN, .arg = "PATH",
     .help = "continue training a checkpoint: its network and\n"
             "optimizer (and their settings) are used, so the\n"
             "network and optimizer options are refused with it"},
    {.name = "every", .kind = K_SIZE, .field = FIELD(every), .min = 1,
     .max = 100000000, .cmds = C_TRAIN, .arg = "N",
     .help = "print every N epochs (default: about 100 lines);\n"
             "implies --progress=lines"},
    {.name = "progress", .kind = K_CHOICE, .field = FIELD(bar),
     .names = progress_name, .cmds = C_TRAIN, .arg = "bar|lines",
     .help = "report style (default: a bar on a terminal)"},
    {.name = "quiet", .short_name = 'q', .kind = K_FLAG, .field = FIELD(quiet),
     .lo = 1, .cmds = C_TRAIN, .help = "only the final summary"},
    /* predict */
    {.name = "class", .kind = K_FLAG, .field = FIELD(class_only), .lo = 1,
     .cmds = C_PREDICT,
     .help = "print the index of the largest output instead of\n"
             "the outputs"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])
#define VAL_BASE 256   /* getopt_long's val of row i: VAL_BASE + i */

_Static_assert(N_OPTIONS <= 64, "cli_opts.given has one bit per option");

void cli_defaults(struct cli_opts *o)
{
    memset(o, 0, sizeof *o);
    o->data.kind = DATA_SPIRAL;
    o->data.samples = 0;   /* per data set: data_finish() */
    o->data.classes = 3;
    o->data.scale = 2;     /* the course's (x - 127.5) / 127.5 */
    o->n_hidden = (size_t)-1;
    o->out_act = o->loss = o->init = -1;
    o->optimizer = NN_OPT_ADAM;
    o->gain = 1.0;
    o->shuffle = 1;
    o->bar = -1;
    o->epochs = 0;
    o->batch = (size_t)-1;
}

/*------------------------------------------------------- value parsers --*/

/* strtod/strtof set ERANGE on underflow too: a subnormal (or a value
   that rounds to zero) is still a number; only overflow is out of range. */
static double parse_double(const char *opt, const char *s, double lo,
                           double hi)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end != '\0' || isspace((unsigned char)*s) || isnan(v))
        usage_error("%s expects a number, got '%s'", opt, s);
    if (isinf(v) || v < lo || v > hi)
        usage_error("%s = %s is outside [%g, %g]", opt, s, lo, hi);
    return v;
}

static unsigned long long parse_uint(const char *opt, const char *s,
                                     unsigned long long lo,
                                     unsigned long long hi)
{
    char *end;
    unsigned long long v;
    if (!isdigit((unsigned char)*s))
        usage_error("%s expects a non-negative integer, got '%s'", opt, s);
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end != '\0')
        usage_error("%s expects a non-negative integer, got '%s'", opt, s);
    if (errno == ERANGE || v < lo || v > hi)
        usage_error("%s = %s is outside [%llu, %llu]", opt, s, lo, hi);
    return v;
}

/* The value whose name(value) is s, among name(0), name(1), ... up to the
   first NULL: the library's nn_activation_name, nn_loss_name,
   nn_optimizer_name, or data_name / scale_name above. */
static int pick(const char *opt, const char *s,
                const char *(*name)(int32_t))
{
    int32_t i;
    char list[256] = "";
    for (i = 0; name(i) != NULL; i++)
        if (strcmp(s, name(i)) == 0) return (int)i;
    for (i = 0; name(i) != NULL; i++) {
        if (i > 0) strcat(list, ", ");
        strcat(list, name(i));
    }
    usage_error("%s: unknown value '%s' (one of: %s)", opt, s, list);
}

/* "64,32:tanh" -> widths and activations of the hidden layers; every
   field must hold a width (no empty fields: "64,,64" is a typo, not two
   layers). */
static size_t parse_hidden(const char *s, size_t *widths, int32_t *acts)
{
    char buf[1024], *tok, *next;
    size_t n = 0;
    if (strlen(s) >= sizeof buf) usage_error("--hidden: list too long");
    strcpy(buf, s);
    if (strcmp(buf, "none") == 0) return 0;
    for (tok = buf; tok != NULL; tok = next) {
        char *colon;
        next = strchr(tok, ',');
        if (next != NULL) *next++ = '\0';
        if (*tok == '\0')
            usage_error("--hidden: empty field %zu in '%s' (expected WIDTH "
                        "or WIDTH:ACTIVATION)", n + 1, s);
        if (n == MAX_HIDDEN)
            usage_error("--hidden: at most %d hidden layers", MAX_HIDDEN);
        colon = strchr(tok, ':');
        if (colon != NULL) *colon = '\0';
        widths[n] = (size_t)parse_uint("--hidden", tok, 1, NN_MAX_WIDTH);
        acts[n] = colon != NULL
                      ? (int32_t)pick("--hidden", colon + 1,
                                     nn_activation_name)
                      : NN_ACT_RELU;
        n++;
    }
    return n;
}

/*------------------------------------------------------ custom setters --*/

static void *field_of(const struct cli_option *row, struct cli_opts *o)
{
    return (char *)o + row->field;
}

/* --train-images, --train-labels and their aliases --images, --labels:
   the path, and --data idx. */
static void set_idx_path(const struct cli_option *row, struct cli_opts *o,
                         const char *arg)
{
    *(const char **)field_of(row, o) = arg;
    o->data.kind = DATA_IDX;
}

static void set_hidden(const struct cli_option *row, struct cli_opts *o,
                       const char *arg)
{
    (void)row;
    o->n_hidden = parse_hidden(arg, o->hidden, o->hidden_act);
}

static void set_init(const struct cli_option *row, struct cli_opts *o,
                     const char *v)
{
    const char *colon = strchr(v, ':');
    (void)row;
    if (strcmp(v, "default") == 0)
        o->init = NN_INIT_DEFAULT;
    else if (strncmp(v, "normal:", 7) == 0)
        o->init = NN_INIT_NORMAL;
    else if (strncmp(v, "uniform:", 8) == 0)
        o->init = NN_INIT_UNIFORM;
    else
        usage_error("--init: expected default, normal:GAIN or "
                    "uniform:GAIN, got '%s' (default takes no gain)", v);
    o->gain = colon ? parse_double("--init gain", colon + 1, 0, 1e6) : 1.0;
}

/*-------------------------------------------------------------- parser --*/

/* Store the value of one option (row i) as its kind says. */
static void store(size_t i, struct cli_opts *o, const char *arg)
{
    const struct cli_option *r = &options[i];
    char opt[64];
    void *f = field_of(r, o);
    snprintf(opt, sizeof opt, "--%s", r->name);
    o->given |= (uint64_t)1 << i;
    if (r->flags & F_NET) o->net_opt = r->name;
    switch (r->kind) {
    case K_FLAG: *(int *)f = (int)r->lo; break;
    case K_SIZE: *(size_t *)f = (size_t)parse_uint(opt, arg, r->min, r->max);
        break;
    case K_U64:
        *(unsigned long long *)f = parse_uint(opt, arg, r->min, r->max);
        break;
    case K_INT: *(int *)f = (int)parse_uint(opt, arg, r->min, r->max); break;
    case K_DOUBLE: *(double *)f = parse_double(opt, arg, r->lo, r->hi); break;
    case K_STRING: *(const char **)f = arg; break;
    case K_CHOICE: *(int *)f = pick(opt, arg, r->names); break;
    case K_CUSTOM: r->set(r, o, arg); break;
    }
}

/* getopt_long's tables for one command: the rows that it accepts.
   optstring: '-' returns positional arguments in order (whatever
   POSIXLY_CORRECT says), ':' reports a missing value as ':'. */
static void build_tables(unsigned cmd, struct option *lo, char *shorts)
{
    size_t i, n = 0, s = 0;
    shorts[s++] = '-';
    shorts[s++] = ':';
    for (i = 0; i < N_OPTIONS; i++) {
        const struct cli_option *r = &options[i];
        int has_arg = r->kind == K_FLAG ? no_argument : required_argument;
        if (!(r->cmds & cmd)) continue;
        lo[n].name = r->name;
        lo[n].has_arg = has_arg;
        lo[n].flag = NULL;
        lo[n].val = VAL_BASE + (int)i;
        n++;
        if (r->short_name != 0) {
            shorts[s++] = r->short_name;
            if (has_arg == required_argument) shorts[s++] = ':';
        }
    }
    memset(&lo[n], 0, sizeof lo[n]);
    shorts[s] = '\0';
}

/* The row of short option c, or of getopt_long's val c. */
static size_t row_of(int c)
{
    size_t i;
    if (c >= VAL_BASE) return (size_t)(c - VAL_BASE);
    for (i = 0; i < N_OPTIONS; i++)
        if (options[i].short_name == c) return i;
    return N_OPTIONS;
}

/* An option getopt_long refused ('?'): unknown, ambiguous, or given a
   value it does not take. */
static void refused(const char *cmdname, const struct option *lo,
                    const char *text)
{
    char list[512] = "";
    size_t len = strcspn(text + 2, "="), n = 0, i;
    if (optopt >= VAL_BASE)
        usage_error("%s: --%s takes no value", cmdname,
                    options[optopt - VAL_BASE].name);
    if (optopt != 0)
        usage_error("%s: unknown option '-%c'", cmdname, optopt);
    for (i = 0; text[0] == '-' && text[1] == '-' && lo[i].name; i++)
        if (strncmp(lo[i].name, text + 2, len) == 0 &&
            strlen(list) + strlen(lo[i].name) + 5 < sizeof list) {
            strcat(list, n++ ? ", --" : "--");
            strcat(list, lo[i].name);
        }
    if (n > 1)
        usage_error("%s: option '%.*s' is ambiguous (%s)", cmdname,
                    (int)len + 2, text, list);
    usage_error("%s: unknown option '%s'", cmdname, text);
}

int cli_parse(unsigned cmd, int argc, char **argv, struct cli_opts *o)
{
    struct option lo[N_OPTIONS + 1];
    char shorts[2 * N_OPTIONS + 3];
    int c;
    build_tables(cmd, lo, shorts);
    o->args = xmalloc((size_t)argc, sizeof *o->args);
    o->n_args = 0;
    opterr = 0;
    optind = 0;   /* glibc: start afresh */
    while ((c = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        size_t i = row_of(c);
        if (c == 1) {
            o->args[o->n_args++] = optarg;
        } else if (c == ':') {
            if (optopt >= VAL_BASE)
                usage_error("--%s needs a value", options[optopt - VAL_BASE].name);
            usage_error("-%c needs a value", optopt);
        } else if (c == '?' || i >= N_OPTIONS) {
            refused(argv[0], lo, argv[optind - 1]);
        } else if (strcmp(options[i].name, "help") == 0) {
            return 1;
        } else {
            store(i, o, optarg);
        }
    }
    while (optind < argc) o->args[o->n_args++] = argv[optind++];
    return 0;
}

int cli_given(const struct cli_opts *o, const char *name)
{
    size_t i;
    for (i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return (o->given >> i) & 1;
    /* a name that is not in the table is a bug of this program */
    fprintf(stderr, "%s: internal error: no option --%s\n", prog, name);
    abort();
}

/*---------------------------------------------------------------- help --*/

/* One row: "  -o, --output PATH   help", the help text's further lines
   indented under its first. */
static void print_row(const struct cli_option *r)
{
    char lead[96];
    const char *h = r->help, *nl;
    int n = r->short_name
                ? snprintf(lead, sizeof lead, "  -%c, --%s", r->short_name,
                           r->name)
                : snprintf(lead, sizeof lead, "  --%s", r->name);
    if (r->arg != NULL)
        n += snprintf(lead + n, sizeof lead - (size_t)n, " %s", r->arg);
    if (n <= 21) printf("%-23s", lead);
    else printf("%s\n%23s", lead, "");
    while ((nl = strchr(h, '\n')) != NULL) {
        printf("%.*s\n%23s", (int)(nl - h), h, "");
        h = nl + 1;
    }
    printf("%s\n", h);
}

void cli_print_options(unsigned cmd)
{
    size_t i;
    for (i = 0; i < N_OPTIONS; i++) {
        const struct cli_option *r = &options[i];
        if (!(r->cmds & cmd) || r->help == NULL) continue;
        if (r->section != NULL) printf("%s:\n", r->section);
        print_row(r);
    }
}
