/* NumPy .npy files: read versions 1.0, 2.0 and 3.0, write version 1.0.
 *
 * Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 *   magic "\x93NUMPY", major, minor, header length (uint16 LE for 1.x,
 *   uint32 LE for 2.x/3.x), an ASCII (3.x: UTF-8) Python dict literal
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } padded with
 *   spaces and ended by '\n', then the raw C-order elements.
 *
 * Everything in the file is untrusted: the header is parsed by a small
 * bounded tokenizer (no eval, no recursion), the element count is overflow
 * checked, and the data size is compared with the file size before anything
 * is allocated, so a hostile shape cannot make us allocate more than the
 * file holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lrpx_internal.h"

#define NPY_MAGIC      "\x93NUMPY"
#define NPY_MAGIC_LEN  6
/* numpy itself refuses headers over 10000 bytes unless told otherwise; we
 * allow more but not unbounded. */
#define NPY_MAX_HEADER ((uint32_t)1 << 20)

/* ---- dtypes ---- */

/* descr without its byte-order character; multi-byte types must be
 * little-endian ('<'), one-byte types accept any order mark. */
static const struct {
    const char *code;
    lrpx_dtype  dtype;
} npy_types[] = {
    /* code  dtype */
    { "f4", LRPX_DTYPE_FLOAT32 },
    { "f8", LRPX_DTYPE_FLOAT64 },
    { "i8", LRPX_DTYPE_INT64   },
    { "i4", LRPX_DTYPE_INT32   },
    { "u1", LRPX_DTYPE_UINT8   },
    { "i1", LRPX_DTYPE_INT8    },
    { "b1", LRPX_DTYPE_BOOL    },
};

static const char *
npy_code(lrpx_dtype dtype)
{
    for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++)
        if (npy_types[i].dtype == dtype)
            return npy_types[i].code;
    return NULL;
}

/* ---- errors ---- */

static lrpx_status
npy_fail(char *errbuf, size_t errlen, lrpx_status status, const char *path,
         const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static lrpx_status
npy_fail(char *errbuf, size_t errlen, lrpx_status status, const char *path,
         const char *fmt, ...)
{
    if (errbuf && errlen > 0) {
        char    msg[LRPX_ERRMSG_SIZE];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(errbuf, errlen, "%s: %s", path ? path : "(null)", msg);
    }
    return status;
}

#define FAIL(status, ...) npy_fail(errbuf, errlen, (status), path, __VA_ARGS__)

/* ---- header tokenizer ---- */

struct npy_lex {
    const char *p;
    const char *end;
};

static void
lex_space(struct npy_lex *l)
{
    while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
        l->p++;
}

/* Consume character c (after optional spaces); false if it is not next. */
static bool
lex_char(struct npy_lex *l, char c)
{
    lex_space(l);
    if (l->p < l->end && *l->p == c) {
        l->p++;
        return true;
    }
    return false;
}

/* A Python string literal in single or double quotes without escapes (numpy
 * never writes any); sets s and n to the text inside the quotes. */
static bool
lex_string(struct npy_lex *l, const char **s, size_t *n)
{
    lex_space(l);
    if (l->p >= l->end || (*l->p != '\'' && *l->p != '"'))
        return false;
    char q = *l->p++;
    const char *start = l->p;
    while (l->p < l->end && *l->p != q) {
        if (*l->p == '\\')
            return false;
        l->p++;
    }
    if (l->p >= l->end)
        return false;
    *s = start;
    *n = (size_t)(l->p - start);
    l->p++;
    return true;
}

/* A word of letters (True/False). */
static bool
lex_word(struct npy_lex *l, const char *word)
{
    lex_space(l);
    size_t n = strlen(word);
    if ((size_t)(l->end - l->p) < n || memcmp(l->p, word, n) != 0)
        return false;
    const char *after = l->p + n;
    if (after < l->end && ((*after >= 'a' && *after <= 'z') || (*after >= 'A' && *after <= 'Z')
                           || *after == '_' || (*after >= '0' && *after <= '9')))
        return false;
    l->p = after;
    return true;
}

/* A non-negative decimal integer (Python 2 numpy wrote a trailing 'L').
 * Returns 0 ok, 1 not a number, 2 too large for int64. */
static int
lex_int(struct npy_lex *l, int64_t *out)
{
    lex_space(l);
    if (l->p >= l->end || *l->p < '0' || *l->p > '9')
        return 1;
    int64_t v = 0;
    while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
        int d = *l->p - '0';
        if (v > (INT64_MAX - d) / 10)
            return 2;
        v = v * 10 + d;
        l->p++;
    }
    if (l->p < l->end && (*l->p == 'L' || *l->p == 'l'))
        l->p++;
    *out = v;
    return 0;
}

