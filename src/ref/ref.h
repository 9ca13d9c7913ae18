/* ref.h -- the reference engine's constructor (the registry opens it as
 * "ref"). */
#ifndef TC_REF_REF_H
#define TC_REF_REF_H

#include "engine/engine.h"

/* The reference engine (SPEC 3): plain C11, every tap, precision i2s,
 * fp32 or q8k (doc/q8k.md; no .q8 taps).  Returns TC_OK, TC_E_USAGE (bad
 * options), TC_E_RANGE (n_ctx too large), TC_E_UNSUPPORTED (precision i2s
 * on a non-I2_S linear weight, q8k on a non-TQ1_0/TQ2_0 one: the message
 * names the tensor), TC_E_NOMEM. */
tc_status tc_ref_engine_open(const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err);

#endif
