/* replay.c -- a recording (dump.h) replayed as an engine, so that the
 * registry opens "dump:DIR" like any other engine and a comparison has two
 * engines on its two sides.
 *
 * forward() shows, for the positions it is asked to run, every recorded
 * tap in the recording's order, from a copy: a callback that replaces the
 * values changes nothing downstream (a recording cannot be steered, so
 * the comparator teacher-forces the live side instead).  The logits are
 * the recorded logits tap's last row, zeros when the recording has none.
 * The tokens must be the recorded ones, position for position.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/dump.h"
#include "engine/engine_impl.h"
#include "engine/replay.h"

enum { K_REPLAY, K_COUNT };
static const char *const kernel_names[K_COUNT] = { "dump.replay" };

typedef struct replay {
    tc_dump *rec;             /* the recording, owned */
    tc_recording_info info;   /* its directory and tokens */
    char *dir;                /* owned copy of the directory */
    float *f;                 /* scratch rows a callback may overwrite */
    int8_t *q8;
    float *scale;
    size_t cap_f, cap_q8;     /* elements the scratch holds */
} replay;

static const tc_recording_info *recording(const tc_engine *e)
{
    return &((const replay *)e->impl)->info;
}

/* Grow the scratch to n floats (or n codes and rows scales). */
static tc_status scratch(replay *r, const tc_dump_tap *t, size_t n, uint32_t rows, tc_err *err)
{
    if (t->kind == TC_TAP_F32 && n > r->cap_f) {
        free(r->f);
        r->cap_f = 0;
        if (!(r->f = malloc(n * sizeof *r->f))) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        r->cap_f = n;
    }
    if (t->kind == TC_TAP_Q8 && n + rows > r->cap_q8) {
        free(r->q8);
        free(r->scale);
        r->cap_q8 = 0;
        r->q8 = malloc(n);
        r->scale = malloc((size_t)rows * sizeof *r->scale);
        if (!r->q8 || !r->scale) return tc_fail(err, TC_E_NOMEM, "dump: out of memory");
        r->cap_q8 = n + rows;
    }
    return TC_OK;
}

/* Show rows [pos0, pos0 + n) of recorded tap t. */
static tc_status show_rows(tc_engine *e, replay *r, const tc_dump_tap *t, uint32_t pos0, uint32_t n, tc_err *err)
{
    if (pos0 + n > t->n_pos)
        return tc_fail(err, TC_E_FORMAT, "%s: tap %s holds %" PRIu32 " positions, the run needs positions "
                       "%" PRIu32 "..%" PRIu32, r->dir, t->name, t->n_pos, pos0, pos0 + n - 1);
    const size_t off = (size_t)pos0 * t->width, cnt = (size_t)n * t->width;
    tc_status st = scratch(r, t, cnt, n, err);
    if (st) return st;
    tc_tap tap = { .id = TC_TAP_COUNT, .name = t->name, .layer = -1, .pos0 = pos0, .n_pos = n, .width = t->width,
                   .kind = t->kind };
    tc_tap_parse(t->name, &tap.id, &tap.layer);
    if (t->kind == TC_TAP_F32) {
        tap.f = memcpy(r->f, t->f + off, cnt * sizeof(float));
    } else {
        tap.q8 = memcpy(r->q8, t->q8 + off, cnt);
        tap.scale = memcpy(r->scale, t->scale + pos0, (size_t)n * sizeof(float));
    }
    return tc_engine_emit(e, &tap, err);
}

static tc_status forward(tc_engine *e, const int32_t *tokens, uint32_t n, uint32_t pos0, tc_err *err)
{
    replay *r = e->impl;
    tc_status st;
    tc_engine_count(e, K_REPLAY);
    for (uint32_t i = 0; i < n; i++) {
        if ((size_t)pos0 + i >= r->info.n_tokens)
            return tc_fail(err, TC_E_RANGE, "%s: the recording holds %zu positions, the run asks for position %" PRIu32,
                           r->dir, r->info.n_tokens, pos0 + i);
        if (tokens[i] != r->info.tokens[pos0 + i])
            return tc_fail(err, TC_E_USAGE, "%s: the recording holds token %" PRId32 " at position %" PRIu32
                           ", the run asks for %" PRId32, r->dir, r->info.tokens[pos0 + i], pos0 + i, tokens[i]);
    }
    for (size_t i = 0; i < tc_dump_n_taps(r->rec); i++)
        if ((st = show_rows(e, r, tc_dump_get(r->rec, i), pos0, n, err))) return st;
    const tc_dump_tap *lg = tc_dump_find(r->rec, tc_tap_def_of(TC_TAP_LOGITS)->name);
    const size_t V = e->cfg.n_vocab;
    if (lg && lg->kind == TC_TAP_F32 && lg->width == V) memcpy(e->logits, lg->f + (size_t)(pos0 + n - 1) * V, V * 4);
    else memset(e->logits, 0, V * sizeof(float));
    return TC_OK;
}

static void replay_free(void *impl)
{
    replay *r = impl;
    if (!r) return;
    tc_dump_free(r->rec);
    free(r->dir);
    free(r->f);
    free(r->q8);
    free(r->scale);
    free(r);
}

static const tc_engine_vtable replay_vtable = { .name = "dump", .forward = forward, .free_impl = replay_free,
                                                .recording = recording };

tc_status tc_replay_engine_open(const char *dir, const tc_model *m, const tc_engine_opts *o, tc_engine **out,
                                tc_err *err)
{
    tc_engine_opts ro = *o;
    ro.inject = NULL;   /* fault injection is for live engines: a recording is evidence */
    tc_engine *e;
    replay *r = calloc(1, sizeof *r);
    tc_status st = tc_engine_new(&replay_vtable, r, m, &ro, kernel_names, K_COUNT, &e, err);
    *out = NULL;
    if (st) return st;
    if (!(r->dir = strdup(dir))) st = tc_fail(err, TC_E_NOMEM, "dump: out of memory");
    if (!st) st = tc_dump_load(dir, &r->rec, err);
    if (!st) {
        r->info = (tc_recording_info){ .dir = r->dir };
        r->info.tokens = tc_dump_tokens(r->rec, &r->info.n_tokens);
        r->info.recorded_by = tc_dump_identity(r->rec);
        r->info.model_sha256 = tc_dump_model_sha256(r->rec);
        if (r->info.n_tokens == 0) st = tc_fail(err, TC_E_FORMAT, "%s/index.json: tokens: expected at least one", dir);
    }
    if (st) {
        tc_engine_free(e);
        return st;
    }
    *out = e;
    return TC_OK;
}
