/* Suite "ops_shape": the shape and data-movement ops (Reshape, Flatten,
 * Squeeze, Unsqueeze, Transpose, Slice, Gather, Concat, Split, Pad, Expand,
 * Tile, DepthToSpace, SpaceToDepth, Resize, Upsample, Shape, Size, Constant,
 * ConstantOfShape, Range, NonZero).
 *
 *   routing    every op that only moves data is checked against an index
 *              map built here by an independent reference (numpy/Python
 *              slicing rules, iterative mirror reflection, broadcasting by
 *              coordinates, the ONNX DepthToSpace formula, ...): the output
 *              must equal x[map[j]] exactly; the gradient of <seed, y> must
 *              equal the sum of the seeds routed to each input element
 *              (exact, so no finite differences are needed); the relevance
 *              pass must route the same way, and its input sum must equal
 *              the seed sum over the outputs that have a source
 *              (conservation; constant padding drops its share)
 *   resize     linear and cubic Resize: gradient against central finite
 *              differences, relevance against a float64 evaluation of
 *              R_i = sum_j w_ji x_i / stab(z_j) R_j with the weights w_ji
 *              probed from the forward pass (one unit input at a time);
 *              Upsample against hand-written nearest/linear formulas
 *   shapes     Reshape 0 / -1 / allowzero edge cases, zero-size dims,
 *              overflowing shape products; Shape -> Gather -> Concat ->
 *              Reshape chains folded at plan time for a fed input
 *   errors     bad attributes and shapes give the documented status and a
 *              message naming the node and its op, never a crash; Gather
 *              with an index out of range names the node
 *
 * The ONNX backend tests of these ops run in test_conformance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "core/rules.h"
#include "lrpx_test.h"

/* ---- random numbers (xorshift64*, fixed seeds) ---- */

static uint64_t rng_state = 88172645463325252ull;

static double
rng_u(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static float *
rng_array(int64_t n, double lo, double hi)
{
    float *a = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    ck_assert_ptr_nonnull(a);
    for (int64_t i = 0; i < n; i++)
        a[i] = (float)(lo + (hi - lo) * rng_u());
    return a;
}

static int64_t
prod(const int64_t *d, int r)
{
    int64_t p = 1;
    for (int i = 0; i < r; i++)
        p *= d[i];
    return p;
}

static void
unravel(int64_t j, const int64_t *dims, int r, int64_t *c)
{
    for (int k = r - 1; k >= 0; k--) {
        c[k] = dims[k] ? j % dims[k] : 0;
        j    = dims[k] ? j / dims[k] : 0;
    }
}

static int64_t
ravel(const int64_t *c, const int64_t *dims, int r)
{
    int64_t j = 0;
    for (int k = 0; k < r; k++)
        j = j * dims[k] + c[k];
    return j;
}

/* ---- running models ---- */

/* A graph input to feed. */
struct in_t {
    const char *name;
    lrpx_dtype  dtype;
    int         rank;
    int64_t     dims[LRPX_MAX_RANK];
    const void *data;
};

/* Load, make a session, feed, run; the first failing status, with its
 * message in msg. On success *m and *s are live (free them); on failure
 * they are freed. */
static lrpx_status
try_run(lrpx_test_model *tm, const struct in_t *in, int n_in, lrpx_model **m,
        lrpx_session **s, char *msg, size_t msz)
{
    *m = NULL;
    *s = NULL;
    msg[0]         = '\0';
    lrpx_status rc = lrpx_test_model_load(tm, m);
    if (rc != LRPX_OK) {
        snprintf(msg, msz, "%s", *m ? lrpx_model_errmsg(*m) : "");
        lrpx_model_free(*m);
        *m = NULL;
        return rc;
    }
    rc = lrpx_session_init(*m, s);
    ck_assert_msg(rc == LRPX_OK, "session_init: %s", lrpx_model_errmsg(*m));
    for (int i = 0; i < n_in && rc == LRPX_OK; i++)
        rc = lrpx_session_set_input(*s, in[i].name, in[i].dtype, in[i].rank, in[i].dims,
                                    in[i].data);
    if (rc == LRPX_OK)
        rc = lrpx_session_run(*s);
    if (rc != LRPX_OK) {
        snprintf(msg, msz, "%s", lrpx_session_errmsg(*s));
        lrpx_session_free(*s);
        lrpx_model_free(*m);
        *s = NULL;
        *m = NULL;
    }
    return rc;
}

static lrpx_session *
run_ok(lrpx_test_model *tm, const struct in_t *in, int n_in, lrpx_model **m)
{
    lrpx_session *s;
    char          msg[LRPX_ERRMSG_SIZE];
    lrpx_status   rc = try_run(tm, in, n_in, m, &s, msg, sizeof msg);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", lrpx_status_name(rc), msg);
    return s;
}

/* The model must fail (at load or run) with `want`, a message naming the
 * node ('name') and its op, and containing `what`. */
static void
expect_error(lrpx_test_model *tm, const struct in_t *in, int n_in, lrpx_status want,
             const char *node, const char *op, const char *what)
{
    lrpx_model   *m;
    lrpx_session *s;
    char          msg[LRPX_ERRMSG_SIZE], quoted[128];
    lrpx_status   rc = try_run(tm, in, n_in, &m, &s, msg, sizeof msg);
    if (rc == LRPX_OK) {
        lrpx_session_free(s);
        lrpx_model_free(m);
    }
    ck_assert_msg(rc == want, "expected %s, got %s: %s", lrpx_status_name(want),
                  lrpx_status_name(rc), msg);
    snprintf(quoted, sizeof quoted, "'%s'", node);
    ck_assert_msg(strstr(msg, quoted) && strstr(msg, op), "message does not name %s (%s): %s",
                  quoted, op, msg);
    ck_assert_msg(strstr(msg, what), "message lacks \"%s\": %s", what, msg);
}

static void
check_dims(const lrpx_tensor_view *v, int rank, const int64_t *dims)
{
    char a[128], b[128];
    ck_assert_msg(v->rank == rank && memcmp(v->dims, dims, (size_t)rank * sizeof *dims) == 0,
                  "shape %s, expected %s", lrpx__dims_str(v->dims, v->rank, a, sizeof a),
                  lrpx__dims_str(dims, rank, b, sizeof b));
}

static struct lrpx_lrp_options
seed_options(const float *seed, int64_t n, const char *output)
{
    struct lrpx_lrp_options o;
    lrpx_lrp_options_default(&o);
    o.seed         = LRPX_SEED_TENSOR;
    o.seed_data    = seed;
    o.seed_n_elems = n;
    o.skip_softmax = 0;
    o.output_name  = output;
    return o;
}

/* Gradient of <seed, output> with respect to input `name`, copied. */
static double *
gradient(lrpx_session *s, const float *seed, int64_t n_seed, const char *output,
         const char *name, int64_t n)
{
    struct lrpx_lrp_options o  = seed_options(seed, n_seed, output);
    lrpx_status             rc = lrpx_session_gradient(s, &o);
    ck_assert_msg(rc == LRPX_OK, "gradient: %s", lrpx_session_errmsg(s));
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_gradient_of(s, name, &v), LRPX_OK);
    ck_assert_int_eq(v.n_elems, n);
    double *g = malloc((size_t)(n > 0 ? n : 1) * sizeof *g);
    ck_assert_ptr_nonnull(g);
    for (int64_t i = 0; i < n; i++)
        g[i] = ((const float *)v.data)[i];
    return g;
}

/* Relevance at input `name` for the output relevance `seed` of `output`
 * (NULL: the first graph output). Runs the relevance executor directly,
 * with every node's stabilizer set to eps (the public explain front end
 * only adds composites and rule selection on top). */
static double *
relevance(lrpx_session *s, const float *seed, const char *output, const char *name,
          int64_t n, double eps)
{
    const struct lrpx_graph *g  = &s->model->g;
    int v = output ? lrpx__graph_find_value(g, output) : g->outputs[0];
    ck_assert_int_ge(v, 0);
    struct lrpx_rule_cfg *rules = calloc((size_t)g->n_nodes + 1, sizeof *rules);
    ck_assert_ptr_nonnull(rules);
    for (int i = 0; i < g->n_nodes; i++) {
        rules[i].rule = LRPX_RULE_EPSILON;
        rules[i].eps  = eps;
        rules[i].stab = eps;
    }
    s->plan.x.rules = rules;
    lrpx_status rc  = lrpx__exec_backward(s, LRPX_PHASE_RELEVANCE, v, seed);
    s->plan.x.rules = NULL;
    free(rules);
    ck_assert_msg(rc == LRPX_OK, "relevance: %s", lrpx_session_errmsg(s));
    lrpx_tensor_view rv;
    ck_assert_int_eq(lrpx_session_relevance(s, name, &rv), LRPX_OK);
    ck_assert_int_eq(rv.n_elems, n);
    double *r = malloc((size_t)(n > 0 ? n : 1) * sizeof *r);
    ck_assert_ptr_nonnull(r);
    for (int64_t i = 0; i < n; i++)
        r[i] = ((const float *)rv.data)[i];
    return r;
}

/* ---- the routing check ---- */

/* tm reads the float32 input "x" (rank/dims) and writes output `output`
 * (NULL: the first) of shape out_rank/out_dims whose element j is
 * x[map[j]], or cval where map[j] < 0. Other inputs are initializers. */
static void
check_routing_out(lrpx_test_model *tm, int rank, const int64_t *dims, const int64_t *map,
                  int out_rank, const int64_t *out_dims, float cval, const char *output)
{
    const int64_t n_in  = prod(dims, rank);
    const int64_t n_out = prod(out_dims, out_rank);
    float        *x     = rng_array(n_in, -2.0, 2.0);
    struct in_t   in    = {"x", LRPX_DTYPE_FLOAT32, rank, {0}, x};
    memcpy(in.dims, dims, (size_t)rank * sizeof *dims);

    lrpx_model   *m;
    lrpx_session *s = run_ok(tm, &in, 1, &m);

    /* forward: exact copies */
    lrpx_tensor_view y;
    if (output) {
        ck_assert_int_eq(lrpx_session_value(s, output, &y), LRPX_OK);
    } else {
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    }
    check_dims(&y, out_rank, out_dims);
    for (int64_t j = 0; j < n_out; j++) {
        float want = map[j] >= 0 ? x[map[j]] : cval;
        ck_assert_msg(((const float *)y.data)[j] == want, "y[%lld] = %g, expected %g",
                      (long long)j, (double)((const float *)y.data)[j], (double)want);
    }

    /* gradient and relevance: the seeds routed back, summed */
    float  *seed   = rng_array(n_out, -1.0, 1.0);
    double *want   = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *want);
    double  routed = 0.0;
    ck_assert_ptr_nonnull(want);
    for (int64_t j = 0; j < n_out; j++)
        if (map[j] >= 0) {
            want[map[j]] += seed[j];
            routed += seed[j];
        }
    double *g = gradient(s, seed, n_out, output, "x", n_in);
    ck_assert_tensor_near_f64(g, want, n_in, 1e-5, 1e-6);
    double *r = relevance(s, seed, output, "x", n_in, 1e-6);
    ck_assert_tensor_near_f64(r, want, n_in, 1e-5, 1e-6);
    double sum = 0.0;
    for (int64_t i = 0; i < n_in; i++)
        sum += r[i];
    ck_assert_msg(fabs(sum - routed) <= 1e-5 * (1.0 + fabs(routed)),
                  "relevance sum %.9g, routed seed sum %.9g", sum, routed);

    free(g);
    free(r);
    free(want);
    free(seed);
    free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
}

static void
check_routing(lrpx_test_model *tm, int rank, const int64_t *dims, const int64_t *map,
              int out_rank, const int64_t *out_dims, float cval)
{
    check_routing_out(tm, rank, dims, map, out_rank, out_dims, cval, NULL);
}

/* The identity map (reshapes). */
static int64_t *
map_identity(int64_t n)
{
    int64_t *map = malloc((size_t)(n > 0 ? n : 1) * sizeof *map);
    ck_assert_ptr_nonnull(map);
    for (int64_t j = 0; j < n; j++)
        map[j] = j;
    return map;
}

