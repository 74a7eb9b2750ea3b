/* ModelProto → struct lrpx_graph. The proto lives only as long as the load:
 * unpack, copy names, attributes and weights into the model arena, free.
 *
 * ONNX IR: https://onnx.ai/onnx/repo-docs/IR.html
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "onnx/load.h"
#include "onnx/onnx_impl.h"
#include "core/op.h"

/* ---- helpers ---- */

/* protobuf-c unpacks nested messages recursively and ONNX nests without
 * bound (a graph attribute holds a graph whose nodes hold graphs ...): a
 * 2 MB file nested 100k deep overflows the stack. The wire format is
 * walked once with an explicit stack first and deep files are refused.
 * Real models nest about 7 levels per graph (Model, Graph, ValueInfo,
 * TypeProto, Tensor, Shape, Dimension) plus 3 per subgraph level. */
#define PB_MAX_DEPTH 100

static bool
pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* Deepest message nesting in buf (the root counts 1), or PB_MAX_DEPTH + 1
 * when deeper. Malformed input ends the walk early: protobuf-c reports it. */
static int
pb_nesting(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *root)
{
    struct {
        const ProtobufCMessageDescriptor *desc;
        const uint8_t                    *end;
    } stack[PB_MAX_DEPTH];
    int            sp = 0, deepest = 1;
    const uint8_t *p  = buf;
    if (!buf)
        return 0;
    stack[0].desc = root;
    stack[0].end  = buf + len;
    while (sp >= 0) {
        const uint8_t *end = stack[sp].end;
        if (p >= end) {
            sp--;
            continue;
        }
        uint64_t tag, n;
        if (!pb_varint(&p, end, &tag))
            return deepest;
        switch (tag & 7) {
        case PROTOBUF_C_WIRE_TYPE_VARINT:
            if (!pb_varint(&p, end, &n))
                return deepest;
            break;
        case PROTOBUF_C_WIRE_TYPE_64BIT:
            if (end - p < 8)
                return deepest;
            p += 8;
            break;
        case PROTOBUF_C_WIRE_TYPE_32BIT:
            if (end - p < 4)
                return deepest;
            p += 4;
            break;
        case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED: {
            if (!pb_varint(&p, end, &n) || n > (uint64_t)(end - p))
                return deepest;
            const ProtobufCFieldDescriptor *f =
                (tag >> 3) <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(stack[sp].desc, (unsigned)(tag >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor) {
                if (sp + 1 >= PB_MAX_DEPTH)
                    return PB_MAX_DEPTH + 1;
                sp++;
                stack[sp].desc = f->descriptor;
                stack[sp].end  = p + n;     /* p stays: walk the submessage */
                if (sp + 1 > deepest)
                    deepest = sp + 1;
            } else {
                p += n;
            }
            break;
        }
        default:   /* groups or garbage */
            return deepest;
        }
    }
    return deepest;
}

/* ---- raw_data kept out of the parse ----
 *
 * protobuf-c copies every bytes field, so parsing a 550 MB model would copy
 * its weights once more, through fresh memory. Before parsing, the file is
 * rewritten without the contents of the raw_data of the graph's
 * initializers (ModelProto.graph = 7, GraphProto.initializer = 5,
 * TensorProto.raw_data = 9): each becomes an empty raw_data, and where its
 * bytes are is recorded per initializer, in file order (protobuf-c keeps
 * repeated fields in that order, merging repeated graph fields). The
 * rewrite is small (names, attributes, shapes) and its walk only reads the
 * framing, never the weights. A file the walk cannot follow is parsed as
 * it is, so protobuf-c reports the error. */

enum { STRIP_MODEL, STRIP_GRAPH, STRIP_TENSOR };

struct strip_ref {
    const uint8_t *p;
    size_t         len;
    bool           set;
};

struct strip {
    uint8_t          *out;       /* NULL while sizing               */
    size_t            n_out;
    struct strip_ref *refs;      /* NULL while sizing               */
    size_t            n_refs;
};

/* One field: the tag's bytes [tag, val) and, for a length-delimited
 * field, its payload [val, val + len); the field ends at end. Returns 1,
 * 0 at the end of the message, -1 for what the walk cannot follow. */
struct pb_field {
    uint64_t       num;
    int            wire;
    const uint8_t *tag, *val, *end;
    uint64_t       len;
    size_t         tag_len;
};

static int
pb_next(const uint8_t **p, const uint8_t *end, struct pb_field *f)
{
    if (*p >= end)
        return 0;
    uint64_t tag, n;
    f->tag = *p;
    if (!pb_varint(p, end, &tag))
        return -1;
    f->tag_len = (size_t)(*p - f->tag);
    f->num     = tag >> 3;
    f->wire    = (int)(tag & 7);
    f->len     = 0;
    switch (f->wire) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
        if (!pb_varint(p, end, &n))
            return -1;
        break;
    case PROTOBUF_C_WIRE_TYPE_64BIT:
        if (end - *p < 8)
            return -1;
        *p += 8;
        break;
    case PROTOBUF_C_WIRE_TYPE_32BIT:
        if (end - *p < 4)
            return -1;
        *p += 4;
        break;
    case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
        if (!pb_varint(p, end, &n) || n > (uint64_t)(end - *p))
            return -1;
        f->len = n;
        break;
    default:
        return -1;
    }
    f->val = *p;
    if (f->wire == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
        *p += f->len;
    f->end = *p;
    return 1;
}

static void
strip_put(struct strip *s, const void *src, size_t n)
{
    if (s->out)
        memcpy(s->out + s->n_out, src, n);
    s->n_out += n;
}

static void
strip_put_varint(struct strip *s, uint64_t v)
{
    uint8_t b[10];
    size_t  n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    strip_put(s, b, n);
}

/* The message [p, end) at `level`, rewritten; *size: its rewritten size.
 * Sizing (s->out NULL) and writing run the same code. */
static bool
strip_msg(struct strip *s, int level, const uint8_t *p, const uint8_t *end)
{
    struct pb_field f;
    int             r;
    while ((r = pb_next(&p, end, &f)) > 0) {
        const bool len_field = f.wire == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
        int        child     = -1;
        if (len_field && level == STRIP_MODEL && f.num == 7)
            child = STRIP_GRAPH;
        else if (len_field && level == STRIP_GRAPH && f.num == 5)
            child = STRIP_TENSOR;
        if (child >= 0) {
            /* the rewritten size first, for the length prefix */
            struct strip sz = {0};
            if (!strip_msg(&sz, child, f.val, f.val + f.len))
                return false;
            strip_put(s, f.tag, f.tag_len);
            strip_put_varint(s, sz.n_out);
            if (child == STRIP_TENSOR) {
                if (s->refs)
                    s->refs[s->n_refs] = (struct strip_ref){0};
                s->n_refs++;
            }
            /* the same walk again, writing; refs go on in s */
            struct strip w = {s->out ? s->out + s->n_out : NULL, 0, s->refs, s->n_refs};
            if (child == STRIP_TENSOR)
                w.n_refs--;   /* the tensor fills its own entry */
            if (!strip_msg(&w, child, f.val, f.val + f.len))
                return false;
            s->n_out += w.n_out;
            if (child != STRIP_TENSOR)
                s->n_refs = w.n_refs;
        } else if (len_field && level == STRIP_TENSOR && f.num == 9) {
            /* the last raw_data wins, as when protobuf parses it */
            if (s->refs)
                s->refs[s->n_refs] = (struct strip_ref){f.val, (size_t)f.len, true};
            strip_put(s, f.tag, f.tag_len);
            strip_put_varint(s, 0);
        } else {
            strip_put(s, f.tag, (size_t)(f.end - f.tag));
        }
    }
    return r == 0;
}

/* Rewrite buf without the initializers' raw_data: *out (lrpx__malloc) and
 * *refs (one per initializer, lrpx__malloc) on success; false when the
 * walk fails or memory is short (the caller parses buf as it is). */
static bool
strip_raw_data(const uint8_t *buf, size_t len, uint8_t **out, size_t *out_len,
               struct strip_ref **refs, size_t *n_refs)
{
    *out  = NULL;
    *refs = NULL;
    struct strip sz = {0};
    if (!buf || !strip_msg(&sz, STRIP_MODEL, buf, buf + len))
        return false;
    struct strip w = {lrpx__malloc(sz.n_out + 1), 0,
                      lrpx__calloc(sz.n_refs + 1, sizeof(struct strip_ref)), 0};
    if (!w.out || !w.refs || !strip_msg(&w, STRIP_MODEL, buf, buf + len) ||
        w.n_out != sz.n_out || w.n_refs != sz.n_refs) {
        lrpx__free(w.out);
        lrpx__free(w.refs);
        return false;
    }
    *out     = w.out;
    *out_len = w.n_out;
    *refs    = w.refs;
    *n_refs  = w.n_refs;
    return true;
}

static const char *
s_or_empty(const char *s)
{
    return s ? s : "";
}

static bool
default_domain(const char *d)
{
    return !d || d[0] == '\0' || strcmp(d, "ai.onnx") == 0;
}

struct loader {
    struct lrpx_graph              *g;
    struct lrpx_err                *err;
    const struct lrpx_load_options *opts;
    const char                     *file;   /* for messages */
    /* the initializers' raw_data when parsed without it (strip_raw_data),
     * one per initializer; NULL: in the parsed protos */
    const struct strip_ref         *raw;
    size_t                          n_raw;
    const struct lrpx_file_map     *map;    /* raw lies in it: may be used in place */
};

static lrpx_status
oom(struct loader *L)
{
    if (L->g->arena.limit_hit)
        return lrpx__error(L->err, LRPX_ELIMIT, "%s: model exceeds the memory limit of %lld bytes",
                           L->file, (long long)L->opts->max_total_bytes);
    return lrpx__error(L->err, LRPX_ENOMEM, "%s: out of memory", L->file);
}

/* ---- value table (open addressing on names) ---- */

struct name_map {
    int   *slots;   /* value index + 1, 0 = empty */
    size_t cap;
};

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 1099511628211ull;
    return h;
}

