/* The rule-spec language: composites, "SELECTOR=RULE" overrides, the names
 * of rules and max-pool modes, the rule texts lrpx_session_explained_node
 * reports, and the same as data for help and docs (lrpx_lrp_doc_entry).
 * Every kind of word is one table below; parsing, printing and the docs
 * all read it. Resolution over a graph is resolve.c; the JSON rule file is
 * rule_file.c. Grammar and formulas: docs/lrp.md.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrp/lrp_impl.h"

/* ---- the tables ---- */

/* Rules of linear layers (lrp_class LINEAR), by the public LRPX_RULE_MAP.
 * `arg` says what may follow the name after ':'. */
enum rule_arg {
    ARG_NONE = 0,      /* nothing                                   */
    ARG_NUM,           /* optional number >= 0, default `def`       */
    ARG_ALPHABETA,     /* A,B with A, B >= 0 and A - B = 1          */
    ARG_BOUNDS,        /* LOW,HIGH: numbers or per-channel lists    */
};

struct rule_info {
    const char   *syntax;
    enum rule_arg arg;
    const char   *param;      /* ARG_NUM: what the number is       */
    double        def;        /* ARG_NUM: its default              */
    bool          new_w;      /* uses a modified weight (work buffer) */
    unsigned      kinds;      /* the kinds of node it fits (bits)  */
    const char   *help;
};

static const char *const rule_names[LRPX_RULE_COUNT] = {
#define X(name, text) [LRPX_RULE_##name] = text,
    LRPX_RULE_MAP(X)
#undef X
};

#define K_LIN  LRPX_KIND_BIT(LRPX_KIND_LINEAR)
#define K_BIL  LRPX_KIND_BIT(LRPX_KIND_BILINEAR)
#define K_SOFT LRPX_KIND_BIT(LRPX_KIND_SOFTMAX)
#define K_NORM LRPX_KIND_BIT(LRPX_KIND_NORM)
#define K_ACT  LRPX_KIND_BIT(LRPX_KIND_ACTIVATION)
#define K_MAX  LRPX_KIND_BIT(LRPX_KIND_MAXLIKE)

/*                      syntax                  arg            param      default    modifies W, fits, help */
static const struct rule_info rule_info[LRPX_RULE_COUNT] = {
    [LRPX_RULE_ZERO]      = {"zero",            ARG_NONE,      NULL,      0, false, K_LIN,
                             "LRP-0: in proportion to the contributions z_ij / z_j"},
    [LRPX_RULE_EPSILON]   = {"epsilon[:EPS]",   ARG_NUM,       "epsilon", LRPX_LRP_DEFAULT_EPS, false, K_LIN,
                             "LRP-epsilon: z_ij / (z_j + EPS sign(z_j)), EPS default 1e-6"},
    [LRPX_RULE_GAMMA]     = {"gamma[:G]",       ARG_NUM,       "gamma",   LRPX_LRP_DEFAULT_GAMMA, true, K_LIN,
                             "LRP-gamma: positive contributions raised by G (default 0.25)"},
    [LRPX_RULE_ALPHABETA] = {"alphabeta:A,B",   ARG_ALPHABETA, NULL,      0, true, K_LIN,
                             "LRP-alpha-beta: A x positive minus B x negative shares, A - B = 1"},
    [LRPX_RULE_ZPLUS]     = {"zplus",           ARG_NONE,      NULL,      0, true, K_LIN,
                             "z+: alphabeta:1,0, positive contributions only"},
    [LRPX_RULE_ZBOX]      = {"zbox:LOW,HIGH",   ARG_BOUNDS,    NULL,      0, true, K_LIN,
                             "z^B: inputs bounded by LOW and HIGH (numbers, or [l1,..],[h1,..] "
                             "per channel)"},
    [LRPX_RULE_WSQUARE]   = {"wsquare",         ARG_NONE,      NULL,      0, true, K_LIN,
                             "w^2: in proportion to the squared weights"},
    [LRPX_RULE_FLAT]      = {"flat",            ARG_NONE,      NULL,      0, true, K_LIN,
                             "flat: evenly over each output's receptive field"},
    [LRPX_RULE_PASS]      = {"pass",            ARG_NONE,      NULL,      0, false,
                             K_LIN | K_NORM | K_ACT,
                             "relevance passed through unchanged (same shape)"},
    [LRPX_RULE_UNIFORM]   = {"uniform",         ARG_NONE,      NULL,      0, false, K_BIL,
                             "AttnLRP: the epsilon-rule (the stabiliser) on A.B, half to each "
                             "operand"},
    [LRPX_RULE_CONST_ATTN] = {"const-attn",     ARG_NONE,      NULL,      0, false, K_BIL,
                             "CP-LRP: the operand made by Softmax is a constant; the "
                             "epsilon-rule (the stabiliser) to the other"},
    [LRPX_RULE_TAYLOR]    = {"taylor",          ARG_NONE,      NULL,      0, false, K_SOFT | K_ACT,
                             "x . J^T (R / y), 0 where y = 0: AttnLRP's Softmax rule, the "
                             "gradient x input of CP-LRP's activations"},
    [LRPX_RULE_BLOCK]     = {"block",           ARG_NONE,      NULL,      0, false, K_SOFT,
                             "no relevance passes (CP-LRP's attention Softmax)"},
    [LRPX_RULE_NORM]      = {"norm",            ARG_NONE,      NULL,      0, false, K_NORM,
                             "sigma a constant, the epsilon-rule (the stabiliser) on the "
                             "centring and the affine rest"},
};

