/*
 * onnx_import.c - an ONNX model (untrusted bytes) as a network.
 *
 * Phases, in order, nothing allocated for the net before the last:
 *   1. decode: protobuf-c unpacks the ModelProto with the budgeted
 *      allocator (onnx_common.c), after the size check;
 *   2. model checks: IR version, the default-domain opset, one graph
 *      input (not an initializer) and one output;
 *   3. the node walk: the nodes must form one chain from the input to the
 *      output, each recognised (Identity, Flatten, Gemm, MatMul [+ Add],
 *      activation) with every attribute checked; each layer's weight and
 *      bias initializers are checked (type, dims, data length, finite);
 *   4. the shape check (nn__net_check_shape), then allocation and copy.
 * Every string from the file reaches a message only through nn__ix_q
 * (length-capped, non-printable bytes replaced).
 */
#include "onnx_internal.h"

#include <math.h>
#include <stdio.h>

#define NN__IX_BUDGET_BASE ((size_t)16 << 20)
#define NN__IX_IR_MIN 3
#define NN__IX_IR_MAX 11

struct nn__ix_layer {
    const Onnx__TensorProto *w, *b;
    int w_trans;               /* W given as [n_out][n_in] (transB = 1) */
    size_t n_in, n_out;
    int32_t act;
    int has_act, by_matmul;    /* the activation seen; started by MatMul */
};

struct nn__ix {
    const Onnx__GraphProto *g;
    const char *fn;
    const char *cur;           /* the tensor the chain has reached */
    size_t width;              /* its columns, 0 while unknown */
    size_t in_rank;            /* declared rank of the input, 0 unknown */
    size_t in_flat;            /* product of its trailing dims, 0 unknown */
    int64_t opset;
    size_t n_layers;
    struct nn__ix_layer layers[NN_MAX_LAYERS];
};

/* s, safe for a message: at most 48 bytes, printable ASCII only */
static const char *nn__ix_q(const char *s, char *buf, size_t cap)
{
    size_t i;
    if (s == NULL) return "(none)";
    for (i = 0; s[i] != '\0' && i + 4 < cap && i < 48; i++)
        buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (s[i] != '\0') buf[i++] = '~';
    buf[i] = '\0';
    return buf;
}

/* status with "fn: node 'NAME' (op OP): <fmt>" */
static int nn__ix_node_fail(const struct nn__ix *ix, int status,
                            const Onnx__NodeProto *n, size_t k,
                            const char *fmt, ...) NN__PRINTF(5, 6);
