/* TensorProto → struct lrpx_tensor: dims, dtypes, raw_data and the typed
 * *_data fields, external data files confined to the model's folder, and
 * whole .pb files.
 *
 * ONNX: https://onnx.ai/onnx/repo-docs/IR.html#tensor-definition and
 * https://onnx.ai/onnx/repo-docs/ExternalData.html
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/graph.h"
#include "onnx/onnx_impl.h"
#include "onnx/tensor_pb.h"

/* raw_data is little-endian by the spec; lrpx copies it as is. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lrpx reads ONNX raw_data with memcpy and needs a little-endian host"
#endif

/* ---- protobuf-c allocator ---- */

/* allocator_data, when set, points to a struct lrpx_pb_state: protobuf-c
 * reports corrupt input, a failed allocation and our budget all as NULL */
static void *
pb_alloc(void *ctx, size_t size)
{
    struct lrpx_pb_state *st = ctx;
    if (st && st->limit && (size > st->limit || st->used > st->limit - size)) {
        st->over = true;
        return NULL;
    }
    void *p = lrpx__malloc(size);
    if (st) {
        if (!p)
            st->failed = true;
        else
            st->used += size;
    }
    return p;
}

static void
pb_free(void *ctx, void *p)
{
    (void)ctx;
    lrpx__free(p);
}

ProtobufCAllocator
lrpx__pb_allocator_state(struct lrpx_pb_state *st, size_t len, int64_t max_total)
{
    memset(st, 0, sizeof *st);
    /* protobuf-c's structs are larger than their encoding (an empty
     * NodeProto is 2 bytes on the wire, about 100 in memory; packed int64
     * varints grow up to 8x), so the budget is a multiple of the input,
     * within max_total_bytes */
    size_t limit = 0;
    if (len <= (SIZE_MAX - ((size_t)64 << 20)) / 16)
        limit = 16 * len + ((size_t)64 << 20);
    if (max_total > 0 && (limit == 0 || (uint64_t)max_total < limit))
        limit = (size_t)max_total;
    st->limit            = limit;
    ProtobufCAllocator a = {pb_alloc, pb_free, st};
    return a;
}

/* ---- external data ---- */

/* Resolve `location` inside base_dir; refuse absolute paths, ".." parts and
 * anything (links included) whose real path leaves the folder. */
static lrpx_status
external_path(const char *base_dir, const char *location, const char *what, char *out,
              size_t size, struct lrpx_err *err)
{
    if (!base_dir)
        return lrpx__error(err, LRPX_EUNSUPPORTED,
                           "%s: external data '%s' but the model has no folder (loaded from memory)",
                           what, location);
    if (location[0] == '\0')
        return lrpx__error(err, LRPX_EPARSE, "%s: external data without a location", what);
    if (location[0] == '/' || location[0] == '\\')
        return lrpx__error(err, LRPX_EINVAL,
                           "%s: external data path '%s' is absolute; it must be inside the model's folder",
                           what, location);
    /* any ".." component */
    for (const char *p = location; *p;) {
        const char *e = p;
        while (*e && *e != '/' && *e != '\\')
            e++;
        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return lrpx__error(err, LRPX_EINVAL,
                               "%s: external data path '%s' leaves the model's folder", what,
                               location);
        p = *e ? e + 1 : e;
    }
    char joined[PATH_MAX];
    int  n = snprintf(joined, sizeof joined, "%s/%s", base_dir, location);
    if (n < 0 || (size_t)n >= sizeof joined)
        return lrpx__error(err, LRPX_EINVAL, "%s: external data path too long", what);
    char real_base[PATH_MAX], real_file[PATH_MAX];
    if (!realpath(base_dir, real_base))
        return lrpx__error(err, LRPX_EIO, "%s: cannot resolve folder '%s': %s", what, base_dir,
                           strerror(errno));
    if (!realpath(joined, real_file))
        return lrpx__error(err, LRPX_EIO, "%s: external data file '%s': %s", what, joined,
                           strerror(errno));
    size_t bl = strlen(real_base);
    if (strncmp(real_file, real_base, bl) != 0 || (real_file[bl] != '/' && bl != 1))
        return lrpx__error(err, LRPX_EINVAL,
                           "%s: external data '%s' resolves to '%s', outside the model's folder",
                           what, location, real_file);
    if ((size_t)snprintf(out, size, "%s", real_file) >= size)
        return lrpx__error(err, LRPX_EINVAL, "%s: external data path too long", what);
    return LRPX_OK;
}

