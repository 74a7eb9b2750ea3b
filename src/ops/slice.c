/* Slice — take start:end:step along some axes.
 *
 * ONNX: https://onnx.ai/onnx/operators/onnx__Slice.html  (opsets 1, 10, 11, 13)
 *       opset < 10: `starts`, `ends`, `axes` attributes (step 1); from 10:
 *       inputs starts, ends, axes?, steps? (known at prepare). Negative
 *       starts/ends count from the back of the axis, then are clamped:
 *       to [0, dim] for positive steps and to [-1, dim-1] for negative
 *       steps. That is numpy's (and Python's) slicing, which the spec
 *       says Slice follows; the spec's own text clamps a negative-step
 *       start to [0, dim-1], which differs only for a start before the
 *       first element (numpy: empty; that text: the first element). Any
 *       element type.
 * LRP:  a pure rearrangement: each output's gradient or relevance goes
 *       back to the element it was taken from; unsliced elements get 0.
 */
#include <stdio.h>

#include "ops/kernels/move_impl.h"

static int64_t
slice_clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static lrpx_status
slice_prepare(struct lrpx_exec *x, const struct lrpx_node *n)
{
    lrpx_status rc = lrpx__move_check_dtype(x, n, 0);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *in = lrpx__in(x, n, 0);
    const int                 r  = in->rank;

    int64_t starts[LRPX_MAX_RANK], ends[LRPX_MAX_RANK], axes[LRPX_MAX_RANK];
    int64_t steps[LRPX_MAX_RANK];
    int     n_starts, n_ends, n_axes = -1, n_steps = -1;
    if (x->opset < 10) {
        const int64_t *s, *e, *a;
        if (!lrpx__attr_find(n, "starts") || !lrpx__attr_find(n, "ends"))
            return lrpx__node_error(x, n, LRPX_EINVAL, "attributes 'starts' and 'ends' are required");
        n_starts = lrpx__attr_ints(n, "starts", &s);
        n_ends   = lrpx__attr_ints(n, "ends", &e);
        if (n_starts > r || n_ends > r)
            return lrpx__node_error(x, n, LRPX_ESHAPE, "more starts/ends than the %d axes", r);
        for (int k = 0; k < n_starts; k++)
            starts[k] = s[k];
        for (int k = 0; k < n_ends; k++)
            ends[k] = e[k];
        if (lrpx__attr_find(n, "axes")) {
            n_axes = lrpx__attr_ints(n, "axes", &a);
            if (n_axes > r)
                return lrpx__node_error(x, n, LRPX_ESHAPE, "more axes than the %d axes", r);
            for (int k = 0; k < n_axes; k++)
                axes[k] = a[k];
        }
    } else {
        if ((rc = lrpx__move_ints(x, n, 1, "starts", starts, r, &n_starts)) != LRPX_OK ||
            (rc = lrpx__move_ints(x, n, 2, "ends", ends, r, &n_ends)) != LRPX_OK)
            return rc;
        if (lrpx__in(x, n, 3) &&
            (rc = lrpx__move_ints(x, n, 3, "axes", axes, r, &n_axes)) != LRPX_OK)
            return rc;
        if (lrpx__in(x, n, 4) &&
            (rc = lrpx__move_ints(x, n, 4, "steps", steps, r, &n_steps)) != LRPX_OK)
            return rc;
    }
    if (n_ends != n_starts || (n_axes >= 0 && n_axes != n_starts) ||
        (n_steps >= 0 && n_steps != n_starts))
        return lrpx__node_error(x, n, LRPX_ESHAPE,
                                "starts, ends, axes and steps differ in length (%d, %d, %d, %d)",
                                n_starts, n_ends, n_axes, n_steps);

    /* ---- per axis: first element, step and count ---- */
    int64_t first[LRPX_MAX_RANK], step[LRPX_MAX_RANK], dims[LRPX_MAX_RANK];
    bool    seen[LRPX_MAX_RANK] = {false};
    for (int k = 0; k < r; k++) {
        first[k] = 0;
        step[k]  = 1;
        dims[k]  = in->dims[k];
    }
    for (int i = 0; i < n_starts; i++) {
        int  a = i;
        char what[32];
        if (n_axes >= 0) {
            snprintf(what, sizeof what, "axes[%d]", i);
            if ((rc = lrpx__move_axis(x, n, axes[i], r, what, &a)) != LRPX_OK)
                return rc;
        }
        if (seen[a])
            return lrpx__node_error(x, n, LRPX_EINVAL, "axis %d is sliced twice", a);
        seen[a] = true;

        const int64_t d  = in->dims[a];
        const int64_t st = n_steps >= 0 ? steps[i] : 1;
        if (st == 0)
            return lrpx__node_error(x, n, LRPX_EINVAL, "steps[%d] is 0", i);
        int64_t s = starts[i], e = ends[i];
        if (s < 0)
            s += d;        /* cannot overflow: s < 0 <= d */
        if (e < 0)
            e += d;
        int64_t count;
        if (st > 0) {
            s     = slice_clamp(s, 0, d);
            e     = slice_clamp(e, 0, d);
            count = e > s ? 1 + (int64_t)((uint64_t)(e - s - 1) / (uint64_t)st) : 0;
        } else {
            s     = slice_clamp(s, -1, d - 1);
            e     = slice_clamp(e, -1, d - 1);
            /* -(uint64_t)st is |st| even for INT64_MIN */
            count = s > e ? 1 + (int64_t)((uint64_t)(s - e - 1) / (0 - (uint64_t)st)) : 0;
        }
        first[a] = count > 0 ? s : 0;
        /* with one element the step never applies (and a huge one would
         * overflow the stride below) */
        step[a] = count > 1 ? st : 1;
        dims[a] = count;
    }
    rc = lrpx__set_output(x, n, 0, in->dtype, r, dims);
    if (rc != LRPX_OK)
        return rc;

    struct lrpx_view *v = lrpx__params_alloc(x, n, sizeof *v);
    if (!v)
        return lrpx__node_error(x, n, LRPX_ENOMEM, "out of memory");
    int64_t strides[LRPX_MAX_RANK];
    lrpx__move_strides(in, strides);
    v->rank   = r;
    v->offset = 0;
    for (int k = 0; k < r; k++) {
        v->dims[k]    = dims[k];
        v->strides[k] = strides[k] * step[k];   /* |step| < dim when count > 1 */
        v->offset += first[k] * strides[k];
    }
    return LRPX_OK;
}

const struct lrpx_op_def lrpx__op_slice = {
    .onnx_name     = "Slice",
    .since_version = 1,
    .n_inputs_min  = 1,
    .n_inputs_max  = 5,
    .n_outputs_min = 1,
    .n_outputs_max = 1,
    .prepare       = slice_prepare,
    .forward       = lrpx__view_op_forward,
    .backward      = lrpx__view_op_backward,
    .relevance     = lrpx__view_op_backward,
};