/* A model y = op(x, <int64 initializers>...) */
static lrpx_test_model *
model_1(int64_t opset, int rank, const int64_t *dims)
{
    lrpx_test_model *tm = lrpx_test_model_new(opset);
    lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, rank, dims);
    lrpx_test_model_output(tm, "y");
    return tm;
}

/* ---- Reshape ---- */

/* One Reshape case: input dims, the shape input, allowzero, and either the
 * expected dims or the expected error. */
struct reshape_case {
    int         in_rank;
    int64_t     in_dims[4];
    int         n_shape;
    int64_t     shape[10];
    int         allowzero;
    int         out_rank;
    int64_t     out_dims[4];
    lrpx_status err;          /* LRPX_OK: out_* apply */
    const char *what;         /* part of the message  */
};

static const struct reshape_case reshape_cases[] = {
    {3, {2, 3, 4}, 2, {0, -1}, 0, 2, {2, 12}, LRPX_OK, NULL},
    {3, {2, 3, 4}, 1, {-1}, 0, 1, {24}, LRPX_OK, NULL},
    {3, {2, 3, 4}, 3, {4, 0, 2}, 0, 3, {4, 3, 2}, LRPX_OK, NULL},
    {2, {2, 3}, 3, {0, 0, -1}, 0, 3, {2, 3, 1}, LRPX_OK, NULL},
    {2, {2, 3}, 0, {0}, 0, 0, {0}, LRPX_ESHAPE, "cannot reshape"},
    {1, {1}, 0, {0}, 0, 0, {0}, LRPX_OK, NULL},                      /* to a scalar */
    /* zero-size dims */
    {3, {2, 0, 3}, 2, {0, -1}, 0, 2, {2, 0}, LRPX_OK, NULL},
    {2, {0, 3}, 2, {-1, 0}, 0, 2, {0, 3}, LRPX_OK, NULL},
    {2, {0, 3}, 2, {3, -1}, 0, 2, {3, 0}, LRPX_OK, NULL},
    {2, {0, 3}, 2, {0, -1}, 0, 0, {0}, LRPX_ESHAPE, "zero-size"},
    {2, {3, 0}, 3, {5, 0, -1}, 0, 0, {0}, LRPX_ESHAPE, "zero-size"},
    {2, {0, 3}, 3, {5, 0, -1}, 0, 3, {5, 3, 0}, LRPX_OK, NULL},
    /* allowzero: a 0 is a 0 */
    {2, {0, 3}, 2, {3, 0}, 1, 2, {3, 0}, LRPX_OK, NULL},
    {2, {2, 3}, 2, {0, 6}, 1, 0, {0}, LRPX_ESHAPE, "cannot reshape"},
    {2, {0, 3}, 2, {0, -1}, 1, 0, {0}, LRPX_ESHAPE, "allowzero"},
    /* malformed shapes */
    {2, {2, 3}, 2, {-1, -1}, 0, 0, {0}, LRPX_ESHAPE, "more than one -1"},
    {2, {2, 3}, 2, {-2, 3}, 0, 0, {0}, LRPX_ESHAPE, "invalid"},
    {2, {2, 3}, 2, {4, -1}, 0, 0, {0}, LRPX_ESHAPE, "not a multiple"},
    {2, {2, 3}, 3, {1, 1, 0}, 0, 0, {0}, LRPX_ESHAPE, "lacks"},
    {2, {2, 3}, 2, {INT64_MAX, INT64_MAX}, 0, 0, {0}, LRPX_ESHAPE, "overflows"},
    {2, {2, 3}, 3, {(int64_t)1 << 62, 4, -1}, 0, 0, {0}, LRPX_ESHAPE, "overflows"},
    {2, {2, 3}, 3, {INT64_MIN, 1, 1}, 0, 0, {0}, LRPX_ESHAPE, "invalid"},
    {2, {2, 3}, 9, {1, 1, 1, 1, 1, 1, 1, 2, 3}, 0, 0, {0}, LRPX_EINVAL, "at most"},
};

START_TEST(test_reshape_cases)
{
    const struct reshape_case *c  = &reshape_cases[_i];
    lrpx_test_model           *tm = model_1(14, c->in_rank, c->in_dims);
    int64_t                    sd[1] = {c->n_shape};
    lrpx_test_model_init_i64(tm, "shape", 1, sd, c->shape);
    lrpx_test_model_node(tm, "Reshape", "rs", LT_IO("x", "shape"), LT_IO("y"),
                         LT_INT("allowzero", c->allowzero), NULL);
    if (c->err == LRPX_OK) {
        int64_t *map = map_identity(prod(c->in_dims, c->in_rank));
        check_routing(tm, c->in_rank, c->in_dims, map, c->out_rank, c->out_dims, 0.0f);
        free(map);
    } else {
        float       x[64] = {0};
        struct in_t in    = {"x", LRPX_DTYPE_FLOAT32, c->in_rank, {0}, x};
        memcpy(in.dims, c->in_dims, sizeof c->in_dims);
        expect_error(tm, &in, 1, c->err, "rs", "Reshape", c->what);
    }
    lrpx_test_model_free(tm);
}
END_TEST

/* Opset 1-4: the shape is an attribute. */
START_TEST(test_reshape_attribute)
{
    int64_t          dims[2] = {2, 3}, out[2] = {3, 2};
    lrpx_test_model *tm      = model_1(4, 2, dims);
    lrpx_test_model_node(tm, "Reshape", "rs", LT_IO("x"), LT_IO("y"), LT_INTS("shape", 3, -1),
                         NULL);
    int64_t *map = map_identity(6);
    check_routing(tm, 2, dims, map, 2, out, 0.0f);
    free(map);
    lrpx_test_model_free(tm);
}
END_TEST

/* int64 data moves by bytes too (shape vectors in exported graphs): a
 * constant chain folds, and its values survive. */
START_TEST(test_reshape_int64_folded)
{
    int64_t          dims[1] = {6};
    lrpx_test_model *tm      = lrpx_test_model_new(13);
    const int64_t    vals[6] = {INT64_MIN, -1, 0, 1, (int64_t)1 << 40, INT64_MAX};
    int64_t          sd[1]   = {2};
    lrpx_test_model_init_i64(tm, "c", 1, dims, vals);
    lrpx_test_model_init_i64(tm, "shape", 1, sd, (const int64_t[]){3, 2});
    lrpx_test_model_node(tm, "Reshape", "rs", LT_IO("c", "shape"), LT_IO("r"), NULL);
    lrpx_test_model_node(tm, "Transpose", "tr", LT_IO("r"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_model   *m;
    lrpx_session *s = run_ok(tm, NULL, 0, &m);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    check_dims(&y, 2, (const int64_t[]){2, 3});
    ck_assert_int_eq(y.dtype, LRPX_DTYPE_INT64);
    /* numpy: np.array(vals).reshape(3, 2).T */
    const int64_t want[6] = {vals[0], vals[2], vals[4], vals[1], vals[3], vals[5]};
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(((const int64_t *)y.data)[i], want[i]);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Flatten, Squeeze, Unsqueeze ---- */

START_TEST(test_flatten_axes)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    /* axis -> (prod dims[:axis], prod dims[axis:]) */
    for (int64_t axis = -4; axis <= 4; axis++) {
        int64_t a = axis < 0 ? axis + 4 : axis;
        int64_t out[2] = {prod(dims, (int)a), prod(dims + a, 4 - (int)a)};
        lrpx_test_model *tm = model_1(13, 4, dims);
        lrpx_test_model_node(tm, "Flatten", "fl", LT_IO("x"), LT_IO("y"), LT_INT("axis", axis),
                             NULL);
        int64_t *map = map_identity(120);
        check_routing(tm, 4, dims, map, 2, out, 0.0f);
        free(map);
        lrpx_test_model_free(tm);
    }
    /* before opset 11 the axis may not be negative; never beyond rank */
    float       x[120] = {0};
    struct in_t in     = {"x", LRPX_DTYPE_FLOAT32, 4, {2, 3, 4, 5}, x};
    const struct {
        int64_t opset, axis;
    } bad[] = {{9, -1}, {13, 5}, {13, -5}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lrpx_test_model *tm = model_1(bad[i].opset, 4, dims);
        lrpx_test_model_node(tm, "Flatten", "fl", LT_IO("x"), LT_IO("y"),
                             LT_INT("axis", bad[i].axis), NULL);
        expect_error(tm, &in, 1, LRPX_ESHAPE, "fl", "Flatten", "out of range");
        lrpx_test_model_free(tm);
    }
}
END_TEST

START_TEST(test_squeeze_unsqueeze)
{
    const int64_t dims[4] = {1, 3, 1, 2};
    int64_t      *map     = map_identity(6);

    /* opset 11: axes attribute, negative allowed */
    lrpx_test_model *tm = model_1(11, 4, dims);
    lrpx_test_model_node(tm, "Squeeze", "sq", LT_IO("x"), LT_IO("y"), LT_INTS("axes", -2, 0),
                         NULL);
    check_routing(tm, 4, dims, map, 2, (const int64_t[]){3, 2}, 0.0f);
    lrpx_test_model_free(tm);

    /* opset 13: axes input; no axes squeezes every 1 */
    tm = model_1(13, 4, dims);
    lrpx_test_model_init_i64(tm, "axes", 1, (const int64_t[]){1}, (const int64_t[]){2});
    lrpx_test_model_node(tm, "Squeeze", "sq", LT_IO("x", "axes"), LT_IO("y"), NULL);
    check_routing(tm, 4, dims, map, 3, (const int64_t[]){1, 3, 2}, 0.0f);
    lrpx_test_model_free(tm);
    tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "Squeeze", "sq", LT_IO("x"), LT_IO("y"), NULL);
    check_routing(tm, 4, dims, map, 2, (const int64_t[]){3, 2}, 0.0f);
    lrpx_test_model_free(tm);

    /* Unsqueeze: axes index the output, unsorted and negative */
    tm = model_1(13, 4, dims);
    lrpx_test_model_init_i64(tm, "axes", 1, (const int64_t[]){2}, (const int64_t[]){-1, 1});
    lrpx_test_model_node(tm, "Unsqueeze", "us", LT_IO("x", "axes"), LT_IO("y"), NULL);
    check_routing(tm, 4, dims, map, 6, (const int64_t[]){1, 1, 3, 1, 2, 1}, 0.0f);
    lrpx_test_model_free(tm);
    tm = model_1(11, 4, dims);
    lrpx_test_model_node(tm, "Unsqueeze", "us", LT_IO("x"), LT_IO("y"), LT_INTS("axes", 0), NULL);
    check_routing(tm, 4, dims, map, 5, (const int64_t[]){1, 1, 3, 1, 2}, 0.0f);
    lrpx_test_model_free(tm);
    free(map);

    /* errors */
    float       x[6] = {0};
    struct in_t in   = {"x", LRPX_DTYPE_FLOAT32, 4, {1, 3, 1, 2}, x};
    const struct {
        const char *op;
        int64_t     axes[2];
        int         n;
        lrpx_status err;
        const char *what;
    } bad[] = {
        {"Squeeze", {1}, 1, LRPX_ESHAPE, "size 3"},
        {"Squeeze", {0, -4}, 2, LRPX_EINVAL, "twice"},
        {"Squeeze", {4}, 1, LRPX_ESHAPE, "out of range"},
        {"Unsqueeze", {6}, 1, LRPX_ESHAPE, "out of range"},
        {"Unsqueeze", {-7}, 1, LRPX_ESHAPE, "out of range"},
        {"Unsqueeze", {1, -5}, 2, LRPX_EINVAL, "twice"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tm = model_1(13, 4, dims);
        lrpx_test_model_init_i64(tm, "axes", 1, (const int64_t[]){bad[i].n}, bad[i].axes);
        lrpx_test_model_node(tm, bad[i].op, "n1", LT_IO("x", "axes"), LT_IO("y"), NULL);
        expect_error(tm, &in, 1, bad[i].err, "n1", bad[i].op, bad[i].what);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* ---- Transpose ---- */

static int64_t *
map_transpose(const int64_t *dims, int r, const int *perm, int64_t *out_dims)
{
    for (int k = 0; k < r; k++)
        out_dims[k] = dims[perm[k]];
    int64_t  n   = prod(dims, r);
    int64_t *map = malloc((size_t)n * sizeof *map);
    ck_assert_ptr_nonnull(map);
    for (int64_t j = 0; j < n; j++) {
        int64_t oc[LRPX_MAX_RANK], ic[LRPX_MAX_RANK];
        unravel(j, out_dims, r, oc);
        for (int k = 0; k < r; k++)
            ic[perm[k]] = oc[k];
        map[j] = ravel(ic, dims, r);
    }
    return map;
}

START_TEST(test_transpose)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    int64_t       od[4];
    const int     perm[4] = {2, 0, 3, 1}, rev[4] = {3, 2, 1, 0};

    lrpx_test_model *tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "Transpose", "tr", LT_IO("x"), LT_IO("y"),
                         LT_INTS("perm", 2, 0, 3, 1), NULL);
    int64_t *map = map_transpose(dims, 4, perm, od);
    check_routing(tm, 4, dims, map, 4, od, 0.0f);
    free(map);
    lrpx_test_model_free(tm);

    tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "Transpose", "tr", LT_IO("x"), LT_IO("y"), NULL);
    map = map_transpose(dims, 4, rev, od);
    check_routing(tm, 4, dims, map, 4, od, 0.0f);
    free(map);
    lrpx_test_model_free(tm);

    float       x[120] = {0};
    struct in_t in     = {"x", LRPX_DTYPE_FLOAT32, 4, {2, 3, 4, 5}, x};
    tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "Transpose", "tr", LT_IO("x"), LT_IO("y"),
                         LT_INTS("perm", 0, 0, 1, 2), NULL);
    expect_error(tm, &in, 1, LRPX_EINVAL, "tr", "Transpose", "not a permutation");
    lrpx_test_model_free(tm);
    tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "Transpose", "tr", LT_IO("x"), LT_IO("y"), LT_INTS("perm", 1, 0),
                         NULL);
    expect_error(tm, &in, 1, LRPX_ESHAPE, "tr", "Transpose", "2 entries");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Slice ---- */

