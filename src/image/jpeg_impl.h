/* Include shim for libjpeg: jpeglib.h needs <stdio.h> (FILE, size_t) first,
 * and must not see a `boolean` of our own. Every file that talks to
 * libjpeg includes this instead of jpeglib.h. */
#ifndef LRPX_JPEG_IMPL_H
#define LRPX_JPEG_IMPL_H

#include <stddef.h>
#include <stdio.h>

#include <jpeglib.h>
#include <jerror.h>

#endif /* LRPX_JPEG_IMPL_H */
