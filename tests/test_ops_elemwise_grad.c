/* Suite "ops_elemwise_grad": the backward pass of every op, and the
 * relevance of the element-wise ops.
 *
 *   backward   the gradient pass (float32, random tensor seed s) against
 *              central finite differences of L = <s, y> computed on the
 *              same graph built in float64 (h = 1e-6 relative, L and the
 *              quotient in double), one table of cases that must name every
 *              op of the op table with a backward function
 *              (test_backward_coverage): element-wise ops with broadcast
 *              operands, and the linear layers, normalisations,
 *              reductions, pools and data movement with their attributes.
 *              Inputs avoid kinks: |x| bounded away from 0 where the
 *              derivative jumps there, distinct values (far apart compared
 *              with h) for max-like ops. The ops without float64 kernels
 *              (Conv, ConvTranspose, Gemm, MatMul, BatchNormalization,
 *              Resize linear: linear in each input, step 0.5, tolerance
 *              1e-4; InstanceNormalization, LayerNormalization, LRN,
 *              Softmax, LogSoftmax, Relu: step 1e-2, tolerance 2e-3 or
 *              1e-3) are differenced on their float32 forward pass, the
 *              sums and quotients still in double
 *   relevance  Add/Sub/Sum/Mean proportional splits against float64
 *              references of the formula, conservation, the bias case;
 *              Mul gating (broadcast gate, Sigmoid gate in both operand
 *              orders, even split, constant factor); Div/Pow/Where/Max and
 *              activation pass-through. Run through the relevance driver
 *              with a fixed stabilizer on every node.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "core/op.h"
#include "core/rules.h"
#include "lrpx_test.h"
#include "ops_elemwise_util.h"

/* ==== backward: gradients against central differences in float64 ==== */

struct gcase;
typedef void (*gbuild_fn)(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c);

struct gcase {
    const char *label;
    const char *op;          /* one node over the fed inputs, unless build */
    int         opset;
    int         n_in;
    int         rank[TT_MAX_IN];
    int64_t     dims[TT_MAX_IN][LRPX_MAX_RANK];
    double      lo[TT_MAX_IN], hi[TT_MAX_IN];
    bool        mag[TT_MAX_IN];     /* |x| in [lo, hi], random sign */
    gbuild_fn   build;
    bool        f32_only;           /* no float64 kernel: float32 differences */
    bool        distinct[TT_MAX_IN];/* distinct values at least (hi-lo)/n apart:
                                       no ties for max-like ops to cross    */
    double      tol;                /* relative tolerance (0: the default)  */
    double      h32;                /* float32 step (0: 1e-2)               */
};

static const char *const gnames[TT_MAX_IN] = {"x0", "x1", "x2", "x3"};

static void
g_node(lrpx_test_model *m, const struct gcase *c)
{
    switch (c->n_in) {
    case 1: lrpx_test_model_node(m, c->op, "n", LT_IO("x0"), LT_IO("y"), NULL); break;
    case 2: lrpx_test_model_node(m, c->op, "n", LT_IO("x0", "x1"), LT_IO("y"), NULL); break;
    case 3: lrpx_test_model_node(m, c->op, "n", LT_IO("x0", "x1", "x2"), LT_IO("y"), NULL); break;
    default:
        lrpx_test_model_node(m, c->op, "n", LT_IO("x0", "x1", "x2", "x3"), LT_IO("y"), NULL);
    }
}

/* an initializer of dtype dt from float values */
static void
g_init(lrpx_test_model *m, lrpx_dtype dt, const char *name, int rank, const int64_t *dims,
       const float *v)
{
    if (dt == LRPX_DTYPE_FLOAT32) {
        lrpx_test_model_init_f32(m, name, rank, dims, v);
        return;
    }
    int64_t n = prod(dims, rank);
    double *d = malloc((size_t)(n > 0 ? n : 1) * sizeof *d);
    ck_assert_ptr_nonnull(d);
    for (int64_t i = 0; i < n; i++)
        d[i] = v[i];
    lrpx_test_model_init(m, name, LRPX_DTYPE_FLOAT64, rank, dims, d);
    free(d);
}

static void
gb_leaky(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "LeakyRelu", "n", LT_IO("x0"), LT_IO("y"), LT_FLOAT("alpha", 0.2f),
                         NULL);
}

static void
gb_elu(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Elu", "n", LT_IO("x0"), LT_IO("y"), LT_FLOAT("alpha", 0.7f), NULL);
}

static void
gb_hsig(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "HardSigmoid", "n", LT_IO("x0"), LT_IO("y"),
                         LT_FLOAT("alpha", 0.3f), LT_FLOAT("beta", 0.4f), NULL);
}

static void
gb_cast(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)c;
    lrpx_test_model_node(m, "Cast", "n", LT_IO("x0"), LT_IO("y"), LT_INT("to", dt), NULL);
}

static void
gb_where(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const int64_t dc[2] = {3, 1};
    const uint8_t cond[3] = {1, 0, 1};
    lrpx_test_model_init(m, "cond", LRPX_DTYPE_BOOL, 2, dc, cond);
    lrpx_test_model_node(m, "Where", "n", LT_IO("cond", "x0", "x1"), LT_IO("y"), NULL);
}

static void
gb_clip_const(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)c;
    const float lo = -0.5f, hi = 0.75f;
    g_init(m, dt, "lo", 0, NULL, &lo);
    g_init(m, dt, "hi", 0, NULL, &hi);
    lrpx_test_model_node(m, "Clip", "n", LT_IO("x0", "lo", "hi"), LT_IO("y"), NULL);
}

static void
gb_clip6(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Clip", "n", LT_IO("x0"), LT_IO("y"), LT_FLOAT("min", -0.5f),
                         LT_FLOAT("max", 0.75f), NULL);
}

static void
gb_pow_int_exp(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const int64_t e = 3;
    lrpx_test_model_init_i64(m, "e", 0, NULL, &e);
    lrpx_test_model_node(m, "Pow", "n", LT_IO("x0", "e"), LT_IO("y"), NULL);
}

static void
gb_dropout(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Dropout", "n", LT_IO("x0"), LT_IO("y", "mask"), NULL);
}

/* x0 * sigmoid(x1): the SiLU-style gate, two nodes */
static void
gb_gate(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Sigmoid", "g", LT_IO("x1"), LT_IO("s"), NULL);
    lrpx_test_model_node(m, "Mul", "n", LT_IO("x0", "s"), LT_IO("y"), NULL);
}

/* a value read twice by one node: d(x*x)/dx = 2x */
static void
gb_square(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Mul", "n", LT_IO("x0", "x0"), LT_IO("y"), NULL);
}


/* ---- the other op families: one node (with its constants) per case ---- */

static const float bn_scale[3] = {0.5f, 1.5f, -0.8f}, bn_bias[3] = {0.1f, -0.2f, 0.3f};
static const float bn_mean[3] = {0.2f, -0.1f, 0.05f}, bn_var[3] = {0.9f, 1.4f, 0.6f};

static void
gb_conv(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Conv", "n", LT_IO("x0", "x1", "x2"), LT_IO("y"),
                         LT_INTS("pads", 1, 0, 1, 2), LT_INTS("strides", 2, 1), NULL);
}

static void
gb_conv_group(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Conv", "n", LT_IO("x0", "x1"), LT_IO("y"), LT_INT("group", 2),
                         LT_INTS("dilations", 2, 2), LT_INTS("pads", 2, 2, 2, 2), NULL);
}

