/* Structure-aware mutator for fuzz_model (libFuzzer's
 * LLVMFuzzerCustomMutator): parse the input as a ModelProto with
 * protobuf-c, apply one to three semantic mutations (declared dims and
 * ranks, attribute values and lists, op types from lrpx's own op table,
 * node inputs and outputs, raw_data lengths, dtypes, constant values,
 * external data flags, the opset, node duplication and removal) and
 * re-serialize. Half of the time, and whenever the input does not parse,
 * libFuzzer's byte-level mutator runs instead.
 *
 * Everything of one mutation is allocated from a throwaway list and freed
 * at once (the parsed message is never freed field by field, since
 * mutations swap in pointers of their own). Random numbers come from the
 * seed libFuzzer passes, so a run is reproducible. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "core/op.h"

/* libFuzzer */

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

/* ---- a throwaway arena: everything of one mutation freed at once ---- */

static void **arena_ptrs;   /* a mutation's allocations */
static size_t arena_n, arena_cap;

static void *
a_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (arena_n == arena_cap) {
        size_t cap = arena_cap ? 2 * arena_cap : 1024;
        void **np  = realloc(arena_ptrs, cap * sizeof *np);
        if (!np)
            abort();            /* the fuzzer's own memory: not a finding */
        arena_ptrs = np;
        arena_cap  = cap;
    }
    void *p = calloc(1, size ? size : 1);
    if (!p)
        abort();
    arena_ptrs[arena_n++] = p;
    return p;
}

static void
a_free(void *ctx, void *p)
{
    (void)ctx;
    (void)p;   /* freed with the arena */
}

static void
arena_reset(void)
{
    for (size_t i = 0; i < arena_n; i++)
        free(arena_ptrs[i]);
    arena_n = 0;
}

static ProtobufCAllocator alloc = {a_alloc, a_free, NULL};

static char *
a_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char  *d = a_alloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

/* ---- random ---- */

static uint64_t rng;

static uint32_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static uint32_t
rn(uint32_t n)
{
    return n ? rnd() % n : 0;
}

static int64_t
interesting_int(void)
{
    static const int64_t v[] = {0,  1,  -1, 2,  3,  -2,         7,          8,
                                16, 255, 256, 1000, 65536, 1 << 20, (int64_t)1 << 31,
                                ((int64_t)1 << 31) - 1, (int64_t)1 << 32, (int64_t)1 << 40,
                                INT64_MAX, INT64_MIN, INT64_MAX / 2, -1000, 1 << 30, 100000};
    if (rn(4) == 0)
        return (int64_t)rn(10);
    return v[rn(sizeof v / sizeof v[0])];
}

static float
interesting_float(void)
{
    static const float v[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e-30f, 1e30f, 1e-45f,
                              3.4e38f, -3.4e38f, 2.0f, 1e-7f, 100.0f};
    int k = (int)rn(16);
    if (k == 13)
        return __builtin_nanf("");
    if (k == 14)
        return __builtin_inff();
    if (k == 15)
        return -__builtin_inff();
    return v[rn(sizeof v / sizeof v[0])];
}

/* ---- collecting the model's parts ---- */

struct parts {
    Onnx__GraphProto *g;
    /* every value name in the graph */
    const char      **names;
    size_t            n_names;
};

static void
collect_names(struct parts *P)
{
    Onnx__GraphProto *g = P->g;
    size_t            n = g->n_input + g->n_initializer + g->n_output;
    for (size_t i = 0; i < g->n_node; i++)
        n += g->node[i]->n_output;
    P->names   = a_alloc(NULL, (n + 1) * sizeof *P->names);
    P->n_names = 0;
    for (size_t i = 0; i < g->n_input; i++)
        if (g->input[i]->name)
            P->names[P->n_names++] = g->input[i]->name;
    for (size_t i = 0; i < g->n_initializer; i++)
        if (g->initializer[i]->name)
            P->names[P->n_names++] = g->initializer[i]->name;
    for (size_t i = 0; i < g->n_node; i++)
        for (size_t k = 0; k < g->node[i]->n_output; k++)
            if (g->node[i]->output[k])
                P->names[P->n_names++] = g->node[i]->output[k];
}

