/* run.c -- `tritcheck run`: prompt -> prefill -> greedy decode, with an
 * optional dump of every tap (see run.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "engine/dump.h"
#include "engine/registry.h"
#include "format/input.h"
#include "format/tokenizer.h"
#include "tools/run.h"

/* ---- helpers ---- */


/* Print ids, then their text when the model has a tokenizer (a character
 * cut between tokens shows as U+FFFD: the ids above are the exact record). */
static void print_tokens(FILE *out, const char *label, const tc_tokenizer *tok, const int32_t *t, size_t n)
{
    fprintf(out, "%s:", label);
    for (size_t i = 0; i < n; i++) fprintf(out, " %" PRId32, t[i]);
    fputc('\n', out);
    size_t len = 0;
    char *buf = NULL;
    tc_err ignore;
    if (tok && tc_tokenizer_decode(tok, t, n, TC_DETOK_VALID_UTF8, &buf, &len, &ignore) == TC_OK) {
        fprintf(out, "%s text: \"", label);
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)buf[i];
            if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
            else if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02x", c);
            else fputc(c, out);
        }
        fprintf(out, "\"\n");
    }
    free(buf);
}

/* ---- the run ---- */

/* Generate greedily after the prompt; fills gen[0..*n_gen) and records
 * the fed tokens in the dump. */
static tc_status generate(tc_engine *e, const tc_model *m, const int32_t *prompt, size_t n_prompt,
                          const tc_run_opts *o, int32_t *gen, size_t *n_gen, tc_dump *dump, FILE *info,
                          tc_err *err)
{
    tc_status s;
    uint64_t eos = UINT64_MAX;
    tc_err ignore;
    if (tc_gguf_find(m->gguf, "tokenizer.ggml.eos_token_id"))
        tc_gguf_get_uint(m->gguf, "tokenizer.ggml.eos_token_id", INT32_MAX, &eos, &ignore);
    double t0 = tc_now_s();
    if ((s = tc_engine_prefill(e, prompt, (uint32_t)n_prompt, 0, err))) return s;
    if (dump && (s = tc_dump_add_tokens(dump, prompt, n_prompt, err))) return s;
    double t1 = tc_now_s();
    size_t k = 0, steps = 0;
    const char *why = NULL;
    while (k < o->n_predict) {
        gen[k] = (int32_t)tc_argmax(tc_engine_logits(e), m->hp.n_vocab);
        k++;
        if ((uint64_t)gen[k - 1] == eos) { why = "end of text"; break; }
        if (k == o->n_predict) break;
        if (tc_engine_n_past(e) >= tc_engine_options(e)->n_ctx) { why = "context full"; break; }
        if ((s = tc_engine_decode(e, gen[k - 1], err))) return s;
        if (dump && (s = tc_dump_add_tokens(dump, &gen[k - 1], 1, err))) return s;
        steps++;
    }
    double t2 = tc_now_s();
    *n_gen = k;
    if (info) {
        fprintf(info, "%s %s, %d thread%s: prefill %zu tokens in %.3f s; %zu decode steps in %.3f s (%.3f s/token)%s%s\n",
                tc_engine_name(e), tc_precision_name(tc_engine_options(e)->precision), tc_engine_options(e)->n_threads,
                tc_engine_options(e)->n_threads == 1 ? "" : "s", n_prompt, t1 - t0, steps, t2 - t1,
                steps ? (t2 - t1) / (double)steps : 0.0, why ? "; stopped: " : "", why ? why : "");
    }
    return TC_OK;
}

tc_status tc_run(const char *model_path, const tc_run_opts *o, FILE *out, FILE *info, tc_err *err)
{
    tc_model *m = NULL;
    tc_engine *e = NULL;
    tc_dump *dump = NULL;
    int32_t *owned = NULL, *gen = NULL;
    const int32_t *prompt = o->tokens;
    size_t n_prompt = o->n_tokens, n_gen = 0;
    tc_tokenizer *tok = NULL;
    tc_status s = tc_model_load(model_path, &m, err);
    if (s) return s;
    const char *path = m->gguf->path;
    /* without a usable tokenizer, ids still run but are not shown as text */
    tc_err tok_err;
    tc_status tok_status = tc_tokenizer_load(m->gguf, &tok, &tok_err);

    /* the prompt: ids checked here, so that errors name the file */
    if (o->prompt && tok_status) {
        *err = tok_err;
        s = tok_status;
        goto done;
    }
    if (o->prompt && (s = tc_prompt_encode(tok, path, o->prompt, &owned, &n_prompt, err))) goto done;
    if (o->prompt) prompt = owned;
    const uint32_t n_ctx = o->eng.n_ctx ? o->eng.n_ctx : m->hp.n_ctx;
    if (n_prompt == 0) {
        s = tc_fail(err, TC_E_USAGE, "%s: empty prompt", path);
        goto done;
    }
    if (n_prompt > n_ctx) {
        s = tc_fail(err, TC_E_RANGE, "%s: prompt of %zu tokens is longer than the context (%" PRIu32 ")", path,
                    n_prompt, n_ctx);
        goto done;
    }
    for (size_t i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || (uint32_t)prompt[i] >= m->hp.n_vocab) {
            s = tc_fail(err, TC_E_RANGE, "%s: token %" PRId32 " (index %zu) is outside the vocabulary (0..%" PRIu32 ")",
                        path, prompt[i], i, m->hp.n_vocab - 1);
            goto done;
        }

    /* where the dump goes, before anything runs or prints */
    if (o->dump_dir && (s = tc_dump_check_dir(o->dump_dir, err))) goto done;

    /* the engine, with the dump as its tap callback */
    if ((s = tc_engine_open(o->engine ? o->engine : "ref", m, &o->eng, &e, err))) goto done;
    if (o->dump_dir) {
        if (!(dump = tc_dump_new())) {
            s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
            goto done;
        }
        tc_dump_set_engine(dump, tc_engine_name(e), tc_precision_name(o->eng.precision), err);
        tc_engine_set_tap(e, tc_dump_tap_fn, dump);
    }
    if (!(gen = malloc(((size_t)o->n_predict + 1) * sizeof *gen))) {
        s = tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((s = generate(e, m, prompt, n_prompt, o, gen, &n_gen, dump, info, err))) goto done;

    /* results, then the dump (written whole or not at all) */
    if (dump && (s = tc_dump_write(dump, o->dump_dir, err))) goto done;
    print_tokens(out, "prompt", tok, prompt, n_prompt);
    print_tokens(out, "generated", tok, gen, n_gen);
done:
    if (s) tc_err_prefix(err, m ? m->gguf->path : model_path);
    free(gen);
    free(owned);
    tc_dump_free(dump);
    tc_tokenizer_free(tok);
    tc_engine_free(e);
    tc_model_free(m);
    return s;
}
