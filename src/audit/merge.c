/* merge.c -- `tritcheck merge`: shard receipts joined into one (merge.h). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audit/merge.h"
#include "audit/verify.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "check/accuracy.h"
#include "check/compare.h"
#include "check/conform.h"
#include "check/ksuite.h"
#include "check/vectors.h"
#include "check/shard.h"
#include "receipt/receipt.h"

/* ---- what each kind joins ---- */

typedef struct merge_kind {
    const char *kind;
    const char *units;              /* the array with one entry per unit */
    const char *const *join;        /* arrays joined in shard order (dotted paths), units among them */
    const char *const *same;        /* parts each shard computes whole: equal in every shard */
    tc_status (*finish)(cJSON *r, FILE *out, tc_err *err);   /* the figures from the joined parts */
} merge_kind;

static const char *const accuracy_join[] = { "input.tokens", "per_chunk", "per_position.kl",
                                             "per_position.top5_overlap", "per_position.top1_agree",
                                             "per_position.nll_baseline", "per_position.nll_subject", NULL };
static const char *const accuracy_same[] = { "per_tensor", "comparison", "input.chunk", NULL };

static const char *const cases_join[] = { "cases", NULL };
static const char *const kernels_same[] = { "engine", "tolerances", NULL };
static const char *const conform_same[] = { "suite.name", "suite.manifest_sha256", "suite.candidate", NULL };
static const char *const vectors_join[] = { "entries", NULL };
static const char *const compare_join[] = { "prompts", NULL };
static const char *const compare_same[] = { "criteria", "input.sha256", "input.prompts", NULL };
static const char *const vectors_same[] = { "engine", "tolerances", "vectors.entries", NULL };

static const merge_kind kinds[] = {
    { "accuracy", "per_chunk", accuracy_join, accuracy_same, tc_accuracy_finish },
    { "kernels", "cases", cases_join, kernels_same, tc_kernels_finish },
    { "conform", "cases", cases_join, conform_same, tc_conform_finish },
    { "vectors", "entries", vectors_join, vectors_same, tc_vectors_finish },
    { "compare", "prompts", compare_join, compare_same, tc_compare_set_finish },
};

static const merge_kind *kind_of(const char *kind)
{
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
        if (!strcmp(kinds[i].kind, kind)) return &kinds[i];
    return NULL;
}

const char *tc_merge_units_path(const char *kind)
{
    const merge_kind *k = kind_of(kind);
    return k ? k->units : NULL;
}

/* ---- small helpers ---- */

static cJSON *at(const cJSON *root, const char *path)
{
    return (cJSON *)tc_audit_at(root, path);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A non-negative integer at path, or -1. */
static double count_at(const cJSON *root, const char *path)
{
    const cJSON *v = at(root, path);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != floor(v->valuedouble))
        return -1;
    return v->valuedouble;
}

/* The first place two JSON values differ, as a dotted path into buf
 * (empty when they are equal). */
static bool differ(const cJSON *a, const cJSON *b, char *buf, size_t n)
{
    if (!a || !b || (a->type & 0xff) != (b->type & 0xff)) return true;
    if (cJSON_IsNumber(a)) return a->valuedouble != b->valuedouble;
    if (cJSON_IsString(a)) return strcmp(a->valuestring, b->valuestring) != 0;
    if (cJSON_IsObject(a)) {   /* by key: the first key whose value differs, or that one side lacks */
        const cJSON *x;
        const size_t len = strlen(buf);
        cJSON_ArrayForEach(x, a) {
            snprintf(buf + len, n - len, "%s%s", len ? "." : "", x->string);
            if (differ(x, cJSON_GetObjectItemCaseSensitive(b, x->string), buf, n)) return true;
            buf[len] = '\0';
        }
        cJSON_ArrayForEach(x, b)
            if (!cJSON_GetObjectItemCaseSensitive(a, x->string)) {
                snprintf(buf + len, n - len, "%s%s", len ? "." : "", x->string);
                return true;
            }
        return false;
    }
    if (cJSON_IsArray(a)) {
        if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return true;
        const cJSON *x, *y = b->child;
        int i = 0;
        cJSON_ArrayForEach(x, a) {
            const size_t len = strlen(buf);
            snprintf(buf + len, n - len, "[%d]", i);
            if (differ(x, y, buf, n)) return true;
            buf[len] = '\0';
            y = y ? y->next : NULL;
            i++;
        }
    }
    return false;
}

