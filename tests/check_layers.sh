#!/bin/sh
# Include layering of src/ (docs/architecture.md): a folder may include its
# own headers and those of the folders listed for it, nothing above it.
#   util, src/lrpx_internal.h   the base
#   core    the interface ops are written against: graph, exec context, op
#           descriptor, rule view
#   ops     the ops and their helper kits (ops/kernels)
#   graph   DAG building and graph passes
#   onnx    the loader (the only folder that sees protobuf types)
#   exec    model, plan, session, forward/backward drivers
#   lrp     rules, composites, canonizers, explanation front end, tricks
#   methods the attribution methods (gradient family, integrated gradients,
#           smoothgrad, occlusion, feature ablation, taylor)
#   eval    evaluation metrics (Quantus's definitions) over sessions
#   io, image   .npy files; images, preprocessing, heatmaps (public API only
#           between them and below)
#   analysis    SpRAy over many maps (public API and util only)
#   check   `lrpx check`: specs, running checks, reports; its metrics are
#           eval's (eval/eval.h; the public API for models and sessions)
#   cli     include/lrpx.h and its own headers (src/cli/*.h) only
# Prints one line per violation and exits 1 if there is any.
src=${1:-$(dirname "$0")/../src}
status=0
allowed() {
    case $1 in
    util)  echo "util" ;;
    core)  echo "util core" ;;
    ops)   echo "util core ops" ;;
    graph) echo "util core graph" ;;
    onnx)  echo "util core ops graph onnx" ;;
    exec)  echo "util core ops graph onnx exec" ;;
    lrp)   echo "util core ops graph exec lrp" ;;
    methods) echo "util core ops graph exec methods" ;;
    eval)  echo "util core ops graph exec lrp eval" ;;
    io)    echo "util io" ;;
    image) echo "util image" ;;
    analysis) echo "util analysis" ;;
    check) echo "util eval check" ;;
    cli)   echo "cli" ;;
    *)     echo "" ;;
    esac
}
for f in $(find "$src" -name '*.[ch]' | sort); do
    rel=${f#"$src"/}
    case $rel in
    */*) dir=${rel%%/*} ;;
    *)   continue ;;                       # src/lrpx_internal.h
    esac
    ok=$(allowed "$dir")
    if [ -z "$ok" ]; then
        echo "$rel: folder '$dir' has no layer in tests/check_layers.sh"
        status=1
        continue
    fi
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
        */*) to=${inc%%/*} ;;
        *)   continue ;;                   # lrpx.h, lrpx_internal.h, same-folder headers, onnx.pb-c.h
        esac
        hit=0
        for a in $ok; do [ "$a" = "$to" ] && hit=1; done
        if [ $hit = 0 ]; then
            echo "$rel: includes \"$inc\": folder '$dir' may include only: $ok"
            status=1
        fi
    done
    if [ "$dir" = cli ]; then
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
            if [ "$inc" != lrpx.h ] && { case $inc in */*) true ;; *) false ;; esac ||
                                         [ ! -f "$src/cli/$inc" ]; }; then
                echo "$rel: includes \"$inc\": the CLI may include only <lrpx.h> and its own headers"
                status=1
            fi
        done
    fi
done
[ $status = 0 ] && echo "layers: every include follows docs/architecture.md"
exit $status