static int
map_find(const struct name_map *m, const struct lrpx_graph *g, const char *name)
{
    size_t i = name_hash(name) & (m->cap - 1);
    while (m->slots[i]) {
        int v = m->slots[i] - 1;
        if (strcmp(g->values[v].name, name) == 0)
            return v;
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}

static void
map_put(struct name_map *m, const struct lrpx_graph *g, int v)
{
    size_t i = name_hash(g->values[v].name) & (m->cap - 1);
    while (m->slots[i])
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = v + 1;
}

/* Add a value named `name` (copied); returns its index or -1 on OOM. */
static int
add_value(struct loader *L, struct name_map *m, const char *name, enum lrpx_value_kind kind)
{
    struct lrpx_graph *g = L->g;
    int                v = g->n_values;
    struct lrpx_value *val = &g->values[v];
    memset(val, 0, sizeof *val);
    val->name = lrpx__arena_strdup(&g->arena, name);
    if (!val->name)
        return -1;
    val->kind      = kind;
    val->producer  = -1;
    val->decl_rank = -1;
    g->n_values++;
    map_put(m, g, v);
    return v;
}

/* ---- declared types ---- */

static lrpx_status
read_value_info(struct loader *L, const Onnx__ValueInfoProto *vi, struct lrpx_value *val)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp)
        return LRPX_OK;
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return lrpx__error(L->err, LRPX_EUNSUPPORTED,
                           "%s: value '%.200s' is not a tensor (sequences, maps, optionals and sparse "
                           "tensors are not supported)",
                           L->file, val->name);
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    val->decl_dtype = tt->has_elem_type ? (lrpx_dtype)tt->elem_type : LRPX_DTYPE_UNDEFINED;
    if (!tt->shape)
        return LRPX_OK;
    if (tt->shape->n_dim > LRPX_MAX_RANK)
        return lrpx__error(L->err, LRPX_EUNSUPPORTED,
                           "%s: value '%.200s' has rank %zu, lrpx supports at most %d", L->file,
                           val->name, tt->shape->n_dim, LRPX_MAX_RANK);
    val->decl_rank = (int)tt->shape->n_dim;
    for (size_t i = 0; i < tt->shape->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        val->decl_dims[i] = -1;
        if (!d)
            continue;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (d->dim_value < 0)
                return lrpx__error(L->err, LRPX_EPARSE, "%s: value '%.200s' has negative dimension %lld",
                                   L->file, val->name, (long long)d->dim_value);
            val->decl_dims[i] = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            val->dim_params[i] = lrpx__arena_strdup(&L->g->arena, s_or_empty(d->dim_param));
            if (!val->dim_params[i])
                return oom(L);
        }
    }
    return LRPX_OK;
}

