/*
 * cmd_misc.c - nnfs version.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_version(int argc, char **argv)
{
    struct cli_opts o;
    cli_defaults(&o);
    if (cli_parse(C_VERSION, argc, argv, &o)) {
        printf("Usage: %s version\n\nLibrary version, BLAS, BLAS core "
               "and kernel set in use.\n", prog);
        free(o.args);
        return 0;
    }
    if (o.n_args > 0)
        usage_error("version: unexpected argument '%s' (version takes "
                    "none)", o.args[0]);
    free(o.args);
    printf("nnfs %s, %s (core %s), kernels %s (built: %s)\n",
           nn_version(), nn_info(NN_INFO_BLAS),
           nn_info(NN_INFO_BLAS_CORE)[0] ? nn_info(NN_INFO_BLAS_CORE)
                                         : "unknown",
           nn_info(NN_INFO_KERNELS), nn_info(NN_INFO_KERNELS_BUILT));
    printf("BLAS core choice: %s\n", nn_info(NN_INFO_BLAS_CORE_CHOICE));
    return 0;
}
