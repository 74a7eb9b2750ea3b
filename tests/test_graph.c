/* Suite "graph": the graph layer (src/graph/graph.c) on models built in
 * memory.
 *
 *   order      a chain listed backwards in the file runs in its only
 *              topological order; random DAGs listed in shuffled order:
 *              the order holds exactly the nodes an output needs (found
 *              here by a search of our own), each after the producers of
 *              its inputs, and the output equals a float64 evaluation of
 *              the DAG done here
 *   dead       nodes no output needs are left out of the order and of
 *              lrpx_model_n_nodes(after_passes = 1), a dead cycle included
 *   cycles     a self-loop and a two-node cycle → LRPX_EPARSE naming a
 *              node on the cycle, also when a node downstream of the cycle
 *              comes first in the file
 *
 * Malformed graphs found by the loader (dangling inputs, two producers of
 * one value) are tested in test_onnx.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/session.h"
#include "lrpx_test.h"

/* position of node `name` in the model's order, -1 if absent */
static int
order_pos(const lrpx_model *model, const char *name)
{
    const struct lrpx_graph *g = &model->g;
    for (int k = 0; k < g->n_order; k++)
        if (strcmp(g->nodes[g->order[k]].name, name) == 0)
            return k;
    return -1;
}

static lrpx_model *
load_ok(lrpx_test_model *m)
{
    lrpx_model *model;
    lrpx_status rc = lrpx_test_model_load(m, &model);
    ck_assert_msg(rc == LRPX_OK, "load: %s: %s", lrpx_status_name(rc),
                  model ? lrpx_model_errmsg(model) : "out of memory");
    return model;
}

/* ---- order ---- */

/* n0 -> n1 -> ... -> n5, written to the file as n5, n4, ..., n0 */
START_TEST(test_reversed_chain)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "v0", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 3});
    for (int i = 5; i >= 0; i--) {
        char name[8], in[8], out[8];
        snprintf(name, sizeof name, "n%d", i);
        snprintf(in, sizeof in, "v%d", i);
        snprintf(out, sizeof out, "v%d", i + 1);
        lrpx_test_model_node(m, i % 2 ? "Neg" : "Sigmoid", name, LT_IO(in), LT_IO(out), NULL);
    }
    lrpx_test_model_output(m, "v6");
    lrpx_model *model = load_ok(m);
    ck_assert_int_eq(model->g.n_order, 6);
    ck_assert_int_eq(lrpx_model_n_nodes(model, 1), 6);
    for (int i = 0; i < 6; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        ck_assert_int_eq(order_pos(model, name), i);
        lrpx_node_info info;
        ck_assert_int_eq(lrpx_model_node_info(model, 1, i, &info), LRPX_OK);
        ck_assert_str_eq(info.name, name);
    }
    /* and it runs in that order (sigmoid and negation do not commute) */
    const float   x[3] = {-2.0f, 0.5f, 3.0f};
    float         want[3];
    for (int j = 0; j < 3; j++) {
        double v = x[j];
        for (int i = 0; i < 6; i++)
            v = i % 2 ? -v : 1.0 / (1.0 + exp(-v));
        want[j] = (float)v;
    }
    lrpx_session *s;
    lrpx_model   *model2;
    lrpx_test_run_f32(m, 2, (int64_t[]){1, 3}, x, &model2, &s);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, want, 3, 1e-6, 1e-7);
    lrpx_session_free(s);
    lrpx_model_free(model2);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* A random DAG of Add nodes over x and earlier results, written to the
 * file in a shuffled order. Node k is "a<k>" with output "t<k>"; the graph
 * output is the last node's. */
#define DAG_N 40

static uint64_t
xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