static int nn__ix_node_fail(const struct nn__ix *ix, int status,
                            const Onnx__NodeProto *n, size_t k,
                            const char *fmt, ...)
{
    char what[320], nb[64], ob[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (n->name != NULL && n->name[0] != '\0')
        return nn__fail(status, "%s: node '%s' (op %s): %s", ix->fn,
                        nn__ix_q(n->name, nb, sizeof nb),
                        nn__ix_q(n->op_type, ob, sizeof ob), what);
    return nn__fail(status, "%s: node #%zu (op %s): %s", ix->fn, k,
                    nn__ix_q(n->op_type, ob, sizeof ob), what);
}

static int nn__ix_streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*====== Initializers ======*/

/* The initializer called name, or NULL; two of that name is a format
   error (*dup set). */
static const Onnx__TensorProto *nn__ix_init(const struct nn__ix *ix,
                                            const char *name, int *dup)
{
    const Onnx__TensorProto *t = NULL;
    size_t i;
    *dup = 0;
    if (name == NULL || name[0] == '\0') return NULL;
    for (i = 0; i < ix->g->n_initializer; i++) {
        if (!nn__ix_streq(ix->g->initializer[i]->name, name)) continue;
        if (t != NULL) *dup = 1;
        t = ix->g->initializer[i];
    }
    return t;
}

/* Check initializer t as a float32 tensor of rank 1 or 2 held in the file
   with finite values; *rows, *cols receive its dims (rank 1: rows = 1). */
static int nn__ix_tensor(const struct nn__ix *ix, const Onnx__NodeProto *n,
                         size_t k, const Onnx__TensorProto *t,
                         size_t *rows, size_t *cols)
{
    char tb[64];
    const char *tn = nn__ix_q(t->name, tb, sizeof tb);
    size_t count = 1, i, nd = t->n_dims;
    if (!t->has_data_type || t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k,
                                "initializer '%s' has data_type %d (only "
                                "float32, 1, is supported)", tn,
                                t->has_data_type ? (int)t->data_type : 0);
    if (t->segment != NULL)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k,
                                "initializer '%s' is segmented", tn);
    if ((t->has_data_location && t->data_location !=
         ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT) || t->n_external_data)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k,
                                "initializer '%s' is stored in an external "
                                "file (only data inside the model is read)",
                                tn);
    if (nd < 1 || nd > 2)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k,
                                "initializer '%s' has %zu dimensions (1 or "
                                "2 expected)", tn, nd);
    for (i = 0; i < nd; i++) {
        int64_t d = t->dims[i];
        if (d < 1 || (uint64_t)d > NN_MAX_PARAMS)
            return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k,
                                    "initializer '%s' dims[%zu] = %lld is "
                                    "outside [1, %zu]", tn, i, (long long)d,
                                    (size_t)NN_MAX_PARAMS);
        if (!nn__mul_ok(count, (size_t)d, &count)) count = SIZE_MAX;
    }
    if (count > NN_MAX_PARAMS)
        return nn__fail(NN_ERR_SHAPE, "%s: initializer '%s' holds %zu "
                        "values, over NN_MAX_PARAMS = %zu", ix->fn, tn,
                        count, (size_t)NN_MAX_PARAMS);
    if (t->has_raw_data) {
        if (t->n_float_data != 0 || t->raw_data.len != 4 * count)
            return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k,
                                    "initializer '%s' has %zu bytes of "
                                    "raw_data (and %zu float_data); its dims "
                                    "say %zu floats", tn, t->raw_data.len,
                                    t->n_float_data, count);
        for (i = 0; i < count; i++) {
            float v = nn__bits_f32(nn__rd32(t->raw_data.data + 4 * i));
            if (!isfinite(v))
                return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k,
                                        "initializer '%s' value %zu is not "
                                        "finite", tn, i);
        }
    } else {
        if (t->n_float_data != count)
            return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k,
                                    "initializer '%s' has %zu float_data "
                                    "values; its dims say %zu", tn,
                                    t->n_float_data, count);
        for (i = 0; i < count; i++)
            if (!isfinite(t->float_data[i]))
                return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k,
                                        "initializer '%s' value %zu is not "
                                        "finite", tn, i);
    }
    *rows = nd == 2 ? (size_t)t->dims[0] : 1;
    *cols = nd == 2 ? (size_t)t->dims[1] : (size_t)t->dims[0];
    return NN_OK;
}

/* Node input i, which must name an initializer: checked, into *t. */
static int nn__ix_node_init(const struct nn__ix *ix, const Onnx__NodeProto *n,
                            size_t k, size_t i, const Onnx__TensorProto **t,
                            size_t *rows, size_t *cols)
{
    char ib[64];
    int dup;
    *t = nn__ix_init(ix, n->input[i], &dup);
    if (dup)
        return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k, "two initializers "
                                "are named '%s'", nn__ix_q(n->input[i], ib,
                                                           sizeof ib));
    if (*t == NULL)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "input %zu "
                                "'%s' is not an initializer (weights must "
                                "be constants of the model)", i,
                                nn__ix_q(n->input[i], ib, sizeof ib));
    return nn__ix_tensor(ix, n, k, *t, rows, cols);
}

