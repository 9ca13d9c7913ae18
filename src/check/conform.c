/* conform.c -- conformance suites. */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/compare.h"
#include "base/fileio.h"
#include "base/json.h"
#include "base/num.h"
#include "check/conform.h"
#include "tools/gen.h"
#include "receipt/receipt.h"
#include "base/sha256.h"

/* ---- small helpers ---- */

static const char *jstr(const cJSON *o, const char *k) { return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k)); }

/* Whether o has the number k (into *v, when v is not NULL). */
static bool jnum(const cJSON *o, const char *k, double *v)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(x)) return false;
    if (v) *v = x->valuedouble;
    return true;
}

/* The number k as an integer in [lo, hi] (base/num.h); false otherwise. */
static bool jint(const cJSON *o, const char *k, int64_t lo, int64_t hi, int64_t *v)
{
    double d;
    return jnum(o, k, &d) && tc_num_to_i64(d, lo, hi, v);
}

static tc_status read_manifest(const char *path, cJSON **out, tc_err *err)
{
    tc_status s = tc_json_load(path, (size_t)16 << 20, "a JSON manifest", out, err);
    if (s) return s;
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(*out, "cases"))) {
        cJSON_Delete(*out);
        *out = NULL;
        return tc_fail(err, TC_E_FORMAT, "%s: expected a JSON object with a \"cases\" array", path);
    }
    return TC_OK;
}

/* Decompress src (.gz) into dst once.  The largest model a suite ships
 * compressed is a few MB; 2 GiB bounds a damaged or hostile stream. */
static tc_status gunzip_to(const char *src, const char *dst, tc_err *err)
{
    if (access(dst, R_OK) == 0) return TC_OK;
    void *buf;
    size_t n;
    tc_status s = tc_read_gz(src, (size_t)2 << 30, "a compressed model", &buf, &n, NULL, err);
    if (s) return s;
    s = tc_write_file_atomic(dst, buf, n, err);
    free(buf);
    return s;
}

/* The model file of a case: generated, from vectors/, or the user's. */
static tc_status case_model(const tc_conform_opts *o, const char *name, const cJSON *model, char *path, size_t n,
                            tc_err *err)
{
    const char *rel = jstr(model, "path"), *preset = jstr(model, "preset");
    if (rel) {
        bool user = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "user"));
        if (user && !o->model_dir)
            return tc_fail(err, TC_E_USAGE, "case %s: needs your copy of %s: give --model-dir DIR", name, rel);
        char src[4096];
        snprintf(src, sizeof src, "%s/%s", user ? o->model_dir : o->vectors, rel);
        size_t len = strlen(src);
        if (len > 3 && !strcmp(src + len - 3, ".gz")) {
            snprintf(path, n, "%s/%s.gguf", o->out_dir, name);
            return gunzip_to(src, path, err);
        }
        snprintf(path, n, "%s", src);
        double size;
        struct stat st;
        if (jnum(model, "size", &size) && (stat(path, &st) != 0 || (double)st.st_size != size))
            return tc_fail(err, TC_E_USAGE, "case %s: %s: expected %.0f bytes (the published file), found %s", name,
                           path, size, stat(path, &st) ? "no file" : "another size");
        return TC_OK;
    }
    if (!preset) return tc_fail(err, TC_E_FORMAT, "case %s: model: expected \"preset\" or \"path\"", name);
    tc_gen_opts g;
    tc_status s = tc_gen_preset(preset, &g, err);
    if (s) return s;
    int64_t seed;
    if (jnum(model, "seed", NULL)) {
        if (!jint(model, "seed", 0, (int64_t)1 << 53, &seed))
            return tc_fail(err, TC_E_FORMAT, "case %s: model.seed: expected an integer 0..2^53", name);
        g.seed = (uint64_t)seed;
    }
    if (jstr(model, "arch")) g.arch = jstr(model, "arch");
    static const struct { const char *key; size_t off; } dims[] = {
        { "embd", offsetof(tc_gen_opts, n_embd) }, { "heads", offsetof(tc_gen_opts, n_head) },
        { "kv_heads", offsetof(tc_gen_opts, n_head_kv) }, { "ffn", offsetof(tc_gen_opts, n_ff) },
        { "layers", offsetof(tc_gen_opts, n_layer) }, { "ctx", offsetof(tc_gen_opts, n_ctx) },
        { "vocab", offsetof(tc_gen_opts, n_vocab) },
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++) {
        int64_t v;
        if (!jnum(model, dims[i].key, NULL)) continue;
        if (!jint(model, dims[i].key, 1, 1 << 24, &v))
            return tc_fail(err, TC_E_FORMAT, "case %s: model.%s: expected an integer 1..16777216", name, dims[i].key);
        *(uint32_t *)((char *)&g + dims[i].off) = (uint32_t)v;
    }
    snprintf(path, n, "%s/%s.gguf", o->out_dir, name);
    return tc_gen_write(&g, path, err);
}

/* ---- one case ---- */

typedef struct case_result {
    bool pass, conforms;
    char verdict[16];     /* pass, fail or incomplete */
    char first_failure[64];
    char receipt[4096];
    char digest[65];
} case_result;

