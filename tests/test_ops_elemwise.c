/* Suite "ops_elemwise": the element-wise ops (src/ops/kernels/broadcast_impl.c and
 * the op files it serves: Add Sub Mul Div Pow Min Max Sum Mean, the
 * comparisons, Not/And/Or, Where, the activations, Clip, PRelu, Cast,
 * Dropout).
 *
 *   plan       the broadcast plan: merged dimensions for the fast paths
 *              (equal shapes, scalar, per channel), refusal of shapes that
 *              do not broadcast, zero-size outputs, the gradient reduction
 *   bcast      every binary op over shape pairs covering the plan's cases
 *              (equal shapes, rank-0 scalars, per-channel, both sides
 *              broadcast, mixed ranks, zero-size dims, rank 5 general
 *              strides) against a float64 reference that indexes the
 *              operands with its own numpy-broadcast arithmetic
 *   ints       int64/int32/uint8/int8/... arithmetic against C written
 *              here: truncating division, wrap-around, INT_MIN / -1,
 *              integer Pow; a PyTorch-style Shape → Mul → Add → Div →
 *              Equal → Where chain folded to constants
 *   unary      every unary op (float32 and float64, integer types where
 *              the spec has them) against float64 formulas written here
 *              from the ONNX definitions, including attributes and
 *              extreme inputs (Sigmoid/Softplus at +-100, NaN for Sign)
 *   attrs      Clip (attribute form < 11, omitted bounds, int types,
 *              min > max), Cast (string `to` at opset 1, truncation,
 *              saturation, NaN, wrap, bool), Dropout (mask types by
 *              opset, identity), legacy broadcast of opset < 7 (Add with
 *              axis, PRelu per channel)
 *   backward   the gradient pass (float32, random tensor seed s) against
 *              central finite differences of L = <s, y> computed on the
 *              same graph built in float64 (h = 1e-6 relative), for every
 *              float op, with broadcast operands
 *   relevance  Add/Sub/Sum/Mean proportional splits against float64
 *              references of the formula, conservation, the bias case;
 *              Mul gating (broadcast gate, Sigmoid gate in both operand
 *              orders, even split, constant factor); Div/Pow/Where/Max and
 *              activation pass-through. Run through the relevance driver
 *              with a fixed stabilizer on every node.
 *   errors     non-broadcastable shapes → LRPX_ESHAPE naming the node,
 *              mixed dtypes, unsupported types (float16, training mode),
 *              integer division by zero, bad Clip bounds, bad Cast `to`
 *
 * The ONNX backend tests of these ops run in test_conformance.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "core/rules.h"
#include "lrpx_test.h"
#include "ops/kernels/broadcast_impl.h"

/* ---- random numbers (xorshift64*, fixed seeds) ---- */

static uint64_t rng_state = 88172645463325252ull;

static void
rng_seed(uint64_t s)
{
    rng_state = s * 2685821657736338717ull + 1;
}

static double
rng_u(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static double
rng_range(double lo, double hi)
{
    return lo + (hi - lo) * rng_u();
}

/* ---- test tensors ---- */

#define TT_MAX_IN 4

struct tt {
    char       name[16];
    lrpx_dtype dt;
    int        rank;
    int64_t    dims[LRPX_MAX_RANK];
    int64_t    n;
    void      *data;       /* malloc, n elements of dt */
};

static int64_t
prod(const int64_t *d, int r)
{
    int64_t p = 1;
    for (int i = 0; i < r; i++)
        p *= d[i];
    return p;
}

static void
tt_init(struct tt *t, const char *name, lrpx_dtype dt, int rank, const int64_t *dims)
{
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dt   = dt;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->n    = prod(dims, rank);
    t->data = calloc((size_t)(t->n > 0 ? t->n : 1), lrpx_dtype_size(dt));
    ck_assert_ptr_nonnull(t->data);
}

static void
tt_free(struct tt *t)
{
    free(t->data);
    t->data = NULL;
}

static double
tt_get(const struct tt *t, int64_t i)
{
    struct lrpx_tensor v = {.dtype = t->dt, .data = t->data};
    return lrpx__tensor_get_f64(&v, i);
}

static void
tt_set(struct tt *t, int64_t i, double v)
{
    switch (t->dt) {
    case LRPX_DTYPE_FLOAT32: ((float *)t->data)[i] = (float)v; break;
    case LRPX_DTYPE_FLOAT64: ((double *)t->data)[i] = v; break;
    case LRPX_DTYPE_INT64:   ((int64_t *)t->data)[i] = (int64_t)v; break;
    case LRPX_DTYPE_INT32:   ((int32_t *)t->data)[i] = (int32_t)v; break;
    case LRPX_DTYPE_BOOL:    ((uint8_t *)t->data)[i] = v != 0.0; break;
    default:                 ck_abort_msg("tt_set: dtype %d", t->dt);
    }
}

/* uniform in [lo, hi]; with `mag`, magnitude in [lo, hi] and a random sign */
static void
tt_rand(struct tt *t, double lo, double hi, bool mag)
{
    for (int64_t i = 0; i < t->n; i++) {
        double v = rng_range(lo, hi);
        if (mag && rng_u() < 0.5)
            v = -v;
        tt_set(t, i, (double)(float)v);      /* representable in float32 */
    }
}

/* ---- models and sessions ---- */

static void
declare_inputs(lrpx_test_model *m, const struct tt *in, int n_in)
{
    for (int i = 0; i < n_in; i++)
        lrpx_test_model_input(m, in[i].name, in[i].dt, in[i].rank, in[i].dims);
}

/* Load, make a session, set the inputs and run. Returns the first failing
 * status (and its message in msg); on success *model and *s are set. The
 * caller frees both (NULL is fine). */
static lrpx_status
try_run(lrpx_test_model *m, const struct tt *in, int n_in, lrpx_model **model,
        lrpx_session **s, char *msg, size_t msg_size)
{
    *model = NULL;
    *s     = NULL;
    msg[0] = '\0';
    lrpx_status rc = lrpx_test_model_load(m, model);
    if (rc != LRPX_OK) {
        snprintf(msg, msg_size, "%s", *model ? lrpx_model_errmsg(*model) : "(no handle)");
        return rc;
    }
    if ((rc = lrpx_session_init(*model, s)) != LRPX_OK) {
        snprintf(msg, msg_size, "%s", *s ? lrpx_session_errmsg(*s) : "(no session)");
        return rc;
    }
    for (int i = 0; i < n_in; i++)
        if ((rc = lrpx_session_set_input(*s, in[i].name, in[i].dt, in[i].rank, in[i].dims,
                                         in[i].data)) != LRPX_OK) {
            snprintf(msg, msg_size, "%s", lrpx_session_errmsg(*s));
            return rc;
        }
    if ((rc = lrpx_session_run(*s)) != LRPX_OK)
        snprintf(msg, msg_size, "%s", lrpx_session_errmsg(*s));
    return rc;
}

static lrpx_session *
run_ok(lrpx_test_model *m, const struct tt *in, int n_in, lrpx_model **model)
{
    lrpx_session *s;
    char          msg[LRPX_ERRMSG_SIZE];
    lrpx_status   rc = try_run(m, in, n_in, model, &s, msg, sizeof msg);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", lrpx_status_name(rc), msg);
    return s;
}

/* Output 0 as doubles (malloc) after checking dtype and shape. */
static double *
output_f64(lrpx_session *s, int i, lrpx_dtype dt, int rank, const int64_t *dims)
{
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, i, &v), LRPX_OK);
    ck_assert_msg(v.dtype == dt, "output dtype %s, expected %s", lrpx_dtype_name(v.dtype),
                  lrpx_dtype_name(dt));
    ck_assert_int_eq(v.rank, rank);
    for (int k = 0; k < rank; k++)
        ck_assert_msg(v.dims[k] == dims[k], "output dim %d is %lld, expected %lld", k,
                      (long long)v.dims[k], (long long)dims[k]);
    double            *out = malloc((size_t)(v.n_elems > 0 ? v.n_elems : 1) * sizeof(double));
    struct lrpx_tensor t   = {.dtype = v.dtype, .data = (void *)v.data};
    ck_assert_ptr_nonnull(out);
    for (int64_t k = 0; k < v.n_elems; k++)
        out[k] = lrpx__tensor_get_f64(&t, k);
    return out;
}

/* ---- numpy broadcasting, written independently of the library ---- */

static bool
ref_bshape(int ra, const int64_t *da, int rb, const int64_t *db, int *r, int64_t *d)
{
    *r = ra > rb ? ra : rb;
    for (int k = 0; k < *r; k++) {
        int64_t x = k - (*r - ra) >= 0 ? da[k - (*r - ra)] : 1;
        int64_t y = k - (*r - rb) >= 0 ? db[k - (*r - rb)] : 1;
        if (x != y && x != 1 && y != 1)
            return false;
        d[k] = x == 1 ? y : x;
    }
    return true;
}

/* Flat offset in an operand of shape (r, d) of output element k. */
static int64_t
ref_bidx(int64_t k, int orank, const int64_t *odims, int r, const int64_t *d)
{
    int64_t off = 0, stride = 1;
    for (int ax = orank - 1; ax >= 0; ax--) {
        int64_t c  = k % odims[ax];
        k /= odims[ax];
        int     ia = ax - (orank - r);
        if (ia >= 0) {
            if (d[ia] != 1)
                off += c * stride;
            stride *= d[ia];
        }
    }
    return off;
}

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

/* ==== plan: the broadcast iteration plan itself ==== */

static int plan_rows;

static void
plan_count_row(void *ctx, int64_t n, int64_t out_off, const int64_t *off, const int *inner)
{
    (void)ctx, (void)n, (void)out_off, (void)off, (void)inner;
    plan_rows++;
}

/* The fast paths are merged dimensions: equal shapes become one row, a
 * scalar a row with stride 0, a per-channel operand N*C rows of H*W in
 * which it is constant; what does not broadcast is refused. */
