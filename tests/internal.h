/*
 * internal.h - the umbrella of the white-box tests (tests/, fuzz/): every
 * module header of src/, so a test reaches the nn__ internals it checks.
 * The library never includes this file; its sources include the headers
 * of the modules they use (src/README.md).
 */
#ifndef NNFS_TESTS_INTERNAL_H
#define NNFS_TESTS_INTERNAL_H

#include "base/base.h"
#include "kernels/kernels.h"
#include "core/core.h"
#include "core/parallel.h"
#include "train/train.h"
#include "io/io.h"

#endif /* NNFS_TESTS_INTERNAL_H */
