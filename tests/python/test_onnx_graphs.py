"""ONNX export checked by ONNX itself, and import of hand-built graphs.

1. Every activation x depth 1..3: Net.to_onnx passes
   onnx.checker.check_model(full_check=True) (ONNX's shape inference
   included), has the promised structure (opset 13, producer, the loss in
   metadata_props, float32 initializers named layer<i>.weight/.bias equal
   to the net's weights, a symbolic batch dimension), and a float64 NumPy
   forward over the ONNX file's own initializers and nodes matches
   nn_predict within 1e-5 relative to the output's scale.
2. Graphs written with onnx.helper (not by libnnfs): the MatMul + Add form
   (bias on either side), Gemm with transB, float_data instead of
   raw_data, Identity and Flatten, imported and compared with NumPy;
   unsupported ones refused with NN_ERR_UNSUPPORTED naming node, op and
   attribute.
Exit 0 on success, 77 when numpy or onnx is missing (CTest SKIP).
"""
import os
import re
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # pragma: no cover
    print("SKIP: numpy/onnx not importable: %s" % e)
    sys.exit(77)

import libnnfs as nn

ACTS = ["linear", "relu", "sigmoid", "tanh", "softmax"]
OPS = {"Relu": lambda z: np.maximum(z, 0), "Sigmoid": lambda z: 1 / (1 + np.exp(-z)),
       "Tanh": np.tanh, "Identity": lambda z: z}


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def run_numpy(model, x):
    """Evaluate the chain in float64 from the ONNX model alone."""
    g = model.graph
    inits = {t.name: numpy_helper.to_array(t).astype(np.float64)
             for t in g.initializer}
    env = {g.input[0].name: x.astype(np.float64)}
    for n in g.node:
        a = [env[i] if i in env else inits[i] for i in n.input if i]
        at = {k.name: helper.get_attribute_value(k) for k in n.attribute}
        if n.op_type == "Gemm":
            b = a[1].T if at.get("transB", 0) else a[1]
            y = a[0] @ b + (a[2] if len(a) > 2 else 0)
        elif n.op_type == "MatMul":
            y = a[0] @ a[1]
        elif n.op_type == "Add":
            y = a[0] + a[1]
        elif n.op_type == "Softmax":
            y = softmax(a[0])
        elif n.op_type == "Flatten":
            y = a[0].reshape(a[0].shape[0], -1)
        else:
            y = OPS[n.op_type](a[0])
        env[n.output[0]] = y
    return env[g.output[0].name]


def check_close(name, got, ref, tol=1e-5):
    err = np.abs(got - ref).max() / max(1.0, np.abs(ref).max())
    assert err <= tol, "%s: error %.3g over %.3g" % (name, err, tol)
    return err


def export_cases(rng):
    worst = 0.0
    for act in ACTS:
        for depth in range(1, 4):
            sizes = [9] + [7, 5][:depth - 1] + [4]
            net = nn.Net(sizes, [act] * depth, seed=int(rng.integers(1 << 30)))
            for i in range(depth):
                w, b = net.get_weights(i)
                net.set_weights(i, biases=rng.standard_normal(b.shape).astype(np.float32) * 0.1)
            data = net.to_onnx()
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "m.onnx")
                assert net.to_onnx(path) is None
                with open(path, "rb") as f:
                    assert f.read() == data
                back = nn.Net.from_onnx(path)
                for i in range(depth):
                    for a, b in zip(back.get_weights(i), net.get_weights(i)):
                        assert np.array_equal(a, b)
            model = onnx.load_from_string(data)
            onnx.checker.check_model(model, full_check=True)
            assert model.opset_import[0].version == 13, model.opset_import
            assert model.producer_name == "libnnfs"
            assert re.fullmatch(r"\d+\.\d+\.\d+", model.producer_version)
            loss = {p.key: p.value for p in model.metadata_props}["loss"]
            assert loss == {"softmax": "cce", "sigmoid": "bce"}.get(act, "mse"), loss
            ops = [n.op_type for n in model.graph.node]
            want = []
            for _ in range(depth):
                want.append("Gemm")
                if act != "linear":
                    want.append(act.capitalize() if act != "relu" else "Relu")
            assert ops == want, (ops, want)
            dim0 = model.graph.input[0].type.tensor_type.shape.dim[0]
            assert dim0.dim_param == "N" and not dim0.HasField("dim_value")
            inits = {t.name: t for t in model.graph.initializer}
            for i in range(depth):
                w, b = net.get_weights(i)
                tw, tb = inits["layer%d.weight" % i], inits["layer%d.bias" % i]
                assert tw.data_type == TensorProto.FLOAT
                assert np.array_equal(numpy_helper.to_array(tw), w)
                assert np.array_equal(numpy_helper.to_array(tb), b)
            x = rng.standard_normal((33, 9)).astype(np.float32)
            worst = max(worst, check_close("%s x %d" % (act, depth),
                                           net.predict(x), run_numpy(model, x)))
    print("export: 15 nets pass onnx.checker (full_check); NumPy float64 "
          "forward vs nn_predict: max error %.3g (relative to the output "
          "scale)" % worst)