static tc_status run_case(const tc_conform_opts *o, const cJSON *c, case_result *cr, tc_err *err)
{
    const char *name = jstr(c, "name");
    if (!name || !*name || strchr(name, '/'))
        return tc_fail(err, TC_E_FORMAT, "manifest: cases[]: expected a \"name\" without '/'");
    char model[4096], ref[4200];
    tc_status s = case_model(o, name, cJSON_GetObjectItemCaseSensitive(c, "model"), model, sizeof model, err);
    if (s) return s;
    tc_compare_job job = { .model_path = model, .ref = "ref", .cand = o->cand, .n_gen = 0 };
    tc_engine_opts_default(&job.eng);
    job.eng.n_threads = o->n_threads;
    tc_compare_opts_default(&job.opts);
    const char *r = jstr(c, "ref");
    if (r && !strncmp(r, "dump:", 5)) {
        snprintf(ref, sizeof ref, "dump:%s/%s", o->vectors, r + 5);
        job.ref = ref;
    } else if (r) {
        job.ref = r;
    }
    if (jstr(c, "cand")) job.cand = jstr(c, "cand");
    const char *prec = jstr(c, "precision"), *mode = jstr(c, "mode");
    if (prec && tc_precision_from_name(prec, &job.eng.precision))
        return tc_fail(err, TC_E_FORMAT, "case %s: precision: expected i2s or fp32, found %s", name, prec);
    if (mode && strcmp(mode, "isolated") && strcmp(mode, "chained"))
        return tc_fail(err, TC_E_FORMAT, "case %s: mode: expected isolated or chained, found %s", name, mode);
    job.opts.mode = mode && !strcmp(mode, "chained") ? TC_COMPARE_CHAINED : TC_COMPARE_ISOLATED;
    double v;
    int64_t iv;
    if (jnum(c, "tol", &v)) job.opts.tol = v;
    if (jnum(c, "q8_margin", &v)) job.opts.q8_margin = v;
    static const struct { const char *key; int64_t lo, hi; } ints[] = {
        { "random", 1, 1 << 20 }, { "seed", 0, (int64_t)1 << 53 }, { "gen", 0, 1 << 20 }, { "ctx", 1, 1 << 24 },
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (jnum(c, ints[i].key, NULL) && !jint(c, ints[i].key, ints[i].lo, ints[i].hi, &iv))
            return tc_fail(err, TC_E_FORMAT, "case %s: %s: expected an integer %" PRId64 "..%" PRId64, name,
                           ints[i].key, ints[i].lo, ints[i].hi);
    if (jint(c, "random", 1, 1 << 20, &iv)) job.in.n_random = (uint32_t)iv;
    if (jint(c, "seed", 0, (int64_t)1 << 53, &iv)) job.in.seed = (uint64_t)iv;
    if (jint(c, "gen", 0, 1 << 20, &iv)) job.n_gen = (uint32_t)iv;
    if (jint(c, "ctx", 1, 1 << 24, &iv)) job.eng.n_ctx = (uint32_t)iv;
    if (!(job.opts.tol >= 0) || !(job.opts.q8_margin >= 0 && job.opts.q8_margin < 0.5))
        return tc_fail(err, TC_E_FORMAT, "case %s: expected tol >= 0 and q8_margin in [0, 0.5)", name);
    job.in.token_list = jstr(c, "tokens");
    job.inject = jstr(c, "inject");
    const char *expect = jstr(c, "expect");
    if (!expect || (strcmp(expect, "pass") && strcmp(expect, "fail") && strcmp(expect, "incomplete")))
        return tc_fail(err, TC_E_FORMAT, "case %s: expect: expected \"pass\", \"fail\" or \"incomplete\"", name);
    cJSON *receipt = NULL;
    if ((s = tc_compare_job_run(&job, NULL, &receipt, &cr->pass, err))) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return tc_fail(err, s, "case %s: %s", name, msg);
    }
    const char *ff = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(receipt, "summary"), "first_failure"), "tap"));
    snprintf(cr->first_failure, sizeof cr->first_failure, "%s", ff ? ff : "");
    const char *verdict = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(receipt, "summary"), "verdict"));
    snprintf(cr->verdict, sizeof cr->verdict, "%s", verdict ? verdict : "");
    const char *want_ff = jstr(c, "expect_first_failure");
    cr->conforms = !strcmp(cr->verdict, expect) && (!want_ff || !strcmp(want_ff, cr->first_failure));
    cJSON *cs = cJSON_AddObjectToObject(receipt, "conformance_case");
    cJSON_AddStringToObject(cs, "name", name);
    cJSON_AddStringToObject(cs, "expect", expect);
    if (want_ff) cJSON_AddStringToObject(cs, "expect_first_failure", want_ff);
    snprintf(cr->receipt, sizeof cr->receipt, "%s/%s.json", o->out_dir, name);
    if (!(s = tc_receipt_seal(receipt, o->sign_key, err))) s = tc_receipt_write(receipt, cr->receipt, err);
    const char *dg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(receipt, "digest"), "value"));
    snprintf(cr->digest, sizeof cr->digest, "%s", dg ? dg : "");
    cJSON_Delete(receipt);
    return s;
}

