/* JPEG decode and encode with libjpeg-turbo (libjpeg 6.2 API).
 *
 * libjpeg reports fatal errors through error_exit, which must not return:
 * ours formats libjpeg's message into the lrpx_err and longjmp()s back to
 * the setjmp() in front of the jpeg_* calls (libjpeg's example.c pattern;
 * libvips does the same). Warnings (emit_message level -1) about corrupt or
 * missing data are made fatal too, so a truncated file is an error rather
 * than a picture padded with grey. Everything our code allocates between
 * setjmp and longjmp lives in volatile locals freed on the error path;
 * libjpeg's own memory goes with jpeg_destroy_*.
 *
 * Colour: gray and YCbCr/RGB come out as they are. CMYK and YCCK are
 * decoded to CMYK and converted with R = C*K/255 (etc.), taking the samples
 * as Adobe's inverted CMYK, which is what Photoshop and PIL write and what
 * PIL assumes when reading (JpegImagePlugin "CMYK;I").
 */
#include <setjmp.h>
#include <string.h>

#include "image/image_impl.h"
#include "image/jpeg_impl.h"

struct jpeg_errmgr {
    struct jpeg_error_mgr pub;      /* first: libjpeg casts cinfo->err to this */
    jmp_buf               jmp;
    struct lrpx_err      *err;
    bool                  decoding;
};

struct jpeg_progress {
    struct jpeg_progress_mgr pub;   /* first */
    struct jpeg_errmgr      *em;
};

static void
jpeg_on_error(j_common_ptr cinfo)
{
    struct jpeg_errmgr *em = (struct jpeg_errmgr *)cinfo->err;
    char                msg[JMSG_LENGTH_MAX];
    em->pub.format_message(cinfo, msg);
    lrpx__error(em->err, LRPX_EIMAGE, "%s", msg);
    longjmp(em->jmp, 1);
}

/* Level -1 is a warning, >= 0 trace output (ignored). The warnings kept as
 * warnings say nothing about the pixels: an unknown JFIF revision or Adobe
 * transform code, and stray bytes between markers (some cameras write
 * them; libjpeg skips them cleanly). */
static void
jpeg_on_message(j_common_ptr cinfo, int level)
{
    struct jpeg_errmgr *em = (struct jpeg_errmgr *)cinfo->err;
    if (level >= 0)
        return;
    em->pub.num_warnings++;
    if (!em->decoding)
        return;
    switch (em->pub.msg_code) {
    case JWRN_JFIF_MAJOR:
    case JWRN_ADOBE_XFORM:
    case JWRN_EXTRANEOUS_DATA:
        return;
    default:
        jpeg_on_error(cinfo);
    }
}

/* Called between passes and scans; refuses progressive files with absurd
 * scan counts, whose decoding time would grow without bound. */
static void
jpeg_on_progress(j_common_ptr cinfo)
{
    struct jpeg_progress *p = (struct jpeg_progress *)cinfo->progress;
    if (!cinfo->is_decompressor)
        return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > LRPX_JPEG_MAX_SCANS) {
        lrpx__error(p->em->err, LRPX_ELIMIT, "more than %d progressive scans",
                    LRPX_JPEG_MAX_SCANS);
        longjmp(p->em->jmp, 1);
    }
}

static int
jpeg_orientation(j_decompress_ptr cinfo)
{
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return lrpx__exif_orientation(m->data + 6, m->data_length - 6);
    return 0;
}

static const char *
jpeg_space_name(J_COLOR_SPACE cs)
{
    switch (cs) {
    case JCS_GRAYSCALE: return "gray";
    case JCS_RGB:       return "RGB";
    case JCS_YCbCr:     return "YCbCr";
    case JCS_CMYK:      return "CMYK";
    case JCS_YCCK:      return "YCCK";
    default:            return "unknown";
    }
}

