/*
 * cmd_train.c - nnfs train: check the options against each other, fill
 * in the defaults of the chosen data set, build (or resume) the network
 * and its optimizer, train with a progress report, evaluate, save.
 */
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*------------------------------------------------------------ progress --*/

struct progress {
    int bar, quiet;
    size_t every, epochs, n;
    /* --checkpoint-every: rank 0 saves net and opt there; failed: 1 */
    size_t ckpt_every;
    const char *ckpt;
    nn_net *net;
    nn_optimizer *opt;
    int failed;
};

/* --checkpoint-every: the checkpoint after this epoch (rank 0 writes it,
   atomically).  Returns 1 (stop the fit, on every rank) if it failed. */
static int epoch_checkpoint(struct progress *p, double epoch)
{
    int st;
    if (p->ckpt_every == 0 || (size_t)epoch % p->ckpt_every != 0 ||
        cli_rank != 0)
        return 0;
    st = nn_checkpoint_save(p->net, p->opt, p->ckpt);
    if (st == NN_OK) return 0;
    if (p->bar && !p->quiet) printf("\n");
    p->failed = lib_error("saving the checkpoint", st);
    return 1;
}

static void print_bar(const struct progress *p, int32_t event, double epoch,
                      double step, double spe, double loss, double acc,
                      double vacc, double sec)
{
    /* within-epoch position for long epochs, epochs otherwise */
    double done = event == NN_EVENT_STEP
                      ? (epoch - 1) + (step - (epoch - 1) * spe) / spe
                      : epoch;
    size_t fill = (size_t)(30.0 * done / (double)p->epochs), i;
    char bar[31];
    for (i = 0; i < 30; i++) bar[i] = i < fill ? '=' : ' ';
    if (fill < 30) bar[fill] = '>';
    bar[30] = '\0';
    printf("\r[%s] epoch %.0f/%zu  loss %.4f", bar, epoch, p->epochs, loss);
    if (!isnan(acc)) printf("  acc %.3f", acc);
    if (!isnan(vacc)) printf("  val_acc %.3f", vacc);
    printf("  %.0f samples/s ", sec > 0 ? step * (double)p->n / spe / sec
                                       : 0.0);
    fflush(stdout);
}

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
    if (event == NN_EVENT_EPOCH && epoch_checkpoint(p, epoch)) return 1;
    if (p->quiet) return 0;
    if (p->bar) {
        print_bar(p, event, epoch, step, spe, loss, acc, vacc, sec);
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
"\n", prog);
    cli_print_options(C_TRAIN);
    printf(
"\n"
"Long options may be abbreviated while unambiguous (--epo 5); a value\n"
"follows as --opt=value or --opt value; '--' ends the options.\n"
"\n"
"Examples:\n"
"  %s train\n"
"  %s train --data sine --epochs 10000\n"
"  %s train --train-images train-images-idx3-ubyte.gz \\\n"
"      --train-labels train-labels-idx1-ubyte.gz --test-images \\\n"
"      t10k-images-idx3-ubyte.gz --test-labels t10k-labels-idx1-ubyte.gz \\\n"
"      --epochs 10 -o fashion.nnfs\n"
"\n"
"Under mpirun -np N (built with MPI: the nnfs-mpi program beside this one)\n"
"the N processes make one data-parallel fit: each keeps its share of the\n"
"rows, the batches are global, rank 0 prints and writes the files, and a\n"
"failure on any process stops all.  --checkpoint-every and --resume\n"
"continue such a run after a process dies:\n"
"  mpirun -np 2 %s train --train-images ... --checkpoint run.ckpt \\\n"
"      --checkpoint-every 1\n",
           prog, prog, prog, prog);
}

/* Options that conflict, or that the chosen optimizer does not have (see
   nnfs.h): refused (exit 2) rather than ignored. */