/* Open the external data of tp and seek to it, after checking that the
 * file holds nbytes there: done before the tensor is allocated, so that a
 * tiny model cannot make lrpx allocate a large tensor for data that does
 * not exist. */
static lrpx_status
open_external(const Onnx__TensorProto *tp, const struct lrpx_tensor_src *src, int64_t nbytes,
              FILE **fp, struct lrpx_err *err)
{
    *fp = NULL;
    const char *location = NULL;
    int64_t     offset = 0, length = -1;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *kv = tp->external_data[i];
        if (!kv || !kv->key)
            continue;
        const char *v = kv->value ? kv->value : "";
        if (strcmp(kv->key, "location") == 0) {
            location = v;
        } else if (strcmp(kv->key, "offset") == 0 || strcmp(kv->key, "length") == 0) {
            char     *end;
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (errno || *end || x < 0 || end == v)
                return lrpx__error(err, LRPX_EPARSE, "%s: external data %s '%s' is not a size",
                                   src->what, kv->key, v);
            if (kv->key[0] == 'o')
                offset = x;
            else
                length = x;
        }
    }
    if (!location)
        return lrpx__error(err, LRPX_EPARSE, "%s: external data without a location", src->what);
    if (length >= 0 && length != nbytes)
        return lrpx__error(err, LRPX_EPARSE,
                           "%s: external data length %lld, shape needs %lld bytes", src->what,
                           (long long)length, (long long)nbytes);
    char        path[PATH_MAX];
    lrpx_status rc = external_path(src->base_dir, location, src->what, path, sizeof path, err);
    if (rc != LRPX_OK)
        return rc;
    struct stat st;
    bool        not_regular;
    FILE       *f = lrpx__fopen_regular_file(path, &st, &not_regular);
    if (!f) {
        rc = lrpx__open_error(path, not_regular, errno, err);
        lrpx__error_prefix(err, "%s", src->what);
        return rc;
    }
    if (offset > (int64_t)st.st_size || nbytes > (int64_t)st.st_size - offset) {
        fclose(f);
        return lrpx__error(err, LRPX_EPARSE,
                           "%s: external data '%s' has %lld bytes, needs %lld at offset %lld",
                           src->what, location, (long long)st.st_size, (long long)nbytes,
                           (long long)offset);
    }
    if (fseeko(f, (off_t)offset, SEEK_SET) != 0) {
        fclose(f);
        return lrpx__error(err, LRPX_EIO, "%s: cannot seek in external data '%s'", src->what,
                           path);
    }
    if (src->files && !lrpx__graph_add_file(src->files, path)) {
        fclose(f);
        return lrpx__error(err, LRPX_ENOMEM, "%s: out of memory", src->what);
    }
    *fp = f;
    return LRPX_OK;
}

/* ---- TensorProto ---- */

static lrpx_status
count_mismatch(struct lrpx_err *err, const char *what, const char *field, size_t have,
               int64_t need)
{
    return lrpx__error(err, LRPX_EPARSE, "%s: %s holds %zu values, shape needs %lld", what, field,
                       have, (long long)need);
}

