/*
 * cmd_eval.c - the commands that read a saved model: nnfs eval (loss and
 * accuracy on a data set), nnfs predict (outputs for rows of numbers) and
 * nnfs info (the layers).
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int load_model(const char *path, nn_net **net)
{
    int st = nn_net_load(net, path);
    if (st != NN_OK) return lib_error("loading the model", st);
    return 0;
}

/*---------------------------------------------------------------- eval --*/

static void eval_help(void)
{
    printf("Usage: %s eval MODEL [data options]\n\n"
           "Loss and accuracy of a saved model on a data set, given "
           "with the data options\nof '%s train' (--data, --samples, "
           "--classes, --seed, --images/--labels,\n--scale, --limit)"
           ", or an IDX pair as --test-images F --test-labels G.\n"
           "Default: spiral data with seed 0.  Options the data set "
           "does not use are\nrefused.\n", prog, prog);
}

/* Loss and accuracy of the outputs `out` (n_out per row) on d; printed. */
static int eval_report(const char *model, const struct data_opts *o,
                       const struct dataset *d, const float *out,
                       size_t n_out)
{
    const char *set = data_name(o->kind);
    float loss = 0, acc = 0;
    int st;
    if (d->y != NULL) {
        st = nn_loss_compute_labels(out, d->y, d->n, n_out, &loss);
        if (st == NN_OK) st = nn_accuracy(out, d->n, n_out, d->y, &acc);
        if (st == NN_OK)
            printf("%s on %s data (%zu samples): categorical cross-entropy "
                   "%.4f, accuracy %.2f%%\n", model, set, d->n,
                   (double)loss, 100.0 * (double)acc);
    } else if (o->binary) {
        st = nn_loss_compute(NN_LOSS_BCE, out, d->t, d->n, 1, &loss);
        if (st == NN_OK) st = nn_accuracy_binary(out, d->t, d->n, 1, &acc);
        if (st == NN_OK)
            printf("%s on %s data (%zu samples): binary cross-entropy %.4f, "
                   "accuracy %.2f%%\n", model, set, d->n,
                   (double)loss, 100.0 * (double)acc);
    } else {
        double mean = 0, var = 0;
        size_t i;
        for (i = 0; i < d->n; i++) mean += d->t[i];
        mean /= (double)d->n;
        for (i = 0; i < d->n; i++) var += (d->t[i] - mean) * (d->t[i] - mean);
        st = nn_loss_compute(NN_LOSS_MSE, out, d->t, d->n, 1, &loss);
        if (st == NN_OK)
            st = nn_accuracy_regression(out, d->t, d->n, 1,
                                        (float)(sqrt(var / (double)d->n) / 250),
                                        &acc);
        if (st == NN_OK)
            printf("%s on %s data (%zu samples): mean squared error %.6g, "
                   "accuracy %.2f%% (within std/250)\n", model, set, d->n,
                   (double)loss, 100.0 * (double)acc);
    }
    return st != NN_OK ? lib_error("evaluation", st) : 0;
}

int cmd_eval(int argc, char **argv)
{
    struct cli_opts co;
    struct data_opts *o = &co.data;
    struct dataset d;
    const char *model;
    nn_net *net = NULL;
    float *out = NULL;
    size_t n_out, L;
    int st, rc = 1, bce;

    cli_defaults(&co);
    if (cli_parse(C_EVAL, argc, argv, &co)) {
        eval_help();
        free(co.args);
        return 0;
    }
    if (co.n_args == 0) usage_error("eval: expects a MODEL path");
    if (co.n_args > 1)
        usage_error("eval: one MODEL only (unexpected '%s')", co.args[1]);
    model = co.args[0];
    free(co.args);
    data_finish(&co, 1);
    if (load_model(model, &net) != 0) return 1;
    L = nn_net_num_layers(net);
    n_out = nn_net_layer_outputs(net, L - 1);
    bce = n_out == 1 && nn_net_layer_activation(net, L - 1) == NN_ACT_SIGMOID;
    o->binary = bce && o->kind != DATA_SINE;
    if (make_data(o, o->seed, 0, &d) != 0) goto done;
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
    rc = eval_report(model, o, &d, out, n_out);
done:
    nn_net_destroy(net);
    dataset_free(&d);
    free(out);
    return rc;
}

