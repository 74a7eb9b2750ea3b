/* Shared kernels of the convolution family (Conv, ConvTranspose): geometry
 * from the ONNX attributes (incl. auto_pad), im2col/col2im, the three
 * convolution products (forward, data gradient, weight gradient) on top of
 * OpenBLAS sgemm (sgemm_impl.h), a direct path for depthwise
 * convolutions, and Winograd F(2x2, 3x3) (conv_winograd.c).
 *
 * Everything is expressed in "conv terms": a convolution maps a tensor
 * with in_c channels and spatial size in_sp (the big side) to one with
 * out_c channels and size out_sp (the small side); output position o and
 * kernel tap k read input position o * stride - pad + k * dilation.
 * ConvTranspose is the adjoint of such a convolution: its output is the
 * conv's input side, its input the conv's output side, and its weight
 * [C, M/group, k...] is already the conv weight layout [out_c, in_c/group,
 * k...]. */
#ifndef LRPX_CONV_IMPL_H
#define LRPX_CONV_IMPL_H

#include <stdbool.h>

#include "core/op.h"
#include "ops/kernels/pgemm_impl.h"
#include "ops/kernels/sgemm_impl.h"

#define LRPX_CONV_MAX_SP 3          /* 1-D, 2-D and 3-D convolutions */

/* Spatial arrays are stored as 3-D (D, H, W), right-aligned: a 1-D conv
 * uses only index 2, a 2-D conv indices 1 and 2; the unused leading axes
 * have size 1, kernel 1, stride 1, dilation 1 and no padding. */
struct lrpx_conv_geom {
    int     n_sp;                           /* spatial rank in the model  */
    int64_t batch;
    int64_t group;
    int64_t in_c, out_c;                    /* conv terms (see above)     */
    int64_t in_sp[LRPX_CONV_MAX_SP];
    int64_t out_sp[LRPX_CONV_MAX_SP];
    int64_t kernel[LRPX_CONV_MAX_SP];
    int64_t stride[LRPX_CONV_MAX_SP];
    int64_t dilation[LRPX_CONV_MAX_SP];
    int64_t pad[LRPX_CONV_MAX_SP];          /* begin padding; may be < 0  */
                                            /* for ConvTranspose only     */
    int64_t in_size, out_size, k_size;      /* spatial products           */
    int64_t cin_g, cout_g;                  /* channels per group         */
    int64_t rows_per_chunk;                 /* output rows (od, oh) per   */
                                            /* im2col chunk               */
    bool    pointwise;                      /* 1x1, stride 1, no padding: */
                                            /* the input is its own col   */
    bool    depthwise;                      /* cin_g == 1: direct loops   */
};

/* Parse Conv (transposed = false) or ConvTranspose (true) attributes of
 * node n against its input X (input 0) and weight W (input 1) shapes and
 * fill g. For ConvTranspose, out_dims receives the op's output shape
 * (rank of X); for Conv likewise. Errors name the node: EINVAL for bad
 * attribute values (negative pads, zero strides, unknown auto_pad, wrong
 * attribute lengths), ESHAPE for shapes that do not fit (group not dividing
 * the channels, rank mismatch, kernel larger than the padded input),
 * EUNSUPPORTED for more than 3 spatial axes. */
lrpx_status lrpx__conv_geom_init(struct lrpx_exec *x, const struct lrpx_node *n,
                                 bool transposed, struct lrpx_conv_geom *g,
                                 int64_t *out_dims);

/* The prepare steps Conv and ConvTranspose share once X and W are checked
 * float32: lrpx__conv_geom_init, then the optional bias B (input 2,
 * float32 of shape [output channels]: g->out_c for Conv, g->in_c for
 * ConvTranspose, whose conv terms are swapped), then the linear roles
 * (X input 0, W input 1, B input 2 or none). */
struct lrpx_linear_roles;
lrpx_status lrpx__conv_prepare_common(struct lrpx_exec *x, const struct lrpx_node *n,
                                      bool transposed, struct lrpx_conv_geom *g,
                                      struct lrpx_linear_roles *roles, int64_t *out_dims);

/* Scratch (bytes) the products below need for g. 0 for pointwise and
 * depthwise geometries. */
size_t lrpx__conv_scratch_bytes(const struct lrpx_conv_geom *g);

/* LRPX_OK when the pass's scratch (x->scratch) holds `need` bytes; an
 * internal-error message naming the node otherwise (the executor sizes it
 * from the requests made in prepare). */
lrpx_status lrpx__conv_check_scratch(struct lrpx_exec *x, const struct lrpx_node *n,
                                     size_t need);

/* out = conv(in; w) (accumulate: out += conv(in; w)). Shapes in conv
 * terms: in [batch, in_c, in_sp], w [out_c, cin_g, kernel],
 * out [batch, out_c, out_sp]. pool: the threads to use (NULL: the
 * caller's only). */
