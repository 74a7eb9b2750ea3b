/* EXIF orientation: the one tag lrpx reads from EXIF.
 *
 * EXIF data is a TIFF file in miniature (JPEG APP1 after "Exif\0\0", PNG
 * eXIf chunk): an 8-byte header giving the byte order ("II" little, "MM"
 * big), the magic 42 and the offset of IFD0; an IFD is a 2-byte entry count
 * followed by 12-byte entries (tag, type, count, value-or-offset). The
 * Orientation tag 0x0112 is a SHORT with count 1 and values 1..8 (TIFF 6.0
 * section 8; EXIF 2.3 section 4.6.4). The data comes from the file, so every
 * read is bounds-checked and anything odd means "no orientation".
 */
#include <string.h>

#include "image/image_impl.h"

#define EXIF_TAG_ORIENTATION 0x0112
#define EXIF_TYPE_SHORT      3

static unsigned
exif_u16(const uint8_t *p, bool big)
{
    return big ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t
exif_u32(const uint8_t *p, bool big)
{
    return big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
               : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

int
lrpx__exif_orientation(const uint8_t *tiff, size_t len)
{
    if (!tiff || len < 8)
        return 0;
    bool big;
    if (tiff[0] == 'I' && tiff[1] == 'I')
        big = false;
    else if (tiff[0] == 'M' && tiff[1] == 'M')
        big = true;
    else
        return 0;
    if (exif_u16(tiff + 2, big) != 42)
        return 0;

    uint32_t ifd = exif_u32(tiff + 4, big);
    /* the count and at least nothing more must fit: compare without
     * overflow by subtracting from len */
    if (ifd > len || len - ifd < 2)
        return 0;
    unsigned n_entries = exif_u16(tiff + ifd, big);
    size_t   avail     = (len - ifd - 2) / 12;
    if (n_entries > avail)
        n_entries = (unsigned)avail;   /* truncated IFD: read what is there */

    for (unsigned i = 0; i < n_entries; i++) {
        const uint8_t *e = tiff + ifd + 2 + (size_t)i * 12;
        if (exif_u16(e, big) != EXIF_TAG_ORIENTATION)
            continue;
        if (exif_u16(e + 2, big) != EXIF_TYPE_SHORT || exif_u32(e + 4, big) < 1)
            return 0;
        /* a SHORT with count 1 sits left-aligned in the value field */
        unsigned v = exif_u16(e + 8, big);
        return v >= 1 && v <= 8 ? (int)v : 0;
    }
    return 0;
}
