/* plugin.h -- loading a kernel plug-in (the public ABI of
 * include/tritcheck/kernels.h) with dlopen, checking it, and presenting
 * its kernels as a fast CPU engine kernel table (src/fast/cpu/kernels.h):
 * the two tables have the same kernel signatures, so a plug-in runs in the
 * fast engine's forward pass and in the kernel suite unchanged.
 */
#ifndef TC_ENGINE_PLUGIN_H
#define TC_ENGINE_PLUGIN_H

#include "engine/ktable.h"
#include "base/status.h"

typedef struct tc_plugin tc_plugin;

/* dlopen the shared object at path (a path without '/' is taken relative
 * to the current directory, not searched for), call its tritcheck_kernels()
 * and check the table: ABI version, struct size, name, every function.
 * The element-wise steps, which are not in the ABI, are borrowed from the
 * built-in table `elementwise` (the registry passes the best one here).
 * Returns TC_OK, TC_E_IO (dlopen failed: dlerror's text), TC_E_UNSUPPORTED
 * (no symbol, the entry returned NULL, wrong ABI version, struct too
 * small, a NULL function or a bad name: one line saying which),
 * TC_E_NOMEM. */
tc_status tc_plugin_load(const char *path, const tc_fast_kernels *elementwise, tc_plugin **out, tc_err *err);

/* dlclose and free; NULL is a no-op.  Tables obtained from p are dead. */
void tc_plugin_free(tc_plugin *p);

/* tc_plugin_free with a void * (the fast engine's release hook). */
void tc_plugin_release(void *p);

/* The plug-in's kernels as a fast-engine table: isa "plugin:<path>" (so
 * that the engine's name reopens the same file, as verify --rerun does),
 * counters "plugin.<name>.i2s_gemv" etc. */
const tc_fast_kernels *tc_plugin_kernels(const tc_plugin *p);

/* The name the plug-in gave, its path, and its ABI version. */
const char *tc_plugin_name(const tc_plugin *p);
const char *tc_plugin_path(const tc_plugin *p);
unsigned tc_plugin_abi_version(const tc_plugin *p);

#endif
