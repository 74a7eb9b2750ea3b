/* PNG decode and encode with libpng 1.6.
 *
 * libpng's error callback must not return; ours records the message and
 * png_longjmp()s to the setjmp(png_jmpbuf()) of the calling function.
 * libpng allocates through lrpx__malloc/lrpx__free (png_create_*_struct_2),
 * so OOM injection reaches it; an allocation failure inside libpng turns
 * into LRPX_ENOMEM rather than LRPX_EIMAGE.
 *
 * Decoding asks libpng for 8- or 16-bit samples: palettes become RGB, 1/2/4
 * bit gray becomes 8-bit, tRNS becomes an alpha channel, 16-bit samples
 * come out in host order. gAMA, cHRM, sRGB and iCCP are ignored, as PIL
 * does. The whole file, IEND included, must be present and valid.
 */
#include <setjmp.h>
#include <string.h>

#include <png.h>

#include "image/image_impl.h"

struct png_ctx {
    struct lrpx_err *err;
    bool             oom;       /* an allocation failed: report ENOMEM */
    const uint8_t   *buf;       /* decoding: the file */
    size_t           len, pos;
};

static void
png_on_error(png_structp png, png_const_charp msg)
{
    struct png_ctx *ctx = png_get_error_ptr(png);
    lrpx__error(ctx->err, ctx->oom ? LRPX_ENOMEM : LRPX_EIMAGE, "%s", msg);
    png_longjmp(png, 1);
}

static void
png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    LRPX_LOG(DEBUG, "libpng: %s", msg);
}

static png_voidp
png_on_malloc(png_structp png, png_alloc_size_t size)
{
    void *p = lrpx__malloc(size);
    if (!p) {
        struct png_ctx *ctx = png_get_error_ptr(png);
        if (ctx)
            ctx->oom = true;
    }
    return p;
}

static void
png_on_free(png_structp png, png_voidp p)
{
    (void)png;
    lrpx__free(p);
}

static void
png_on_read(png_structp png, png_bytep out, size_t n)
{
    struct png_ctx *ctx = png_get_io_ptr(png);
    if (n > ctx->len - ctx->pos)
        png_error(png, "unexpected end of file");
    memcpy(out, ctx->buf + ctx->pos, n);
    ctx->pos += n;
}

static bool
host_is_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

lrpx_status
lrpx__png_decode(const uint8_t *buf, size_t len, const struct lrpx_image_load_options *opts,
                 lrpx_image **out, struct lrpx_err *err)
{
    struct png_ctx ctx = {.err = err, .buf = buf, .len = len};
    png_structp    png;
    png_infop volatile   info = NULL;   /* set after setjmp: volatile */
    lrpx_image *volatile img  = NULL;
    uint8_t *volatile    raw  = NULL;
    png_bytep *volatile  rows = NULL;
    lrpx_status          rc   = LRPX_OK;

    *out = NULL;
    png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning,
                                   NULL, png_on_malloc, png_on_free);
    if (!png)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory (libpng)");
    if (setjmp(png_jmpbuf(png))) {
        rc = err->status;
        goto done;
    }
    info = png_create_info_struct(png);
    if (!info) {
        rc = lrpx__error(err, LRPX_ENOMEM, "out of memory (libpng)");
        goto done;
    }
    png_set_read_fn(png, &ctx, png_on_read);
    png_read_info(png, info);

    png_uint_32 w, h;
    int         depth, color, interlace;
    png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
    if ((int64_t)w * h > opts->max_pixels) {
        rc = lrpx__error(err, LRPX_ELIMIT, "%ux%u PNG is over the limit of %lld pixels",
                         (unsigned)w, (unsigned)h, (long long)opts->max_pixels);
        goto done;
    }
    if (color == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(png);
    if (depth == 16 && host_is_little_endian())
        png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int    channels = png_get_channels(png, info);
    int    bits     = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (channels < 1 || channels > 4 || (bits != 8 && bits != 16) ||
        rowbytes != (size_t)w * channels * (bits / 8)) {
        rc = lrpx__error(err, LRPX_EIMAGE, "unexpected PNG layout after expansion "
                         "(%d channels, %d bits)", channels, bits);
        goto done;
    }
    {
        lrpx_image *im;
        rc = lrpx__image_new((int)w, (int)h, channels, &im, err);
        if (rc != LRPX_OK)
            goto done;
        img = im;
        raw  = lrpx__malloc(rowbytes * h);
        rows = lrpx__malloc(sizeof(png_bytep) * h);
        if (!raw || !rows) {
            rc = lrpx__error(err, LRPX_ENOMEM, "out of memory for %ux%u PNG", (unsigned)w,
                             (unsigned)h);
            goto done;
        }
    }
    for (png_uint_32 y = 0; y < h; y++)
        rows[y] = raw + (size_t)y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, info);   /* checks the rest; eXIf may follow IDAT */

    size_t n = (size_t)w * h * channels;
    if (bits == 8) {
        for (size_t i = 0; i < n; i++)
            img->data[i] = (float)raw[i];
    } else {
        const uint16_t *s = (const uint16_t *)(const void *)raw;
        for (size_t i = 0; i < n; i++)
            img->data[i] = (float)(s[i] / 257.0);   /* 65535 -> 255 */
        img->bit_depth = 16;
    }

    int         orientation = 0;
    png_uint_32 n_exif;
    png_bytep   exif;
    if (png_get_eXIf_1(png, info, &n_exif, &exif) && exif) {
        /* some writers keep JPEG's "Exif\0\0" prefix in the chunk */
        if (n_exif >= 6 && memcmp(exif, "Exif\0\0", 6) == 0) {
            exif += 6;
            n_exif -= 6;
        }
        orientation = lrpx__exif_orientation(exif, n_exif);
    }
    img->orientation = orientation >= 1 ? orientation : 1;
    memcpy(img->format, "png", 4);

done:;
    png_infop inf = info;
    png_destroy_read_struct(&png, inf ? &inf : NULL, NULL);
    lrpx__free(rows);
    lrpx__free(raw);
    if (rc != LRPX_OK) {
        lrpx_image_free(img);
        return rc;
    }
    *out = img;
    return LRPX_OK;
}

lrpx_status
lrpx__png_encode(const lrpx_pixmap *pm, FILE *f, struct lrpx_err *err)
{
    struct png_ctx     ctx = {.err = err};
    png_structp        png;
    png_infop volatile info = NULL;

    png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &ctx, png_on_error, png_on_warning,
                                    NULL, png_on_malloc, png_on_free);
    if (!png)
        return lrpx__error(err, LRPX_ENOMEM, "out of memory (libpng)");
    if (setjmp(png_jmpbuf(png))) {
        png_infop inf = info;
        png_destroy_write_struct(&png, inf ? &inf : NULL);
        return err->status;
    }
    info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return lrpx__error(err, LRPX_ENOMEM, "out of memory (libpng)");
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)pm->width, (png_uint_32)pm->height, 8,
                 pm->channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    size_t stride = (size_t)pm->width * pm->channels;
    for (int y = 0; y < pm->height; y++)
        png_write_row(png, pm->data + (size_t)y * stride);
    png_write_end(png, NULL);
    png_infop inf = info;
    png_destroy_write_struct(&png, &inf);
    return LRPX_OK;
}
