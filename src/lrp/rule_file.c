/* The JSON rule file (lrpx_lrp_options_parse_json / _load_json): the
 * options of the rule-spec language (spec.c) as one object, applied all or
 * nothing. Format: docs/lrp.md, "Rule files". */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "lrp/lrp_impl.h"

#define errf lrpx__lrp_errf

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
    lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);   /* "" unless it fails */
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
            if (!cJSON_IsString(it) || !lrpx__lrp_set_composite(&t, it->valuestring, sub, sizeof sub)) {
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
        } else if (!strcmp(k, "stabilizer")) {
            if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0.0) || !isfinite(it->valuedouble)) {
                errf(errbuf, errlen, "%s: \"stabilizer\" must be a number >= 0", name);
                rc = LRPX_EINVAL;
            } else
                t.stabilizer = it->valuedouble;
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
                 "zero_bias, stabilizer, low, high)", name, k);
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
    lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);   /* "" unless it fails */
    if (!o || !path) {
        errf(errbuf, errlen, "options or path are NULL");
        return LRPX_EINVAL;
    }
    static const struct lrpx_file_cap cap = {(size_t)1 << 24, LRPX_ELIMIT, "a rule file"};
    struct lrpx_err                   err;
    void                             *buf;
    size_t                            len;
    if (lrpx__slurp(path, &cap, &buf, &len, &err) != LRPX_OK)
        return lrpx__errbuf_done(err.status, &err, errbuf, errlen);
    lrpx_status rc = lrpx_lrp_options_parse_json(o, buf, len, path, errbuf, errlen);
    lrpx__free(buf);
    return rc;
}