START_TEST(test_plan_merging)
{
    struct lrpx_bcast it;
    const int64_t     o4[4] = {2, 3, 4, 5}, c4[4] = {1, 3, 1, 1}, s3[3] = {3, 1, 1};
    const int64_t    *dd[2];
    int               rk[2];

    /* equal shapes: one row of 120 */
    dd[0] = o4, dd[1] = o4, rk[0] = 4, rk[1] = 4;
    ck_assert(lrpx__bcast_init(&it, 4, o4, 2, rk, dd));
    ck_assert_int_eq(it.rank, 1);
    ck_assert_int_eq(it.dims[0], 120);
    ck_assert(it.strides[0][0] == 1 && it.strides[1][0] == 1);

    /* rank-0 scalar */
    dd[1] = NULL, rk[1] = 0;
    ck_assert(lrpx__bcast_init(&it, 4, o4, 2, rk, dd));
    ck_assert_int_eq(it.rank, 1);
    ck_assert(it.strides[0][0] == 1 && it.strides[1][0] == 0);

    /* per channel, 4-D and 3-D forms: dims {2, 3, 20} */
    for (int f = 0; f < 2; f++) {
        dd[1] = f ? s3 : c4, rk[1] = f ? 3 : 4;
        ck_assert(lrpx__bcast_init(&it, 4, o4, 2, rk, dd));
        ck_assert_int_eq(it.rank, 3);
        ck_assert(it.dims[0] == 2 && it.dims[1] == 3 && it.dims[2] == 20);
        ck_assert(it.strides[1][0] == 0 && it.strides[1][1] == 1 && it.strides[1][2] == 0);
        plan_rows = 0;
        lrpx__bcast_foreach(&it, plan_count_row, NULL);
        ck_assert_int_eq(plan_rows, 6);
    }

    /* not broadcastable: 4 against 3 */
    const int64_t bad[1] = {4};
    dd[1] = bad, rk[1] = 1;
    ck_assert(!lrpx__bcast_init(&it, 4, o4, 2, rk, dd));

    /* zero-size output: no rows at all */
    const int64_t z[2] = {0, 3}, one3[2] = {1, 3};
    dd[0] = z, dd[1] = one3, rk[0] = 2, rk[1] = 2;
    ck_assert(lrpx__bcast_init(&it, 2, z, 2, rk, dd));
    ck_assert_int_eq(it.n_elems, 0);
    plan_rows = 0;
    lrpx__bcast_foreach(&it, plan_count_row, NULL);
    ck_assert_int_eq(plan_rows, 0);
}
END_TEST

/* lrpx__bcast_reduce_add: the sum over the broadcast positions, scaled and
 * added, against the reference indexing. */
START_TEST(test_plan_reduce)
{
    const int64_t so[4] = {2, 3, 4, 5};
    static const struct {
        int     r;
        int64_t d[4];
    } dst[] = {{4, {2, 3, 4, 5}}, {3, {3, 1, 1}}, {0, {0}}, {4, {2, 1, 4, 1}}, {1, {5}}};
    rng_seed(42);
    float src[120];
    for (int k = 0; k < 120; k++)
        src[k] = (float)rng_range(-1, 1);
    for (size_t c = 0; c < sizeof dst / sizeof dst[0]; c++) {
        const int64_t nd = prod(dst[c].d, dst[c].r);
        float         got[120];
        double        ref[120];
        for (int64_t k = 0; k < nd; k++) {
            got[k] = 0.5f;                      /* added to, not assigned */
            ref[k] = 0.5;
        }
        for (int64_t k = 0; k < 120; k++)
            ref[ref_bidx(k, 4, so, dst[c].r, dst[c].d)] += -2.0 * src[k];
        ck_assert(lrpx__bcast_reduce_add(got, dst[c].r, dst[c].d, src, 4, so, -2.0f));
        for (int64_t k = 0; k < nd; k++)
            ck_assert_msg(fabs(got[k] - ref[k]) <= 1e-5 * (1 + fabs(ref[k])),
                          "case %zu [%lld]: %g vs %g", c, (long long)k, (double)got[k], ref[k]);
    }
    const int64_t bad[1] = {3};
    float         g[3]   = {0};
    ck_assert(!lrpx__bcast_reduce_add(g, 1, bad, src, 4, so, 1.0f));
}
END_TEST

/* ==== bcast: binary ops over broadcast shape pairs ==== */

struct shape_pair {
    int     ra;
    int64_t da[LRPX_MAX_RANK];
    int     rb;
    int64_t db[LRPX_MAX_RANK];
};

static const struct shape_pair bcast_pairs[] = {
    {3, {2, 3, 4}, 3, {2, 3, 4}},            /* equal shapes: one row        */
    {0, {0}, 2, {2, 3}},                     /* rank-0 scalar, left          */
    {2, {2, 3}, 0, {0}},                     /* rank-0 scalar, right         */
    {0, {0}, 0, {0}},                        /* scalar with scalar           */
    {1, {1}, 0, {0}},                        /* [1] with scalar              */
    {4, {2, 3, 4, 5}, 3, {3, 1, 1}},         /* per channel                  */
    {4, {2, 3, 4, 5}, 4, {1, 3, 1, 1}},      /* per channel, 4-D             */
    {4, {1, 3, 1, 1}, 4, {2, 3, 4, 5}},      /* per channel, left            */
    {3, {2, 1, 4}, 2, {3, 1}},               /* both sides broadcast         */
    {1, {5}, 3, {2, 3, 5}},                  /* mixed ranks                  */
    {3, {2, 3, 1}, 1, {4}},                  /* broadcast along the last dim */
    {4, {4, 1, 3, 1}, 3, {5, 1, 2}},         /* general strides              */
    {5, {3, 1, 2, 1, 2}, 5, {1, 4, 1, 3, 1}},/* rank 5 general               */
    {2, {0, 3}, 2, {1, 3}},                  /* zero-size dim vs 1           */
    {3, {2, 0, 4}, 1, {4}},                  /* zero-size dim, mixed ranks   */
    {2, {1, 1}, 1, {1}},                     /* all ones                     */
};

enum bop { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MAX, B_MIN, B_SUM, B_MEAN, B_EQ, B_LT, B_GT,
           B_LE, B_GE, B_AND, B_OR, B_PRELU, B_COUNT };

static const struct {
    const char *op;
    int         opset;
    bool        out_bool, in_bool;
} bops[B_COUNT] = {
    [B_ADD] = {"Add", 14, false, false},   [B_SUB] = {"Sub", 14, false, false},
    [B_MUL] = {"Mul", 14, false, false},   [B_DIV] = {"Div", 14, false, false},
    [B_POW] = {"Pow", 15, false, false},   [B_MAX] = {"Max", 13, false, false},
    [B_MIN] = {"Min", 13, false, false},   [B_SUM] = {"Sum", 13, false, false},
    [B_MEAN] = {"Mean", 13, false, false}, [B_EQ] = {"Equal", 13, true, false},
    [B_LT] = {"Less", 13, true, false},    [B_GT] = {"Greater", 13, true, false},
    [B_LE] = {"LessOrEqual", 16, true, false},
    [B_GE] = {"GreaterOrEqual", 16, true, false},
    [B_AND] = {"And", 7, true, true},      [B_OR] = {"Or", 7, true, true},
    [B_PRELU] = {"PRelu", 16, false, false},
};

static double
bop_ref(enum bop op, double a, double b)
{
    switch (op) {
    case B_ADD: case B_SUM: return a + b;
    case B_SUB:   return a - b;
    case B_MUL:   return a * b;
    case B_DIV:   return a / b;
    case B_POW:   return pow(a, b);
    case B_MAX:   return a > b ? a : b;
    case B_MIN:   return a < b ? a : b;
    case B_MEAN:  return (a + b) / 2.0;
    case B_EQ:    return a == b;
    case B_LT:    return a < b;
    case B_GT:    return a > b;
    case B_LE:    return a <= b;
    case B_GE:    return a >= b;
    case B_AND:   return a != 0.0 && b != 0.0;
    case B_OR:    return a != 0.0 || b != 0.0;
    case B_PRELU: return a < 0.0 ? b * a : a;
    default:      return NAN;
    }
}

START_TEST(test_bcast_binary)
{
    const struct shape_pair *p = &bcast_pairs[_i];
    int                      orank;
    int64_t                  odims[LRPX_MAX_RANK];
    ck_assert(ref_bshape(p->ra, p->da, p->rb, p->db, &orank, odims));
    const int64_t on = prod(odims, orank);
    rng_seed(100 + (uint64_t)_i);

    for (int op = 0; op < B_COUNT; op++) {
        /* PRelu broadcasts the slope one way only */
        if (op == B_PRELU && (orank != p->ra || prod(p->da, p->ra) != on))
            continue;
        struct tt in[2];
        lrpx_dtype dt = bops[op].in_bool ? LRPX_DTYPE_BOOL : LRPX_DTYPE_FLOAT32;
        tt_init(&in[0], "a", dt, p->ra, p->da);
        tt_init(&in[1], "b", dt, p->rb, p->db);
        if (bops[op].in_bool || bops[op].out_bool) {
            /* small integers, so that ties occur */
            for (int k = 0; k < 2; k++)
                for (int64_t j = 0; j < in[k].n; j++)
                    tt_set(&in[k], j, floor(rng_range(0.0, bops[op].in_bool ? 2.0 : 3.0)));
        } else if (op == B_DIV) {
            tt_rand(&in[0], -2.0, 2.0, false);
            tt_rand(&in[1], 0.5, 2.0, true);
        } else if (op == B_POW) {
            tt_rand(&in[0], 0.5, 2.0, false);
            tt_rand(&in[1], -2.0, 2.0, false);
        } else {
            tt_rand(&in[0], -2.0, 2.0, false);
            tt_rand(&in[1], -2.0, 2.0, false);
        }

        lrpx_test_model *m = lrpx_test_model_new(bops[op].opset);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, bops[op].op, "n0", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, in, 2, &model);
        double       *out = output_f64(s, 0, bops[op].out_bool ? LRPX_DTYPE_BOOL
                                                                : LRPX_DTYPE_FLOAT32,
                                       orank, odims);
        double *ref = malloc((size_t)(on > 0 ? on : 1) * sizeof(double));
        ck_assert_ptr_nonnull(ref);
        for (int64_t k = 0; k < on; k++) {
            double a = tt_get(&in[0], ref_bidx(k, orank, odims, p->ra, p->da));
            double b = tt_get(&in[1], ref_bidx(k, orank, odims, p->rb, p->db));
            ref[k]   = bop_ref(op, a, b);
        }
        char msg[512];
        ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, out, ref, on, odims, orank,
                                        1e-6, 1e-7, msg, sizeof msg),
                      "%s, pair %d: %s", bops[op].op, _i, msg);
        free(ref);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }
}
END_TEST