static const char *const maxpool_names[LRPX_MAXPOOL_COUNT] = {
#define X(name, text) [LRPX_MAXPOOL_##name] = text,
    LRPX_MAXPOOL_MAP(X)
#undef X
};

static const char *const maxpool_help[LRPX_MAXPOOL_COUNT] = {
    [LRPX_MAXPOOL_WINNER]       = "all to the first maximum of the window (default; PyTorch's "
                                  "gradient)",
    [LRPX_MAXPOOL_WINNER_SPLIT] = "tied maxima share evenly",
    [LRPX_MAXPOOL_SUM]          = "as a sum-pool: in proportion to the inputs",
};

/* Selectors, in the order they are tried; an op type is the fallback. */
struct sel_info {
    enum lrpx_sel_kind sel;
    const char        *word;      /* exact word, or prefix when arg       */
    bool               arg;       /* "index:N", "name:NODE"                */
    enum lrpx_kind     kind;      /* LRPX_SEL_KIND                        */
    const char        *syntax;
    const char        *help;
};

static const struct sel_info selectors[] = {
    {LRPX_SEL_ALL,   "*",      false, 0, "*",
     "every node the rule fits: linear layers, or max pools for a max-pool mode, ..."},
    {LRPX_SEL_FIRST, "first",  false, 0, "first", "the first linear layer from the input"},
    {LRPX_SEL_INDEX, "index:", true,  0, "index:N",
     "the N-th linear layer (0-based, topological order)"},
    {LRPX_SEL_NAME,  "name:",  true,  0, "name:NODE",
     "the node named NODE (the last '=' separates the rule); a node of a pattern "
     "selects its pattern"},
    {LRPX_SEL_KIND,  "linear", false, LRPX_KIND_LINEAR, "linear",
     "every linear layer (a constant weight)"},
    {LRPX_SEL_KIND,  "bilinear", false, LRPX_KIND_BILINEAR, "bilinear",
     "every product of two computed values (attention's q.k^T and attn.v)"},
    {LRPX_SEL_KIND,  "softmax", false, LRPX_KIND_SOFTMAX, "softmax",
     "every Softmax inside the network"},
    {LRPX_SEL_KIND,  "norm",   false, LRPX_KIND_NORM, "norm",
     "every LayerNormalization and LayerNorm/RMSNorm pattern"},
    {LRPX_SEL_KIND,  "activation", false, LRPX_KIND_ACTIVATION, "activation",
     "every element-wise nonlinearity and GELU/SiLU pattern"},
    {LRPX_SEL_OP,    NULL,     false, 0, "OP",
     "every node of an ONNX op type lrpx supports (Conv, Gemm, MaxPool, ...) the rule fits"},
};
#define N_SELECTORS ((int)(sizeof selectors / sizeof selectors[0]))