/*------------------------------------------------------------- predict --*/

/* One line of numbers (separated by spaces, tabs or commas) into x[n_in].
   Returns 1 for a sample, 0 for a blank or comment line, -1 (after a
   message) for a bad line. */
static int parse_row(char *line, size_t len, size_t line_no, float *x,
                     size_t n_in)
{
    char *p = line, *end;
    size_t k = 0;
    if (len != strlen(line)) {
        fprintf(stderr, "%s: line %zu: holds a NUL byte\n", prog, line_no);
        return -1;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '\0' || *p == '#') return 0;
    while (k < n_in) {
        float v;
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (*p == '\0') break;
        errno = 0;
        v = strtof(p, &end);
        /* ERANGE with a tiny result is underflow (a subnormal, or a
           value that rounds to zero): still a number */
        if (end == p || isspace((unsigned char)*p) ||
            (*end != '\0' && *end != ' ' && *end != '\t' && *end != ',')) {
            fprintf(stderr, "%s: line %zu: '%.20s' is not a number\n",
                    prog, line_no, p);
            return -1;
        }
        if (errno == ERANGE && isinf(v)) {
            fprintf(stderr, "%s: line %zu: '%.*s' is out of the float "
                    "range\n", prog, line_no,
                    (int)(end - p < 40 ? end - p : 40), p);
            return -1;
        }
        x[k++] = v;
        p = end;
    }
    while (*p == ' ' || *p == '\t' || *p == ',') p++;
    if (k != n_in || *p != '\0') {
        fprintf(stderr, "%s: line %zu: expected %zu numbers (the model's "
                "inputs)\n", prog, line_no, n_in);
        return -1;
    }
    return 1;
}

static void print_outputs(const float *out, size_t n_out, int class_only)
{
    size_t j, best = 0;
    if (class_only) {
        for (j = 1; j < n_out; j++)
            if (out[j] > out[best]) best = j;
        printf("%zu\n", n_out == 1 ? (size_t)(out[0] > 0.5f) : best);
        return;
    }
    for (j = 0; j < n_out; j++)
        printf("%s%.7g", j ? " " : "", (double)out[j]);
    printf("\n");
}

/* Each sample of `in` through net, its outputs printed. */
static int predict_stream(nn_net *net, FILE *in, const char *file,
                          int class_only)
{
    size_t n_in = nn_net_layer_inputs(net, 0), line_no = 0, cap = 0;
    size_t n_out = nn_net_layer_outputs(net, nn_net_num_layers(net) - 1);
    float *x = xmalloc(n_in, sizeof(float));
    float *out = xmalloc(n_out, sizeof(float));
    char *line = NULL;
    ssize_t len;
    int rc = 1, st, got;
    /* getline: a line of any length is one sample */
    while ((len = getline(&line, &cap, in)) != -1) {
        got = parse_row(line, (size_t)len, ++line_no, x, n_in);
        if (got < 0) goto done;
        if (got == 0) continue;
        st = nn_predict(net, x, 1, out);
        if (st != NN_OK) {
            char what[64];
            snprintf(what, sizeof what, "line %zu", line_no);
            rc = lib_error(what, st);
            goto done;
        }
        print_outputs(out, n_out, class_only);
    }
    if (ferror(in)) {
        fprintf(stderr, "%s: reading %s failed\n", prog, file ? file : "stdin");
        goto done;
    }
    rc = 0;
done:
    free(line);
    free(x);
    free(out);
    return rc;
}

