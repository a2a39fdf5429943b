/* bench_fann: one "step" of FANN (2.2) on a bench_train workload, for
 * bench/peers.py.  usage: bench_fann BATCH N0 N1 ... NL
 *
 * A step is fann_train_epoch over BATCH samples with FANN_TRAIN_BATCH (one
 * weight update from the whole batch: forward + backward + step).  FANN 2.2
 * has neither ReLU nor softmax+CCE: hidden layers use FANN_LINEAR_PIECE
 * (ReLU clipped at 1), the output FANN_LINEAR with its MSE loss, so the
 * element-wise work is comparable but not identical.  FANN is
 * single-threaded and does not use a BLAS.  Prints one JSON line. */
#include <floatfann.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned int layers[16], nl, i, j, batch;
    struct fann *ann;
    struct fann_train_data *td;
    double t[64];
    int reps = 40, r;
    if (argc < 4 || argc - 2 > 16) {
        fprintf(stderr, "usage: bench_fann BATCH N0 N1 ... NL\n");
        return 2;
    }
    batch = (unsigned int)strtoul(argv[1], NULL, 10);
    nl = (unsigned int)(argc - 2);
    for (i = 0; i < nl; i++)
        layers[i] = (unsigned int)strtoul(argv[i + 2], NULL, 10);
    ann = fann_create_standard_array(nl, layers);
    if (!ann)
        return 1;
    fann_set_activation_function_hidden(ann, FANN_LINEAR_PIECE);
    fann_set_activation_function_output(ann, FANN_LINEAR);
    fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
    fann_set_learning_rate(ann, 0.01f);
    srand(1);
    fann_randomize_weights(ann, -0.1f, 0.1f);
    td = fann_create_train(batch, layers[0], layers[nl - 1]);
    if (!td)
        return 1;
    for (i = 0; i < batch; i++) {
        for (j = 0; j < layers[0]; j++)
            td->input[i][j] = (fann_type)rand() / (fann_type)RAND_MAX - 0.5f;
        for (j = 0; j < layers[nl - 1]; j++)
            td->output[i][j] = (j == i % layers[nl - 1]) ? 1.0f : 0.0f;
    }
    for (r = 0; r < 3; r++)
        fann_train_epoch(ann, td);
    for (r = 0; r < reps; r++) {
        double t0 = now();
        fann_train_epoch(ann, td);
        t[r] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    printf("{\"bench\":\"fann\",\"batch\":%u,\"step_min_s\":%g,"
           "\"step_median_s\":%g,\"step_p90_s\":%g,\"reps\":%d}\n", batch,
           t[0], t[reps / 2], t[reps * 9 / 10], reps);
    fann_destroy_train(td);
    fann_destroy(ann);
    return 0;
}