lrpx_status
lrpx__jpeg_decode(const uint8_t *buf, size_t len, const struct lrpx_image_load_options *opts,
                  lrpx_image **out, struct lrpx_err *err)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_errmgr            em;
    struct jpeg_progress          progress;
    lrpx_image *volatile          img = NULL;
    uint8_t *volatile             row = NULL;
    lrpx_status                   rc  = LRPX_OK;

    *out = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err          = jpeg_std_error(&em.pub);
    em.pub.error_exit   = jpeg_on_error;
    em.pub.emit_message = jpeg_on_message;
    em.err              = err;
    em.decoding         = true;
    if (setjmp(em.jmp)) {
        rc = err->status;
        goto done;
    }
    jpeg_create_decompress(&cinfo);
    progress.pub.progress_monitor = jpeg_on_progress;
    progress.em                   = &em;
    cinfo.progress                = &progress.pub;
    jpeg_mem_src(&cinfo, buf, (unsigned long)len);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    int64_t pixels = (int64_t)cinfo.image_width * cinfo.image_height;
    if (pixels > opts->max_pixels) {
        rc = lrpx__error(err, LRPX_ELIMIT, "%ux%u JPEG is over the limit of %lld pixels",
                         cinfo.image_width, cinfo.image_height, (long long)opts->max_pixels);
        goto done;
    }
    int channels;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo.out_color_space = JCS_GRAYSCALE;
        channels              = 1;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        cinfo.out_color_space = JCS_RGB;
        channels              = 3;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo.out_color_space = JCS_CMYK;
        channels              = 3;
        break;
    default:
        rc = lrpx__error(err, LRPX_EIMAGE, "unsupported JPEG colour space (%s, %d components)",
                         jpeg_space_name(cinfo.jpeg_color_space), cinfo.num_components);
        goto done;
    }
    int orientation = jpeg_orientation(&cinfo);

    jpeg_start_decompress(&cinfo);
    int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
    int ncomp = cinfo.output_components;
    if (ncomp != (cinfo.out_color_space == JCS_CMYK ? 4 : channels)) {
        rc = lrpx__error(err, LRPX_EIMAGE, "libjpeg gave %d components for %s output", ncomp,
                         jpeg_space_name(cinfo.out_color_space));
        goto done;
    }
    {
        lrpx_image *im;
        rc = lrpx__image_new(w, h, channels, &im, err);
        if (rc != LRPX_OK)
            goto done;
        img = im;
        row = lrpx__malloc((size_t)w * ncomp);
        if (!row) {
            rc = lrpx__error(err, LRPX_ENOMEM, "out of memory for a JPEG row");
            goto done;
        }
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW   rp = row;
        JDIMENSION y  = cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, &rp, 1) != 1) {
            rc = lrpx__error(err, LRPX_EIMAGE, "decoder stalled at row %u", y);
            goto done;
        }
        float *dst = img->data + (size_t)y * w * channels;
        if (ncomp == 4) {
            /* inverted CMYK: C*K/255 rounded, as PIL's cmyk2rgb */
            for (int x = 0; x < w; x++) {
                unsigned k = row[4 * x + 3];
                for (int c = 0; c < 3; c++)
                    dst[3 * x + c] = (float)((2u * row[4 * x + c] * k + 255u) / 510u);
            }
        } else {
            for (int i = 0; i < w * ncomp; i++)
                dst[i] = (float)row[i];
        }
    }
    jpeg_finish_decompress(&cinfo);
    img->orientation = orientation >= 1 ? orientation : 1;
    memcpy(img->format, "jpeg", 5);

done:
    jpeg_destroy_decompress(&cinfo);
    lrpx__free(row);
    if (rc != LRPX_OK) {
        lrpx_image_free(img);
        return rc;
    }
    *out = img;
    return LRPX_OK;
}

lrpx_status
lrpx__jpeg_encode(const lrpx_pixmap *pm, FILE *f, int quality, struct lrpx_err *err)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_errmgr          em;

    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err           = jpeg_std_error(&em.pub);
    em.pub.error_exit   = jpeg_on_error;
    em.pub.emit_message = jpeg_on_message;
    em.err              = err;
    em.decoding         = false;
    if (setjmp(em.jmp)) {
        jpeg_destroy_compress(&cinfo);
        return err->status;
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width      = (JDIMENSION)pm->width;
    cinfo.image_height     = (JDIMENSION)pm->height;
    cinfo.input_components = pm->channels;
    cinfo.in_color_space   = pm->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.optimize_coding = TRUE;
    jpeg_start_compress(&cinfo, TRUE);
    size_t stride = (size_t)pm->width * pm->channels;
    while (cinfo.next_scanline < cinfo.image_height) {
        /* libjpeg's API is not const-correct; it only reads the row */
        JSAMPROW rp = (JSAMPROW)(pm->data + (size_t)cinfo.next_scanline * stride);
        jpeg_write_scanlines(&cinfo, &rp, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return LRPX_OK;
}