int cmd_predict(int argc, char **argv)
{
    struct cli_opts o;
    const char *model, *file;
    nn_net *net = NULL;
    FILE *in = stdin;
    int rc;

    cli_defaults(&o);
    if (cli_parse(C_PREDICT, argc, argv, &o)) {
        printf("Usage: %s predict MODEL [FILE] [--class]\n\n"
               "Reads one sample per line from FILE (or standard input):"
               " numbers separated\nby spaces or commas, as many as the "
               "model's inputs.  Prints the model's\noutputs for each "
               "line, or with --class the index of the largest "
               "output.\n", prog);
        free(o.args);
        return 0;
    }
    if (o.n_args > 2) usage_error("predict: too many arguments");
    if (o.n_args == 0) usage_error("predict: expects a MODEL path");
    model = o.args[0];
    file = o.n_args > 1 ? o.args[1] : NULL;
    free(o.args);
    if (load_model(model, &net) != 0) return 1;
    if (file != NULL && strcmp(file, "-") != 0) {
        in = fopen(file, "r");
        if (in == NULL) {
            fprintf(stderr, "%s: cannot open %s: %s\n", prog, file,
                    strerror(errno));
            nn_net_destroy(net);
            return 1;
        }
    }
    rc = predict_stream(net, in, file, o.class_only);
    if (in != stdin) fclose(in);
    nn_net_destroy(net);
    return rc;
}

/*---------------------------------------------------------------- info --*/

int cmd_info(int argc, char **argv)
{
    struct cli_opts o;
    nn_net *net = NULL;
    size_t i, L;
    cli_defaults(&o);
    if (cli_parse(C_INFO, argc, argv, &o)) {
        printf("Usage: %s info MODEL\n\nDescribe a model saved by "
               "'%s train -o MODEL' or nn_net_save().\n", prog, prog);
        free(o.args);
        return 0;
    }
    if (o.n_args != 1) usage_error("info: expects one MODEL path");
    if (load_model(o.args[0], &net) != 0) { free(o.args); return 1; }
    L = nn_net_num_layers(net);
    printf("%s: %zu layers, %zu parameters\n", o.args[0], L,
           nn_net_num_params(net));
    for (i = 0; i < L; i++) {
        double drop = 0, l1 = 0, l2 = 0, sn = 0;
        nn_net_get_layer_option(net, i, NN_LAYER_DROPOUT, &drop);
        nn_net_get_layer_option(net, i, NN_LAYER_L1_WEIGHTS, &l1);
        nn_net_get_layer_option(net, i, NN_LAYER_L2_WEIGHTS, &l2);
        printf("  layer %zu: %zu -> %zu, %s", i, nn_net_layer_inputs(net, i),
               nn_net_layer_outputs(net, i),
               nn_activation_name(nn_net_layer_activation(net, i)));
        if (drop > 0) printf(", dropout %g", drop);
        if (l1 > 0) printf(", l1 %g", l1);
        if (l2 > 0) printf(", l2 %g", l2);
        /* weight spectrum: largest singular value (LAPACKE_sgesdd) */
        if (nn_net_layer_spectral_norm(net, i, &sn) == NN_OK)
            printf(", spectral norm %.4g", sn);
        printf("\n");
    }
    nn_net_destroy(net);
    net = NULL;
    {   /* a checkpoint: its optimizer state too */
        nn_optimizer *opt = NULL;
        if (nn_checkpoint_load(&net, &opt, o.args[0]) == NN_OK &&
            opt != NULL) {
            double it = 0, lr = 0, decay = 0;
            nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it);
            nn_optimizer_get(opt, NN_OPT_LEARNING_RATE, &lr);
            nn_optimizer_get(opt, NN_OPT_DECAY, &decay);
            printf("  checkpoint: %s state after %.0f steps (learning rate "
                   "%g, decay %g)\n", nn_optimizer_name(nn_optimizer_kind(opt)),
                   it, lr, decay);
        }
        nn_optimizer_destroy(opt);
        nn_net_destroy(net);
    }
    free(o.args);
    return 0;
}
