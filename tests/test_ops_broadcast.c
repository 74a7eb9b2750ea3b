/* Suite "ops_broadcast": broadcasting of the element-wise ops
 * (src/ops/kernels/broadcast_impl.c and the op files it serves: Add Sub Mul Div Pow
 * Min Max Sum Mean, the comparisons, Not/And/Or, Where).
 *
 *   plan       the broadcast plan: merged dimensions for the fast paths
 *              (equal shapes, scalar, per channel), refusal of shapes that
 *              do not broadcast, zero-size outputs, the gradient reduction
 *   bcast      every binary op over shape pairs covering the plan's cases
 *              (equal shapes, rank-0 scalars, per-channel, both sides
 *              broadcast, mixed ranks, zero-size dims, rank 5 general
 *              strides) against a float64 reference that indexes the
 *              operands with its own numpy-broadcast arithmetic
 *
 * The ONNX backend tests of these ops run in test_conformance.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"
#include "ops/kernels/broadcast_impl.h"
#include "ops_elemwise_util.h"

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

/* ==== suite ==== */

static Suite *
ops_broadcast_suite(void)
{
    Suite *s  = suite_create("ops_broadcast");
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
    return s;
}

int
main(void)
{
    return lrpx_test_main(ops_broadcast_suite());
}