/* Composites. The first seven as Zennit defines them
 * (zennit/composites.py): a rule per layer kind (Convolution =
 * Conv/ConvTranspose, Dense = Gemm/MatMul), and optionally another for the
 * first layer in the plan's topological order, with epsilon 1e-6, gamma
 * 0.25 and the stabiliser 1e-6 of Zennit's defaults; they pass relevance
 * through norms and activations and have no rule for products of computed
 * values or Softmax. attn_lrp and cp_lrp are the transformer rule sets
 * (docs/transformers.md). */
#define NONE_R LRPX_RULE_NONE
#define CLASSIC NONE_R, NONE_R, LRPX_RULE_PASS, LRPX_RULE_PASS, LRPX_LRP_DEFAULT_STAB
static const struct lrpx_composite composites[] = {
    /* name                        first layer       rule            conv                 dense            a  b  bilinear, softmax, norm, activation, stabiliser */
    {"epsilon_plus",              LRPX_FIRST_NONE,   LRPX_RULE_ZERO, {LRPX_RULE_ZPLUS,     LRPX_RULE_EPSILON}, 1, 0, CLASSIC},
    {"epsilon_plus_flat",         LRPX_FIRST_LINEAR, LRPX_RULE_FLAT, {LRPX_RULE_ZPLUS,     LRPX_RULE_EPSILON}, 1, 0, CLASSIC},
    {"epsilon_alpha2_beta1",      LRPX_FIRST_NONE,   LRPX_RULE_ZERO, {LRPX_RULE_ALPHABETA, LRPX_RULE_EPSILON}, 2, 1, CLASSIC},
    {"epsilon_alpha2_beta1_flat", LRPX_FIRST_LINEAR, LRPX_RULE_FLAT, {LRPX_RULE_ALPHABETA, LRPX_RULE_EPSILON}, 2, 1, CLASSIC},
    {"epsilon_gamma_box",         LRPX_FIRST_CONV,   LRPX_RULE_ZBOX, {LRPX_RULE_GAMMA,     LRPX_RULE_EPSILON}, 1, 0, CLASSIC},
    {"lrp0",                      LRPX_FIRST_NONE,   LRPX_RULE_ZERO, {LRPX_RULE_ZERO,      LRPX_RULE_ZERO},    1, 0, CLASSIC},
    {"epsilon",                   LRPX_FIRST_NONE,   LRPX_RULE_ZERO, {LRPX_RULE_EPSILON,   LRPX_RULE_EPSILON}, 1, 0, CLASSIC},
    {"attn_lrp",                  LRPX_FIRST_NONE,   LRPX_RULE_ZERO, {LRPX_RULE_EPSILON,   LRPX_RULE_EPSILON}, 1, 0,
     LRPX_RULE_UNIFORM, LRPX_RULE_TAYLOR, LRPX_RULE_NORM, LRPX_RULE_PASS, LRPX_LRP_DEFAULT_STAB},
    {"cp_lrp",                    LRPX_FIRST_NONE,   LRPX_RULE_ZERO, {LRPX_RULE_ZERO,      LRPX_RULE_ZERO},    1, 0,
     LRPX_RULE_CONST_ATTN, LRPX_RULE_BLOCK, LRPX_RULE_NORM, LRPX_RULE_TAYLOR, 0.0},
};
#define N_COMPOSITES ((int)(sizeof composites / sizeof composites[0]))

static const char *const kind_names[LRPX_KIND_COUNT] = {
    [LRPX_KIND_OTHER]      = "other nodes",
    [LRPX_KIND_LINEAR]     = "linear layers",
    [LRPX_KIND_BILINEAR]   = "products of two computed values",
    [LRPX_KIND_SOFTMAX]    = "Softmax",
    [LRPX_KIND_NORM]       = "norms",
    [LRPX_KIND_ACTIVATION] = "activations",
    [LRPX_KIND_MAXLIKE]    = "max pools",
    [LRPX_KIND_MEMBER]     = "nodes inside a pattern",
};

