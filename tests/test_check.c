/* `lrpx check MODEL --spec CHECKS.json` run as a program ($LRPX_CLI).
 *
 *   - every kind of check passes and fails, on the bundled model, with
 *     thresholds taken from references lrpx did not compute: PyTorch
 *     logits and gradients (testdata/expected), the independent LRP maps of
 *     scripts/lrp_reference.py (testdata/expected/lrp/index.json), the
 *     float64 metrics of scripts/check_metrics_reference.py
 *     (testdata/check/metrics_reference.json), the data set's labels;
 *   - exit status 0 / 1 / 2; a missing file or a model that does not load
 *     is an error result (1), never a crash;
 *   - malformed specs: exit 2 and the JSON path of the mistake, for unknown
 *     fields, wrong types, bad values, at every depth;
 *   - JUnit XML read back with libxml2 (well-formed, counts, one testcase
 *     per check, failure/error elements), written atomically; GitHub
 *     annotations at the check's line of the spec;
 *   - the Clever-Hans pair (scripts/train_clever_hans.py): the localisation
 *     check passes on the clean model and fails on the marked one.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "lrpx_test.h"

static char err_text[65536];
static char out_text[1 << 20];

/* the scratch folder of the test, and paths in it */
#define tmp       lrpx_test_scratch(NULL)
#define tpath(nm) lrpx_test_scratch(nm)