/* Where and the variadic ops over three broadcast operands. */
START_TEST(test_bcast_ternary)
{
    static const struct {
        int     r[3];
        int64_t d[3][LRPX_MAX_RANK];
    } cases[] = {
        {{3, 3, 3}, {{2, 3, 4}, {2, 3, 4}, {2, 3, 4}}},
        {{0, 3, 2}, {{0}, {2, 1, 4}, {3, 1}}},
        {{2, 0, 4}, {{3, 1}, {0}, {2, 1, 1, 4}}},
        {{4, 4, 1}, {{1, 3, 1, 1}, {2, 3, 2, 2}, {1}}},
        {{2, 2, 2}, {{0, 1}, {1, 3}, {1, 1}}},
    };
    static const char *const ops[] = {"Where", "Sum", "Mean", "Max", "Min"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int     orank, r01;
        int64_t odims[LRPX_MAX_RANK], d01[LRPX_MAX_RANK];
        ck_assert(ref_bshape(cases[c].r[0], cases[c].d[0], cases[c].r[1], cases[c].d[1], &r01,
                             d01));
        ck_assert(ref_bshape(r01, d01, cases[c].r[2], cases[c].d[2], &orank, odims));
        const int64_t on = prod(odims, orank);
        for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
            const bool where = o == 0;
            struct tt  in[3];
            rng_seed(200 + c * 7 + o);
            for (int k = 0; k < 3; k++) {
                char nm[4] = {(char)('a' + k), 0};
                tt_init(&in[k], nm, where && k == 0 ? LRPX_DTYPE_BOOL : LRPX_DTYPE_FLOAT32,
                        cases[c].r[k], cases[c].d[k]);
                if (where && k == 0)
                    for (int64_t j = 0; j < in[k].n; j++)
                        tt_set(&in[k], j, rng_u() < 0.5);
                else
                    tt_rand(&in[k], -2.0, 2.0, false);
            }
            lrpx_test_model *m = lrpx_test_model_new(13);
            declare_inputs(m, in, 3);
            lrpx_test_model_node(m, ops[o], "n0", LT_IO("a", "b", "c"), LT_IO("y"), NULL);
            lrpx_test_model_output(m, "y");
            lrpx_model   *model;
            lrpx_session *s   = run_ok(m, in, 3, &model);
            double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, orank, odims);
            double       *ref = malloc((size_t)(on > 0 ? on : 1) * sizeof(double));
            ck_assert_ptr_nonnull(ref);
            for (int64_t k = 0; k < on; k++) {
                double v[3];
                for (int q = 0; q < 3; q++)
                    v[q] = tt_get(&in[q], ref_bidx(k, orank, odims, cases[c].r[q],
                                                   cases[c].d[q]));
                switch (o) {
                case 0: ref[k] = v[0] != 0.0 ? v[1] : v[2]; break;
                case 1: ref[k] = v[0] + v[1] + v[2]; break;
                case 2: ref[k] = (v[0] + v[1] + v[2]) / 3.0; break;
                case 3: ref[k] = fmax(v[0], fmax(v[1], v[2])); break;
                default: ref[k] = fmin(v[0], fmin(v[1], v[2])); break;
                }
            }
            char msg[512];
            ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, out, ref, on, odims, orank,
                                            1e-6, 1e-6, msg, sizeof msg),
                          "%s, case %zu: %s", ops[o], c, msg);
            free(ref);
            free(out);
            lrpx_session_free(s);
            lrpx_model_free(model);
            lrpx_test_model_free(m);
            for (int k = 0; k < 3; k++)
                tt_free(&in[k]);
        }
    }
}
END_TEST

/* One input: Sum/Mean/Max/Min are copies; Where over rank-0 operands. */
START_TEST(test_variadic_one_input)
{
    static const char *const ops[] = {"Sum", "Mean", "Max", "Min"};
    for (size_t o = 0; o < 4; o++) {
        struct tt in;
        tt_init(&in, "a", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){2, 3});
        tt_rand(&in, -3.0, 3.0, false);
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, ops[o], "n0", LT_IO("a"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 2, in.dims);
        for (int k = 0; k < 6; k++)
            ck_assert_double_eq(out[k], tt_get(&in, k));
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in);
    }
}
END_TEST

static const char *const gnames_tie[3] = {"x0", "x1", "x2"};

/* Max/Min propagate NaN from either side, as numpy.maximum does. */
START_TEST(test_minmax_nan)
{
    static const char *const ops[] = {"Max", "Min"};
    for (int o = 0; o < 2; o++) {
        struct tt in[2];
        tt_init(&in[0], "a", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){3});
        tt_init(&in[1], "b", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){3});
        const float a[3] = {NAN, 1.0f, 2.0f}, b[3] = {1.0f, NAN, -2.0f};
        memcpy(in[0].data, a, sizeof a);
        memcpy(in[1].data, b, sizeof b);
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, ops[o], "n0", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, in, 2, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, in[0].dims);
        ck_assert(isnan(out[0]) && isnan(out[1]));
        ck_assert_double_eq(out[2], o == 0 ? 2.0 : -2.0);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }
}
END_TEST

/* Ties in Max/Min: the first input that attains the extremum takes the
 * whole gradient (the later ones get none), also with broadcasting. */