const char *
lrpx__lrp_kind_name(enum lrpx_kind k)
{
    return (unsigned)k < LRPX_KIND_COUNT ? kind_names[k] : "?";
}

unsigned
lrpx__lrp_rule_kinds(lrpx_rule rule)
{
    return (unsigned)rule < LRPX_RULE_COUNT ? rule_info[rule].kinds : 0;
}

unsigned
lrpx__lrp_class_kinds(enum lrpx_lrp_class c)
{
    switch (c) {
    case LRPX_LRP_CLASS_LINEAR:     return K_LIN | K_BIL;
    case LRPX_LRP_CLASS_MAXLIKE:    return K_MAX;
    case LRPX_LRP_CLASS_SOFTMAX:    return K_SOFT;
    case LRPX_LRP_CLASS_NORM:       return K_NORM;
    case LRPX_LRP_CLASS_GATE:
    case LRPX_LRP_CLASS_ACTIVATION: return K_ACT;
    default:                        return 0;
    }
}

/* "linear layers, norms or activations" of a kind mask */
static void
kinds_text(unsigned kinds, char *buf, size_t size)
{
    int n = 0, k = 0;
    for (int i = 0; i < LRPX_KIND_COUNT; i++)
        n += (kinds >> i) & 1;
    size_t l = 0;
    buf[0]   = '\0';
    for (int i = 0; i < LRPX_KIND_COUNT && l < size; i++)
        if ((kinds >> i) & 1) {
            l += (size_t)snprintf(buf + l, size - l, "%s%s",
                                  k == 0 ? "" : k == n - 1 ? " or " : ", ", kind_names[i]);
            k++;
        }
}

/* ---- names ---- */

const char *
lrpx_rule_name(lrpx_rule rule)
{
    return (unsigned)rule < LRPX_RULE_COUNT ? rule_names[rule] : "?";
}

bool
lrpx__lrp_rule_modifies_w(lrpx_rule rule)
{
    return (unsigned)rule < LRPX_RULE_COUNT && rule_info[rule].new_w;
}

const char *
lrpx_maxpool_mode_name(lrpx_maxpool_mode mode)
{
    return (unsigned)mode < LRPX_MAXPOOL_COUNT ? maxpool_names[mode] : "?";
}

const char *
lrpx_lrp_composite_name(int i)
{
    return i >= 0 && i < N_COMPOSITES ? composites[i].name : NULL;
}

const struct lrpx_composite *
lrpx__lrp_composite_find(const char *name)
{
    for (int i = 0; i < N_COMPOSITES; i++)
        if (!strcmp(composites[i].name, name))
            return &composites[i];
    return NULL;
}