/* ---- header parsing ---- */

struct npy_header {
    lrpx_dtype dtype;
    bool       fortran_order;
    int        rank;
    int64_t    dims[LRPX_MAX_RANK];
};

static lrpx_status
parse_descr(const char *s, size_t n, lrpx_dtype *dtype, const char *path, char *errbuf,
            size_t errlen)
{
    if (n == 3 && (s[0] == '<' || s[0] == '>' || s[0] == '|' || s[0] == '=')) {
        for (size_t i = 0; i < sizeof npy_types / sizeof npy_types[0]; i++) {
            if (memcmp(s + 1, npy_types[i].code, 2) != 0)
                continue;
            bool one_byte = lrpx_dtype_size(npy_types[i].dtype) == 1;
            /* '=' is "native": numpy never writes it, and the files we
             * accept are little-endian, so only one-byte types pass */
            if (!one_byte && s[0] != '<')
                return FAIL(LRPX_EUNSUPPORTED,
                            "dtype '%.3s' is not little-endian; only little-endian "
                            ".npy files are supported", s);
            *dtype = npy_types[i].dtype;
            return LRPX_OK;
        }
    }
    return FAIL(LRPX_EUNSUPPORTED,
                "dtype '%.*s' is not supported (expected <f4, <f8, <i8, <i4, |u1, |i1 or |b1)",
                (int)(n > 32 ? 32 : n), s);
}

static lrpx_status
parse_shape(struct npy_lex *l, struct npy_header *h, const char *path, char *errbuf,
            size_t errlen)
{
    if (!lex_char(l, '('))
        return FAIL(LRPX_EPARSE, "header: 'shape' is not a tuple");
    h->rank = 0;
    if (lex_char(l, ')'))
        return LRPX_OK;
    for (;;) {
        int64_t v;
        int     rc = lex_int(l, &v);
        if (rc == 2)
            return FAIL(LRPX_ELIMIT, "header: a dimension of 'shape' does not fit in int64");
        if (rc != 0)
            return FAIL(LRPX_EPARSE, "header: 'shape' holds something other than "
                                     "non-negative integers");
        if (h->rank >= LRPX_MAX_RANK)
            return FAIL(LRPX_ELIMIT, "header: 'shape' has more than %d dimensions",
                        LRPX_MAX_RANK);
        h->dims[h->rank++] = v;
        if (lex_char(l, ')'))
            break;
        if (!lex_char(l, ','))
            return FAIL(LRPX_EPARSE, "header: malformed 'shape' tuple");
        if (lex_char(l, ')'))
            break;
    }
    /* "(5)" is an int in Python, not a tuple; numpy always writes "(5,)" */
    return LRPX_OK;
}