/* A bias initializer for a layer of n_out outputs: [n_out] or [1, n_out]. */
static int nn__ix_bias(const struct nn__ix *ix, const Onnx__NodeProto *n,
                       size_t k, size_t i, struct nn__ix_layer *l)
{
    size_t r, c;
    char ib[64];
    NN__FORWARD(nn__ix_node_init(ix, n, k, i, &l->b, &r, &c));
    if (r != 1 || c != l->n_out)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "bias '%s' "
                                "is %zu x %zu; [%zu] or [1, %zu] expected",
                                nn__ix_q(n->input[i], ib, sizeof ib), r, c,
                                l->n_out, l->n_out);
    return NN_OK;
}

/*====== Attributes ======*/

/* Attribute a as an INT (FLOAT if want_float) into *i / *f. */
static int nn__ix_attr(const struct nn__ix *ix, const Onnx__NodeProto *n,
                       size_t k, const Onnx__AttributeProto *a,
                       int want_float, int64_t *i, float *f)
{
    char ab[64];
    Onnx__AttributeProto__AttributeType want = want_float
        ? ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
        : ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    if (a->ref_attr_name != NULL ||
        (a->has_type && a->type != want) ||
        (!a->has_type && !(want_float ? a->has_f : a->has_i)))
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k,
                                "attribute '%s' is not a plain %s",
                                nn__ix_q(a->name, ab, sizeof ab),
                                want_float ? "float" : "int");
    if (want_float) *f = a->f;
    else *i = a->i;
    return NN_OK;
}

static int nn__ix_bad_attr(const struct nn__ix *ix, const Onnx__NodeProto *n,
                           size_t k, const Onnx__AttributeProto *a,
                           const char *why)
{
    char ab[64];
    return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "attribute '%s' %s",
                            nn__ix_q(a->name, ab, sizeof ab), why);
}

/*====== Nodes ======*/

/* The layer the next activation or Add belongs to, or NULL. */
static struct nn__ix_layer *nn__ix_open(struct nn__ix *ix)
{
    if (ix->n_layers == 0) return NULL;
    return &ix->layers[ix->n_layers - 1];
}

/* A new layer reading ix->cur, checked against the width so far. */
static int nn__ix_new_layer(struct nn__ix *ix, const Onnx__NodeProto *n,
                            size_t k, struct nn__ix_layer **out)
{
    struct nn__ix_layer *l;
    if (ix->n_layers == NN_MAX_LAYERS)
        return nn__fail(NN_ERR_SHAPE, "%s: more than NN_MAX_LAYERS = %u "
                        "layers", ix->fn, NN_MAX_LAYERS);
    if (ix->n_layers == 0 && ix->in_rank > 2 && ix->width == 0)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "the graph "
                                "input has %zu dimensions; 2 (or a Flatten "
                                "first) expected", ix->in_rank);
    l = &ix->layers[ix->n_layers++];
    memset(l, 0, sizeof *l);
    l->act = NN_ACT_LINEAR;
    *out = l;
    return NN_OK;
}

static int nn__ix_check_width(struct nn__ix *ix, const Onnx__NodeProto *n,
                              size_t k, struct nn__ix_layer *l)
{
    if (ix->width != 0 && ix->width != l->n_in)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "its weights "
                                "take %zu inputs but the tensor before it "
                                "has %zu columns", l->n_in, ix->width);
    ix->width = l->n_out;
    return NN_OK;
}

