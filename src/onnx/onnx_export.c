/*
 * onnx_export.c - a network as an ONNX model (opset 13): per layer one
 * Gemm (weights [n_in][n_out] as B, no transposition; biases [n_out] as C)
 * and its activation node, float32 initializers named by layer, input
 * "input" [N, n_in] with a symbolic batch dimension N, output "output".
 * The message is built as protobuf-c structs pointing into one scratch
 * block and packed by protobuf-c; nothing here writes protobuf by hand.
 */
#include "onnx_internal.h"

#include <stdio.h>

/* Everything one layer contributes, with its names inline. */
struct nn__ox_layer {
    char w[40], b[40], z[40], a[40], gemm[40], act[40];
    char *gemm_in[3], *gemm_out[1], *act_in[1], *act_out[1];
    Onnx__NodeProto gemm_node, act_node;
    Onnx__TensorProto wt, bt;
    int64_t wdims[2], bdims[1];
};

/* The graph's input or output: float [N, width]. */
struct nn__ox_io {
    Onnx__ValueInfoProto vi;
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tensor;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension d0, d1, *dims[2];
};

struct nn__ox_model {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset, *opsets[1];
    Onnx__StringStringEntryProto loss, *props[1];
    Onnx__AttributeProto axis, *axis_attrs[1];
    struct nn__ox_io in, out;
    Onnx__ValueInfoProto *in_vi[1], *out_vi[1];
    char producer_version[32], doc[64];
    struct nn__ox_layer *layers;    /* n_layers */
    Onnx__NodeProto **nodes;        /* up to 2 per layer */
    Onnx__TensorProto **inits;      /* 2 per layer */
    unsigned char *raw;             /* every parameter, little-endian */
    void *block;                    /* the one allocation behind them */
};

static char nn__ox_input_name[] = "input";
static char nn__ox_output_name[] = "output";
static char nn__ox_batch_name[] = "N";
static char nn__ox_producer[] = "libnnfs";
static char nn__ox_empty[] = "";
static char nn__ox_loss_key[] = "loss";
static char nn__ox_axis_name[] = "axis";
static char nn__ox_gemm_op[] = "Gemm";
static char nn__ox_graph_name[] = "libnnfs_mlp";

/* The loss libnnfs pairs with an output activation (nnfs eval's rule). */
static char *nn__ox_loss_name(int32_t out_act)
{
    static char cce[] = "cce", bce[] = "bce", mse[] = "mse";
    if (out_act == NN_ACT_SOFTMAX) return cce;
    if (out_act == NN_ACT_SIGMOID) return bce;
    return mse;
}

static void nn__ox_io_init(struct nn__ox_io *io, char *name, size_t width)
{
    onnx__value_info_proto__init(&io->vi);
    onnx__type_proto__init(&io->type);
    onnx__type_proto__tensor__init(&io->tensor);
    onnx__tensor_shape_proto__init(&io->shape);
    onnx__tensor_shape_proto__dimension__init(&io->d0);
    onnx__tensor_shape_proto__dimension__init(&io->d1);
    io->d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    io->d0.dim_param = nn__ox_batch_name;
    io->d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    io->d1.dim_value = (int64_t)width;
    io->dims[0] = &io->d0;
    io->dims[1] = &io->d1;
    io->shape.n_dim = 2;
    io->shape.dim = io->dims;
    io->tensor.has_elem_type = 1;
    io->tensor.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    io->tensor.shape = &io->shape;
    io->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    io->type.tensor_type = &io->tensor;
    io->vi.name = name;
    io->vi.type = &io->type;
}

static void nn__ox_tensor(Onnx__TensorProto *t, char *name, int64_t *dims,
                          size_t n_dims, unsigned char *raw, size_t n)
{
    onnx__tensor_proto__init(t);
    t->name = name;
    t->n_dims = n_dims;
    t->dims = dims;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    t->has_raw_data = 1;
    t->raw_data.len = 4 * n;
    t->raw_data.data = raw;
}

/* raw <- x as little-endian float32 (the byte order ONNX's raw_data
   prescribes), whatever the host's order */
static unsigned char *nn__ox_put(unsigned char *raw, const float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) nn__wr32(raw + 4 * i, nn__f32_bits(x[i]));
    return raw + 4 * n;
}

/* Layer i's nodes and initializers, appended to m->nodes at *n_nodes.
   prev names the layer's input tensor; returns the name of its output. */
