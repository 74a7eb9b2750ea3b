/* z^B bounds from an image preset: the lowest and highest value each input
 * channel can take after preprocessing, found by pushing a black and a
 * white pixel through the same settings (lrpx_preprocess_box_bounds; the
 * epsilon_gamma_box composite's first layer needs them). */
#include <math.h>
#include <stdio.h>

#include "image/image_impl.h"

lrpx_status
lrpx_preprocess_box_bounds(const struct lrpx_preprocess *pp, float *low, float *high,
                           int *n_channels, char *errbuf, size_t errlen)
{
    struct lrpx_err err;
    if (!pp || !low || !high || !n_channels)
        return lrpx__errbuf_done(lrpx__error(&err, LRPX_EINVAL, "NULL argument"), &err, errbuf,
                                 errlen);
    /* a 1x1 black and a 1x1 white picture through the same settings, with
     * no geometry (which only moves pixels around) */
    struct lrpx_preprocess r = *pp;
    r.resize                 = LRPX_RESIZE_NONE;
    r.crop_width = r.crop_height = -1;
    float       v[2][3];
    int         nc = 0;
    lrpx_status rc = LRPX_OK;
    for (int k = 0; k < 2 && rc == LRPX_OK; k++) {
        lrpx_image        *img = NULL;
        lrpx_image_tensor *t   = NULL;
        if ((rc = lrpx_image_init(1, 1, 3, &img)) != LRPX_OK) {
            lrpx__errbuf_done(lrpx__error(&err, rc, "out of memory"), &err, errbuf, errlen);
            break;
        }
        img->data[0] = img->data[1] = img->data[2] = k ? 255.0f : 0.0f;
        rc = lrpx_image_preprocess(img, &r, &t, errbuf, errlen);
        if (rc == LRPX_OK) {
            nc = (int)t->view.n_elems;          /* 1x1: one value per channel */
            for (int c = 0; c < nc && c < 3; c++)
                v[k][c] = t->data[c];
        }
        lrpx_image_tensor_free(t);
        lrpx_image_free(img);
    }
    if (rc != LRPX_OK)
        return rc;
    for (int c = 0; c < nc; c++) {
        low[c]  = fminf(v[0][c], v[1][c]);
        high[c] = fmaxf(v[0][c], v[1][c]);
    }
    *n_channels = nc;
    return LRPX_OK;
}
