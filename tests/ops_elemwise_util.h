/* Helpers shared by the element-wise op test programs (test_ops_broadcast,
 * test_ops_int_arith, test_ops_unary, test_ops_elemwise_grad,
 * test_ops_elemwise_errors): seeded random numbers, small test tensors of
 * any dtype held as doubles, building and running a model over them, and
 * numpy broadcasting written independently of the library. */
#ifndef OPS_ELEMWISE_UTIL_H
#define OPS_ELEMWISE_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "lrpx_test.h"

/* ---- test tensors: any dtype, read and written as doubles ---- */

#define TT_MAX_IN 4

struct tt {
    char       name[16];
    lrpx_dtype dt;
    int        rank;
    int64_t    dims[LRPX_MAX_RANK];
    int64_t    n;
    void      *data;       /* malloc, n elements of dt */
};

/* ---- random numbers (xorshift64*, fixed seeds; one stream per program) ---- */

void rng_seed(uint64_t s);
double rng_u(void);
double rng_range(double lo, double hi);

/* product of d[0..r) */
int64_t prod(const int64_t *d, int r);
void tt_init(struct tt *t, const char *name, lrpx_dtype dt, int rank, const int64_t *dims);
void tt_free(struct tt *t);
double tt_get(const struct tt *t, int64_t i);
void tt_set(struct tt *t, int64_t i, double v);
void tt_rand(struct tt *t, double lo, double hi, bool mag);

/* ---- models and sessions (see ops_elemwise_util.c) ---- */

void declare_inputs(lrpx_test_model *m, const struct tt *in, int n_in);
lrpx_status try_run(lrpx_test_model *m, const struct tt *in, int n_in, lrpx_model **model,
                    lrpx_session **s, char *msg, size_t msg_size);
lrpx_session *run_ok(lrpx_test_model *m, const struct tt *in, int n_in, lrpx_model **model);
double *output_f64(lrpx_session *s, int i, lrpx_dtype dt, int rank, const int64_t *dims);

/* ---- numpy broadcasting, written independently of the library ---- */

bool ref_bshape(int ra, const int64_t *da, int rb, const int64_t *db, int *r, int64_t *d);
int64_t ref_bidx(int64_t k, int orank, const int64_t *odims, int r, const int64_t *d);

#endif /* OPS_ELEMWISE_UTIL_H */
