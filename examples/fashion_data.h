/*
 * fashion_data.h - loading a Fashion-MNIST (or MNIST) split for the
 * examples fashion_mnist.c and pca_fashion.c: the images scaled to
 * [-1, 1] (as the course does) and their labels, through the library's
 * IDX reader (plain or gzip files).
 */
#ifndef NNFS_EXAMPLES_FASHION_DATA_H
#define NNFS_EXAMPLES_FASHION_DATA_H

#include <nnfs.h>

#include <stdio.h>
#include <stdlib.h>

/* Read dir/images and dir/labels into new arrays *x (count * 784 floats)
   and *y; *n gets count, or limit when 0 < limit < count.  Returns 0 when
   the files are not there (the caller skips), exits 2 on any other
   error. */
static int fashion_load(const char *dir, const char *images,
                        const char *labels, size_t limit, float **x,
                        int32_t **y, size_t *n)
{
    char pi[1024], pl[1024];
    size_t count, size, lcount, lsize;
    snprintf(pi, sizeof pi, "%s/%s", dir, images);
    snprintf(pl, sizeof pl, "%s/%s", dir, labels);
    if (nn_idx_info(pi, &count, &size) != NN_OK ||
        nn_idx_info(pl, &lcount, &lsize) != NN_OK)
        return 0;
    if (count != lcount || size != 784 || lsize != 1) {
        fprintf(stderr, "%s and %s do not pair up\n", pi, pl);
        exit(2);
    }
    *x = malloc(count * size * sizeof **x);
    *y = malloc(count * sizeof **y);
    if (*x == NULL || *y == NULL) exit(2);
    if (nn_idx_read(pi, *x, count, size, NN_SCALE_SYMMETRIC) != NN_OK ||
        nn_idx_read_labels(pl, *y, count) != NN_OK) {
        fprintf(stderr, "reading %s / %s failed: %s\n", pi, pl,
                nn_last_error());
        exit(2);
    }
    *n = limit != 0 && limit < count ? limit : count;
    return 1;
}

/* The training split (first limit images when 0 < limit) and the test
   split of dir.  Returns 0, having said so, when the data is not there
   (the examples then exit 77: skipped). */
static int fashion_load_splits(const char *dir, size_t limit, float **x,
                               int32_t **y, size_t *n, float **xt,
                               int32_t **yt, size_t *nt)
{
    if (fashion_load(dir, "train-images-idx3-ubyte.gz",
                     "train-labels-idx1-ubyte.gz", limit, x, y, n) &&
        fashion_load(dir, "t10k-images-idx3-ubyte.gz",
                     "t10k-labels-idx1-ubyte.gz", 0, xt, yt, nt))
        return 1;
    fprintf(stderr, "Fashion-MNIST not found in %s (%s); install the "
            "Debian package dataset-fashion-mnist\n", dir, nn_last_error());
    return 0;
}

#endif
