"""Write the seed corpus of fuzz_onnx_import (fuzz/corpus/fuzz_onnx_import/):
small models exported by libnnfs, written by torch.onnx.export and built
with onnx.helper (MatMul + Add, float_data, Flatten), one unsupported
graph, and truncated / bit-flipped copies.  Each file stays under 4 KiB
(libFuzzer's default -max_len for this corpus).

    PYTHONPATH=python LIBNNFS_PATH=build/libnnfs.so \\
        /usr/bin/python3 fuzz/make_onnx_corpus.py
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import libnnfs as nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "fuzz_onnx_import")


def write(name, data):
    assert len(data) <= 4096, (name, len(data))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(16)
    seeds = {
        "linear_1": nn.Net([3, 2], ["linear"], seed=1).to_onnx(),
        "relu_softmax_2": nn.Net([4, 6, 3], ["relu", "softmax"], seed=2).to_onnx(),
        "sigmoid_tanh_3": nn.Net([2, 5, 4, 1], ["tanh", "sigmoid", "sigmoid"],
                                 seed=3).to_onnx(),
    }
    w = rng.standard_normal((6, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    g = helper.make_graph([
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("MatMul", ["f", "W"], ["m"], name="mm"),
        helper.make_node("Add", ["B", "m"], ["a"], name="add"),
        helper.make_node("Identity", ["a"], ["i"], name="id"),
        helper.make_node("Gemm", ["i", "W2"], ["y"], name="g", transB=1)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])],
        [numpy_helper.from_array(w, "W"),
         helper.make_tensor("B", TensorProto.FLOAT, [4], b.tolist()),
         numpy_helper.from_array(rng.standard_normal((2, 4)).astype(np.float32), "W2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 6
    seeds["helper_matmul_add"] = m.SerializeToString()
    g2 = helper.make_graph([helper.make_node("Conv", ["x", "W"], ["y"], name="c")],
                           "g", g.input, g.output, [numpy_helper.from_array(w, "W")])
    seeds["unsupported_conv"] = helper.make_model(g2).SerializeToString()
    try:
        import io
        import torch
        t = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5),
                                torch.nn.ReLU(), torch.nn.Linear(5, 3, bias=False),
                                torch.nn.Softmax(dim=-1))
        f = io.BytesIO()
        torch.onnx.export(t, torch.zeros(1, 2, 3), f, opset_version=14,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
        seeds["torch_flatten_mlp"] = f.getvalue()
    except ImportError:
        print("torch missing: no torch seed", file=sys.stderr)
    for name, data in seeds.items():
        write(name + ".onnx", data)
        write(name + "_truncated.onnx", data[:len(data) * 2 // 3])
        flipped = bytearray(data)
        flipped[len(data) // 3] ^= 0x40
        write(name + "_flipped.onnx", bytes(flipped))
    print("wrote %d files to %s" % (3 * len(seeds), OUT))


if __name__ == "__main__":
    main()