/* A value shown short in a message: a string cut to 16 characters. */
static void shown(const cJSON *v, char *buf, size_t n)
{
    char *txt = v ? cJSON_PrintUnformatted(v) : NULL;
    snprintf(buf, n, "%.*s%s", 18, txt ? txt : "absent", txt && strlen(txt) > 18 ? "...\"" : "");
    free(txt);
}

/* ---- the shards ---- */

typedef struct shard_in {
    const char *path;
    cJSON *r;
    int index, count;
    uint64_t units, first, end;
} shard_in;

/* Load one shard receipt: intact (seal, and verify's rules), and a shard. */
static tc_status load_shard(const char *path, const char *pubkey, shard_in *s, tc_err *err)
{
    s->path = path;
    tc_status st = tc_receipt_load(path, &s->r, err);
    if (st) return st;
    tc_err e2 = { 0 };
    unsigned char trusted[32];
    if (pubkey && (st = tc_pubkey_load(pubkey, trusted, err))) return st;
    if (tc_receipt_check_seal(s->r, pubkey ? trusted : NULL, NULL, &e2))
        return tc_fail(err, TC_E_FORMAT, "merge: %s: %s", path, e2.msg);
    const cJSON *sh = at(s->r, "shard");
    if (!sh) {
        const bool merged = at(s->r, "merged") != NULL;
        return tc_fail(err, TC_E_USAGE, "merge: %s is not a shard receipt (%s): merge the receipts of a run "
                       "with --shard I/N", path, merged ? "it is a merged one" : "no shard section");
    }
    double idx = count_at(sh, "index"), cnt = count_at(sh, "count"), units = count_at(sh, "units"),
           first = count_at(sh, "first"), end = count_at(sh, "end");
    char id[TC_SHA256_HEX];
    const char *rid = cJSON_GetStringValue(at(sh, "job_id"));
    if (idx < 0 || cnt < 1 || idx >= cnt || units < cnt || !cJSON_IsObject(at(sh, "job")) || !rid ||
        tc_json_sha256(at(sh, "job"), id) || strcmp(id, rid))
        return tc_fail(err, TC_E_FORMAT, "merge: %s: shard: expected index < count <= units, first, end, a job "
                       "and the SHA-256 of its canonical form as job_id", path);
    uint64_t f, e;
    tc_shard_bounds((uint64_t)idx, (uint64_t)cnt, (uint64_t)units, &f, &e);
    if (first != (double)f || end != (double)e)
        return tc_fail(err, TC_E_FORMAT, "merge: %s: shard %g of %g over %g units holds [%" PRIu64 ", %" PRIu64
                       "), not [%g, %g) as it says", path, idx, cnt, units, f, e, first, end);
    *s = (shard_in){ path, s->r, (int)idx, (int)cnt, (uint64_t)units, f, e };
    /* the figures follow from the parts, as verify checks them */
    tc_verify_opts vo = { .pubkey = pubkey };
    bool valid = false;
    if ((st = tc_verify(path, &vo, NULL, &valid, err))) return st;
    if (!valid)
        return tc_fail(err, TC_E_FORMAT, "merge: %s does not verify (see tritcheck verify %s)", path, path);
    return TC_OK;
}

/* The reason two shards are not of one job, from the first difference of
 * their job identities. */
