/* Defaults of the LRP options (public API); names are spec.c. */
#include <math.h>
#include <string.h>

#include "core/rules.h"

void
lrpx_lrp_options_default(struct lrpx_lrp_options *o)
{
    memset(o, 0, sizeof *o);
    strcpy(o->composite, "epsilon_plus");
    o->box_low      = NAN;            /* unset: epsilon_gamma_box needs them */
    o->box_high     = NAN;
    o->maxpool      = LRPX_MAXPOOL_WINNER;
    o->seed         = LRPX_SEED_PREDICTED;
    o->skip_softmax = 1;
    o->stabilizer   = NAN;            /* the composite's                   */
}