void
lrpx__lrp_composite_list(char *buf, size_t size)
{
    size_t k = 0;
    buf[0]   = '\0';
    for (int i = 0; i < N_COMPOSITES && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%s", i ? ", " : "", composites[i].name);
}

/* "a, b or c" of a name table */
static void
names_list(const char *const *names, int n, char *buf, size_t size)
{
    size_t k = 0;
    buf[0]   = '\0';
    for (int i = 0; i < n && k < size; i++)
        k += (size_t)snprintf(buf + k, size - k, "%s%s", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                              names[i]);
}

void
lrpx__lrp_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

#define errf lrpx__lrp_errf

/* ---- parsing "SELECTOR=RULE" ---- */

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

/* "RULE" part of a spec (whole: the spec, for messages). */
static lrpx_status
parse_rule(const char *r, struct lrpx_rule_spec *sp, const char *whole, char *err, size_t errlen)
{
    const char *colon = strchr(r, ':');
    size_t      nlen  = colon ? (size_t)(colon - r) : strlen(r);
    const char *arg   = colon ? colon + 1 : NULL;
    const char *end   = arg ? arg + strlen(arg) : NULL;
    sp->n_c           = 0;

    for (int m = 0; m < LRPX_MAXPOOL_COUNT; m++) {
        if (nlen != strlen(maxpool_names[m]) || strncmp(r, maxpool_names[m], nlen))
            continue;
        if (arg) {
            errf(err, errlen, "rule spec '%s': rule '%.*s' takes no parameter", whole,
                 (int)nlen, r);
            return LRPX_EINVAL;
        }
        sp->is_maxpool = true;
        sp->kinds      = K_MAX;
        sp->maxpool    = (lrpx_maxpool_mode)m;
        return LRPX_OK;
    }
    int k = 0;
    while (k < LRPX_RULE_COUNT &&
           (nlen != strlen(rule_names[k]) || strncmp(r, rule_names[k], nlen)))
        k++;
    if (k == LRPX_RULE_COUNT) {
        char modes[96];
        errf(err, errlen, "rule spec '%s': unknown rule '%.*s' (expected ", whole, (int)nlen, r);
        size_t l = err && errlen ? strlen(err) : 0;
        for (int i = 0; i < LRPX_RULE_COUNT && l < errlen; i++)
            l += (size_t)snprintf(err + l, errlen - l, "%s, ", rule_info[i].syntax);
        names_list(maxpool_names, LRPX_MAXPOOL_COUNT, modes, sizeof modes);
        if (err && l < errlen)
            snprintf(err + l, errlen - l, "or for max pools %s)", modes);
        return LRPX_EINVAL;
    }
    const struct rule_info *ri = &rule_info[k];
    sp->kinds  = ri->kinds;
    sp->rule   = (lrpx_rule)k;
    switch (ri->arg) {
    case ARG_NONE:
        if (arg) {
            errf(err, errlen, "rule spec '%s': rule '%.*s' takes no parameter", whole,
                 (int)nlen, r);
            return LRPX_EINVAL;
        }
        break;
    case ARG_NUM:
        sp->p1 = ri->def;
        if (arg && (!parse_num(arg, end, &sp->p1) || sp->p1 < 0)) {
            errf(err, errlen, "rule spec '%s': '%s' is not a valid %s (a number >= 0)", whole,
                 arg, ri->param);
            return LRPX_EINVAL;
        }
        break;
    case ARG_ALPHABETA: {
        const char *comma = arg ? strchr(arg, ',') : NULL;
        if (!comma || !parse_num(arg, comma, &sp->p1) ||
            !parse_num(comma + 1, end, &sp->p2)) {
            errf(err, errlen, "rule spec '%s': %s needs two numbers, %s", whole, rule_names[k],
                 ri->syntax);
            return LRPX_EINVAL;
        }
        if (sp->p1 < 0 || sp->p2 < 0 || fabs(sp->p1 - sp->p2 - 1.0) > 1e-9) {
            errf(err, errlen,
                 "rule spec '%s': alphabeta needs alpha >= 0, beta >= 0 and alpha - beta = 1 "
                 "(got alpha %g, beta %g)", whole, sp->p1, sp->p2);
            return LRPX_EINVAL;
        }
        break;
    }
    case ARG_BOUNDS: {
        const char *p = arg;
        float       hc[LRPX_LRP_MAX_BOX_C];
        int         nl = 0, nh = 0;
        if (!arg || !parse_bound(&p, end, &sp->p1, sp->low_c, &nl) || p >= end || *p != ',' ||
            (p++, !parse_bound(&p, end, &sp->p2, hc, &nh)) || p != end) {
            errf(err, errlen,
                 "rule spec '%s': %s needs bounds %s (numbers, or per channel "
                 "[l1,l2,...],[h1,h2,...] with at most %d channels)", whole, rule_names[k],
                 ri->syntax, LRPX_LRP_MAX_BOX_C);
            return LRPX_EINVAL;
        }
        if (nl != nh) {
            errf(err, errlen, "rule spec '%s': %s low and high must both be numbers or lists "
                 "of the same length", whole, rule_names[k]);
            return LRPX_EINVAL;
        }
        sp->n_c = nl;
        memcpy(sp->high_c, hc, sizeof hc);
        for (int c = 0; c < (nl ? nl : 1); c++) {
            double lo = nl ? sp->low_c[c] : sp->p1, hi = nl ? sp->high_c[c] : sp->p2;
            if (lo > hi) {
                errf(err, errlen, "rule spec '%s': %s low %g is above high %g", whole,
                     rule_names[k], lo, hi);
                return LRPX_EINVAL;
            }
        }
        break;
    }
    }
    return LRPX_OK;
}

/* "SELECTOR" part of a spec. */
static lrpx_status
parse_selector(const char *sel, struct lrpx_rule_spec *sp, const char *text, const char *rule,
               char *err, size_t errlen)
{
    const struct sel_info *si = NULL;
    for (int i = 0; i < N_SELECTORS && !si; i++) {
        const struct sel_info *c = &selectors[i];
        if (c->word && (c->arg ? !strncmp(sel, c->word, strlen(c->word)) : !strcmp(sel, c->word)))
            si = c;
    }
    const char *a = si && si->arg ? sel + strlen(si->word) : NULL;
    if (!si) {
        if (lrpx__op_lookup(sel, LRPX_OPSET_ANY) < 0) {
            errf(err, errlen,
                 "rule spec '%s': unknown selector '%s' (expected *, first, index:N, name:NODE "
                 "or an ONNX op type lrpx supports, e.g. Conv, Gemm, MaxPool)", text, sel);
            return LRPX_EINVAL;
        }
        sp->sel = LRPX_SEL_OP;
        snprintf(sp->sel_text, sizeof sp->sel_text, "%s", sel);
        enum lrpx_lrp_class c = lrpx__op_table[lrpx__op_lookup(sel, LRPX_OPSET_ANY)]->lrp_class;
        if (!(lrpx__lrp_class_kinds(c) & sp->kinds)) {
            char what[160];
            kinds_text(sp->kinds, what, sizeof what);
            if (sp->kinds == K_LIN || sp->kinds == K_MAX) {
                char ops[256];
                lrpx__op_names(sp->kinds == K_LIN ? LRPX_LRP_CLASS_LINEAR
                                                  : LRPX_LRP_CLASS_MAXLIKE, -1, ops, sizeof ops);
                errf(err, errlen, "rule spec '%s': rule '%s' applies to %s (%s), not to %s",
                     text, rule, what, ops, sel);
            } else {
                errf(err, errlen, "rule spec '%s': rule '%s' applies to %s, not to %s", text,
                     rule, what, sel);
            }
            return LRPX_EINVAL;
        }
        return LRPX_OK;
    }
    sp->sel = si->sel;
    if (si->sel == LRPX_SEL_INDEX) {
        char     *end;
        long long v = strtoll(a, &end, 10);
        if (!a[0] || *end || v < 0 || !isdigit((unsigned char)a[0])) {
            errf(err, errlen, "rule spec '%s': selector '%s' needs a whole number >= 0", text, sel);
            return LRPX_EINVAL;
        }
        sp->index = v;
    } else if (si->sel == LRPX_SEL_NAME) {
        if (!a[0]) {
            errf(err, errlen, "rule spec '%s': selector '%s' needs a node name", text, sel);
            return LRPX_EINVAL;
        }
        snprintf(sp->sel_text, sizeof sp->sel_text, "%s", a);
    }
    sp->kind = si->kind;
    /* first and index:N count linear layers */
    enum lrpx_kind picks = si->sel == LRPX_SEL_KIND ? si->kind
                         : si->sel == LRPX_SEL_FIRST || si->sel == LRPX_SEL_INDEX
                             ? LRPX_KIND_LINEAR : LRPX_KIND_OTHER;
    if (picks != LRPX_KIND_OTHER && !(sp->kinds & LRPX_KIND_BIT(picks))) {
        char what[160];
        kinds_text(sp->kinds, what, sizeof what);
        errf(err, errlen, "rule spec '%s': selector '%s' picks %s; rule '%s' is for %s", text,
             sel, kind_names[picks], rule, what);
        return LRPX_EINVAL;
    }
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
    char sel[sizeof sp->sel_text];
    memcpy(sel, text, slen);
    sel[slen]      = '\0';
    lrpx_status rc = parse_rule(eq + 1, sp, text, err, errlen);
    if (rc != LRPX_OK)
        return rc;
    return parse_selector(sel, sp, text, eq + 1, err, errlen);
}

/* ---- rule texts ---- */

void
lrpx__lrp_rule_text(const struct lrpx_rule_cfg *c, enum lrpx_kind kind, bool proportional,
                    char *buf, size_t size)
{
    if (size)
        buf[0] = '\0';
    switch (kind) {
    case LRPX_KIND_LINEAR:
        switch ((unsigned)c->rule < LRPX_RULE_COUNT ? rule_info[c->rule].arg : ARG_NONE) {
        case ARG_NUM:
            snprintf(buf, size, "%s:%g", rule_names[c->rule],
                     c->rule == LRPX_RULE_EPSILON ? c->eps : c->gamma);
            break;
        case ARG_ALPHABETA:
            snprintf(buf, size, "%s:%g,%g", rule_names[c->rule], c->alpha, c->beta);
            break;
        case ARG_BOUNDS:
            if (c->n_c > 0)
                snprintf(buf, size, "%s:[%d channels]", rule_names[c->rule], c->n_c);
            else
                snprintf(buf, size, "%s:%g,%g", rule_names[c->rule], c->low, c->high);
            break;
        default:
            snprintf(buf, size, "%s", lrpx_rule_name(c->rule));
            break;
        }
        break;
    case LRPX_KIND_MAXLIKE:
        snprintf(buf, size, "%s", lrpx_maxpool_mode_name(c->maxpool));
        break;
    case LRPX_KIND_BILINEAR:
    case LRPX_KIND_SOFTMAX:
    case LRPX_KIND_NORM:
    case LRPX_KIND_ACTIVATION:
        if (c->rule == LRPX_RULE_NONE)
            break;
        if (c->rule == LRPX_RULE_NORM || c->rule == LRPX_RULE_UNIFORM ||
            c->rule == LRPX_RULE_CONST_ATTN)
            snprintf(buf, size, "%s (e %g)", lrpx_rule_name(c->rule), c->stab);
        else
            snprintf(buf, size, "%s", lrpx_rule_name(c->rule));
        break;
    default:
        if (proportional)
            snprintf(buf, size, "proportional");
        break;
    }
}

/* ---- the language as data ---- */

static void
composite_text(const struct lrpx_composite *c, char *buf, size_t size)
{
    struct lrpx_rule_cfg cfg = {.eps = LRPX_LRP_DEFAULT_EPS, .gamma = LRPX_LRP_DEFAULT_GAMMA,
                                .alpha = c->alpha, .beta = c->beta, .low = NAN, .high = NAN};
    char conv[48], dense[48];
    cfg.rule = c->layer[LRPX_LAYER_CONV];
    lrpx__lrp_rule_text(&cfg, LRPX_KIND_LINEAR, false, conv, sizeof conv);
    cfg.rule = c->layer[LRPX_LAYER_DENSE];
    lrpx__lrp_rule_text(&cfg, LRPX_KIND_LINEAR, false, dense, sizeof dense);
    const char *first = c->first == LRPX_FIRST_LINEAR ? "first layer "
                      : c->first == LRPX_FIRST_CONV   ? "first convolution " : NULL;
    int l = snprintf(buf, size, "%s%s%sconvolutions %s; dense layers %s", first ? first : "",
                     first ? lrpx_rule_name(c->first_rule) : "", first ? "; " : "", conv, dense);
    if (c->bilinear == LRPX_RULE_NONE || l < 0 || (size_t)l >= size)
        return;                          /* the classic composites: no more */
    snprintf(buf + l, size - (size_t)l,
             "; bilinear %s; Softmax %s; norms %s; activations %s; stabiliser %g",
             lrpx_rule_name(c->bilinear), lrpx_rule_name(c->softmax), lrpx_rule_name(c->norm),
             lrpx_rule_name(c->activation), c->stab);
}

lrpx_status
lrpx_lrp_doc_entry(int i, lrpx_lrp_doc *out)
{
    if (!out || i < 0)
        return LRPX_EINVAL;
    memset(out, 0, sizeof *out);
    if (i < LRPX_RULE_COUNT) {
        out->kind   = LRPX_LRP_DOC_RULE;
        out->syntax = rule_info[i].syntax;
        out->help   = rule_info[i].help;
        kinds_text(rule_info[i].kinds, out->applies, sizeof out->applies);
        return LRPX_OK;
    }
    i -= LRPX_RULE_COUNT;
    if (i < LRPX_MAXPOOL_COUNT) {
        out->kind   = LRPX_LRP_DOC_MAXPOOL;
        out->syntax = maxpool_names[i];
        out->help   = maxpool_help[i];
        lrpx__op_names(LRPX_LRP_CLASS_MAXLIKE, -1, out->applies, sizeof out->applies);
        return LRPX_OK;
    }
    i -= LRPX_MAXPOOL_COUNT;
    if (i < N_SELECTORS) {
        out->kind   = LRPX_LRP_DOC_SELECTOR;
        out->syntax = selectors[i].syntax;
        out->help   = selectors[i].help;
        return LRPX_OK;
    }
    i -= N_SELECTORS;
    if (i < N_COMPOSITES) {
        out->kind   = LRPX_LRP_DOC_COMPOSITE;
        out->syntax = composites[i].name;
        out->help   = i == 0 ? "the default" : "";
        composite_text(&composites[i], out->applies, sizeof out->applies);
        return LRPX_OK;
    }
    return LRPX_EINVAL;
}

/* ---- public option helpers ---- */

lrpx_status
lrpx_lrp_options_parse_rule(struct lrpx_lrp_options *o, const char *spec, char *errbuf,
                            size_t errlen)
{
    lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);   /* "" unless it fails */
    struct lrpx_rule_spec sp;
    if (!o) {
        errf(errbuf, errlen, "options are NULL");
        return LRPX_EINVAL;
    }
    lrpx_status rc = lrpx__lrp_spec_parse(spec, &sp, errbuf, errlen);
    if (rc != LRPX_OK)
        return rc;
    if (o->n_overrides < 0 || o->n_overrides >= LRPX_LRP_MAX_OVERRIDES) {
        errf(errbuf, errlen, "rule spec '%s': too many rule overrides (at most %d)", spec,
             LRPX_LRP_MAX_OVERRIDES);
        return LRPX_EINVAL;
    }
    if (strlen(spec) >= LRPX_LRP_OVERRIDE_MAX) {
        errf(errbuf, errlen, "rule spec '%.40s...': longer than %d characters", spec,
             LRPX_LRP_OVERRIDE_MAX - 1);
        return LRPX_EINVAL;
    }
    strcpy(o->overrides[o->n_overrides++], spec);
    return LRPX_OK;
}

bool
lrpx__lrp_set_composite(struct lrpx_lrp_options *o, const char *name, char *err, size_t errlen)
{
    if (!lrpx__lrp_composite_find(name) || strlen(name) >= sizeof o->composite) {
        char list[256];
        lrpx__lrp_composite_list(list, sizeof list);
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
    lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);   /* "" unless it fails */
    if (!o || !name) {
        errf(errbuf, errlen, "options or name are NULL");
        return LRPX_EINVAL;
    }
    return lrpx__lrp_set_composite(o, name, errbuf, errlen) ? LRPX_OK : LRPX_EINVAL;
}

lrpx_status
lrpx_lrp_options_parse_maxpool(const char *text, lrpx_maxpool_mode *mode)
{
    if (!text || !mode)
        return LRPX_EINVAL;
    for (int m = 0; m < LRPX_MAXPOOL_COUNT; m++)
        if (!strcmp(text, maxpool_names[m])) {
            *mode = (lrpx_maxpool_mode)m;
            return LRPX_OK;
        }
    return LRPX_EINVAL;
}