static tc_status not_one_job(const shard_in *a, const shard_in *b, tc_err *err)
{
    char where[256] = "", x[64], y[64];
    const cJSON *ja = at(a->r, "shard.job"), *jb = at(b->r, "shard.job");
    differ(ja, jb, where, sizeof where);
    const char *what = !strncmp(where, "kind", 4)             ? "another kind of receipt"
                       : !strncmp(where, "model_sha256", 12)  ? "another model"
                       : !strncmp(where, "binary", 6)         ? "another binary"
                       : !strncmp(where, "options", 7)        ? "other options"
                       : !strncmp(where, "input_sha256", 12)  ? "another input"
                                                              : "another job";
    shown(at(ja, where), x, sizeof x);
    shown(at(jb, where), y, sizeof y);
    return tc_fail(err, TC_E_USAGE, "merge: %s and %s are not shards of one job: %s (job.%s is %s in %s, %s in %s)",
                   a->path, b->path, what, where, x, a->path, y, b->path);
}

/* Each shard of the count exactly once, all of one job; *slot[i] is
 * shard i. */
static tc_status one_job(shard_in *in, size_t n, shard_in **slot, tc_err *err)
{
    const int count = in[0].count;
    for (size_t i = 0; i < n; i++) {
        char where[256] = "";
        if (differ(at(in[0].r, "shard.job"), at(in[i].r, "shard.job"), where, sizeof where))
            return not_one_job(&in[0], &in[i], err);
        if (in[i].count != count || in[i].units != in[0].units)
            return tc_fail(err, TC_E_USAGE, "merge: %s is a shard of %d over %" PRIu64 " units, %s of %d over %"
                           PRIu64, in[i].path, in[i].count, in[i].units, in[0].path, count, in[0].units);
        if (slot[in[i].index])
            return tc_fail(err, TC_E_USAGE, "merge: shard %d of %d is given twice: %s and %s", in[i].index, count,
                           slot[in[i].index]->path, in[i].path);
        slot[in[i].index] = &in[i];
    }
    for (int i = 0; i < count; i++)
        if (!slot[i]) {
            char have[256] = "";
            for (int k = 0, len = 0; k < count && len < (int)sizeof have - 8; k++)
                if (slot[k]) len += snprintf(have + len, sizeof have - (size_t)len, "%s%d", len ? ", " : "", k);
            return tc_fail(err, TC_E_USAGE, "merge: shard %d of %d is missing (given: %s)", i, count, have);
        }
    return TC_OK;
}

/* ---- joining ---- */

/* Replace the array at path in m by the arrays at path of every shard,
 * in shard order. */
static tc_status join_array(cJSON *m, shard_in **slot, int count, const char *path, tc_err *err)
{
    cJSON *joined = cJSON_CreateArray(), *dst = at(m, path);
    if (!joined) return tc_fail(err, TC_E_NOMEM, "merge: out of memory");
    for (int i = 0; i < count; i++) {
        const cJSON *src = at(slot[i]->r, path), *v;
        if (!cJSON_IsArray(src)) {
            cJSON_Delete(joined);
            return tc_fail(err, TC_E_FORMAT, "merge: %s: %s: expected an array", slot[i]->path, path);
        }
        cJSON_ArrayForEach(v, src) cJSON_AddItemToArray(joined, cJSON_Duplicate(v, 1));
    }
    /* the array's parent and key in m */
    char parent[128];
    snprintf(parent, sizeof parent, "%s", path);
    char *dot = strrchr(parent, '.');
    const char *key = dot ? dot + 1 : parent;
    cJSON *p = dot ? (*dot = '\0', at(m, parent)) : m;
    if (!dst || !p) {
        cJSON_Delete(joined);
        return tc_fail(err, TC_E_FORMAT, "merge: %s: %s: missing", slot[0]->path, path);
    }
    cJSON_ReplaceItemInObjectCaseSensitive(p, key, joined);
    return TC_OK;
}

/* Add number v to the member key of object o (created at v). */
static void add_to(cJSON *o, const char *key, double v)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(c)) cJSON_SetNumberValue(c, c->valuedouble + v);
    else if (!c) cJSON_AddNumberToObject(o, key, v);
}