START_TEST(test_random_dag_order)
{
    uint64_t seed = 0x9E3779B97F4A7C15ull + (uint64_t)_i;
    int      lhs[DAG_N], rhs[DAG_N];    /* -1: x, else the node */
    int      file[DAG_N];               /* file position -> node */
    for (int k = 0; k < DAG_N; k++) {
        lhs[k]  = (int)(xorshift(&seed) % (uint64_t)(k + 1)) - 1;
        rhs[k]  = (int)(xorshift(&seed) % (uint64_t)(k + 1)) - 1;
        file[k] = k;
    }
    for (int k = DAG_N - 1; k > 0; k--) {
        int j   = (int)(xorshift(&seed) % (uint64_t)(k + 1));
        int t   = file[k];
        file[k] = file[j];
        file[j] = t;
    }
    /* needed: reverse search from the output node */
    bool needed[DAG_N] = {false};
    int  stack[DAG_N], sp = 0;
    needed[DAG_N - 1] = true;
    stack[sp++]       = DAG_N - 1;
    while (sp > 0) {
        int k         = stack[--sp];
        int ins[2]    = {lhs[k], rhs[k]};
        for (int i = 0; i < 2; i++)
            if (ins[i] >= 0 && !needed[ins[i]]) {
                needed[ins[i]] = true;
                stack[sp++]    = ins[i];
            }
    }
    int n_needed = 0;
    for (int k = 0; k < DAG_N; k++)
        n_needed += needed[k];

    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 2});
    for (int f = 0; f < DAG_N; f++) {
        int  k = file[f];
        char name[8], a[8], b[8], out[8];
        snprintf(name, sizeof name, "a%d", k);
        snprintf(a, sizeof a, lhs[k] < 0 ? "x" : "t%d", lhs[k]);
        snprintf(b, sizeof b, rhs[k] < 0 ? "x" : "t%d", rhs[k]);
        snprintf(out, sizeof out, "t%d", k);
        lrpx_test_model_node(m, "Add", name, LT_IO(a, b), LT_IO(out), NULL);
    }
    char out_name[8];
    snprintf(out_name, sizeof out_name, "t%d", DAG_N - 1);
    lrpx_test_model_output(m, out_name);

    lrpx_model *model = load_ok(m);
    ck_assert_int_eq(model->g.n_order, n_needed);
    int pos[DAG_N];
    for (int k = 0; k < DAG_N; k++) {
        char name[8];
        snprintf(name, sizeof name, "a%d", k);
        pos[k] = order_pos(model, name);
        ck_assert_msg((pos[k] >= 0) == needed[k], "node a%d: in order %d, needed %d", k,
                      pos[k] >= 0, needed[k]);
    }
    for (int k = 0; k < DAG_N; k++) {
        if (!needed[k])
            continue;
        ck_assert_msg(lhs[k] < 0 || pos[lhs[k]] < pos[k], "a%d before its input a%d", k, lhs[k]);
        ck_assert_msg(rhs[k] < 0 || pos[rhs[k]] < pos[k], "a%d before its input a%d", k, rhs[k]);
    }

    /* the value: every node adds its two inputs, so t = c * x with c an
     * integer count of paths; evaluated here in float64 */
    double c[DAG_N];
    for (int k = 0; k < DAG_N; k++)
        c[k] = (lhs[k] < 0 ? 1.0 : c[lhs[k]]) + (rhs[k] < 0 ? 1.0 : c[rhs[k]]);
    const float   x[2] = {0.75f, -1.5f};
    lrpx_session *s;
    lrpx_model   *model2;
    lrpx_test_run_f32(m, 2, (int64_t[]){1, 2}, x, &model2, &s);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    const float want[2] = {(float)(c[DAG_N - 1] * x[0]), (float)(c[DAG_N - 1] * x[1])};
    ck_assert_tensor_near((const float *)y.data, want, 2, 1e-6, 0.0);
    lrpx_session_free(s);
    lrpx_model_free(model2);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- dead nodes ---- */