static void
gb_conv_t(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "ConvTranspose", "n", LT_IO("x0", "x1", "x2"), LT_IO("y"),
                         LT_INTS("strides", 2, 2), LT_INTS("output_padding", 1, 0),
                         LT_INTS("pads", 1, 0, 0, 1), NULL);
}

static void
gb_gemm(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Gemm", "n", LT_IO("x0", "x1", "x2"), LT_IO("y"),
                         LT_INT("transB", 1), LT_FLOAT("alpha", 0.7f), LT_FLOAT("beta", 1.3f),
                         NULL);
}

static void
gb_bn(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)c;
    const int64_t d3[1] = {3};
    g_init(m, dt, "s", 1, d3, bn_scale);
    g_init(m, dt, "b", 1, d3, bn_bias);
    g_init(m, dt, "mu", 1, d3, bn_mean);
    g_init(m, dt, "var", 1, d3, bn_var);
    lrpx_test_model_node(m, "BatchNormalization", "n", LT_IO("x0", "s", "b", "mu", "var"),
                         LT_IO("y"), LT_FLOAT("epsilon", 1e-3f), NULL);
}

static void
gb_instnorm(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)c;
    const int64_t d3[1] = {3};
    g_init(m, dt, "s", 1, d3, bn_scale);
    g_init(m, dt, "b", 1, d3, bn_bias);
    lrpx_test_model_node(m, "InstanceNormalization", "n", LT_IO("x0", "s", "b"), LT_IO("y"),
                         LT_FLOAT("epsilon", 1e-3f), NULL);
}

static void
gb_layernorm(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)c;
    const int64_t d3[1] = {3};
    g_init(m, dt, "s", 1, d3, bn_scale);
    g_init(m, dt, "b", 1, d3, bn_bias);
    lrpx_test_model_node(m, "LayerNormalization", "n", LT_IO("x0", "s", "b"), LT_IO("y"),
                         LT_INT("axis", -1), LT_FLOAT("epsilon", 1e-3f), NULL);
}

static void
gb_lrn(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "LRN", "n", LT_IO("x0"), LT_IO("y"), LT_INT("size", 3),
                         LT_FLOAT("alpha", 0.6f), LT_FLOAT("beta", 0.75f),
                         LT_FLOAT("bias", 1.5f), NULL);
}

static void
gb_axis1(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt;
    lrpx_test_model_node(m, c->op, "n", LT_IO("x0"), LT_IO("y"), LT_INT("axis", 1), NULL);
}

/* Reduce* over axis 1 (attribute form, opset 13), keepdims 0 */
static void
gb_reduce(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt;
    lrpx_test_model_node(m, c->op, "n", LT_IO("x0"), LT_IO("y"), LT_INTS("axes", 1, -1),
                         LT_INT("keepdims", 0), NULL);
}

/* ReduceSum takes its axes as an input from opset 13 */
static void
gb_reduce_sum(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const int64_t ax[1] = {0}, d1[1] = {1};
    lrpx_test_model_init_i64(m, "axes", 1, d1, ax);
    lrpx_test_model_node(m, "ReduceSum", "n", LT_IO("x0", "axes"), LT_IO("y"), NULL);
}

static void
gb_maxpool(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "MaxPool", "n", LT_IO("x0"), LT_IO("y"),
                         LT_INTS("kernel_shape", 3, 3), LT_INTS("strides", 2, 2),
                         LT_INTS("pads", 1, 1, 1, 1), NULL);
}

/* count_include_pad from the label: "AveragePool incl" / "... excl" */
static void
gb_avgpool(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt;
    lrpx_test_model_node(m, "AveragePool", "n", LT_IO("x0"), LT_IO("y"),
                         LT_INTS("kernel_shape", 3, 2), LT_INTS("strides", 2, 1),
                         LT_INTS("pads", 1, 0, 1, 1),
                         LT_INT("count_include_pad", strstr(c->label, "incl") != NULL), NULL);
}

static void
gb_concat(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Concat", "n", LT_IO("x0", "x1", "x0"), LT_IO("y"),
                         LT_INT("axis", 1), NULL);
}

/* Split in two, then put the halves back swapped (Concat) */
static void
gb_split(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const int64_t sp[2] = {2, 4}, d2[1] = {2};
    lrpx_test_model_init_i64(m, "sp", 1, d2, sp);
    lrpx_test_model_node(m, "Split", "n", LT_IO("x0", "sp"), LT_IO("a", "b"), LT_INT("axis", 1),
                         NULL);
    lrpx_test_model_node(m, "Concat", "cat", LT_IO("b", "a", "b"), LT_IO("y"), LT_INT("axis", 1),
                         NULL);
}

static void
gb_gather(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const int64_t idx[4] = {2, 0, 2, -1}, d[1] = {4};
    lrpx_test_model_init_i64(m, "idx", 1, d, idx);
    lrpx_test_model_node(m, "Gather", "n", LT_IO("x0", "idx"), LT_IO("y"), LT_INT("axis", 0),
                         NULL);
}

static void
gb_slice(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const int64_t st[2] = {1, 4}, en[2] = {4, 0}, ax[2] = {0, 1}, sp[2] = {2, -2}, d[1] = {2};
    lrpx_test_model_init_i64(m, "st", 1, d, st);
    lrpx_test_model_init_i64(m, "en", 1, d, en);
    lrpx_test_model_init_i64(m, "ax", 1, d, ax);
    lrpx_test_model_init_i64(m, "sp", 1, d, sp);
    lrpx_test_model_node(m, "Slice", "n", LT_IO("x0", "st", "en", "ax", "sp"), LT_IO("y"), NULL);
}

static void
gb_transpose(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Transpose", "n", LT_IO("x0"), LT_IO("y"), LT_INTS("perm", 2, 0, 1),
                         NULL);
}

/* an op whose second input is a constant int64 list */
static void
gb_int_list(lrpx_test_model *m, const char *op, int n, const int64_t *v)
{
    const int64_t d[1] = {n};
    lrpx_test_model_init_i64(m, "k", 1, d, v);
    lrpx_test_model_node(m, op, "n", LT_IO("x0", "k"), LT_IO("y"), NULL);
}

static void
gb_tile(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    gb_int_list(m, "Tile", 3, (const int64_t[]){2, 1, 3});
}

static void
gb_expand(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    gb_int_list(m, "Expand", 3, (const int64_t[]){2, 3, 4});
}

static void
gb_reshape(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    gb_int_list(m, "Reshape", 3, (const int64_t[]){3, -1, 2});
}

static void
gb_squeeze(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    gb_int_list(m, "Squeeze", 2, (const int64_t[]){0, 2});
}

static void
gb_unsqueeze(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    gb_int_list(m, "Unsqueeze", 2, (const int64_t[]){0, 3});
}

static void
gb_flatten(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "Flatten", "n", LT_IO("x0"), LT_IO("y"), LT_INT("axis", 2), NULL);
}

static void
gb_d2s(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt;
    lrpx_test_model_node(m, "DepthToSpace", "n", LT_IO("x0"), LT_IO("y"),
                         LT_INT("blocksize", 2), LT_STRING("mode", c->label + 13), NULL);
}

static void
gb_s2d(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    lrpx_test_model_node(m, "SpaceToDepth", "n", LT_IO("x0"), LT_IO("y"),
                         LT_INT("blocksize", 2), NULL);
}