static char *nn__ox_layer_build(struct nn__ox_model *m, const nn_net *net,
                                size_t i, char *prev, size_t *n_nodes,
                                unsigned char **raw)
{
    const struct nn__layer *l = &net->layers[i];
    struct nn__ox_layer *x = &m->layers[i];
    const char *op = nn__onnx_act_op(l->act);
    int last = i + 1 == net->n_layers;
    char *z;

    snprintf(x->w, sizeof x->w, "layer%zu.weight", i);
    snprintf(x->b, sizeof x->b, "layer%zu.bias", i);
    snprintf(x->gemm, sizeof x->gemm, "layer%zu.gemm", i);
    snprintf(x->z, sizeof x->z, "layer%zu.z", i);
    x->wdims[0] = (int64_t)l->n_in;
    x->wdims[1] = (int64_t)l->n_out;
    x->bdims[0] = (int64_t)l->n_out;
    nn__ox_tensor(&x->wt, x->w, x->wdims, 2, *raw, l->n_in * l->n_out);
    *raw = nn__ox_put(*raw, l->w, l->n_in * l->n_out);
    nn__ox_tensor(&x->bt, x->b, x->bdims, 1, *raw, l->n_out);
    *raw = nn__ox_put(*raw, l->b, l->n_out);
    m->inits[2 * i] = &x->wt;
    m->inits[2 * i + 1] = &x->bt;

    /* Y = X W + b: Gemm's defaults (alpha = beta = 1, no transposition),
       C [n_out] broadcast over the rows */
    z = last && op == NULL ? nn__ox_output_name : x->z;
    x->gemm_in[0] = prev;
    x->gemm_in[1] = x->w;
    x->gemm_in[2] = x->b;
    x->gemm_out[0] = z;
    onnx__node_proto__init(&x->gemm_node);
    x->gemm_node.name = x->gemm;
    x->gemm_node.op_type = nn__ox_gemm_op;
    x->gemm_node.n_input = 3;
    x->gemm_node.input = x->gemm_in;
    x->gemm_node.n_output = 1;
    x->gemm_node.output = x->gemm_out;
    m->nodes[(*n_nodes)++] = &x->gemm_node;
    if (op == NULL) return z;

    snprintf(x->act, sizeof x->act, "layer%zu.%s", i, op);
    snprintf(x->a, sizeof x->a, "layer%zu.a", i);
    x->act_in[0] = z;
    x->act_out[0] = last ? nn__ox_output_name : x->a;
    onnx__node_proto__init(&x->act_node);
    x->act_node.name = x->act;
    /* the table's strings are constant; protobuf-c only reads them */
    x->act_node.op_type = (char *)(uintptr_t)op;
    x->act_node.n_input = 1;
    x->act_node.input = x->act_in;
    x->act_node.n_output = 1;
    x->act_node.output = x->act_out;
    if (l->act == NN_ACT_SOFTMAX) {
        /* the softmax of each row: the last axis */
        x->act_node.n_attribute = 1;
        x->act_node.attribute = m->axis_attrs;
    }
    m->nodes[(*n_nodes)++] = &x->act_node;
    return x->act_out[0];
}

/* Build the model message for net in m (scratch from one nn__malloc
   block, m->block; free it with nn__free). */
