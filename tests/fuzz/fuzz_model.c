/* Fuzz target: lrpx_model_load_buffer on arbitrary bytes and, when the
 * model loads, the whole pipeline: every graph input gets a small tensor of
 * its declared shape (symbolic dimensions 1, values taken from the input
 * bytes), then run, gradient and explain with the default options. Errors
 * are expected; crashes, hangs, sanitizer reports and memory blow-ups are
 * not.
 *
 * With libFuzzer it is linked with model_mutator.c, a structure-aware
 * mutator (LLVMFuzzerCustomMutator) that edits a parsed ModelProto; see
 * docs/testing.md, "Hostile models". Load options are the library's
 * defaults, so memory findings are about what a default load allows; set
 * LRPX_FUZZ_TIGHT=1 to use 64 MiB / 512 MiB limits and look past them.
 * LRPX_FUZZ_VERBOSE=1 prints every status (for triage).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int tight = -1, verbose = -1;

#define SAY(...)                              \
    do {                                      \
        if (verbose)                          \
            fprintf(stderr, __VA_ARGS__);     \
    } while (0)

/* Input values from the fuzz bytes: small integers (indices, shapes, axes
 * stay plausible) and floats in [-4, 4). */
static void
fill(void *buf, lrpx_dtype dt, int64_t n, const uint8_t *data, size_t size)
{
    for (int64_t i = 0; i < n; i++) {
        uint8_t b = size ? data[(size_t)(i * 7 + 3) % size] : (uint8_t)i;
        switch (dt) {
        case LRPX_DTYPE_FLOAT32: ((float *)buf)[i] = ((int)b - 128) / 32.0f; break;
        case LRPX_DTYPE_FLOAT64: ((double *)buf)[i] = ((int)b - 128) / 32.0; break;
        case LRPX_DTYPE_INT64:   ((int64_t *)buf)[i] = b % 4; break;
        case LRPX_DTYPE_INT32:   ((int32_t *)buf)[i] = b % 4; break;
        case LRPX_DTYPE_UINT32:  ((uint32_t *)buf)[i] = b % 4; break;
        case LRPX_DTYPE_UINT64:  ((uint64_t *)buf)[i] = b % 4; break;
        case LRPX_DTYPE_INT16:   ((int16_t *)buf)[i] = (int16_t)(b % 4); break;
        case LRPX_DTYPE_UINT16:  ((uint16_t *)buf)[i] = (uint16_t)(b % 4); break;
        case LRPX_DTYPE_BOOL:    ((uint8_t *)buf)[i] = b & 1; break;
        default:                 ((uint8_t *)buf)[i] = b % 4; break;
        }
    }
}

static void
feed_inputs(lrpx_model *m, lrpx_session *s, const uint8_t *data, size_t size)
{
    for (int i = 0; i < lrpx_model_n_inputs(m); i++) {
        lrpx_value_info vi;
        if (lrpx_model_input_info(m, i, &vi) != LRPX_OK || vi.rank < 0)
            continue;
        int64_t dims[LRPX_MAX_RANK], n = 1;
        int     ok = 1;
        for (int k = 0; k < vi.rank && ok; k++) {
            dims[k] = vi.dims[k] < 0 ? 1 : vi.dims[k];
            ok      = dims[k] <= (1 << 16) && (n *= dims[k]) <= (1 << 18);
        }
        if (!ok)
            continue;   /* too large to feed: the run reports the missing input */
        lrpx_dtype dt = vi.dtype;
        size_t     es = lrpx_dtype_size(dt);
        if (es == 0) {
            dt = LRPX_DTYPE_FLOAT32;
            es = 4;
        }
        void *buf = malloc((size_t)(n ? n : 1) * es);
        if (!buf)
            continue;
        fill(buf, dt, n, data, size);
        lrpx_status rc = lrpx_session_set_input(s, vi.name, dt, vi.rank, dims, buf);
        SAY("set_input %s: %s %s\n", vi.name, lrpx_status_name(rc), lrpx_session_errmsg(s));
        free(buf);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (tight < 0) {
        const char *e = getenv("LRPX_FUZZ_TIGHT");
        tight         = e && e[0] == '1';
        e             = getenv("LRPX_FUZZ_VERBOSE");
        verbose       = e && e[0] == '1';
    }
    struct lrpx_load_options o, *op = NULL;
    if (tight) {
        lrpx_load_options_default(&o);
        o.max_tensor_bytes = 64 << 20;
        o.max_total_bytes  = 512 << 20;
        op                 = &o;
    }
    lrpx_model *m  = NULL;
    lrpx_status rc = lrpx_model_load_buffer(data, size, NULL, op, &m);
    SAY("load: %s %s\n", lrpx_status_name(rc), lrpx_model_errmsg(m));
    if (rc != LRPX_OK) {
        lrpx_model_free(m);
        return 0;
    }
    /* introspection must work on any model that loaded */
    for (int i = 0; i < lrpx_model_n_outputs(m); i++) {
        lrpx_value_info vi;
        lrpx_model_output_info(m, i, &vi);
    }
    for (int ap = 0; ap < 2; ap++)
        for (int i = 0; i < lrpx_model_n_nodes(m, ap); i++) {
            lrpx_node_info ni;
            lrpx_model_node_info(m, ap, i, &ni);
        }

    lrpx_session *s = NULL;
    if (lrpx_session_init(m, &s) == LRPX_OK) {
        lrpx_session_set_threads(s, 1);
        feed_inputs(m, s, data, size);
        rc = lrpx_session_run(s);
        SAY("run: %s %s\n", lrpx_status_name(rc), lrpx_session_errmsg(s));
        if (rc == LRPX_OK) {
            lrpx_tensor_view v;
            for (int i = 0; i < lrpx_model_n_outputs(m); i++)
                lrpx_session_output(s, i, &v);
            struct lrpx_lrp_options lo;
            lrpx_lrp_options_default(&lo);
            rc = lrpx_session_gradient(s, &lo);
            SAY("gradient: %s %s\n", lrpx_status_name(rc), lrpx_session_errmsg(s));
            if (rc == LRPX_OK)
                lrpx_session_gradient_of(s, NULL, &v);
            rc = lrpx_session_explain(s, &lo);
            SAY("explain: %s %s\n", lrpx_status_name(rc), lrpx_session_errmsg(s));
            if (rc == LRPX_OK)
                lrpx_session_relevance(s, NULL, &v);
        }
    }
    lrpx_session_free(s);
    lrpx_model_free(m);
    return 0;
}