/* Each engine's kernel counts and seconds, and every timing, summed over
 * the shards. */
static void add_counts(cJSON *m, shard_in **slot, int count)
{
    cJSON *e;
    cJSON_ArrayForEach(e, at(m, "engines")) {
        cJSON *k = NULL, *sec0 = cJSON_GetObjectItemCaseSensitive(e, "seconds");
        if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "kernels")))
            cJSON_ReplaceItemInObjectCaseSensitive(e, "kernels", k = cJSON_CreateObject());
        if (cJSON_IsNumber(sec0)) cJSON_SetNumberValue(sec0, 0);
        for (int i = 0; i < count; i++) {
            const cJSON *se = cJSON_GetObjectItemCaseSensitive(at(slot[i]->r, "engines"), e->string), *c;
            cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(se, "kernels"))
                if (k && cJSON_IsNumber(c)) add_to(k, c->string, c->valuedouble);
            const cJSON *sec = cJSON_GetObjectItemCaseSensitive(se, "seconds");
            if (cJSON_IsNumber(sec)) add_to(e, "seconds", sec->valuedouble);
        }
    }
    cJSON *t;
    cJSON_ArrayForEach(t, at(m, "timings")) {
        if (!cJSON_IsNumber(t)) continue;
        double sum = 0.0;
        for (int i = 0; i < count; i++) sum += tc_json_figure(cJSON_GetObjectItemCaseSensitive(at(slot[i]->r, "timings"), t->string));
        cJSON_SetNumberValue(t, sum);
    }
}

/* The "merged" section: the job, and per shard where its units are, its
 * receipt and digest, its host, kernel counts, seconds and timings, and
 * how many entries it gave each joined array. */
static cJSON *merged_section(shard_in **slot, int count, const merge_kind *k)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *sh = at(slot[0]->r, "shard");
    cJSON_AddItemToObject(o, "job_id", cJSON_Duplicate(at(sh, "job_id"), 1));
    cJSON_AddItemToObject(o, "job", cJSON_Duplicate(at(sh, "job"), 1));
    cJSON_AddNumberToObject(o, "count", count);
    cJSON_AddItemToObject(o, "unit", cJSON_Duplicate(at(sh, "unit"), 1));
    cJSON_AddNumberToObject(o, "units", (double)slot[0]->units);
    cJSON *arr = cJSON_AddArrayToObject(o, "shards");
    for (int i = 0; i < count; i++) {
        const shard_in *s = slot[i];
        cJSON *e = cJSON_CreateObject(), *eng, *len;
        cJSON_AddNumberToObject(e, "index", i);
        cJSON_AddNumberToObject(e, "first", (double)s->first);
        cJSON_AddNumberToObject(e, "end", (double)s->end);
        cJSON_AddStringToObject(e, "receipt", base_name(s->path));
        cJSON_AddItemToObject(e, "digest", cJSON_Duplicate(at(s->r, "digest.value"), 1));
        cJSON_AddItemToObject(e, "created", cJSON_Duplicate(at(s->r, "created"), 1));
        cJSON_AddItemToObject(e, "host", cJSON_Duplicate(at(s->r, "host"), 1));
        eng = cJSON_AddObjectToObject(e, "engines");
        const cJSON *se;
        cJSON_ArrayForEach(se, at(s->r, "engines")) {
            cJSON *x = cJSON_AddObjectToObject(eng, se->string);
            const cJSON *kc = cJSON_GetObjectItemCaseSensitive(se, "kernels"), *sec = cJSON_GetObjectItemCaseSensitive(se, "seconds");
            if (kc) cJSON_AddItemToObject(x, "kernels", cJSON_Duplicate(kc, 1));
            if (sec) cJSON_AddItemToObject(x, "seconds", cJSON_Duplicate(sec, 1));
        }
        if (at(s->r, "timings")) cJSON_AddItemToObject(e, "timings", cJSON_Duplicate(at(s->r, "timings"), 1));
        len = cJSON_AddObjectToObject(e, "lengths");
        for (const char *const *p = k->join; *p; p++) cJSON_AddNumberToObject(len, *p, cJSON_GetArraySize(at(s->r, *p)));
        cJSON_AddItemToArray(arr, e);
    }
    return o;
}

