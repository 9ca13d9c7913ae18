/* fast_engine.h -- the fast CPU engine's constructors (the registry opens
 * them as "fast", "fast:ISA" and "plugin:PATH"). */
#ifndef TC_FAST_CPU_FAST_ENGINE_H
#define TC_FAST_CPU_FAST_ENGINE_H

#include "engine/engine.h"
#include "engine/ktable.h"

/* The fast CPU engine with kernels for isa ("scalar", "avx2", "avx512",
 * "amx", "neon" ...; NULL or "": the TC_ISA environment variable, else the
 * best the CPU has).
 * TC_OK, TC_E_USAGE (unknown ISA, bad options), TC_E_RANGE,
 * TC_E_UNSUPPORTED (the CPU lacks the ISA, the precision is not i2s, a
 * linear weight is not I2_S), TC_E_NOMEM. */
tc_status tc_fast_engine_open(const tc_model *m, const tc_engine_opts *o, const char *isa, tc_engine **out,
                              tc_err *err);

/* The fast CPU engine with a given kernel table (a plug-in's, see
 * engine/plugin.h; counters and engine name from the table).  The table
 * must outlive the engine: release(owner), when release is not NULL, is
 * called when the engine is freed, and also when this call fails.  Same
 * codes as tc_fast_engine_open. */
tc_status tc_fast_engine_open_table(const tc_model *m, const tc_engine_opts *o, const tc_fast_kernels *kt,
                                    void (*release)(void *), void *owner, tc_engine **out, tc_err *err);

#endif