/* lrpx check MODEL --spec SPEC [more...] */
static int
check(const char *model, const char *spec, ...)
{
    const char *argv[32] = {"check", model, "--spec", spec};
    int         n        = 4;
    va_list     ap;
    va_start(ap, spec);
    for (const char *a = va_arg(ap, const char *); a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return lrpx_test_run_cli(tmp, out_text, sizeof out_text, err_text, sizeof err_text, argv);
}

/* Write a spec to tmp/name: printf-style, with every "@" replaced by the
 * test data folder. */
static const char *
spec(const char *name, const char *fmt, ...)
{
    char    text[16384], full[32768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *data = getenv("LRPX_TESTDATA");
    ck_assert_ptr_nonnull(data);
    size_t n = 0;
    for (const char *p = text; *p && n + strlen(data) + 2 < sizeof full; p++) {
        if (*p == '@')
            n += (size_t)snprintf(full + n, sizeof full - n, "%s", data);
        else
            full[n++] = *p;
    }
    full[n] = '\0';
    const char *path = tpath(name);
    lrpx_test_write_file(path, full, n);
    return path;
}

static const char *MODEL = "models/fmnist_cnn.onnx";

static const char *
model(void)
{
    static char buf[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(buf, sizeof buf, "%s", lrpx_test_path(MODEL));
    return buf;
}

/* --json output: the outcome of each check, in order, as "pfe" letters. */
static void
outcomes(char *buf, size_t size)
{
    cJSON *j = cJSON_Parse(out_text);
    ck_assert_msg(j, "not JSON: %s", out_text);
    size_t n = 0;
    for (const cJSON *c = cJSON_GetObjectItem(j, "checks")->child; c && n + 1 < size; c = c->next)
        buf[n++] = cJSON_GetObjectItem(c, "outcome")->valuestring[0];
    buf[n] = '\0';
    cJSON_Delete(j);
}

#define load_json lrpx_test_json_load
#define jnum      lrpx_test_json_number

/* ---- every kind, passing and failing ---- */

START_TEST(test_structure_kinds)
{
    const char *s = spec("s.json",
        "{\"checks\": [{\"kind\": \"loads\"}, {\"kind\": \"ops_supported\"},\n"
        " {\"kind\": \"opset\", \"min\": 11, \"max\": 13},\n"
        " {\"kind\": \"opset\", \"min\": 14},\n"
        " {\"kind\": \"opset\", \"max\": 12},\n"
        " {\"kind\": \"io\", \"inputs\": [{\"name\": \"input\", \"dtype\": \"float32\",\n"
        "   \"shape\": [\"batch\", 1, 28, 28]}], \"outputs\": [{\"name\": \"logits\",\n"
        "   \"shape\": [null, 10]}]},\n"
        " {\"kind\": \"io\", \"inputs\": [{\"name\": \"input\", \"shape\": [1, 1, 28, 28]}]},\n"
        " {\"kind\": \"io\", \"outputs\": [{\"name\": \"probs\"}]},\n"
        " {\"kind\": \"io\", \"inputs\": [{\"name\": \"input\", \"dtype\": \"uint8\"}]},\n"
        " {\"kind\": \"io\", \"outputs\": [{\"name\": \"logits\", \"shape\": [\"n\", 10]}]}]}");
    ck_assert_int_eq(check(model(), s, "--json", NULL), 1);
    char o[64];
    outcomes(o, sizeof o);
    ck_assert_str_eq(o, "pppffpffff");
    ck_assert_ptr_nonnull(strstr(out_text, "dimension 0 is symbolic \\\"batch\\\", expected 1"));
    ck_assert_ptr_nonnull(strstr(out_text, "no output named \\\"probs\\\""));
    ck_assert_ptr_nonnull(strstr(out_text, "is float32, expected uint8"));
    ck_assert_ptr_nonnull(strstr(out_text, "expected symbolic \\\"n\\\""));

    /* an operator lrpx lacks: loads (for inspection), ops_supported fails
     * naming it, checks that run it are errors */
    lrpx_test_model *m = lrpx_test_model_new(13);
    lrpx_test_model_input(m, "x", LRPX_DTYPE_FLOAT32, 1, (int64_t[]){4});
    lrpx_test_model_node(m, "Relu", "r", LT_IO("x"), LT_IO("h"), NULL);
    lrpx_test_model_node(m, "Einsum", "e", LT_IO("h"), LT_IO("y"), LT_STRING("equation", "i->i"),
                         NULL);
    lrpx_test_model_output(m, "y");
    lrpx_test_model_save(m, tpath("einsum.onnx"));
    lrpx_test_model_free(m);
    float x[4] = {1, 2, 3, 4};
    ck_assert_int_eq(lrpx_npy_write(tpath("x.npy"), LRPX_DTYPE_FLOAT32, 1, (int64_t[]){4}, x,
                                    NULL, 0), LRPX_OK);
    s = spec("e.json", "{\"checks\": [{\"kind\": \"loads\"}, {\"kind\": \"ops_supported\"},"
             " {\"kind\": \"labels\", \"input\": \"x.npy\", \"labels\": [3]}]}");
    ck_assert_int_eq(check(tpath("einsum.onnx"), s, "--json", NULL), 1);
    outcomes(o, sizeof o);
    ck_assert_str_eq(o, "pfe");
    ck_assert_ptr_nonnull(strstr(out_text, "Einsum"));
}
END_TEST

START_TEST(test_outputs_and_labels)
{
    /* PyTorch's logits of the 8 bundled images; the data set's labels */
    const char *s = spec("s.json",
        "{\"defaults\": {\"input\": \"@/images/fmnist_batch8.npy\"}, \"checks\": [\n"
        " {\"kind\": \"outputs\", \"expected\": \"@/expected/fmnist_cnn_batch8.npy\"},\n"
        " {\"kind\": \"outputs\", \"expected\": \"@/expected/fmnist_cnn_batch8.npy\",\n"
        "  \"rtol\": 0, \"atol\": 0},\n"
        " {\"kind\": \"outputs\", \"input\": \"@/images/fmnist_0_ankle_boot.npy\",\n"
        "  \"expected\": \"@/expected/fmnist_cnn_1.npy\"},\n"
        " {\"kind\": \"outputs\", \"expected\": \"@/expected/fmnist_cnn_1.npy\"},\n"
        " {\"kind\": \"labels\", \"labels\": [9, 2, 1, 6, 4, 5, 7, 3]},\n"
        " {\"kind\": \"labels\", \"labels\": [9, 2, 1, 6, 4, 5, 7, 7]},\n"
        " {\"kind\": \"labels\", \"labels\": [9, 2, 1, 6, 4, 5, 7, 7], \"min_accuracy\": 0.875},\n"
        " {\"kind\": \"labels\", \"labels\": [9, 2]}]}");
    ck_assert_int_eq(check(model(), s, "--json", NULL), 1);
    char o[64];
    outcomes(o, sizeof o);
    /* bit-exact equality with PyTorch is not expected (atol 0 fails); the
     * wrong reference fails; 8 values against 80 is an error */
    ck_assert_str_eq(o, "pffepfpe");
    ck_assert_ptr_nonnull(strstr(out_text, "sample 7 is class 3, expected 7"));
}
END_TEST

/* The LRP reference of scripts/lrp_reference.py for a bundled image. */
static const cJSON *
lrp_ref(const cJSON *index, const char *file)
{
    for (const cJSON *e = cJSON_GetObjectItem(index, "maps")->child; e; e = e->next)
        if (!strcmp(cJSON_GetObjectItem(e, "file")->valuestring, file))
            return e;
    ck_abort_msg("no reference %s", file);
    return NULL;
}

START_TEST(test_map_kinds)
{
    /* thresholds just either side of the references' own numbers */
    cJSON       *index = load_json("expected/lrp/index.json");
    cJSON       *mref  = load_json("check/metrics_reference.json");
    const cJSON *r0    = lrp_ref(index, "fmnist_cnn__epsilon_plus_0.npy");
    double cons = fabs(jnum(r0, "relevance_sum") - jnum(r0, "logit")) / fabs(jnum(r0, "logit"));
    double mass = 0, aopc = 0;
    for (const cJSON *sm = cJSON_GetObjectItem(mref, "samples")->child; sm; sm = sm->next) {
        mass += jnum(sm, "relevance_mass") / 8;
        aopc += jnum(cJSON_GetObjectItem(sm, "region")->child, "aopc") / 8;
    }
    const char *s = spec("s.json",
        "{\"defaults\": {\"input\": \"@/images/fmnist_0_ankle_boot.npy\",\n"
        "  \"method\": {\"name\": \"lrp\", \"composite\": \"epsilon_plus\"}}, \"checks\": [\n"
        " {\"kind\": \"explanation\", \"reference\": \"@/expected/lrp/fmnist_cnn__epsilon_plus_0.npy\",\n"
        "  \"max_distance\": 1e-4},\n"
        " {\"kind\": \"explanation\", \"reference\": \"@/expected/lrp/fmnist_cnn__epsilon_plus_0.npy\",\n"
        "  \"distance\": \"ssim\", \"max_distance\": 1e-4},\n"
        " {\"kind\": \"explanation\", \"reference\": \"@/expected/lrp/fmnist_cnn__epsilon_plus_1.npy\",\n"
        "  \"max_distance\": 0.1},\n"
        " {\"kind\": \"explanation\", \"method\": \"gradient\",\n"
        "  \"reference\": \"@/expected/fmnist_cnn_0_grad.npy\", \"max_distance\": 1e-5},\n"
        " {\"kind\": \"explanation\", \"method\": \"gradient\", \"target\": 7,\n"
        "  \"reference\": \"@/expected/fmnist_cnn_0_grad.npy\", \"max_distance\": 0.1},\n"
        " {\"kind\": \"conservation\", \"max_error\": %.9g},\n"
        " {\"kind\": \"conservation\", \"max_error\": %.9g},\n"
        " {\"kind\": \"localisation\", \"input\": \"@/images/fmnist_batch8.npy\",\n"
        "  \"method\": \"gradxinput\", \"mask\": [4, 4, 20, 20], \"min_mass\": %.9g},\n"
        " {\"kind\": \"localisation\", \"input\": \"@/images/fmnist_batch8.npy\",\n"
        "  \"method\": \"gradxinput\", \"mask\": [4, 4, 20, 20], \"min_mass\": %.9g},\n"
        " {\"kind\": \"faithfulness\", \"input\": \"@/images/fmnist_batch8.npy\",\n"
        "  \"method\": \"gradxinput\", \"patch_size\": 4, \"regions_evaluation\": 20,\n"
        "  \"min_aopc\": %.9g},\n"
        " {\"kind\": \"faithfulness\", \"input\": \"@/images/fmnist_batch8.npy\",\n"
        "  \"method\": \"gradxinput\", \"patch_size\": 4, \"regions_evaluation\": 20,\n"
        "  \"min_aopc\": %.9g},\n"
        " {\"kind\": \"randomisation\", \"method\": \"gradient\", \"max_similarity\": 1},\n"
        " {\"kind\": \"randomisation\", \"method\": \"gradient\", \"max_similarity\": -1}]}",
        cons + 0.01, cons - 0.01, mass - 0.01, mass + 0.01, aopc - 0.01, aopc + 0.01);
    ck_assert_int_eq(check(model(), s, "--json", NULL), 1);
    char o[64];
    outcomes(o, sizeof o);
    ck_assert_msg(!strcmp(o, "ppfpfpfpfpfpf"), "%s\n%s", o, out_text);
    /* the randomised model is drawn from a seed: the same numbers again */
    cJSON *first = cJSON_Parse(out_text);
    ck_assert_int_eq(check(model(), s, "--json", NULL), 1);
    cJSON *second = cJSON_Parse(out_text);
    const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(first, "checks"), 11);
    const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(second, "checks"), 11);
    ck_assert(jnum(a, "value") == jnum(b, "value"));
    ck_assert(jnum(a, "value") < 1 && jnum(a, "value") > -1);
    cJSON_Delete(first);
    cJSON_Delete(second);
    cJSON_Delete(index);
    cJSON_Delete(mref);
}
END_TEST

/* ---- exit codes, errors, reports ---- */

START_TEST(test_exit_codes)
{
    const char *ok  = spec("ok.json", "{\"checks\": [{\"kind\": \"loads\"}]}");
    const char *bad = spec("bad.json", "{\"checks\": [{\"kind\": \"opset\", \"min\": 99}]}");
    ck_assert_int_eq(check(model(), ok, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "1 passed, 0 failed, 0 errors"));
    /* stderr is a pipe here: no progress bar; --verbose times each check */
    ck_assert_ptr_null(strstr(err_text, "\033[K"));
    ck_assert_int_eq(check(model(), ok, "--verbose", NULL), 0);
    ck_assert_ptr_nonnull(strstr(err_text, "lrpx check: loads (checks[0]): "));
    ck_assert_ptr_nonnull(strstr(err_text, " ms\n"));
    ck_assert_int_eq(check(model(), bad, NULL), 1);
    ck_assert_ptr_nonnull(strstr(out_text, "0 passed, 1 failed"));
    /* a missing input: an error result, exit 1, the file named */
    const char *miss = spec("miss.json", "{\"checks\": [{\"kind\": \"labels\", \"input\": "
                            "\"nowhere.npy\", \"labels\": [1]}]}");
    ck_assert_int_eq(check(model(), miss, NULL), 1);
    ck_assert_ptr_nonnull(strstr(out_text, "ERROR"));
    ck_assert_ptr_nonnull(strstr(out_text, "nowhere.npy"));
    /* a model that is not there or not ONNX: loads fails, the rest errors */
    const char *two = spec("two.json", "{\"checks\": [{\"kind\": \"loads\"}, {\"kind\": "
                           "\"opset\", \"min\": 1}]}");
    lrpx_test_write_file(tpath("junk.onnx"), "not a model", 11);
    ck_assert_int_eq(check(tpath("junk.onnx"), two, "--json", NULL), 1);
    char o[8];
    outcomes(o, sizeof o);
    ck_assert_str_eq(o, "fe");
    ck_assert_int_eq(check(tpath("none.onnx"), two, NULL), 1);
    /* usage errors: 2 */
    const char *noargs[] = {"check", NULL};
    ck_assert_int_eq(lrpx_test_run_cli(tmp, out_text, sizeof out_text, err_text,
                                       sizeof err_text, noargs), 2);
    const char *nospec[] = {"check", model(), NULL};
    ck_assert_int_eq(lrpx_test_run_cli(tmp, out_text, sizeof out_text, err_text,
                                       sizeof err_text, nospec), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "--spec"));
    ck_assert_int_eq(check(model(), ok, "--bogus", NULL), 2);
    ck_assert_int_eq(check(model(), ok, "--json", "--github", NULL), 2);
    /* the report may not replace the spec */
    ck_assert_int_eq(check(model(), ok, "--junit", ok, NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "refusing to overwrite"));
    ck_assert_int_eq(check(model(), tpath("absent.json"), NULL), 2);
    ck_assert_ptr_nonnull(strstr(err_text, "absent.json"));
    const char *help[] = {"check", "--help", NULL};
    ck_assert_int_eq(lrpx_test_run_cli(tmp, out_text, sizeof out_text, err_text,
                                       sizeof err_text, help), 0);
    ck_assert_ptr_nonnull(strstr(out_text, "--junit"));
}
END_TEST

