/*
 * onnx_stub.c - the ONNX entry points of a build without protobuf-c
 * (NNFS_ONNX=OFF, or AUTO with protobuf-c not found): the symbols exist,
 * so programs link against any build, and say how to get the real ones.
 */
#include "base/base.h"

#define NN__ONNX_OFF(fn)                                                  \
    nn__fail(NN_ERR_UNSUPPORTED, "%s: this libnnfs was built without "    \
             "ONNX support (install libprotobuf-c-dev and "               \
             "protobuf-c-compiler, then reconfigure with CMake, "         \
             "-DNNFS_ONNX=AUTO or ON, and rebuild)", fn)

int nn_net_export_onnx(const nn_net *net, const char *path)
{
    (void)net;
    (void)path;
    return NN__ONNX_OFF("nn_net_export_onnx");
}

int nn_net_export_onnx_buffer(const nn_net *net, void *buf, size_t capacity,
                              size_t *size_out)
{
    (void)net;
    (void)buf;
    (void)capacity;
    if (size_out != NULL) *size_out = 0;
    return NN__ONNX_OFF("nn_net_export_onnx_buffer");
}

int nn_net_import_onnx(nn_net **out, const char *path)
{
    (void)path;
    if (out != NULL) *out = NULL;
    return NN__ONNX_OFF("nn_net_import_onnx");
}

int nn_net_import_onnx_buffer(nn_net **out, const void *buf, size_t size)
{
    (void)buf;
    (void)size;
    if (out != NULL) *out = NULL;
    return NN__ONNX_OFF("nn_net_import_onnx_buffer");
}