/* The parts every shard computes whole must agree. */
static tc_status same_parts(shard_in **slot, int count, const merge_kind *k, tc_err *err)
{
    for (const char *const *p = k->same; *p; p++)
        for (int i = 1; i < count; i++) {
            char where[256] = "";
            if (differ(at(slot[0]->r, *p), at(slot[i]->r, *p), where, sizeof where) &&
                (at(slot[0]->r, *p) || at(slot[i]->r, *p)))
                return tc_fail(err, TC_E_FORMAT, "merge: %s and %s disagree on %s (%s), which every shard computes "
                               "whole", slot[0]->path, slot[i]->path, *p, where[0] ? where : "present in one only");
        }
    return TC_OK;
}

/* Each shard's unit array holds its units. */
static tc_status units_held(shard_in **slot, int count, const merge_kind *k, tc_err *err)
{
    for (int i = 0; i < count; i++) {
        const int n = cJSON_GetArraySize(at(slot[i]->r, k->units));
        if (!cJSON_IsArray(at(slot[i]->r, k->units)) || (uint64_t)n != slot[i]->end - slot[i]->first)
            return tc_fail(err, TC_E_FORMAT, "merge: %s: %s holds %d entries, the shard's units are [%" PRIu64 ", %"
                           PRIu64 ")", slot[i]->path, k->units, n, slot[i]->first, slot[i]->end);
    }
    return TC_OK;
}