static lrpx_status
parse_header(const char *text, size_t len, struct npy_header *h, const char *path,
             char *errbuf, size_t errlen)
{
    struct npy_lex l     = { text, text + len };
    bool           seen[3] = { false, false, false };   /* descr, fortran_order, shape */
    lrpx_status    rc;

    if (memchr(text, '\0', len))
        return FAIL(LRPX_EPARSE, "header contains a NUL byte");
    if (!lex_char(&l, '{'))
        return FAIL(LRPX_EPARSE, "header is not a Python dict literal");
    while (!lex_char(&l, '}')) {
        const char *key;
        size_t      key_len;
        if (!lex_string(&l, &key, &key_len))
            return FAIL(LRPX_EPARSE, "header: expected a quoted key");
        if (!lex_char(&l, ':'))
            return FAIL(LRPX_EPARSE, "header: expected ':' after key '%.*s'",
                        (int)(key_len > 32 ? 32 : key_len), key);

        int which;
        if (key_len == 5 && memcmp(key, "descr", 5) == 0)
            which = 0;
        else if (key_len == 13 && memcmp(key, "fortran_order", 13) == 0)
            which = 1;
        else if (key_len == 5 && memcmp(key, "shape", 5) == 0)
            which = 2;
        else
            return FAIL(LRPX_EPARSE, "header: unexpected key '%.*s'",
                        (int)(key_len > 32 ? 32 : key_len), key);
        if (seen[which])
            return FAIL(LRPX_EPARSE, "header: key '%.*s' appears twice", (int)key_len, key);
        seen[which] = true;

        if (which == 0) {
            const char *s;
            size_t      n;
            if (!lex_string(&l, &s, &n)) {
                /* structured dtypes are lists of fields */
                if (lex_char(&l, '['))
                    return FAIL(LRPX_EUNSUPPORTED, "header: 'descr' is a list of fields; "
                                                   "structured arrays are not supported");
                return FAIL(LRPX_EPARSE, "header: 'descr' is not a quoted string");
            }
            rc = parse_descr(s, n, &h->dtype, path, errbuf, errlen);
            if (rc != LRPX_OK)
                return rc;
        } else if (which == 1) {
            if (lex_word(&l, "True"))
                h->fortran_order = true;
            else if (lex_word(&l, "False"))
                h->fortran_order = false;
            else
                return FAIL(LRPX_EPARSE, "header: 'fortran_order' is neither True nor False");
        } else {
            rc = parse_shape(&l, h, path, errbuf, errlen);
            if (rc != LRPX_OK)
                return rc;
        }

        if (lex_char(&l, '}'))
            break;
        if (!lex_char(&l, ','))
            return FAIL(LRPX_EPARSE, "header: expected ',' or '}' after a value");
    }
    lex_space(&l);
    if (l.p != l.end)
        return FAIL(LRPX_EPARSE, "header: unexpected text after the dict");
    if (!seen[0] || !seen[1] || !seen[2])
        return FAIL(LRPX_EPARSE, "header: missing key '%s'",
                    !seen[0] ? "descr" : !seen[1] ? "fortran_order" : "shape");
    if (h->fortran_order)
        return FAIL(LRPX_EUNSUPPORTED, "Fortran-order arrays are not supported; "
                                       "save a C-contiguous array (np.ascontiguousarray)");
    return LRPX_OK;
}

/* ---- reading ---- */

static uint32_t
le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

/* Read exactly n bytes; false on a short read or an error. */
static bool
read_exact(FILE *f, void *buf, size_t n)
{
    return n == 0 || fread(buf, 1, n, f) == n;
}