/* Pad (opset 13: pads as an input); the mode is the label's last word */
static void
gb_pad(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt;
    const int64_t pads[6] = {0, 1, 2, 0, 2, 1}, d[1] = {6};
    lrpx_test_model_init_i64(m, "pads", 1, d, pads);
    lrpx_test_model_node(m, "Pad", "n", LT_IO("x0", "pads"), LT_IO("y"),
                         LT_STRING("mode", c->label + 4), NULL);
}

/* Resize by scales (opset 13); the mode is the label's last word */
static void
gb_resize(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt;
    const float   sc[4] = {1.0f, 1.0f, 2.0f, 1.5f};
    const int64_t d[1]  = {4};
    lrpx_test_model_init_f32(m, "sc", 1, d, sc);
    lrpx_test_model_node(m, "Resize", "n", LT_IO("x0", "", "sc"), LT_IO("y"),
                         LT_STRING("mode", c->label + 7), NULL);
}

static void
gb_upsample(lrpx_test_model *m, lrpx_dtype dt, const struct gcase *c)
{
    (void)dt, (void)c;
    const float   sc[4] = {1.0f, 1.0f, 2.0f, 3.0f};
    const int64_t d[1]  = {4};
    lrpx_test_model_init_f32(m, "sc", 1, d, sc);
    lrpx_test_model_node(m, "Upsample", "n", LT_IO("x0", "sc"), LT_IO("y"),
                         LT_STRING("mode", "nearest"), NULL);
}