static Onnx__TensorShapeProto__Dimension *
pick_dim(Onnx__GraphProto *g)
{
    size_t nv = g->n_input + g->n_output + g->n_value_info;
    if (!nv)
        return NULL;
    size_t               k  = rn((uint32_t)nv);
    Onnx__ValueInfoProto *vi = k < g->n_input ? g->input[k]
                             : k < g->n_input + g->n_output ? g->output[k - g->n_input]
                                                            : g->value_info[k - g->n_input - g->n_output];
    if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
        !vi->type->tensor_type)
        return NULL;
    Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
    if (rn(8) == 0) {
        tt->has_elem_type = 1;
        tt->elem_type     = (int32_t)rn(17);
        return NULL;
    }
    if (!tt->shape || !tt->shape->n_dim)
        return NULL;
    if (rn(6) == 0) {   /* change the rank */
        tt->shape->n_dim = rn((uint32_t)tt->shape->n_dim + 1);
        return NULL;
    }
    return tt->shape->dim[rn((uint32_t)tt->shape->n_dim)];
}

static void
mutate_tensor(Onnx__TensorProto *t)
{
    switch (rn(6)) {
    case 0:   /* a dim */
        if (t->n_dims)
            t->dims[rn((uint32_t)t->n_dims)] = interesting_int();
        break;
    case 1:   /* rank */
        t->n_dims = rn((uint32_t)t->n_dims + 2);
        if (t->n_dims > 0) {
            int64_t *d = a_alloc(NULL, t->n_dims * sizeof *d);
            for (size_t i = 0; i < t->n_dims; i++)
                d[i] = t->dims && i < t->n_dims - 1 ? t->dims[i] : (int64_t)rn(4);
            t->dims = d;
        }
        break;
    case 2:   /* raw_data length */
        if (t->has_raw_data && t->raw_data.len)
            t->raw_data.len = rn((uint32_t)t->raw_data.len + 1);
        break;
    case 3:   /* data type */
        t->has_data_type = 1;
        t->data_type     = (int32_t)rn(17);
        break;
    case 4:   /* int values (shapes, axes, pads) */
        if (t->has_raw_data && t->raw_data.len >= 8 && t->data_type == 7) {
            int64_t v = interesting_int();
            size_t  k = rn((uint32_t)(t->raw_data.len / 8));
            memcpy(t->raw_data.data + 8 * k, &v, 8);
        } else if (t->n_int64_data) {
            t->int64_data[rn((uint32_t)t->n_int64_data)] = interesting_int();
        } else if (t->n_int32_data) {
            t->int32_data[rn((uint32_t)t->n_int32_data)] = (int32_t)interesting_int();
        } else if (t->n_float_data) {
            t->float_data[rn((uint32_t)t->n_float_data)] = interesting_float();
        } else if (t->has_raw_data && t->raw_data.len >= 4 && t->data_type == 1) {
            float  v = interesting_float();
            size_t k = rn((uint32_t)(t->raw_data.len / 4));
            memcpy(t->raw_data.data + 4 * k, &v, 4);
        }
        break;
    default:  /* external data */
        if (rn(4) == 0) {
            t->has_data_location = 1;
            t->data_location     = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        }
        break;
    }
}

