/* registry.c -- engines by name (registry.h): one row per family. */
#include <string.h>

#include "engine/registry.h"
#include "engine/replay.h"
#include "fast/cpu/dispatch.h"
#include "fast/cpu/fast_engine.h"
#include "fast/cuda/cuda_engine.h"
#include "ref/ref.h"

/* ---- the families ---- */

static tc_status open_ref(const char *arg, const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err)
{
    (void)arg;
    return tc_ref_engine_open(m, o, out, err);
}

static tc_status open_fast(const char *arg, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                           tc_err *err)
{
    return tc_fast_engine_open(m, o, arg, out, err);
}

static tc_status open_cuda(const char *arg, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                           tc_err *err)
{
    (void)arg;
    return tc_cuda_engine_open(m, o, out, err);
}

/* the fast engine with a kernel plug-in's table */
static tc_status open_plugin(const char *arg, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                             tc_err *err)
{
    tc_plugin *p;
    tc_status st = tc_plugin_load(arg, tc_fast_kernels_for(NULL), &p, err);
    if (st) return st;
    return tc_fast_engine_open_table(m, o, tc_plugin_kernels(p), tc_plugin_release, p, out, err);
}

/* a recording replayed as an engine */
static tc_status open_dump(const char *arg, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                           tc_err *err)
{
    return tc_replay_engine_open(arg, m, o, out, err);
}

typedef enum arg_rule { ARG_NONE, ARG_OPTIONAL, ARG_REQUIRED } arg_rule;

typedef struct family {
    const char *name;     /* before the ':' */
    arg_rule arg;         /* what may follow the ':' */
    tc_status (*open)(const char *arg, const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err);
} family;

static const family families[] = {
    { "ref", ARG_NONE, open_ref },
    { "fast", ARG_OPTIONAL, open_fast },
    { "cuda", ARG_NONE, open_cuda },
    { "plugin", ARG_REQUIRED, open_plugin },
    { "dump", ARG_REQUIRED, open_dump },
};

/* The family of name and its argument (after the ':', or NULL). */
static const family *parse(const char *name, const char **arg)
{
    const char *colon = strchr(name, ':');
    size_t len = colon ? (size_t)(colon - name) : strlen(name);
    *arg = colon ? colon + 1 : NULL;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        const family *f = &families[i];
        if (strlen(f->name) != len || strncmp(f->name, name, len)) continue;
        if ((f->arg == ARG_NONE && colon) || (f->arg == ARG_REQUIRED && (!colon || !colon[1]))) return NULL;
        return f;
    }
    return NULL;
}

tc_status tc_engine_open(const char *name, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                         tc_err *err)
{
    tc_engine_opts def;
    const char *arg;
    *out = NULL;
    if (!o) {
        tc_engine_opts_default(&def);
        o = &def;
    }
    const family *f = parse(name, &arg);
    if (!f)
        return tc_fail(err, TC_E_USAGE, "unknown engine '%s' (available: ref, fast, fast:ISA with ISA "
                       TC_FAST_ISA_NAMES ", cuda, plugin:PATH, dump:DIR)", name);
    return f->open(arg, m, o, out, err);
}

int tc_engine_is_ref(const char *name)
{
    return !strcmp(name, "ref");
}

int tc_engine_is_builtin(const char *name)
{
    const char *arg;
    const family *f = name ? parse(name, &arg) : NULL;
    if (!f || f->open == open_plugin || f->open == open_dump) return 0;
    /* fast:ISA names a table compiled in; nothing else may follow the ':' */
    return !arg || (arg[0] && strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(arg));
}

tc_status tc_engine_kernel_table(const char *name, const tc_fast_kernels **kt, tc_plugin **owner, tc_err *err)
{
    const char *arg;
    const family *f = parse(name, &arg);
    *kt = NULL;
    *owner = NULL;
    if (f && f->open == open_fast) {
        const tc_fast_kernels *t = tc_fast_kernels_for(arg);
        if (!t) return tc_fail(err, TC_E_USAGE, "unknown ISA '%s' (expected " TC_FAST_ISA_NAMES ")", arg);
        if (!tc_fast_isa_supported(t->isa))
            return tc_fail(err, TC_E_UNSUPPORTED, "fast: this CPU cannot run the %s kernels", t->isa);
        *kt = t;
        return TC_OK;
    }
    if (f && f->open != open_plugin)
        return tc_fail(err, TC_E_UNSUPPORTED, "engine '%s' has no kernel table (expected fast, fast:ISA or "
                       "plugin:PATH)", name);
    if (!f && strchr(name, ':'))
        return tc_fail(err, TC_E_USAGE, "unknown engine '%s' (expected fast, fast:ISA or plugin:PATH)", name);
    /* "plugin:PATH", or a bare path */
    tc_status st = tc_plugin_load(f ? arg : name, tc_fast_kernels_for(NULL), owner, err);
    if (!st) *kt = tc_plugin_kernels(*owner);
    return st;
}
