/* onnx_predict MODEL.onnx [DIR]: a PyTorch model (torch.onnx.export of an
   nn.Sequential MLP) run by libnnfs on Fashion-MNIST's 10000 test images. */
#include <nnfs.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    char images[1024], labels[1024];
    float *x = malloc(10000 * 784 * sizeof *x), *out = malloc(10000 * 10 * sizeof *out), acc;
    int32_t *y = malloc(10000 * sizeof *y);
    nn_net *net = NULL;
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte.gz", dir);
    if (argc < 2 || !x || !out || !y || nn_net_import_onnx(&net, argv[1]) != NN_OK ||
        nn_idx_read(images, x, 10000, 784, NN_SCALE_UNIT) != NN_OK ||
        nn_idx_read_labels(labels, y, 10000) != NN_OK ||
        nn_predict(net, x, 10000, out) != NN_OK || nn_accuracy(out, 10000, 10, y, &acc) != NN_OK) {
        fprintf(stderr, "onnx_predict: %s\n", argc < 2 ? "usage: onnx_predict MODEL.onnx [DIR]" : nn_last_error());
        return 1;
    }
    printf("%s: %zu layers, test accuracy %.4f\n", argv[1], nn_net_num_layers(net), (double)acc);
    nn_net_destroy(net);
    free(x), free(out), free(y);
    return 0;
}