lrpx_status
lrpx__tensor_from_proto(const Onnx__TensorProto *tp, const struct lrpx_tensor_src *src,
                        struct lrpx_tensor *out, struct lrpx_err *err)
{
    const char *what = src->what ? src->what : "tensor";
    memset(out, 0, sizeof *out);
    if (tp->n_dims > LRPX_MAX_RANK)
        return lrpx__error(err, LRPX_EUNSUPPORTED, "%s: rank %zu exceeds lrpx's maximum of %d",
                           what, tp->n_dims, LRPX_MAX_RANK);
    for (size_t i = 0; i < tp->n_dims; i++)
        if (tp->dims[i] < 0)
            return lrpx__error(err, LRPX_EPARSE, "%s: dimension %zu is negative (%lld)", what, i,
                               (long long)tp->dims[i]);
    int32_t dt = tp->has_data_type ? tp->data_type : 0;
    size_t  esize = (dt > 0 && dt < LRPX_DTYPE_COUNT) ? lrpx_dtype_size((lrpx_dtype)dt) : 0;
    if (dt == LRPX_DTYPE_FLOAT16 || dt == LRPX_DTYPE_STRING || esize == 0)
        return lrpx__error(err, LRPX_EUNSUPPORTED, "%s: data type %s (%d) is not supported", what,
                           lrpx_dtype_name((lrpx_dtype)dt), (int)dt);
    if (!lrpx__tensor_shape(out, (lrpx_dtype)dt, (int)tp->n_dims, tp->dims))
        return lrpx__error(err, LRPX_ELIMIT, "%s: the product of its dimensions overflows", what);
    int64_t nbytes = lrpx__tensor_bytes(out);
    if (src->max_bytes > 0 && nbytes > src->max_bytes)
        return lrpx__error(err, LRPX_ELIMIT, "%s: %lld bytes exceed the tensor limit of %lld", what,
                           (long long)nbytes, (long long)src->max_bytes);
    int64_t n = out->n_elems;

    /* check that the data covers the shape before allocating */
    bool external = tp->has_data_location &&
                    tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const bool     has_raw = src->raw_set || tp->has_raw_data;
    const uint8_t *raw     = src->raw_set ? src->raw : tp->raw_data.data;
    const size_t   raw_len = src->raw_set ? src->raw_len : tp->raw_data.len;
    size_t have = 0;
    const char *field = NULL;
    FILE       *ext   = NULL;
    if (external) {
        lrpx_status erc = open_external(tp, src, nbytes, &ext, err);
        if (erc != LRPX_OK)
            return erc;
    } else if (has_raw) {
        if ((int64_t)raw_len != nbytes)
            return lrpx__error(err, LRPX_EPARSE, "%s: raw_data holds %zu bytes, shape %s needs %lld",
                               what, raw_len,
                               lrpx__dims_str(out->dims, out->rank, (char[96]){0}, 96),
                               (long long)nbytes);
    } else {
        switch (dt) {
        case LRPX_DTYPE_FLOAT32: have = tp->n_float_data;  field = "float_data";  break;
        case LRPX_DTYPE_FLOAT64: have = tp->n_double_data; field = "double_data"; break;
        case LRPX_DTYPE_INT64:   have = tp->n_int64_data;  field = "int64_data";  break;
        case LRPX_DTYPE_UINT32:
        case LRPX_DTYPE_UINT64:  have = tp->n_uint64_data; field = "uint64_data"; break;
        default:                 have = tp->n_int32_data;  field = "int32_data";  break;
        }
        if ((int64_t)have != n)
            return count_mismatch(err, what, field, have, n);
    }

    /* raw bytes in a mapping that outlives the tensor, aligned for the
     * type: used in place (bools are normalised to 0/1 below, so copied) */
    if (!external && has_raw && src->map && src->raw_set && dt != LRPX_DTYPE_BOOL &&
        ((uintptr_t)raw % esize) == 0) {
        out->data = (void *)(uintptr_t)raw;
        return LRPX_OK;
    }
    const bool filled = external || has_raw;     /* every byte written below */
    void *data = src->arena ? (filled ? lrpx__arena_alloc_uninit(src->arena, (size_t)nbytes)
                                      : lrpx__arena_alloc(src->arena, (size_t)nbytes))
                            : lrpx__malloc((size_t)nbytes);
    if (!data) {
        if (ext)
            fclose(ext);
        return lrpx__error(err, src->arena && src->arena->limit_hit ? LRPX_ELIMIT : LRPX_ENOMEM,
                           "%s: cannot allocate %lld bytes", what, (long long)nbytes);
    }
    out->data = data;

