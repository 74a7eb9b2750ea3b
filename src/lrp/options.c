/* Defaults and names of the LRP options (public API). */
#include <math.h>
#include <string.h>

#include "core/rules.h"

static const char *const rule_names[LRPX_RULE_COUNT] = {
#define X(name, text) [LRPX_RULE_##name] = text,
    LRPX_RULE_MAP(X)
#undef X
};

const char *
lrpx_rule_name(lrpx_rule rule)
{
    return (unsigned)rule < LRPX_RULE_COUNT ? rule_names[rule] : "?";
}

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
}