/* An initializer that is also a graph input: the declared type is the
 * default value's type, so they must agree (a mismatch is a broken file,
 * and would let the planner trust a shape the data does not have). */
static lrpx_status
check_initializer_decl(struct loader *L, const Onnx__ValueInfoProto *vi,
                       const struct lrpx_value *init)
{
    struct lrpx_value decl = {.name = init->name, .decl_rank = -1};
    lrpx_status       rc   = read_value_info(L, vi, &decl);
    if (rc != LRPX_OK)
        return rc;
    const struct lrpx_tensor *t = &init->data;
    if (decl.decl_dtype != LRPX_DTYPE_UNDEFINED && decl.decl_dtype != t->dtype)
        return lrpx__error(L->err, LRPX_EPARSE,
                           "%s: graph input '%.200s' is declared %s but its initializer is %s",
                           L->file, init->name, lrpx_dtype_name(decl.decl_dtype),
                           lrpx_dtype_name(t->dtype));
    bool same = decl.decl_rank < 0 || decl.decl_rank == t->rank;
    for (int k = 0; same && decl.decl_rank > 0 && k < decl.decl_rank; k++)
        same = decl.decl_dims[k] < 0 || decl.decl_dims[k] == t->dims[k];
    if (!same) {
        char d1[128], d2[128];
        return lrpx__error(L->err, LRPX_ESHAPE,
                           "%s: graph input '%.200s' is declared with shape %s but its initializer "
                           "has shape %s",
                           L->file, init->name,
                           lrpx__dims_str(decl.decl_dims, decl.decl_rank, d1, sizeof d1),
                           lrpx__dims_str(t->dims, t->rank, d2, sizeof d2));
    }
    return LRPX_OK;
}

