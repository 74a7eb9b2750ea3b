/* Helpers shared by the data-movement ops (Transpose, Slice, Expand, Tile,
 * Concat, Split, Pad, DepthToSpace, ...): strided views that copy any
 * element type by its byte size, the scatter-add that routes gradients and
 * relevance back through them, axis normalization and reading small integer
 * lists (shapes, axes, pads) from inputs known at prepare. */
#ifndef LRPX_MOVE_IMPL_H
#define LRPX_MOVE_IMPL_H

#include "core/op.h"

/* Tile views every axis as (repeat, dim): twice the tensor rank. */
#define LRPX_VIEW_MAX_RANK (2 * LRPX_MAX_RANK)

/* A strided view of a tensor: element (i_0, ..., i_{rank-1}) of the view
 * lives at `offset + sum_k i_k * strides[k]` (in elements) of the viewed
 * buffer. Strides may be 0 (broadcast) or negative (reversed slice). The
 * other side of every copy is contiguous in the view's row-major order. */
struct lrpx_view {
    int     rank;
    int64_t dims[LRPX_VIEW_MAX_RANK];
    int64_t strides[LRPX_VIEW_MAX_RANK];
    int64_t offset;
};

/* Contiguous dst[j] = viewed src element j (forward of a view op). */
void lrpx__view_gather(void *dst, const void *src, size_t esize, const struct lrpx_view *v);
/* Viewed dst element j += contiguous src[j]: J^T of a gather view. With
 * stride 0 the replicated elements are summed back to their source. */
void lrpx__view_scatter_add(float *dst, const float *src, const struct lrpx_view *v);

/* Forward/backward of ops whose params struct starts with a struct
 * lrpx_view of input 0 in the order of output 0 (Transpose, Slice, Expand,
 * Tile, DepthToSpace, SpaceToDepth). The backward is also the relevance
 * function: each output element came from exactly one input element. */
lrpx_status lrpx__view_op_forward(struct lrpx_exec *x, const struct lrpx_node *n);
lrpx_status lrpx__view_op_backward(struct lrpx_exec *x, const struct lrpx_node *n);

/* Output 0 = input 0, byte for byte (Reshape, Flatten, Squeeze, Unsqueeze). */
lrpx_status lrpx__move_copy_forward(struct lrpx_exec *x, const struct lrpx_node *n);

/* Row-major strides of t in elements; all 0 when t has no elements (the
 * partial products of an empty tensor's dims may overflow). */
void lrpx__move_strides(const struct lrpx_tensor *t, int64_t *strides);

/* For ops whose output depends only on input shapes (Shape, Size): give
 * output i (already shaped by lrpx__set_output) a buffer from the plan
 * arena now and mark it known, so that consumers fold at prepare even when
 * the input's data is not known. The caller fills it; at run time the
 * planner's own buffer is filled again by forward. NULL on OOM. */
void *lrpx__move_known_output(struct lrpx_exec *x, const struct lrpx_node *n, int i);

/* EUNSUPPORTED naming the node when input i's dtype cannot be moved by byte
 * size (string, undefined). */
lrpx_status lrpx__move_check_dtype(struct lrpx_exec *x, const struct lrpx_node *n, int i);

/* Normalize `axis` in [-rank, rank-1] into *out; ESHAPE naming the node
 * and `what` (e.g. "axis", "axes[1]") when it is out of range. */
lrpx_status lrpx__move_axis(struct lrpx_exec *x, const struct lrpx_node *n, int64_t axis,
                            int rank, const char *what, int *out);

/* Read input i (int32 or int64, rank 0 or 1, known at prepare) into
 * out[0..max-1]; *count gets the element count. EUNSUPPORTED when the
 * value is not known at prepare ("must be constant"), EINVAL on a wrong
 * dtype/rank or more than max elements. `what` names the input. */
lrpx_status lrpx__move_ints(struct lrpx_exec *x, const struct lrpx_node *n, int i,
                            const char *what, int64_t *out, int max, int *count);

#endif /* LRPX_MOVE_IMPL_H */
