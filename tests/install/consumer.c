/* A user's program: trains the course's spiral network for a few steps
   through the installed libnnfs and checks it learns something.  Built
   once through pkg-config and once through find_package(nnfs). */
#include <nnfs.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    enum { S = 100, C = 3, N = S * C };
    static float x[N * 2], out[N * C];
    static int32_t y[N];
    size_t sizes[3] = {2, 64, 3};
    int32_t acts[2] = {NN_ACT_RELU, NN_ACT_SOFTMAX};
    nn_net *net;
    nn_optimizer *opt;
    float first = 0, loss = 0, acc = 0;
    int i;

    if (nn_version_number() != NN_VERSION_NUMBER) {
        fprintf(stderr, "header %d but library %u\n", NN_VERSION_NUMBER,
                nn_version_number());
        return 1;
    }
    if (nn_data_spiral(x, y, S, C, 0) != NN_OK ||
        nn_net_create(&net, 2, sizes, acts, 0) != NN_OK ||
        nn_optimizer_create(&opt, net, NN_OPT_ADAM) != NN_OK ||
        nn_optimizer_set(opt, NN_OPT_LEARNING_RATE, 0.05) != NN_OK) {
        fprintf(stderr, "setup: %s\n", nn_last_error());
        return 1;
    }
    for (i = 0; i < 300; i++) {
        if (nn_forward(net, x, N, out) != NN_OK ||
            nn_backward_labels(net, y, &loss) != NN_OK ||
            nn_optimizer_step(opt) != NN_OK) {
            fprintf(stderr, "step %d: %s\n", i, nn_last_error());
            return 1;
        }
        if (i == 0) first = loss;
    }
    nn_accuracy(out, N, C, y, &acc);
    printf("libnnfs %s: loss %.4f -> %.4f, accuracy %.3f\n", nn_version(),
           (double)first, (double)loss, (double)acc);
    nn_optimizer_destroy(opt);
    nn_net_destroy(net);
    /* chance is 1/3 and ln 3 = 1.0986 */
    return loss < first && loss < 0.9f && acc > 0.6f ? 0 : 1;
}