/* ---- attributes ---- */

static lrpx_status
read_attr(struct loader *L, const struct lrpx_node *n, const Onnx__AttributeProto *ap,
          struct lrpx_attr *a)
{
    struct lrpx_arena *ar = &L->g->arena;
    memset(a, 0, sizeof *a);
    a->name = lrpx__arena_strdup(ar, s_or_empty(ap->name));
    if (!a->name)
        return oom(L);
    if (ap->ref_attr_name && ap->ref_attr_name[0])
        return lrpx__error(L->err, LRPX_EUNSUPPORTED,
                           "%s: node '%.200s' (#%d, %.100s): attribute '%.200s' refers to a function attribute",
                           L->file, n->name, n->index, n->op_type, a->name);
    int type = ap->has_type ? (int)ap->type : 0;
    switch (type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        a->type = LRPX_ATTR_FLOAT;
        a->f    = ap->f;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        a->type = LRPX_ATTR_INT;
        a->i    = ap->i;
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        a->type  = LRPX_ATTR_STRING;
        a->s_len = ap->s.len;
        a->s     = lrpx__arena_strndup(ar, ap->s.data ? (const char *)ap->s.data : "", ap->s.len);
        if (!a->s)
            return oom(L);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: {
        a->type = LRPX_ATTR_TENSOR;
        if (!ap->t)
            return lrpx__error(L->err, LRPX_EPARSE,
                               "%s: node '%.200s' (#%d, %.100s): tensor attribute '%.200s' has no tensor",
                               L->file, n->name, n->index, n->op_type, a->name);
        char what[1024];
        snprintf(what, sizeof what, "%s: node '%.200s' (#%d, %.100s): attribute '%.200s'", L->file, n->name,
                 n->index, n->op_type, a->name);
        struct lrpx_tensor_src src = {.base_dir = L->g->dir, .arena = ar,
                                      .max_bytes = L->opts->max_tensor_bytes, .what = what,
                                      .files = L->g};
        return lrpx__tensor_from_proto(ap->t, &src, &a->t, L->err);
    }
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        a->type     = LRPX_ATTR_FLOATS;
        a->n_floats = (int)ap->n_floats;
        if (ap->n_floats > INT_MAX / 8)
            return lrpx__error(L->err, LRPX_ELIMIT, "%s: attribute '%.200s' too long", L->file, a->name);
        if (ap->n_floats) {
            float *f = lrpx__arena_calloc(ar, ap->n_floats, sizeof *f);
            if (!f)
                return oom(L);
            memcpy(f, ap->floats, ap->n_floats * sizeof *f);
            a->floats = f;
        }
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        a->type   = LRPX_ATTR_INTS;
        a->n_ints = (int)ap->n_ints;
        if (ap->n_ints > INT_MAX / 8)
            return lrpx__error(L->err, LRPX_ELIMIT, "%s: attribute '%.200s' too long", L->file, a->name);
        if (ap->n_ints) {
            int64_t *v = lrpx__arena_calloc(ar, ap->n_ints, sizeof *v);
            if (!v)
                return oom(L);
            memcpy(v, ap->ints, ap->n_ints * sizeof *v);
            a->ints = v;
        }
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS: {
        a->type      = LRPX_ATTR_STRINGS;
        a->n_strings = (int)ap->n_strings;
        if (ap->n_strings > INT_MAX / 8)
            return lrpx__error(L->err, LRPX_ELIMIT, "%s: attribute '%.200s' too long", L->file, a->name);
        if (ap->n_strings) {
            const char **v = lrpx__arena_calloc(ar, ap->n_strings, sizeof *v);
            if (!v)
                return oom(L);
            for (size_t i = 0; i < ap->n_strings; i++) {
                v[i] = lrpx__arena_strndup(ar, ap->strings[i].data ? (const char *)ap->strings[i].data : "",
                                           ap->strings[i].len);
                if (!v[i])
                    return oom(L);
            }
            a->strings = v;
        }
        break;
    }
    default:
        /* graphs, sparse tensors, type protos: ops that need them are
         * unsupported anyway; an old file without `type` is guessed */
        if (!ap->has_type) {
            if (ap->n_ints) { a->type = LRPX_ATTR_INTS; goto retry_ints; }
            if (ap->n_floats) { a->type = LRPX_ATTR_FLOATS; goto retry_floats; }
            if (ap->t) { a->type = LRPX_ATTR_TENSOR; goto retry_tensor; }
            if (ap->has_s) { a->type = LRPX_ATTR_STRING; goto retry_string; }
            if (ap->has_f) { a->type = LRPX_ATTR_FLOAT; a->f = ap->f; break; }
            if (ap->has_i) { a->type = LRPX_ATTR_INT; a->i = ap->i; break; }
        }
        a->type = LRPX_ATTR_OTHER;
        break;
    retry_ints: {
            Onnx__AttributeProto c = *ap;
            c.has_type = 1;
            c.type     = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
            return read_attr(L, n, &c, a);
        }
    retry_floats: {
            Onnx__AttributeProto c = *ap;
            c.has_type = 1;
            c.type     = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
            return read_attr(L, n, &c, a);
        }
    retry_tensor: {
            Onnx__AttributeProto c = *ap;
            c.has_type = 1;
            c.type     = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
            return read_attr(L, n, &c, a);
        }
    retry_string: {
            Onnx__AttributeProto c = *ap;
            c.has_type = 1;
            c.type     = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
            return read_attr(L, n, &c, a);
        }
    }
    return LRPX_OK;
}