static int nn__ix_gemm(struct nn__ix *ix, const Onnx__NodeProto *n, size_t k)
{
    struct nn__ix_layer *l;
    size_t i, r, c;
    int64_t ta = 0, tb = 0;
    float alpha = 1, beta = 1;
    int st;
    if (n->n_input < 2 || n->n_input > 3)
        return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k, "%zu inputs (2 or "
                                "3 expected)", n->n_input);
    for (i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        if (nn__ix_streq(a->name, "alpha"))
            st = nn__ix_attr(ix, n, k, a, 1, NULL, &alpha);
        else if (nn__ix_streq(a->name, "beta"))
            st = nn__ix_attr(ix, n, k, a, 1, NULL, &beta);
        else if (nn__ix_streq(a->name, "transA"))
            st = nn__ix_attr(ix, n, k, a, 0, &ta, NULL);
        else if (nn__ix_streq(a->name, "transB"))
            st = nn__ix_attr(ix, n, k, a, 0, &tb, NULL);
        else
            st = nn__ix_bad_attr(ix, n, k, a, "is not supported");
        if (st != NN_OK) return st;
        if (alpha != 1.0f || beta != 1.0f)
            return nn__ix_bad_attr(ix, n, k, a, "must be 1");
        if (ta != 0)
            return nn__ix_bad_attr(ix, n, k, a, "must be 0 (the batch is "
                                   "the first input's rows)");
        if (tb != 0 && tb != 1)
            return nn__ix_bad_attr(ix, n, k, a, "must be 0 or 1");
    }
    NN__FORWARD(nn__ix_new_layer(ix, n, k, &l));
    NN__FORWARD(nn__ix_node_init(ix, n, k, 1, &l->w, &r, &c));
    if (l->w->n_dims != 2)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "weights of "
                                "1 dimension (2 expected)");
    l->w_trans = tb == 1;
    l->n_in = tb ? c : r;
    l->n_out = tb ? r : c;
    if (n->n_input == 3 && n->input[2] != NULL && n->input[2][0] != '\0') {
        NN__FORWARD(nn__ix_bias(ix, n, k, 2, l));
    }
    return nn__ix_check_width(ix, n, k, l);
}

/* MatMul and Add: two inputs, no attributes. */
static int nn__ix_binary(struct nn__ix *ix, const Onnx__NodeProto *n,
                         size_t k)
{
    if (n->n_input != 2)
        return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k, "%zu inputs (2 "
                                "expected)", n->n_input);
    if (n->n_attribute != 0)
        return nn__ix_bad_attr(ix, n, k, n->attribute[0], "is not "
                               "supported");
    return NN_OK;
}

static int nn__ix_matmul(struct nn__ix *ix, const Onnx__NodeProto *n,
                         size_t k)
{
    struct nn__ix_layer *l;
    size_t r, c;
    NN__FORWARD(nn__ix_binary(ix, n, k));
    NN__FORWARD(nn__ix_new_layer(ix, n, k, &l));
    NN__FORWARD(nn__ix_node_init(ix, n, k, 1, &l->w, &r, &c));
    if (l->w->n_dims != 2)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "weights of "
                                "1 dimension (2 expected)");
    l->n_in = r;
    l->n_out = c;
    l->by_matmul = 1;
    return nn__ix_check_width(ix, n, k, l);
}

/* Add after MatMul: the layer's bias.  Either input may be the chain. */
static int nn__ix_add(struct nn__ix *ix, const Onnx__NodeProto *n, size_t k)
{
    struct nn__ix_layer *l = nn__ix_open(ix);
    NN__FORWARD(nn__ix_binary(ix, n, k));
    if (l == NULL || !l->by_matmul || l->b != NULL || l->has_act)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "an Add is "
                                "only supported as the bias of a MatMul");
    return nn__ix_bias(ix, n, k, nn__ix_streq(n->input[0], ix->cur) ? 1 : 0,
                       l);
}

static int nn__ix_act(struct nn__ix *ix, const Onnx__NodeProto *n, size_t k,
                      int32_t act)
{
    struct nn__ix_layer *l = nn__ix_open(ix);
    size_t i;
    if (n->n_input != 1)
        return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k, "%zu inputs (1 "
                                "expected)", n->n_input);
    for (i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        int64_t axis = 0;
        if (act != NN_ACT_SOFTMAX || !nn__ix_streq(a->name, "axis"))
            return nn__ix_bad_attr(ix, n, k, a, "is not supported");
        NN__FORWARD(nn__ix_attr(ix, n, k, a, 0, &axis, NULL));
        /* 2-D tensors here: axis 1 and -1 are both the rows' softmax */
        if (axis != 1 && axis != -1)
            return nn__ix_bad_attr(ix, n, k, a, "must be 1 or -1 (the "
                                   "softmax of each row)");
    }
    if (l == NULL)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "an "
                                "activation before any Gemm or MatMul");
    if (l->has_act)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "a second "
                                "activation on one layer");
    l->act = act;
    l->has_act = 1;
    return NN_OK;
}