static void train_check(const struct cli_opts *o)
{
    if (o->resume != NULL && o->net_opt != NULL)
        usage_error("--%s: --resume continues the checkpoint's own network "
                    "and optimizer settings", o->net_opt);
    if (o->n_hidden == 0 && (o->l1 > 0 || o->l2 > 0 || o->dropout > 0))
        usage_error("--%s applies to the hidden layers, and --hidden none "
                    "has none",
                    o->l1 > 0 ? "l1" : o->l2 > 0 ? "l2" : "dropout");
    if (o->checkpoint_every != 0 && o->checkpoint == NULL)
        usage_error("--checkpoint-every needs --checkpoint PATH");
    if (o->every != 0 && o->bar == 1)
        usage_error("--every sets the lines of --progress=lines, not the bar");
    if (o->val_split > 0 && o->data.test_images != NULL)
        usage_error("--val-split and --test-images both give validation "
                    "data: use one");
    if (cli_given(o, "momentum") && o->optimizer != NN_OPT_SGD)
        usage_error("--momentum applies to --optimizer sgd only, not %s",
                    nn_optimizer_name(o->optimizer));
    if (cli_given(o, "epsilon") && o->optimizer == NN_OPT_SGD)
        usage_error("--epsilon applies to adagrad, rmsprop and adam, not sgd");
    if (cli_given(o, "rho") && o->optimizer != NN_OPT_RMSPROP)
        usage_error("--rho applies to --optimizer rmsprop only, not %s",
                    nn_optimizer_name(o->optimizer));
    if ((cli_given(o, "beta1") || cli_given(o, "beta2")) &&
        o->optimizer != NN_OPT_ADAM)
        usage_error("--%s applies to --optimizer adam only, not %s",
                    cli_given(o, "beta1") ? "beta1" : "beta2",
                    nn_optimizer_name(o->optimizer));
}

/* The loss and the network's defaults for the chosen data set. */
static void net_defaults(struct cli_opts *o)
{
    int kind = o->data.kind;
    size_t i;
    if (o->loss < 0) o->loss = kind == DATA_SINE ? NN_LOSS_MSE : NN_LOSS_CCE;
    if (o->loss == NN_LOSS_BCE && kind != DATA_SINE) {
        if (kind != DATA_IDX && o->data.classes != 2)
            usage_error("--loss bce trains one sigmoid output: use "
                        "--classes 2");
        o->data.binary = 1;
    }
    if ((o->loss == NN_LOSS_MSE || o->loss == NN_LOSS_MAE) &&
        kind != DATA_SINE)
        usage_error("--loss %s needs regression targets: use --data sine",
                    nn_loss_name(o->loss));
    if (kind == DATA_SINE && o->loss != NN_LOSS_MSE && o->loss != NN_LOSS_MAE)
        usage_error("--data sine is a regression set: use --loss mse or mae");
    if (o->n_hidden == (size_t)-1) {
        o->n_hidden = kind == DATA_SPIRAL || kind == DATA_VERTICAL ? 1 : 2;
        for (i = 0; i < o->n_hidden; i++) {
            o->hidden[i] = kind == DATA_IDX ? 128 : 64;
            o->hidden_act[i] = NN_ACT_RELU;
        }
    }
    if (o->out_act < 0)
        o->out_act = o->loss == NN_LOSS_CCE ? NN_ACT_SOFTMAX
                     : o->loss == NN_LOSS_BCE ? NN_ACT_SIGMOID
                                              : NN_ACT_LINEAR;
    if (o->init < 0) {
        o->init = kind == DATA_SINE ? NN_INIT_NORMAL : NN_INIT_DEFAULT;
        o->gain = kind == DATA_SINE ? 0.1 : 1.0;
    }
}

/* The optimizer's and the training loop's defaults for the data set. */
static void fit_defaults(struct cli_opts *o)
{
    int kind = o->data.kind;
    if (!cli_given(o, "lr"))
        o->lr = o->optimizer != NN_OPT_ADAM
                    ? (o->optimizer == NN_OPT_RMSPROP ? 0.001 : 1.0)
                : kind == DATA_SINE ? 0.005
                : kind == DATA_IDX  ? 0.001 : 0.05;
    if (!cli_given(o, "decay"))
        o->decay = o->optimizer != NN_OPT_ADAM ? 0.0
                   : kind == DATA_SINE         ? 1e-3
                   : kind == DATA_IDX          ? 1e-4 : 5e-7;
    if (o->epochs == 0) o->epochs = kind == DATA_IDX ? 10 : 10000;
    if (o->batch == (size_t)-1) o->batch = kind == DATA_IDX ? 128 : 0;
    if (o->bar < 0) o->bar = o->every == 0 && isatty(STDOUT_FILENO);
    if (o->every == 0) o->every = o->epochs >= 100 ? o->epochs / 100 : 1;
}