/* trailing fields (mag, build, f32_only, distinct, tol, h32) default to zero */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define S(...) {__VA_ARGS__}
static const struct gcase gcases[] = {
    {"Add bcast", "Add", 14, 2, {3, 2}, {S(2, 3, 4), S(3, 1)}, {-1, -1}, {1, 1}},
    {"Add scalar", "Add", 14, 2, {0, 2}, {S(0), S(2, 3)}, {-1, -1}, {1, 1}},
    {"Add both sides", "Add", 14, 2, {4, 4}, {S(2, 3, 1, 1), S(1, 3, 2, 2)}, {-1, -1}, {1, 1}},
    {"Sub bcast", "Sub", 14, 2, {1, 3}, {S(4), S(2, 3, 4)}, {-1, -1}, {1, 1}},
    {"Mul bcast", "Mul", 14, 2, {4, 3}, {S(2, 3, 2, 2), S(3, 1, 1)}, {-2, -2}, {2, 2}},
    {"Mul same", "Mul", 14, 2, {2, 2}, {S(3, 4), S(3, 4)}, {-2, -2}, {2, 2}},
    {"Mul x*x", "Mul", 14, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_square},
    {"Mul gate", "Mul", 14, 2, {4, 4}, {S(1, 3, 2, 2), S(1, 3, 1, 1)}, {-2, -2}, {2, 2},
     {false, false}, gb_gate},
    {"Div bcast", "Div", 14, 2, {3, 1}, {S(2, 3, 4), S(4)}, {-2, 0.5}, {2, 2}, {false, true}},
    {"Div scalar num", "Div", 14, 2, {0, 2}, {S(0), S(2, 3)}, {-2, 0.5}, {2, 2}, {false, true}},
    {"Pow bcast", "Pow", 15, 2, {2, 1}, {S(2, 3), S(3)}, {0.5, -2}, {2, 2}},
    {"Pow int exponent", "Pow", 15, 1, {2}, {S(2, 3)}, {-2}, {2}, {false}, gb_pow_int_exp},
    {"Max 3 bcast", "Max", 13, 3, {2, 1, 3}, {S(3, 4), S(4), S(2, 1, 4)}, {-2, -2, -2},
     {2, 2, 2}},
    {"Min 2", "Min", 13, 2, {2, 2}, {S(3, 4), S(3, 1)}, {-2, -2}, {2, 2}},
    {"Sum 3 bcast", "Sum", 13, 3, {2, 1, 0}, {S(3, 4), S(4), S(0)}, {-2, -2, -2}, {2, 2, 2}},
    {"Mean 3 bcast", "Mean", 13, 3, {3, 2, 1}, {S(2, 3, 4), S(3, 1), S(4)}, {-2, -2, -2},
     {2, 2, 2}},
    {"Where", "Where", 16, 2, {2, 1}, {S(3, 4), S(4)}, {-2, -2}, {2, 2}, {false, false}, gb_where},
    {"PRelu", "PRelu", 16, 2, {4, 3}, {S(2, 3, 2, 2), S(3, 1, 1)}, {0.05, 0.1}, {2, 0.9},
     {true, false}},
    {"Clip inputs", "Clip", 13, 3, {2, 0, 0}, {S(3, 4), S(0), S(0)}, {-2, -0.8, 0.6},
     {2, -0.2, 1.2}},
    {"Clip consts", "Clip", 13, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_clip_const},
    {"Clip opset 6", "Clip", 6, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_clip6},
    {"Relu", "Relu", 14, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}, NULL, true},
    {"LeakyRelu", "LeakyRelu", 16, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}, gb_leaky},
    {"Sigmoid", "Sigmoid", 13, 1, {2}, {S(3, 4)}, {-4}, {4}},
    {"Tanh", "Tanh", 13, 1, {2}, {S(3, 4)}, {-3}, {3}},
    {"Elu", "Elu", 6, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}, gb_elu},
    {"Selu", "Selu", 6, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}},
    {"HardSigmoid", "HardSigmoid", 6, 1, {2}, {S(3, 4)}, {-4}, {4}, {false}, gb_hsig},
    {"HardSwish", "HardSwish", 14, 1, {2}, {S(3, 5)}, {-5}, {5}},
    {"Softplus", "Softplus", 1, 1, {2}, {S(3, 4)}, {-5}, {5}},
    {"Erf", "Erf", 13, 1, {2}, {S(3, 4)}, {-2}, {2}},
    {"Exp", "Exp", 13, 1, {2}, {S(3, 4)}, {-2}, {2}},
    {"Log", "Log", 13, 1, {2}, {S(3, 4)}, {0.2}, {3}},
    {"Sqrt", "Sqrt", 13, 1, {2}, {S(3, 4)}, {0.2}, {3}},
    {"Neg", "Neg", 13, 1, {2}, {S(3, 4)}, {-2}, {2}},
    {"Abs", "Abs", 13, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}},
    {"Reciprocal", "Reciprocal", 13, 1, {2}, {S(3, 4)}, {0.3}, {2}, {true}},
    {"Floor", "Floor", 13, 1, {2}, {S(3, 4)}, {-3}, {3}},
    {"Ceil", "Ceil", 13, 1, {2}, {S(3, 4)}, {-3}, {3}},
    {"Sign", "Sign", 13, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}},
    {"Cast", "Cast", 13, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_cast},
    {"Dropout", "Dropout", 13, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_dropout},
    {"Identity", "Identity", 16, 1, {2}, {S(3, 4)}, {-2}, {2}},
    /* linear layers */
    {.label = "Conv", .op = "Conv", .opset = 13, .n_in = 3, .rank = {4, 4, 1},
     .dims = {S(1, 2, 5, 5), S(3, 2, 3, 3), S(3)}, .lo = {-1, -1, -1}, .hi = {1, 1, 1},
     .build = gb_conv,
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    {.label = "Conv group dilated", .op = "Conv", .opset = 13, .n_in = 2, .rank = {4, 4},
     .dims = {S(1, 4, 6, 6), S(4, 2, 3, 3)}, .lo = {-1, -1}, .hi = {1, 1},
     .build = gb_conv_group,
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    {.label = "ConvTranspose", .op = "ConvTranspose", .opset = 13, .n_in = 3,
     .rank = {4, 4, 1}, .dims = {S(1, 2, 3, 3), S(2, 3, 3, 3), S(3)}, .lo = {-1, -1, -1},
     .hi = {1, 1, 1}, .build = gb_conv_t,
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    {.label = "Gemm", .op = "Gemm", .opset = 13, .n_in = 3, .rank = {2, 2, 1},
     .dims = {S(3, 4), S(5, 4), S(5)}, .lo = {-1, -1, -1}, .hi = {1, 1, 1}, .build = gb_gemm,
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    {.label = "MatMul bcast", .op = "MatMul", .opset = 13, .n_in = 2, .rank = {3, 2},
     .dims = {S(2, 3, 4), S(4, 5)}, .lo = {-1, -1}, .hi = {1, 1},
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    /* normalisations */
    {.label = "BatchNormalization", .op = "BatchNormalization", .opset = 15, .n_in = 1,
     .rank = {4}, .dims = {S(2, 3, 2, 2)}, .lo = {-2}, .hi = {2}, .build = gb_bn,
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    {.label = "InstanceNormalization", .op = "InstanceNormalization", .opset = 6, .n_in = 1,
     .rank = {3}, .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_instnorm,
     .f32_only = true, .h32 = 1e-2, .tol = 2e-3},
    {.label = "LayerNormalization", .op = "LayerNormalization", .opset = 17, .n_in = 1,
     .rank = {3}, .dims = {S(2, 4, 3)}, .lo = {-2}, .hi = {2}, .build = gb_layernorm,
     .f32_only = true, .h32 = 1e-2, .tol = 2e-3},
    {.label = "LRN", .op = "LRN", .opset = 13, .n_in = 1, .rank = {4}, .dims = {S(1, 5, 3, 3)},
     .lo = {-2}, .hi = {2}, .build = gb_lrn,
     .f32_only = true, .h32 = 1e-2, .tol = 2e-3},
    {.label = "Softmax", .op = "Softmax", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-3}, .hi = {3}, .build = gb_axis1,
     .f32_only = true, .h32 = 1e-2, .tol = 2e-3},
    {.label = "LogSoftmax", .op = "LogSoftmax", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-3}, .hi = {3}, .build = gb_axis1,
     .f32_only = true, .h32 = 1e-2, .tol = 2e-3},
    /* reductions (axes 1 and -1; max/min without ties) */
    {.label = "ReduceSum", .op = "ReduceSum", .opset = 13, .n_in = 1, .rank = {2},
     .dims = {S(3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce_sum},
    {.label = "ReduceMean", .op = "ReduceMean", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce},
    {.label = "ReduceMax", .op = "ReduceMax", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce, .distinct = {true}},
    {.label = "ReduceMin", .op = "ReduceMin", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce, .distinct = {true}},
    {.label = "ReduceProd", .op = "ReduceProd", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {0.5}, .hi = {1.5}, .mag = {true}, .build = gb_reduce},
    {.label = "ReduceL1", .op = "ReduceL1", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {0.1}, .hi = {2}, .mag = {true}, .build = gb_reduce},
    {.label = "ReduceL2", .op = "ReduceL2", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce},
    {.label = "ReduceLogSum", .op = "ReduceLogSum", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {0.2}, .hi = {2}, .build = gb_reduce},
    {.label = "ReduceLogSumExp", .op = "ReduceLogSumExp", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce},
    {.label = "ReduceSumSquare", .op = "ReduceSumSquare", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_reduce},
    /* pooling */
    {.label = "MaxPool", .op = "MaxPool", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 5, 5)}, .lo = {-2}, .hi = {2}, .build = gb_maxpool, .distinct = {true}},
    {.label = "AveragePool incl", .op = "AveragePool", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 5, 4)}, .lo = {-2}, .hi = {2}, .build = gb_avgpool},
    {.label = "AveragePool excl", .op = "AveragePool", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 5, 4)}, .lo = {-2}, .hi = {2}, .build = gb_avgpool},
    {.label = "GlobalAveragePool", .op = "GlobalAveragePool", .opset = 13, .n_in = 1,
     .rank = {4}, .dims = {S(2, 3, 3, 4)}, .lo = {-2}, .hi = {2}},
    {.label = "GlobalMaxPool", .op = "GlobalMaxPool", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(2, 3, 3, 4)}, .lo = {-2}, .hi = {2}, .distinct = {true}},
    /* data movement */
    {.label = "Concat", .op = "Concat", .opset = 13, .n_in = 2, .rank = {2, 2},
     .dims = {S(2, 3), S(2, 2)}, .lo = {-2, -2}, .hi = {2, 2}, .build = gb_concat},
    {.label = "Split", .op = "Split", .opset = 13, .n_in = 1, .rank = {2}, .dims = {S(2, 6)},
     .lo = {-2}, .hi = {2}, .build = gb_split},
    {.label = "Gather", .op = "Gather", .opset = 13, .n_in = 1, .rank = {2}, .dims = {S(4, 3)},
     .lo = {-2}, .hi = {2}, .build = gb_gather},
    {.label = "Slice", .op = "Slice", .opset = 13, .n_in = 1, .rank = {2}, .dims = {S(5, 6)},
     .lo = {-2}, .hi = {2}, .build = gb_slice},
    {.label = "Transpose", .op = "Transpose", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_transpose},
    {.label = "Tile", .op = "Tile", .opset = 13, .n_in = 1, .rank = {3}, .dims = {S(2, 3, 2)},
     .lo = {-2}, .hi = {2}, .build = gb_tile},
    {.label = "Expand", .op = "Expand", .opset = 13, .n_in = 1, .rank = {2}, .dims = {S(3, 1)},
     .lo = {-2}, .hi = {2}, .build = gb_expand},
    {.label = "Reshape", .op = "Reshape", .opset = 14, .n_in = 1, .rank = {2},
     .dims = {S(2, 6)}, .lo = {-2}, .hi = {2}, .build = gb_reshape},
    {.label = "Squeeze", .op = "Squeeze", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 3, 1, 2)}, .lo = {-2}, .hi = {2}, .build = gb_squeeze},
    {.label = "Unsqueeze", .op = "Unsqueeze", .opset = 13, .n_in = 1, .rank = {2},
     .dims = {S(3, 2)}, .lo = {-2}, .hi = {2}, .build = gb_unsqueeze},
    {.label = "Flatten", .op = "Flatten", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(2, 3, 2, 2)}, .lo = {-2}, .hi = {2}, .build = gb_flatten},
    {.label = "DepthToSpace DCR", .op = "DepthToSpace", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 8, 2, 3)}, .lo = {-2}, .hi = {2}, .build = gb_d2s},
    {.label = "DepthToSpace CRD", .op = "DepthToSpace", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 8, 2, 3)}, .lo = {-2}, .hi = {2}, .build = gb_d2s},
    {.label = "SpaceToDepth", .op = "SpaceToDepth", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 4, 6)}, .lo = {-2}, .hi = {2}, .build = gb_s2d},
    {.label = "Pad constant", .op = "Pad", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_pad},
    {.label = "Pad reflect", .op = "Pad", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_pad},
    {.label = "Pad edge", .op = "Pad", .opset = 13, .n_in = 1, .rank = {3},
     .dims = {S(2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_pad},
    {.label = "Resize linear", .op = "Resize", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_resize,
     .f32_only = true, .h32 = 0.5, .tol = 1e-4},
    {.label = "Resize nearest", .op = "Resize", .opset = 13, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 3, 4)}, .lo = {-2}, .hi = {2}, .build = gb_resize},
    {.label = "Upsample", .op = "Upsample", .opset = 9, .n_in = 1, .rank = {4},
     .dims = {S(1, 2, 2, 3)}, .lo = {-2}, .hi = {2}, .build = gb_upsample},
};
#undef S
#pragma GCC diagnostic pop