/* ---- the suite ---- */

/* Every file the run writes in out_dir (each case's receipt and model,
 * the summary) must not be the manifest or the signing key. */
static tc_status check_outputs(const tc_conform_opts *o, const char *manifest, const cJSON *m, tc_err *err)
{
    const char *inputs[] = { manifest, o->sign_key };
    char p[4200];
    snprintf(p, sizeof p, "%s/summary.json", o->out_dir);
    tc_status s = tc_check_output(p, inputs, 2, err);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "cases")) {
        const char *name = jstr(c, "name");
        if (s || !name || strchr(name, '/')) break;   /* a bad name is run_case's to report */
        snprintf(p, sizeof p, "%s/%s.json", o->out_dir, name);
        s = tc_check_output(p, inputs, 2, err);
        snprintf(p, sizeof p, "%s/%s.gguf", o->out_dir, name);
        if (!s) s = tc_check_output(p, inputs, 2, err);
    }
    return s;
}

tc_status tc_conform_run(const tc_conform_opts *o, FILE *out, bool *all_conform, tc_err *err)
{
    *all_conform = false;
    char path[4096];
    if (strchr(o->suite, '/') || strstr(o->suite, ".json")) snprintf(path, sizeof path, "%s", o->suite);
    else snprintf(path, sizeof path, "%s/%s.json", o->suite_dir, o->suite);
    cJSON *m;
    tc_status s = read_manifest(path, &m, err);
    if (s) return s;
    if ((s = check_outputs(o, path, m, err))) {
        cJSON_Delete(m);
        return s;
    }
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        cJSON_Delete(m);
        return tc_fail(err, TC_E_IO, "%s: cannot create: %s", o->out_dir, strerror(errno));
    }
    char sha[TC_SHA256_HEX];
    tc_sha256_file(path, sha, NULL);
    cJSON *sum = tc_receipt_new("conform");
    cJSON *su = cJSON_AddObjectToObject(sum, "suite");
    cJSON_AddStringToObject(su, "name", jstr(m, "suite") ? jstr(m, "suite") : o->suite);
    cJSON_AddStringToObject(su, "manifest", path);
    cJSON_AddStringToObject(su, "manifest_sha256", sha);
    cJSON_AddStringToObject(su, "candidate", o->cand);
    cJSON *cases = cJSON_AddArrayToObject(sum, "cases");
    int n = 0, ok = 0;
    const cJSON *c;
    uint64_t first, end, k = 0;
    s = tc_shard_range(&o->shard, (uint64_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "cases")), "cases",
                       &first, &end, err);
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(m, "cases")) {
        case_result cr = { 0 };
        if (s || k++ < first || k > end) continue;   /* another shard's case */
        if ((s = run_case(o, c, &cr, err))) break;
        n++;
        ok += cr.conforms;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", jstr(c, "name"));
        cJSON_AddStringToObject(e, "expect", jstr(c, "expect"));
        if (jstr(c, "expect_first_failure")) cJSON_AddStringToObject(e, "expect_first_failure", jstr(c, "expect_first_failure"));
        cJSON_AddStringToObject(e, "verdict", cr.verdict);
        if (cr.first_failure[0]) cJSON_AddStringToObject(e, "first_failure", cr.first_failure);
        cJSON_AddBoolToObject(e, "conforms", cr.conforms);
        const char *base = strrchr(cr.receipt, '/');
        cJSON_AddStringToObject(e, "receipt", base ? base + 1 : cr.receipt);
        cJSON_AddStringToObject(e, "receipt_digest", cr.digest);
        cJSON_AddItemToArray(cases, e);
        if (out)
            fprintf(out, "%-28s expect %-4s got %-4s%s%s  %s\n", jstr(c, "name"), jstr(c, "expect"),
                    cr.verdict, cr.first_failure[0] ? " at " : "", cr.first_failure,
                    cr.conforms ? "CONFORMS" : "DOES NOT CONFORM");
    }
    if (!s) s = tc_conform_finish(sum, NULL, err);
    if (!s && tc_shard_on(&o->shard)) s = tc_conform_mark_shard(sum, o, sha, k, first, end, err);
    if (!s) {
        char sp[4200];
        if (tc_shard_on(&o->shard))
            snprintf(sp, sizeof sp, "%s/summary.shard-%" PRIu32 "-of-%" PRIu32 ".json", o->out_dir, o->shard.index,
                     o->shard.count);
        else
            snprintf(sp, sizeof sp, "%s/summary.json", o->out_dir);
        if (!(s = tc_receipt_seal(sum, o->sign_key, err))) s = tc_receipt_write(sum, sp, err);
        if (!s && out)
            fprintf(out, "%s: %d of %d cases conform; receipts in %s, summary %s\n", jstr(m, "suite") ? jstr(m, "suite") : o->suite,
                    ok, n, o->out_dir, sp);
        *all_conform = ok == n && n > 0;
    }
    cJSON_Delete(sum);
    cJSON_Delete(m);
    return s;
}