/* Indices that Python's x[start:stop:step] picks from a sequence of length
 * len (CPython's PySlice_AdjustIndices, then the loop), into idx; returns
 * their count. numpy and ONNX Slice follow it. */
static int64_t
py_slice(int64_t len, int64_t start, int64_t stop, int64_t step, int64_t *idx)
{
    if (start < 0) {
        start += len;
        if (start < 0)
            start = step < 0 ? -1 : 0;
    } else if (start >= len) {
        start = step < 0 ? len - 1 : len;
    }
    if (stop < 0) {
        stop += len;
        if (stop < 0)
            stop = step < 0 ? -1 : 0;
    } else if (stop >= len) {
        stop = step < 0 ? len - 1 : len;
    }
    int64_t n = 0;
    for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
        idx[n++] = i;
        /* next i, without overflowing for huge steps */
        if (step > 0 ? (uint64_t)(stop - i) <= (uint64_t)step
                     : (uint64_t)(i - stop) <= 0 - (uint64_t)step)
            break;
        i += step;
    }
    return n;
}

struct slice_case {
    int     rank;
    int64_t dims[3];
    int     n;            /* entries in starts/ends/axes/steps */
    int64_t starts[3], ends[3], axes[3], steps[3];
    bool    no_axes, no_steps;
};

static const struct slice_case slice_cases[] = {
    /* plain, out of bounds, negative indices */
    {2, {5, 6}, 2, {1, 0}, {4, 6}, {0, 1}, {1, 1}, false, false},
    {2, {5, 6}, 2, {-3, -100}, {100, -1}, {0, 1}, {1, 1}, true, true},
    {1, {7}, 1, {INT64_MIN}, {INT64_MAX}, {0}, {1}, true, true},
    /* negative steps: reversal, stride, clamping on both ends */
    {1, {7}, 1, {-1}, {INT64_MIN}, {0}, {-1}, false, false},
    {1, {7}, 1, {100}, {-100}, {0}, {-2}, false, false},
    {1, {7}, 1, {5}, {1}, {0}, {-3}, false, false},
    {1, {7}, 1, {-100}, {-200}, {0}, {-1}, false, false},   /* numpy: empty */
    {1, {7}, 1, {3}, {3}, {0}, {-1}, false, false},          /* empty */
    {2, {4, 5}, 2, {-1, 4}, {-5, -10}, {-1, 0}, {-2, -1}, false, false},
    /* huge steps: one element */
    {1, {7}, 1, {2}, {INT64_MAX}, {0}, {INT64_MAX}, false, false},
    {1, {7}, 1, {6}, {INT64_MIN}, {0}, {INT64_MIN}, false, false},
    /* a subset of axes, given out of order and negative */
    {3, {3, 4, 5}, 2, {1, -4}, {3, 5}, {-1, 0}, {2, 1}, false, false},
    /* empty range in one axis */
    {2, {3, 4}, 1, {3}, {1}, {1}, {1}, false, false},
};

START_TEST(test_slice_cases)
{
    const struct slice_case *c = &slice_cases[_i];
    const int                r = c->rank;

    /* reference index lists per axis */
    int64_t lists[3][8], counts[3];
    for (int k = 0; k < r; k++) {
        counts[k] = c->dims[k];
        for (int64_t t = 0; t < c->dims[k]; t++)
            lists[k][t] = t;
    }
    for (int i = 0; i < c->n; i++) {
        int a = c->no_axes ? i : (int)(c->axes[i] < 0 ? c->axes[i] + r : c->axes[i]);
        counts[a] = py_slice(c->dims[a], c->starts[i], c->ends[i],
                             c->no_steps ? 1 : c->steps[i], lists[a]);
    }
    int64_t out_dims[3];
    for (int k = 0; k < r; k++)
        out_dims[k] = counts[k];
    int64_t  n_out = prod(out_dims, r);
    int64_t *map   = malloc((size_t)(n_out > 0 ? n_out : 1) * sizeof *map);
    ck_assert_ptr_nonnull(map);
    for (int64_t j = 0; j < n_out; j++) {
        int64_t oc[3], ic[3];
        unravel(j, out_dims, r, oc);
        for (int k = 0; k < r; k++)
            ic[k] = lists[k][oc[k]];
        map[j] = ravel(ic, c->dims, r);
    }

    lrpx_test_model *tm = model_1(13, r, c->dims);
    int64_t          nd[1] = {c->n};
    lrpx_test_model_init_i64(tm, "starts", 1, nd, c->starts);
    lrpx_test_model_init_i64(tm, "ends", 1, nd, c->ends);
    lrpx_test_model_init_i64(tm, "axes", 1, nd, c->axes);
    lrpx_test_model_init_i64(tm, "steps", 1, nd, c->steps);
    if (c->no_axes)
        lrpx_test_model_node(tm, "Slice", "sl", LT_IO("x", "starts", "ends"), LT_IO("y"), NULL);
    else if (c->no_steps)
        lrpx_test_model_node(tm, "Slice", "sl", LT_IO("x", "starts", "ends", "axes"), LT_IO("y"),
                             NULL);
    else
        lrpx_test_model_node(tm, "Slice", "sl", LT_IO("x", "starts", "ends", "axes", "steps"),
                             LT_IO("y"), NULL);
    check_routing(tm, r, c->dims, map, r, out_dims, 0.0f);
    free(map);
    lrpx_test_model_free(tm);
}
END_TEST

/* Opset 1-9: starts/ends/axes attributes. */
START_TEST(test_slice_attributes)
{
    const int64_t dims[2] = {3, 4};
    lrpx_test_model *tm   = model_1(9, 2, dims);
    lrpx_test_model_node(tm, "Slice", "sl", LT_IO("x"), LT_IO("y"), LT_INTS("starts", -2, 1),
                         LT_INTS("ends", 1000, 3), LT_INTS("axes", 1, 0), NULL);
    /* numpy: x[1:3, -2:1000] -> rows 1..2, cols 2..3 */
    const int64_t map[4] = {1 * 4 + 2, 1 * 4 + 3, 2 * 4 + 2, 2 * 4 + 3};
    check_routing(tm, 2, dims, map, 2, (const int64_t[]){2, 2}, 0.0f);
    lrpx_test_model_free(tm);
}
END_TEST