void lrpx__conv_fwd(const struct lrpx_conv_geom *g, const float *in, const float *w,
                    float *out, bool accumulate, float *scratch,
                    struct lrpx_pool *pool);
/* out = conv(in; w) + bias (bias: out_c values, or NULL); act (NULL for
 * none): also act->out = activation(out), same layout. */
void lrpx__conv_fwd_bias(const struct lrpx_conv_geom *g, const float *in, const float *w,
                         const float *bias, float *out, float *scratch,
                         struct lrpx_pool *pool, const struct lrpx_act *act);
/* act->out[i] = activation(z[i]), i < n (nothing for NULL or NONE). */
void lrpx__act_pass(struct lrpx_pool *pool, const struct lrpx_act *act, const float *z,
                    int64_t n);
/* Packed weights for lrpx__conv_fwd_packed (src/ops/kernels/pgemm_impl.h): the
 * size in floats, and the packing of W, once per plan. */
size_t lrpx__conv_packed_floats(const struct lrpx_conv_geom *g);
void   lrpx__conv_pack(const struct lrpx_conv_geom *g, const float *w, float *wp);
/* out = conv(in; w) + bias by lrpx__pgemm from the packed weights wp; not
 * for depthwise geometries. Needs lrpx__pgemm_available(). */
void   lrpx__conv_fwd_packed(const struct lrpx_conv_geom *g, const float *in, const float *wp,
                             const float *bias, float *out, float *scratch,
                             struct lrpx_pool *pool, const struct lrpx_act *act);
/* gin = conv^T(gout; w) (accumulate: gin += ...): the data gradient of
 * lrpx__conv_fwd, and the forward of ConvTranspose. */
void lrpx__conv_bwd_data(const struct lrpx_conv_geom *g, const float *gout, const float *w,
                         float *gin, bool accumulate, float *scratch,
                         struct lrpx_pool *pool);
/* gw += d<gout, conv(in; w)>/dw. */
void lrpx__conv_bwd_weight(const struct lrpx_conv_geom *g, const float *in,
                           const float *gout, float *gw, float *scratch);

/* out[b, c, :] = bias[c] over `channels` channels of `size` elements (the
 * start of a forward pass: the product then accumulates onto it, which
 * saves the separate bias pass). */
void lrpx__channel_bias_fill(float *out, const float *bias, int64_t batch,
                             int64_t channels, int64_t size);
/* out[b, c, :] += bias[c] over `channels` channels of `size` elements. */
void lrpx__channel_bias_add(float *out, const float *bias, int64_t batch,
                            int64_t channels, int64_t size);
/* gb[c] += sum over b and the plane of gout[b, c, :]. */
void lrpx__channel_bias_grad(const float *gout, float *gb, int64_t batch,
                             int64_t channels, int64_t size);

/* ---- Winograd F(2x2, 3x3) (src/ops/kernels/conv_winograd.c) ---- */

/* True when g is a 3x3, stride-1, undilated, ungrouped 2-D convolution
 * large enough for the Winograd path to pay off. */
bool   lrpx__winograd_fits(const struct lrpx_conv_geom *g);
/* Transformed weights, made from W [out_c, in_c, 3, 3] once per plan:
 * 16 matrices out_c x in_c, plain (for lrpx__sgemm) or packed for
 * lrpx__pgemm when `packed`. Size in floats; LRPX_ENOMEM when the
 * temporary for packing cannot be had. */
size_t lrpx__winograd_weight_floats(const struct lrpx_conv_geom *g, bool packed);
lrpx_status lrpx__winograd_weights(const struct lrpx_conv_geom *g, const float *w, float *u,
                                   bool packed);
/* The same with a choice of layout and temporary: flip: w is the weight of
 * the adjoint convolution, stored [in_c, out_c, 3, 3] of g (channel axes
 * swapped) with each kernel rotated by 180 degrees; tmp: 16 out_c x in_c
 * floats for the unpacked matrices when packed (NULL: allocated here). */
lrpx_status lrpx__winograd_weights_ex(const struct lrpx_conv_geom *g, const float *w,
                                      float *u, bool packed, bool flip, float *tmp);
/* Scratch lrpx__winograd_fwd needs. */
size_t lrpx__winograd_scratch_bytes(const struct lrpx_conv_geom *g);
/* out = conv(in; w) + bias (bias may be NULL) from the transformed weights
 * u (packed or not, as made). Equal to lrpx__conv_fwd_bias up to float32
 * rounding. */
void   lrpx__winograd_fwd(const struct lrpx_conv_geom *g, const float *in, const float *u,
                          bool packed, const float *bias, float *out, float *scratch,
                          struct lrpx_pool *pool, const struct lrpx_act *act);

#endif /* LRPX_CONV_IMPL_H */
