/* against.c -- see against.h.  The peer runs as a child process with an
 * argument vector (no shell), its standard output and error in temporary
 * files; nothing it prints is trusted: every figure is checked to be a
 * positive finite number of the test that was asked for. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/json.h"
#include "base/sha256.h"
#include "check/against.h"

extern char **environ;

tc_stat tc_against_ratio(const double *ours, const double *peer, uint32_t n)
{
    double v[TC_AGAINST_MAX_ROUNDS];
    for (uint32_t k = 0; k < n && k < TC_AGAINST_MAX_ROUNDS; k++) v[k] = peer[k] > 0 ? ours[k] / peer[k] : 0.0;
    return tc_stat_of(v, n < TC_AGAINST_MAX_ROUNDS ? n : TC_AGAINST_MAX_ROUNDS);
}

/* ---- running the peer ---- */

/* The last non-empty line of the file at path, printable, at most n - 1
 * bytes; "" when there is none. */
static void last_line(const char *path, char *buf, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    tc_err e;
    buf[0] = '\0';
    if (tc_read_file(path, (size_t)4 << 20, "output", &text, &len, &e)) return;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
    size_t start = len;
    while (start && text[start - 1] != '\n') start--;
    size_t k = 0;
    for (size_t i = start; i < len && k + 1 < n; i++) buf[k++] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
    buf[k] = '\0';
    free(text);
}

/* A temporary file for the peer's output (its name into path). */
static int temp_file(char *path, size_t n, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, n, "%s/tritcheck-peer-%s-XXXXXX", dir && *dir ? dir : "/tmp", tag);
    return mkstemp(path);
}

/* Run argv[0] with stdout into out_path and stderr into err_path; its
 * exit status into *status (-1: it could not be started, 128 + N: killed
 * by signal N). */
static tc_status spawn_wait(char *const argv[], int out_fd, int err_fd, int *status, tc_err *err)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    if (posix_spawn_file_actions_init(&fa)) return tc_fail(err, TC_E_NOMEM, "bench: out of memory");
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    const int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) return tc_fail(err, TC_E_IO, "bench: --against %s: cannot run it: %s", argv[0], strerror(rc));
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return tc_fail(err, TC_E_IO, "bench: --against %s: %s", argv[0], strerror(errno));
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : -1;
    return TC_OK;
}

/* ---- reading its figures ---- */

static double num(const cJSON *o, const char *key, double otherwise)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : otherwise;
}

static void str(const cJSON *o, const char *key, char *buf, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t k = 0;
    if (cJSON_IsString(v))
        for (const char *s = v->valuestring; *s && k + 1 < n; s++) buf[k++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    buf[k] = '\0';
}

/* The test of llama-bench's JSON array with n_prompt, n_gen, or NULL. */
static const cJSON *find_test(const cJSON *doc, double n_prompt, double n_gen)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, doc)
        if (cJSON_IsObject(t) && num(t, "n_prompt", -1) == n_prompt && num(t, "n_gen", -1) == n_gen) return t;
    return NULL;
}

/* The median of a test's samples_ts: every sample a positive finite
 * number, at least one.  0 when there is none. */
static double samples_median(const cJSON *t)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(t, "samples_ts"), *v;
    double x[TC_BENCH_MAX_REPEAT];
    size_t n = 0;
    if (!cJSON_IsArray(s)) return 0.0;
    cJSON_ArrayForEach(v, s) {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble <= 0 || n == TC_BENCH_MAX_REPEAT)
            return 0.0;
        x[n++] = v->valuedouble;
    }
    return n ? tc_median(x, n) : 0.0;
}

