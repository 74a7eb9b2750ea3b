/* Which rule each node gets: composites (Zennit's names and layer maps),
 * "SELECTOR=RULE" overrides, the JSON rule file, and the text that
 * lrpx_session_explained_node reports. Grammar and tables: docs/lrp.md.
 *
 * Composites, as Zennit defines them (zennit/composites.py; Convolution =
 * Conv/ConvTranspose, Dense = Gemm/MatMul, "first" = the first layer of
 * that class in the plan's topological order):
 *
 *   name                        first layer      Convolution      Dense
 *   epsilon_plus                -                zplus            epsilon
 *   epsilon_plus_flat           flat (any)       zplus            epsilon
 *   epsilon_alpha2_beta1        -                alphabeta:2,1    epsilon
 *   epsilon_alpha2_beta1_flat   flat (any)       alphabeta:2,1    epsilon
 *   epsilon_gamma_box           zbox (first conv) gamma:0.25      epsilon
 *   lrp0                        -                zero             zero
 *   epsilon                     -                epsilon          epsilon
 *
 * with epsilon 1e-6, gamma 0.25 and the stabilizer 1e-6 of Zennit's
 * defaults. MaxPool-like nodes (MaxPool, GlobalMaxPool, ReduceMax) take
 * lrpx_lrp_options.maxpool; every other node the stabilizer 1e-6 for its
 * proportional split.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lrp/lrp_impl.h"

#define DEFAULT_EPS   1e-6
#define DEFAULT_GAMMA 0.25
#define DEFAULT_STAB  1e-6

enum layer_class { CLASS_NONE = 0, CLASS_CONV, CLASS_DENSE };

struct composite {
    const char      *name;
    int              first;          /* 0 none, 1 any linear, 2 first conv */
    lrpx_rule        first_rule;
    lrpx_rule        conv;
    double           conv_a, conv_b; /* alpha, beta                       */
    lrpx_rule        dense;
};

static const struct composite composites[] = {
    {"epsilon_plus",              0, LRPX_RULE_ZERO, LRPX_RULE_ZPLUS,     1, 0, LRPX_RULE_EPSILON},
    {"epsilon_plus_flat",         1, LRPX_RULE_FLAT, LRPX_RULE_ZPLUS,     1, 0, LRPX_RULE_EPSILON},
    {"epsilon_alpha2_beta1",      0, LRPX_RULE_ZERO, LRPX_RULE_ALPHABETA, 2, 1, LRPX_RULE_EPSILON},
    {"epsilon_alpha2_beta1_flat", 1, LRPX_RULE_FLAT, LRPX_RULE_ALPHABETA, 2, 1, LRPX_RULE_EPSILON},
    {"epsilon_gamma_box",         2, LRPX_RULE_ZBOX, LRPX_RULE_GAMMA,     1, 0, LRPX_RULE_EPSILON},
    {"lrp0",                      0, LRPX_RULE_ZERO, LRPX_RULE_ZERO,      1, 0, LRPX_RULE_ZERO},
    {"epsilon",                   0, LRPX_RULE_ZERO, LRPX_RULE_EPSILON,   1, 0, LRPX_RULE_EPSILON},
};
#define N_COMPOSITES ((int)(sizeof composites / sizeof composites[0]))

const char *
lrpx_lrp_composite_name(int i)
{
    return i >= 0 && i < N_COMPOSITES ? composites[i].name : NULL;
}

static const struct composite *
composite_find(const char *name)
{
    for (int i = 0; i < N_COMPOSITES; i++)
        if (!strcmp(composites[i].name, name))
            return &composites[i];
    return NULL;
}

static void
composite_list(char *buf, size_t size)
{
    size_t k = 0;
    buf[0]   = '\0';
    for (int i = 0; i < N_COMPOSITES && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? ", " : "", composites[i].name);
}

static enum layer_class
layer_class(const char *op_type)
{
    if (!strcmp(op_type, "Conv") || !strcmp(op_type, "ConvTranspose"))
        return CLASS_CONV;
    if (!strcmp(op_type, "Gemm") || !strcmp(op_type, "MatMul"))
        return CLASS_DENSE;
    return CLASS_NONE;
}

static bool
is_maxpool_op(const char *op_type)
{
    return !strcmp(op_type, "MaxPool") || !strcmp(op_type, "GlobalMaxPool") ||
           !strcmp(op_type, "ReduceMax");
}

/* Ops that split relevance in proportion to contributions, stabilized by
 * cfg.stab (see docs/lrp.md); for the rule text only. */
static bool
is_proportional_op(const char *t)
{
    static const char *const ops[] = {"Add", "Sub", "Sum", "Mean", "AveragePool",
                                      "GlobalAveragePool", "ReduceMean", "ReduceSum",
                                      "BatchNormalization"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strcmp(t, ops[i]))
            return true;
    return false;
}

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- "SELECTOR=RULE" ---- */