    lrpx_status rc = LRPX_OK;
    if (external) {
        if (nbytes && fread(data, 1, (size_t)nbytes, ext) != (size_t)nbytes)
            rc = lrpx__error(err, LRPX_EIO, "%s: short read of external data", what);
        fclose(ext);
    } else if (has_raw) {
        /* in slices, each given back to the page cache once copied, so a
         * mapped model costs its weights' size once, not twice */
        const size_t slice = (size_t)32 << 20;
        for (size_t off = 0; off < (size_t)nbytes; off += slice) {
            size_t k = (size_t)nbytes - off < slice ? (size_t)nbytes - off : slice;
            memcpy((char *)data + off, raw + off, k);
            lrpx__file_map_drop(src->map, raw + off, k);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            switch (dt) {
            case LRPX_DTYPE_FLOAT32: out->f32[i] = tp->float_data[i]; break;
            case LRPX_DTYPE_FLOAT64: out->f64[i] = tp->double_data[i]; break;
            case LRPX_DTYPE_INT64:   out->i64[i] = tp->int64_data[i]; break;
            case LRPX_DTYPE_INT32:   out->i32[i] = tp->int32_data[i]; break;
            case LRPX_DTYPE_INT16:   ((int16_t *)data)[i] = (int16_t)tp->int32_data[i]; break;
            case LRPX_DTYPE_UINT16:  ((uint16_t *)data)[i] = (uint16_t)tp->int32_data[i]; break;
            case LRPX_DTYPE_INT8:    out->i8[i] = (int8_t)tp->int32_data[i]; break;
            case LRPX_DTYPE_UINT8:   out->u8[i] = (uint8_t)tp->int32_data[i]; break;
            case LRPX_DTYPE_BOOL:    out->u8[i] = tp->int32_data[i] != 0; break;
            case LRPX_DTYPE_UINT32:  ((uint32_t *)data)[i] = (uint32_t)tp->uint64_data[i]; break;
            case LRPX_DTYPE_UINT64:  ((uint64_t *)data)[i] = tp->uint64_data[i]; break;
            default: break;
            }
        }
    }
    if (rc == LRPX_OK && dt == LRPX_DTYPE_BOOL)
        for (int64_t i = 0; i < n; i++)
            out->u8[i] = out->u8[i] != 0;
    if (rc != LRPX_OK && !src->arena) {
        lrpx__free(data);
        out->data = NULL;
    }
    return rc;
}

/* ---- .pb files ---- */

lrpx_status
lrpx__tensor_pb_read(const char *path, struct lrpx_tensor *out, char **name_out,
                     struct lrpx_err *err)
{
    memset(out, 0, sizeof *out);
    if (name_out)
        *name_out = NULL;
    static const struct lrpx_file_cap cap = {(size_t)2 << 30, LRPX_ELIMIT, "a tensor file"};
    void       *buf;
    size_t      len;
    lrpx_status rc = lrpx__slurp(path, &cap, &buf, &len, err);
    if (rc != LRPX_OK)
        return rc;
    struct lrpx_pb_state st;
    ProtobufCAllocator   alloc = lrpx__pb_allocator_state(&st, len, 0);
    Onnx__TensorProto   *tp    = onnx__tensor_proto__unpack(&alloc, len, buf);
    lrpx__free(buf);
    if (!tp)
        return st.failed ? lrpx__error(err, LRPX_ENOMEM, "%s: out of memory", path)
             : st.over   ? lrpx__error(err, LRPX_ELIMIT,
                                       "%s: parsing needs more than %zu bytes (corrupt or "
                                       "hostile file)", path, st.limit)
                         : lrpx__error(err, LRPX_EPARSE, "%s: not a serialized TensorProto", path);
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    struct lrpx_tensor_src src = {.base_dir = dir, .arena = NULL, .max_bytes = 0, .what = path};
    rc = lrpx__tensor_from_proto(tp, &src, out, err);
    if (rc == LRPX_OK && name_out) {
        *name_out = lrpx__strdup(tp->name ? tp->name : "");
        if (!*name_out) {
            lrpx__free(out->data);
            out->data = NULL;
            rc = lrpx__error(err, LRPX_ENOMEM, "%s: out of memory", path);
        }
    }
    onnx__tensor_proto__free_unpacked(tp, &alloc);
    return rc;
}

void
lrpx__tensor_pb_free(struct lrpx_tensor *t, char *name)
{
    if (t) {
        lrpx__free(t->data);
        t->data = NULL;
    }
    lrpx__free(name);
}