def tensor(name, a, float_data=False):
    a = np.asarray(a, dtype=np.float32)
    if float_data:
        return helper.make_tensor(name, TensorProto.FLOAT, a.shape, a.ravel().tolist())
    return numpy_helper.from_array(a, name)


def model_of(nodes, inits, in_shape, out_shape, opset=13, inputs=None):
    g = helper.make_graph(
        nodes, "g",
        inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)],
        inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def imports(rng):
    w1 = rng.standard_normal((6, 5)).astype(np.float32)
    b1 = rng.standard_normal(5).astype(np.float32)
    w2 = rng.standard_normal((3, 5)).astype(np.float32)  # [out][in]
    b2 = rng.standard_normal((1, 3)).astype(np.float32)
    x = rng.standard_normal((8, 2, 3)).astype(np.float32)
    good = {
        "matmul_add_bias_second": model_of([
            helper.make_node("Flatten", ["x"], ["f"], name="flat"),
            helper.make_node("MatMul", ["f", "W1"], ["m1"], name="mm1"),
            helper.make_node("Add", ["m1", "B1"], ["a1"], name="add1"),
            helper.make_node("Tanh", ["a1"], ["t1"], name="tanh1"),
            helper.make_node("Gemm", ["t1", "W2", "B2"], ["g2"], name="g2", transB=1),
            helper.make_node("Softmax", ["g2"], ["y"], name="sm", axis=1),
        ], [tensor("W1", w1), tensor("B1", b1), tensor("W2", w2), tensor("B2", b2)],
            ["N", 2, 3], ["N", 3], opset=11),
        "add_bias_first_float_data": model_of([
            helper.make_node("Flatten", ["x"], ["f"], name="flat", axis=1),
            helper.make_node("MatMul", ["f", "W1"], ["m1"], name="mm1"),
            helper.make_node("Add", ["B1", "m1"], ["a1"], name="add1"),
            helper.make_node("Identity", ["a1"], ["i1"], name="id"),
            helper.make_node("Relu", ["i1"], ["r1"], name="relu1"),
            helper.make_node("MatMul", ["r1", "W2T"], ["y"], name="mm2"),
        ], [tensor("W1", w1, True), tensor("B1", b1, True), tensor("W2T", w2.T)],
            ["N", 2, 3], ["N", 3]),
    }
    for name, m in good.items():
        onnx.checker.check_model(m, full_check=True)
        net = nn.Net.from_onnx(m.SerializeToString())
        check_close(name, net.predict(x.reshape(8, 6)), run_numpy(m, x))
    print("import: %d helper-built graphs (MatMul+Add, transB, float_data, "
          "Identity, Flatten) match NumPy" % len(good))

    base_nodes = lambda **kw: [helper.make_node("Gemm", ["x", "W", "B"], ["y"], name="dense", **kw)]
    inits = [tensor("W", w1), tensor("B", b1)]
    bad = [
        ("transA", model_of(base_nodes(transA=1), inits, ["N", 6], ["N", 5]),
         "node 'dense' (op Gemm): attribute 'transA' must be 0"),
        ("alpha", model_of(base_nodes(alpha=0.5), inits, ["N", 6], ["N", 5]),
         "node 'dense' (op Gemm): attribute 'alpha' must be 1"),
        ("conv", model_of([helper.make_node("Conv", ["x", "W"], ["y"], name="c0")],
                          inits, ["N", 6], ["N", 5]),
         "node 'c0' (op Conv): operator not supported"),
        ("leaky", model_of(base_nodes()[:0] + [
            helper.make_node("Gemm", ["x", "W", "B"], ["z"], name="dense"),
            helper.make_node("LeakyRelu", ["z"], ["y"], name="lrelu", alpha=0.1)],
            inits, ["N", 6], ["N", 5]),
         "node 'lrelu' (op LeakyRelu): operator not supported"),
        ("softmax_axis0", model_of([
            helper.make_node("Gemm", ["x", "W", "B"], ["z"], name="dense"),
            helper.make_node("Softmax", ["z"], ["y"], name="sm", axis=0)],
            inits, ["N", 6], ["N", 5]),
         "node 'sm' (op Softmax): attribute 'axis' must be 1 or -1"),
        ("relu_attr", model_of([
            helper.make_node("Gemm", ["x", "W", "B"], ["z"], name="dense"),
            helper.make_node("Relu", ["z"], ["y"], name="r", foo=3)],
            inits, ["N", 6], ["N", 5]),
         "node 'r' (op Relu): attribute 'foo' is not supported"),
        ("double_weights", model_of(base_nodes(), [
            numpy_helper.from_array(w1.astype(np.float64), "W"), tensor("B", b1)],
            ["N", 6], ["N", 5]),
         "node 'dense' (op Gemm): initializer 'W' has data_type 11"),
        ("weights_as_input", model_of(base_nodes(), [tensor("B", b1)], ["N", 6], ["N", 5],
            inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6]),
                    helper.make_tensor_value_info("W", TensorProto.FLOAT, [6, 5])]),
         "more than one input"),
        ("branch", model_of([
            helper.make_node("Gemm", ["x", "W", "B"], ["z"], name="dense"),
            helper.make_node("Relu", ["x"], ["y"], name="side")],
            inits, ["N", 6], ["N", 5]),
         "node 'side' (op Relu): does not read 'z'"),
        ("rank3_no_flatten", model_of(base_nodes(), inits, ["N", 2, 3], ["N", 5]),
         "node 'dense' (op Gemm): the graph input has 3 dimensions"),
        ("width_mismatch", model_of(base_nodes(), inits, ["N", 7], ["N", 5]),
         "node 'dense' (op Gemm): its weights take 6 inputs but the tensor "
         "before it has 7 columns"),
        ("other_domain", model_of([helper.make_node("Gemm", ["x", "W", "B"], ["y"],
                                                    name="dense", domain="com.example")],
                                  inits, ["N", 6], ["N", 5]),
         "node 'dense' (op Gemm): domain 'com.example'"),
    ]
    ext = model_of(base_nodes(), inits, ["N", 6], ["N", 5])
    w = ext.graph.initializer[0]
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    e = w.external_data.add()
    e.key, e.value = "location", "weights.bin"
    bad.append(("external", ext, "initializer 'W' is stored in an external file"))
    for name, m, text in bad:
        try:
            nn.Net.from_onnx(m.SerializeToString())
        except nn.UnsupportedError as err:
            assert text in str(err), "%s: %r lacks %r" % (name, str(err), text)
        else:
            raise AssertionError("%s: imported" % name)
    print("import: %d unsupported graphs refused, each message naming the "
          "node, op and attribute or input" % len(bad))


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    print("seed", seed)
    rng = np.random.default_rng(seed)
    export_cases(rng)
    imports(rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
