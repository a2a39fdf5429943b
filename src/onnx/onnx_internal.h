/*
 * onnx_internal.h - what the files of src/onnx/ share.  This component
 * sits on the I/O layer (internal.h: nn__save_image, nn__read_file,
 * nn__net_alloc) and is the only code that includes protobuf-c's headers.
 */
#ifndef NNFS_ONNX_INTERNAL_H
#define NNFS_ONNX_INTERNAL_H

#include "base/base.h"
#include "core/core.h"
#include "io/io.h"

#include <protobuf-c/protobuf-c.h>

#include "onnx_subset.pb-c.h"

/* The opset libnnfs writes, and the range of default-domain opsets it
   reads (Gemm, MatMul, Add, Relu, Sigmoid, Tanh, Softmax, Flatten and
   Identity mean the same for 2-D float tensors throughout). */
#define NN__ONNX_OPSET 13
#define NN__ONNX_OPSET_MIN 7
#define NN__ONNX_OPSET_MAX 21
/* IR version written: 7 is the one of ONNX 1.8, which introduced
   opset 13 (ONNX 1.12's checker and every ONNX Runtime accept it). */
#define NN__ONNX_IR_VERSION 7

/* An allocator for protobuf-c that takes its memory from nn__malloc (so
   nn_set_allocator's hook sees it) and refuses to go past a budget: the
   decoder's allocations are bounded whatever the bytes say. */
struct nn__pb_alloc {
    ProtobufCAllocator base;  /* handed to protobuf-c */
    size_t used, budget;      /* bytes requested so far, and the cap */
    int over_budget;          /* a request was refused for the budget */
    int out_of_memory;        /* nn__malloc returned NULL */
};
void nn__pb_alloc_init(struct nn__pb_alloc *a, size_t budget);

/* The activation's ONNX operator, NULL for linear. */
const char *nn__onnx_act_op(int32_t act);

#endif /* NNFS_ONNX_INTERNAL_H */