/* ---- the graph ---- */

static lrpx_status
build_graph(struct loader *L, const Onnx__ModelProto *mp)
{
    struct lrpx_graph      *g  = L->g;
    const Onnx__GraphProto *gp = mp->graph;
    if (!gp)
        return lrpx__error(L->err, LRPX_EPARSE, "%s: the model has no graph", L->file);

    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    /* opset of the default domain; other domains are refused where used */
    g->opset = -1;
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *os = mp->opset_import[i];
        if (os && default_domain(os->domain))
            g->opset = os->has_version ? os->version : 1;
    }
    if (g->opset < 0) {
        if (mp->n_opset_import && mp->opset_import[0] && mp->opset_import[0]->domain)
            return lrpx__error(L->err, LRPX_EUNSUPPORTED,
                               "%s: the model imports only other operator domains ('%.200s'); lrpx "
                               "supports the default ONNX domain",
                               L->file, mp->opset_import[0]->domain);
        if (g->ir_version >= 3 || mp->n_opset_import)
            return lrpx__error(L->err, LRPX_EPARSE,
                               "%s: the model imports no opset of the default ONNX domain", L->file);
        g->opset = 1;   /* IR < 3 had no opset_import */
    }

    if ((int64_t)gp->n_node > L->opts->max_nodes)
        return lrpx__error(L->err, LRPX_ELIMIT, "%s: %zu nodes exceed the limit of %lld", L->file,
                           gp->n_node, (long long)L->opts->max_nodes);
    /* upper bound on values: inputs + initializers + node outputs */
    size_t max_values = gp->n_input + gp->n_initializer;
    for (size_t i = 0; i < gp->n_node; i++)
        if (gp->node[i])
            max_values += gp->node[i]->n_output;
    max_values += 2 * gp->n_node + 8;   /* room for the graph passes */
    if (max_values > (size_t)INT_MAX / 4)
        return lrpx__error(L->err, LRPX_ELIMIT, "%s: too many values", L->file);
    g->cap_values = (int)max_values;

    g->values = lrpx__arena_calloc(&g->arena, max_values ? max_values : 1, sizeof *g->values);
    g->nodes  = lrpx__arena_calloc(&g->arena, gp->n_node ? gp->n_node : 1, sizeof *g->nodes);
    struct name_map map = {0};
    map.cap = 16;
    while (map.cap < max_values * 2)
        map.cap <<= 1;
    map.slots = lrpx__calloc(map.cap, sizeof *map.slots);
    if (!g->values || !g->nodes || !map.slots) {
        lrpx__free(map.slots);
        return oom(L);
    }
    lrpx_status rc = LRPX_OK;

    /* initializers */
    for (size_t i = 0; i < gp->n_initializer && rc == LRPX_OK; i++) {
        const Onnx__TensorProto *tp = gp->initializer[i];
        const char              *nm = tp ? s_or_empty(tp->name) : "";
        if (!tp || !nm[0]) {
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: initializer #%zu has no name", L->file, i);
            break;
        }
        if (map_find(&map, g, nm) >= 0) {
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: initializer '%.200s' is defined twice", L->file, nm);
            break;
        }
        int v = add_value(L, &map, nm, LRPX_VALUE_CONST);
        if (v < 0) {
            rc = oom(L);
            break;
        }
        char what[1024];
        snprintf(what, sizeof what, "%s: initializer '%.200s'", L->file, nm);
        struct lrpx_tensor_src src = {.base_dir = g->dir, .arena = &g->arena,
                                      .max_bytes = L->opts->max_tensor_bytes, .what = what,
                                      .files = g};
        if (L->raw && i < L->n_raw && L->raw[i].set) {
            src.raw_set = true;
            src.raw     = L->raw[i].p;
            src.raw_len = L->raw[i].len;
            src.map     = L->map;
        }
        rc = lrpx__tensor_from_proto(tp, &src, &g->values[v].data, L->err);
        if (rc == LRPX_OK) {
            g->values[v].decl_dtype = g->values[v].data.dtype;
            g->values[v].decl_rank  = g->values[v].data.rank;
            memcpy(g->values[v].decl_dims, g->values[v].data.dims, sizeof g->values[v].decl_dims);
        }
    }
    if (gp->n_sparse_initializer && rc == LRPX_OK)
        rc = lrpx__error(L->err, LRPX_EUNSUPPORTED, "%s: sparse initializers are not supported",
                         L->file);

    /* graph inputs: fed, or constants the caller may override */
    g->inputs = lrpx__arena_calloc(&g->arena, gp->n_input ? gp->n_input : 1, sizeof *g->inputs);
    if (!g->inputs && rc == LRPX_OK)
        rc = oom(L);
    for (size_t i = 0; i < gp->n_input && rc == LRPX_OK; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char                 *nm = vi ? s_or_empty(vi->name) : "";
        if (!nm[0]) {
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: graph input #%zu has no name", L->file, i);
            break;
        }
        int v = map_find(&map, g, nm);
        if (v >= 0 && g->values[v].kind == LRPX_VALUE_CONST && !g->values[v].overridable) {
            g->values[v].overridable = true;    /* initializer listed as input */
            rc = check_initializer_decl(L, vi, &g->values[v]);
            continue;
        }
        if (v >= 0) {
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: graph input '%.200s' is listed twice", L->file, nm);
            break;
        }
        v = add_value(L, &map, nm, LRPX_VALUE_INPUT);
        if (v < 0) {
            rc = oom(L);
            break;
        }
        rc = read_value_info(L, vi, &g->values[v]);
        g->inputs[g->n_inputs++] = v;
    }

    /* nodes */
    for (size_t i = 0; i < gp->n_node && rc == LRPX_OK; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        struct lrpx_node      *n  = &g->nodes[g->n_nodes];
        if (!np) {
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: node #%zu is empty", L->file, i);
            break;
        }
        n->index   = (int)i;
        n->name    = lrpx__arena_strdup(&g->arena, s_or_empty(np->name));
        n->op_type = lrpx__arena_strdup(&g->arena, s_or_empty(np->op_type));
        n->domain  = lrpx__arena_strdup(&g->arena, s_or_empty(np->domain));
        if (!n->name || !n->op_type || !n->domain) {
            rc = oom(L);
            break;
        }
        g->n_nodes++;
        if (np->n_input > 1024 || np->n_output > 1024 || np->n_attribute > 1024) {
            rc = lrpx__error(L->err, LRPX_ELIMIT, "%s: node '%.200s' (#%d, %.100s) has too many inputs, "
                             "outputs or attributes", L->file, n->name, n->index, n->op_type);
            break;
        }
        if (!n->op_type[0]) {
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: node '%.200s' (#%d) has no op_type", L->file,
                             n->name, n->index);
            break;
        }
        n->op = -1;
        if (default_domain(n->domain)) {
            n->op  = lrpx__op_lookup(n->op_type, g->opset);
            n->def = n->op >= 0 ? lrpx__op_table[n->op] : NULL;
        }
        if (!n->def && !L->opts->allow_unsupported) {
            if (!default_domain(n->domain))
                rc = lrpx__error(L->err, LRPX_EUNSUPPORTED,
                                 "%s: node '%.200s' (#%d, %.100s): operator domain '%.200s' is not supported "
                                 "(only the default ONNX domain is)",
                                 L->file, n->name, n->index, n->op_type, n->domain);
            else
                rc = lrpx__error(L->err, LRPX_EUNSUPPORTED,
                                 "%s: node '%.200s' (#%d, %.100s): operator %.100s is not supported at opset %lld",
                                 L->file, n->name, n->index, n->op_type, n->op_type,
                                 (long long)g->opset);
            break;
        }
        n->n_inputs  = (int)np->n_input;
        n->n_outputs = (int)np->n_output;
        n->inputs    = lrpx__arena_calloc(&g->arena, np->n_input + 1, sizeof(int));
        n->outputs   = lrpx__arena_calloc(&g->arena, np->n_output + 1, sizeof(int));
        n->n_attrs   = (int)np->n_attribute;
        n->attrs     = lrpx__arena_calloc(&g->arena, np->n_attribute + 1, sizeof *n->attrs);
        if (!n->inputs || !n->outputs || !n->attrs) {
            rc = oom(L);
            break;
        }
        /* outputs first, inputs in a second pass: files need not list
         * nodes in order (the topological sort fixes the order) */
        for (size_t k = 0; k < np->n_output && rc == LRPX_OK; k++) {
            const char *nm = s_or_empty(np->output[k]);
            if (!nm[0]) {
                n->outputs[k] = -1;
                continue;
            }
            if (map_find(&map, g, nm) >= 0) {
                rc = lrpx__error(L->err, LRPX_EPARSE,
                                 "%s: node '%.200s' (#%d, %.100s): output '%.200s' is already defined (values "
                                 "are assigned once)",
                                 L->file, n->name, n->index, n->op_type, nm);
                break;
            }
            int v = add_value(L, &map, nm, LRPX_VALUE_INTERMEDIATE);
            if (v < 0) {
                rc = oom(L);
                break;
            }
            g->values[v].producer = (int)i;
            n->outputs[k]         = v;
        }
        for (size_t k = 0; k < np->n_attribute && rc == LRPX_OK; k++) {
            if (!np->attribute[k]) {
                rc = lrpx__error(L->err, LRPX_EPARSE, "%s: node '%.200s' (#%d, %.100s): empty attribute",
                                 L->file, n->name, n->index, n->op_type);
                break;
            }
            rc = read_attr(L, n, np->attribute[k], &n->attrs[k]);
        }
    }

    /* second pass: resolve inputs */
    for (int i = 0; i < g->n_nodes && rc == LRPX_OK; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        struct lrpx_node      *n  = &g->nodes[i];
        for (size_t k = 0; k < np->n_input && rc == LRPX_OK; k++) {
            const char *nm = s_or_empty(np->input[k]);
            if (!nm[0]) {
                n->inputs[k] = -1;      /* omitted optional input */
                continue;
            }
            int v = map_find(&map, g, nm);
            if (v < 0)
                rc = lrpx__error(L->err, LRPX_EPARSE,
                                 "%s: node '%.200s' (#%d, %.100s): input '%.200s' is not a graph input, an "
                                 "initializer or the output of another node",
                                 L->file, n->name, n->index, n->op_type, nm);
            n->inputs[k] = v;
        }
    }

    /* graph outputs */
    if (rc == LRPX_OK) {
        g->outputs = lrpx__arena_calloc(&g->arena, gp->n_output ? gp->n_output : 1, sizeof(int));
        if (!g->outputs)
            rc = oom(L);
        if (gp->n_output == 0 && rc == LRPX_OK)
            rc = lrpx__error(L->err, LRPX_EPARSE, "%s: the graph has no outputs", L->file);
    }
    for (size_t i = 0; i < gp->n_output && rc == LRPX_OK; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char                 *nm = vi ? s_or_empty(vi->name) : "";
        int                         v  = map_find(&map, g, nm);
        if (v < 0) {
            rc = lrpx__error(L->err, LRPX_EPARSE,
                             "%s: graph output '%.200s' is not produced by any node", L->file, nm);
            break;
        }
        g->values[v].is_output = true;
        rc = read_value_info(L, vi, &g->values[v]);
        g->outputs[g->n_outputs++] = v;
    }
    lrpx__free(map.slots);
    return rc;
}