static int nn__ox_build(struct nn__ox_model *m, const nn_net *net,
                        const char *fn)
{
    size_t L = net->n_layers, n_nodes = 0, i, lay, ptrs, raw_bytes, total;
    unsigned char *p, *raw;
    char *prev = nn__ox_input_name;

    /* sizes cannot overflow: L <= NN_MAX_LAYERS, n_params <= NN_MAX_PARAMS */
    lay = L * sizeof(struct nn__ox_layer);
    ptrs = 4 * L * sizeof(void *);
    raw_bytes = 4 * net->n_params;
    total = lay + ptrs + raw_bytes;
    m->block = nn__malloc(total);
    NN__CHECK(m->block == NULL, NN_ERR_NOMEM,
              "%s: out of memory for the %zu-byte ONNX image of %zu "
              "parameters", fn, total, net->n_params);
    p = m->block;
    m->layers = (struct nn__ox_layer *)(void *)p;
    m->nodes = (Onnx__NodeProto **)(void *)(p + lay);
    m->inits = (Onnx__TensorProto **)(void *)(p + lay + 2 * L * sizeof(void *));
    raw = m->raw = p + lay + ptrs;

    onnx__attribute_proto__init(&m->axis);
    m->axis.name = nn__ox_axis_name;
    m->axis.has_type = 1;
    m->axis.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    m->axis.has_i = 1;
    m->axis.i = -1;
    m->axis_attrs[0] = &m->axis;

    for (i = 0; i < L; i++)
        prev = nn__ox_layer_build(m, net, i, prev, &n_nodes, &raw);

    nn__ox_io_init(&m->in, nn__ox_input_name, net->layers[0].n_in);
    nn__ox_io_init(&m->out, nn__ox_output_name, net->layers[L - 1].n_out);
    m->in_vi[0] = &m->in.vi;
    m->out_vi[0] = &m->out.vi;

    onnx__graph_proto__init(&m->graph);
    m->graph.name = nn__ox_graph_name;
    m->graph.n_node = n_nodes;
    m->graph.node = m->nodes;
    m->graph.n_initializer = 2 * L;
    m->graph.initializer = m->inits;
    m->graph.n_input = 1;
    m->graph.input = m->in_vi;
    m->graph.n_output = 1;
    m->graph.output = m->out_vi;

    onnx__operator_set_id_proto__init(&m->opset);
    m->opset.domain = nn__ox_empty;
    m->opset.has_version = 1;
    m->opset.version = NN__ONNX_OPSET;
    m->opsets[0] = &m->opset;
    onnx__string_string_entry_proto__init(&m->loss);
    m->loss.key = nn__ox_loss_key;
    m->loss.value = nn__ox_loss_name(net->layers[L - 1].act);
    m->props[0] = &m->loss;

    snprintf(m->producer_version, sizeof m->producer_version, "%s",
             nn_version());
    snprintf(m->doc, sizeof m->doc, "libnnfs MLP, %zu dense layers", L);
    onnx__model_proto__init(&m->model);
    m->model.has_ir_version = 1;
    m->model.ir_version = NN__ONNX_IR_VERSION;
    m->model.n_opset_import = 1;
    m->model.opset_import = m->opsets;
    m->model.producer_name = nn__ox_producer;
    m->model.producer_version = m->producer_version;
    m->model.doc_string = m->doc;
    m->model.graph = &m->graph;
    m->model.n_metadata_props = 1;
    m->model.metadata_props = m->props;
    return NN_OK;
}

static void nn__ox_fill(const void *ctx, unsigned char *buf)
{
    const struct nn__ox_model *m = ctx;
    (void)onnx__model_proto__pack(&m->model, buf);
}

int nn_net_export_onnx(const nn_net *net, const char *path)
{
    static const char fn[] = "nn_net_export_onnx";
    struct nn__ox_model m;
    int st;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(path == NULL, NN_ERR_INVALID_ARG, "%s: path is NULL", fn);
    NN__CHECK(path[0] == '\0', NN_ERR_INVALID_ARG, "%s: path is empty", fn);
    NN__FORWARD(nn__ox_build(&m, net, fn));
    st = nn__save_image(onnx__model_proto__get_packed_size(&m.model),
                        nn__ox_fill, &m, path, fn);
    nn__free(m.block);
    return st;
}

int nn_net_export_onnx_buffer(const nn_net *net, void *buf, size_t capacity,
                              size_t *size_out)
{
    static const char fn[] = "nn_net_export_onnx_buffer";
    struct nn__ox_model m;
    size_t size;
    NN__CHECK(net == NULL, NN_ERR_INVALID_ARG, "%s: net is NULL", fn);
    NN__CHECK_HANDLE(net, NN__TAG_NET, "net", fn);
    NN__CHECK(size_out == NULL, NN_ERR_INVALID_ARG, "%s: size_out is NULL",
              fn);
    NN__FORWARD(nn__ox_build(&m, net, fn));
    size = onnx__model_proto__get_packed_size(&m.model);
    *size_out = size;
    if (buf != NULL && capacity < size) {
        nn__free(m.block);
        return nn__fail(NN_ERR_SHAPE, "%s: capacity = %zu is smaller than "
                        "the %zu bytes the ONNX model needs", fn, capacity,
                        size);
    }
    if (buf != NULL) nn__ox_fill(&m, buf);
    nn__free(m.block);
    return NN_OK;
}