static lrpx_test_model *
g_model(const struct gcase *c, lrpx_dtype dt, struct tt *in)
{
    lrpx_test_model *m = lrpx_test_model_new(c->opset);
    for (int i = 0; i < c->n_in; i++)
        lrpx_test_model_input(m, gnames[i], dt, c->rank[i], c->dims[i]);
    (void)in;
    if (c->build)
        c->build(m, dt, c);
    else
        g_node(m, c);
    lrpx_test_model_output(m, "y");
    return m;
}

/* Distinct values spread evenly over [lo, hi] in random order: at least
 * (hi - lo) / n apart, far more than a finite-difference step. */
static void
tt_distinct(struct tt *t, double lo, double hi)
{
    int64_t *perm = malloc((size_t)(t->n > 0 ? t->n : 1) * sizeof *perm);
    ck_assert_ptr_nonnull(perm);
    for (int64_t i = 0; i < t->n; i++)
        perm[i] = i;
    for (int64_t i = t->n - 1; i > 0; i--) {
        int64_t j = (int64_t)(rng_u() * (double)(i + 1)), k = perm[i];
        perm[i]   = perm[j < i ? j : i];
        perm[j < i ? j : i] = k;
    }
    for (int64_t i = 0; i < t->n; i++)
        tt_set(t, i, (double)(float)(lo + (hi - lo) * (perm[i] + 0.5) / (double)t->n));
    free(perm);
}

START_TEST(test_backward_fd)
{
    const struct gcase *c = &gcases[_i];
    rng_seed(400 + (uint64_t)_i);
    struct tt in32[TT_MAX_IN], in64[TT_MAX_IN];
    for (int i = 0; i < c->n_in; i++) {
        tt_init(&in32[i], gnames[i], LRPX_DTYPE_FLOAT32, c->rank[i], c->dims[i]);
        tt_init(&in64[i], gnames[i], LRPX_DTYPE_FLOAT64, c->rank[i], c->dims[i]);
        tt_rand(&in32[i], c->lo[i], c->hi[i], c->mag[i]);
        if (c->distinct[i])
            tt_distinct(&in32[i], c->lo[i], c->hi[i]);
        for (int64_t j = 0; j < in32[i].n; j++)
            tt_set(&in64[i], j, tt_get(&in32[i], j));
    }

    /* gradient of L = <seed, y> from the float32 graph */
    lrpx_test_model *m32 = g_model(c, LRPX_DTYPE_FLOAT32, in32);
    lrpx_model      *model32;
    lrpx_session    *s32 = run_ok(m32, in32, c->n_in, &model32);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s32, 0, &y), LRPX_OK);
    const int64_t ny   = y.n_elems;
    float        *seed = malloc((size_t)ny * sizeof *seed);
    double       *y32  = malloc((size_t)ny * sizeof *y32);
    ck_assert(seed && y32);
    for (int64_t k = 0; k < ny; k++) {
        seed[k] = (float)rng_range(-1.0, 1.0);
        y32[k]  = ((const float *)y.data)[k];
    }
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = seed;
    o.seed_n_elems = ny;
    o.skip_softmax = 0;
    lrpx_status rc = lrpx_session_gradient(s32, &o);
    ck_assert_msg(rc == LRPX_OK, "%s: gradient: %s", c->label, lrpx_session_errmsg(s32));
    double *grad[TT_MAX_IN];
    for (int i = 0; i < c->n_in; i++) {
        lrpx_tensor_view gv;
        ck_assert_msg(lrpx_session_gradient_of(s32, gnames[i], &gv) == LRPX_OK,
                      "%s: no gradient for %s", c->label, gnames[i]);
        ck_assert_int_eq(gv.n_elems, in32[i].n);
        grad[i] = malloc((size_t)(in32[i].n > 0 ? in32[i].n : 1) * sizeof(double));
        ck_assert_ptr_nonnull(grad[i]);
        for (int64_t j = 0; j < in32[i].n; j++)
            grad[i][j] = ((const float *)gv.data)[j];
    }

    /* the same graph in float64 for the differences (float32 where the op
     * has no float64 kernel) */
    const bool       f64 = !c->f32_only;
    struct tt       *fin = f64 ? in64 : in32;
    lrpx_test_model *m64 = g_model(c, fin[0].dt, fin);
    lrpx_model      *model64;
    lrpx_session    *s64 = run_ok(m64, fin, c->n_in, &model64);
    if (f64) {        /* the float64 kernels agree with the float32 ones */
        double *yy = output_f64(s64, 0, LRPX_DTYPE_FLOAT64, y.rank, y.dims);
        char    msg[512];
        ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, y32, yy, ny, NULL, 0, 1e-5, 1e-6, msg,
                                        sizeof msg),
                      "%s: float32 vs float64 forward: %s", c->label, msg);
        free(yy);
    }
    for (int i = 0; i < c->n_in; i++) {
        double gmax = 0.0;
        for (int64_t j = 0; j < fin[i].n; j++)
            gmax = fmax(gmax, fabs(grad[i][j]));
        for (int64_t j = 0; j < fin[i].n; j++) {
            const double orig = tt_get(&fin[i], j);
            const double h    = f64 ? 1e-6 * fmax(1.0, fabs(orig)) : c->h32 ? c->h32 : 1e-2;
            double       l[2];
            for (int side = 0; side < 2; side++) {
                tt_set(&fin[i], j, side ? orig - h : orig + h);
                ck_assert_int_eq(lrpx_session_set_input(s64, gnames[i], fin[i].dt, fin[i].rank,
                                                        fin[i].dims, fin[i].data),
                                 LRPX_OK);
                ck_assert_int_eq(lrpx_session_run(s64), LRPX_OK);
                lrpx_tensor_view yv;
                ck_assert_int_eq(lrpx_session_output(s64, 0, &yv), LRPX_OK);
                struct lrpx_tensor t   = {.dtype = yv.dtype, .data = (void *)yv.data};
                double             acc = 0.0;
                for (int64_t k = 0; k < ny; k++)
                    acc += (double)seed[k] * lrpx__tensor_get_f64(&t, k);
                l[side] = acc;
            }
            tt_set(&fin[i], j, orig);
            ck_assert_int_eq(lrpx_session_set_input(s64, gnames[i], fin[i].dt, fin[i].rank,
                                                    fin[i].dims, fin[i].data),
                             LRPX_OK);
            const double fd  = (l[0] - l[1]) / (2.0 * h);
            const double g   = grad[i][j];
            const double rel = c->tol ? c->tol : 1e-3;
            const double tol = f64 ? rel * fmax(fabs(fd), 0.01 * gmax) + 1e-6
                                   : rel * fmax(fabs(fd), 0.05 * gmax) + 1e-4;
            ck_assert_msg(fabs(fd - g) <= tol,
                          "%s: dL/d%s[%lld] (x = %g): gradient %.8g, finite difference %.8g",
                          c->label, gnames[i], (long long)j, orig, g, fd);
        }
    }

    for (int i = 0; i < c->n_in; i++) {
        free(grad[i]);
        tt_free(&in32[i]);
        tt_free(&in64[i]);
    }
    free(seed);
    free(y32);
    lrpx_session_free(s32);
    lrpx_model_free(model32);
    lrpx_session_free(s64);
    lrpx_model_free(model64);
    lrpx_test_model_free(m32);
    lrpx_test_model_free(m64);
}
END_TEST