static void split_validation(struct dataset *d, double frac,
                             struct dataset *v)
{
    size_t n_val = (size_t)((double)d->n * frac), keep, i;
    memset(v, 0, sizeof *v);
    if (n_val == 0)
        usage_error("--val-split %g holds out no sample of %zu", frac, d->n);
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

/* The training data d and the validation data val (val.n = 0: none). */
static int train_data(const struct cli_opts *o, struct dataset *d,
                      struct dataset *val)
{
    memset(val, 0, sizeof *val);
    if (make_data(&o->data, o->data.seed, 0, d) != 0) return 1;
    if (o->val_split > 0) {
        split_validation(d, o->val_split, val);
    } else if (o->data.kind == DATA_IDX && o->data.test_images != NULL) {
        if (make_data(&o->data, 0, 1, val) != 0) return 1;
        if (val->n_in != d->n_in) {   /* before anything reads val->x */
            fprintf(stderr, "%s: %s holds samples of %zu values but the "
                    "training images %s hold %zu\n", prog,
                    o->data.test_images, val->n_in, o->data.images, d->n_in);
            return 1;
        }
        if (val->n_out > d->n_out) d->n_out = val->n_out;
    }
    return 0;
}

/* --resume: the checkpoint's network and optimizer, checked against the
   data; its optimizer settings replace the options' for the report. */
static int resume_net(struct cli_opts *o, const struct dataset *d,
                      nn_net **net, nn_optimizer **opt)
{
    size_t L;
    if (cli_mpi_checkpoint_load(o->resume, net, opt) != 0) return 1;
    if (*opt == NULL) {
        fprintf(stderr, "%s: %s holds a model but no optimizer state "
                "(save it with --checkpoint)\n", prog, o->resume);
        return 1;
    }
    L = nn_net_num_layers(*net);
    if (nn_net_layer_inputs(*net, 0) != d->n_in ||
        nn_net_layer_outputs(*net, L - 1) != d->n_out) {
        fprintf(stderr, "%s: %s takes %zu inputs and gives %zu outputs; "
                "the data has %zu and %zu\n", prog, o->resume,
                nn_net_layer_inputs(*net, 0),
                nn_net_layer_outputs(*net, L - 1), d->n_in, d->n_out);
        return 1;
    }
    o->optimizer = nn_optimizer_kind(*opt);
    nn_optimizer_get(*opt, NN_OPT_LEARNING_RATE, &o->lr);
    nn_optimizer_get(*opt, NN_OPT_DECAY, &o->decay);
    return 0;
}

/* A new network as the options describe, its regularization on the
   hidden layers. */
static int create_net(const struct cli_opts *o, const struct dataset *d,
                      nn_net **net)
{
    size_t sizes[MAX_HIDDEN + 2], n_layers = o->n_hidden + 1, i;
    int32_t acts[MAX_HIDDEN + 1];
    int st;
    sizes[0] = d->n_in;
    for (i = 0; i < o->n_hidden; i++) {
        sizes[i + 1] = o->hidden[i];
        acts[i] = o->hidden_act[i];
    }
    sizes[n_layers] = d->n_out;
    acts[o->n_hidden] = o->out_act;
    st = nn_net_create(net, n_layers, sizes, acts, o->data.seed);
    if (st == NN_OK && o->init != NN_INIT_DEFAULT)
        st = nn_net_init(*net, NN_ALL_LAYERS, o->init, o->gain, o->data.seed);
    for (i = 0; st == NN_OK && i + 1 < n_layers; i++) {
        if (o->l1 > 0)
            st = nn_net_set_layer_option(*net, i, NN_LAYER_L1_WEIGHTS, o->l1);
        if (st == NN_OK && o->l1 > 0)
            st = nn_net_set_layer_option(*net, i, NN_LAYER_L1_BIASES, o->l1);
        if (st == NN_OK && o->l2 > 0)
            st = nn_net_set_layer_option(*net, i, NN_LAYER_L2_WEIGHTS, o->l2);
        if (st == NN_OK && o->l2 > 0)
            st = nn_net_set_layer_option(*net, i, NN_LAYER_L2_BIASES, o->l2);
        if (st == NN_OK && o->dropout > 0)
            st = nn_net_set_layer_option(*net, i, NN_LAYER_DROPOUT,
                                         o->dropout);
    }
    if (st != NN_OK) return lib_error("creating the network", st);
    return 0;
}

/* The optimizer with the settings given (the others keep the library's
   defaults). */
static int create_optimizer(const struct cli_opts *o, nn_net *net,
                            nn_optimizer **opt)
{
    static const struct { const char *name; int32_t key; size_t field; }
        settings[] = {
            {"momentum", NN_OPT_MOMENTUM, offsetof(struct cli_opts, momentum)},
            {"epsilon", NN_OPT_EPSILON, offsetof(struct cli_opts, epsilon)},
            {"rho", NN_OPT_RHO, offsetof(struct cli_opts, rho)},
            {"beta1", NN_OPT_BETA1, offsetof(struct cli_opts, beta1)},
            {"beta2", NN_OPT_BETA2, offsetof(struct cli_opts, beta2)},
        };
    size_t i;
    int st = nn_optimizer_create(opt, net, o->optimizer);
    if (st == NN_OK) st = nn_optimizer_set(*opt, NN_OPT_LEARNING_RATE, o->lr);
    if (st == NN_OK) st = nn_optimizer_set(*opt, NN_OPT_DECAY, o->decay);
    for (i = 0; st == NN_OK && i < sizeof settings / sizeof settings[0]; i++)
        if (cli_given(o, settings[i].name))
            st = nn_optimizer_set(*opt, settings[i].key,
                                  *(const double *)((const char *)o +
                                                    settings[i].field));
    if (st != NN_OK) return lib_error("setting up the optimizer", st);
    return 0;
}

/* The trainer: loss, epochs, batches, shuffling, seed, row widths, and
   the progress callback (pr). */
static int create_trainer(const struct cli_opts *o, const struct dataset *d,
                          const struct dataset *val, nn_net *net,
                          nn_optimizer *opt, nn_trainer **tr,
                          struct progress *pr)
{
    int st = nn_trainer_create(tr, net, opt);
    if (st == NN_OK) st = nn_trainer_set(*tr, NN_TRAIN_LOSS, o->loss);
    if (st == NN_OK)
        st = nn_trainer_set(*tr, NN_TRAIN_EPOCHS, (double)o->epochs);
    if (st == NN_OK)
        st = nn_trainer_set(*tr, NN_TRAIN_BATCH_SIZE, (double)o->batch);
    if (st == NN_OK) st = nn_trainer_set(*tr, NN_TRAIN_SHUFFLE, o->shuffle);
    if (st == NN_OK)
        st = nn_trainer_set(*tr, NN_TRAIN_SEED,
                            (double)(o->data.seed & 0xffffffffffffull));
    /* the library checks the row widths too (beside train_data's check) */
    if (st == NN_OK) st = nn_trainer_set(*tr, NN_TRAIN_X_COLS, (double)d->n_in);
    if (st == NN_OK && val->n)
        st = nn_trainer_set(*tr, NN_TRAIN_VAL_X_COLS, (double)val->n_in);
    if (st != NN_OK) return lib_error("setting up the trainer", st);
    if (o->bar) {
        /* a few updates per epoch when epochs are long */
        size_t n_all = d->n * (size_t)cli_size;   /* about, under MPI */
        size_t bs = o->batch == 0 || o->batch > n_all ? n_all : o->batch;
        size_t spe = (n_all + bs - 1) / bs;
        if (spe >= 20)
            nn_trainer_set(*tr, NN_TRAIN_REPORT_EVERY, (double)(spe / 20));
    }
    pr->bar = o->bar;
    pr->quiet = o->quiet;
    pr->every = o->every;
    pr->epochs = o->epochs;
    pr->n = d->n * (size_t)cli_size;   /* about: for samples/s */
    pr->ckpt_every = o->checkpoint_every;
    pr->ckpt = o->checkpoint;
    pr->net = net;
    pr->opt = opt;
    pr->failed = 0;
    nn_trainer_set_callback(*tr, on_progress, pr);
    return 0;
}

/* "Training 2-64-3 (relu, softmax, cce loss) on spiral data: ..." */
static void print_header(const struct cli_opts *o, size_t n, size_t n_val,
                         const nn_net *net)
{
    size_t L = nn_net_num_layers(net), i;
    printf("Training %zu-", nn_net_layer_inputs(net, 0));
    for (i = 0; i < L; i++)
        printf("%zu%s", nn_net_layer_outputs(net, i), i + 1 < L ? "-" : "");
    printf(" (");
    for (i = 0; i < L; i++)
        printf("%s%s", nn_activation_name(nn_net_layer_activation(net, i)),
               i + 1 < L ? ", " : "");
    printf(", %s loss) on %s data: %zu samples", nn_loss_name(o->loss),
           data_name(o->data.kind), n);
    if (n_val) printf(", %zu for validation", n_val);
    printf(", seed %llu\n", o->data.seed);
    printf("%s, learning rate %g, decay %g; %zu epochs, ",
           nn_optimizer_name(o->optimizer), o->lr, o->decay, o->epochs);
    if (o->batch == 0 || o->batch >= n) printf("full batch");
    else printf("batches of %zu", o->batch);
    printf("; %s, kernels %s\n", nn_info(NN_INFO_BLAS),
           nn_info(NN_INFO_KERNELS));
}

/* The trained network once more on its training data (under MPI each
   rank its shard, the means over all rows), and the summary line
   "Done: ...". */
static int print_summary(const struct cli_opts *o, const struct dataset *d,
                         const struct dataset *val, nn_net *net,
                         const nn_trainer *tr)
{
    float *out = xmalloc(d->n * d->n_out, sizeof(float)), loss = 0, acc = 0;
    double secs, a, m[3];
    int st = nn_predict(net, d->x, d->n, out);
    nn_trainer_metric(tr, NN_METRIC_SECONDS, &secs);
    if (st == NN_OK)
        st = d->y != NULL
                 ? nn_loss_compute_labels(out, d->y, d->n, d->n_out, &loss)
                 : nn_loss_compute(o->loss, out, d->t, d->n, d->n_out, &loss);
    if (st == NN_OK) {
        nn_trainer_metric(tr, NN_METRIC_ACCURACY, &a);
        if (d->y != NULL) st = nn_accuracy(out, d->n, d->n_out, d->y, &acc);
        else if (o->loss == NN_LOSS_BCE)
            st = nn_accuracy_binary(out, d->t, d->n, d->n_out, &acc);
        else
            acc = (float)a;   /* regression: the fit's own precision */
    }
    free(out);
    if (st != NN_OK) lib_error("evaluation", st);
    m[0] = loss;
    m[1] = acc;
    m[2] = st != NN_OK;
    if (cli_mpi_mean(m, 3, d->n) != 0 || m[2] > 0) return 1;
    printf("Done: %zu epochs in %.2f s (%.3g s per epoch",
           o->epochs, secs, secs / (double)o->epochs);
    if (cli_size > 1) printf(", %d processes", cli_size);
    printf("). Training loss %.4f, accuracy %.1f%%", m[0], 100.0 * m[1]);
    if (val->n || cli_size > 1) {
        double vl, va;
        nn_trainer_metric(tr, NN_METRIC_VAL_LOSS, &vl);
        nn_trainer_metric(tr, NN_METRIC_VAL_ACCURACY, &va);
        if (vl == vl)
            printf("; validation loss %.4f, accuracy %.1f%%", vl, 100.0 * va);
    }
    printf(".\n");
    return 0;
}

/* -o and --checkpoint. */
static int save_outputs(const struct cli_opts *o, nn_net *net,
                        nn_optimizer *opt)
{
    int st;
    if (o->output != NULL) {
        st = nn_net_save(net, o->output);
        if (st != NN_OK) return lib_error("saving the model", st);
        printf("Model saved to %s\n", o->output);
    }
    if (o->checkpoint != NULL) {
        double it = 0;
        st = nn_checkpoint_save(net, opt, o->checkpoint);
        if (st != NN_OK) return lib_error("saving the checkpoint", st);
        nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it);
        printf("Checkpoint (model and %s state after %.0f steps) saved to "
               "%s\n", nn_optimizer_name(o->optimizer), it, o->checkpoint);
    }
    return 0;
}