/* Malformed specs: exit 2 and the path of the mistake. */
static const struct {
    const char *text, *message;
} malformed[] = {
    {"{\"checks\": [", "not valid JSON (line 1, column"},
    {"{\"checks\": [{\"kind\": \"loads\"},\n {\"kind\": \"loads\",}]}", "not valid JSON (line 2"},
    {"[]", "$: expected an object {\"checks\": [...]}, got an array"},
    {"{}", "$: missing field \"checks\""},
    {"{\"checks\": [{\"kind\": \"loads\"}], \"chekcs\": 1}", "$.chekcs: unknown field"},
    {"{\"checks\": {}}", "$.checks: expected an array of checks, got an object"},
    {"{\"checks\": []}", "$.checks: expected at least one check"},
    {"{\"checks\": [1]}", "$.checks[0]: expected an object {\"kind\": ...}, got a number"},
    {"{\"checks\": [{\"name\": \"x\"}]}", "$.checks[0]: missing field \"kind\""},
    {"{\"checks\": [{\"kind\": \"load\"}]}", "$.checks[0].kind: unknown kind \"load\""},
    {"{\"checks\": [{\"kind\": 3}]}", "$.checks[0].kind: expected a kind name, got a number"},
    {"{\"checks\": [{\"kind\": \"loads\"}, {\"kind\": \"localisation\", \"input\": \"x.npy\",\n"
     "  \"mask\": [0, 0, 1, 1], \"min_mas\": 0.5}]}",
     "$.checks[1].min_mas: unknown field (a check of kind \"localisation\" takes kind, name, "
     "input, inputs, output, method, target, aggregate, layout, mask, min_mass, abs, normalise)"},
    {"{\"checks\": [{\"kind\": \"loads\", \"min_mass\": 1}]}",
     "$.checks[0].min_mass: unknown field (a check of kind \"loads\" takes kind, name)"},
    {"{\"checks\": [{\"kind\": \"localisation\", \"input\": \"x.npy\", \"mask\": [0, 0, 1, 1],"
     " \"min_mass\": \"0.5\"}]}", "$.checks[0].min_mass: expected a number, got a string"},
    {"{\"checks\": [{\"kind\": \"localisation\", \"input\": \"x.npy\", \"mask\": [0, 0, 1, 1]}]}",
     "$.checks[0]: missing field \"min_mass\""},
    {"{\"checks\": [{\"kind\": \"localisation\", \"mask\": [0, 0, 1, 1], \"min_mass\": 1}]}",
     "$.checks[0]: missing field \"input\""},
    {"{\"checks\": [{\"kind\": \"localisation\", \"input\": \"x.npy\", \"mask\": [0, 0, 1],"
     " \"min_mass\": 1}]}", "$.checks[0].mask: expected a mask file (.npy, .png) or a box"},
    {"{\"checks\": [{\"kind\": \"localisation\", \"input\": \"x.npy\", \"mask\": [0, 0, 0, 1],"
     " \"min_mass\": 1}]}", "$.checks[0].mask[2]: expected a whole number from 1"},
    {"{\"checks\": [{\"kind\": \"localisation\", \"input\": \"x.npy\", \"mask\": [0, 0, 1, 1],"
     " \"min_mass\": 1, \"abs\": 1}]}", "$.checks[0].abs: expected true or false, got a number"},
    {"{\"checks\": [{\"kind\": \"faithfulness\", \"input\": \"x.npy\", \"min_aopc\": 0,"
     " \"patch_size\": 0}]}", "$.checks[0].patch_size: expected a whole number from 1 to"},
    {"{\"checks\": [{\"kind\": \"faithfulness\", \"input\": \"x.npy\", \"min_aopc\": 0,"
     " \"order\": \"random\"}]}", "$.checks[0].order: expected \"morf\" or \"lerf\", got \"random\""},
    {"{\"checks\": [{\"kind\": \"faithfulness\", \"input\": \"x.npy\", \"min_aopc\": 0,"
     " \"perturb_baseline\": \"uniform\"}]}", "$.checks[0].perturb_baseline: expected \"black\""},
    {"{\"checks\": [{\"kind\": \"conservation\", \"input\": \"x.npy\", \"max_error\": 1,"
     " \"method\": \"telepathy\"}]}",
     "$.checks[0].method: unknown method \"telepathy\" (known: lrp, gradient, gradxinput, "
     "saliency"},
    {"{\"checks\": [{\"kind\": \"conservation\", \"input\": \"x.npy\", \"max_error\": 1,"
     " \"method\": {\"name\": \"lrp\", \"composit\": \"epsilon\"}}]}",
     "$.checks[0].method: unknown key \"composit\""},
    {"{\"checks\": [{\"kind\": \"conservation\", \"input\": \"x.npy\", \"max_error\": 1,"
     " \"method\": {\"name\": \"lrp\", \"composite\": \"nope\"}}]}", "$.checks[0].method: "},
    {"{\"checks\": [{\"kind\": \"conservation\", \"input\": \"x.npy\", \"max_error\": 1,"
     " \"method\": {\"name\": \"gradient\", \"composite\": \"epsilon\"}}]}",
     "$.checks[0].method.composite: unknown field (method \"gradient\" takes no options)"},
    {"{\"checks\": [{\"kind\": \"conservation\", \"input\": \"x.npy\", \"max_error\": 1,"
     " \"target\": [1, -2]}]}", "$.checks[0].target[1]: expected a whole number from 0"},
    {"{\"checks\": [{\"kind\": \"io\", \"inputs\": [{\"name\": \"input\","
     " \"shape\": [1, \"b\", null, -1]}]}]}",
     "$.checks[0].inputs[0].shape[3]: expected a whole number from 0"},
    {"{\"checks\": [{\"kind\": \"io\", \"inputs\": [{\"name\": \"input\", \"dtyp\": 1}]}]}",
     "$.checks[0].inputs[0].dtyp: unknown field"},
    {"{\"checks\": [{\"kind\": \"io\", \"outputs\": [{\"name\": \"y\", \"dtype\": \"float\"}]}]}",
     "$.checks[0].outputs[0].dtype: unknown element type \"float\""},
    {"{\"checks\": [{\"kind\": \"io\"}]}", "$.checks[0]: expected \"inputs\" or \"outputs\""},
    {"{\"checks\": [{\"kind\": \"opset\", \"min\": 14, \"max\": 13}]}",
     "$.checks[0]: \"min\" (14) is above \"max\" (13)"},
    {"{\"checks\": [{\"kind\": \"opset\", \"min\": 13.5}]}",
     "$.checks[0].min: expected a whole number from 1 to 1000000000, got 13.5"},
    {"{\"checks\": [{\"kind\": \"randomisation\", \"input\": \"x.npy\", \"max_similarity\": 2}]}",
     "$.checks[0].max_similarity: expected a number from -1 to 1, got 2"},
    {"{\"checks\": [{\"kind\": \"randomisation\", \"input\": \"x.npy\", \"max_similarity\": 0,"
     " \"layers\": \"some\"}]}", "$.checks[0].layers: expected a number of layers or \"all\""},
    {"{\"checks\": [{\"kind\": \"labels\", \"inputs\": {\"input\": 3}, \"labels\": [1]}]}",
     "$.checks[0].inputs.input: expected a .npy file name, got a number"},
    {"{\"defaults\": {\"min_mass\": 1}, \"checks\": [{\"kind\": \"loads\"}]}",
     "$.defaults.min_mass: unknown field (\"defaults\" takes input, inputs, output, method, "
     "target, aggregate, layout)"},
    {"{\"defaults\": {\"aggregate\": \"median\"}, \"checks\": [{\"kind\": \"loads\"}]}",
     "$.defaults.aggregate: expected \"mean\", \"min\" or \"max\", got \"median\""},
    {"{\"version\": 2, \"checks\": [{\"kind\": \"loads\"}]}", "$.version: this lrpx reads version 1"},
    {"{\"checks\": [{\"kind\": \"opset\", \"min\": 1, \"min\": 2}]}", "$.checks[0].min: given twice"},
    {"{\"checks\": [{\"kind\": \"labels\", \"input\": \"a.npy\", \"inputs\": {\"x\": \"b.npy\"},"
     " \"labels\": [1]}]}", "$.checks[0].inputs: give \"input\" or \"inputs\", not both"},
};