/* Every op of the op table that has a gradient has a case above. */
START_TEST(test_backward_coverage)
{
    int missing = 0;
    for (int k = 0; k < LRPX_OP_COUNT; k++) {
        const struct lrpx_op_def *d = lrpx__op_table[k];
        if (!d->backward)
            continue;
        bool found = false;
        for (size_t i = 0; i < sizeof gcases / sizeof gcases[0] && !found; i++)
            found = gcases[i].op && !strcmp(gcases[i].op, d->onnx_name);
        if (!found) {
            printf("no finite-difference case for %s\n", d->onnx_name);
            missing++;
        }
    }
    ck_assert_int_eq(missing, 0);
}
END_TEST

/* ---- the relevance driver with a fixed stabilizer ---- */

/* Relevance pass seeded at output 0 with `seed`, every node using the
 * stabilizer eps (the rule resolution of lrpx_session_explain is not
 * under test here). */
static lrpx_status
relevance_run(lrpx_session *s, const float *seed, double eps)
{
    lrpx_status rc = lrpx__session_ensure_run(s);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_graph *g     = &s->model->g;
    struct lrpx_rule_cfg    *rules = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *rules);
    ck_assert_ptr_nonnull(rules);
    for (int i = 0; i < g->n_nodes; i++) {
        rules[i].rule    = LRPX_RULE_EPSILON;
        rules[i].eps     = eps;
        rules[i].stab    = eps;
        rules[i].maxpool = LRPX_MAXPOOL_WINNER;
    }
    lrpx__free(s->rules);
    s->rules         = rules;
    s->plan.x.rules  = rules;
    return lrpx__exec_backward(s, LRPX_PHASE_RELEVANCE, g->outputs[0], seed);
}

static double
ref_stab(double z, double eps)
{
    return z >= 0.0 ? z + eps : z - eps;
}

/* R (float32 view) of a value as doubles (malloc). */
static double *
relevance_of(lrpx_session *s, const char *name, int64_t n)
{
    lrpx_tensor_view v;
    ck_assert_msg(lrpx_session_relevance(s, name, &v) == LRPX_OK, "no relevance for %s", name);
    ck_assert_int_eq(v.n_elems, n);
    double *r = malloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    ck_assert_ptr_nonnull(r);
    for (int64_t i = 0; i < n; i++)
        r[i] = ((const float *)v.data)[i];
    return r;
}

static double
sum_d(const double *a, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += a[i];
    return s;
}

/* ==== relevance ==== */

/* A float32 session over fed inputs, plus its random output relevance. */
struct rsess {
    lrpx_test_model *m;
    lrpx_model      *model;
    lrpx_session    *s;
    float           *seed;
    int64_t          ny;
    int              orank;
    int64_t          odims[LRPX_MAX_RANK];
};

static void
rsess_open(struct rsess *r, lrpx_test_model *m, struct tt *in, int n_in, double eps,
           bool positive_seed)
{
    r->m = m;
    r->s = run_ok(m, in, n_in, &r->model);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(r->s, 0, &y), LRPX_OK);
    r->ny    = y.n_elems;
    r->orank = y.rank;
    memcpy(r->odims, y.dims, sizeof r->odims);
    r->seed = malloc((size_t)(r->ny > 0 ? r->ny : 1) * sizeof(float));
    ck_assert_ptr_nonnull(r->seed);
    for (int64_t k = 0; k < r->ny; k++)
        r->seed[k] = (float)(positive_seed ? rng_range(0.1, 1.0) : rng_range(-1.0, 1.0));
    lrpx_status rc = relevance_run(r->s, r->seed, eps);
    ck_assert_msg(rc == LRPX_OK, "relevance: %s", lrpx_session_errmsg(r->s));
}

static void
rsess_close(struct rsess *r)
{
    free(r->seed);
    lrpx_session_free(r->s);
    lrpx_model_free(r->model);
    lrpx_test_model_free(r->m);
}

static void
check_near(const double *act, const double *ref, int64_t n, double rtol, double atol,
           const char *what)
{
    char msg[512];
    ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, act, ref, n, NULL, 0, rtol, atol, msg,
                                    sizeof msg),
                  "%s: %s", what, msg);
}

/* Add/Sub of two broadcast operands, and of an operand and a constant:
 * R_a = sum over the broadcast of a / stab(z) R, R_b likewise (-b for
 * Sub), against float64; conservation when eps is small. */
START_TEST(test_relevance_add_sub)
{
    static const struct {
        int     ra, rb;
        int64_t da[4], db[4];
    } shp[] = {
        {3, 2, {2, 3, 4}, {3, 1}},
        {2, 0, {2, 3}, {0}},
        {4, 4, {2, 3, 1, 1}, {1, 3, 2, 2}},
        {2, 2, {3, 4}, {3, 4}},
    };
    for (int sub = 0; sub < 2; sub++) {
        for (size_t c = 0; c < sizeof shp / sizeof shp[0]; c++) {
            for (int konst = 0; konst < 2; konst++) {    /* b fed, or a constant (bias) */
                for (int e = 0; e < 2; e++) {
                    const double eps = e ? 0.25 : 1e-9;
                    rng_seed(500 + c * 8 + (size_t)sub * 4 + (size_t)konst * 2 + (size_t)e);
                    struct tt in[2];
                    tt_init(&in[0], "a", LRPX_DTYPE_FLOAT32, shp[c].ra, shp[c].da);
                    tt_init(&in[1], "b", LRPX_DTYPE_FLOAT32, shp[c].rb, shp[c].db);
                    /* small eps: same signs keep |z| away from 0 */
                    tt_rand(&in[0], e ? -1.0 : 0.2, 1.0, false);
                    tt_rand(&in[1], e ? -1.0 : (sub ? -1.0 : 0.2), e ? 1.0 : (sub ? -0.2 : 1.0),
                            false);
                    lrpx_test_model *m = lrpx_test_model_new(14);
                    declare_inputs(m, in, konst ? 1 : 2);
                    if (konst)
                        lrpx_test_model_init_f32(m, "b", in[1].rank, in[1].dims, in[1].data);
                    lrpx_test_model_node(m, sub ? "Sub" : "Add", "n", LT_IO("a", "b"),
                                         LT_IO("y"), NULL);
                    lrpx_test_model_output(m, "y");
                    struct rsess r;
                    rsess_open(&r, m, in, konst ? 1 : 2, eps, false);

                    double *ra = calloc((size_t)in[0].n, sizeof(double));
                    double *rb = calloc((size_t)in[1].n, sizeof(double));
                    ck_assert(ra && rb);
                    double r_out = 0.0, r_bias = 0.0;
                    for (int64_t k = 0; k < r.ny; k++) {
                        int64_t ia = ref_bidx(k, r.orank, r.odims, in[0].rank, in[0].dims);
                        int64_t ib = ref_bidx(k, r.orank, r.odims, in[1].rank, in[1].dims);
                        double  a = tt_get(&in[0], ia), b = tt_get(&in[1], ib);
                        double  zb = sub ? -b : b;
                        double  q  = r.seed[k] / ref_stab(a + zb, eps);
                        ra[ia] += a * q;
                        rb[ib] += zb * q;
                        r_out += r.seed[k];
                        r_bias += zb * q;
                    }
                    double *got_a = relevance_of(r.s, "a", in[0].n);
                    check_near(got_a, ra, in[0].n, 1e-5, 1e-6, sub ? "Sub R_a" : "Add R_a");
                    double total = sum_d(got_a, in[0].n);
                    if (!konst) {
                        double *got_b = relevance_of(r.s, "b", in[1].n);
                        check_near(got_b, rb, in[1].n, 1e-5, 1e-6, sub ? "Sub R_b" : "Add R_b");
                        total += sum_d(got_b, in[1].n);
                        free(got_b);
                    } else
                        total += r_bias;         /* the bias's share left the network */
                    if (!e)                      /* conservation (eps negligible) */
                        ck_assert_msg(fabs(total - r_out) <= 1e-4 * (1.0 + fabs(r_out)),
                                      "%s case %zu: relevance in %.9g, out %.9g",
                                      sub ? "Sub" : "Add", c, r_out, total);
                    free(got_a);
                    free(ra);
                    free(rb);
                    rsess_close(&r);
                    tt_free(&in[0]);
                    tt_free(&in[1]);
                }
            }
        }
    }
}
END_TEST