lrpx_status
lrpx__load_graph(const uint8_t *buf, size_t len, const struct lrpx_load_options *opts,
                 const struct lrpx_file_map *map, struct lrpx_graph *g, struct lrpx_err *err)
{
    struct loader L = {.g = g, .err = err, .opts = opts, .file = g->path};
    int           depth = pb_nesting(buf, len, &onnx__model_proto__descriptor);
    if (depth > PB_MAX_DEPTH)
        return lrpx__error(err, LRPX_ELIMIT,
                           "%s: messages nested more than %d deep (graphs inside attributes "
                           "inside graphs...)", L.file, PB_MAX_DEPTH);
    uint8_t          *stripped = NULL;
    size_t            n_stripped = 0;
    struct strip_ref *refs = NULL;
    size_t            n_refs = 0;
    struct lrpx_pb_state st;
    ProtobufCAllocator   alloc = lrpx__pb_allocator_state(&st, len, opts->max_total_bytes);
    Onnx__ModelProto    *mp    = NULL;
    bool reparse = true;
    if (strip_raw_data(buf, len, &stripped, &n_stripped, &refs, &n_refs)) {
        mp = onnx__model_proto__unpack(&alloc, n_stripped, stripped);
        /* a file the rewrite made unparsable was so before (only raw_data
         * contents went, which the parser does not look into): its error
         * stands, and a second parse would spend the budget twice */
        reparse = mp != NULL;
        if (mp && (!mp->graph || mp->graph->n_initializer != n_refs)) {
            /* not the layout the walk assumed: parse the file as it is */
            onnx__model_proto__free_unpacked(mp, &alloc);
            mp = NULL;
            st.used = 0;
        }
        if (mp) {
            L.raw   = refs;
            L.n_raw = n_refs;
            L.map   = map && map->addr == buf ? map : NULL;
        }
        lrpx__free(stripped);
    }
    if (!mp && reparse)
        mp = onnx__model_proto__unpack(&alloc, len, buf);
    if (!mp) {
        lrpx__free(refs);
        if (st.failed)
            return lrpx__error(err, LRPX_ENOMEM, "%s: out of memory parsing the model", L.file);
        if (st.over)
            return lrpx__error(err, LRPX_ELIMIT,
                               "%s: parsing needs more than %zu bytes for a %zu-byte file "
                               "(corrupt or hostile protobuf)", L.file, st.limit, len);
        if (len == 0)
            return lrpx__error(err, LRPX_EPARSE, "%s: the file is empty", L.file);
        return lrpx__error(err, LRPX_EPARSE,
                           "%s: not a valid ONNX ModelProto (truncated or corrupt protobuf)",
                           L.file);
    }
    lrpx_status rc = build_graph(&L, mp);
    onnx__model_proto__free_unpacked(mp, &alloc);
    lrpx__free(refs);
    return rc;
}