/* One run of the peer: its prefill and decode medians and who it is. */
static tc_status peer_round(const char *model_path, const tc_bench_opts *o, const char *peer, double *pre,
                            double *dec, tc_peer_identity *id, tc_err *err)
{
    char out_path[4096], err_path[4096], t[16], p[16], n[16], r[16], why[240];
    snprintf(t, sizeof t, "%d", o->n_threads);
    snprintf(p, sizeof p, "%" PRIu32, o->prompt_len);
    snprintf(n, sizeof n, "%" PRIu32, o->n_gen);
    snprintf(r, sizeof r, "%" PRIu32, o->repeat);
    char *const argv[] = { (char *)peer, "-m", (char *)model_path, "-t", t, "-p", p, "-n", n, "-r", r, "-o", "json", NULL };
    const int out_fd = temp_file(out_path, sizeof out_path, "out");
    const int err_fd = out_fd < 0 ? -1 : temp_file(err_path, sizeof err_path, "err");
    if (out_fd < 0 || err_fd < 0) {
        if (out_fd >= 0) close(out_fd), unlink(out_path);
        return tc_fail(err, TC_E_IO, "bench: --against %s: no temporary file for its output: %s", peer, strerror(errno));
    }
    int status = -1;
    tc_status st = spawn_wait(argv, out_fd, err_fd, &status, err);
    close(out_fd);
    close(err_fd);
    cJSON *doc = NULL;
    if (!st) {
        last_line(err_path, why, sizeof why);
        if (status)
            st = tc_fail(err, TC_E_IO, "bench: --against %s: exit status %d, no figures%s%s", peer, status,
                         why[0] ? ": " : "", why);
        else if (tc_json_load(out_path, (size_t)16 << 20, "llama-bench's JSON output", &doc, err) || !cJSON_IsArray(doc))
            st = tc_fail(err, TC_E_IO, "bench: --against %s: printed no JSON array of figures%s%s", peer,
                         why[0] ? ": " : "", why);
    }
    unlink(out_path);
    unlink(err_path);
    if (st) return st;
    const cJSON *tp = find_test(doc, o->prompt_len, 0), *tg = find_test(doc, 0, o->n_gen);
    *pre = tp ? samples_median(tp) : 0.0;
    *dec = tg ? samples_median(tg) : 0.0;
    if (*pre <= 0 || *dec <= 0) {
        cJSON_Delete(doc);
        return tc_fail(err, TC_E_IO, "bench: --against %s: its JSON has no positive samples_ts for the test with "
                       "n_prompt %" PRIu32 " (prefill) and n_gen %" PRIu32 " (decode)", peer, o->prompt_len, o->n_gen);
    }
    str(tp, "build_commit", id->build_commit, sizeof id->build_commit);
    id->build_number = (int)num(tp, "build_number", 0);
    str(tp, "cpu_info", id->cpu_info, sizeof id->cpu_info);
    str(tp, "model_type", id->model_type, sizeof id->model_type);
    str(tp, "type_k", id->type_k, sizeof id->type_k);
    str(tp, "type_v", id->type_v, sizeof id->type_v);
    id->n_threads = (int)num(tp, "n_threads", 0);
    id->n_batch = (int)num(tp, "n_batch", 0);
    id->n_ubatch = (int)num(tp, "n_ubatch", 0);
    cJSON_Delete(doc);
    if (id->n_threads != o->n_threads)
        return tc_fail(err, TC_E_IO, "bench: --against %s: ran %d threads, not the %d asked for", peer, id->n_threads,
                       o->n_threads);
    return TC_OK;
}

/* ---- rounds ---- */

tc_status tc_bench_against(const tc_model *m, const char *model_path, const tc_bench_opts *o, const char *peer,
                           uint32_t rounds, tc_against_result *r, tc_err *err)
{
    struct stat sb;
    memset(r, 0, sizeof *r);
    if (rounds < 1 || rounds > TC_AGAINST_MAX_ROUNDS)
        return tc_fail(err, TC_E_USAGE, "bench: --rounds %" PRIu32 ": expected 1..%d", rounds, TC_AGAINST_MAX_ROUNDS);
    if (stat(peer, &sb) || !S_ISREG(sb.st_mode) || access(peer, X_OK))
        return tc_fail(err, TC_E_IO, "bench: --against %s: expected an executable file (llama-bench)", peer);
    if (strlen(peer) >= sizeof r->peer.path)
        return tc_fail(err, TC_E_USAGE, "bench: --against: a path of at most %zu bytes", sizeof r->peer.path - 1);
    snprintf(r->peer.path, sizeof r->peer.path, "%s", peer);
    tc_status st = tc_sha256_file(peer, r->peer.sha256, err);
    r->rounds = rounds;
    /* tritcheck first in even rounds, the peer first in odd ones: neither
     * side always runs on a machine the other has just warmed or heated */
    for (uint32_t k = 0; k < rounds && !st; k++) {
        if (k % 2 && (st = peer_round(model_path, o, peer, &r->peer_prefill[k], &r->peer_decode[k], &r->peer, err)))
            break;
        if ((st = tc_bench_run(m, o, &r->last, err))) break;
        r->ours_prefill[k] = r->last.prefill_tps.median;
        r->ours_decode[k] = r->last.decode_tps.median;
        if (!(k % 2)) st = peer_round(model_path, o, peer, &r->peer_prefill[k], &r->peer_decode[k], &r->peer, err);
    }
    if (st) return st;
    double v[TC_AGAINST_MAX_ROUNDS];
    memcpy(v, r->ours_prefill, rounds * sizeof *v), r->ours_prefill_tps = tc_stat_of(v, rounds);
    memcpy(v, r->ours_decode, rounds * sizeof *v), r->ours_decode_tps = tc_stat_of(v, rounds);
    memcpy(v, r->peer_prefill, rounds * sizeof *v), r->peer_prefill_tps = tc_stat_of(v, rounds);
    memcpy(v, r->peer_decode, rounds * sizeof *v), r->peer_decode_tps = tc_stat_of(v, rounds);
    r->prefill_ratio = tc_against_ratio(r->ours_prefill, r->peer_prefill, rounds);
    r->decode_ratio = tc_against_ratio(r->ours_decode, r->peer_decode, rounds);
    return TC_OK;
}

