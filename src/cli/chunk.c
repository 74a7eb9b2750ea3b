/* Samples per pass for the commands that go over a folder (lrpx run,
 * explain, gradient): the default of --batch, the samples of a set of
 * inputs, and the "S samples in T s" line. */
#include <sys/stat.h>

#include "cli.h"

/* Model files of this many bytes or more are large (default_chunk). */
#define BIG_MODEL_BYTES (100 * 1000 * 1000)

int64_t
cli_default_chunk(const lrpx_model *m, const char *model_path, bool explain)
{
    lrpx_value_info vi;
    /* a fixed batch is the only size the model accepts */
    if (lrpx_model_input_info(m, 0, &vi) == LRPX_OK && vi.rank >= 1 && !vi.dim_params[0] &&
        vi.dims[0] > 0)
        return vi.dims[0];
    struct stat st;
    bool        big = stat(model_path, &st) == 0 && st.st_size >= BIG_MODEL_BYTES;
    /* an explanation keeps every activation of the pass and as much again
     * for the relevance or gradient: fewer samples at once than a run */
    if (explain)
        return big ? 1 : 8;
    return big ? 8 : 32;
}

int64_t
cli_batches_rows(const struct cli_batch *bs, int nb)
{
    int64_t n = nb > 0 && bs[0].view.rank >= 1 ? bs[0].view.dims[0] : 0;
    for (int k = 1; k < nb; k++)
        if (bs[k].view.rank < 1 || bs[k].view.dims[0] != n)
            return 0;
    return n;
}

void
cli_chunk_notice(const char *cmd, int64_t n, double sec, int64_t per_pass)
{
    cli_notice("lrpx %s: %lld samples in %.3f s, %.1f per second (%lld per pass)\n", cmd,
               (long long)n, sec, sec > 0 ? (double)n / sec : 0.0, (long long)per_pass);
}