static int nn__ix_flatten(struct nn__ix *ix, const Onnx__NodeProto *n,
                          size_t k, const char *input)
{
    size_t i;
    int64_t axis = 1;
    for (i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        if (!nn__ix_streq(a->name, "axis"))
            return nn__ix_bad_attr(ix, n, k, a, "is not supported");
        NN__FORWARD(nn__ix_attr(ix, n, k, a, 0, &axis, NULL));
        if (axis != 1)
            return nn__ix_bad_attr(ix, n, k, a, "must be 1 (keep the batch "
                                   "dimension)");
    }
    if (n->n_input != 1 || ix->n_layers != 0 || !nn__ix_streq(ix->cur, input))
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "a Flatten is "
                                "only supported on the graph input");
    if (ix->in_flat == 0)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "the graph "
                                "input's dimensions after the first must "
                                "be known numbers");
    ix->width = ix->in_flat;
    return NN_OK;
}

static int nn__ix_node(struct nn__ix *ix, size_t k, const char *input)
{
    const Onnx__NodeProto *n = ix->g->node[k];
    const char *op = n->op_type;
    char ib[64];
    size_t i;
    int st, chained = 0;

    if (op == NULL || op[0] == '\0')
        return nn__ix_node_fail(ix, NN_ERR_FORMAT, n, k, "no op_type");
    if (n->domain != NULL && n->domain[0] != '\0' &&
        strcmp(n->domain, "ai.onnx") != 0)
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "domain '%s' "
                                "(only the default ONNX domain)",
                                nn__ix_q(n->domain, ib, sizeof ib));
    if (n->n_output != 1 || n->output[0] == NULL || n->output[0][0] == '\0')
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "%zu outputs "
                                "(one named output expected)", n->n_output);
    for (i = 0; i < n->n_input && i < 2; i++)
        chained |= nn__ix_streq(n->input[i], ix->cur);
    if (n->n_input == 0 || !chained ||
        (!nn__ix_streq(n->input[0], ix->cur) && strcmp(op, "Add") != 0))
        return nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "does not "
                                "read '%s', the output of the node before "
                                "it (only a chain of layers is supported)",
                                nn__ix_q(ix->cur, ib, sizeof ib));

    if (strcmp(op, "Gemm") == 0) st = nn__ix_gemm(ix, n, k);
    else if (strcmp(op, "MatMul") == 0) st = nn__ix_matmul(ix, n, k);
    else if (strcmp(op, "Add") == 0) st = nn__ix_add(ix, n, k);
    else if (strcmp(op, "Relu") == 0) st = nn__ix_act(ix, n, k, NN_ACT_RELU);
    else if (strcmp(op, "Sigmoid") == 0)
        st = nn__ix_act(ix, n, k, NN_ACT_SIGMOID);
    else if (strcmp(op, "Tanh") == 0) st = nn__ix_act(ix, n, k, NN_ACT_TANH);
    else if (strcmp(op, "Softmax") == 0)
        st = nn__ix_act(ix, n, k, NN_ACT_SOFTMAX);
    else if (strcmp(op, "Flatten") == 0) st = nn__ix_flatten(ix, n, k, input);
    else if (strcmp(op, "Identity") == 0)
        st = n->n_attribute == 0 ? NN_OK
             : nn__ix_bad_attr(ix, n, k, n->attribute[0], "is not supported");
    else
        st = nn__ix_node_fail(ix, NN_ERR_UNSUPPORTED, n, k, "operator not "
                              "supported (Gemm, MatMul, Add, Relu, Sigmoid, "
                              "Tanh, Softmax, Flatten, Identity are)");
    if (st != NN_OK) return st;
    ix->cur = n->output[0];
    return NN_OK;
}

/*====== Model and graph checks ======*/

