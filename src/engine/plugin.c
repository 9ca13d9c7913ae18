/* plugin.c -- the kernel plug-in loader: dlopen, the entry symbol, and a
 * check of every field of the table before anything runs, so that a
 * mismatched plug-in is refused with one line instead of crashing. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/plugin.h"
#include "tritcheck/kernels.h"

struct tc_plugin {
    void *handle;               /* dlopen handle */
    char path[4096];
    char name[64];
    unsigned abi_version;
    char isa[4200];             /* "plugin:<path>": the engine name, which reopens it */
    char counters[7][96];       /* "plugin.<name>.<kernel>" */
    tc_fast_kernels table;      /* the plug-in's functions, our names */
};

/* Letters, digits, '_' and '-', 1..63 characters (it becomes part of
 * counter names and file names). */
static int good_name(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (n >= 63 || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
                         (s[n] >= '0' && s[n] <= '9') || s[n] == '_' || s[n] == '-'))
            return 0;
    return n > 0;
}

/* The ABI table -> the fast engine's table.  Checks every field. */
static tc_status adopt(tc_plugin *p, const struct tc_kernels_abi *a, const tc_fast_kernels *best, tc_err *err)
{
    const char *path = p->path;
    if (a->abi_version != TC_KERNELS_ABI_VERSION)
        return tc_fail(err, TC_E_UNSUPPORTED, "plug-in %s: ABI version %u, this tritcheck speaks version %d", path,
                       (unsigned)a->abi_version, TC_KERNELS_ABI_VERSION);
    if (a->struct_size < sizeof *a)
        return tc_fail(err, TC_E_UNSUPPORTED, "plug-in %s: struct_size %u, ABI version %d needs at least %zu", path,
                       (unsigned)a->struct_size, TC_KERNELS_ABI_VERSION, sizeof *a);
    if (!a->name || !good_name(a->name))
        return tc_fail(err, TC_E_UNSUPPORTED, "plug-in %s: name %s%s%s: expected 1-63 letters, digits, '_' or '-'",
                       path, a->name ? "'" : "", a->name ? a->name : "NULL", a->name ? "'" : "");
    const struct { const char *what; int missing; } fn[] = {
        { "i2s_gemm", !a->i2s_gemm }, { "i2s_gemv", !a->i2s_gemv }, { "rmsnorm_q8", !a->rmsnorm_q8 },
        { "rmsnorm", !a->rmsnorm }, { "f16_gemm", !a->f16_gemm }, { "attention_head", !a->attention_head },
    };
    for (size_t i = 0; i < sizeof fn / sizeof fn[0]; i++)
        if (fn[i].missing)
            return tc_fail(err, TC_E_UNSUPPORTED, "plug-in %s (%s): function %s is NULL", path, a->name, fn[i].what);
    snprintf(p->name, sizeof p->name, "%s", a->name);
    p->abi_version = a->abi_version;
    snprintf(p->isa, sizeof p->isa, "plugin:%s", p->path);
    static const char *const kn[7] = { "i2s_gemv", "i2s_gemm", "rmsnorm_q8", "rmsnorm", "f16_gemv", "f16_gemm",
                                       "attention" };
    for (int i = 0; i < 7; i++) snprintf(p->counters[i], sizeof p->counters[i], "plugin.%s.%s", a->name, kn[i]);
    p->table = (tc_fast_kernels){
        .isa = p->isa,
        .i2s_gemv = a->i2s_gemv, .i2s_gemm = a->i2s_gemm,
        .i2s_gemv_name = p->counters[0], .i2s_gemm_name = p->counters[1],
        .rmsnorm_q8 = a->rmsnorm_q8, .rmsnorm = a->rmsnorm,
        .rmsnorm_q8_name = p->counters[2], .rmsnorm_name = p->counters[3],
        .f16_gemm = a->f16_gemm, .f16_gemv_name = p->counters[4], .f16_gemm_name = p->counters[5],
        .attention_head = a->attention_head, .attention_name = p->counters[6],
    };
    /* the element-wise steps are not the plug-in's: a built-in table's */
    p->table.i2s_scale = best->i2s_scale;
    p->table.relu2_mul = best->relu2_mul;
    p->table.add = best->add;
    p->table.relu2_mul_name = best->relu2_mul_name;
    p->table.add_name = best->add_name;
    return TC_OK;
}

tc_status tc_plugin_load(const char *path, const tc_fast_kernels *elementwise, tc_plugin **out, tc_err *err)
{
    *out = NULL;
    tc_plugin *p = calloc(1, sizeof *p);
    if (!p) return tc_fail(err, TC_E_NOMEM, "plug-in %s: out of memory", path);
    /* dlopen searches the library path for a bare name: make it a file */
    snprintf(p->path, sizeof p->path, "%s%s", strchr(path, '/') ? "" : "./", path);
    p->handle = dlopen(p->path, RTLD_NOW | RTLD_LOCAL);
    if (!p->handle) {
        const char *why = dlerror();
        tc_fail(err, TC_E_IO, "plug-in %s: cannot load: %s", path, why ? why : "dlopen failed");
        free(p);
        return TC_E_IO;
    }
    /* POSIX: a function pointer may be converted from dlsym's void * */
    tc_kernels_entry_fn entry;
    void *sym = dlsym(p->handle, TC_KERNELS_SYMBOL);
    memcpy(&entry, &sym, sizeof entry);
    tc_status st = TC_OK;
    const struct tc_kernels_abi *a = NULL;
    if (!sym)
        st = tc_fail(err, TC_E_UNSUPPORTED, "plug-in %s: no symbol %s(): not a tritcheck kernel plug-in "
                     "(see tritcheck-kernels(3))", path, TC_KERNELS_SYMBOL);
    else if (!(a = entry()))
        st = tc_fail(err, TC_E_UNSUPPORTED, "plug-in %s: %s() returned NULL: the plug-in declined to run here", path,
                     TC_KERNELS_SYMBOL);
    else
        st = adopt(p, a, elementwise, err);
    if (st) {
        tc_plugin_free(p);
        return st;
    }
    *out = p;
    return TC_OK;
}

void tc_plugin_free(tc_plugin *p)
{
    if (!p) return;
    if (p->handle) dlclose(p->handle);
    free(p);
}

void tc_plugin_release(void *p) { tc_plugin_free(p); }

const tc_fast_kernels *tc_plugin_kernels(const tc_plugin *p) { return &p->table; }
const char *tc_plugin_name(const tc_plugin *p) { return p->name; }
const char *tc_plugin_path(const tc_plugin *p) { return p->path; }
unsigned tc_plugin_abi_version(const tc_plugin *p) { return p->abi_version; }
