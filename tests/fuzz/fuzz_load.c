/* Fuzz target: lrpx_model_load_buffer on arbitrary bytes, then a session
 * and a run with no inputs set. Anything but a crash, a hang, a leak or a
 * sanitizer report is fine; errors are expected.
 *
 * Built by `-Dfuzz=true`: with clang's libFuzzer when the compiler has
 * -fsanitize=fuzzer, else with standalone.c, whose main runs the files named
 * on the command line once each (for corpus replay and CI).
 */
#include <stddef.h>
#include <stdint.h>

#include "lrpx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* tight limits keep a hostile shape from taking the machine's memory */
    struct lrpx_load_options o;
    lrpx_load_options_default(&o);
    o.max_file_bytes   = 1 << 24;
    o.max_tensor_bytes = 1 << 26;
    o.max_total_bytes  = 1 << 28;
    o.max_nodes        = 10000;

    lrpx_model *model = NULL;
    if (lrpx_model_load_buffer(data, size, NULL, &o, &model) == LRPX_OK) {
        /* introspection must work on any model that loaded */
        for (int i = 0; i < lrpx_model_n_inputs(model); i++) {
            lrpx_value_info vi;
            lrpx_model_input_info(model, i, &vi);
        }
        for (int i = 0; i < lrpx_model_n_nodes(model, 1); i++) {
            lrpx_node_info ni;
            lrpx_model_node_info(model, 1, i, &ni);
        }
        lrpx_session *s = NULL;
        if (lrpx_session_init(model, &s) == LRPX_OK && lrpx_session_run(s) == LRPX_OK) {
            lrpx_tensor_view v;
            for (int i = 0; i < lrpx_model_n_outputs(model); i++)
                lrpx_session_output(s, i, &v);
        }
        lrpx_session_free(s);
    }
    lrpx_model_free(model);
    return 0;
}