/* Sum and Mean of three broadcast inputs, one of them a constant. */
START_TEST(test_relevance_sum_mean)
{
    const int     rk[3]   = {3, 1, 2};
    const int64_t dk[3][3] = {{2, 3, 4}, {4}, {3, 1}};
    for (int mean = 0; mean < 2; mean++) {
        for (int konst = 0; konst < 2; konst++) {
            rng_seed(600 + (uint64_t)mean * 2 + (uint64_t)konst);
            const double eps = 0.05;
            struct tt    in[3];
            for (int i = 0; i < 3; i++) {
                tt_init(&in[i], gnames[i], LRPX_DTYPE_FLOAT32, rk[i], dk[i]);
                tt_rand(&in[i], -1.0, 1.0, false);
            }
            lrpx_test_model *m = lrpx_test_model_new(13);
            declare_inputs(m, in, konst ? 2 : 3);
            if (konst)
                lrpx_test_model_init_f32(m, "x2", in[2].rank, in[2].dims, in[2].data);
            lrpx_test_model_node(m, mean ? "Mean" : "Sum", "n", LT_IO("x0", "x1", "x2"),
                                 LT_IO("y"), NULL);
            lrpx_test_model_output(m, "y");
            struct rsess r;
            rsess_open(&r, m, in, konst ? 2 : 3, eps, false);
            double *ref[3];
            for (int i = 0; i < 3; i++) {
                ref[i] = calloc((size_t)in[i].n, sizeof(double));
                ck_assert_ptr_nonnull(ref[i]);
            }
            const double w = mean ? 1.0 / 3.0 : 1.0;
            for (int64_t k = 0; k < r.ny; k++) {
                int64_t idx[3];
                double  z = 0.0;
                for (int i = 0; i < 3; i++) {
                    idx[i] = ref_bidx(k, r.orank, r.odims, in[i].rank, in[i].dims);
                    z += w * tt_get(&in[i], idx[i]);
                }
                for (int i = 0; i < 3; i++)
                    ref[i][idx[i]] += w * tt_get(&in[i], idx[i]) * r.seed[k] / ref_stab(z, eps);
            }
            for (int i = 0; i < (konst ? 2 : 3); i++) {
                double *got = relevance_of(r.s, gnames[i], in[i].n);
                check_near(got, ref[i], in[i].n, 1e-5, 1e-6, mean ? "Mean" : "Sum");
                free(got);
            }
            for (int i = 0; i < 3; i++) {
                free(ref[i]);
                tt_free(&in[i]);
            }
            rsess_close(&r);
        }
    }
}
END_TEST

/* Mul: which operand takes the relevance. Each case gives the expected
 * share of R for x0 and x1 (after summing over the broadcast). */