static void
mutate_attr(Onnx__AttributeProto *a)
{
    switch (rn(7)) {
    case 0:
        a->has_i = 1;
        a->i     = interesting_int();
        break;
    case 1:
        if (a->n_ints) {
            a->ints[rn((uint32_t)a->n_ints)] = interesting_int();
        } else {
            a->n_ints = rn(9);
            a->ints   = a_alloc(NULL, (a->n_ints + 1) * sizeof *a->ints);
            for (size_t i = 0; i < a->n_ints; i++)
                a->ints[i] = interesting_int();
        }
        break;
    case 2: {   /* resize the int list, keeping some old values */
        size_t old = a->n_ints;
        a->n_ints  = old ? rn((uint32_t)old * 2 + 1) : 0;
        if (a->n_ints) {
            int64_t *v = a_alloc(NULL, a->n_ints * sizeof *v);
            for (size_t i = 0; i < a->n_ints; i++)
                v[i] = a->ints && rn(2) ? a->ints[i % old] : interesting_int();
            a->ints = v;
        }
        break;
    }
    case 3:
        a->has_f = 1;
        a->f     = interesting_float();
        if (a->n_floats)
            a->floats[rn((uint32_t)a->n_floats)] = interesting_float();
        break;
    case 4:
        a->has_type = 1;
        a->type     = (Onnx__AttributeProto__AttributeType)rn(14);
        break;
    case 5:
        if (a->t)
            mutate_tensor(a->t);
        break;
    default: {
        static const char *const strs[] = {"", "constant", "reflect", "edge", "linear",
                                           "nearest", "cubic", "NOTSET", "SAME_UPPER",
                                           "VALID", "DCR", "CRD", "asymmetric",
                                           "half_pixel", "align_corners", "xxx"};
        const char *s = strs[rn(sizeof strs / sizeof strs[0])];
        a->has_s      = 1;
        a->s.data     = (uint8_t *)a_strdup(s);
        a->s.len      = strlen(s);
        break;
    }
    }
}

