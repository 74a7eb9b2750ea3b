/* Internals of the attribution methods (src/methods/): the state of one
 * lrpx_session_attribute call, and the batch driver that feeds perturbed
 * or interpolated inputs through the session's second ("aux") session.
 *
 *   attribute.c   names, defaults, the front end, the gradient family
 *                 (gradient, gradxinput, saliency, sensitivity, deconvnet,
 *                 guided-backprop) and LRP on the caller's session
 *   batch.c       the aux session and lrpx__meth_rows
 *   ig.c          quadrature points and integrated gradients
 *   noise.c       smoothgrad, smoothgrad-sq, vargrad
 *   perturb.c     occlusion and feature ablation
 *   taylor.c      the root search and the simple Taylor decomposition
 */
#ifndef LRPX_METHODS_IMPL_H
#define LRPX_METHODS_IMPL_H

#include "exec/session.h"

/* One lrpx_session_attribute call. */
struct lrpx_meth {
    lrpx_session                   *s;       /* the caller's session          */
    const struct lrpx_attr_options *o;
    int                             in_value; /* the explained input (graph   */
    const char                     *in_name;  /* value index, name)           */
    int                             rank;     /* its shape; dims[0] = batch   */
    int64_t                         dims[LRPX_MAX_RANK];
    int64_t                         n, per;   /* samples, floats per sample   */
    float                          *x;        /* copy of the input, n * per   */
    int64_t                         n_out;    /* explained output per sample  */
    float                          *w;        /* n * n_out: the seed of each  */
                                              /* sample (one-hot or tensor)   */
    float                          *out;      /* the map, n * per (s->attr)   */
    struct lrpx_attr_report        *rep;      /* n (s->attr_rep)              */
};

/* The explained score of one output row for sample b's seed: the class
 * logit (exactly, for a one-hot seed) or the seed-weighted sum. */
double lrpx__meth_score(const struct lrpx_meth *m, int64_t b, const float *row);

/* ---- batch.c ---- */

/* A batch job: n_rows inputs, each filled by fill (per floats, and the
 * sample whose class it is evaluated for), evaluated in chunks of the
 * internal batch size on the aux session, and handed to take in row
 * order with the row itself, its score and, when grad, the gradient of
 * the score with respect to the row (NULL otherwise; per floats each,
 * valid during the call). */
struct lrpx_rows {
    int64_t n_rows;
    bool    grad;
    void  (*fill)(void *ctx, int64_t r, float *row, int64_t *sample);
    void  (*take)(void *ctx, int64_t r, const float *row, const float *grad, double score);
    void   *ctx;
};
lrpx_status lrpx__meth_rows(struct lrpx_meth *m, const struct lrpx_rows *job);

/* ---- the methods (each fills m->out and the method's report fields) ---- */

lrpx_status lrpx__meth_integrated_gradients(struct lrpx_meth *m);
lrpx_status lrpx__meth_noise(struct lrpx_meth *m);             /* smoothgrad family */
lrpx_status lrpx__meth_occlusion(struct lrpx_meth *m);
lrpx_status lrpx__meth_feature_ablation(struct lrpx_meth *m);
lrpx_status lrpx__meth_taylor(struct lrpx_meth *m);

/* Broadcast a tensor view of `what` (numpy rules, right-aligned) to the
 * input's shape: *index receives m->n * m->per offsets into v's elements.
 * Errors (LRPX_EINVAL, naming `what` and both shapes) go to the session. */
lrpx_status lrpx__meth_broadcast(struct lrpx_meth *m, const lrpx_tensor_view *v,
                                 const char *what, int64_t **index);

#endif /* LRPX_METHODS_IMPL_H */