/* The options of the command line, checked, with the data set's
   defaults filled in. */
static void train_options(int argc, char **argv, struct cli_opts *o)
{
    cli_defaults(o);
    if (cli_parse(C_TRAIN, argc, argv, o)) {
        train_help();
        free(o->args);
        exit(0);
    }
    if (o->n_args > 0)
        usage_error("train: unexpected argument '%s' (train takes only "
                    "options)", o->args[0]);
    free(o->args);
    o->args = NULL;
    data_finish(o, 0);
    train_check(o);
    net_defaults(o);
    fit_defaults(o);
}

/* The training set's rows of all ranks (d's before cli_mpi_shard), the
   steps an epoch has, and with --resume of a checkpoint taken at an
   epoch's end the number of the next epoch (NN_TRAIN_FIRST_EPOCH: the
   row orders then continue as if the run had not stopped). */
static int resume_epoch(const struct cli_opts *o, size_t n_all,
                        nn_optimizer *opt, nn_trainer *tr)
{
    size_t bs = o->batch == 0 || o->batch > n_all ? n_all : o->batch;
    size_t spe = (n_all + bs - 1) / bs;
    double it = 0;
    if (o->resume == NULL) return 1;
    nn_optimizer_get(opt, NN_OPT_ITERATIONS, &it);
    if ((size_t)it % spe != 0) return 1;
    nn_trainer_set(tr, NN_TRAIN_FIRST_EPOCH, (double)((size_t)it / spe + 1));
    return (int)((size_t)it / spe + 1);
}