START_TEST(test_dead_nodes)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 4});
    lrpx_test_model_node(m, "Sigmoid", "dead_a", LT_IO("x"), LT_IO("d1"), NULL);
    lrpx_test_model_node(m, "Relu", "live", LT_IO("x"), LT_IO("y"), NULL);
    lrpx_test_model_node(m, "Neg", "dead_b", LT_IO("d1"), LT_IO("d2"), NULL);
    /* a cycle that no output needs */
    lrpx_test_model_node(m, "Add", "dead_loop_a", LT_IO("y", "l2"), LT_IO("l1"), NULL);
    lrpx_test_model_node(m, "Neg", "dead_loop_b", LT_IO("l1"), LT_IO("l2"), NULL);
    lrpx_test_model_output(m, "y");
    lrpx_model *model = load_ok(m);
    ck_assert_int_eq(lrpx_model_n_nodes(model, 0), 5);
    ck_assert_int_eq(lrpx_model_n_nodes(model, 1), 1);
    lrpx_node_info info;
    ck_assert_int_eq(lrpx_model_node_info(model, 1, 0, &info), LRPX_OK);
    ck_assert_str_eq(info.name, "live");
    ck_assert_int_eq(lrpx_model_node_info(model, 1, 1, &info), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_model_node_info(model, 0, 4, &info), LRPX_OK);
    ck_assert_str_eq(info.name, "dead_loop_b");

    const float   x[4] = {-1.0f, 2.0f, -3.0f, 4.0f};
    const float   want[4] = {0.0f, 2.0f, 0.0f, 4.0f};
    lrpx_session *s;
    lrpx_model   *model2;
    lrpx_test_run_f32(m, 2, (int64_t[]){1, 4}, x, &model2, &s);
    lrpx_tensor_view y;
    ck_assert_int_eq(lrpx_session_output(s, 0, &y), LRPX_OK);
    ck_assert_tensor_near((const float *)y.data, want, 4, 0.0, 0.0);
    lrpx_session_free(s);
    lrpx_model_free(model2);
    lrpx_model_free(model);
    lrpx_test_model_free(m);
}
END_TEST

/* ---- cycles ---- */

static void
expect_cycle(lrpx_test_model *m, const char *const *on_cycle, int n_on)
{
    lrpx_model *model;
    lrpx_status rc  = lrpx_test_model_load(m, &model);
    const char *msg = model ? lrpx_model_errmsg(model) : "";
    ck_assert_msg(rc == LRPX_EPARSE, "status %s: %s", lrpx_status_name(rc), msg);
    ck_assert_msg(strstr(msg, "cycle") != NULL, "message: %s", msg);
    bool named = false;
    for (int i = 0; i < n_on; i++) {
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%s'", on_cycle[i]);
        named |= strstr(msg, quoted) != NULL;
    }
    ck_assert_msg(named, "the message names no node of the cycle: %s", msg);
    lrpx_model_free(model);
}

START_TEST(test_self_loop)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 4});
    lrpx_test_model_node(m, "Add", "selfie", LT_IO("x", "s"), LT_IO("s"), NULL);
    lrpx_test_model_output(m, "s");
    expect_cycle(m, (const char *const[]){"selfie"}, 1);
    lrpx_test_model_free(m);
}
END_TEST

/* x -> pre -> [loop_a <-> loop_b] -> after -> y, with `after` first in
 * the file: the message must name loop_a or loop_b, not `after` (which is
 * only waiting for the cycle). */
START_TEST(test_cycle_named)
{
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 2, (int64_t[]){1, 4});
    lrpx_test_model_node(m, "Relu", "after", LT_IO("b"), LT_IO("y"), NULL);
    lrpx_test_model_node(m, "Relu", "pre", LT_IO("x"), LT_IO("p"), NULL);
    lrpx_test_model_node(m, "Add", "loop_a", LT_IO("p", "b"), LT_IO("a"), NULL);
    lrpx_test_model_node(m, "Neg", "loop_b", LT_IO("a"), LT_IO("b"), NULL);
    lrpx_test_model_output(m, "y");
    expect_cycle(m, (const char *const[]){"loop_a", "loop_b"}, 2);
    lrpx_test_model_free(m);
}
END_TEST

static Suite *
graph_suite(void)
{
    Suite *s  = suite_create("graph");
    TCase *tc = tcase_create("order");
    tcase_add_test(tc, test_reversed_chain);
    tcase_add_loop_test(tc, test_random_dag_order, 0, 8);
    suite_add_tcase(s, tc);

    tc = tcase_create("dead");
    tcase_add_test(tc, test_dead_nodes);
    suite_add_tcase(s, tc);

    tc = tcase_create("cycles");
    tcase_add_test(tc, test_self_loop);
    tcase_add_test(tc, test_cycle_named);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(graph_suite());
}