START_TEST(test_slice_errors)
{
    const int64_t dims[2] = {3, 4};
    float         x[12]   = {0};
    struct in_t   in      = {"x", LRPX_DTYPE_FLOAT32, 2, {3, 4}, x};
    const struct {
        int64_t     starts[2], ends[2], axes[2], steps[2];
        int         n_axes;
        lrpx_status err;
        const char *what;
    } bad[] = {
        {{0, 0}, {1, 1}, {0, 1}, {1, 0}, 2, LRPX_EINVAL, "steps[1] is 0"},
        {{0, 0}, {1, 1}, {1, -1}, {1, 1}, 2, LRPX_EINVAL, "sliced twice"},
        {{0, 0}, {1, 1}, {0, 2}, {1, 1}, 2, LRPX_ESHAPE, "out of range"},
        {{0, 0}, {1, 1}, {0, 1}, {1, 1}, 1, LRPX_ESHAPE, "differ in length"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lrpx_test_model *tm = model_1(13, 2, dims);
        lrpx_test_model_init_i64(tm, "starts", 1, (const int64_t[]){2}, bad[i].starts);
        lrpx_test_model_init_i64(tm, "ends", 1, (const int64_t[]){2}, bad[i].ends);
        lrpx_test_model_init_i64(tm, "axes", 1, (const int64_t[]){bad[i].n_axes}, bad[i].axes);
        lrpx_test_model_init_i64(tm, "steps", 1, (const int64_t[]){2}, bad[i].steps);
        lrpx_test_model_node(tm, "Slice", "sl", LT_IO("x", "starts", "ends", "axes", "steps"),
                             LT_IO("y"), NULL);
        expect_error(tm, &in, 1, bad[i].err, "sl", "Slice", bad[i].what);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* ---- Gather ---- */

/* out[pre, idx..., post] = data[pre, idx[j], post] */
static int64_t *
map_gather(const int64_t *dims, int r, int axis, const int64_t *idx, int q_rank,
           const int64_t *q_dims, int64_t *out_dims, int *out_rank)
{
    int o = 0;
    for (int k = 0; k < axis; k++)
        out_dims[o++] = dims[k];
    for (int k = 0; k < q_rank; k++)
        out_dims[o++] = q_dims[k];
    for (int k = axis + 1; k < r; k++)
        out_dims[o++] = dims[k];
    *out_rank = o;
    int64_t  n   = prod(out_dims, o);
    int64_t *map = malloc((size_t)(n > 0 ? n : 1) * sizeof *map);
    ck_assert_ptr_nonnull(map);
    for (int64_t j = 0; j < n; j++) {
        int64_t oc[LRPX_MAX_RANK], ic[LRPX_MAX_RANK];
        unravel(j, out_dims, o, oc);
        for (int k = 0; k < axis; k++)
            ic[k] = oc[k];
        int64_t i = idx[ravel(oc + axis, q_dims, q_rank)];
        ic[axis]  = i < 0 ? i + dims[axis] : i;
        for (int k = axis + 1; k < r; k++)
            ic[k] = oc[k - 1 + q_rank];
        map[j] = ravel(ic, dims, r);
    }
    return map;
}

START_TEST(test_gather)
{
    const int64_t dims[3] = {3, 4, 5};
    const struct {
        int     axis;        /* as given */
        int     q_rank;
        int64_t q_dims[2];
        int64_t idx[4];
        bool    i32;
    } cases[] = {
        {1, 2, {2, 2}, {0, -1, 2, 2}, false},   /* repeated index: gradients add */
        {-1, 1, {3}, {4, -5, 4}, true},
        {0, 0, {0}, {-1}, false},               /* scalar index drops the axis */
        {2, 1, {0}, {0}, false},                /* no indices: empty output */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        int     axis = cases[i].axis < 0 ? cases[i].axis + 3 : cases[i].axis;
        int64_t od[LRPX_MAX_RANK];
        int     orank;
        int64_t *map = map_gather(dims, 3, axis, cases[i].idx, cases[i].q_rank, cases[i].q_dims,
                                  od, &orank);
        lrpx_test_model *tm = model_1(13, 3, dims);
        if (cases[i].i32) {
            int32_t v[4];
            for (int k = 0; k < 4; k++)
                v[k] = (int32_t)cases[i].idx[k];
            lrpx_test_model_init(tm, "idx", LRPX_DTYPE_INT32, cases[i].q_rank, cases[i].q_dims, v);
        } else {
            lrpx_test_model_init_i64(tm, "idx", cases[i].q_rank, cases[i].q_dims, cases[i].idx);
        }
        lrpx_test_model_node(tm, "Gather", "g", LT_IO("x", "idx"), LT_IO("y"),
                             LT_INT("axis", cases[i].axis), NULL);
        check_routing(tm, 3, dims, map, orank, od, 0.0f);
        free(map);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* An index out of range is an error naming the node: at plan time when the
 * indices are constant, in the run when they are fed. Never a read out of
 * bounds. */
START_TEST(test_gather_out_of_range)
{
    const int64_t dims[2] = {3, 4};
    float         x[12]   = {0};
    const int64_t bad[]   = {4, -5, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct in_t in = {"x", LRPX_DTYPE_FLOAT32, 2, {3, 4}, x};
        lrpx_test_model *tm = model_1(13, 2, dims);
        lrpx_test_model_init_i64(tm, "idx", 1, (const int64_t[]){2},
                                 (const int64_t[]){1, bad[i]});
        lrpx_test_model_node(tm, "Gather", "gathered", LT_IO("x", "idx"), LT_IO("y"),
                             LT_INT("axis", 1), NULL);
        expect_error(tm, &in, 1, LRPX_EINVAL, "gathered", "Gather", "out of range");
        lrpx_test_model_free(tm);

        /* fed indices: found in forward */
        int64_t          iv[2] = {0, bad[i]};
        struct in_t      ins[2] = {{"x", LRPX_DTYPE_FLOAT32, 2, {3, 4}, x},
                                   {"idx", LRPX_DTYPE_INT64, 1, {2}, iv}};
        tm = model_1(13, 2, dims);
        lrpx_test_model_input(tm, "idx", LRPX_DTYPE_INT64, 1, (const int64_t[]){2});
        lrpx_test_model_node(tm, "Gather", "gathered", LT_IO("x", "idx"), LT_IO("y"),
                             LT_INT("axis", 1), NULL);
        expect_error(tm, ins, 2, LRPX_EINVAL, "gathered", "Gather", "out of range");
        lrpx_test_model_free(tm);
    }
    /* and the wrong index type */
    struct in_t      in = {"x", LRPX_DTYPE_FLOAT32, 2, {3, 4}, x};
    lrpx_test_model *tm = model_1(13, 2, dims);
    lrpx_test_model_init_f32(tm, "idx", 1, (const int64_t[]){1}, (const float[]){1.0f});
    lrpx_test_model_node(tm, "Gather", "gathered", LT_IO("x", "idx"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_EINVAL, "gathered", "Gather", "int32/int64");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Concat and Split ---- */

START_TEST(test_concat)
{
    /* y = concat([c, x, e, x], axis=1) with c constant, e empty: the
     * gradient of x collects both of its slabs */
    const int64_t dims[3] = {2, 3, 2};
    lrpx_test_model *tm   = model_1(13, 3, dims);
    float            c[12];   /* 8 used, 12 for the mismatched shape below */
    for (int i = 0; i < 12; i++)
        c[i] = 100.0f + (float)i;
    lrpx_test_model_init_f32(tm, "c", 3, (const int64_t[]){2, 2, 2}, c);
    lrpx_test_model_init_f32(tm, "e", 3, (const int64_t[]){2, 0, 2}, c);
    lrpx_test_model_node(tm, "Concat", "cat", LT_IO("c", "x", "e", "x"), LT_IO("y"),
                         LT_INT("axis", -2), NULL);
    const int64_t od[3] = {2, 8, 2};
    int64_t       map[32];
    for (int64_t j = 0; j < 32; j++) {
        int64_t oc[3];
        unravel(j, od, 3, oc);
        if (oc[1] < 2)
            map[j] = -1;   /* from the constant: checked below */
        else
            map[j] = ravel((const int64_t[]){oc[0], (oc[1] - 2) % 3, oc[2]}, dims, 3);
    }
    /* check_routing wants one constant value: compare c separately */
    float       x[12];
    for (int i = 0; i < 12; i++)
        x[i] = (float)i;
    struct in_t   in = {"x", LRPX_DTYPE_FLOAT32, 3, {2, 3, 2}, x};
    lrpx_model   *m;
    lrpx_session *s = run_ok(tm, &in, 1, &m);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    check_dims(&y, 3, od);
    for (int64_t j = 0; j < 32; j++) {
        int64_t oc[3];
        unravel(j, od, 3, oc);
        float want = map[j] >= 0 ? x[map[j]] : c[ravel((const int64_t[]){oc[0], oc[1], oc[2]},
                                                       (const int64_t[]){2, 2, 2}, 3)];
        ck_assert_float_eq(((const float *)y.data)[j], want);
    }
    lrpx_session_free(s);
    lrpx_model_free(m);
    /* gradient/relevance: the constant's slab carries none (a zero
     * constant lets check_routing compare its values too) */
    lrpx_test_model_free(tm);
    tm = model_1(13, 3, dims);
    lrpx_test_model_init_f32(tm, "c0", 3, (const int64_t[]){2, 2, 2}, (const float[8]){0});
    lrpx_test_model_init_f32(tm, "e", 3, (const int64_t[]){2, 0, 2}, c);
    lrpx_test_model_node(tm, "Concat", "cat", LT_IO("c0", "x", "e", "x"), LT_IO("y"),
                         LT_INT("axis", -2), NULL);
    check_routing(tm, 3, dims, map, 3, od, 0.0f);
    lrpx_test_model_free(tm);

    /* mismatched dims off the axis, mixed dtypes */
    float xx[12] = {0};
    struct in_t in2 = {"x", LRPX_DTYPE_FLOAT32, 3, {2, 3, 2}, xx};
    tm = model_1(13, 3, dims);
    lrpx_test_model_init_f32(tm, "c", 3, (const int64_t[]){2, 2, 3}, c);
    lrpx_test_model_node(tm, "Concat", "cat", LT_IO("x", "c"), LT_IO("y"), LT_INT("axis", 1),
                         NULL);
    expect_error(tm, &in2, 1, LRPX_ESHAPE, "cat", "Concat", "input 1 has shape");
    lrpx_test_model_free(tm);
    tm = model_1(13, 3, dims);
    lrpx_test_model_init_i64(tm, "c", 3, (const int64_t[]){2, 1, 2},
                             (const int64_t[]){1, 2, 3, 4});
    lrpx_test_model_node(tm, "Concat", "cat", LT_IO("x", "c"), LT_IO("y"), LT_INT("axis", 1),
                         NULL);
    expect_error(tm, &in2, 1, LRPX_EINVAL, "cat", "Concat", "dtype");
    lrpx_test_model_free(tm);
    tm = model_1(13, 3, dims);
    lrpx_test_model_node(tm, "Concat", "cat", LT_IO("x", "x"), LT_IO("y"), NULL);
    expect_error(tm, &in2, 1, LRPX_EINVAL, "cat", "Concat", "'axis' is missing");
    lrpx_test_model_free(tm);
}
END_TEST

START_TEST(test_split)
{
    const int64_t dims[2] = {3, 7};
    const struct {
        int64_t     opset;
        int         n_split;           /* 0: equal parts / num_outputs */
        int64_t     split[3];
        int         n_out;
        bool        num_outputs;
        int64_t     lens[3];           /* expected part lengths on axis 1 */
    } cases[] = {
        {13, 3, {2, 0, 5}, 3, false, {2, 0, 5}},
        {11, 3, {4, 2, 1}, 3, false, {4, 2, 1}},   /* split attribute */
        {18, 0, {0}, 3, true, {3, 3, 1}},          /* num_outputs: last part smaller */
    };
    const char *const outs[3] = {"y0", "y1", "y2"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int k = 0; k < cases[i].n_out; k++) {
            lrpx_test_model *tm = lrpx_test_model_new(cases[i].opset);
            lrpx_test_model_input(tm, "x", LRPX_DTYPE_FLOAT32, 2, dims);
            for (int t = 0; t < cases[i].n_out; t++)
                lrpx_test_model_output(tm, outs[t]);
            if (cases[i].opset >= 13 && cases[i].n_split) {
                lrpx_test_model_init_i64(tm, "split", 1, (const int64_t[]){cases[i].n_split},
                                         cases[i].split);
                lrpx_test_model_node(tm, "Split", "sp", LT_IO("x", "split"),
                                     LT_IO("y0", "y1", "y2"), LT_INT("axis", -1), NULL);
            } else if (cases[i].n_split) {
                lrpx_test_model_node(tm, "Split", "sp", LT_IO("x"), LT_IO("y0", "y1", "y2"),
                                     LT_INT("axis", 1),
                                     LT_INTS_N("split", cases[i].n_split, cases[i].split), NULL);
            } else {
                lrpx_test_model_node(tm, "Split", "sp", LT_IO("x"), LT_IO("y0", "y1", "y2"),
                                     LT_INT("axis", 1), LT_INT("num_outputs", 3), NULL);
            }
            int64_t off = 0;
            for (int t = 0; t < k; t++)
                off += cases[i].lens[t];
            int64_t od[2] = {3, cases[i].lens[k]};
            int64_t map[21];
            for (int64_t j = 0; j < od[0] * od[1]; j++)
                map[j] = (j / od[1]) * 7 + off + j % od[1];
            check_routing_out(tm, 2, dims, map, 2, od, 0.0f, outs[k]);
            lrpx_test_model_free(tm);
        }

    float       x[21] = {0};
    struct in_t in    = {"x", LRPX_DTYPE_FLOAT32, 2, {3, 7}, x};
    lrpx_test_model *tm = model_1(13, 2, dims);
    lrpx_test_model_node(tm, "Split", "sp", LT_IO("x"), LT_IO("y", "z"), LT_INT("axis", 1), NULL);
    lrpx_test_model_output(tm, "z");
    expect_error(tm, &in, 1, LRPX_ESHAPE, "sp", "Split", "equal parts");
    lrpx_test_model_free(tm);
    tm = model_1(13, 2, dims);
    lrpx_test_model_init_i64(tm, "split", 1, (const int64_t[]){2}, (const int64_t[]){3, 3});
    lrpx_test_model_node(tm, "Split", "sp", LT_IO("x", "split"), LT_IO("y", "z"),
                         LT_INT("axis", 1), NULL);
    lrpx_test_model_output(tm, "z");
    expect_error(tm, &in, 1, LRPX_ESHAPE, "sp", "Split", "add up");
    lrpx_test_model_free(tm);
    tm = model_1(13, 2, dims);
    lrpx_test_model_init_i64(tm, "split", 1, (const int64_t[]){2}, (const int64_t[]){8, -1});
    lrpx_test_model_node(tm, "Split", "sp", LT_IO("x", "split"), LT_IO("y", "z"),
                         LT_INT("axis", 1), NULL);
    lrpx_test_model_output(tm, "z");
    expect_error(tm, &in, 1, LRPX_ESHAPE, "sp", "Split", "add up");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Pad ---- */

/* Source index of output index o on an axis of length n padded by `begin`
 * in `mode`, or -1 for the constant. Reflection is done step by step, as
 * numpy.pad(mode="reflect") does for pads longer than the axis. */
static int64_t
pad_ref(const char *mode, int64_t o, int64_t begin, int64_t n)
{
    int64_t i = o - begin;
    if (i >= 0 && i < n)
        return i;
    if (strcmp(mode, "constant") == 0)
        return -1;
    if (strcmp(mode, "edge") == 0)
        return i < 0 ? 0 : n - 1;
    if (strcmp(mode, "wrap") == 0) {
        while (i < 0)
            i += n;
        while (i >= n)
            i -= n;
        return i;
    }
    if (n == 1)
        return 0;
    while (i < 0 || i >= n) {
        if (i < 0)
            i = -i;
        if (i >= n)
            i = 2 * (n - 1) - i;
    }
    return i;
}

START_TEST(test_pad)
{
    const int64_t dims[3] = {2, 3, 4};
    const struct {
        int64_t     opset;
        const char *mode;
        int64_t     pads[6];
        float       value;
    } cases[] = {
        {13, "constant", {0, 1, 2, 1, 0, 3}, 2.5f},
        {13, "reflect", {0, 2, 5, 0, 4, 1}, 0.0f},    /* longer than the axis */
        {13, "edge", {1, 0, 2, 0, 3, 1}, 0.0f},
        {13, "constant", {0, -1, 1, 0, -1, -2}, -1.0f}, /* crop and pad */
        {13, "reflect", {0, -1, -2, 0, 3, 1}, 0.0f},
        {18, "wrap", {0, 4, 2, 1, 1, 5}, 0.0f},
        {2, "constant", {1, 0, 1, 0, 2, 0}, 7.0f},      /* pads/value attributes */
        {10, "edge", {0, 1, 1, 0, 1, 1}, 0.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const int64_t *p = cases[i].pads;
        int64_t        od[3];
        for (int k = 0; k < 3; k++)
            od[k] = dims[k] + p[k] + p[3 + k];
        const int64_t n   = prod(od, 3);
        int64_t      *map = malloc((size_t)n * sizeof *map);
        ck_assert_ptr_nonnull(map);
        for (int64_t j = 0; j < n; j++) {
            int64_t oc[3], ic[3];
            unravel(j, od, 3, oc);
            map[j] = 0;
            for (int k = 0; k < 3 && map[j] >= 0; k++)
                if ((ic[k] = pad_ref(cases[i].mode, oc[k], p[k], dims[k])) < 0)
                    map[j] = -1;
            if (map[j] >= 0)
                map[j] = ravel(ic, dims, 3);
        }
        lrpx_test_model *tm = model_1(cases[i].opset, 3, dims);
        if (cases[i].opset >= 11) {
            lrpx_test_model_init_i64(tm, "pads", 1, (const int64_t[]){6}, p);
            lrpx_test_model_init_f32(tm, "value", 0, NULL, &cases[i].value);
            lrpx_test_model_node(tm, "Pad", "pad", LT_IO("x", "pads", "value"), LT_IO("y"),
                                 LT_STRING("mode", cases[i].mode), NULL);
        } else {
            lrpx_test_model_node(tm, "Pad", "pad", LT_IO("x"), LT_IO("y"),
                                 LT_STRING("mode", cases[i].mode), LT_INTS_N("pads", 6, p),
                                 LT_FLOAT("value", cases[i].value), NULL);
        }
        check_routing(tm, 3, dims, map, 3, od, cases[i].value);
        free(map);
        lrpx_test_model_free(tm);
    }

    /* opset 18: pads for the listed axes only */
    int64_t od[3] = {2, 3, 7}, map[42];
    for (int64_t j = 0; j < 42; j++) {
        int64_t oc[3];
        unravel(j, od, 3, oc);
        int64_t s = pad_ref("edge", oc[2], 2, 4);
        map[j]    = ravel((const int64_t[]){oc[0], oc[1], s}, dims, 3);
    }
    lrpx_test_model *tm = model_1(18, 3, dims);
    lrpx_test_model_init_i64(tm, "pads", 1, (const int64_t[]){2}, (const int64_t[]){2, 1});
    lrpx_test_model_init_i64(tm, "axes", 1, (const int64_t[]){1}, (const int64_t[]){-1});
    lrpx_test_model_node(tm, "Pad", "pad", LT_IO("x", "pads", "", "axes"), LT_IO("y"),
                         LT_STRING("mode", "edge"), NULL);
    check_routing(tm, 3, dims, map, 3, od, 0.0f);
    lrpx_test_model_free(tm);

    /* errors */
    float       x[24] = {0};
    struct in_t in    = {"x", LRPX_DTYPE_FLOAT32, 3, {2, 3, 4}, x};
    const struct {
        int         n;
        int64_t     pads[6];
        const char *mode;
        lrpx_status err;
        const char *what;
    } bad[] = {
        {4, {0, 0, 0, 0}, "constant", LRPX_ESHAPE, "expected 6"},
        {6, {0, 0, -3, 0, 0, -2}, "constant", LRPX_ESHAPE, "invalid"},
        {6, {0, 0, INT64_MAX, 0, 0, INT64_MAX}, "constant", LRPX_ESHAPE, "invalid"},
        {6, {0, 0, 1, 0, 0, 0}, "symmetric", LRPX_EUNSUPPORTED, "symmetric"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tm = model_1(13, 3, dims);
        lrpx_test_model_init_i64(tm, "pads", 1, (const int64_t[]){bad[i].n}, bad[i].pads);
        lrpx_test_model_node(tm, "Pad", "pad", LT_IO("x", "pads"), LT_IO("y"),
                             LT_STRING("mode", bad[i].mode), NULL);
        expect_error(tm, &in, 1, bad[i].err, "pad", "Pad", bad[i].what);
        lrpx_test_model_free(tm);
    }
    /* reflecting an empty axis */
    struct in_t in0 = {"x", LRPX_DTYPE_FLOAT32, 2, {0, 3}, x};
    tm = model_1(13, 2, (const int64_t[]){0, 3});
    lrpx_test_model_init_i64(tm, "pads", 1, (const int64_t[]){4}, (const int64_t[]){1, 0, 1, 0});
    lrpx_test_model_node(tm, "Pad", "pad", LT_IO("x", "pads"), LT_IO("y"),
                         LT_STRING("mode", "reflect"), NULL);
    expect_error(tm, &in0, 1, LRPX_ESHAPE, "pad", "Pad", "empty axis");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Expand and Tile ---- */

START_TEST(test_expand_tile)
{
    /* Expand (3, 1) by (2, 1, 4) -> (2, 3, 4): out[a, b, c] = x[b, 0] */
    const int64_t dims[2] = {3, 1};
    int64_t       od[3]   = {2, 3, 4}, map[24];
    for (int64_t j = 0; j < 24; j++) {
        int64_t oc[3];
        unravel(j, od, 3, oc);
        map[j] = oc[1];
    }
    lrpx_test_model *tm = model_1(13, 2, dims);
    lrpx_test_model_init_i64(tm, "shape", 1, (const int64_t[]){3}, (const int64_t[]){2, 1, 4});
    lrpx_test_model_node(tm, "Expand", "ex", LT_IO("x", "shape"), LT_IO("y"), NULL);
    check_routing(tm, 2, dims, map, 3, od, 0.0f);
    lrpx_test_model_free(tm);

    /* a shape smaller than the input keeps the input's dims */
    const int64_t d2[3] = {2, 3, 4};
    int64_t      *id    = map_identity(24);
    tm = model_1(13, 3, d2);
    lrpx_test_model_init_i64(tm, "shape", 1, (const int64_t[]){2}, (const int64_t[]){1, 4});
    lrpx_test_model_node(tm, "Expand", "ex", LT_IO("x", "shape"), LT_IO("y"), NULL);
    check_routing(tm, 3, d2, id, 3, d2, 0.0f);
    lrpx_test_model_free(tm);
    free(id);

    /* Tile (2, 3) by (2, 1, ) -> out[a, b] = x[a % 2, b % 3] */
    const int64_t td[2] = {2, 3};
    int64_t       tod[2] = {4, 9}, tmap[36];
    for (int64_t j = 0; j < 36; j++) {
        int64_t oc[2];
        unravel(j, tod, 2, oc);
        tmap[j] = ravel((const int64_t[]){oc[0] % 2, oc[1] % 3}, td, 2);
    }
    tm = model_1(13, 2, td);
    lrpx_test_model_init_i64(tm, "reps", 1, (const int64_t[]){2}, (const int64_t[]){2, 3});
    lrpx_test_model_node(tm, "Tile", "tile", LT_IO("x", "reps"), LT_IO("y"), NULL);
    check_routing(tm, 2, td, tmap, 2, tod, 0.0f);
    lrpx_test_model_free(tm);

    /* errors, including element counts that overflow int64 */
    float       x[6] = {0};
    struct in_t in   = {"x", LRPX_DTYPE_FLOAT32, 2, {2, 3}, x};
    tm = model_1(13, 2, td);
    lrpx_test_model_init_i64(tm, "shape", 1, (const int64_t[]){2}, (const int64_t[]){4, 3});
    lrpx_test_model_node(tm, "Expand", "ex", LT_IO("x", "shape"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_ESHAPE, "ex", "Expand", "does not expand");
    lrpx_test_model_free(tm);
    tm = model_1(13, 2, td);
    lrpx_test_model_init_i64(tm, "shape", 1, (const int64_t[]){4},
                             (const int64_t[]){(int64_t)1 << 40, (int64_t)1 << 40, 1, 3});
    lrpx_test_model_node(tm, "Expand", "ex", LT_IO("x", "shape"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_ELIMIT, "ex", "Expand", "overflows");
    lrpx_test_model_free(tm);
    tm = model_1(13, 2, td);
    lrpx_test_model_init_i64(tm, "reps", 1, (const int64_t[]){2}, (const int64_t[]){2, -1});
    lrpx_test_model_node(tm, "Tile", "tile", LT_IO("x", "reps"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_ESHAPE, "tile", "Tile", "negative");
    lrpx_test_model_free(tm);
    tm = model_1(13, 2, td);
    lrpx_test_model_init_i64(tm, "reps", 1, (const int64_t[]){2},
                             (const int64_t[]){INT64_MAX / 2, 1});
    lrpx_test_model_node(tm, "Tile", "tile", LT_IO("x", "reps"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_ELIMIT, "tile", "Tile", "overflow");
    lrpx_test_model_free(tm);
    tm = model_1(13, 2, td);
    lrpx_test_model_init_i64(tm, "reps", 1, (const int64_t[]){1}, (const int64_t[]){2});
    lrpx_test_model_node(tm, "Tile", "tile", LT_IO("x", "reps"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_ESHAPE, "tile", "Tile", "rank-2");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- DepthToSpace and SpaceToDepth ---- */

START_TEST(test_depth_space)
{
    /* The ONNX definitions, written as index formulas:
     * DCR: y[n, c, h b + i, w b + j] = x[n, (i b + j) C' + c, h, w]
     * CRD: y[n, c, h b + i, w b + j] = x[n, c b^2 + i b + j, h, w]
     * SpaceToDepth: y[n, (i b + j) C + c, h, w] = x[n, c, h b + i, w b + j] */
    const int64_t b = 2, dims[4] = {2, 8, 2, 3}, od[4] = {2, 2, 4, 6};
    for (int crd = 0; crd < 2; crd++) {
        int64_t map[96];
        for (int64_t j = 0; j < 96; j++) {
            int64_t oc[4];
            unravel(j, od, 4, oc);
            int64_t h = oc[2] / b, i = oc[2] % b, w = oc[3] / b, jj = oc[3] % b;
            int64_t c = crd ? oc[1] * b * b + i * b + jj : (i * b + jj) * od[1] + oc[1];
            map[j]    = ravel((const int64_t[]){oc[0], c, h, w}, dims, 4);
        }
        lrpx_test_model *tm = model_1(13, 4, dims);
        lrpx_test_model_node(tm, "DepthToSpace", "d2s", LT_IO("x"), LT_IO("y"),
                             LT_INT("blocksize", b), LT_STRING("mode", crd ? "CRD" : "DCR"),
                             NULL);
        check_routing(tm, 4, dims, map, 4, od, 0.0f);
        lrpx_test_model_free(tm);
    }
    int64_t map[96];
    for (int64_t j = 0; j < 96; j++) {
        int64_t oc[4];
        unravel(j, dims, 4, oc);   /* SpaceToDepth: od -> dims */
        int64_t C = od[1], c = oc[1] % C, blk = oc[1] / C, i = blk / b, jj = blk % b;
        map[j] = ravel((const int64_t[]){oc[0], c, oc[2] * b + i, oc[3] * b + jj}, od, 4);
    }
    lrpx_test_model *tm = model_1(13, 4, od);
    lrpx_test_model_node(tm, "SpaceToDepth", "s2d", LT_IO("x"), LT_IO("y"),
                         LT_INT("blocksize", b), NULL);
    check_routing(tm, 4, od, map, 4, dims, 0.0f);
    lrpx_test_model_free(tm);

    float       x[96] = {0};
    struct in_t in    = {"x", LRPX_DTYPE_FLOAT32, 4, {2, 8, 2, 3}, x};
    tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "DepthToSpace", "d2s", LT_IO("x"), LT_IO("y"),
                         LT_INT("blocksize", 3), NULL);
    expect_error(tm, &in, 1, LRPX_ESHAPE, "d2s", "DepthToSpace", "channels");
    lrpx_test_model_free(tm);
    tm = model_1(13, 4, dims);
    lrpx_test_model_node(tm, "SpaceToDepth", "s2d", LT_IO("x"), LT_IO("y"),
                         LT_INT("blocksize", 0), NULL);
    expect_error(tm, &in, 1, LRPX_EINVAL, "s2d", "SpaceToDepth", "blocksize");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Resize and Upsample ---- */

/* The interpolation weights W[j][i] (output j, input i) of a model whose
 * output is affine in its float input "x": output j for x = unit vector i,
 * minus output j for x = 0 (the extrapolation constant), which goes to
 * *base when base is not NULL (malloc'd). Only the forward pass is used, so
 * the backward and relevance passes are checked against something they do
 * not share code with. */
static double *
probe_weights(lrpx_test_model *tm, int rank, const int64_t *dims, int64_t *n_out_p,
              double **base)
{
    const int64_t n_in = prod(dims, rank);
    float        *x    = calloc((size_t)n_in, sizeof *x);
    ck_assert_ptr_nonnull(x);
    struct in_t in = {"x", LRPX_DTYPE_FLOAT32, rank, {0}, x};
    memcpy(in.dims, dims, (size_t)rank * sizeof *dims);
    lrpx_model   *m;
    lrpx_session *s = run_ok(tm, &in, 1, &m);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    const int64_t n_out = y.n_elems;
    double       *w     = calloc((size_t)(n_out * n_in), sizeof *w);
    double       *b     = calloc((size_t)n_out + 1, sizeof *b);
    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(b);
    for (int64_t j = 0; j < n_out; j++)
        b[j] = ((const float *)y.data)[j];
    for (int64_t i = 0; i < n_in; i++) {
        x[i] = 1.0f;
        ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, rank, in.dims, x),
                         LRPX_OK);
        ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
        for (int64_t j = 0; j < n_out; j++)
            w[j * n_in + i] = ((const float *)y.data)[j] - b[j];
        x[i] = 0.0f;
    }
    if (base)
        *base = b;
    else
        free(b);
    free(x);
    lrpx_session_free(s);
    lrpx_model_free(m);
    *n_out_p = n_out;
    return w;
}

/* Linear/cubic Resize: forward = W x; gradient = W^T seed and central
 * finite differences; relevance = the epsilon rule of a weighted sum in
 * float64; conservation when nothing is extrapolated. */
static void
check_interp(lrpx_test_model *tm, int rank, const int64_t *dims, bool extrapolates)
{
    const int64_t n_in = prod(dims, rank);
    int64_t       n_out;
    double       *base;
    double       *w    = probe_weights(tm, rank, dims, &n_out, &base);
    float        *x    = rng_array(n_in, 0.1, 1.0);
    float        *seed = rng_array(n_out, -1.0, 1.0);
    struct in_t   in   = {"x", LRPX_DTYPE_FLOAT32, rank, {0}, x};
    memcpy(in.dims, dims, (size_t)rank * sizeof *dims);
    lrpx_model   *m;
    lrpx_session *s = run_ok(tm, &in, 1, &m);

    /* forward is affine in x: base (extrapolated outputs) + W x */
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    double *z = calloc((size_t)n_out, sizeof *z);
    ck_assert_ptr_nonnull(z);
    for (int64_t j = 0; j < n_out; j++) {
        for (int64_t i = 0; i < n_in; i++)
            z[j] += w[j * n_in + i] * x[i];
        double want = base[j] + z[j];
        ck_assert_msg(fabs(((const float *)y.data)[j] - want) <= 1e-5 * (1.0 + fabs(want)),
                      "y[%lld] = %.7g, base + W x = %.7g", (long long)j,
                      (double)((const float *)y.data)[j], want);
    }

    /* gradient: W^T seed, and finite differences on every element */
    double *gw = calloc((size_t)n_in, sizeof *gw);
    ck_assert_ptr_nonnull(gw);
    for (int64_t j = 0; j < n_out; j++)
        for (int64_t i = 0; i < n_in; i++)
            gw[i] += w[j * n_in + i] * seed[j];
    double *g = gradient(s, seed, n_out, NULL, "x", n_in);
    ck_assert_tensor_near_f64(g, gw, n_in, 1e-5, 1e-6);
    const float h = 0.25f;
    for (int64_t i = 0; i < n_in; i++) {
        double l[2];
        float  orig = x[i];
        for (int side = 0; side < 2; side++) {
            x[i] = side ? orig - h : orig + h;
            ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, rank, in.dims, x),
                             LRPX_OK);
            ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);
            ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
            l[side] = 0.0;
            for (int64_t j = 0; j < n_out; j++)
                l[side] += (double)seed[j] * ((const float *)y.data)[j];
        }
        x[i] = orig;
        double fd = (l[0] - l[1]) / (2.0 * h);
        ck_assert_msg(fabs(fd - g[i]) <= 1e-3 * fmax(fabs(g[i]), 1e-2),
                      "d/dx[%lld]: gradient %.7g, finite difference %.7g", (long long)i, g[i], fd);
    }
    ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, rank, in.dims, x),
                     LRPX_OK);
    ck_assert_int_eq(lrpx_session_run(s), LRPX_OK);

    /* relevance */
    const double eps = 1e-3;
    double      *rw  = calloc((size_t)n_in, sizeof *rw);
    double       seed_sum = 0.0, r_sum = 0.0;
    ck_assert_ptr_nonnull(rw);
    for (int64_t j = 0; j < n_out; j++) {
        seed_sum += seed[j];
        double zs = z[j] >= 0.0 ? z[j] + eps : z[j] - eps;
        for (int64_t i = 0; i < n_in; i++)
            rw[i] += w[j * n_in + i] * x[i] / zs * seed[j];
    }
    double *r = relevance(s, seed, NULL, "x", n_in, eps);
    ck_assert_tensor_near_f64(r, rw, n_in, 1e-4, 1e-6);
    for (int64_t i = 0; i < n_in; i++)
        r_sum += r[i];
    if (!extrapolates)
        ck_assert_msg(fabs(r_sum - seed_sum) <= 1e-2 * (fabs(seed_sum) + 1.0),
                      "relevance %.7g in, %.7g out", seed_sum, r_sum);

    free(r);
    free(rw);
    free(g);
    free(gw);
    free(z);
    free(seed);
    free(x);
    free(w);
    free(base);
    lrpx_session_free(s);
    lrpx_model_free(m);
}

/* A Resize model at opset 13 with scales or sizes (other one empty). */
static lrpx_test_model *
resize_model(int rank, const int64_t *dims, const float *scales, const int64_t *sizes,
             const float *roi, const char *mode, const char *coord, const char *nearest,
             int exclude_outside)
{
    lrpx_test_model *tm = model_1(13, rank, dims);
    const int64_t    nr[1] = {rank}, nroi[1] = {2 * rank};
    if (roi)
        lrpx_test_model_init_f32(tm, "roi", 1, nroi, roi);
    if (scales)
        lrpx_test_model_init_f32(tm, "scales", 1, nr, scales);
    if (sizes)
        lrpx_test_model_init_i64(tm, "sizes", 1, nr, sizes);
    lrpx_test_model_node(tm, "Resize", "rz",
                         sizes ? LT_IO("x", roi ? "roi" : "", "", "sizes")
                               : LT_IO("x", roi ? "roi" : "", "scales"),
                         LT_IO("y"), LT_STRING("mode", mode),
                         LT_STRING("coordinate_transformation_mode", coord),
                         LT_STRING("nearest_mode", nearest),
                         LT_INT("exclude_outside", exclude_outside),
                         LT_FLOAT("extrapolation_value", 3.5f), NULL);
    return tm;
}

START_TEST(test_resize_interp)
{
    const int64_t dims[4] = {1, 2, 3, 4};
    const struct {
        const char *mode, *coord;
        float       scales[4];
        int64_t     sizes[4];
        bool        use_sizes, exclude, crop;
    } cases[] = {
        {"linear", "half_pixel", {0}, {1, 2, 5, 7}, true, false, false},
        {"linear", "align_corners", {1, 1, 0.6f, 2.5f}, {0}, false, false, false},
        {"linear", "pytorch_half_pixel", {0}, {1, 2, 1, 3}, true, false, false},
        {"linear", "asymmetric", {1, 1, 1.5f, 0.5f}, {0}, false, false, false},
        {"cubic", "half_pixel", {1, 1, 0.8f, 1.7f}, {0}, false, false, false},
        {"cubic", "align_corners", {0}, {1, 2, 4, 6}, true, true, false},
        {"linear", "half_pixel", {0}, {3, 2, 5, 5}, true, false, false},   /* N axis too */
        {"linear", "tf_crop_and_resize", {0}, {1, 2, 4, 5}, true, false, true},
    };
    const float roi[8] = {0, 0, 0.2f, -0.3f, 1, 1, 0.9f, 1.2f};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lrpx_test_model *tm = resize_model(4, dims, cases[i].use_sizes ? NULL : cases[i].scales,
                                           cases[i].use_sizes ? cases[i].sizes : NULL,
                                           cases[i].crop ? roi : NULL, cases[i].mode,
                                           cases[i].coord, "round_prefer_floor",
                                           cases[i].exclude);
        check_interp(tm, 4, dims, cases[i].crop);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* Nearest: every output is one input (the probe finds which), so the
 * routing check applies. */
START_TEST(test_resize_nearest)
{
    const int64_t dims[4] = {1, 2, 3, 4};
    const struct {
        const char *coord, *nearest;
        int64_t     sizes[4];
    } cases[] = {
        {"half_pixel", "round_prefer_floor", {1, 2, 7, 9}},
        {"asymmetric", "round_prefer_ceil", {1, 2, 2, 7}},
        {"align_corners", "floor", {2, 2, 5, 3}},
        {"tf_half_pixel_for_nn", "ceil", {1, 1, 4, 8}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        lrpx_test_model *tm = resize_model(4, dims, NULL, cases[c].sizes, NULL, "nearest",
                                           cases[c].coord, cases[c].nearest, 0);
        int64_t  n_out;
        double  *w   = probe_weights(tm, 4, dims, &n_out, NULL);
        int64_t *map = malloc((size_t)n_out * sizeof *map);
        ck_assert_ptr_nonnull(map);
        for (int64_t j = 0; j < n_out; j++) {
            map[j] = -1;
            for (int64_t i = 0; i < 24; i++)
                if (w[j * 24 + i] == 1.0) {
                    ck_assert_int_eq(map[j], -1);
                    map[j] = i;
                }
            ck_assert_int_ge(map[j], 0);
        }
        check_routing(tm, 4, dims, map, 4, cases[c].sizes, 0.0f);
        free(map);
        free(w);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* Upsample (opsets 7 and 9): asymmetric coordinates x_in = x_out / s;
 * nearest takes floor(x_in), linear interpolates between floor(x_in) and
 * the next index, clamped to the axis. */
START_TEST(test_upsample)
{
    const int64_t dims[4] = {1, 1, 2, 3}, od[4] = {1, 1, 4, 6};
    const float   sc[4]   = {1, 1, 2, 2};
    float         x[6]    = {1, 2, 4, 8, 16, 32};
    for (int linear = 0; linear < 2; linear++)
        for (int opset = 7; opset <= 9; opset += 2) {
            lrpx_test_model *tm = model_1(opset, 4, dims);
            if (opset == 9) {
                lrpx_test_model_init_f32(tm, "scales", 1, (const int64_t[]){4}, sc);
                lrpx_test_model_node(tm, "Upsample", "up", LT_IO("x", "scales"), LT_IO("y"),
                                     LT_STRING("mode", linear ? "linear" : "nearest"), NULL);
            } else {
                lrpx_test_model_node(tm, "Upsample", "up", LT_IO("x"), LT_IO("y"),
                                     LT_STRING("mode", linear ? "linear" : "nearest"),
                                     LT_FLOATS("scales", 1, 1, 2, 2), NULL);
            }
            struct in_t   in = {"x", LRPX_DTYPE_FLOAT32, 4, {1, 1, 2, 3}, x};
            lrpx_model   *m;
            lrpx_session *s = run_ok(tm, &in, 1, &m);
            lrpx_tensor_view y;
            ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
            check_dims(&y, 4, od);
            for (int64_t r = 0; r < 4; r++)
                for (int64_t c = 0; c < 6; c++) {
                    double want;
                    if (!linear) {
                        want = x[(r / 2) * 3 + c / 2];
                    } else {
                        double  fr = r / 2.0, fc = c / 2.0;
                        int64_t r0 = (int64_t)fr, c0 = (int64_t)fc;
                        int64_t r1 = r0 + 1 < 2 ? r0 + 1 : 1, c1 = c0 + 1 < 3 ? c0 + 1 : 2;
                        double  wr = fr - r0, wc = fc - c0;
                        want = (1 - wr) * ((1 - wc) * x[r0 * 3 + c0] + wc * x[r0 * 3 + c1]) +
                               wr * ((1 - wc) * x[r1 * 3 + c0] + wc * x[r1 * 3 + c1]);
                    }
                    ck_assert_msg(fabs(((const float *)y.data)[r * 6 + c] - want) < 1e-5,
                                  "opset %d %s: y[%lld,%lld] = %g, expected %g", opset,
                                  linear ? "linear" : "nearest", (long long)r, (long long)c,
                                  (double)((const float *)y.data)[r * 6 + c], want);
                }
            lrpx_session_free(s);
            lrpx_model_free(m);
            if (linear)
                check_interp(tm, 4, dims, false);
            lrpx_test_model_free(tm);
        }
}
END_TEST

/* Resize-10: inputs X, scales; asymmetric coordinates; nearest rounds
 * down, but up when the axis shrinks (ONNX Runtime's rule for this opset).
 * Expected values: the ONNX Upsample/Resize-10 doc example for growing;
 * for shrinking by 0.6 worked by hand: x_in = ceil(x_out / 0.6) = 0, 2. */
START_TEST(test_resize_opset10)
{
    const struct {
        int64_t dims[4], od[4];
        float   scales[4], x[8], want[24];
    } cases[] = {
        {{1, 1, 2, 2}, {1, 1, 4, 6}, {1, 1, 2, 3}, {1, 2, 3, 4},
         {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}},
        {{1, 1, 2, 4}, {1, 1, 1, 2}, {1, 1, 0.6f, 0.6f}, {1, 2, 3, 4, 5, 6, 7, 8}, {1, 3}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lrpx_test_model *tm = model_1(10, 4, cases[i].dims);
        lrpx_test_model_init_f32(tm, "scales", 1, (const int64_t[]){4}, cases[i].scales);
        lrpx_test_model_node(tm, "Resize", "rz", LT_IO("x", "scales"), LT_IO("y"),
                             LT_STRING("mode", "nearest"), NULL);
        struct in_t in = {"x", LRPX_DTYPE_FLOAT32, 4, {0}, cases[i].x};
        memcpy(in.dims, cases[i].dims, sizeof in.dims[0] * 4);
        lrpx_model   *m;
        lrpx_session *s = run_ok(tm, &in, 1, &m);
        lrpx_tensor_view y;
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
        check_dims(&y, 4, cases[i].od);
        ck_assert_mem_eq(y.data, cases[i].want, (size_t)y.n_elems * sizeof(float));
        lrpx_session_free(s);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
}
END_TEST

START_TEST(test_resize_errors)
{
    const int64_t dims[4] = {1, 1, 2, 3};
    float         x[6]    = {0};
    struct in_t   in      = {"x", LRPX_DTYPE_FLOAT32, 4, {1, 1, 2, 3}, x};

    lrpx_test_model *tm = model_1(13, 4, dims);
    lrpx_test_model_init_f32(tm, "scales", 1, (const int64_t[]){4}, (const float[]){1, 1, 2, 2});
    lrpx_test_model_init_i64(tm, "sizes", 1, (const int64_t[]){4}, (const int64_t[]){1, 1, 4, 6});
    lrpx_test_model_node(tm, "Resize", "rz", LT_IO("x", "", "scales", "sizes"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_EINVAL, "rz", "Resize", "exactly one");
    lrpx_test_model_free(tm);

    tm = resize_model(4, dims, (const float[]){1, 1, 0, 2}, NULL, NULL, "linear", "half_pixel",
                      "floor", 0);
    expect_error(tm, &in, 1, LRPX_EINVAL, "rz", "Resize", "not positive");
    lrpx_test_model_free(tm);

    tm = model_1(13, 4, dims);
    lrpx_test_model_init_i64(tm, "sizes", 1, (const int64_t[]){3}, (const int64_t[]){1, 4, 6});
    lrpx_test_model_node(tm, "Resize", "rz", LT_IO("x", "", "", "sizes"), LT_IO("y"), NULL);
    expect_error(tm, &in, 1, LRPX_ESHAPE, "rz", "Resize", "sizes");
    lrpx_test_model_free(tm);

    tm = resize_model(4, dims, (const float[]){1, 1, 2, 2}, NULL, NULL, "area", "half_pixel",
                      "floor", 0);
    expect_error(tm, &in, 1, LRPX_EUNSUPPORTED, "rz", "Resize", "area");
    lrpx_test_model_free(tm);

    /* linear interpolation of integers is refused */
    tm = lrpx_test_model_new(13);
    lrpx_test_model_init(tm, "xi", LRPX_DTYPE_INT32, 4, dims, (const int32_t[6]){0});
    lrpx_test_model_init_f32(tm, "scales", 1, (const int64_t[]){4}, (const float[]){1, 1, 2, 2});
    lrpx_test_model_node(tm, "Resize", "rz", LT_IO("xi", "", "scales"), LT_IO("y"),
                         LT_STRING("mode", "linear"), NULL);
    lrpx_test_model_output(tm, "y");
    expect_error(tm, NULL, 0, LRPX_EUNSUPPORTED, "rz", "Resize", "int32");
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- Shape, Size, Constant, ConstantOfShape, Range, NonZero ---- */

/* y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) with x fed:
 * the shape chain folds at plan time although x is data, and follows x's
 * shape from run to run. */
START_TEST(test_shape_chain_folds)
{
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_input_sym(tm, "x", LRPX_DTYPE_FLOAT32, 3, (const int64_t[]){-1, 3, 4},
                              (const char *const[]){"batch", NULL, NULL});
    lrpx_test_model_init_i64(tm, "zero", 0, NULL, (const int64_t[]){0});
    lrpx_test_model_init_i64(tm, "axes", 1, (const int64_t[]){1}, (const int64_t[]){0});
    lrpx_test_model_init_i64(tm, "minus1", 1, (const int64_t[]){1}, (const int64_t[]){-1});
    lrpx_test_model_node(tm, "Shape", "shape", LT_IO("x"), LT_IO("s"), NULL);
    lrpx_test_model_node(tm, "Gather", "g", LT_IO("s", "zero"), LT_IO("n"), LT_INT("axis", 0),
                         NULL);
    lrpx_test_model_node(tm, "Unsqueeze", "u", LT_IO("n", "axes"), LT_IO("n1"), NULL);
    lrpx_test_model_node(tm, "Concat", "c", LT_IO("n1", "minus1"), LT_IO("shp"),
                         LT_INT("axis", 0), NULL);
    lrpx_test_model_node(tm, "Reshape", "rs", LT_IO("x", "shp"), LT_IO("y"), NULL);
    lrpx_test_model_node(tm, "Size", "size", LT_IO("x"), LT_IO("count"), NULL);
    lrpx_test_model_output(tm, "y");
    lrpx_test_model_output(tm, "count");

    lrpx_model *m;
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    lrpx_session *s;
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    for (int64_t batch = 1; batch <= 3; batch += 2) {
        float x[36];
        for (int i = 0; i < 36; i++)
            x[i] = (float)i;
        ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, 3,
                                                (const int64_t[]){batch, 3, 4}, x),
                         LRPX_OK);
        ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        lrpx_tensor_view y, count;
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
        ck_assert_int_eq(lrpx_session_output(s, 1, &count), LRPX_OK);
        check_dims(&y, 2, (const int64_t[]){batch, 12});
        ck_assert_int_eq(count.rank, 0);
        ck_assert_int_eq(((const int64_t *)count.data)[0], batch * 12);
        for (int i = 0; i < batch * 12; i++)
            ck_assert_float_eq(((const float *)y.data)[i], x[i]);
        /* the chain did not run: it was folded */
        int gi = -1;
        for (int k = 0; k < m->g.n_nodes; k++)
            if (strcmp(m->g.nodes[k].name, "c") == 0)
                gi = k;
        ck_assert_int_ge(gi, 0);
        ck_assert_int_eq(s->plan.folded[gi], 1);
    }
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* Shape's start/end (opset 15): negative from the back, clamped. */
START_TEST(test_shape_slice)
{
    const int64_t dims[4] = {2, 3, 4, 5};
    const struct {
        int64_t start, end;
        bool    has_end;
        int     n;
        int64_t want[4];
    } cases[] = {
        {0, 0, false, 4, {2, 3, 4, 5}},   {1, 0, false, 3, {3, 4, 5}},
        {-1, 0, false, 1, {5}},           {1, -1, true, 2, {3, 4}},
        {-10, 2, true, 2, {2, 3}},        {3, 10, true, 1, {5}},
        {3, 1, true, 0, {0}},
    };
    float x[120] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        lrpx_test_model *tm = model_1(15, 4, dims);
        if (cases[i].has_end)
            lrpx_test_model_node(tm, "Shape", "sh", LT_IO("x"), LT_IO("y"),
                                 LT_INT("start", cases[i].start), LT_INT("end", cases[i].end),
                                 NULL);
        else
            lrpx_test_model_node(tm, "Shape", "sh", LT_IO("x"), LT_IO("y"),
                                 LT_INT("start", cases[i].start), NULL);
        struct in_t   in = {"x", LRPX_DTYPE_FLOAT32, 4, {2, 3, 4, 5}, x};
        lrpx_model   *m;
        lrpx_session *s = run_ok(tm, &in, 1, &m);
        lrpx_tensor_view y;
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
        ck_assert_int_eq(y.dtype, LRPX_DTYPE_INT64);
        check_dims(&y, 1, (const int64_t[]){cases[i].n});
        for (int k = 0; k < cases[i].n; k++)
            ck_assert_int_eq(((const int64_t *)y.data)[k], cases[i].want[k]);
        lrpx_session_free(s);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
}
END_TEST

/* Output 0 of a model without inputs. */
static void
const_output(lrpx_test_model *tm, lrpx_tensor_view *y, lrpx_model **m, lrpx_session **s)
{
    *s = run_ok(tm, NULL, 0, m);
    ck_assert_int_eq(lrpx_session_output(*s, 0, y), LRPX_OK);
}

START_TEST(test_constant_ops)
{
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_tensor_view y;

    /* Constant: value tensor, value_ints, value_float */
    lrpx_test_model *tm = lrpx_test_model_new(13);
    const int32_t    cv[3] = {7, -8, 9};
    lrpx_test_model_node(tm, "Constant", "k", LT_NONE, LT_IO("y"),
                         LT_TENSOR("value", LRPX_DTYPE_INT32, 1, (const int64_t[]){3}, cv), NULL);
    lrpx_test_model_output(tm, "y");
    const_output(tm, &y, &m, &s);
    ck_assert_int_eq(y.dtype, LRPX_DTYPE_INT32);
    check_dims(&y, 1, (const int64_t[]){3});
    ck_assert_mem_eq(y.data, cv, sizeof cv);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    tm = lrpx_test_model_new(13);
    lrpx_test_model_node(tm, "Constant", "k", LT_NONE, LT_IO("y"), LT_INTS("value_ints", 4, -5),
                         NULL);
    lrpx_test_model_output(tm, "y");
    const_output(tm, &y, &m, &s);
    ck_assert_int_eq(y.dtype, LRPX_DTYPE_INT64);
    check_dims(&y, 1, (const int64_t[]){2});
    ck_assert_int_eq(((const int64_t *)y.data)[1], -5);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    tm = lrpx_test_model_new(13);
    lrpx_test_model_node(tm, "Constant", "k", LT_NONE, LT_IO("y"), LT_FLOAT("value_float", 2.5f),
                         NULL);
    lrpx_test_model_output(tm, "y");
    const_output(tm, &y, &m, &s);
    ck_assert_int_eq(y.rank, 0);
    ck_assert_float_eq(((const float *)y.data)[0], 2.5f);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    tm = lrpx_test_model_new(13);
    lrpx_test_model_node(tm, "Constant", "k", LT_NONE, LT_IO("y"),
                         LT_STRING("value_string", "no"), NULL);
    lrpx_test_model_output(tm, "y");
    expect_error(tm, NULL, 0, LRPX_EUNSUPPORTED, "k", "Constant", "value_string");
    lrpx_test_model_free(tm);
    tm = lrpx_test_model_new(13);
    lrpx_test_model_node(tm, "Constant", "k", LT_NONE, LT_IO("y"), LT_FLOAT("value_float", 1.0f),
                         LT_INT("value_int", 1), NULL);
    lrpx_test_model_output(tm, "y");
    expect_error(tm, NULL, 0, LRPX_EINVAL, "k", "Constant", "exactly one");
    lrpx_test_model_free(tm);

    /* ConstantOfShape: int64 value; an empty shape is a scalar; huge and
     * negative shapes are errors */
    tm = lrpx_test_model_new(13);
    lrpx_test_model_init_i64(tm, "shp", 1, (const int64_t[]){2}, (const int64_t[]){2, 3});
    lrpx_test_model_node(tm, "ConstantOfShape", "cs", LT_IO("shp"), LT_IO("y"),
                         LT_TENSOR("value", LRPX_DTYPE_INT64, 1, (const int64_t[]){1},
                                   (const int64_t[]){-42}),
                         NULL);
    lrpx_test_model_output(tm, "y");
    const_output(tm, &y, &m, &s);
    check_dims(&y, 2, (const int64_t[]){2, 3});
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(((const int64_t *)y.data)[i], -42);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    tm = lrpx_test_model_new(13);
    lrpx_test_model_init_i64(tm, "shp", 1, (const int64_t[]){0}, (const int64_t[]){0});
    lrpx_test_model_node(tm, "ConstantOfShape", "cs", LT_IO("shp"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    const_output(tm, &y, &m, &s);
    ck_assert_int_eq(y.rank, 0);
    ck_assert_int_eq(y.dtype, LRPX_DTYPE_FLOAT32);
    ck_assert_float_eq(((const float *)y.data)[0], 0.0f);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    const struct {
        int64_t     shp[3];
        lrpx_status err;
        const char *what;
    } bad[] = {
        {{(int64_t)1 << 31, (int64_t)1 << 31, (int64_t)1 << 31}, LRPX_ELIMIT, "overflows"},
        {{2, -1, 3}, LRPX_ESHAPE, "negative"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tm = lrpx_test_model_new(13);
        lrpx_test_model_init_i64(tm, "shp", 1, (const int64_t[]){3}, bad[i].shp);
        lrpx_test_model_node(tm, "ConstantOfShape", "cs", LT_IO("shp"), LT_IO("y"), NULL);
        lrpx_test_model_output(tm, "y");
        expect_error(tm, NULL, 0, bad[i].err, "cs", "ConstantOfShape", bad[i].what);
        lrpx_test_model_free(tm);
    }
}
END_TEST

START_TEST(test_range)
{
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_tensor_view y;
    /* float: count = ceil((limit - start) / delta) */
    const float fcases[][3] = {{1.0f, 5.0f, 0.5f}, {10.0f, 4.0f, -3.0f}, {3.0f, 3.0f, 1.0f},
                               {0.0f, 1.0f, -1.0f}, {-1.0f, 1.0f, 0.3f}};
    for (size_t i = 0; i < sizeof fcases / sizeof *fcases; i++) {
        lrpx_test_model *tm = lrpx_test_model_new(11);
        lrpx_test_model_init_f32(tm, "a", 0, NULL, &fcases[i][0]);
        lrpx_test_model_init_f32(tm, "b", 0, NULL, &fcases[i][1]);
        lrpx_test_model_init_f32(tm, "d", 0, NULL, &fcases[i][2]);
        lrpx_test_model_node(tm, "Range", "r", LT_IO("a", "b", "d"), LT_IO("y"), NULL);
        lrpx_test_model_output(tm, "y");
        const_output(tm, &y, &m, &s);
        double  n    = ceil(((double)fcases[i][1] - fcases[i][0]) / fcases[i][2]);
        int64_t want = n > 0 ? (int64_t)n : 0;
        check_dims(&y, 1, &want);
        for (int64_t k = 0; k < want; k++)
            ck_assert_float_eq_tol(((const float *)y.data)[k],
                                   fcases[i][0] + (double)k * fcases[i][2], 1e-6);
        lrpx_session_free(s);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
    /* int32, negative delta, and extremes that overflow naive arithmetic */
    const int64_t icases[][3] = {{10, 1, -3}, {-5, 5, 4}, {INT64_MIN, INT64_MAX, INT64_MAX},
                                 {INT64_MAX, INT64_MIN, INT64_MIN}};
    for (size_t i = 0; i < sizeof icases / sizeof *icases; i++) {
        bool             i32 = i < 2;
        lrpx_test_model *tm  = lrpx_test_model_new(11);
        const char      *nm[3] = {"a", "b", "d"};
        for (int k = 0; k < 3; k++) {
            if (i32) {
                int32_t v = (int32_t)icases[i][k];
                lrpx_test_model_init(tm, nm[k], LRPX_DTYPE_INT32, 0, NULL, &v);
            } else {
                lrpx_test_model_init_i64(tm, nm[k], 0, NULL, &icases[i][k]);
            }
        }
        lrpx_test_model_node(tm, "Range", "r", LT_IO("a", "b", "d"), LT_IO("y"), NULL);
        lrpx_test_model_output(tm, "y");
        const_output(tm, &y, &m, &s);
        /* reference: step until past the limit (or past int64) */
        int64_t v = icases[i][0];
        int64_t k = 0;
        while (icases[i][2] > 0 ? v < icases[i][1] : v > icases[i][1]) {
            ck_assert_int_lt(k, y.n_elems);
            int64_t got = i32 ? ((const int32_t *)y.data)[k] : ((const int64_t *)y.data)[k];
            ck_assert_int_eq(got, v);
            k++;
            if (__builtin_add_overflow(v, icases[i][2], &v))
                break;
        }
        ck_assert_int_eq(y.n_elems, k);
        lrpx_session_free(s);
        lrpx_model_free(m);
        lrpx_test_model_free(tm);
    }
    /* delta 0, and a range too long to hold */
    const float zero[3] = {0.0f, 1.0f, 0.0f}, huge[3] = {0.0f, 1e30f, 1e-30f};
    const float *bad[2] = {zero, huge};
    const lrpx_status err[2] = {LRPX_EINVAL, LRPX_ELIMIT};
    for (int i = 0; i < 2; i++) {
        lrpx_test_model *tm = lrpx_test_model_new(11);
        lrpx_test_model_init_f32(tm, "a", 0, NULL, &bad[i][0]);
        lrpx_test_model_init_f32(tm, "b", 0, NULL, &bad[i][1]);
        lrpx_test_model_init_f32(tm, "d", 0, NULL, &bad[i][2]);
        lrpx_test_model_node(tm, "Range", "r", LT_IO("a", "b", "d"), LT_IO("y"), NULL);
        lrpx_test_model_output(tm, "y");
        expect_error(tm, NULL, 0, err[i], "r", "Range", i ? "too many" : "non-zero");
        lrpx_test_model_free(tm);
    }
}
END_TEST

START_TEST(test_non_zero)
{
    /* numpy: np.array(np.nonzero([[0, 1.5, 0], [-2, 0, 3]])) */
    const float      v[6]    = {0, 1.5f, 0, -2, 0, 3};
    const int64_t    want[6] = {0, 1, 1, 1, 0, 2};
    lrpx_model      *m;
    lrpx_session    *s;
    lrpx_tensor_view y;
    lrpx_test_model *tm = lrpx_test_model_new(13);
    lrpx_test_model_init_f32(tm, "c", 2, (const int64_t[]){2, 3}, v);
    lrpx_test_model_node(tm, "NonZero", "nz", LT_IO("c"), LT_IO("y"), NULL);
    lrpx_test_model_output(tm, "y");
    const_output(tm, &y, &m, &s);
    check_dims(&y, 2, (const int64_t[]){2, 3});
    ck_assert_mem_eq(y.data, want, sizeof want);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);

    /* a fed input: the planner reads its data for the output shape, and
     * plans again when other data gives another count */
    tm = model_1(13, 2, (const int64_t[]){2, 3});
    lrpx_test_model_node(tm, "NonZero", "nz", LT_IO("x"), LT_IO("y"), NULL);
    ck_assert_int_eq(lrpx_test_model_load(tm, &m), LRPX_OK);
    ck_assert_int_eq(lrpx_session_init(m, &s), LRPX_OK);
    const float   x2[6]    = {0, 0, 0, 0, 0, 9};
    const float  *xs[2]    = {v, x2};
    const int64_t count[2] = {3, 1};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(lrpx_session_set_input(s, "x", LRPX_DTYPE_FLOAT32, 2,
                                                (const int64_t[]){2, 3}, xs[i]),
                         LRPX_OK);
        ck_assert_msg(lrpx_session_run(s) == LRPX_OK, "%s", lrpx_session_errmsg(s));
        ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
        check_dims(&y, 2, (const int64_t[]){2, count[i]});
    }
    ck_assert_int_eq(((const int64_t *)y.data)[0], 1);   /* x2: element [1, 2] */
    ck_assert_int_eq(((const int64_t *)y.data)[1], 2);
    lrpx_session_free(s);
    lrpx_model_free(m);
    lrpx_test_model_free(tm);
}
END_TEST

/* ---- suite ---- */

static Suite *
ops_shape_suite(void)
{
    Suite *s = suite_create("ops_shape");
    TCase *tc;

    tc = tcase_create("reshape");
    tcase_add_loop_test(tc, test_reshape_cases, 0,
                        (int)(sizeof reshape_cases / sizeof *reshape_cases));
    tcase_add_test(tc, test_reshape_attribute);
    tcase_add_test(tc, test_reshape_int64_folded);
    tcase_add_test(tc, test_flatten_axes);
    tcase_add_test(tc, test_squeeze_unsqueeze);
    suite_add_tcase(s, tc);

    tc = tcase_create("routing");
    tcase_add_test(tc, test_transpose);
    tcase_add_loop_test(tc, test_slice_cases, 0, (int)(sizeof slice_cases / sizeof *slice_cases));
    tcase_add_test(tc, test_slice_attributes);
    tcase_add_test(tc, test_slice_errors);
    tcase_add_test(tc, test_gather);
    tcase_add_test(tc, test_gather_out_of_range);
    tcase_add_test(tc, test_concat);
    tcase_add_test(tc, test_split);
    tcase_add_test(tc, test_pad);
    tcase_add_test(tc, test_expand_tile);
    tcase_add_test(tc, test_depth_space);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("resize");
    tcase_add_test(tc, test_resize_interp);
    tcase_add_test(tc, test_resize_nearest);
    tcase_add_test(tc, test_upsample);
    tcase_add_test(tc, test_resize_opset10);
    tcase_add_test(tc, test_resize_errors);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);

    tc = tcase_create("shapes");
    tcase_add_test(tc, test_shape_chain_folds);
    tcase_add_test(tc, test_shape_slice);
    tcase_add_test(tc, test_constant_ops);
    tcase_add_test(tc, test_range);
    tcase_add_test(tc, test_non_zero);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ops_shape_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