static tc_status build(shard_in **slot, int count, const merge_kind *k, FILE *out, cJSON **merged, tc_err *err)
{
    tc_status s = units_held(slot, count, k, err);
    if (!s) s = same_parts(slot, count, k, err);
    if (s) return s;
    cJSON *m = cJSON_Duplicate(slot[0]->r, 1);
    if (!m) return tc_fail(err, TC_E_NOMEM, "merge: out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "shard");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "digest");
    cJSON_DeleteItemFromObjectCaseSensitive(m, "signature");
    char when[32];
    tc_utc_timestamp(when, sizeof when);
    cJSON_ReplaceItemInObjectCaseSensitive(m, "created", cJSON_CreateString(when));
    for (const char *const *p = k->join; *p && !s; p++) s = join_array(m, slot, count, *p, err);
    if (!s) {
        add_counts(m, slot, count);
        s = k->finish(m, out, err);
    }
    if (!s) cJSON_AddItemToObject(m, "merged", merged_section(slot, count, k));
    if (s) cJSON_Delete(m);
    else *merged = m;
    return s;
}

tc_status tc_merge(const char *const *paths, size_t n, const char *pubkey, FILE *out, cJSON **merged, tc_err *err)
{
    *merged = NULL;
    if (n == 0) return tc_fail(err, TC_E_USAGE, "merge: no receipts");
    shard_in *in = calloc(n, sizeof *in);
    if (!in) return tc_fail(err, TC_E_NOMEM, "merge: out of memory");
    tc_status s = TC_OK;
    for (size_t i = 0; i < n && !s; i++) s = load_shard(paths[i], pubkey, &in[i], err);
    const char *kind = s ? NULL : cJSON_GetStringValue(at(in[0].r, "kind"));
    const merge_kind *k = kind_of(kind);
    if (!s && !k) s = tc_fail(err, TC_E_USAGE, "merge: %s: receipts of kind %s are not merged", paths[0], kind ? kind : "?");
    shard_in **slot = s ? NULL : calloc((size_t)in[0].count, sizeof *slot);
    if (!s && !slot) s = tc_fail(err, TC_E_NOMEM, "merge: out of memory");
    if (!s) s = one_job(in, n, slot, err);
    if (!s) s = build(slot, in[0].count, k, out, merged, err);
    for (size_t i = 0; i < n; i++) cJSON_Delete(in[i].r);
    free(slot);
    free(in);
    return s;
}

/* ---- a shard's view of a merged receipt ---- */

/* Cut [off, off + len) out of the array at path in v. */
static tc_status cut(cJSON *v, const char *path, int off, int len, tc_err *err)
{
    cJSON *a = at(v, path);
    if (!cJSON_IsArray(a) || off < 0 || len < 0 || off + len > cJSON_GetArraySize(a))
        return tc_fail(err, TC_E_FORMAT, "merged receipt: %s: shorter than the shards' lengths say", path);
    for (int i = cJSON_GetArraySize(a) - 1; i >= off + len; i--) cJSON_DeleteItemFromArray(a, i);
    for (int i = 0; i < off; i++) cJSON_DeleteItemFromArray(a, 0);
    return TC_OK;
}

cJSON *tc_merge_shard_view(const cJSON *merged, int index, tc_err *err)
{
    const cJSON *mg = at(merged, "merged"), *shards = at(mg, "shards");
    const merge_kind *k = kind_of(cJSON_GetStringValue(at(merged, "kind")));
    if (!mg || !k) {
        tc_fail(err, TC_E_USAGE, "--shard: not a merged receipt of a kind merge knows");
        return NULL;
    }
    if (index < 0 || index >= cJSON_GetArraySize(shards)) {
        tc_fail(err, TC_E_USAGE, "--shard %d: the merged receipt lists %d shards", index, cJSON_GetArraySize(shards));
        return NULL;
    }
    cJSON *v = cJSON_Duplicate(merged, 1);
    if (!v) {
        tc_fail(err, TC_E_NOMEM, "out of memory");
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(v, "merged");
    const cJSON *me = cJSON_GetArrayItem(shards, index);
    tc_status s = TC_OK;
    for (const char *const *p = k->join; *p && !s; p++) {
        int off = 0;
        for (int i = 0; i < index; i++)
            off += (int)tc_json_figure(cJSON_GetObjectItemCaseSensitive(at(cJSON_GetArrayItem(shards, i), "lengths"), *p));
        s = cut(v, *p, off, (int)tc_json_figure(cJSON_GetObjectItemCaseSensitive(at(me, "lengths"), *p)), err);
    }
    cJSON *e;
    cJSON_ArrayForEach(e, at(v, "engines")) {   /* the shard's own counts and seconds */
        const cJSON *se = cJSON_GetObjectItemCaseSensitive(at(me, "engines"), e->string), *c;
        cJSON_ArrayForEach(c, se) cJSON_ReplaceItemInObjectCaseSensitive(e, c->string, cJSON_Duplicate(c, 1));
    }
    if (at(me, "timings")) cJSON_ReplaceItemInObjectCaseSensitive(v, "timings", cJSON_Duplicate(at(me, "timings"), 1));
    /* the shard section its own receipt had: a rerun runs it as that shard */
    cJSON *sh = cJSON_AddObjectToObject(v, "shard");
    if (!sh) s = tc_fail(err, TC_E_NOMEM, "out of memory");
    else {
        cJSON_AddNumberToObject(sh, "index", index);
        static const char *const from_merged[] = { "count", "unit", "units" }, *const from_entry[] = { "first", "end" };
        for (int i = 0; i < 3; i++) cJSON_AddItemToObject(sh, from_merged[i], cJSON_Duplicate(at(mg, from_merged[i]), 1));
        for (int i = 0; i < 2; i++) cJSON_AddItemToObject(sh, from_entry[i], cJSON_Duplicate(at(me, from_entry[i]), 1));
        cJSON_AddItemToObject(sh, "job_id", cJSON_Duplicate(at(mg, "job_id"), 1));
        cJSON_AddItemToObject(sh, "job", cJSON_Duplicate(at(mg, "job"), 1));
    }
    if (!s) s = k->finish(v, NULL, err);
    if (s) {
        cJSON_Delete(v);
        return NULL;
    }
    return v;
}
