/* Helpers shared by the element-wise op test programs (ops_elemwise_util.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lrpx_test.h"
#include "ops_elemwise_util.h"

/* ---- random numbers (xorshift64*, fixed seeds) ---- */

static uint64_t rng_state = 88172645463325252ull;

void
rng_seed(uint64_t s)
{
    rng_state = s * 2685821657736338717ull + 1;
}

double
rng_u(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

double
rng_range(double lo, double hi)
{
    return lo + (hi - lo) * rng_u();
}

/* ---- test tensors ---- */


int64_t
prod(const int64_t *d, int r)
{
    int64_t p = 1;
    for (int i = 0; i < r; i++)
        p *= d[i];
    return p;
}

void
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

void
tt_free(struct tt *t)
{
    free(t->data);
    t->data = NULL;
}

double
tt_get(const struct tt *t, int64_t i)
{
    struct lrpx_tensor v = {.dtype = t->dt, .data = t->data};
    return lrpx__tensor_get_f64(&v, i);
}

void
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
void
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

void
declare_inputs(lrpx_test_model *m, const struct tt *in, int n_in)
{
    for (int i = 0; i < n_in; i++)
        lrpx_test_model_input(m, in[i].name, in[i].dt, in[i].rank, in[i].dims);
}

/* Load, make a session, set the inputs and run. Returns the first failing
 * status (and its message in msg); on success *model and *s are set. The
 * caller frees both (NULL is fine). */
lrpx_status
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

lrpx_session *
run_ok(lrpx_test_model *m, const struct tt *in, int n_in, lrpx_model **model)
{
    lrpx_session *s;
    char          msg[LRPX_ERRMSG_SIZE];
    lrpx_status   rc = try_run(m, in, n_in, model, &s, msg, sizeof msg);
    ck_assert_msg(rc == LRPX_OK, "%s: %s", lrpx_status_name(rc), msg);
    return s;
}

/* Output 0 as doubles (malloc) after checking dtype and shape. */
double *
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

bool
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
int64_t
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
