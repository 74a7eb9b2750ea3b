/* Declarations shared by the files of src/image and not exported: the
 * decoders and encoders, EXIF parsing, resampling. The tests include it to
 * reach the pieces directly. */
#ifndef LRPX_IMAGE_IMPL_H
#define LRPX_IMAGE_IMPL_H

#include <stdio.h>

#include "lrpx_internal.h"

/* Defaults of struct lrpx_image_load_options. */
#define LRPX_IMAGE_MAX_PIXELS     100000000LL
#define LRPX_IMAGE_MAX_FILE_BYTES (1LL << 30)
/* More progressive scans than this is a decompression bomb, not a photo
 * (real files have about 10). */
#define LRPX_JPEG_MAX_SCANS       1000

/* ---- images (src/image/image.c) ---- */

/* lrpx_image_init / lrpx_pixmap_init reporting through err. */
lrpx_status lrpx__image_new(int width, int height, int channels, lrpx_image **out,
                            struct lrpx_err *err);
lrpx_status lrpx__pixmap_new(int width, int height, int channels, lrpx_pixmap **out,
                             struct lrpx_err *err);
/* Replace *img by its copy turned upright for EXIF orientation 2..8; 1 and
 * out-of-range values leave it as it is. */
lrpx_status lrpx__image_orient(lrpx_image **img, int orientation, struct lrpx_err *err);

/* ---- codecs (src/image/jpeg.c, src/image/png.c) ---- */

/* Decode a whole file held in memory. The message is the reason only; the
 * caller puts the file name in front. */
lrpx_status lrpx__jpeg_decode(const uint8_t *buf, size_t len,
                              const struct lrpx_image_load_options *opts,
                              lrpx_image **out, struct lrpx_err *err);
lrpx_status lrpx__png_decode(const uint8_t *buf, size_t len,
                             const struct lrpx_image_load_options *opts,
                             lrpx_image **out, struct lrpx_err *err);
lrpx_status lrpx__jpeg_encode(const lrpx_pixmap *pm, FILE *f, int quality,
                              struct lrpx_err *err);
lrpx_status lrpx__png_encode(const lrpx_pixmap *pm, FILE *f, struct lrpx_err *err);

/* ---- EXIF (src/image/exif.c) ---- */

/* The Orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block
 * (starting at "II*\0" or "MM\0*"), or 0 when it is absent or anything is
 * out of bounds. Reads nothing outside tiff[0 .. len). */
int lrpx__exif_orientation(const uint8_t *tiff, size_t len);

/* ---- resampling (src/image/resize.c) ---- */

/* Resize all channels of in to width x height. Bilinear is PIL's: a
 * triangle filter whose support grows by the shrink factor when antialias
 * is set, separable, horizontal pass first. quantize rounds each pass to a
 * whole number in 0..255 with PIL's 22-bit fixed-point weights, which
 * reproduces Image.resize on 8-bit images exactly. */
lrpx_status lrpx__resample(const lrpx_image *in, int width, int height, lrpx_interp interp,
                           int antialias, int quantize, lrpx_image **out,
                           struct lrpx_err *err);

#endif /* LRPX_IMAGE_IMPL_H */
