/* registry.h -- engines by name: the one place engine names are parsed.
 *
 *   ref            the reference engine (src/ref/)
 *   fast           the fast CPU engine, the best kernels this CPU runs
 *   fast:ISA       ... with the scalar, avx2, avx512, amx, neon,
 *                  neon_dotprod or neon_i8mm kernels
 *   cuda           the CUDA engine (src/fast/cuda/)
 *   plugin:PATH    the fast engine running a kernel plug-in's table
 *   dump:DIR       a recording (engine/dump.h), replayed as an engine
 *
 * The registry knows every engine, so it is linked above all of them (its
 * own library, libtcregistry.a, as ggml-backend-reg.cpp sits above the
 * ggml backends); nothing below it can reach an engine by name.
 */
#ifndef TC_ENGINE_REGISTRY_H
#define TC_ENGINE_REGISTRY_H

#include "engine/engine.h"
#include "engine/ktable.h"
#include "engine/plugin.h"

/* Open engine `name` on model m.  o may be NULL for the defaults.
 * Returns TC_OK, TC_E_USAGE (unknown engine, bad options), TC_E_RANGE
 * (n_ctx too large), TC_E_UNSUPPORTED (the engine cannot run this model in
 * this precision: the message names the tensor; the CPU lacks the ISA;
 * no CUDA), TC_E_IO (a plug-in or recording that cannot be read),
 * TC_E_FORMAT (a malformed recording), TC_E_NOMEM. */
tc_status tc_engine_open(const char *name, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                         tc_err *err);

/* The kernel table an engine name stands for, for the kernel suite and
 * the golden kernel vectors: "fast" (the best here), "fast:ISA",
 * "plugin:PATH" or a bare PATH of a plug-in.  A plug-in's table lives in
 * *owner (tc_plugin_free it after use; NULL for a built-in table).
 * Returns TC_OK, TC_E_USAGE (an unknown ISA or engine), TC_E_UNSUPPORTED
 * ("ref", "cuda" or "dump:DIR", which have no kernel table; the CPU lacks
 * the ISA; a plug-in refused), TC_E_IO (dlopen failed), TC_E_NOMEM. */
tc_status tc_engine_kernel_table(const char *name, const tc_fast_kernels **kt, tc_plugin **owner, tc_err *err);

/* Whether name is "ref". */
int tc_engine_is_ref(const char *name);

/* Whether name is an engine compiled into tritcheck (ref, fast, fast:ISA,
 * cuda): one that loads no file.  A plug-in (plugin:PATH) or a recording
 * (dump:DIR) is not: verify --rerun opens those only when the user names
 * them. */
int tc_engine_is_builtin(const char *name);

#endif