lrpx_status
lrpx_npy_read(const char *path, lrpx_npy **out, char *errbuf, size_t errlen)
{
    lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);   /* "" unless it fails */
    if (!out)
        return FAIL(LRPX_EINVAL, "lrpx_npy_read: out is NULL");
    *out = NULL;
    if (!path)
        return FAIL(LRPX_EINVAL, "lrpx_npy_read: path is NULL");

    /* a FIFO must not make the open wait for a writer */
    struct stat st;
    bool        not_regular;
    FILE       *f = lrpx__fopen_regular_file(path, &st, &not_regular);
    if (!f) {
        struct lrpx_err err;
        return lrpx__errbuf_done(lrpx__open_error(path, not_regular, errno, &err), &err, errbuf,
                                 errlen);
    }

    lrpx_status  rc     = LRPX_OK;
    char        *header = NULL;
    lrpx_npy    *npy    = NULL;
    uint64_t file_size = (uint64_t)st.st_size;
    if (file_size < 12) {
        rc = FAIL(LRPX_EPARSE, "too short for a .npy file (%llu bytes)",
                  (unsigned long long)file_size);
        goto done;
    }

    /* magic, version */
    unsigned char pre[12];
    if (!read_exact(f, pre, 8)) {
        rc = FAIL(LRPX_EPARSE, "too short for a .npy file (%llu bytes)",
                  (unsigned long long)file_size);
        goto done;
    }
    if (memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0) {
        rc = FAIL(LRPX_EPARSE, "not a .npy file (bad magic)");
        goto done;
    }
    unsigned major = pre[6], minor = pre[7];
    uint32_t header_len;
    size_t   prelude;
    if (major == 1) {
        if (!read_exact(f, pre + 8, 2)) {
            rc = FAIL(LRPX_EPARSE, "truncated in the header length");
            goto done;
        }
        header_len = (uint32_t)pre[8] | (uint32_t)pre[9] << 8;
        prelude    = 10;
    } else if (major == 2 || major == 3) {
        if (!read_exact(f, pre + 8, 4)) {
            rc = FAIL(LRPX_EPARSE, "truncated in the header length");
            goto done;
        }
        header_len = le32(pre + 8);
        prelude    = 12;
    } else {
        rc = FAIL(LRPX_EUNSUPPORTED, ".npy format version %u.%u is not supported "
                                     "(1.x, 2.x and 3.x are)", major, minor);
        goto done;
    }
    if (header_len > NPY_MAX_HEADER) {
        rc = FAIL(LRPX_ELIMIT, "header of %lu bytes exceeds the %lu-byte limit",
                  (unsigned long)header_len, (unsigned long)NPY_MAX_HEADER);
        goto done;
    }
    if ((uint64_t)header_len > file_size - prelude) {
        rc = FAIL(LRPX_EPARSE, "header length %lu runs past the end of the file "
                               "(%llu bytes)", (unsigned long)header_len,
                  (unsigned long long)file_size);
        goto done;
    }

    header = lrpx__malloc((size_t)header_len + 1);
    if (!header) {
        rc = FAIL(LRPX_ENOMEM, "out of memory for the header");
        goto done;
    }
    if (!read_exact(f, header, header_len)) {
        rc = FAIL(LRPX_EIO, "read error in the header");
        goto done;
    }
    header[header_len] = '\0';

    struct npy_header h = { .dtype = LRPX_DTYPE_UNDEFINED };
    rc = parse_header(header, header_len, &h, path, errbuf, errlen);
    if (rc != LRPX_OK)
        goto done;

    /* element count and bytes, overflow checked */
    int64_t n_elems = 1;
    for (int i = 0; i < h.rank; i++) {
        if (!lrpx__mul_i64(n_elems, h.dims[i], &n_elems)) {
            rc = FAIL(LRPX_ELIMIT, "shape has more elements than fit in int64");
            goto done;
        }
    }
    size_t  esize = lrpx_dtype_size(h.dtype);
    int64_t n_bytes;
    if (!lrpx__mul_i64(n_elems, (int64_t)esize, &n_bytes) || (uint64_t)n_bytes > SIZE_MAX) {
        rc = FAIL(LRPX_ELIMIT, "data size of %lld elements overflows", (long long)n_elems);
        goto done;
    }
    uint64_t data_off = prelude + (uint64_t)header_len;
    uint64_t avail    = file_size - data_off;
    if ((uint64_t)n_bytes > avail) {
        rc = FAIL(LRPX_EIO, "file is truncated: shape needs %lld bytes of data, "
                            "%llu are present", (long long)n_bytes, (unsigned long long)avail);
        goto done;
    }
    if ((uint64_t)n_bytes < avail) {
        rc = FAIL(LRPX_EPARSE, "%llu bytes of unexpected data after the array",
                  (unsigned long long)(avail - (uint64_t)n_bytes));
        goto done;
    }

    npy = lrpx__calloc(1, sizeof *npy);
    if (!npy) {
        rc = FAIL(LRPX_ENOMEM, "out of memory");
        goto done;
    }
    npy->dtype   = h.dtype;
    npy->rank    = h.rank;
    npy->n_elems = n_elems;
    for (int i = 0; i < h.rank; i++)
        npy->dims[i] = h.dims[i];
    npy->data = lrpx__malloc((size_t)n_bytes);
    if (!npy->data) {
        rc = FAIL(LRPX_ENOMEM, "out of memory for %lld bytes of data", (long long)n_bytes);
        goto done;
    }
    if (!read_exact(f, npy->data, (size_t)n_bytes)) {
        rc = FAIL(LRPX_EIO, "read error in the data: %s",
                  ferror(f) ? strerror(errno) : "unexpected end of file");
        goto done;
    }
    /* lrpx bools are 0 or 1; numpy stores any non-zero byte as True */
    if (npy->dtype == LRPX_DTYPE_BOOL) {
        uint8_t *b = npy->data;
        for (int64_t i = 0; i < n_elems; i++)
            b[i] = b[i] != 0;
    }

done:
    lrpx__free(header);
    fclose(f);
    if (rc != LRPX_OK) {
        lrpx_npy_free(npy);
        return rc;
    }
    *out = npy;
    return LRPX_OK;
}