static int nn__ix_opset(struct nn__ix *ix, const Onnx__ModelProto *m)
{
    size_t i;
    int found = 0;
    for (i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        if (o->domain != NULL && o->domain[0] != '\0' &&
            strcmp(o->domain, "ai.onnx") != 0)
            continue;   /* other domains: no node may use them (checked) */
        NN__CHECK(found, NN_ERR_FORMAT, "%s: the default ONNX domain is "
                  "imported twice", ix->fn);
        found = 1;
        ix->opset = o->has_version ? o->version : 0;
    }
    NN__CHECK(!found, NN_ERR_FORMAT, "%s: no opset_import for the default "
              "ONNX domain", ix->fn);
    NN__CHECK(ix->opset < NN__ONNX_OPSET_MIN || ix->opset > NN__ONNX_OPSET_MAX,
              NN_ERR_UNSUPPORTED, "%s: opset %lld of the default domain; "
              "%d to %d are supported", ix->fn, (long long)ix->opset,
              NN__ONNX_OPSET_MIN, NN__ONNX_OPSET_MAX);
    return NN_OK;
}

/* A float tensor type, or an absent type (the weights then decide). */
static int nn__ix_float_type(const struct nn__ix *ix,
                             const Onnx__ValueInfoProto *v, const char *what)
{
    char nb[64];
    const Onnx__TypeProto *t = v->type;
    if (t == NULL) return NN_OK;
    NN__CHECK(t->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
              t->tensor_type == NULL, NN_ERR_UNSUPPORTED,
              "%s: the graph %s '%s' is not a tensor", ix->fn, what,
              nn__ix_q(v->name, nb, sizeof nb));
    NN__CHECK(t->tensor_type->has_elem_type && t->tensor_type->elem_type !=
              ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, NN_ERR_UNSUPPORTED,
              "%s: the graph %s '%s' has elem_type %d (only float32, 1, is "
              "supported)", ix->fn, what, nn__ix_q(v->name, nb, sizeof nb),
              (int)t->tensor_type->elem_type);
    return NN_OK;
}

/* The one graph input that is not an initializer, with its declared
   rank and the product of its trailing dims (0 when unknown). */
static int nn__ix_input(struct nn__ix *ix, const Onnx__ValueInfoProto **in)
{
    const Onnx__TensorShapeProto *s;
    size_t i, flat = 1;
    int dup;
    *in = NULL;
    for (i = 0; i < ix->g->n_input; i++) {
        const Onnx__ValueInfoProto *v = ix->g->input[i];
        NN__CHECK(v->name == NULL || v->name[0] == '\0', NN_ERR_FORMAT,
                  "%s: graph input %zu has no name", ix->fn, i);
        if (nn__ix_init(ix, v->name, &dup) != NULL) continue;
        NN__CHECK(*in != NULL, NN_ERR_UNSUPPORTED, "%s: the graph has more "
                  "than one input (one data input expected)", ix->fn);
        *in = v;
    }
    NN__CHECK(*in == NULL, NN_ERR_FORMAT, "%s: the graph has no input",
              ix->fn);
    NN__FORWARD(nn__ix_float_type(ix, *in, "input"));
    if ((*in)->type == NULL || (*in)->type->tensor_type == NULL ||
        (*in)->type->tensor_type->shape == NULL)
        return NN_OK;
    s = (*in)->type->tensor_type->shape;
    ix->in_rank = s->n_dim;
    NN__CHECK(s->n_dim < 2, NN_ERR_UNSUPPORTED, "%s: the graph input has "
              "%zu dimensions (a batch of rows expected)", ix->fn, s->n_dim);
    for (i = 1; i < s->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = s->dim[i];
        if (d->value_case !=
                ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE ||
            d->dim_value < 1 || (uint64_t)d->dim_value > NN_MAX_WIDTH ||
            flat > NN_MAX_WIDTH) {
            flat = 0;
            break;
        }
        flat *= (size_t)d->dim_value;
    }
    if (flat > NN_MAX_WIDTH) flat = 0;
    ix->in_flat = flat;
    if (s->n_dim == 2) ix->width = flat;
    return NN_OK;
}

/*====== The net ======*/