START_TEST(test_minmax_ties)
{
    const float   a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 3, 4, 9, 6}, c[3] = {4, 2, 6};
    static const char *const ops[] = {"Max", "Min"};
    for (int o = 0; o < 2; o++) {
        struct tt in[3] = {
            {.name = "x0", .dt = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = {2, 3}, .n = 6,
             .data = (void *)a},
            {.name = "x1", .dt = LRPX_DTYPE_FLOAT32, .rank = 2, .dims = {2, 3}, .n = 6,
             .data = (void *)b},
            {.name = "x2", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {3}, .n = 3,
             .data = (void *)c},
        };
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, in, 3);
        lrpx_test_model_node(m, ops[o], "n", LT_IO("x0", "x1", "x2"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s = run_ok(m, in, 3, &model);
        float         seed[6];
        for (int k = 0; k < 6; k++)
            seed[k] = (float)(k + 1);
        struct lrpx_lrp_options opt;
        lrpx_lrp_options_default(&opt);
        opt.seed         = LRPX_SEED_TENSOR;
        opt.seed_data    = seed;
        opt.seed_n_elems = 6;
        opt.skip_softmax = 0;
        ck_assert_int_eq(lrpx_session_gradient(s, &opt), LRPX_OK);
        /* reference: the first input (in order) equal to the extremum */
        double ref[3][6] = {{0}};
        for (int k = 0; k < 6; k++) {
            double v[3] = {a[k], b[k], c[k % 3]};
            double e    = v[0];
            for (int q = 1; q < 3; q++)
                e = o == 0 ? fmax(e, v[q]) : fmin(e, v[q]);
            for (int q = 0; q < 3; q++)
                if (v[q] == e) {
                    ref[q][q == 2 ? k % 3 : k] += seed[k];
                    break;
                }
        }
        for (int q = 0; q < 3; q++) {
            lrpx_tensor_view gv;
            ck_assert_int_eq(lrpx_session_gradient_of(s, gnames_tie[q], &gv), LRPX_OK);
            for (int k = 0; k < in[q].n; k++)
                ck_assert_msg(((const float *)gv.data)[k] == ref[q][k],
                              "%s: dL/d%s[%d] = %g, expected %g", ops[o], gnames_tie[q], k,
                              (double)((const float *)gv.data)[k], ref[q][k]);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* ==== ints: integer arithmetic ==== */

/* The reference is C: integer division truncates toward zero (the ONNX
 * reference and ONNX Runtime agree); overflow wraps (computed unsigned). */
static int64_t
ref_i64(const char *op, int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    if (!strcmp(op, "Add"))
        return (int64_t)(ua + ub);
    if (!strcmp(op, "Sub"))
        return (int64_t)(ua - ub);
    if (!strcmp(op, "Mul"))
        return (int64_t)(ua * ub);
    /* Div */
    if (a == INT64_MIN && b == -1)
        return INT64_MIN;
    return a / b;
}

START_TEST(test_int64_arith)
{
    static const int64_t av[] = {7, -7, 7, -7, 0, INT64_MAX, INT64_MIN, INT64_MIN, 123456789012345,
                                 -1, 3, 1LL << 40};
    static const int64_t bv[] = {2, 2, -2, -2, 5, 1, -1, 1, -1000, 3, 7, 1LL << 30};
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div"};
    const int64_t n = (int64_t)(sizeof av / sizeof av[0]);
    for (int o = 0; o < 4; o++) {
        for (int dt = 0; dt < 2; dt++) {             /* int64, then int32 */
            const lrpx_dtype d = dt ? LRPX_DTYPE_INT32 : LRPX_DTYPE_INT64;
            struct tt        in[2];
            tt_init(&in[0], "a", d, 1, &n);
            tt_init(&in[1], "b", d, 1, &n);
            for (int64_t k = 0; k < n; k++) {
                if (dt) {   /* int32 operands: the same values, wrapped to 32 bits */
                    ((int32_t *)in[0].data)[k] = (int32_t)(uint32_t)(uint64_t)av[k];
                    ((int32_t *)in[1].data)[k] = (int32_t)(uint32_t)(uint64_t)bv[k];
                    if (((int32_t *)in[1].data)[k] == 0)
                        ((int32_t *)in[1].data)[k] = 3;
                } else {
                    ((int64_t *)in[0].data)[k] = av[k];
                    ((int64_t *)in[1].data)[k] = bv[k];
                }
            }
            lrpx_test_model *m = lrpx_test_model_new(14);
            declare_inputs(m, in, 2);
            lrpx_test_model_node(m, ops[o], "n0", LT_IO("a", "b"), LT_IO("y"), NULL);
            lrpx_test_model_output(m, "y");
            lrpx_model      *model;
            lrpx_session    *s = run_ok(m, in, 2, &model);
            lrpx_tensor_view v;
            ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
            ck_assert_int_eq(v.dtype, d);
            for (int64_t k = 0; k < n; k++) {
                if (dt) {
                    int32_t a = ((int32_t *)in[0].data)[k], b = ((int32_t *)in[1].data)[k];
                    int32_t e;
                    if (!strcmp(ops[o], "Div"))
                        e = (a == INT32_MIN && b == -1) ? INT32_MIN : a / b;
                    else
                        e = (int32_t)(uint32_t)(uint64_t)ref_i64(ops[o], a, b);
                    ck_assert_msg(((const int32_t *)v.data)[k] == e,
                                  "int32 %s(%d, %d) = %d, expected %d", ops[o], a, b,
                                  ((const int32_t *)v.data)[k], e);
                } else {
                    int64_t e = ref_i64(ops[o], av[k], bv[k]);
                    ck_assert_msg(((const int64_t *)v.data)[k] == e,
                                  "int64 %s(%lld, %lld) = %lld, expected %lld", ops[o],
                                  (long long)av[k], (long long)bv[k],
                                  (long long)((const int64_t *)v.data)[k], (long long)e);
                }
            }
            lrpx_session_free(s);
            lrpx_model_free(model);
            lrpx_test_model_free(m);
            tt_free(&in[0]);
            tt_free(&in[1]);
        }
    }
}
END_TEST

/* Small integer types: wrap-around, unsigned division, Max/Min. */
START_TEST(test_small_int_types)
{
    /* uint8: 250 + 10 wraps to 4; 200 * 2 wraps to 144; 7 / 2 = 3 */
    static const struct {
        const char *op;
        lrpx_dtype  dt;
        int64_t     a[3], b[3], y[3];
    } cases[] = {
        {"Add", LRPX_DTYPE_UINT8, {250, 1, 0}, {10, 2, 255}, {4, 3, 255}},
        {"Mul", LRPX_DTYPE_UINT8, {200, 3, 16}, {2, 5, 16}, {144, 15, 0}},
        {"Div", LRPX_DTYPE_UINT8, {7, 255, 0}, {2, 16, 9}, {3, 15, 0}},
        {"Sub", LRPX_DTYPE_INT8, {-128, 100, 0}, {1, -100, 5}, {127, -56, -5}},
        {"Div", LRPX_DTYPE_INT8, {-128, -7, 9}, {-1, 2, -4}, {-128, -3, -2}},
        {"Mul", LRPX_DTYPE_INT16, {300, -300, 2}, {300, 300, -3}, {24464, -24464, -6}},
        {"Max", LRPX_DTYPE_INT8, {-5, 3, -128}, {-6, 3, 127}, {-5, 3, 127}},
        {"Min", LRPX_DTYPE_UINT16, {65535, 0, 9}, {1, 7, 9}, {1, 0, 9}},
        {"Max", LRPX_DTYPE_UINT32, {4000000000, 1, 2}, {3, 2, 1}, {4000000000, 2, 2}},
        {"Min", LRPX_DTYPE_INT32, {-2147483647 - 1, 5, 0}, {0, -5, 0}, {-2147483647 - 1, -5, 0}},
        {"Equal", LRPX_DTYPE_INT64, {1, 2, -3}, {1, 3, -3}, {1, 0, 1}},
        {"Less", LRPX_DTYPE_UINT8, {1, 200, 3}, {2, 100, 3}, {1, 0, 0}},
        {"GreaterOrEqual", LRPX_DTYPE_INT16, {1, -200, 3}, {2, -300, 3}, {0, 1, 1}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int64_t n3 = 3;
        const size_t  sz = lrpx_dtype_size(cases[c].dt);
        uint8_t       a[24], b[24];
        for (int k = 0; k < 3; k++) {       /* little-endian truncation of the value */
            uint64_t ua = (uint64_t)cases[c].a[k], ub = (uint64_t)cases[c].b[k];
            memcpy(a + k * sz, &ua, sz);
            memcpy(b + k * sz, &ub, sz);
        }
        lrpx_test_model *m = lrpx_test_model_new(14);
        lrpx_test_model_input(m, "a", cases[c].dt, 1, &n3);
        lrpx_test_model_init(m, "b", cases[c].dt, 1, &n3, b);
        lrpx_test_model_node(m, cases[c].op, "n0", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct tt in = {.dt = cases[c].dt, .rank = 1, .dims = {3}, .n = 3, .data = a};
        snprintf(in.name, sizeof in.name, "a");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 3; k++)
            ck_assert_msg(lrpx__tensor_get_i64(&t, k) == cases[c].y[k],
                          "%s %s element %d: %lld, expected %lld", cases[c].op,
                          lrpx_dtype_name(cases[c].dt), k, (long long)lrpx__tensor_get_i64(&t, k),
                          (long long)cases[c].y[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Pow with integer bases and every exponent type. */
START_TEST(test_pow_int)
{
    /* int64 ^ int64: exact, wraps; negative exponents truncate */
    static const int64_t base[] = {2, 3, -2, 1, -1, -1, 5, 0, 2, 7};
    static const int64_t expo[] = {62, 3, 5, -4, -3, -2, -1, 0, 64, 1};
    static const int64_t want[] = {1LL << 62, 27, -32, 1, -1, 1, 0, 1, 0, 7};
    const int64_t        n      = 10;
    lrpx_test_model     *m      = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "a", LRPX_DTYPE_INT64, 1, &n);
    lrpx_test_model_init_i64(m, "b", 1, &n, expo);
    lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt in = {.name = "a", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {10}, .n = 10,
                    .data = (void *)base};
    lrpx_model      *model;
    lrpx_session    *s = run_ok(m, &in, 1, &model);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    for (int k = 0; k < n; k++)
        ck_assert_msg(((const int64_t *)v.data)[k] == want[k], "%lld^%lld = %lld, expected %lld",
                      (long long)base[k], (long long)expo[k],
                      (long long)((const int64_t *)v.data)[k], (long long)want[k]);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* int32 ^ float32: the real power truncated toward zero */
    static const int32_t b32[] = {2, 9, -8, 10};
    static const float   e32[] = {0.5f, 0.5f, 1.0f / 3.0f, -1.0f};
    const int64_t        n4    = 4;
    m                          = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "a", LRPX_DTYPE_INT32, 1, &n4);
    lrpx_test_model_init_f32(m, "b", 1, &n4, e32);
    lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt in2 = {.name = "a", .dt = LRPX_DTYPE_INT32, .rank = 1, .dims = {4}, .n = 4,
                     .data = (void *)b32};
    s = run_ok(m, &in2, 1, &model);
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT32);
    for (int k = 0; k < 4; k++) {
        double  r = pow((double)b32[k], (double)e32[k]);
        int32_t e = isnan(r) ? 0 : (int32_t)trunc(r);
        ck_assert_msg(((const int32_t *)v.data)[k] == e, "%d^%g = %d, expected %d", b32[k],
                      (double)e32[k], ((const int32_t *)v.data)[k], e);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* float32 ^ 2.0f: the square, exactly x * x rounded once */
    {
        const float   xs[5] = {1.1f, -3.3f, 1e-20f, 3e19f, 0.7f}, two = 2.0f;
        const int64_t n5    = 5;
        m                   = lrpx_test_model_new(15);
        lrpx_test_model_input(m, "a", LRPX_DTYPE_FLOAT32, 1, &n5);
        lrpx_test_model_init_f32(m, "b", 0, NULL, &two);
        lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        struct tt ins = {.name = "a", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {5}, .n = 5,
                         .data = (void *)xs};
        s             = run_ok(m, &ins, 1, &model);
        double *sq    = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n5);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(sq[k], (double)(float)((double)xs[k] * xs[k]));
        free(sq);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* float32 ^ int64 exponent (PyTorch's x ** 2 with an integer constant) */
    static const float   xf[] = {1.5f, -2.0f, 0.25f};
    static const int64_t ei[] = {2, 3, -1};
    const int64_t        n3   = 3;
    m                         = lrpx_test_model_new(15);
    lrpx_test_model_input(m, "a", LRPX_DTYPE_FLOAT32, 1, &n3);
    lrpx_test_model_init_i64(m, "b", 1, &n3, ei);
    lrpx_test_model_node(m, "Pow", "p", LT_IO("a", "b"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt in3 = {.name = "a", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {3}, .n = 3,
                     .data = (void *)xf};
    s = run_ok(m, &in3, 1, &model);
    double *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n3);
    for (int k = 0; k < 3; k++)
        ck_assert_double_eq_tol(out[k], pow(xf[k], (double)ei[k]), 1e-6);
    free(out);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* A PyTorch-style shape chain on int64, folded to constants while
 * planning: Shape(x) → Mul 2 → Add 1 → Div 2 → Equal → Where. */
START_TEST(test_int64_shape_chain)
{
    const int64_t    d4[4] = {2, 3, 5, 7}, one = 1, four = 4;
    const int64_t    two[1] = {2}, onev[1] = {1}, cmp[4] = {2, 3, 6, 7};
    const int64_t    alt[4] = {-1, -2, -3, -4};
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 4, d4);
    lrpx_test_model_init_i64(m, "two", 1, &one, two);
    lrpx_test_model_init_i64(m, "one", 0, NULL, onev);
    lrpx_test_model_init_i64(m, "cmp", 1, &four, cmp);
    lrpx_test_model_init_i64(m, "alt", 1, &four, alt);
    lrpx_test_model_node(m, "Shape", "shape", LT_IO("x"), LT_IO("s"), NULL);
    lrpx_test_model_node(m, "Mul", "mul", LT_IO("s", "two"), LT_IO("s2"), NULL);
    lrpx_test_model_node(m, "Add", "add", LT_IO("s2", "one"), LT_IO("s3"), NULL);
    lrpx_test_model_node(m, "Div", "div", LT_IO("s3", "two"), LT_IO("s4"), NULL);
    lrpx_test_model_node(m, "Equal", "eq", LT_IO("s4", "cmp"), LT_IO("e"), NULL);
    lrpx_test_model_node(m, "Where", "where", LT_IO("e", "s4", "alt"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt x;
    tt_init(&x, "x", LRPX_DTYPE_FLOAT32, 4, d4);
    lrpx_model      *model;
    lrpx_session    *s = run_ok(m, &x, 1, &model);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT64);
    ck_assert_int_eq(v.n_elems, 4);
    for (int k = 0; k < 4; k++) {
        int64_t s4 = (d4[k] * 2 + 1) / 2;
        int64_t e  = s4 == cmp[k] ? s4 : alt[k];
        ck_assert_int_eq(((const int64_t *)v.data)[k], e);
    }
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    tt_free(&x);
}
END_TEST

/* ==== unary: float formulas from the ONNX definitions ==== */

static double
ref_sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static const struct unary_case {
    const char *op;
    int         opset;
    const char *a1;        /* float attributes, NULL for the default */
    float       v1;
    const char *a2;
    float       v2;
    int         domain;    /* 0 all reals, 1 x >= 0 */
    bool        no_f64;    /* float32 only */
} unary_cases[] = {
    {"Relu", 14, NULL, 0, NULL, 0, 0, true},
    {"LeakyRelu", 16, NULL, 0, NULL, 0, 0, false},
    {"LeakyRelu", 16, "alpha", 0.3f, NULL, 0, 0, false},
    {"Sigmoid", 13, NULL, 0, NULL, 0, 0, false},
    {"Tanh", 13, NULL, 0, NULL, 0, 0, false},
    {"Elu", 6, NULL, 0, NULL, 0, 0, false},
    {"Elu", 6, "alpha", 0.5f, NULL, 0, 0, false},
    {"Selu", 6, NULL, 0, NULL, 0, 0, false},
    {"Selu", 6, "alpha", 2.0f, "gamma", 3.0f, 0, false},
    {"HardSigmoid", 6, NULL, 0, NULL, 0, 0, false},
    {"HardSigmoid", 6, "alpha", 0.5f, "beta", 0.6f, 0, false},
    {"HardSwish", 14, NULL, 0, NULL, 0, 0, false},
    {"Softplus", 1, NULL, 0, NULL, 0, 0, false},
    {"Erf", 13, NULL, 0, NULL, 0, 0, false},
    {"Exp", 13, NULL, 0, NULL, 0, 0, false},
    {"Log", 13, NULL, 0, NULL, 0, 1, false},
    {"Sqrt", 13, NULL, 0, NULL, 0, 1, false},
    {"Neg", 13, NULL, 0, NULL, 0, 0, false},
    {"Abs", 13, NULL, 0, NULL, 0, 0, false},
    {"Reciprocal", 13, NULL, 0, NULL, 0, 0, false},
    {"Floor", 13, NULL, 0, NULL, 0, 0, false},
    {"Ceil", 13, NULL, 0, NULL, 0, 0, false},
    {"Sign", 13, NULL, 0, NULL, 0, 0, false},
    {"Identity", 16, NULL, 0, NULL, 0, 0, false},
    {"Dropout", 13, NULL, 0, NULL, 0, 0, false},
};

static double
unary_ref(const struct unary_case *c, double x)
{
    const char *op = c->op;
    /* attribute values as the file stores them: float32 */
    double a1 = c->a1 ? (double)c->v1 : NAN, a2 = c->a2 ? (double)c->v2 : NAN;
    if (!strcmp(op, "Relu"))
        return x > 0.0 ? x : 0.0;
    if (!strcmp(op, "LeakyRelu")) {
        double alpha = c->a1 ? a1 : (double)0.01f;
        return x >= 0.0 ? x : alpha * x;
    }
    if (!strcmp(op, "Sigmoid"))
        return ref_sigmoid(x);
    if (!strcmp(op, "Tanh"))
        return tanh(x);
    if (!strcmp(op, "Elu")) {
        double alpha = c->a1 ? a1 : 1.0;
        return x > 0.0 ? x : alpha * (exp(x) - 1.0);
    }
    if (!strcmp(op, "Selu")) {
        double alpha = c->a1 ? a1 : (double)1.67326319217681884765625f;
        double gamma = c->a2 ? a2 : (double)1.05070102214813232421875f;
        return x > 0.0 ? gamma * x : gamma * (alpha * exp(x) - alpha);
    }
    if (!strcmp(op, "HardSigmoid")) {
        double alpha = c->a1 ? a1 : (double)0.2f, beta = c->a2 ? a2 : (double)0.5f;
        return fmax(0.0, fmin(1.0, alpha * x + beta));
    }
    if (!strcmp(op, "HardSwish"))
        return x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5));
    if (!strcmp(op, "Softplus"))
        return log1p(exp(x));
    if (!strcmp(op, "Erf"))
        return erf(x);
    if (!strcmp(op, "Exp"))
        return exp(x);
    if (!strcmp(op, "Log"))
        return log(x);
    if (!strcmp(op, "Sqrt"))
        return sqrt(x);
    if (!strcmp(op, "Neg"))
        return -x;
    if (!strcmp(op, "Abs"))
        return fabs(x);
    if (!strcmp(op, "Reciprocal"))
        return 1.0 / x;
    if (!strcmp(op, "Floor"))
        return floor(x);
    if (!strcmp(op, "Ceil"))
        return ceil(x);
    if (!strcmp(op, "Sign"))
        return isnan(x) ? x : x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0;
    return x;                               /* Identity, Dropout */
}

START_TEST(test_unary_float)
{
    const struct unary_case *c = &unary_cases[_i];
    static const double      fixed[] = {-100.0, -3.5, -3.0, -1.0, -0.5, -1e-3, 0.0, 1e-3,
                                        0.5, 1.0, 2.5, 3.0, 4.0, 100.0, 7.25};
    const int64_t            n_fixed = (int64_t)(sizeof fixed / sizeof fixed[0]);
    const int64_t            n       = n_fixed + 25;
    rng_seed(300 + (uint64_t)_i);
    for (int f64 = 0; f64 < 2; f64++) {
        if (f64 && c->no_f64)
            continue;
        struct tt in;
        tt_init(&in, "x", f64 ? LRPX_DTYPE_FLOAT64 : LRPX_DTYPE_FLOAT32, 1, &n);
        for (int64_t k = 0; k < n; k++) {
            double v = k < n_fixed ? fixed[k] : rng_range(-5.0, 5.0);
            if (c->domain == 1)
                v = fabs(v);
            tt_set(&in, k, (double)(float)v);
        }
        lrpx_test_model *m = lrpx_test_model_new(c->opset);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, c->op, "u", LT_IO("x"), LT_IO("y"),
                             c->a1 ? LT_FLOAT(c->a1, c->v1) : NULL,
                             c->a2 ? LT_FLOAT(c->a2, c->v2) : NULL, NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, in.dt, 1, &n);
        double       *ref = malloc((size_t)n * sizeof(double));
        ck_assert_ptr_nonnull(ref);
        for (int64_t k = 0; k < n; k++) {
            double r = unary_ref(c, tt_get(&in, k));
            ref[k]   = f64 ? r : (double)(float)r;   /* overflow to inf as float32 does */
        }
        char msg[512];
        ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, out, ref, n, NULL, 0,
                                        f64 ? 1e-12 : 1e-5, f64 ? 1e-14 : 1e-6, msg, sizeof msg),
                      "%s (%s): %s", c->op, lrpx_dtype_name(in.dt), msg);
        free(ref);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in);
    }
}
END_TEST

/* Sign of NaN is NaN; Sigmoid and Softplus stay finite at the extremes. */
START_TEST(test_unary_special)
{
    static const char *const ops[] = {"Sign", "Sigmoid", "Softplus", "Abs", "Neg"};
    const float              x[4]  = {NAN, -1000.0f, 1000.0f, -0.0f};
    const int64_t            n     = 4;
    for (int o = 0; o < 5; o++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {4}, .n = 4,
                        .data = (void *)x};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, ops[o], "u", LT_IO("x"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        ck_assert_msg(isnan(out[0]), "%s(NaN) = %g", ops[o], out[0]);
        switch (o) {
        case 0: ck_assert(out[1] == -1.0 && out[2] == 1.0 && out[3] == 0.0); break;
        case 1: ck_assert(out[1] == 0.0 && out[2] == 1.0 && out[3] == 0.5); break;
        case 2:
            ck_assert(out[1] == 0.0 && out[2] == 1000.0);
            ck_assert_double_eq_tol(out[3], log(2.0), 1e-7);
            break;
        case 3: ck_assert(out[1] == 1000.0 && out[2] == 1000.0 && out[3] == 0.0); break;
        default: ck_assert(out[1] == 1000.0 && out[2] == -1000.0 && out[3] == 0.0); break;
        }
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Neg, Abs, Sign on integer types: C semantics, the most negative value
 * wraps to itself. */
START_TEST(test_unary_int)
{
    static const struct {
        const char *op;
        lrpx_dtype  dt;
        int64_t     x[4], y[4];
    } cases[] = {
        {"Neg", LRPX_DTYPE_INT32, {-2147483647 - 1, -5, 0, 7}, {-2147483647 - 1, 5, 0, -7}},
        {"Neg", LRPX_DTYPE_INT64, {INT64_MIN, -5, 0, INT64_MAX}, {INT64_MIN, 5, 0, -INT64_MAX}},
        {"Neg", LRPX_DTYPE_INT8, {-128, -5, 0, 127}, {-128, 5, 0, -127}},
        {"Abs", LRPX_DTYPE_INT8, {-128, -5, 0, 7}, {-128, 5, 0, 7}},
        {"Abs", LRPX_DTYPE_INT64, {INT64_MIN + 1, -5, 0, 7}, {INT64_MAX, 5, 0, 7}},
        {"Abs", LRPX_DTYPE_UINT16, {0, 65535, 1, 2}, {0, 65535, 1, 2}},
        {"Sign", LRPX_DTYPE_INT64, {-9, 0, 9, INT64_MIN}, {-1, 0, 1, -1}},
        {"Sign", LRPX_DTYPE_UINT8, {0, 5, 255, 1}, {0, 1, 1, 1}},
        {"Sign", LRPX_DTYPE_INT16, {-300, 0, 300, -1}, {-1, 0, 1, -1}},
    };
    const int64_t n = 4;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const size_t sz = lrpx_dtype_size(cases[c].dt);
        uint8_t      buf[32];
        for (int k = 0; k < 4; k++) {
            uint64_t u = (uint64_t)cases[c].x[k];
            memcpy(buf + k * sz, &u, sz);
        }
        struct tt in = {.name = "x", .dt = cases[c].dt, .rank = 1, .dims = {4}, .n = 4,
                        .data = buf};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, cases[c].op, "u", LT_IO("x"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, cases[c].dt);
        ck_assert_int_eq(v.n_elems, n);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 4; k++)
            ck_assert_msg(lrpx__tensor_get_i64(&t, k) == cases[c].y[k],
                          "%s %s [%d]: %lld, expected %lld", cases[c].op,
                          lrpx_dtype_name(cases[c].dt), k, (long long)lrpx__tensor_get_i64(&t, k),
                          (long long)cases[c].y[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* ==== attrs: Clip, Cast, Dropout, legacy broadcasting ==== */

static double
ref_clip(double x, double lo, double hi)
{
    double t = x < lo ? lo : x;
    return t > hi ? hi : t;
}

START_TEST(test_clip_forms)
{
    const float   x[6] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f, NAN};
    const int64_t n    = 6;
    struct tt     in   = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {6}, .n = 6,
                          .data = (void *)x};
    /* opset 6: attributes; opset 13: inputs, with either omitted; min > max */
    static const struct {
        int         opset;
        bool        attr_lo, attr_hi;      /* opset 6: attribute given */
        const char *lo_name, *hi_name;     /* opset 13: input names ("" omitted) */
        float       lo, hi;
    } cases[] = {
        {6, true, true, NULL, NULL, -1.0f, 1.0f},
        {6, false, true, NULL, NULL, 0, 0.1f},
        {6, true, false, NULL, NULL, 0.1f, 0},
        {6, false, false, NULL, NULL, 0, 0},
        {13, false, false, "lo", "hi", -1.0f, 1.0f},
        {13, false, false, "", "hi", 0, 0.1f},
        {13, false, false, "lo", "", 0.1f, 0},
        {13, false, false, "", "", 0, 0},
        {13, false, false, "lo", "hi", 1.0f, -1.0f},     /* min > max: all max */
        {11, false, false, "lo", NULL, -0.25f, 0},         /* trailing max left out */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        lrpx_test_model *m = lrpx_test_model_new(cases[c].opset);
        declare_inputs(m, &in, 1);
        double lo = -INFINITY, hi = INFINITY;
        if (cases[c].opset < 11) {
            if (cases[c].attr_lo)
                lo = cases[c].lo;
            if (cases[c].attr_hi)
                hi = cases[c].hi;
            if (cases[c].attr_lo && cases[c].attr_hi)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"),
                                     LT_FLOAT("min", cases[c].lo), LT_FLOAT("max", cases[c].hi),
                                     NULL);
            else if (cases[c].attr_lo)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"),
                                     LT_FLOAT("min", cases[c].lo), NULL);
            else if (cases[c].attr_hi)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"),
                                     LT_FLOAT("max", cases[c].hi), NULL);
            else
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x"), LT_IO("y"), NULL);
        } else {
            if (cases[c].lo_name[0]) {
                lrpx_test_model_init_f32(m, "lo", 0, NULL, &cases[c].lo);
                lo = cases[c].lo;
            }
            if (cases[c].hi_name && cases[c].hi_name[0]) {
                lrpx_test_model_init_f32(m, "hi", 0, NULL, &cases[c].hi);
                hi = cases[c].hi;
            }
            if (cases[c].hi_name)
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x", cases[c].lo_name,
                                                         cases[c].hi_name), LT_IO("y"), NULL);
            else
                lrpx_test_model_node(m, "Clip", "c", LT_IO("x", cases[c].lo_name), LT_IO("y"),
                                     NULL);
        }
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        double        ref[6];
        for (int k = 0; k < 6; k++)
            ref[k] = ref_clip(x[k], lo, hi);
        char msg[512];
        ck_assert_msg(lrpx_test_compare(LRPX_DTYPE_FLOAT64, out, ref, n, NULL, 0, 0, 0, msg,
                                        sizeof msg),
                      "case %zu: %s", c, msg);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Clip on int64 and uint8 (opset 12+), bounds from inputs computed at run
 * time (not constants). */
START_TEST(test_clip_int)
{
    const int64_t x[5] = {INT64_MIN, -7, 0, 7, INT64_MAX}, lo = -5, hi = 6, n = 5;
    struct tt     in[3] = {
        {.name = "x", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {5}, .n = 5, .data = (void *)x},
        {.name = "lo", .dt = LRPX_DTYPE_INT64, .rank = 0, .n = 1, .data = (void *)&lo},
        {.name = "hi", .dt = LRPX_DTYPE_INT64, .rank = 0, .n = 1, .data = (void *)&hi},
    };
    lrpx_test_model *m = lrpx_test_model_new(13);
    declare_inputs(m, in, 3);
    lrpx_test_model_node(m, "Clip", "c", LT_IO("x", "lo", "hi"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model      *model;
    lrpx_session    *s = run_ok(m, in, 3, &model);
    lrpx_tensor_view v;
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    ck_assert_int_eq(v.dtype, LRPX_DTYPE_INT64);
    for (int k = 0; k < n; k++)
        ck_assert_int_eq(((const int64_t *)v.data)[k], x[k] < lo ? lo : x[k] > hi ? hi : x[k]);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);

    /* uint8 with only max: no lower bound below 0 */
    const uint8_t xu[4] = {0, 9, 200, 255}, hu = 100;
    const int64_t n4    = 4;
    m                   = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_UINT8, 1, &n4);
    lrpx_test_model_init(m, "hi", LRPX_DTYPE_UINT8, 0, NULL, &hu);
    lrpx_test_model_node(m, "Clip", "c", LT_IO("x", "", "hi"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    struct tt inu = {.name = "x", .dt = LRPX_DTYPE_UINT8, .rank = 1, .dims = {4}, .n = 4,
                     .data = (void *)xu};
    s = run_ok(m, &inu, 1, &model);
    ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
    for (int k = 0; k < 4; k++)
        ck_assert_int_eq(((const uint8_t *)v.data)[k], xu[k] > hu ? hu : xu[k]);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* Cast per the spec text: truncation toward zero; NaN → 0 and saturation
 * (lrpx's documented choice where C is undefined); integer wrap; bool. */
START_TEST(test_cast_values)
{
    const float   xf[8] = {2.9f, -2.9f, 0.0f, NAN, 1e20f, -1e20f, 255.5f, -0.5f};
    const int64_t n8    = 8;
    static const struct {
        lrpx_dtype to;
        double     y[8];
    } fcases[] = {
        {LRPX_DTYPE_INT32, {2, -2, 0, 0, 2147483647.0, -2147483648.0, 255, 0}},
        {LRPX_DTYPE_INT64, {2, -2, 0, 0, 9223372036854775807.0, -9223372036854775808.0, 255, 0}},
        {LRPX_DTYPE_UINT8, {2, 0, 0, 0, 255, 0, 255, 0}},
        {LRPX_DTYPE_INT8, {2, -2, 0, 0, 127, -128, 127, 0}},
        {LRPX_DTYPE_BOOL, {1, 1, 0, 1, 1, 1, 1, 1}},
        {LRPX_DTYPE_FLOAT64, {2.9f, -2.9f, 0.0, NAN, 1e20f, -1e20f, 255.5, -0.5}},
        {LRPX_DTYPE_FLOAT32, {2.9f, -2.9f, 0.0, NAN, 1e20f, -1e20f, 255.5, -0.5}},
    };
    for (size_t c = 0; c < sizeof fcases / sizeof fcases[0]; c++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {8}, .n = 8,
                        .data = (void *)xf};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                             LT_INT("to", fcases[c].to), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, fcases[c].to);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < n8; k++) {
            if (fcases[c].to == LRPX_DTYPE_INT64)
                ck_assert_msg(lrpx__tensor_get_i64(&t, k) ==
                                  (k == 4 ? INT64_MAX : k == 5 ? INT64_MIN
                                                               : (int64_t)fcases[c].y[k]),
                              "to int64 [%d]: %lld", k, (long long)lrpx__tensor_get_i64(&t, k));
            else if (isnan(fcases[c].y[k]))
                ck_assert(isnan(lrpx__tensor_get_f64(&t, k)));
            else
                ck_assert_msg(lrpx__tensor_get_f64(&t, k) == fcases[c].y[k],
                              "cast to %s [%d]: %.17g, expected %.17g",
                              lrpx_dtype_name(fcases[c].to), k, lrpx__tensor_get_f64(&t, k),
                              fcases[c].y[k]);
        }
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* integers: int64 → int32/uint8 wrap; int64 → float; bool → int64;
     * float64 → float32 rounds; uint64 → float64 */
    const int64_t xi[4] = {(1LL << 32) + 5, -1, 300, (1LL << 53) + 1};
    static const struct {
        lrpx_dtype to;
        double     y[4];
    } icases[] = {
        {LRPX_DTYPE_INT32, {5, -1, 300, 1}},
        {LRPX_DTYPE_UINT8, {5, 255, 44, 1}},
        {LRPX_DTYPE_UINT16, {5, 65535, 300, 1}},
        {LRPX_DTYPE_FLOAT32, {(float)((1LL << 32) + 5), -1, 300, (float)((1LL << 53) + 1)}},
        {LRPX_DTYPE_FLOAT64, {(double)((1LL << 32) + 5), -1, 300, (double)((1LL << 53) + 1)}},
        {LRPX_DTYPE_BOOL, {1, 1, 1, 1}},
    };
    const int64_t n4 = 4;
    for (size_t c = 0; c < sizeof icases / sizeof icases[0]; c++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {4}, .n = 4,
                        .data = (void *)xi};
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                             LT_INT("to", icases[c].to), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, icases[c].to);
        ck_assert_int_eq(v.n_elems, n4);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 4; k++)
            ck_assert_msg(lrpx__tensor_get_f64(&t, k) == icases[c].y[k],
                          "int64 → %s [%d]: %.17g, expected %.17g",
                          lrpx_dtype_name(icases[c].to), k, lrpx__tensor_get_f64(&t, k),
                          icases[c].y[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }

    /* bool → float32 and int64; opset 1 names the type as a string */
    const uint8_t xb[3] = {1, 0, 1};
    for (int form = 0; form < 2; form++) {
        struct tt in = {.name = "x", .dt = LRPX_DTYPE_BOOL, .rank = 1, .dims = {3}, .n = 3,
                        .data = (void *)xb};
        lrpx_test_model *m = lrpx_test_model_new(form ? 1 : 13);
        declare_inputs(m, &in, 1);
        if (form)
            lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                                 LT_STRING("to", "INT64"), NULL);
        else
            lrpx_test_model_node(m, "Cast", "c", LT_IO("x"), LT_IO("y"),
                                 LT_INT("to", LRPX_DTYPE_FLOAT32), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model      *model;
        lrpx_session    *s = run_ok(m, &in, 1, &model);
        lrpx_tensor_view v;
        ck_assert_int_eq(lrpx_session_output(s, 0, &v), LRPX_OK);
        ck_assert_int_eq(v.dtype, form ? LRPX_DTYPE_INT64 : LRPX_DTYPE_FLOAT32);
        struct lrpx_tensor t = {.dtype = v.dtype, .data = (void *)v.data};
        for (int k = 0; k < 3; k++)
            ck_assert_double_eq(lrpx__tensor_get_f64(&t, k), xb[k]);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Dropout: identity at inference; the mask is bool from opset 10 and has
 * the data type before; is_test = 0 of opset 6 still runs test mode;
 * training_mode = false is fine, and so is true with ratio 0. */
START_TEST(test_dropout_forms)
{
    const float   x[5] = {1.0f, -2.0f, 3.5f, 0.0f, 1e-3f};
    const int64_t n    = 5;
    struct tt     in   = {.name = "x", .dt = LRPX_DTYPE_FLOAT32, .rank = 1, .dims = {5}, .n = 5,
                          .data = (void *)x};
    static const int opsets[] = {6, 7, 10, 12, 13};
    for (int o = 0; o < 5; o++) {
        const int        opset = opsets[o];
        const uint8_t    f     = 0;
        const float      ratio = 0.7f;
        lrpx_test_model *m     = lrpx_test_model_new(opset);
        declare_inputs(m, &in, 1);
        if (opset >= 12) {
            lrpx_test_model_init(m, "tm", LRPX_DTYPE_BOOL, 0, NULL, &f);
            lrpx_test_model_init_f32(m, "r", 0, NULL, &ratio);
            lrpx_test_model_node(m, "Dropout", "d", LT_IO("x", "r", "tm"), LT_IO("y", "mask"),
                                 NULL);
        } else if (opset == 6)
            lrpx_test_model_node(m, "Dropout", "d", LT_IO("x"), LT_IO("y", "mask"),
                                 LT_INT("is_test", 0), LT_FLOAT("ratio", 0.9f), NULL);
        else
            lrpx_test_model_node(m, "Dropout", "d", LT_IO("x"), LT_IO("y", "mask"),
                                 LT_FLOAT("ratio", 0.9f), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_test_model_output(m, "mask");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], x[k]);
        free(out);
        out = output_f64(s, 1, opset >= 10 ? LRPX_DTYPE_BOOL : LRPX_DTYPE_FLOAT32, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], 1.0);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
    /* training mode with ratio 0 drops nothing: the identity as well */
    {
        const uint8_t    t    = 1;
        const float      zero = 0.0f;
        lrpx_test_model *m    = lrpx_test_model_new(13);
        declare_inputs(m, &in, 1);
        lrpx_test_model_init(m, "tm", LRPX_DTYPE_BOOL, 0, NULL, &t);
        lrpx_test_model_init_f32(m, "r", 0, NULL, &zero);
        lrpx_test_model_node(m, "Dropout", "d", LT_IO("x", "r", "tm"), LT_IO("y", "mask"), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_test_model_output(m, "mask");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, &in, 1, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], x[k]);
        free(out);
        out = output_f64(s, 1, LRPX_DTYPE_BOOL, 1, &n);
        for (int k = 0; k < 5; k++)
            ck_assert_double_eq(out[k], 1.0);
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
}
END_TEST

/* Opset < 7: Add with broadcast=1 puts B at `axis` (default: suffix);
 * PRelu lays a [C] slope along axis 1. */
START_TEST(test_legacy_broadcast)
{
    const int64_t da[4] = {2, 3, 4, 5};
    static const struct {
        int     rb;
        int64_t db[4];
        int     axis;       /* -1: attribute absent */
    } cases[] = {
        {2, {3, 4}, 1}, {2, {4, 5}, -1}, {1, {2}, 0}, {0, {0}, -1}, {2, {1, 1}, -1},
        {1, {5}, 3}, {2, {3, 1}, 1},
    };
    rng_seed(77);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct tt in[2];
        tt_init(&in[0], "a", LRPX_DTYPE_FLOAT32, 4, da);
        tt_init(&in[1], "b", LRPX_DTYPE_FLOAT32, cases[c].rb, cases[c].db);
        tt_rand(&in[0], -1, 1, false);
        tt_rand(&in[1], -1, 1, false);
        lrpx_test_model *m = lrpx_test_model_new(6);
        declare_inputs(m, in, 2);
        if (cases[c].axis >= 0)
            lrpx_test_model_node(m, "Add", "add", LT_IO("a", "b"), LT_IO("y"),
                                 LT_INT("broadcast", 1), LT_INT("axis", cases[c].axis), NULL);
        else
            lrpx_test_model_node(m, "Add", "add", LT_IO("a", "b"), LT_IO("y"),
                                 LT_INT("broadcast", 1), NULL);
        lrpx_test_model_output(m, "y");
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, in, 2, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 4, da);
        /* B padded with ones around its place in A */
        const int axis = cases[c].axis >= 0 ? cases[c].axis : 4 - cases[c].rb;
        int64_t   pd[4] = {1, 1, 1, 1};
        for (int k = 0; k < cases[c].rb; k++)
            pd[axis + k] = cases[c].db[k];
        for (int64_t k = 0; k < in[0].n; k++) {
            double e = tt_get(&in[0], k) + tt_get(&in[1], ref_bidx(k, 4, da, 4, pd));
            ck_assert_msg(fabs(out[k] - e) <= 1e-6, "case %zu [%lld]: %g vs %g", c,
                          (long long)k, out[k], e);
        }
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
        tt_free(&in[0]);
        tt_free(&in[1]);
    }

    /* PRelu at opset 6: x [2,3,4], slope [3] per channel */
    const int64_t dx[3] = {2, 3, 4}, ds = 3;
    const float   slope[3] = {0.1f, 0.2f, 0.3f};
    struct tt     x;
    tt_init(&x, "x", LRPX_DTYPE_FLOAT32, 3, dx);
    tt_rand(&x, -1, 1, false);
    lrpx_test_model *m = lrpx_test_model_new(6);
    declare_inputs(m, &x, 1);
    lrpx_test_model_init_f32(m, "s", 1, &ds, slope);
    lrpx_test_model_node(m, "PRelu", "p", LT_IO("x", "s"), LT_IO("y"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model   *model;
    lrpx_session *s   = run_ok(m, &x, 1, &model);
    double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 3, dx);
    for (int64_t k = 0; k < x.n; k++) {
        double v = tt_get(&x, k), e = v < 0 ? slope[(k / 4) % 3] * v : v;
        ck_assert_double_eq_tol(out[k], e, 1e-7);
    }
    free(out);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
    tt_free(&x);
}
END_TEST

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

/* trailing fields (mag, build, f32_only) default to zero */
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
    {"Mul x*x", NULL, 14, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_square},
    {"Mul gate", NULL, 14, 2, {4, 4}, {S(1, 3, 2, 2), S(1, 3, 1, 1)}, {-2, -2}, {2, 2},
     {false, false}, gb_gate},
    {"Div bcast", "Div", 14, 2, {3, 1}, {S(2, 3, 4), S(4)}, {-2, 0.5}, {2, 2}, {false, true}},
    {"Div scalar num", "Div", 14, 2, {0, 2}, {S(0), S(2, 3)}, {-2, 0.5}, {2, 2}, {false, true}},
    {"Pow bcast", "Pow", 15, 2, {2, 1}, {S(2, 3), S(3)}, {0.5, -2}, {2, 2}},
    {"Pow int exponent", NULL, 15, 1, {2}, {S(2, 3)}, {-2}, {2}, {false}, gb_pow_int_exp},
    {"Max 3 bcast", "Max", 13, 3, {2, 1, 3}, {S(3, 4), S(4), S(2, 1, 4)}, {-2, -2, -2},
     {2, 2, 2}},
    {"Min 2", "Min", 13, 2, {2, 2}, {S(3, 4), S(3, 1)}, {-2, -2}, {2, 2}},
    {"Sum 3 bcast", "Sum", 13, 3, {2, 1, 0}, {S(3, 4), S(4), S(0)}, {-2, -2, -2}, {2, 2, 2}},
    {"Mean 3 bcast", "Mean", 13, 3, {3, 2, 1}, {S(2, 3, 4), S(3, 1), S(4)}, {-2, -2, -2},
     {2, 2, 2}},
    {"Where", NULL, 16, 2, {2, 1}, {S(3, 4), S(4)}, {-2, -2}, {2, 2}, {false, false}, gb_where},
    {"PRelu", "PRelu", 16, 2, {4, 3}, {S(2, 3, 2, 2), S(3, 1, 1)}, {0.05, 0.1}, {2, 0.9},
     {true, false}},
    {"Clip inputs", "Clip", 13, 3, {2, 0, 0}, {S(3, 4), S(0), S(0)}, {-2, -0.8, 0.6},
     {2, -0.2, 1.2}},
    {"Clip consts", NULL, 13, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_clip_const},
    {"Clip opset 6", NULL, 6, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_clip6},
    {"Relu", "Relu", 14, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}, NULL, true},
    {"LeakyRelu", NULL, 16, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}, gb_leaky},
    {"Sigmoid", "Sigmoid", 13, 1, {2}, {S(3, 4)}, {-4}, {4}},
    {"Tanh", "Tanh", 13, 1, {2}, {S(3, 4)}, {-3}, {3}},
    {"Elu", NULL, 6, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}, gb_elu},
    {"Selu", "Selu", 6, 1, {2}, {S(3, 4)}, {0.05}, {2}, {true}},
    {"HardSigmoid", NULL, 6, 1, {2}, {S(3, 4)}, {-4}, {4}, {false}, gb_hsig},
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
    {"Cast", NULL, 13, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_cast},
    {"Dropout", NULL, 13, 1, {2}, {S(3, 4)}, {-2}, {2}, {false}, gb_dropout},
    {"Identity", "Identity", 16, 1, {2}, {S(3, 4)}, {-2}, {2}},
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