int cmd_train(int argc, char **argv)
{
    struct cli_opts o;
    struct dataset d, val;
    nn_net *net = NULL;
    nn_optimizer *opt = NULL;
    nn_trainer *tr = NULL;
    struct progress pr;
    size_t n_all, v_all;
    int st, rc = 1, first = 1;

    train_options(argc, argv, &o);
    /* the bar needs step reports, which all ranks must make alike; only
       rank 0's output may be a terminal */
    o.bar = cli_mpi_bcast_int(o.bar);
    if (nn_set_parallel_mode(o.parallel) != NN_OK)
        return lib_error("setting the parallel mode", NN_ERR_INVALID_ARG);
    if (o.threads == 0 && cli_size > 1)
        o.threads = cli_mpi_threads();   /* the cores shared by the ranks */
    if (o.threads > 0 && nn_set_num_threads(o.threads) != NN_OK)
        return lib_error("setting threads", NN_ERR_UNSUPPORTED);
    memset(&d, 0, sizeof d);
    memset(&val, 0, sizeof val);
    /* every rank reads the data (gzip cannot be entered in the middle)
       and keeps its shard of the rows */
    cli_shard_on_load = cli_size > 1 && o.val_split == 0;
    if (cli_mpi_agree(train_data(&o, &d, &val)) != 0) goto done;
    n_all = d.sharded ? d.n_all : d.n;
    v_all = val.sharded ? val.n_all : val.n;
    cli_mpi_shard(&d);
    cli_mpi_shard(&val);
    if (o.resume != NULL) {
        if (cli_mpi_agree(resume_net(&o, &d, &net, &opt)) != 0) goto done;
    } else if (cli_mpi_agree(create_net(&o, &d, &net) != 0 ||
                             create_optimizer(&o, net, &opt) != 0) != 0) {
        goto done;
    }
    if (cli_mpi_agree(create_trainer(&o, &d, &val, net, opt, &tr, &pr) ||
                      cli_mpi_attach(tr, net)) != 0)
        goto done;
    first = resume_epoch(&o, n_all, opt, tr);
    if (!o.quiet) {
        print_header(&o, n_all, v_all, net);
        if (cli_size > 1)
            printf("Data-parallel on %d processes (MPI): each keeps its "
                   "shard of the rows (about %zu); the batches above are "
                   "global\n", cli_size, d.n);
        if (first > 1) printf("Resuming at epoch %d\n", first);
    }
    st = nn_trainer_fit(tr, d.x, d.t, d.y, d.n, val.x, val.t, val.y, val.n);
    if (o.bar && !o.quiet) printf("\n");
    if (st != NN_OK) {
        /* under MPI the fit's failure is the same on every rank */
        if (cli_rank == 0 || cli_size == 1) lib_error("training", st);
        rc = 1;
        goto done;
    }
    if (cli_mpi_agree(pr.failed) != 0) goto done;
    if (print_summary(&o, &d, &val, net, tr) != 0) goto done;
    rc = cli_mpi_agree(cli_rank == 0 ? save_outputs(&o, net, opt) : 0);
done:
    nn_trainer_destroy(tr);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    dataset_free(&d);
    dataset_free(&val);
    return rc;
}
