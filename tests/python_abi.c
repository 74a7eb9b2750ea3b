/* Prints the size and field offsets of the lrpx.h structs that the Python
 * package mirrors with ctypes (python/lrpx/_capi.py), one per line:
 *   lrpx_tensor_view 96
 *   lrpx_tensor_view.dims 8
 * python/tests/test_abi.py compares them with ctypes' own. */
#include <stddef.h>
#include <stdio.h>

#include "lrpx.h"

#define SIZE(T)     printf("%s %zu\n", #T, sizeof(T))
#define FIELD(T, F) printf("%s.%s %zu\n", #T, #F, offsetof(T, F))

typedef struct lrpx_load_options     lrpx_load_options;
typedef struct lrpx_lrp_options      lrpx_lrp_options;
typedef struct lrpx_heatmap_options  lrpx_heatmap_options;
typedef struct lrpx_preprocess       lrpx_preprocess;

int
main(void)
{
    SIZE(lrpx_tensor_view);
    FIELD(lrpx_tensor_view, dtype); FIELD(lrpx_tensor_view, rank);
    FIELD(lrpx_tensor_view, dims); FIELD(lrpx_tensor_view, n_elems);
    FIELD(lrpx_tensor_view, data);

    SIZE(lrpx_value_info);
    FIELD(lrpx_value_info, name); FIELD(lrpx_value_info, dtype); FIELD(lrpx_value_info, rank);
    FIELD(lrpx_value_info, dims); FIELD(lrpx_value_info, dim_params);

    SIZE(lrpx_load_options);
    FIELD(lrpx_load_options, max_file_bytes); FIELD(lrpx_load_options, max_nodes);
    FIELD(lrpx_load_options, max_tensor_bytes); FIELD(lrpx_load_options, max_total_bytes);
    FIELD(lrpx_load_options, fold_batchnorm); FIELD(lrpx_load_options, allow_unsupported);

    SIZE(lrpx_lrp_options);
    FIELD(lrpx_lrp_options, composite); FIELD(lrpx_lrp_options, n_overrides);
    FIELD(lrpx_lrp_options, overrides); FIELD(lrpx_lrp_options, box_low);
    FIELD(lrpx_lrp_options, box_high); FIELD(lrpx_lrp_options, box_low_c);
    FIELD(lrpx_lrp_options, box_high_c); FIELD(lrpx_lrp_options, n_box_c);
    FIELD(lrpx_lrp_options, box_low_own); FIELD(lrpx_lrp_options, box_high_own);
    FIELD(lrpx_lrp_options, maxpool); FIELD(lrpx_lrp_options, zero_bias);
    FIELD(lrpx_lrp_options, seed); FIELD(lrpx_lrp_options, target);
    FIELD(lrpx_lrp_options, seed_data); FIELD(lrpx_lrp_options, seed_n_elems);
    FIELD(lrpx_lrp_options, skip_softmax); FIELD(lrpx_lrp_options, output_name);

    SIZE(lrpx_image);
    FIELD(lrpx_image, width); FIELD(lrpx_image, height); FIELD(lrpx_image, channels);
    FIELD(lrpx_image, bit_depth); FIELD(lrpx_image, data); FIELD(lrpx_image, file_width);
    FIELD(lrpx_image, file_height); FIELD(lrpx_image, orientation); FIELD(lrpx_image, format);

    SIZE(lrpx_pixmap);
    FIELD(lrpx_pixmap, width); FIELD(lrpx_pixmap, height); FIELD(lrpx_pixmap, channels);
    FIELD(lrpx_pixmap, data);

    SIZE(lrpx_heatmap_options);
    FIELD(lrpx_heatmap_options, cmap); FIELD(lrpx_heatmap_options, norm);
    FIELD(lrpx_heatmap_options, percentile); FIELD(lrpx_heatmap_options, vmax);
    FIELD(lrpx_heatmap_options, gamma);

    SIZE(lrpx_preprocess);
    FIELD(lrpx_preprocess, name); FIELD(lrpx_preprocess, resize);
    FIELD(lrpx_preprocess, resize_shorter); FIELD(lrpx_preprocess, resize_width);
    FIELD(lrpx_preprocess, resize_height); FIELD(lrpx_preprocess, crop_width);
    FIELD(lrpx_preprocess, crop_height); FIELD(lrpx_preprocess, interp);
    FIELD(lrpx_preprocess, antialias); FIELD(lrpx_preprocess, quantize);
    FIELD(lrpx_preprocess, scale); FIELD(lrpx_preprocess, n_mean); FIELD(lrpx_preprocess, mean);
    FIELD(lrpx_preprocess, std); FIELD(lrpx_preprocess, color); FIELD(lrpx_preprocess, layout);
    FIELD(lrpx_preprocess, alpha);

    SIZE(lrpx_image_geometry);
    FIELD(lrpx_image_geometry, src_width); FIELD(lrpx_image_geometry, src_height);
    FIELD(lrpx_image_geometry, resized_width); FIELD(lrpx_image_geometry, resized_height);
    FIELD(lrpx_image_geometry, crop_x); FIELD(lrpx_image_geometry, crop_y);
    FIELD(lrpx_image_geometry, width); FIELD(lrpx_image_geometry, height);

    SIZE(lrpx_image_tensor);
    FIELD(lrpx_image_tensor, view); FIELD(lrpx_image_tensor, data);
    FIELD(lrpx_image_tensor, geom); FIELD(lrpx_image_tensor, layout);
    FIELD(lrpx_image_tensor, color);
    return 0;
}