START_TEST(test_relevance_mul)
{
    enum { PLAIN, GATE0, GATE1, CONST1 };
    static const struct {
        const char *label;
        int         kind;
        int         r0, r1;
        int64_t     d0[4], d1[4];
        double      share0, share1;
    } cases[] = {
        /* x1 broadcast: it is the gate */
        {"broadcast gate", PLAIN, 4, 4, {1, 3, 2, 2}, {1, 3, 1, 1}, 1.0, 0.0},
        {"broadcast gate, left", PLAIN, 1, 2, {3}, {2, 3}, 0.0, 1.0},
        /* equal shapes: the Sigmoid output is the gate, in either position */
        {"sigmoid gate right", GATE1, 2, 2, {2, 3}, {2, 3}, 1.0, 0.0},
        {"sigmoid gate left", GATE0, 2, 2, {2, 3}, {2, 3}, 0.0, 1.0},
        /* equal shapes, no gate: split evenly */
        {"even split", PLAIN, 2, 2, {2, 3}, {2, 3}, 0.5, 0.5},
        /* a constant factor: everything to the other side */
        {"constant", CONST1, 2, 2, {2, 3}, {2, 3}, 1.0, 0.0},
        {"constant bcast", CONST1, 2, 1, {2, 3}, {3}, 1.0, 0.0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rng_seed(700 + c);
        struct tt in[2];
        tt_init(&in[0], "x0", LRPX_DTYPE_FLOAT32, cases[c].r0, cases[c].d0);
        tt_init(&in[1], "x1", LRPX_DTYPE_FLOAT32, cases[c].r1, cases[c].d1);
        tt_rand(&in[0], -2.0, 2.0, false);
        tt_rand(&in[1], -2.0, 2.0, false);
        lrpx_test_model *m = lrpx_test_model_new(14);
        declare_inputs(m, in, cases[c].kind == CONST1 ? 1 : 2);
        switch (cases[c].kind) {
        case GATE1:
            lrpx_test_model_node(m, "Sigmoid", "g", LT_IO("x1"), LT_IO("s"), NULL);
            lrpx_test_model_node(m, "Mul", "n", LT_IO("x0", "s"), LT_IO("y"), NULL);
            break;
        case GATE0:
            lrpx_test_model_node(m, "Sigmoid", "g", LT_IO("x0"), LT_IO("s"), NULL);
            lrpx_test_model_node(m, "Mul", "n", LT_IO("s", "x1"), LT_IO("y"), NULL);
            break;
        case CONST1:
            lrpx_test_model_init_f32(m, "x1", in[1].rank, in[1].dims, in[1].data);
            /* fall through */
        default:
            lrpx_test_model_node(m, "Mul", "n", LT_IO("x0", "x1"), LT_IO("y"), NULL);
        }
        lrpx_test_model_output(m, "y");
        struct rsess r;
        rsess_open(&r, m, in, cases[c].kind == CONST1 ? 1 : 2, 1e-6, false);
        for (int i = 0; i < (cases[c].kind == CONST1 ? 1 : 2); i++) {
            const double share = i ? cases[c].share1 : cases[c].share0;
            double      *ref   = calloc((size_t)in[i].n, sizeof(double));
            ck_assert_ptr_nonnull(ref);
            for (int64_t k = 0; k < r.ny; k++)
                ref[ref_bidx(k, r.orank, r.odims, in[i].rank, in[i].dims)] += share * r.seed[k];
            double *got = relevance_of(r.s, gnames[i], in[i].n);
            char    what[96];
            snprintf(what, sizeof what, "Mul %s, R_%s", cases[c].label, gnames[i]);
            check_near(got, ref, in[i].n, 1e-6, 1e-7, what);
            free(got);
            free(ref);
        }
        rsess_close(&r);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }
}
END_TEST

/* Ops whose relevance is routed rather than split: Div and Pow to the
 * first operand, Where to the selected branch (the condition from a Less
 * node, which the pass must not visit), Max by winner and as a clamp, the
 * activations unchanged. */
START_TEST(test_relevance_routing)
{
    rng_seed(800);
    const int64_t d[2] = {3, 4}, d1 = 4;
    /* Div and Pow with both operands fed: all to x0 */
    static const char *const ops[] = {"Div", "Pow"};
    for (int o = 0; o < 2; o++) {
        struct tt in[2];
        tt_init(&in[0], "x0", LRPX_DTYPE_FLOAT32, 2, d);
        tt_init(&in[1], "x1", LRPX_DTYPE_FLOAT32, 1, &d1);
        tt_rand(&in[0], 0.5, 2.0, false);
        tt_rand(&in[1], 0.5, 2.0, false);
        lrpx_test_model *m = lrpx_test_model_new(15);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, ops[o], "n", LT_IO("x0", "x1"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct rsess r;
        rsess_open(&r, m, in, 2, 1e-6, false);
        double *g0 = relevance_of(r.s, "x0", 12), *g1 = relevance_of(r.s, "x1", 4);
        for (int k = 0; k < 12; k++)
            ck_assert_double_eq(g0[k], r.seed[k]);
        for (int k = 0; k < 4; k++)
            ck_assert_double_eq(g1[k], 0.0);
        free(g0);
        free(g1);
        rsess_close(&r);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }

    /* Where(Less(x0, x1), x0, x1) = element-wise min, x1 broadcast */
    {
        struct tt in[2];
        tt_init(&in[0], "x0", LRPX_DTYPE_FLOAT32, 2, d);
        tt_init(&in[1], "x1", LRPX_DTYPE_FLOAT32, 1, &d1);
        tt_rand(&in[0], -1.0, 1.0, false);
        tt_rand(&in[1], -1.0, 1.0, false);
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "Less", "lt", LT_IO("x0", "x1"), LT_IO("c"), NULL);
        lrpx_test_model_node(m, "Where", "w", LT_IO("c", "x0", "x1"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct rsess r;
        rsess_open(&r, m, in, 2, 1e-6, false);
        double  ref0[12] = {0}, ref1[4] = {0};
        for (int k = 0; k < 12; k++) {
            if (tt_get(&in[0], k) < tt_get(&in[1], k % 4))
                ref0[k] += r.seed[k];
            else
                ref1[k % 4] += r.seed[k];
        }
        double *g0 = relevance_of(r.s, "x0", 12), *g1 = relevance_of(r.s, "x1", 4);
        check_near(g0, ref0, 12, 1e-6, 1e-7, "Where R_x0");
        check_near(g1, ref1, 4, 1e-6, 1e-7, "Where R_x1");
        free(g0);
        free(g1);
        rsess_close(&r);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }

    /* Max(x0, x1): winner takes all; Max(x0, 0): all to x0 (a clamp) */
    for (int clamp = 0; clamp < 2; clamp++) {
        struct tt in[2];
        tt_init(&in[0], "x0", LRPX_DTYPE_FLOAT32, 2, d);
        tt_init(&in[1], "x1", LRPX_DTYPE_FLOAT32, 2, d);
        tt_rand(&in[0], -1.0, 1.0, false);
        tt_rand(&in[1], -1.0, 1.0, false);
        if (clamp)
            memset(in[1].data, 0, 12 * sizeof(float));
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, in, clamp ? 1 : 2);
        if (clamp)
            lrpx_test_model_init_f32(m, "x1", 2, d, in[1].data);
        lrpx_test_model_node(m, "Max", "n", LT_IO("x0", "x1"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct rsess r;
        rsess_open(&r, m, in, clamp ? 1 : 2, 1e-6, false);
        double  ref0[12] = {0}, ref1[12] = {0};
        for (int k = 0; k < 12; k++) {
            if (clamp || tt_get(&in[0], k) >= tt_get(&in[1], k))
                ref0[k] = r.seed[k];
            else
                ref1[k] = r.seed[k];
        }
        double *g0 = relevance_of(r.s, "x0", 12);
        check_near(g0, ref0, 12, 0, 0, clamp ? "Max clamp R_x0" : "Max R_x0");
        free(g0);
        if (!clamp) {
            double *g1 = relevance_of(r.s, "x1", 12);
            check_near(g1, ref1, 12, 0, 0, "Max R_x1");
            free(g1);
        }
        rsess_close(&r);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }

    /* activations, Clip, PRelu (constant slope), Cast, Dropout: unchanged */
    static const char *const acts[] = {"Tanh", "Sigmoid", "LeakyRelu", "Elu", "Selu",
                                       "HardSigmoid", "HardSwish", "Softplus", "Erf", "Exp",
                                       "Neg", "Abs", "Floor", "Sign", "Clip", "PRelu", "Cast",
                                       "Dropout", "Sqrt", "Log", "Reciprocal"};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        struct tt x;
        tt_init(&x, "x0", LRPX_DTYPE_FLOAT32, 2, d);
        tt_rand(&x, 0.1, 2.0, !strcmp(acts[a], "Sqrt") || !strcmp(acts[a], "Log") ? false : true);
        lrpx_test_model *m = lrpx_test_model_new(14);
        declare_inputs(m, &x, 1);
        if (!strcmp(acts[a], "PRelu")) {
            const float sl[4] = {0.1f, 0.2f, 0.3f, 0.4f};
            lrpx_test_model_init_f32(m, "s", 1, &d1, sl);
            lrpx_test_model_node(m, "PRelu", "n", LT_IO("x0", "s"), LT_IO("y"), NULL);
        } else if (!strcmp(acts[a], "Cast"))
            lrpx_test_model_node(m, "Cast", "n", LT_IO("x0"), LT_IO("y"),
                                 LT_INT("to", LRPX_DTYPE_FLOAT32), NULL);
        else
            lrpx_test_model_node(m, acts[a], "n", LT_IO("x0"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct rsess r;
        rsess_open(&r, m, &x, 1, 1e-6, false);
        double *g = relevance_of(r.s, "x0", 12);
        for (int k = 0; k < 12; k++)
            ck_assert_msg(g[k] == r.seed[k], "%s: R_x[%d] = %g, R_y = %g", acts[a], k, g[k],
                          (double)r.seed[k]);
        free(g);
        rsess_close(&r);
        tt_free(&x);
    }
}
END_TEST

/* ==== suite ==== */

static Suite *
ops_elemwise_grad_suite(void)
{
    Suite *s  = suite_create("ops_elemwise_grad");
    TCase *tc = tcase_create("backward");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_backward_fd, 0, (int)(sizeof gcases / sizeof gcases[0]));
    tcase_add_test(tc, test_backward_coverage);
    suite_add_tcase(s, tc);

    tc = tcase_create("relevance");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_relevance_add_sub);
    tcase_add_test(tc, test_relevance_sum_mean);
    tcase_add_test(tc, test_relevance_mul);
    tcase_add_test(tc, test_relevance_routing);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(ops_elemwise_grad_suite());
}