void
lrpx_npy_free(lrpx_npy *npy)
{
    if (!npy)
        return;
    lrpx__free(npy->data);
    lrpx__free(npy);
}

/* ---- writing ---- */

struct npy_out {
    const unsigned char *pre;      /* magic, version, header length */
    const char          *header;
    size_t               header_len;
    const void          *data;
    size_t               n_bytes;
};

static lrpx_status
npy_write_parts(FILE *f, const void *ctx, struct lrpx_err *err)
{
    const struct npy_out *o = ctx;
    if (fwrite(o->pre, 1, 10, f) != 10 || fwrite(o->header, 1, o->header_len, f) != o->header_len
        || (o->n_bytes && fwrite(o->data, 1, o->n_bytes, f) != o->n_bytes))
        return lrpx__error(err, LRPX_EIO, "write failed: %s", strerror(errno));
    return LRPX_OK;
}

lrpx_status
lrpx_npy_write(const char *path, lrpx_dtype dtype, int rank, const int64_t *dims,
               const void *data, char *errbuf, size_t errlen)
{
    return lrpx_npy_write_ex(path, dtype, rank, dims, data, 0, errbuf, errlen);
}

lrpx_status
lrpx_npy_write_ex(const char *path, lrpx_dtype dtype, int rank, const int64_t *dims,
                  const void *data, int flags, char *errbuf, size_t errlen)
{
    lrpx__errbuf_done(LRPX_OK, NULL, errbuf, errlen);   /* "" unless it fails */
    if (!path)
        return FAIL(LRPX_EINVAL, "lrpx_npy_write: path is NULL");
    const char *code = npy_code(dtype);
    if (!code)
        return FAIL(LRPX_EUNSUPPORTED, "cannot write dtype %s to .npy (float32, float64, "
                                       "int64, int32, uint8, int8 and bool can be)",
                    lrpx_dtype_name(dtype));
    if (rank < 0 || rank > LRPX_MAX_RANK)
        return FAIL(LRPX_EINVAL, "rank %d is outside 0..%d", rank, LRPX_MAX_RANK);
    if (rank > 0 && !dims)
        return FAIL(LRPX_EINVAL, "dims is NULL");

    int64_t n_elems = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0)
            return FAIL(LRPX_EINVAL, "dimension %d is negative (%lld)", i, (long long)dims[i]);
        if (!lrpx__mul_i64(n_elems, dims[i], &n_elems))
            return FAIL(LRPX_ELIMIT, "shape has more elements than fit in int64");
    }
    int64_t n_bytes;
    if (!lrpx__mul_i64(n_elems, (int64_t)lrpx_dtype_size(dtype), &n_bytes)
        || (uint64_t)n_bytes > SIZE_MAX)
        return FAIL(LRPX_ELIMIT, "data size overflows");
    if (n_bytes > 0 && !data)
        return FAIL(LRPX_EINVAL, "data is NULL");

    /* header: dict, spaces, '\n', so that magic+len+header is a multiple of 64 */
    char   header[512];
    size_t hl = (size_t)snprintf(header, sizeof header,
                                 "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                                 lrpx_dtype_size(dtype) == 1 ? '|' : '<', code);
    for (int i = 0; i < rank; i++)
        hl += (size_t)snprintf(header + hl, sizeof header - hl, "%s%lld", i ? ", " : "",
                               (long long)dims[i]);
    hl += (size_t)snprintf(header + hl, sizeof header - hl, "%s), }", rank == 1 ? "," : "");
    size_t total = 10 + hl + 1;
    size_t pad   = (64 - total % 64) % 64;
    LRPX_ASSERT(hl + pad + 1 < sizeof header);
    memset(header + hl, ' ', pad);
    hl += pad;
    header[hl++] = '\n';

    unsigned char pre[10];
    memcpy(pre, NPY_MAGIC, NPY_MAGIC_LEN);
    pre[6] = 1;
    pre[7] = 0;
    pre[8] = (unsigned char)(hl & 0xff);
    pre[9] = (unsigned char)(hl >> 8);

    /* a temporary in the same folder, renamed over path when complete, so
     * readers never see a partial file */
    struct npy_out  out = { pre, header, hl, data, (size_t)n_bytes };
    struct lrpx_err err;
    return lrpx__errbuf_done(lrpx__write_atomic_ex(path, npy_write_parts, &out, flags, &err), &err,
                             errbuf, errlen);
}