static void nn__ix_copy(float *dst, const Onnx__TensorProto *t, size_t n)
{
    size_t i;
    if (t->has_raw_data)
        for (i = 0; i < n; i++)
            dst[i] = nn__bits_f32(nn__rd32(t->raw_data.data + 4 * i));
    else
        memcpy(dst, t->float_data, n * sizeof *dst);
}

static int nn__ix_build(const struct nn__ix *ix, nn_net **out)
{
    size_t sizes[NN_MAX_LAYERS + 1], i, r, c;
    int32_t acts[NN_MAX_LAYERS];
    nn_net *net;

    sizes[0] = ix->layers[0].n_in;
    for (i = 0; i < ix->n_layers; i++) {
        sizes[i + 1] = ix->layers[i].n_out;
        acts[i] = ix->layers[i].act;
    }
    NN__FORWARD(nn__net_check_shape(ix->n_layers, sizes, acts, ix->fn));
    NN__FORWARD(nn__net_alloc(&net, ix->n_layers, sizes, acts, ix->fn));
    for (i = 0; i < ix->n_layers; i++) {
        const struct nn__ix_layer *s = &ix->layers[i];
        struct nn__layer *l = &net->layers[i];
        if (!s->w_trans) {
            nn__ix_copy(l->w, s->w, s->n_in * s->n_out);
        } else {
            /* B is [n_out][n_in]: W[r][c] = B[c][r], read in B's order */
            const unsigned char *raw = s->w->raw_data.data;
            for (r = 0; r < s->n_out; r++)
                for (c = 0; c < s->n_in; c++) {
                    size_t at = r * s->n_in + c;
                    l->w[c * s->n_out + r] = s->w->has_raw_data
                        ? nn__bits_f32(nn__rd32(raw + 4 * at))
                        : s->w->float_data[at];
                }
        }
        if (s->b != NULL) nn__ix_copy(l->b, s->b, s->n_out);
        else memset(l->b, 0, s->n_out * sizeof *l->b);
    }
    /* the dropout stream of nn_net_create with seed 0 */
    nn__rng_seed(&net->rng, 0xd1b54a32d192ed03ull);
    nn__net_refresh_pmax(net);
    *out = net;
    return NN_OK;
}

static int nn__ix_model(struct nn__ix *ix, const Onnx__ModelProto *m,
                        nn_net **out)
{
    const Onnx__ValueInfoProto *in, *outv;
    const Onnx__GraphProto *g = m->graph;
    char nb[64];
    size_t k;

    NN__CHECK(!m->has_ir_version || m->ir_version < NN__IX_IR_MIN,
              NN_ERR_FORMAT, "%s: ir_version %lld (missing or older than "
              "%d: not an ONNX model?)", ix->fn,
              (long long)(m->has_ir_version ? m->ir_version : 0),
              NN__IX_IR_MIN);
    NN__CHECK(m->ir_version > NN__IX_IR_MAX, NN_ERR_UNSUPPORTED,
              "%s: ir_version %lld is newer than %d", ix->fn,
              (long long)m->ir_version, NN__IX_IR_MAX);
    NN__CHECK(g == NULL, NN_ERR_FORMAT, "%s: the model has no graph",
              ix->fn);
    NN__FORWARD(nn__ix_opset(ix, m));
    NN__CHECK(g->n_node > NN_ONNX_MAX_NODES ||
              g->n_initializer > NN_ONNX_MAX_NODES, NN_ERR_FORMAT,
              "%s: %zu nodes and %zu initializers; at most "
              "NN_ONNX_MAX_NODES = %u of each are read", ix->fn, g->n_node,
              g->n_initializer, NN_ONNX_MAX_NODES);
    NN__CHECK(g->n_sparse_initializer != 0, NN_ERR_UNSUPPORTED,
              "%s: sparse initializers are not supported", ix->fn);
    ix->g = g;
    NN__FORWARD(nn__ix_input(ix, &in));
    NN__CHECK(g->n_output != 1, NN_ERR_UNSUPPORTED, "%s: the graph has %zu "
              "outputs (one expected)", ix->fn, g->n_output);
    outv = g->output[0];
    NN__CHECK(outv->name == NULL || outv->name[0] == '\0', NN_ERR_FORMAT,
              "%s: the graph output has no name", ix->fn);
    NN__FORWARD(nn__ix_float_type(ix, outv, "output"));

    ix->cur = in->name;
    for (k = 0; k < g->n_node; k++) {
        NN__FORWARD(nn__ix_node(ix, k, in->name));
    }
    NN__CHECK(ix->n_layers == 0, NN_ERR_UNSUPPORTED, "%s: the graph has no "
              "Gemm or MatMul layer", ix->fn);
    NN__CHECK(!nn__ix_streq(ix->cur, outv->name), NN_ERR_UNSUPPORTED,
              "%s: the graph output '%s' is not the end of the chain of "
              "layers", ix->fn, nn__ix_q(outv->name, nb, sizeof nb));
    return nn__ix_build(ix, out);
}