START_TEST(test_malformed_spec)
{
    const char *path = spec("m.json", "%s", malformed[_i].text);
    /* an existing report must stay as it was */
    lrpx_test_write_file(tpath("r.xml"), "old", 3);
    ck_assert_int_eq(check(model(), path, "--junit", tpath("r.xml"), NULL), 2);
    ck_assert_msg(strstr(err_text, malformed[_i].message), "spec %s\nexpected: %s\ngot: %s",
                  malformed[_i].text, malformed[_i].message, err_text);
    ck_assert_ptr_nonnull(strstr(err_text, "m.json: "));
    size_t len;
    char  *old = lrpx_test_read_file(tpath("r.xml"), &len);
    ck_assert(len == 3 && !memcmp(old, "old", 3));
    free(old);
    ck_assert_str_eq(out_text, "");
}
END_TEST

static int
count_elements(xmlNode *n, const char *name)
{
    int k = 0;
    for (; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            k += !strcmp((const char *)n->name, name) + count_elements(n->children, name);
    return k;
}

static int
int_attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    ck_assert_msg(v, "no attribute %s on <%s>", name, n->name);
    int k = atoi((const char *)v);
    xmlFree(v);
    return k;
}

START_TEST(test_junit_and_github)
{
    /* 2 passes, 2 failures (one with a name full of XML specials), 1 error */
    const char *s = spec("s.json",
        "{\"name\": \"ci <gate> & \\\"more\\\"\",\n"
        " \"checks\": [\n"
        "  {\"kind\": \"loads\"},\n"
        "  {\"kind\": \"opset\", \"name\": \"a <b> & 'c'\", \"min\": 99},\n"
        "  {\"kind\": \"labels\", \"input\": \"nowhere.npy\", \"labels\": [1]},\n"
        "  {\"kind\": \"ops_supported\"},\n"
        "  {\"kind\": \"labels\", \"input\": \"@/images/fmnist_batch8.npy\",\n"
        "   \"labels\": [0, 0, 0, 0, 0, 0, 0, 0]}]}");
    ck_assert_int_eq(check(model(), s, "--junit", tpath("r.xml"), "--github", NULL), 1);
    xmlDoc *doc = xmlReadFile(tpath("r.xml"), NULL, XML_PARSE_NONET);
    ck_assert_msg(doc, "the JUnit file is not well-formed XML");
    xmlNode *root = xmlDocGetRootElement(doc);
    ck_assert_str_eq((const char *)root->name, "testsuites");
    ck_assert_int_eq(int_attr(root, "tests"), 5);
    ck_assert_int_eq(int_attr(root, "failures"), 2);
    ck_assert_int_eq(int_attr(root, "errors"), 1);
    ck_assert_int_eq(count_elements(root->children, "testsuite"), 1);
    ck_assert_int_eq(count_elements(root->children, "testcase"), 5);
    ck_assert_int_eq(count_elements(root->children, "failure"), 2);
    ck_assert_int_eq(count_elements(root->children, "error"), 1);
    xmlNode *suite = root->children;
    while (suite && suite->type != XML_ELEMENT_NODE)
        suite = suite->next;
    xmlChar *nm = xmlGetProp(suite, (const xmlChar *)"name");
    ck_assert_str_eq((const char *)nm, "ci <gate> & \"more\"");
    xmlFree(nm);
    ck_assert_int_eq(int_attr(suite, "failures"), 2);
    xmlFreeDoc(doc);
    /* no temporary left beside it */
    ck_assert_ptr_null(strstr(out_text, ".tmp"));
    /* annotations: the failing checks at their lines (4, 5, 7) */
    ck_assert_ptr_nonnull(strstr(out_text, ",line=4,title=lrpx check failed%3A a <b> & 'c'::"
                                           "opset 13 outside [99, 1000000000]"));
    ck_assert_ptr_nonnull(strstr(out_text, ",line=5,title=lrpx check could not evaluate%3A"));
    ck_assert_ptr_nonnull(strstr(out_text, ",line=7,title="));
    ck_assert_ptr_nonnull(strstr(out_text, "::notice title=lrpx check::2 passed, 2 failed, "
                                           "1 errors"));
    /* a report that cannot be written: exit 1, the path named */
    ck_assert_int_eq(check(model(), s, "--junit", tpath("no/such/dir/r.xml"), NULL), 1);
    ck_assert_ptr_nonnull(strstr(err_text, "no/such/dir"));
}
END_TEST

