/* report.c -- a receipt as one self-contained HTML page.
 *
 * A receipt is untrusted input and the page is opened in a browser: every
 * string from the receipt goes through put_text (HTML-escaped, never a
 * format string), a Content-Security-Policy forbids scripts and every
 * other fetch, and the page says whether the receipt verified. */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/num.h"
#include "receipt/receipt.h"
#include "audit/report.h"
#include "audit/verify.h"

/* ---- a growing string ---- */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = true; return; }
        if (b->p && (size_t)k < b->cap - b->n) { b->n += (size_t)k; return; }
        size_t cap = (b->cap ? b->cap * 2 : 65536) + (size_t)k;
        char *np = realloc(b->p, cap);
        if (!np) { b->oom = true; return; }
        b->p = np;
        b->cap = cap;
    }
}

/* Text with HTML's special characters escaped (quotes too: safe in an
 * attribute); control characters dropped.  NULL prints "?". */
static void put_text(sbuf *b, const char *s)
{
    if (!s) s = "?";
    while (*s) {
        size_t run = strcspn(s, "<>&\"'\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13"
                                "\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f");
        if (run) put(b, "%.*s", (int)(run > INT_MAX ? INT_MAX : run), s);
        s += run;
        switch (*s) {
        case '\0': return;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '&': put(b, "&amp;"); break;
        case '"': put(b, "&quot;"); break;
        case '\'': put(b, "&#39;"); break;
        default: break;   /* a control character */
        }
        s++;
    }
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static const char *str(const cJSON *o, const char *k) { return cJSON_GetStringValue(get(o, k)); }

static double num(const cJSON *o, const char *k) { return tc_audit_num(get(o, k)); }

/* ---- the chart: one bar per tap, log10 of the scaled error ---- */

static void chart(sbuf *b, const cJSON *results, double tol)
{
    int n = cJSON_GetArraySize(results);
    if (n <= 0) return;
    const double lo = -12.0, hi = 0.0;   /* log10 range shown; 0 and below 1e-12 sit on the floor */
    const int W = 1100, H = 320, L = 60, R = 10, T = 20, B = 30;
    double bw = (double)(W - L - R) / n;
    put(b, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' role='img' "
           "aria-label='scaled error per tap'>\n", W, H);
    for (int e = (int)lo; e <= (int)hi; e += 2) {   /* grid and axis labels */
        double y = T + (hi - e) / (hi - lo) * (H - T - B);
        put(b, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>"
               "<text x='%d' y='%.1f' font-size='11' text-anchor='end'>1e%d</text>\n", L, W - R, y, y, L - 4, y + 4, e);
    }
    const cJSON *t;
    int i = 0, last_layer = -2, max_layer = 0;
    cJSON_ArrayForEach(t, results) if (num(t, "layer") > max_layer) max_layer = (int)tc_num_clamp(num(t, "layer"), 0, 1 << 20);
    const int step = max_layer / 8 + 1;   /* at most about eight layer labels */
    cJSON_ArrayForEach(t, results) {
        double e = num(t, "scaled_err"), v = e > 0 ? log10(e) : lo;
        if (!(v >= lo)) v = lo;
        if (v > hi || isinf(e)) v = hi;
        bool pass = cJSON_IsTrue(get(t, "pass"));
        double x = L + i * bw, y = T + (hi - v) / (hi - lo) * (H - T - B);
        put(b, "<rect x='%.2f' y='%.1f' width='%.2f' height='%.1f' fill='%s'><title>", x, y, bw > 2 ? bw - 1 : bw,
            H - B - y, pass ? "#4a90d9" : "#d0021b");
        put_text(b, str(t, "tap"));
        put(b, ": %.3g</title></rect>\n", e);
        int layer = (int)tc_num_clamp(num(t, "layer"), -1, 1 << 20);
        if (layer != last_layer && layer >= 0 && layer % step == 0)
            put(b, "<text x='%.1f' y='%d' font-size='10'>blk.%d</text>\n", x, H - B + 14, layer);
        last_layer = layer;
        i++;
    }
    double ty = T + (hi - log10(tol > 0 ? tol : 1e-12)) / (hi - lo) * (H - T - B);
    put(b, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#d0021b' stroke-dasharray='6 3'/>"
           "<text x='%d' y='%.1f' font-size='11' fill='#d0021b' text-anchor='end'>tolerance %g</text>\n",
        L, W - R, ty, ty, W - R, ty - 4, tol);
    put(b, "</svg>\n");
}

/* ---- accuracy receipts: per-layer cosine and the KL distribution ---- */

static void accuracy_body(sbuf *b, const cJSON *r)
{
    const cJSON *h;
    put(b, "<h2>Headline</h2>\n<table><tr><th>metric</th><th>value</th><th>definition</th></tr>\n");
    cJSON_ArrayForEach(h, get(r, "headline")) {
        put(b, "<tr><td><code>");
        put_text(b, str(h, "metric"));
        put(b, "</code></td><td>%.6g</td><td>", num(h, "value"));
        put_text(b, str(h, "definition"));
        put(b, "</td></tr>\n");
    }
    put(b, "</table>\n<h2>Per-layer cosine similarity of blk.N.out</h2>\n<p>Bars show 1 &minus; cosine on a log "
           "scale (shorter is closer to the baseline).</p>\n");
    const cJSON *layers = get(r, "per_layer"), *l;
    int n = cJSON_GetArraySize(layers), i = 0;
    const int W = 900, H = 240, L = 60, T = 10, B = 30;
    double bw = n > 0 ? (double)(W - L - 10) / n : 0;
    put(b, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' role='img' aria-label='per-layer cosine'>\n", W, H);
    for (int e = -12; e <= 0; e += 3) {
        double y = T + (0.0 - e) / 12.0 * (H - T - B);
        put(b, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/><text x='%d' y='%.1f' font-size='11' "
               "text-anchor='end'>1e%d</text>\n", L, W - 10, y, y, L - 4, y + 4, e);
    }
    cJSON_ArrayForEach(l, layers) {
        double c = num(l, "cosine"), v = 1.0 - c > 0 ? log10(1.0 - c) : -12.0;
        if (v < -12) v = -12;
        if (v > 0) v = 0;
        double x = L + i * bw, y = T + (0.0 - v) / 12.0 * (H - T - B);
        put(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#4a90d9'><title>blk.%d: cosine %.9g</title></rect>\n",
            x, y, bw > 2 ? bw - 1 : bw, H - B - y, i, c);
        if (n <= 16 || i % (n / 8 + 1) == 0) put(b, "<text x='%.1f' y='%d' font-size='10'>%d</text>\n", x, H - B + 14, i);
        i++;
    }
    put(b, "</svg>\n<h2>KL distribution</h2>\n<p>");
    put_text(b, str(get(r, "kl"), "definition"));
    put(b, ". Mean %.3g, median %.3g, p95 %.3g, p99 %.3g, max %.3g.</p>\n", num(get(r, "kl"), "mean"),
        num(get(r, "kl"), "median"), num(get(r, "kl"), "p95"), num(get(r, "kl"), "p99"), num(get(r, "kl"), "max"));
    const cJSON *hist = get(get(r, "kl"), "histogram"), *cnt = get(hist, "counts"), *edges = get(hist, "edges");
    int nb = cJSON_GetArraySize(cnt);
    double maxc = 1;
    const cJSON *c;
    cJSON_ArrayForEach(c, cnt) if (c->valuedouble > maxc) maxc = c->valuedouble;
    bw = nb > 0 ? (double)(W - L - 10) / nb : 0;
    put(b, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' role='img' aria-label='KL histogram'>\n", W, H);
    i = 0;
    const cJSON *edge = cJSON_IsArray(edges) ? edges->child : NULL;   /* walked alongside: no lookup by index */
    cJSON_ArrayForEach(c, cnt) {
        double hgt = c->valuedouble / maxc * (H - T - B), x = L + i * bw;
        double lo = edge ? tc_audit_num(edge) : 0;
        if (edge) edge = edge->next;
        put(b, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#7b61a8'><title>[%.3g, ...): %.0f</title></rect>\n",
            x, H - B - hgt, bw > 2 ? bw - 1 : bw, hgt, lo, c->valuedouble);
        if (i % 4 == 1) put(b, "<text x='%.1f' y='%d' font-size='10'>%.0e</text>\n", x, H - B + 14, lo);
        i++;
    }
    put(b, "</svg>\n");
}

/* ---- conform summaries: the cases ---- */

static void conform_body(sbuf *b, const cJSON *r)
{
    const cJSON *su = get(r, "suite"), *sum = get(r, "summary"), *c;
    put(b, "<h1>tritcheck conform ");
    put_text(b, str(su, "name"));
    put(b, ": <span class='%s'>", str(sum, "verdict") && !strcmp(str(sum, "verdict"), "conforms") ? "pass" : "fail");
    put_text(b, str(sum, "verdict"));
    put(b, "</span></h1>\n<p>Candidate <b>");
    put_text(b, str(su, "candidate"));
    put(b, "</b>; %.0f of %.0f cases conform. Manifest <code>", num(sum, "conforming"), num(sum, "cases"));
    put_text(b, str(su, "manifest"));
    put(b, "</code> (SHA-256 <code>");
    put_text(b, str(su, "manifest_sha256"));
    put(b, "</code>).</p>\n");
    put(b, "<table><tr><th>case</th><th>expected</th><th>verdict</th><th>first failure</th><th>conforms</th>"
           "<th>receipt</th></tr>\n");
    cJSON_ArrayForEach(c, get(r, "cases")) {
        bool ok = cJSON_IsTrue(get(c, "conforms"));
        put(b, "<tr><td>");
        put_text(b, str(c, "name"));
        put(b, "</td><td>");
        put_text(b, str(c, "expect"));
        put(b, "</td><td>");
        put_text(b, str(c, "verdict"));
        put(b, "</td><td><code>");
        put_text(b, str(c, "first_failure"));
        put(b, "</code></td><td class='%s'>%s</td><td><code>", ok ? "pass" : "fail", ok ? "yes" : "NO");
        put_text(b, str(c, "receipt"));
        put(b, "</code></td></tr>\n");
    }
    put(b, "</table>\n");
}

/* ---- the page ---- */

static void page_head(sbuf *b, const cJSON *r)
{
    /* no script runs and nothing is fetched, whatever a receipt holds */
    put(b, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>\n"
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
           "img-src data:; form-action 'none'; base-uri 'none'\">\n<title>tritcheck ");
    put_text(b, str(r, "kind"));
    put(b, " receipt</title>\n"
           "<style>body{font:14px/1.4 sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}.pass{color:#2a7d2a}.fail{color:#d0021b}"
           "code{font-size:12px}.verified{border:2px solid #2a7d2a;padding:4px 8px}"
           ".unverified{border:2px solid #d0021b;padding:4px 8px}pre{white-space:pre-wrap}</style></head><body>\n");
}

/* Whether the receipt verified (tc_verify_receipt: schema, digest,
 * signature, consistency; not the model, no rerun), first on the page:
 * a tampered receipt is never labelled signed. */
static void verification(sbuf *b, const char *in_path, const char *pubkey)
{
    tc_verify_opts o = { .pubkey = pubkey };
    tc_verify_result res;
    tc_err e = { 0 };
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    tc_status s = mem ? tc_verify_receipt(in_path, &o, mem, &res, &e) : tc_fail(&e, TC_E_NOMEM, "out of memory");
    if (mem) fclose(mem);
    const bool ok = !s && res.valid;
    put(b, "<p class='%s'><b>%s</b>", ok ? "verified" : "unverified", ok ? "Verified" : "NOT VERIFIED");
    if (s) {
        put(b, ": ");
        put_text(b, e.msg);
    } else if (!ok) {
        put(b, ": this receipt fails tritcheck verify; its figures below are not to be trusted.</p>\n<pre>");
        put_text(b, text);
        put(b, "</pre><p>");
    } else {
        put(b, ": schema, digest, consistency");
        if (res.seal.authenticated) put(b, "; signature by the trusted key (sha256:%s)", res.seal.signer);
        else if (res.seal.has_signature)
            put(b, "; signed by the key with fingerprint sha256:%s, NOT AUTHENTICATED (give report --pubkey "
                   "KEY.pub: anyone can make a key and sign)", res.seal.signer);
        else put(b, "; unsigned");
        put(b, ". The figures were not run again (tritcheck verify --model FILE --rerun does).");
    }
    put(b, "</p>\n");
    free(text);
}

static void accuracy_page(sbuf *b, const cJSON *r)
{
    const cJSON *model = get(r, "model");
    put(b, "<h1>tritcheck accuracy: I2_S against an FP32 baseline</h1>\n<p>Model <code>");
    put_text(b, str(model, "file"));
    put(b, "</code>, SHA-256 <code>");
    put_text(b, str(model, "sha256"));
    put(b, "</code>. Baseline: ");
    put_text(b, str(get(r, "comparison"), "baseline"));
    put(b, ". %d tokens.</p>\n", cJSON_GetArraySize(get(get(r, "input"), "tokens")));
    accuracy_body(b, r);
}

/* The coverage: how many reference taps were compared (derived codes
 * among them), and every tap that was not, with the reason. */
static void coverage_section(sbuf *b, const cJSON *cov)
{
    if (!cJSON_IsObject(cov)) {
        put(b, "<p class='fail'>This receipt records no coverage: nothing shows which taps were compared.</p>\n");
        return;
    }
    put(b, "<p>Coverage: %.0f of %.0f reference taps compared", num(cov, "compared"), num(cov, "reference_taps"));
    if (num(cov, "derived") > 0) put(b, " (%.0f from .q8 codes derived from float norm taps)", num(cov, "derived"));
    if (str(cov, "selection")) {
        put(b, "; %.0f left out by the selection <code>", num(cov, "not_selected"));
        put_text(b, str(cov, "selection"));
        put(b, "</code>");
    }
    put(b, ".</p>\n");
    const cJSON *e, *nc = get(cov, "not_compared");
    if (cJSON_GetArraySize(nc) > 0) {
        put(b, "<table><tr><th>not compared</th><th>why</th></tr>\n");
        cJSON_ArrayForEach(e, nc) {
            put(b, "<tr><td><code>");
            put_text(b, str(e, "tap"));
            put(b, "</code></td><td>");
            put_text(b, str(e, "reason"));
            put(b, "</td></tr>\n");
        }
        put(b, "</table>\n");
    }
}

/* Where chained runs began to differ, and the code behind the failure. */
static void divergence_section(sbuf *b, const cJSON *dv)
{
    const cJSON *f = get(dv, "first_difference"), *c = get(dv, "first_code_difference");
    if (!cJSON_IsObject(dv)) return;
    if (cJSON_IsObject(f)) {
        put(b, "<p>The runs first differ at <code>");
        put_text(b, str(f, "tap"));
        put(b, "</code> position %.0f, element %.0f.", num(f, "position"), num(f, "element"));
    } else {
        put(b, "<p>The runs are bit-identical at every compared tap.");
    }
    if (cJSON_IsObject(c)) {
        put(b, " The first code difference upstream of the failure: <code>");
        put_text(b, str(c, "tap"));
        put(b, "</code> position %.0f, element %.0f: reference %.0f (x*s %.9g), candidate %.0f (x*s %.9g), "
               "boundary %.1f.", num(c, "position"), num(c, "element"), num(c, "ref"), num(c, "unrounded_ref"),
            num(c, "cand"), num(c, "unrounded_cand"), num(c, "boundary"));
    }
    put(b, "</p>\n");
}

/* A comparison's headline: verdict, model, engines, the counts, the first
 * failure, determinism, coverage and where chained runs diverged. */
static void compare_summary(sbuf *b, const cJSON *r)
{
    const cJSON *sum = get(r, "summary"), *crit = get(r, "criteria"), *model = get(r, "model");
    const char *verdict = str(sum, "verdict");
    bool pass = verdict && !strcmp(verdict, "pass");
    bool incomplete = verdict && !strcmp(verdict, "incomplete");
    put(b, "<h1>tritcheck ");
    put_text(b, str(r, "kind"));
    put(b, ": <span class='%s'>%s</span></h1>\n", pass ? "pass" : "fail",
        verdict ? (pass ? "PASS" : incomplete ? "INCOMPLETE" : "FAIL") : "?");
    put(b, "<p>Model <code>");
    put_text(b, str(model, "file"));
    put(b, "</code> (");
    put_text(b, str(model, "architecture"));
    put(b, ", %.0f bytes, SHA-256 <code>", num(model, "size"));
    put_text(b, str(model, "sha256"));
    put(b, "</code>). ");
    put(b, "Reference <b>");
    put_text(b, cJSON_GetStringValue(get(get(get(r, "engines"), "ref"), "id")));
    put(b, "</b>, candidate <b>");
    put_text(b, cJSON_GetStringValue(get(get(get(r, "engines"), "cand"), "id")));
    put(b, "</b>, ");
    put_text(b, str(crit, "mode"));
    put(b, " mode, %d tokens.</p>\n", cJSON_GetArraySize(get(get(r, "input"), "tokens")));
    put(b, "<p>%.0f taps compared, %.0f failed", num(sum, "taps_compared"), num(sum, "taps_failed"));
    const cJSON *ff = get(sum, "first_failure");
    if (cJSON_IsObject(ff)) {
        put(b, "; first failure <b>");
        put_text(b, str(ff, "tap"));
        put(b, "</b> at position %.0f, element %.0f", num(ff, "position"), num(ff, "element"));
    }
    const cJSON *det = get(r, "determinism");
    if (cJSON_IsTrue(get(det, "measured")))
        put(b, ". Determinism: %s", cJSON_IsTrue(get(det, "bit_identical")) ? "two runs bit-identical" : "runs differ");
    put(b, ".</p>\n");
    coverage_section(b, get(sum, "coverage"));
    divergence_section(b, get(sum, "divergence"));
}

/* The taps: every figure and the verdict. */
static void tap_table(sbuf *b, const cJSON *results)
{
    put(b, "<h2>Taps</h2>\n<table><tr><th>tap</th><th>scaled error</th><th>max abs</th><th>NMSE</th>"
           "<th>cosine</th><th>q8 flips</th><th>verdict</th></tr>\n");
    const cJSON *t;
    cJSON_ArrayForEach(t, results) {
        bool tp = cJSON_IsTrue(get(t, "pass"));
        put(b, "<tr><td><code>");
        put_text(b, str(t, "tap"));
        put(b, "</code>%s</td><td>%.3g</td><td>%.3g</td>", cJSON_IsTrue(get(t, "derived")) ? " (derived)" : "",
            num(t, "scaled_err"), num(t, "max_abs"));
        if (get(t, "nmse")) put(b, "<td>%.3g</td><td>%.9g</td><td>&ndash;</td>", num(t, "nmse"), num(t, "cosine"));
        else put(b, "<td>&ndash;</td><td>&ndash;</td><td>%.0f</td>", num(t, "boundary_flips"));
        put(b, "<td class='%s'>%s</td></tr>\n", tp ? "pass" : "fail", tp ? "pass" : "FAIL");
    }
    put(b, "</table>\n");
}

/* The kernel variants each engine was observed to run, with call counts. */
static void kernel_table(sbuf *b, const cJSON *engines)
{
    put(b, "<h2>Kernels observed</h2>\n<table><tr><th>engine</th><th>kernel</th><th>calls</th></tr>\n");
    static const char *const sides[] = { "ref", "cand" };
    for (int i = 0; i < 2; i++) {
        const cJSON *k;
        cJSON_ArrayForEach(k, get(get(engines, sides[i]), "kernels")) {
            put(b, "<tr><td>%s</td><td><code>", sides[i]);
            put_text(b, k->string);
            put(b, "</code></td><td>%.0f</td></tr>\n", k->valuedouble);
        }
    }
    put(b, "</table>\n");
}

static void compare_page(sbuf *b, const cJSON *r)
{
    const cJSON *crit = get(r, "criteria");
    compare_summary(b, r);
    put(b, "<h2>Scaled error per tap</h2>\n<p>");
    put_text(b, str(crit, "metric"));
    put(b, "</p>\n");
    chart(b, get(r, "results"), num(crit, "tolerance"));
    tap_table(b, get(r, "results"));
    kernel_table(b, get(r, "engines"));
}

/* Who made the receipt, where and when, and its digest. */
static void provenance(sbuf *b, const cJSON *r)
{
    const cJSON *tool = get(r, "tool"), *host = get(r, "host");
    put(b, "<h2>Provenance</h2>\n<p>tritcheck ");
    put_text(b, str(tool, "version"));
    put(b, " (commit <code>");
    put_text(b, str(tool, "git_commit"));
    put(b, "</code>), ");
    put(b, "compiler ");
    put_text(b, str(tool, "compiler"));
    put(b, "; host ");
    put_text(b, str(host, "cpu_model"));
    put(b, ", ");
    put_text(b, str(host, "os"));
    put(b, "; created ");
    put_text(b, str(r, "created"));
    put(b, ". Digest <code>");
    put_text(b, str(get(r, "digest"), "value"));
    put(b, "</code> (its signature, if any: see the top of the page).</p>\n</body></html>\n");
}

tc_status tc_report_html(const char *in_path, const char *out_path, const char *pubkey, tc_err *err)
{
    cJSON *r;
    const char *inputs[] = { in_path, pubkey };
    unsigned char key[32];
    tc_status s = tc_check_output(out_path, inputs, 2, err);
    if (!s && pubkey) s = tc_pubkey_load(pubkey, key, err);   /* a key that cannot be read is the user's error */
    if (s) return s;
    if ((s = tc_receipt_load(in_path, &r, err))) return s;
    sbuf b = { 0 };
    const char *kind = str(r, "kind");
    page_head(&b, r);
    verification(&b, in_path, pubkey);
    if (kind && !strcmp(kind, "conform")) conform_body(&b, r);
    else if (kind && !strcmp(kind, "accuracy")) accuracy_page(&b, r);
    else compare_page(&b, r);
    provenance(&b, r);
    cJSON_Delete(r);
    if (b.oom) {
        free(b.p);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", out_path);
    }
    s = tc_write_file_atomic(out_path, b.p, b.n, err);
    free(b.p);
    return s;
}