START_TEST(test_backward_fd)
{
    const struct gcase *c = &gcases[_i];
    rng_seed(400 + (uint64_t)_i);
    struct tt in32[TT_MAX_IN], in64[TT_MAX_IN];
    for (int i = 0; i < c->n_in; i++) {
        tt_init(&in32[i], gnames[i], LRPX_DTYPE_FLOAT32, c->rank[i], c->dims[i]);
        tt_init(&in64[i], gnames[i], LRPX_DTYPE_FLOAT64, c->rank[i], c->dims[i]);
        tt_rand(&in32[i], c->lo[i], c->hi[i], c->mag[i]);
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
            const double h    = f64 ? 1e-6 * fmax(1.0, fabs(orig)) : 1e-2;
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
            const double tol = f64 ? 1e-3 * fmax(fabs(fd), 0.01 * gmax) + 1e-6
                                   : 1e-3 * fmax(fabs(fd), 0.05 * gmax) + 1e-4;
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

/* ==== errors: malformed and unsupported ==== */

/* Build, load and run; expect status `want` with a message naming the node
 * (by name and op type) and containing `text`. */
static void
expect_error(lrpx_test_model *m, struct tt *in, int n_in, lrpx_status want,
             const char *node, const char *op, const char *text)
{
    lrpx_model   *model;
    lrpx_session *s;
    char          msg[LRPX_ERRMSG_SIZE];
    lrpx_status   rc = try_run(m, in, n_in, &model, &s, msg, sizeof msg);
    ck_assert_msg(rc == want, "%s: got %s (%s), expected %s", op, lrpx_status_name(rc), msg,
                  lrpx_status_name(want));
    char label[128];
    snprintf(label, sizeof label, "node '%s'", node);
    ck_assert_msg(strstr(msg, label) && strstr(msg, op), "message does not name %s (%s): %s",
                  label, op, msg);
    ck_assert_msg(strstr(msg, text), "message lacks \"%s\": %s", text, msg);
    lrpx_session_free(s);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}

START_TEST(test_errors_shapes)
{
    const int64_t d23[2] = {2, 3}, d4[1] = {4}, d32[2] = {3, 2}, d234[3] = {2, 3, 4};
    struct tt     in[3];
    tt_init(&in[0], "a", LRPX_DTYPE_FLOAT32, 2, d23);
    tt_init(&in[1], "b", LRPX_DTYPE_FLOAT32, 1, d4);
    tt_init(&in[2], "c", LRPX_DTYPE_FLOAT32, 2, d32);

    /* binary ops: [2,3] with [4] */
    static const char *const ops[] = {"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less",
                                      "Greater", "Max", "Min", "Sum", "Mean"};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, ops[o], "bad_node", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, in, 2, LRPX_ESHAPE, "bad_node", ops[o], "do not broadcast");
    }
    /* a third input that breaks an otherwise fine broadcast */
    {
        lrpx_test_model *m = lrpx_test_model_new(13);
        struct tt        w[3] = {in[0], in[0], in[2]};
        snprintf(w[1].name, sizeof w[1].name, "a2");
        declare_inputs(m, w, 3);
        lrpx_test_model_node(m, "Sum", "sum3", LT_IO("a", "a2", "c"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 3, LRPX_ESHAPE, "sum3", "Sum", "do not broadcast");
    }
    /* Where: condition [3,2] against [2,3] */
    {
        struct tt cond;
        tt_init(&cond, "cond", LRPX_DTYPE_BOOL, 2, d32);
        struct tt        w[3] = {cond, in[0], in[0]};
        lrpx_test_model *m = lrpx_test_model_new(16);
        lrpx_test_model_input(m, "cond", LRPX_DTYPE_BOOL, 2, d32);
        lrpx_test_model_input(m, "a", LRPX_DTYPE_FLOAT32, 2, d23);
        lrpx_test_model_node(m, "Where", "where1", LT_IO("cond", "a", "a"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 2, LRPX_ESHAPE, "where1", "Where", "do not broadcast");
        tt_free(&cond);
    }
    /* PRelu: slope [4] on x [2,3]; also a slope that would need x broadcast */
    {
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "PRelu", "prelu1", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, in, 2, LRPX_ESHAPE, "prelu1", "PRelu", "does not broadcast");
        struct tt big;
        tt_init(&big, "b", LRPX_DTYPE_FLOAT32, 3, d234);
        struct tt x2[2] = {in[0], big};
        x2[0].rank = 1;
        x2[0].dims[0] = 3;
        x2[0].n = 3;
        m = lrpx_test_model_new(16);
        declare_inputs(m, x2, 2);
        lrpx_test_model_node(m, "PRelu", "prelu2", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, x2, 2, LRPX_ESHAPE, "prelu2", "PRelu", "does not broadcast");
        tt_free(&big);
    }
    /* opset 6 limited broadcast: B [3] does not sit at the end of A [2,3,4] */
    {
        struct tt x2[2];
        tt_init(&x2[0], "a", LRPX_DTYPE_FLOAT32, 3, d234);
        tt_init(&x2[1], "b", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){3});
        lrpx_test_model *m = lrpx_test_model_new(6);
        declare_inputs(m, x2, 2);
        lrpx_test_model_node(m, "Add", "legacy", LT_IO("a", "b"), LT_IO("y"),
                             LT_INT("broadcast", 1), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, x2, 2, LRPX_ESHAPE, "legacy", "Add", "does not fit");
        tt_free(&x2[0]);
        tt_free(&x2[1]);
    }
    /* Clip bounds must be scalars */
    {
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "Clip", "clip1", LT_IO("a", "b"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, in, 2, LRPX_ESHAPE, "clip1", "Clip", "must be a scalar");
    }
    for (int i = 0; i < 3; i++)
        tt_free(&in[i]);
}
END_TEST