/* ---- the library API in process, and out of memory ---- */

static const char api_spec[] =
    "{\"checks\": [{\"kind\": \"loads\"},\n"
    " {\"kind\": \"labels\", \"input\": \"images/fmnist_batch8.npy\",\n"
    "  \"labels\": [9, 2, 1, 6, 4, 5, 7, 3]},\n"
    " {\"kind\": \"localisation\", \"input\": \"images/fmnist_0_ankle_boot.npy\",\n"
    "  \"method\": \"gradxinput\", \"mask\": [0, 0, 28, 28], \"min_mass\": 0.99},\n"
    " {\"kind\": \"faithfulness\", \"input\": \"images/fmnist_0_ankle_boot.npy\",\n"
    "  \"patch_size\": 14, \"min_aopc\": -1}]}";

/* lrpx_check_set_progress's callback: the done counts, as digits */
static void
progress_log(void *ctx, int done, int total)
{
    char  *log = ctx;
    size_t n   = strlen(log);
    ck_assert_int_eq(total, 4);
    log[n]     = (char)('0' + done);
    log[n + 1] = '\0';
}

START_TEST(test_api)
{
    char        err[512];
    lrpx_check *c = (lrpx_check *)1;
    ck_assert_int_eq(lrpx_check_parse(NULL, 0, "x", NULL, &c, err, sizeof err), LRPX_EINVAL);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(lrpx_check_parse("{", 1, "x", NULL, NULL, err, sizeof err), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_check_load(NULL, &c, err, sizeof err), LRPX_EINVAL);
    lrpx_check_free(NULL);
    const char *data = getenv("LRPX_TESTDATA");
    ck_assert_int_eq(lrpx_check_parse(api_spec, strlen(api_spec), "api", data, &c, err,
                                      sizeof err), LRPX_OK);
    /* nothing to report before a run */
    lrpx_check_result r;
    ck_assert_int_eq(lrpx_check_n_results(c), 0);
    ck_assert_int_eq(lrpx_check_result_get(c, 0, &r), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_check_write(c, LRPX_CHECK_FORMAT_TEXT, NULL, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_check_run(c, NULL), LRPX_EINVAL);
    char seen[16] = "";                            /* progress: 0/4 .. 4/4 */
    lrpx_check_set_progress(c, progress_log, seen);
    for (int pass = 0; pass < 2; pass++) {         /* a second run replaces the first */
        ck_assert_int_eq(lrpx_check_run(c, lrpx_test_path(MODEL)), LRPX_OK);
        ck_assert_int_eq(lrpx_check_n_results(c), 4);
        ck_assert_int_eq(lrpx_check_n_failed(c), 0);
        ck_assert_str_eq(seen, pass == 0 ? "01234" : "");
        seen[0] = '\0';
        lrpx_check_set_progress(c, NULL, NULL);        /* removed: nothing logged */
    }
    lrpx_check_set_progress(NULL, progress_log, seen);   /* NULL check: a no-op */
    ck_assert_int_eq(lrpx_check_result_get(c, 2, &r), LRPX_OK);
    ck_assert_str_eq(r.kind, "localisation");
    ck_assert_str_eq(r.name, "localisation (checks[2])");
    ck_assert_int_eq(r.index, 2);
    ck_assert_int_eq(r.line, 4);
    ck_assert_int_eq(r.outcome, LRPX_CHECK_PASS);
    ck_assert_str_eq(r.relation, ">=");
    ck_assert(r.threshold == 0.99 && r.n_samples == 1 && r.samples[0] == r.value);
    ck_assert(fabs(r.value - 1.0) < 1e-6);        /* the whole image is the mask */
    ck_assert_int_eq(lrpx_check_result_get(c, 4, &r), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_check_result_get(c, -1, &r), LRPX_EINVAL);
    ck_assert_int_eq(lrpx_check_write(c, LRPX_CHECK_FORMAT_COUNT, NULL, err, sizeof err),
                     LRPX_EINVAL);
    ck_assert_int_eq(lrpx_check_write(c, LRPX_CHECK_FORMAT_JSON, tpath("r.json"), err,
                                      sizeof err), LRPX_OK);
    size_t len;
    char  *text = lrpx_test_read_file(tpath("r.json"), &len);
    cJSON *j    = cJSON_ParseWithLength(text, len);
    free(text);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq((int)jnum(j, "passed"), 4);
    cJSON_Delete(j);
    lrpx_check_free(c);
}
END_TEST

START_TEST(test_out_of_memory)
{
    /* the N-th allocation fails, for N = 1, 2, ...: parsing gives
     * LRPX_ENOMEM, a run gives LRPX_ENOMEM or results (some of them errors
     * saying so), never a crash or a leak, until nothing fails */
    char        err[512];
    const char *data = getenv("LRPX_TESTDATA");
    lrpx_check *c    = NULL;
    int         n;
    for (n = 1; n < 1000; n++) {
        lrpx__alloc_fail_after(n);
        lrpx_status st = lrpx_check_parse(api_spec, strlen(api_spec), "api", data, &c, err,
                                          sizeof err);
        lrpx__alloc_fail_after(0);
        if (st == LRPX_OK)
            break;
        ck_assert_int_eq(st, LRPX_ENOMEM);
        ck_assert_ptr_null(c);
    }
    ck_assert_ptr_nonnull(c);
    for (n = 1; n < 100000; n++) {
        lrpx__alloc_fail_after(n);
        lrpx_status st = lrpx_check_run(c, lrpx_test_path(MODEL));
        lrpx__alloc_fail_after(0);
        ck_assert_msg(st == LRPX_OK || st == LRPX_ENOMEM, "allocation %d: %d", n, (int)st);
        if (st == LRPX_OK && lrpx_check_n_failed(c) == 0)
            break;
    }
    ck_assert_int_lt(n, 100000);
    lrpx_check_free(c);
}
END_TEST

/* ---- the Clever-Hans pair ---- */

START_TEST(test_clever_hans)
{
    /* the threshold lies between the independent reference's masses */
    cJSON       *ref  = load_json("check/hans_reference.json");
    const cJSON *mods = cJSON_GetObjectItem(ref, "models");
    double       mass[2];
    for (int k = 0; k < 2; k++) {
        const cJSON *mm = cJSON_GetObjectItem(mods, k ? "fmnist_marked" : "fmnist_cnn");
        const cJSON *lr = cJSON_GetObjectItem(cJSON_GetObjectItem(mm, "lrp_reference"),
                                              "epsilon_plus");
        mass[k] = jnum(lr, "mass_abs_mean");
    }
    double clean = mass[0], marked = mass[1];
    cJSON_Delete(ref);
    cJSON *hans = load_json("check/clever_hans.json");
    double min_mass = jnum(cJSON_GetArrayItem(cJSON_GetObjectItem(hans, "checks"), 3), "min_mass");
    cJSON_Delete(hans);
    ck_assert_msg(marked < min_mass && min_mass < clean, "%g %g %g", marked, min_mass, clean);

    char spec_path[LRPX_TEST_PATH_MAX];
    lrpx_test_snprintf(spec_path, sizeof spec_path, "%s", lrpx_test_path("check/clever_hans.json"));
    ck_assert_msg(check(model(), spec_path, NULL) == 0, "%s%s", out_text, err_text);
    ck_assert_int_eq(check(lrpx_test_path("models/fmnist_marked.onnx"), spec_path, "--json",
                           NULL), 1);
    char o[8];
    outcomes(o, sizeof o);
    ck_assert_str_eq(o, "pppf");
}
END_TEST

static Suite *
check_suite(void)
{
    Suite *s  = suite_create("check");
    TCase *tc = tcase_create("kinds");
    tcase_set_timeout(tc, 600);
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_add_test(tc, test_structure_kinds);
    tcase_add_test(tc, test_outputs_and_labels);
    tcase_add_test(tc, test_map_kinds);
    tcase_add_test(tc, test_clever_hans);
    suite_add_tcase(s, tc);
    tc = tcase_create("cli");
    tcase_set_timeout(tc, 300);
    tcase_add_checked_fixture(tc, lrpx_test_scratch_setup, lrpx_test_scratch_teardown);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_loop_test(tc, test_malformed_spec, 0,
                        (int)(sizeof malformed / sizeof malformed[0]));
    tcase_add_test(tc, test_junit_and_github);
    tcase_add_test(tc, test_api);
    tcase_add_test(tc, test_out_of_memory);
    suite_add_tcase(s, tc);
    return s;
}

int
main(void)
{
    return lrpx_test_main(check_suite());
}