#define RULE_SYNTAX                                                                   \
    "zero, epsilon[:EPS], gamma[:G], alphabeta:A,B, zplus, zbox:LOW,HIGH, wsquare, " \
    "flat, pass; for max pools winner, winner-split, sum"

/* A finite number filling the whole of [s, e). */
static bool
parse_num(const char *s, const char *e, double *out)
{
    char buf[64];
    if (e <= s || (size_t)(e - s) >= sizeof buf)
        return false;
    memcpy(buf, s, (size_t)(e - s));
    buf[e - s] = '\0';
    char *end;
    errno      = 0;
    double v   = strtod(buf, &end);
    if (end == buf || *end || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* A bound: a number or "[a,b,...]" (per channel). Advances *p. */
static bool
parse_bound(const char **p, const char *end, double *v, float *vc, int *n_c)
{
    const char *s = *p;
    if (s < end && *s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        if (!close)
            return false;
        int         k = 0;
        const char *q = s + 1;
        while (q < close) {
            const char *c = memchr(q, ',', (size_t)(close - q));
            if (!c)
                c = close;
            double x;
            if (k >= LRPX_LRP_MAX_BOX_C || !parse_num(q, c, &x))
                return false;
            vc[k++] = (float)x;
            q       = c + (c < close);
        }
        if (k == 0)
            return false;
        *n_c = k;
        *v   = NAN;
        *p   = close + 1;
        return true;
    }
    const char *c = memchr(s, ',', (size_t)(end - s));
    if (!c)
        c = end;
    *n_c = 0;
    if (!parse_num(s, c, v))
        return false;
    *p = c;
    return true;
}

static lrpx_status
parse_rule(const char *r, struct lrpx_rule_spec *sp, const char *whole, char *err, size_t errlen)
{
    const char *colon = strchr(r, ':');
    size_t      nlen  = colon ? (size_t)(colon - r) : strlen(r);
    const char *arg   = colon ? colon + 1 : NULL;
    const char *end   = arg ? arg + strlen(arg) : NULL;
#define NAME_IS(s) (nlen == strlen(s) && !strncmp(r, (s), nlen))
#define NO_ARG()                                                                         \
    do {                                                                                 \
        if (arg) {                                                                       \
            errf(err, errlen, "rule spec '%s': rule '%.*s' takes no parameter", whole,   \
                 (int)nlen, r);                                                          \
            return LRPX_EINVAL;                                                          \
        }                                                                                \
    } while (0)
    sp->kind = LRPX_RULEKIND_LINEAR;
    sp->n_c  = 0;
    if (NAME_IS("zero")) {
        NO_ARG();
        sp->rule = LRPX_RULE_ZERO;
    } else if (NAME_IS("epsilon") || NAME_IS("gamma")) {
        bool eps = NAME_IS("epsilon");
        sp->rule = eps ? LRPX_RULE_EPSILON : LRPX_RULE_GAMMA;
        sp->p1   = eps ? DEFAULT_EPS : DEFAULT_GAMMA;
        if (arg && (!parse_num(arg, end, &sp->p1) || sp->p1 < 0)) {
            errf(err, errlen, "rule spec '%s': '%s' is not a valid %s (a number >= 0)", whole,
                 arg, eps ? "epsilon" : "gamma");
            return LRPX_EINVAL;
        }
    } else if (NAME_IS("alphabeta")) {
        const char *comma = arg ? strchr(arg, ',') : NULL;
        sp->rule          = LRPX_RULE_ALPHABETA;
        if (!comma || !parse_num(arg, comma, &sp->p1) || !parse_num(comma + 1, end, &sp->p2)) {
            errf(err, errlen, "rule spec '%s': alphabeta needs two numbers, alphabeta:A,B", whole);
            return LRPX_EINVAL;
        }
        if (sp->p1 < 0 || sp->p2 < 0 || fabs(sp->p1 - sp->p2 - 1.0) > 1e-9) {
            errf(err, errlen,
                 "rule spec '%s': alphabeta needs alpha >= 0, beta >= 0 and alpha - beta = 1 "
                 "(got alpha %g, beta %g)", whole, sp->p1, sp->p2);
            return LRPX_EINVAL;
        }
    } else if (NAME_IS("zplus")) {
        NO_ARG();
        sp->rule = LRPX_RULE_ZPLUS;
    } else if (NAME_IS("zbox")) {
        sp->rule = LRPX_RULE_ZBOX;
        const char *p = arg;
        float       hc[LRPX_LRP_MAX_BOX_C];
        int         nl = 0, nh = 0;
        if (!arg || !parse_bound(&p, end, &sp->p1, sp->low_c, &nl) || p >= end || *p != ',' ||
            (p++, !parse_bound(&p, end, &sp->p2, hc, &nh)) || p != end) {
            errf(err, errlen,
                 "rule spec '%s': zbox needs bounds zbox:LOW,HIGH (numbers, or per channel "
                 "[l1,l2,...],[h1,h2,...] with at most %d channels)", whole, LRPX_LRP_MAX_BOX_C);
            return LRPX_EINVAL;
        }
        if (nl != nh) {
            errf(err, errlen, "rule spec '%s': zbox low and high must both be numbers or lists "
                 "of the same length", whole);
            return LRPX_EINVAL;
        }
        sp->n_c = nl;
        memcpy(sp->high_c, hc, sizeof hc);
        for (int k = 0; k < (nl ? nl : 1); k++) {
            double lo = nl ? sp->low_c[k] : sp->p1, hi = nl ? sp->high_c[k] : sp->p2;
            if (lo > hi) {
                errf(err, errlen, "rule spec '%s': zbox low %g is above high %g", whole, lo, hi);
                return LRPX_EINVAL;
            }
        }
    } else if (NAME_IS("wsquare")) {
        NO_ARG();
        sp->rule = LRPX_RULE_WSQUARE;
    } else if (NAME_IS("flat")) {
        NO_ARG();
        sp->rule = LRPX_RULE_FLAT;
    } else if (NAME_IS("pass")) {
        NO_ARG();
        sp->rule = LRPX_RULE_PASS;
    } else if (NAME_IS("winner") || NAME_IS("winner-split") || NAME_IS("sum")) {
        NO_ARG();
        sp->kind    = LRPX_RULEKIND_MAXPOOL;
        sp->maxpool = NAME_IS("winner") ? LRPX_MAXPOOL_WINNER
                    : NAME_IS("sum")    ? LRPX_MAXPOOL_SUM
                                        : LRPX_MAXPOOL_WINNER_SPLIT;
    } else {
        errf(err, errlen, "rule spec '%s': unknown rule '%.*s' (expected " RULE_SYNTAX ")", whole,
             (int)nlen, r);
        return LRPX_EINVAL;
    }
#undef NAME_IS
#undef NO_ARG
    return LRPX_OK;
}

lrpx_status
lrpx__lrp_spec_parse(const char *text, struct lrpx_rule_spec *sp, char *err, size_t errlen)
{
    memset(sp, 0, sizeof *sp);
    if (!text) {
        errf(err, errlen, "rule spec is NULL");
        return LRPX_EINVAL;
    }
    const char *eq = strrchr(text, '=');
    if (!eq || eq == text || !eq[1]) {
        errf(err, errlen, "rule spec '%s': expected SELECTOR=RULE (e.g. Conv=gamma:0.25)", text);
        return LRPX_EINVAL;
    }
    size_t slen = (size_t)(eq - text);
    if (slen >= sizeof sp->sel_text) {
        errf(err, errlen, "rule spec '%.40s...': selector too long", text);
        return LRPX_EINVAL;
    }
    char sel[128];
    memcpy(sel, text, slen);
    sel[slen] = '\0';
    lrpx_status rc = parse_rule(eq + 1, sp, text, err, errlen);
    if (rc != LRPX_OK)
        return rc;

    if (!strcmp(sel, "*")) {
        sp->sel = LRPX_SEL_ALL;
    } else if (!strcmp(sel, "first")) {
        sp->sel = LRPX_SEL_FIRST;
    } else if (!strncmp(sel, "index:", 6)) {
        char     *end;
        long long v = strtoll(sel + 6, &end, 10);
        if (!sel[6] || *end || v < 0 || !isdigit((unsigned char)sel[6])) {
            errf(err, errlen, "rule spec '%s': selector '%s' needs a whole number >= 0", text, sel);
            return LRPX_EINVAL;
        }
        sp->sel   = LRPX_SEL_INDEX;
        sp->index = v;
    } else if (!strncmp(sel, "name:", 5)) {
        if (!sel[5]) {
            errf(err, errlen, "rule spec '%s': selector 'name:' needs a node name", text);
            return LRPX_EINVAL;
        }
        sp->sel = LRPX_SEL_NAME;
        snprintf(sp->sel_text, sizeof sp->sel_text, "%s", sel + 5);
    } else {
        if (lrpx__op_lookup(sel, 1000) < 0) {
            errf(err, errlen,
                 "rule spec '%s': unknown selector '%s' (expected *, first, index:N, name:NODE "
                 "or an ONNX op type lrpx supports, e.g. Conv, Gemm, MaxPool)", text, sel);
            return LRPX_EINVAL;
        }
        sp->sel = LRPX_SEL_OP;
        snprintf(sp->sel_text, sizeof sp->sel_text, "%s", sel);
        bool lin = layer_class(sel) != CLASS_NONE, mp = is_maxpool_op(sel);
        if (sp->kind == LRPX_RULEKIND_LINEAR && !lin) {
            errf(err, errlen, "rule spec '%s': rule '%s' applies to linear layers (Conv, "
                 "ConvTranspose, Gemm, MatMul), not to %s", text, eq + 1, sel);
            return LRPX_EINVAL;
        }
        if (sp->kind == LRPX_RULEKIND_MAXPOOL && !mp) {
            errf(err, errlen, "rule spec '%s': rule '%s' applies to max pools (MaxPool, "
                 "GlobalMaxPool, ReduceMax), not to %s", text, eq + 1, sel);
            return LRPX_EINVAL;
        }
    }
    if ((sp->sel == LRPX_SEL_FIRST || sp->sel == LRPX_SEL_INDEX) &&
        sp->kind != LRPX_RULEKIND_LINEAR) {
        errf(err, errlen, "rule spec '%s': selector '%s' picks linear layers; rule '%s' is for "
             "max pools", text, sel, eq + 1);
        return LRPX_EINVAL;
    }
    return LRPX_OK;
}

/* ---- public option helpers ---- */

lrpx_status
lrpx_lrp_options_parse_rule(struct lrpx_lrp_options *o, const char *spec, char *errbuf,
                            size_t errlen)
{
    struct lrpx_rule_spec sp;
    if (!o) {
        errf(errbuf, errlen, "options are NULL");
        return LRPX_EINVAL;
    }
    lrpx_status rc = lrpx__lrp_spec_parse(spec, &sp, errbuf, errlen);
    if (rc != LRPX_OK)
        return rc;
    int cap = (int)(sizeof o->overrides / sizeof o->overrides[0]);
    if (o->n_overrides < 0 || o->n_overrides >= cap) {
        errf(errbuf, errlen, "rule spec '%s': too many rule overrides (at most %d)", spec, cap);
        return LRPX_EINVAL;
    }
    if (strlen(spec) >= sizeof o->overrides[0]) {
        errf(errbuf, errlen, "rule spec '%.40s...': longer than %zu characters", spec,
             sizeof o->overrides[0] - 1);
        return LRPX_EINVAL;
    }
    strcpy(o->overrides[o->n_overrides++], spec);
    return LRPX_OK;
}

static bool
set_composite(struct lrpx_lrp_options *o, const char *name, char *err, size_t errlen)
{
    if (!composite_find(name) || strlen(name) >= sizeof o->composite) {
        char list[256];
        composite_list(list, sizeof list);
        errf(err, errlen, "unknown composite '%s' (expected one of %s)", name, list);
        return false;
    }
    strcpy(o->composite, name);
    return true;
}

lrpx_status
lrpx_lrp_options_set_composite(struct lrpx_lrp_options *o, const char *name, char *errbuf,
                               size_t errlen)
{
    if (!o || !name) {
        errf(errbuf, errlen, "options or name are NULL");
        return LRPX_EINVAL;
    }
    return set_composite(o, name, errbuf, errlen) ? LRPX_OK : LRPX_EINVAL;
}

lrpx_status
lrpx_lrp_options_parse_maxpool(const char *text, lrpx_maxpool_mode *mode)
{
    if (!text || !mode)
        return LRPX_EINVAL;
    if (!strcmp(text, "winner"))
        *mode = LRPX_MAXPOOL_WINNER;
    else if (!strcmp(text, "winner-split"))
        *mode = LRPX_MAXPOOL_WINNER_SPLIT;
    else if (!strcmp(text, "sum"))
        *mode = LRPX_MAXPOOL_SUM;
    else
        return LRPX_EINVAL;
    return LRPX_OK;
}

/* JSON bound: a number or an array of numbers (per channel) */
static bool
json_bound(const cJSON *j, double *v, float *vc, int *n_c)
{
    if (cJSON_IsNumber(j) && isfinite(j->valuedouble)) {
        *v   = j->valuedouble;
        *n_c = 0;
        return true;
    }
    if (!cJSON_IsArray(j))
        return false;
    int n = cJSON_GetArraySize(j);
    if (n < 1 || n > LRPX_LRP_MAX_BOX_C)
        return false;
    for (int i = 0; i < n; i++) {
        const cJSON *e = cJSON_GetArrayItem(j, i);
        if (!cJSON_IsNumber(e) || !isfinite(e->valuedouble))
            return false;
        vc[i] = (float)e->valuedouble;
    }
    *n_c = n;
    *v   = NAN;
    return true;
}

lrpx_status
lrpx_lrp_options_parse_json(struct lrpx_lrp_options *o, const char *text, size_t len,
                            const char *name, char *errbuf, size_t errlen)
{
    if (!o || !text) {
        errf(errbuf, errlen, "options or text are NULL");
        return LRPX_EINVAL;
    }
    if (!name)
        name = "rules";
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long        off = at && at >= text && at <= text + len ? (long)(at - text) : -1;
        errf(errbuf, errlen, "%s: not valid JSON (near byte %ld)", name, off);
        return LRPX_EPARSE;
    }
    lrpx_status             rc = LRPX_OK;
    struct lrpx_lrp_options t  = *o;          /* all or nothing */
    char                    sub[512];
    if (!cJSON_IsObject(root)) {
        errf(errbuf, errlen, "%s: the top level must be an object", name);
        rc = LRPX_EINVAL;
        goto done;
    }
    double lo = NAN, hi = NAN;
    int    nlo = -1, nhi = -1;
    float  loc[LRPX_LRP_MAX_BOX_C], hic[LRPX_LRP_MAX_BOX_C];
    for (const cJSON *it = root->child; it && rc == LRPX_OK; it = it->next) {
        const char *k = it->string ? it->string : "";
        if (!strcmp(k, "composite")) {
            if (!cJSON_IsString(it) || !set_composite(&t, it->valuestring, sub, sizeof sub)) {
                if (!cJSON_IsString(it))
                    snprintf(sub, sizeof sub, "\"composite\" must be a string");
                errf(errbuf, errlen, "%s: %s", name, sub);
                rc = LRPX_EINVAL;
            }
        } else if (!strcmp(k, "maxpool")) {
            if (!cJSON_IsString(it) ||
                lrpx_lrp_options_parse_maxpool(it->valuestring, &t.maxpool) != LRPX_OK) {
                errf(errbuf, errlen, "%s: \"maxpool\" must be \"winner\", \"winner-split\" or "
                     "\"sum\"", name);
                rc = LRPX_EINVAL;
            }
        } else if (!strcmp(k, "zero_bias")) {
            if (!cJSON_IsBool(it)) {
                errf(errbuf, errlen, "%s: \"zero_bias\" must be true or false", name);
                rc = LRPX_EINVAL;
            } else
                t.zero_bias = cJSON_IsTrue(it);
        } else if (!strcmp(k, "low") || !strcmp(k, "high")) {
            bool low = !strcmp(k, "low");
            if (!json_bound(it, low ? &lo : &hi, low ? loc : hic, low ? &nlo : &nhi)) {
                errf(errbuf, errlen, "%s: \"%s\" must be a number or an array of 1 to %d "
                     "numbers (per channel)", name, k, LRPX_LRP_MAX_BOX_C);
                rc = LRPX_EINVAL;
            }
        } else if (!strcmp(k, "rules")) {
            if (!cJSON_IsArray(it)) {
                errf(errbuf, errlen, "%s: \"rules\" must be an array", name);
                rc = LRPX_EINVAL;
                break;
            }
            int i = 0;
            for (const cJSON *r = it->child; r && rc == LRPX_OK; r = r->next, i++) {
                char spec[256];
                if (cJSON_IsString(r)) {
                    snprintf(spec, sizeof spec, "%s", r->valuestring);
                } else if (cJSON_IsObject(r)) {
                    const cJSON *s = NULL, *u = NULL;
                    bool         bad = false;
                    for (const cJSON *f = r->child; f; f = f->next) {
                        if (f->string && !strcmp(f->string, "select"))
                            s = f;
                        else if (f->string && !strcmp(f->string, "rule"))
                            u = f;
                        else
                            bad = true;
                    }
                    if (bad || !cJSON_IsString(s) || !cJSON_IsString(u)) {
                        errf(errbuf, errlen, "%s: rules[%d] must be {\"select\": \"...\", "
                             "\"rule\": \"...\"} or \"SELECTOR=RULE\"", name, i);
                        rc = LRPX_EINVAL;
                        break;
                    }
                    snprintf(spec, sizeof spec, "%s=%s", s->valuestring, u->valuestring);
                } else {
                    errf(errbuf, errlen, "%s: rules[%d] must be a string or an object", name, i);
                    rc = LRPX_EINVAL;
                    break;
                }
                if (lrpx_lrp_options_parse_rule(&t, spec, sub, sizeof sub) != LRPX_OK) {
                    errf(errbuf, errlen, "%s: rules[%d]: %s", name, i, sub);
                    rc = LRPX_EINVAL;
                }
            }
        } else {
            errf(errbuf, errlen, "%s: unknown key \"%s\" (expected composite, rules, maxpool, "
                 "zero_bias, low, high)", name, k);
            rc = LRPX_EINVAL;
        }
    }
    if (rc == LRPX_OK && (nlo >= 0) != (nhi >= 0)) {
        errf(errbuf, errlen, "%s: \"low\" and \"high\" go together", name);
        rc = LRPX_EINVAL;
    }
    if (rc == LRPX_OK && nlo >= 0) {
        if (nlo != nhi) {
            errf(errbuf, errlen, "%s: \"low\" and \"high\" must both be numbers or arrays of "
                 "the same length", name);
            rc = LRPX_EINVAL;
        } else if (nlo == 0) {
            t.box_low  = lo;
            t.box_high = hi;
            t.n_box_c  = 0;
            t.box_low_c = t.box_high_c = NULL;
        } else {
            memcpy(t.box_low_own, loc, sizeof(float) * (size_t)nlo);
            memcpy(t.box_high_own, hic, sizeof(float) * (size_t)nlo);
            t.n_box_c   = nlo;
            t.box_low_c = t.box_high_c = NULL;   /* the own arrays */
        }
    }
    if (rc == LRPX_OK)
        *o = t;
done:
    cJSON_Delete(root);
    return rc;
}

lrpx_status
lrpx_lrp_options_load_json(struct lrpx_lrp_options *o, const char *path, char *errbuf,
                           size_t errlen)
{
    if (!o || !path) {
        errf(errbuf, errlen, "options or path are NULL");
        return LRPX_EINVAL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        errf(errbuf, errlen, "%s: cannot open: %s", path, strerror(errno));
        return LRPX_EIO;
    }
    size_t cap = 4096, len = 0;
    char  *buf = lrpx__malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
        if (len == cap) {
            if (cap >= ((size_t)1 << 24)) {   /* a rule file is small */
                fclose(f);
                lrpx__free(buf);
                errf(errbuf, errlen, "%s: larger than 16 MiB", path);
                return LRPX_ELIMIT;
            }
            char *nb = lrpx__realloc(buf, cap * 2);
            if (!nb) {
                lrpx__free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    bool io_err = ferror(f) != 0;
    fclose(f);
    if (!buf) {
        errf(errbuf, errlen, "%s: out of memory", path);
        return LRPX_ENOMEM;
    }
    if (io_err) {
        lrpx__free(buf);
        errf(errbuf, errlen, "%s: read error", path);
        return LRPX_EIO;
    }
    lrpx_status rc = lrpx_lrp_options_parse_json(o, buf, len, path, errbuf, errlen);
    lrpx__free(buf);
    return rc;
}

/* ---- rule text ---- */

static void
bounds_text(const struct lrpx_rule_cfg *c, char *buf, size_t size)
{
    if (c->n_c > 0)
        snprintf(buf, size, "zbox:[%d channels]", c->n_c);
    else
        snprintf(buf, size, "zbox:%g,%g", c->low, c->high);
}

void
lrpx__lrp_rule_text(const struct lrpx_rule_cfg *c, bool is_linear, char *buf, size_t size)
{
    if (!is_linear) {
        snprintf(buf, size, "%s", "");
        return;
    }
    switch (c->rule) {
    case LRPX_RULE_EPSILON:   snprintf(buf, size, "epsilon:%g", c->eps); break;
    case LRPX_RULE_GAMMA:     snprintf(buf, size, "gamma:%g", c->gamma); break;
    case LRPX_RULE_ALPHABETA: snprintf(buf, size, "alphabeta:%g,%g", c->alpha, c->beta); break;
    case LRPX_RULE_ZBOX:      bounds_text(c, buf, size); break;
    default:                  snprintf(buf, size, "%s", lrpx_rule_name(c->rule)); break;
    }
}

static const char *
maxpool_text(lrpx_maxpool_mode m)
{
    return m == LRPX_MAXPOOL_SUM ? "sum" : m == LRPX_MAXPOOL_WINNER_SPLIT ? "winner-split"
                                                                            : "winner";
}

/* ---- resolution ---- */

static void
apply_spec(struct lrpx_rule_cfg *c, const struct lrpx_rule_spec *sp, float *box)
{
    if (sp->kind == LRPX_RULEKIND_MAXPOOL) {
        c->maxpool = sp->maxpool;
        return;
    }
    c->rule = sp->rule;
    switch (sp->rule) {
    case LRPX_RULE_EPSILON:   c->eps = sp->p1; break;
    case LRPX_RULE_GAMMA:     c->gamma = sp->p1; break;
    case LRPX_RULE_ALPHABETA: c->alpha = sp->p1; c->beta = sp->p2; break;
    case LRPX_RULE_ZBOX:
        c->low  = sp->p1;
        c->high = sp->p2;
        c->n_c  = sp->n_c;
        c->low_c = c->high_c = NULL;
        if (sp->n_c > 0 && box) {
            memcpy(box, sp->low_c, sizeof(float) * (size_t)sp->n_c);
            memcpy(box + LRPX_LRP_MAX_BOX_C, sp->high_c, sizeof(float) * (size_t)sp->n_c);
            c->low_c  = box;
            c->high_c = box + LRPX_LRP_MAX_BOX_C;
        }
        break;
    default: break;
    }
}

lrpx_status
lrpx__lrp_resolve(lrpx_session *s, const struct lrpx_lrp_options *o, float **box_out)
{
    const struct lrpx_graph *g = &s->model->g;
    const struct lrpx_plan  *p = &s->plan;
    *box_out                   = NULL;

    char cname[sizeof o->composite + 1];
    memcpy(cname, o->composite, sizeof o->composite);
    cname[sizeof o->composite] = '\0';
    const struct composite *comp = composite_find(cname);
    if (!comp) {
        char list[256];
        composite_list(list, sizeof list);
        return lrpx__error(&s->err, LRPX_EINVAL, "unknown composite '%s' (expected one of %s)",
                           cname, list);
    }
    int cap = (int)(sizeof o->overrides / sizeof o->overrides[0]);
    if (o->n_overrides < 0 || o->n_overrides > cap)
        return lrpx__error(&s->err, LRPX_EINVAL, "n_overrides %d is out of range (0..%d)",
                           o->n_overrides, cap);
    if (o->n_box_c < 0 || o->n_box_c > (o->box_low_c ? 1 << 20 : LRPX_LRP_MAX_BOX_C))
        return lrpx__error(&s->err, LRPX_EINVAL, "n_box_c %d is out of range", o->n_box_c);

    struct lrpx_rule_spec *specs = lrpx__calloc((size_t)o->n_overrides + 1, sizeof *specs);
    float *box = lrpx__calloc((size_t)(o->n_overrides + 1) * 2 * LRPX_LRP_MAX_BOX_C,
                              sizeof(float));
    lrpx__free(s->rules);
    lrpx__free(s->rule_desc);
    s->rules     = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *s->rules);
    s->rule_desc = lrpx__calloc((size_t)g->n_nodes + 1, sizeof *s->rule_desc);
    if (!specs || !box || !s->rules || !s->rule_desc) {
        lrpx__free(specs);
        lrpx__free(box);
        return lrpx__error(&s->err, LRPX_ENOMEM, "out of memory resolving LRP rules");
    }
    lrpx_status rc = LRPX_OK;
    for (int i = 0; i < o->n_overrides && rc == LRPX_OK; i++) {
        char err[512];
        char text[sizeof o->overrides[0] + 1];
        memcpy(text, o->overrides[i], sizeof o->overrides[0]);
        text[sizeof o->overrides[0]] = '\0';
        if (lrpx__lrp_spec_parse(text, &specs[i], err, sizeof err) != LRPX_OK)
            rc = lrpx__error(&s->err, LRPX_EINVAL, "%s", err);
    }

    /* per-channel bounds of the options (the caller's arrays, or the
     * struct's own when box_low_c is NULL) */
    const float *olo = o->n_box_c > 0 ? (o->box_low_c ? o->box_low_c : o->box_low_own) : NULL;
    const float *ohi = o->n_box_c > 0 ? (o->box_high_c ? o->box_high_c : o->box_high_own) : NULL;

    /* defaults and composite */
    int first_any = -1, first_conv = -1, n_linear = 0;
    for (int i = 0; i < p->n_run; i++) {
        const struct lrpx_node *n = &g->nodes[p->run[i]];
        if (!lrpx__lrp_is_linear(n))
            continue;
        if (first_any < 0)
            first_any = p->run[i];
        if (first_conv < 0 && layer_class(n->op_type) == CLASS_CONV)
            first_conv = p->run[i];
        n_linear++;
    }
    for (int ni = 0; ni < g->n_nodes; ni++) {
        struct lrpx_rule_cfg *c = &s->rules[ni];
        c->rule      = LRPX_RULE_EPSILON;
        c->eps       = DEFAULT_EPS;
        c->gamma     = DEFAULT_GAMMA;
        c->alpha     = 1.0;
        c->beta      = 0.0;
        c->low       = o->box_low;
        c->high      = o->box_high;
        c->zero_bias = o->zero_bias != 0;
        c->maxpool   = o->maxpool;
        c->stab      = DEFAULT_STAB;
        const struct lrpx_node *n = &g->nodes[ni];
        enum layer_class        k = layer_class(n->op_type);
        if (!lrpx__lrp_is_linear(n) || k == CLASS_NONE)
            continue;
        c->rule = k == CLASS_CONV ? comp->conv : comp->dense;
        if (c->rule == LRPX_RULE_ALPHABETA) {
            c->alpha = comp->conv_a;
            c->beta  = comp->conv_b;
        }
        if ((comp->first == 1 && ni == first_any) || (comp->first == 2 && ni == first_conv)) {
            c->rule = comp->first_rule;
            if (c->rule == LRPX_RULE_ZBOX) {
                c->n_c    = o->n_box_c;
                c->low_c  = olo;
                c->high_c = ohi;
                if (o->n_box_c == 0 && !(o->box_low <= o->box_high))
                    rc = lrpx__error(&s->err, LRPX_EINVAL,
                                     "composite %s needs the input bounds of its first layer "
                                     "(box_low <= box_high; lrpx explain --low L --high H)",
                                     comp->name);
            }
        }
    }

    /* overrides, in order: later ones win */
    for (int i = 0; i < o->n_overrides && rc == LRPX_OK; i++) {
        const struct lrpx_rule_spec *sp = &specs[i];
        int matched = 0, lin_idx = 0;
        for (int r = 0; r < p->n_run && rc == LRPX_OK; r++) {
            int                     ni  = p->run[r];
            const struct lrpx_node *n   = &g->nodes[ni];
            bool                    lin = lrpx__lrp_is_linear(n);
            bool                    mp  = is_maxpool_op(n->op_type);
            bool                    hit = false;
            switch (sp->sel) {
            case LRPX_SEL_ALL:   hit = sp->kind == LRPX_RULEKIND_LINEAR ? lin : mp; break;
            case LRPX_SEL_OP:    hit = !strcmp(n->op_type, sp->sel_text); break;
            case LRPX_SEL_FIRST: hit = ni == first_any; break;
            case LRPX_SEL_INDEX: hit = lin && lin_idx == sp->index; break;
            case LRPX_SEL_NAME:  hit = !strcmp(n->name, sp->sel_text); break;
            }
            if (lin)
                lin_idx++;
            if (!hit)
                continue;
            matched++;
            if ((sp->kind == LRPX_RULEKIND_LINEAR && !lin) ||
                (sp->kind == LRPX_RULEKIND_MAXPOOL && !mp)) {
                char label[512];
                rc = lrpx__error(&s->err, LRPX_EINVAL,
                                 "rule override '%.128s': %s is a %s; the rule applies to %s only",
                                 o->overrides[i], lrpx__node_label(g, n, label, sizeof label),
                                 n->op_type,
                                 sp->kind == LRPX_RULEKIND_LINEAR
                                     ? "linear layers (Conv, ConvTranspose, Gemm, MatMul)"
                                     : "max pools (MaxPool, GlobalMaxPool, ReduceMax)");
                break;
            }
            apply_spec(&s->rules[ni], sp, box + (size_t)i * 2 * LRPX_LRP_MAX_BOX_C);
        }
        if (rc == LRPX_OK && !matched && sp->sel == LRPX_SEL_NAME)
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "rule override '%.128s': %s has no node named '%s' (among the nodes "
                             "the input reaches)", o->overrides[i], g->path, sp->sel_text);
        if (rc == LRPX_OK && !matched && sp->sel == LRPX_SEL_INDEX)
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "rule override '%.128s': the model has %d linear layers (index 0..%d)",
                             o->overrides[i], n_linear, n_linear - 1);
        if (rc == LRPX_OK && !matched && sp->sel == LRPX_SEL_FIRST)
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "rule override '%.128s': the model has no linear layer",
                             o->overrides[i]);
    }

    /* zbox needs bounds wherever it ended up */
    for (int ni = 0; ni < g->n_nodes && rc == LRPX_OK; ni++) {
        const struct lrpx_rule_cfg *c = &s->rules[ni];
        const struct lrpx_node     *n = &g->nodes[ni];
        if (lrpx__lrp_is_linear(n) && c->rule == LRPX_RULE_ZBOX && c->n_c == 0 &&
            !(c->low <= c->high)) {
            char label[512];
            rc = lrpx__error(&s->err, LRPX_EINVAL,
                             "%s: rule zbox needs bounds low <= high (options box_low/box_high "
                             "or zbox:LOW,HIGH)", lrpx__node_label(g, n, label, sizeof label));
        }
    }

    /* texts */
    for (int ni = 0; ni < g->n_nodes; ni++) {
        const struct lrpx_node *n = &g->nodes[ni];
        if (lrpx__lrp_is_linear(n))
            lrpx__lrp_rule_text(&s->rules[ni], true, s->rule_desc[ni], sizeof s->rule_desc[ni]);
        else if (is_maxpool_op(n->op_type))
            snprintf(s->rule_desc[ni], sizeof s->rule_desc[ni], "%s",
                     maxpool_text(s->rules[ni].maxpool));
        else if (is_proportional_op(n->op_type))
            snprintf(s->rule_desc[ni], sizeof s->rule_desc[ni], "proportional");
        else
            s->rule_desc[ni][0] = '\0';
    }
    lrpx__free(specs);
    if (rc != LRPX_OK) {
        lrpx__free(box);
        return rc;
    }
    *box_out = box;
    return LRPX_OK;
}