START_TEST(test_errors_types)
{
    const int64_t d[1] = {3};
    struct tt     f, i64, b, h;
    tt_init(&f, "f", LRPX_DTYPE_FLOAT32, 1, d);
    tt_init(&i64, "i", LRPX_DTYPE_INT64, 1, d);
    tt_init(&b, "b", LRPX_DTYPE_BOOL, 1, d);
    tt_init(&h, "h", LRPX_DTYPE_FLOAT32, 1, d);

    /* mixed dtypes in one op */
    static const char *const ops[] = {"Add", "Mul", "Equal", "Max", "Sum", "Div"};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        struct tt        w[2] = {f, i64};
        lrpx_test_model *m    = lrpx_test_model_new(14);
        declare_inputs(m, w, 2);
        lrpx_test_model_node(m, ops[o], "mixed", LT_IO("f", "i"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 2, LRPX_EINVAL, "mixed", ops[o], "has type int64");
    }
    /* types the op does not take */
    static const struct {
        const char *op;
        int         n_in;
        lrpx_dtype  dt;
        lrpx_status want;
        const char *text;
    } bad[] = {
        {"Sigmoid", 1, LRPX_DTYPE_INT64, LRPX_EUNSUPPORTED, "int64"},
        {"And", 2, LRPX_DTYPE_FLOAT32, LRPX_EUNSUPPORTED, "float32"},
        {"Not", 1, LRPX_DTYPE_INT64, LRPX_EUNSUPPORTED, "int64"},
        {"Sum", 2, LRPX_DTYPE_INT64, LRPX_EUNSUPPORTED, "int64"},
        {"Add", 2, LRPX_DTYPE_BOOL, LRPX_EUNSUPPORTED, "bool"},
        {"Neg", 1, LRPX_DTYPE_UINT8, LRPX_EUNSUPPORTED, "uint8"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct tt w[2];
        tt_init(&w[0], "p", bad[k].dt, 1, d);
        tt_init(&w[1], "q", bad[k].dt, 1, d);
        lrpx_test_model *m = lrpx_test_model_new(16);
        declare_inputs(m, w, bad[k].n_in);
        if (bad[k].n_in == 1)
            lrpx_test_model_node(m, bad[k].op, "typed", LT_IO("p"), LT_IO("y"), NULL);
        else
            lrpx_test_model_node(m, bad[k].op, "typed", LT_IO("p", "q"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, bad[k].n_in, bad[k].want, "typed", bad[k].op, bad[k].text);
        tt_free(&w[0]);
        tt_free(&w[1]);
    }
    /* float16: a cast to it, and an op fed with it */
    {
        lrpx_test_model *m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "f", LRPX_DTYPE_FLOAT32, 1, d);
        lrpx_test_model_node(m, "Cast", "tohalf", LT_IO("f"), LT_IO("y"),
                             LT_INT("to", LRPX_DTYPE_FLOAT16), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EUNSUPPORTED, "tohalf", "Cast", "FLOAT16");
        m = lrpx_test_model_new(13);
        lrpx_test_model_input(m, "half", LRPX_DTYPE_FLOAT16, 1, d);
        lrpx_test_model_node(m, "Max", "maxhalf", LT_IO("half", "half"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, NULL, 0, LRPX_EUNSUPPORTED, "maxhalf", "Max", "float16");
    }
    /* Cast: strings, unknown numbers, a missing `to` */
    static const struct {
        int64_t     to;
        lrpx_status want;
        const char *text;
    } casts[] = {
        {8, LRPX_EUNSUPPORTED, "STRING"},
        {16, LRPX_EUNSUPPORTED, "BFLOAT16"},
        {14, LRPX_EUNSUPPORTED, "COMPLEX64"},
        {99, LRPX_EPARSE, "not an ONNX data type"},
        {0, LRPX_EPARSE, "not an ONNX data type"},
        {-1, LRPX_EPARSE, "'to' is missing"},
    };
    for (size_t k = 0; k < sizeof casts / sizeof casts[0]; k++) {
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &f, 1);
        if (casts[k].to >= 0)
            lrpx_test_model_node(m, "Cast", "cast1", LT_IO("f"), LT_IO("y"),
                                 LT_INT("to", casts[k].to), NULL);
        else
            lrpx_test_model_node(m, "Cast", "cast1", LT_IO("f"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, casts[k].want, "cast1", "Cast", casts[k].text);
    }
    /* Where needs a bool condition; Clip bounds of another type */
    {
        struct tt        w[2] = {f, f};
        lrpx_test_model *m    = lrpx_test_model_new(16);
        declare_inputs(m, w, 1);
        lrpx_test_model_node(m, "Where", "w", LT_IO("f", "f", "f"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 1, LRPX_EUNSUPPORTED, "w", "Where", "float32");
        m = lrpx_test_model_new(13);
        declare_inputs(m, &f, 1);
        const int64_t lo = 0;
        lrpx_test_model_init_i64(m, "lo", 0, NULL, &lo);
        lrpx_test_model_node(m, "Clip", "clipt", LT_IO("f", "lo"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EINVAL, "clipt", "Clip", "int64");
    }
    /* Pow: mixed base/exponent types need opset 12 */
    {
        struct tt        w[2] = {f, i64};
        lrpx_test_model *m    = lrpx_test_model_new(11);
        declare_inputs(m, w, 2);
        lrpx_test_model_node(m, "Pow", "pow11", LT_IO("f", "i"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, w, 2, LRPX_EINVAL, "pow11", "Pow", "opset 12");
    }
    tt_free(&f);
    tt_free(&i64);
    tt_free(&b);
    tt_free(&h);
}
END_TEST

/* Dropout in training mode (a constant, or fed and read while planning);
 * an attribute-form Clip given inputs; integer division by zero at run
 * time and while folding constants. */
START_TEST(test_errors_runtime)
{
    const int64_t d[1] = {3};
    struct tt     f;
    tt_init(&f, "f", LRPX_DTYPE_FLOAT32, 1, d);
    {
        const uint8_t    t = 1;
        lrpx_test_model *m = lrpx_test_model_new(13);
        declare_inputs(m, &f, 1);
        lrpx_test_model_init(m, "tm", LRPX_DTYPE_BOOL, 0, NULL, &t);
        lrpx_test_model_node(m, "Dropout", "drop", LT_IO("f", "", "tm"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EUNSUPPORTED, "drop", "Dropout", "training_mode is true");
    }
    /* a fed training_mode is read while planning: false runs, true fails */
    for (int t = 0; t < 2; t++) {
        struct tt tm = {.name = "tm", .dt = LRPX_DTYPE_BOOL, .rank = 0, .n = 1,
                        .data = (uint8_t[]){(uint8_t)t}};
        struct tt        w[2] = {f, tm};
        lrpx_test_model *m    = lrpx_test_model_new(13);
        declare_inputs(m, w, 2);
        lrpx_test_model_node(m, "Dropout", "drop2", LT_IO("f", "", "tm"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        if (t) {
            expect_error(m, w, 2, LRPX_EUNSUPPORTED, "drop2", "Dropout", "training_mode is true");
            continue;
        }
        lrpx_model   *model;
        lrpx_session *s   = run_ok(m, w, 2, &model);
        double       *out = output_f64(s, 0, LRPX_DTYPE_FLOAT32, 1, d);
        for (int k = 0; k < 3; k++)
            ck_assert_double_eq(out[k], tt_get(&f, k));
        free(out);
        lrpx_session_free(s);
        lrpx_model_free(model);
        lrpx_test_model_free(m);
    }
    {
        const float      lo = 0.0f;
        lrpx_test_model *m  = lrpx_test_model_new(6);
        declare_inputs(m, &f, 1);
        lrpx_test_model_init_f32(m, "lo", 0, NULL, &lo);
        lrpx_test_model_node(m, "Clip", "clip6", LT_IO("f", "lo"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        expect_error(m, &f, 1, LRPX_EPARSE, "clip6", "Clip", "attributes before opset 11");
    }
    /* division by zero: fed (run time) and folded (planning) */
    const int64_t a[3] = {6, 7, 8}, z[3] = {2, 0, 1};
    for (int folded = 0; folded < 2; folded++) {
        struct tt in[2] = {
            {.name = "a", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {3}, .n = 3,
             .data = (void *)a},
            {.name = "z", .dt = LRPX_DTYPE_INT64, .rank = 1, .dims = {3}, .n = 3,
             .data = (void *)z},
        };
        lrpx_test_model *m = lrpx_test_model_new(14);
        if (folded) {
            declare_inputs(m, &f, 1);
            lrpx_test_model_init_i64(m, "a", 1, d, a);
            lrpx_test_model_init_i64(m, "z", 1, d, z);
            lrpx_test_model_node(m, "Identity", "id", LT_IO("f"), LT_IO("y2"), NULL);
            lrpx_test_model_output(m, "y2");
        } else
            declare_inputs(m, in, 2);
        lrpx_test_model_node(m, "Div", "divz", LT_IO("a", "z"), LT_IO("y"), NULL);
        lrpx_test_model_output(m, "y");
        if (folded)
            expect_error(m, &f, 1, LRPX_EINVAL, "divz", "Div", "division by zero");
        else
            expect_error(m, in, 2, LRPX_EINVAL, "divz", "Div", "division by zero");
    }
    tt_free(&f);
}
END_TEST

/* ==== suite ==== */

static Suite *
ops_elemwise_suite(void)
{
    Suite *s  = suite_create("ops_elemwise");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, test_plan_merging);
    tcase_add_test(tc, test_plan_reduce);
    suite_add_tcase(s, tc);

    tc = tcase_create("bcast");
    tcase_add_loop_test(tc, test_bcast_binary, 0,
                        (int)(sizeof bcast_pairs / sizeof bcast_pairs[0]));
    tcase_add_test(tc, test_bcast_ternary);
    tcase_add_test(tc, test_variadic_one_input);
    tcase_add_test(tc, test_minmax_nan);
    tcase_add_test(tc, test_minmax_ties);
    suite_add_tcase(s, tc);

    tc = tcase_create("ints");
    tcase_add_test(tc, test_int64_arith);
    tcase_add_test(tc, test_small_int_types);
    tcase_add_test(tc, test_pow_int);
    tcase_add_test(tc, test_int64_shape_chain);
    suite_add_tcase(s, tc);

    tc = tcase_create("unary");
    tcase_add_loop_test(tc, test_unary_float, 0,
                        (int)(sizeof unary_cases / sizeof unary_cases[0]));
    tcase_add_test(tc, test_unary_special);
    tcase_add_test(tc, test_unary_int);
    suite_add_tcase(s, tc);

    tc = tcase_create("attrs");
    tcase_add_test(tc, test_clip_forms);
    tcase_add_test(tc, test_clip_int);
    tcase_add_test(tc, test_cast_values);
    tcase_add_test(tc, test_dropout_forms);
    tcase_add_test(tc, test_legacy_broadcast);
    suite_add_tcase(s, tc);

    tc = tcase_create("backward");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_backward_fd, 0, (int)(sizeof gcases / sizeof gcases[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("relevance");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_relevance_add_sub);
    tcase_add_test(tc, test_relevance_sum_mean);
    tcase_add_test(tc, test_relevance_mul);
    tcase_add_test(tc, test_relevance_routing);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_errors_shapes);
    tcase_add_test(tc, test_errors_types);
    tcase_add_test(tc, test_errors_runtime);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    SRunner *sr = srunner_create(ops_elemwise_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