static int nn__ix_parse(nn_net **out, const unsigned char *buf, size_t size,
                        const char *fn)
{
    struct nn__pb_alloc a;
    struct nn__ix *ix;
    Onnx__ModelProto *m;
    int st;

    NN__CHECK(size > NN_ONNX_MAX_BYTES, NN_ERR_FORMAT, "%s: %zu bytes, over "
              "NN_ONNX_MAX_BYTES = %zu", fn, size, NN_ONNX_MAX_BYTES);
    {
        /* saturating: 2 * NN_ONNX_MAX_BYTES does not fit a 32-bit size_t */
        size_t budget;
        if (!nn__mul_ok(size, 2, &budget) ||
            !nn__add_ok(budget, NN__IX_BUDGET_BASE, &budget))
            budget = SIZE_MAX;
        nn__pb_alloc_init(&a, budget);
    }
    m = onnx__model_proto__unpack(&a.base, size, buf);
    if (m == NULL) {
        NN__CHECK(a.out_of_memory, NN_ERR_NOMEM, "%s: out of memory "
                  "decoding %zu bytes of ONNX", fn, size);
        NN__CHECK(a.over_budget, NN_ERR_FORMAT, "%s: decoding these %zu "
                  "bytes needs more than %zu bytes of memory (not a model "
                  "libnnfs can read)", fn, size, a.budget);
        return nn__fail(NN_ERR_FORMAT, "%s: the %zu bytes are not a "
                        "protobuf ModelProto (truncated, corrupt or another "
                        "format)", fn, size);
    }
    ix = nn__malloc(sizeof *ix);
    if (ix == NULL) {
        onnx__model_proto__free_unpacked(m, &a.base);
        return nn__fail(NN_ERR_NOMEM, "%s: out of memory", fn);
    }
    memset(ix, 0, sizeof *ix);
    ix->fn = fn;
    st = nn__ix_model(ix, m, out);
    nn__free(ix);
    onnx__model_proto__free_unpacked(m, &a.base);
    return st;
}

int nn_net_import_onnx_buffer(nn_net **out, const void *buf, size_t size)
{
    static const char fn[] = "nn_net_import_onnx_buffer";
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    NN__CHECK(buf == NULL, NN_ERR_INVALID_ARG, "%s: buf is NULL", fn);
    return nn__ix_parse(out, buf, size, fn);
}

int nn_net_import_onnx(nn_net **out, const char *path)
{
    static const char fn[] = "nn_net_import_onnx";
    unsigned char *buf;
    size_t size;
    int st;
    NN__CHECK(out == NULL, NN_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    NN__CHECK(path == NULL, NN_ERR_INVALID_ARG, "%s: path is NULL", fn);
    NN__CHECK(path[0] == '\0', NN_ERR_INVALID_ARG, "%s: path is empty", fn);
    NN__FORWARD(nn__read_file(path, NN_ONNX_MAX_BYTES, &buf, &size, fn));
    st = nn__ix_parse(out, buf, size, fn);
    nn__free(buf);
    return st;
}