/* ---- output ---- */

void tc_against_print(const tc_against_result *r, FILE *out)
{
    fprintf(out, "against           %s (build %s #%d, %s; %s)\n", r->peer.path, r->peer.build_commit[0] ?
            r->peer.build_commit : "?", r->peer.build_number, r->peer.cpu_info, r->peer.model_type);
    fprintf(out, "                  %" PRIu32 " round%s alternating (each side %" PRIu32 " repeats a round); "
            "median (min-max) over rounds of each round's median\n", r->rounds, r->rounds == 1 ? "" : "s",
            r->last.repeat);
    fprintf(out, "                  %-30s %-30s %s\n", "tritcheck", "peer", "tritcheck / peer");
    const struct { const char *what; const tc_stat *a, *b, *q; } row[] = {
        { "prefill tok/s", &r->ours_prefill_tps, &r->peer_prefill_tps, &r->prefill_ratio },
        { "decode tok/s", &r->ours_decode_tps, &r->peer_decode_tps, &r->decode_ratio },
    };
    for (int i = 0; i < 2; i++) {
        char a[48], b[48];
        snprintf(a, sizeof a, "%.2f (%.2f-%.2f)", row[i].a->median, row[i].a->min, row[i].a->max);
        snprintf(b, sizeof b, "%.2f (%.2f-%.2f)", row[i].b->median, row[i].b->min, row[i].b->max);
        fprintf(out, "%-17s %-30s %-30s x%.2f (%.2f-%.2f)\n", row[i].what, a, b, row[i].q->median, row[i].q->min,
                row[i].q->max);
    }
}

/* a statistic over the rounds, with the rounds themselves when v */
static cJSON *stat_rounds(const tc_stat *s, const double *v, uint32_t n)
{
    cJSON *o = tc_bench_stat_json(s);
    if (o && v) cJSON_AddItemToObject(o, "rounds", cJSON_CreateDoubleArray(v, (int)n));
    return o;
}

cJSON *tc_against_json(const tc_against_result *r)
{
    cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject();
    if (!o || !p) {
        cJSON_Delete(o);
        cJSON_Delete(p);
        return NULL;
    }
    cJSON_AddItemToObject(o, "peer", p);
    cJSON_AddStringToObject(p, "path", r->peer.path);
    cJSON_AddStringToObject(p, "sha256", r->peer.sha256);
    cJSON_AddStringToObject(p, "build_commit", r->peer.build_commit);
    cJSON_AddNumberToObject(p, "build_number", r->peer.build_number);
    cJSON_AddStringToObject(p, "cpu_info", r->peer.cpu_info);
    cJSON_AddStringToObject(p, "model_type", r->peer.model_type);
    cJSON_AddNumberToObject(p, "threads", r->peer.n_threads);
    cJSON_AddStringToObject(p, "type_k", r->peer.type_k);
    cJSON_AddStringToObject(p, "type_v", r->peer.type_v);
    cJSON_AddNumberToObject(p, "n_batch", r->peer.n_batch);
    cJSON_AddNumberToObject(p, "n_ubatch", r->peer.n_ubatch);
    cJSON_AddNumberToObject(o, "rounds", r->rounds);
    cJSON_AddItemToObject(o, "prefill_tok_s", stat_rounds(&r->ours_prefill_tps, r->ours_prefill, r->rounds));
    cJSON_AddItemToObject(o, "decode_tok_s", stat_rounds(&r->ours_decode_tps, r->ours_decode, r->rounds));
    cJSON_AddItemToObject(o, "peer_prefill_tok_s", stat_rounds(&r->peer_prefill_tps, r->peer_prefill, r->rounds));
    cJSON_AddItemToObject(o, "peer_decode_tok_s", stat_rounds(&r->peer_decode_tps, r->peer_decode, r->rounds));
    cJSON_AddItemToObject(o, "prefill_ratio", stat_rounds(&r->prefill_ratio, NULL, 0));
    cJSON_AddItemToObject(o, "decode_ratio", stat_rounds(&r->decode_ratio, NULL, 0));
    return o;
}