static void
mutate_model(Onnx__ModelProto *m)
{
    Onnx__GraphProto *g = m->graph;
    if (!g)
        return;
    struct parts P = {.g = g};
    collect_names(&P);
    switch (rn(12)) {
    case 0: {   /* value_info dims */
        Onnx__TensorShapeProto__Dimension *d = pick_dim(g);
        if (d) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value  = interesting_int();
        }
        break;
    }
    case 1:     /* initializer */
        if (g->n_initializer)
            mutate_tensor(g->initializer[rn((uint32_t)g->n_initializer)]);
        break;
    case 2:
    case 3: {   /* attribute */
        if (!g->n_node)
            break;
        Onnx__NodeProto *n = g->node[rn((uint32_t)g->n_node)];
        if (n->n_attribute && rn(4)) {
            mutate_attr(n->attribute[rn((uint32_t)n->n_attribute)]);
        } else {   /* add an attribute with a common name */
            static const char *const names[] = {
                "axis", "axes", "perm", "kernel_shape", "strides", "pads", "dilations",
                "group", "keepdims", "epsilon", "alpha", "beta", "transA", "transB",
                "mode", "auto_pad", "blocksize", "split", "value", "to", "starts", "ends",
                "shape", "ceil_mode", "count_include_pad", "output_padding", "output_shape",
                "scales", "sizes", "coordinate_transformation_mode", "spatial",
                "storage_order", "allowzero", "noop_with_empty_axes", "training_mode",
                "min", "max", "momentum", "size", "bias", "lambd", "gamma", "exclusive"};
            Onnx__AttributeProto **na = a_alloc(NULL, (n->n_attribute + 1) * sizeof *na);
            if (n->n_attribute)
                memcpy(na, n->attribute, n->n_attribute * sizeof *na);
            Onnx__AttributeProto *a = a_alloc(NULL, sizeof *a);
            onnx__attribute_proto__init(a);
            a->name = a_strdup(names[rn(sizeof names / sizeof names[0])]);
            a->has_type = 1;
            a->type     = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
            a->has_i    = 1;
            a->i        = interesting_int();
            if (rn(2)) {
                a->type   = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
                a->n_ints = rn(9);
                a->ints   = a_alloc(NULL, (a->n_ints + 1) * sizeof *a->ints);
                for (size_t i = 0; i < a->n_ints; i++)
                    a->ints[i] = interesting_int();
            }
            na[n->n_attribute++] = a;
            n->attribute         = na;
        }
        break;
    }
    case 4: {   /* op type */
        if (!g->n_node)
            break;
        Onnx__NodeProto *n = g->node[rn((uint32_t)g->n_node)];
        n->op_type         = (char *)lrpx__op_table[rn(LRPX_OP_COUNT)]->onnx_name;
        break;
    }
    case 5: {   /* rewire an input */
        if (!g->n_node || !P.n_names)
            break;
        Onnx__NodeProto *n = g->node[rn((uint32_t)g->n_node)];
        if (n->n_input && rn(3)) {
            n->input[rn((uint32_t)n->n_input)] = rn(8) ? (char *)P.names[rn((uint32_t)P.n_names)]
                                                       : (char *)"";
        } else {   /* add or drop an input */
            size_t ni = rn(2) || !n->n_input ? n->n_input + 1 : n->n_input - 1;
            char **in = a_alloc(NULL, (ni + 1) * sizeof *in);
            for (size_t k = 0; k < ni; k++)
                in[k] = k < n->n_input ? n->input[k] : (char *)P.names[rn((uint32_t)P.n_names)];
            n->input   = in;
            n->n_input = ni;
        }
        break;
    }
    case 6: {   /* outputs: add, drop, rename */
        if (!g->n_node)
            break;
        Onnx__NodeProto *n = g->node[rn((uint32_t)g->n_node)];
        if (n->n_output && rn(2)) {
            n->n_output--;
        } else {
            char **out = a_alloc(NULL, (n->n_output + 2) * sizeof *out);
            if (n->n_output)
                memcpy(out, n->output, n->n_output * sizeof *out);
            static int ctr;
            char       buf[32];
            snprintf(buf, sizeof buf, "fz%d", ctr++ % 16);
            out[n->n_output++] = a_strdup(buf);
            n->output          = out;
        }
        break;
    }
    case 7: {   /* graph output: point at another value */
        if (!g->n_output || !P.n_names)
            break;
        g->output[rn((uint32_t)g->n_output)]->name = (char *)P.names[rn((uint32_t)P.n_names)];
        break;
    }
    case 8: {   /* duplicate or remove a node */
        if (!g->n_node)
            break;
        size_t k = rn((uint32_t)g->n_node);
        if (rn(2) && g->n_node > 1) {
            memmove(&g->node[k], &g->node[k + 1], (g->n_node - k - 1) * sizeof *g->node);
            g->n_node--;
        } else {
            Onnx__NodeProto **nn = a_alloc(NULL, (g->n_node + 1) * sizeof *nn);
            if (g->n_node)
                memcpy(nn, g->node, g->n_node * sizeof *nn);
            Onnx__NodeProto *c = a_alloc(NULL, sizeof *c);
            *c = *g->node[k];
            /* fresh output names so single assignment holds (mostly) */
            char **out = a_alloc(NULL, (c->n_output + 1) * sizeof *out);
            for (size_t i = 0; i < c->n_output; i++) {
                char buf[64];
                snprintf(buf, sizeof buf, "dup%u_%zu", rn(1000), i);
                out[i] = a_strdup(buf);
            }
            c->output        = out;
            nn[g->n_node++]  = c;
            g->node          = nn;
        }
        break;
    }
    case 9:     /* opset */
        if (m->n_opset_import) {
            m->opset_import[0]->has_version = 1;
            m->opset_import[0]->version     = rn(4) ? (int64_t)rn(20) : interesting_int();
        }
        break;
    case 10: {  /* swap two nodes' op types */
        if (g->n_node < 2)
            break;
        Onnx__NodeProto *a = g->node[rn((uint32_t)g->n_node)], *b = g->node[rn((uint32_t)g->n_node)];
        char *t = a->op_type;
        a->op_type = b->op_type;
        b->op_type = t;
        break;
    }
    default: {  /* a Constant node's value */
        for (size_t i = 0; i < g->n_node; i++)
            for (size_t k = 0; k < g->node[i]->n_attribute; k++)
                if (g->node[i]->attribute[k]->t && rn(2)) {
                    mutate_tensor(g->node[i]->attribute[k]->t);
                    return;
                }
        break;
    }
    }
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
    if (rn(2) == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    Onnx__ModelProto *m = onnx__model_proto__unpack(&alloc, size, data);
    if (!m) {
        arena_reset();
        return LLVMFuzzerMutate(data, size, max_size);
    }
    int n_mut = 1 + (int)rn(3);
    for (int i = 0; i < n_mut; i++)
        mutate_model(m);
    size_t need = onnx__model_proto__get_packed_size(m);
    size_t out  = size;
    if (need <= max_size) {
        onnx__model_proto__pack(m, data);
        out = need;
    } else {
        out = LLVMFuzzerMutate(data, size, max_size);
    }
    arena_reset();
    return out;
}
