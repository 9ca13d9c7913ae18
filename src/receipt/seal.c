/* seal.c -- canonical form, digest, Ed25519 signature and keys (seal.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "base/fileio.h"
#include "base/sha256.h"
#include "receipt/seal.h"

/* ---- the canonical form: RFC 8785, the JSON Canonicalization Scheme ----
 *
 * Members sorted by their keys as UTF-16 code units, no whitespace,
 * strings with only the escapes the RFC keeps (\" \\ \b \t \n \f \r,
 * other control characters as \u00xx), everything else as UTF-8, and
 * numbers as ECMAScript's Number.prototype.toString writes a double: the
 * shortest digits that read back to the same double, plain up to 1e21,
 * exponential outside 1e-6 .. 1e21.  Any JCS library (or the Python of
 * tritcheck-receipt(5)) gives the same bytes. */

typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void put_s(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* A string per RFC 8785 3.2.2.2. */
static void jcs_string(sbuf *b, const char *s)
{
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        const char *esc = NULL;
        char u[8];
        switch (*p) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\f': esc = "\\f"; break;
        case '\r': esc = "\\r"; break;
        default:
            if (*p < 0x20) {
                snprintf(u, sizeof u, "\\u%04x", *p);
                esc = u;
            }
        }
        if (esc) put_s(b, esc);
        else put(b, (const char *)p, 1);
    }
    put(b, "\"", 1);
}

/* A finite double as ECMAScript's Number::toString (RFC 8785 3.2.2.3). */
static void jcs_number(sbuf *b, double v)
{
    if (v == 0) {   /* 0 and -0 */
        put_s(b, "0");
        return;
    }
    /* the shortest digits that read back as v: correctly rounded by
     * printf, so among the shortest they are the closest to v */
    char e[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    char digits[24], out[48];
    int k = 0, pos = 0;
    const char *p = e;
    if (*p == '-') out[pos++] = '-', p++;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[k++] = *p;
    digits[k] = '\0';
    const int n = atoi(p + 1) + 1;   /* v = 0.digits x 10^n */
    if (k <= n && n <= 21) {
        pos += snprintf(out + pos, sizeof out - (size_t)pos, "%s%.*s", digits, n - k, "000000000000000000000");
    } else if (0 < n && n <= 21) {
        pos += snprintf(out + pos, sizeof out - (size_t)pos, "%.*s.%s", n, digits, digits + n);
    } else if (-6 < n && n <= 0) {
        pos += snprintf(out + pos, sizeof out - (size_t)pos, "0.%.*s%s", -n, "000000", digits);
    } else {
        pos += snprintf(out + pos, sizeof out - (size_t)pos, "%c%s%s", digits[0], k > 1 ? "." : "", digits + 1);
        pos += snprintf(out + pos, sizeof out - (size_t)pos, "e%c%d", n - 1 >= 0 ? '+' : '-', abs(n - 1));
    }
    put(b, out, (size_t)pos);
}

/* The next UTF-16 code unit of the UTF-8 text at *s (a character beyond
 * U+FFFF gives its two surrogates in turn, *pending holding the second);
 * -1 at the end.  The text is valid UTF-8 (parsed strictly, or repaired
 * by the seal). */
static int utf16_next(const unsigned char **s, int *pending)
{
    if (*pending >= 0) {
        int u = *pending;
        *pending = -1;
        return u;
    }
    const unsigned char *p = *s;
    if (!*p) return -1;
    uint32_t cp;
    int len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : 4;
    cp = len == 1 ? p[0] : len == 2 ? p[0] & 0x1fu : len == 3 ? p[0] & 0x0fu : p[0] & 0x07u;
    for (int i = 1; i < len; i++) {
        if (!p[i]) return p[0];   /* cut short: cannot happen in valid UTF-8 */
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    *s = p + len;
    if (cp < 0x10000) return (int)cp;
    cp -= 0x10000;
    *pending = (int)(0xdc00 + (cp & 0x3ff));
    return (int)(0xd800 + (cp >> 10));
}

/* Keys in the order of RFC 8785 3.2.3: by UTF-16 code units. */
static int cmp_utf16(const void *x, const void *y)
{
    const unsigned char *a = (const unsigned char *)(*(cJSON *const *)x)->string;
    const unsigned char *b = (const unsigned char *)(*(cJSON *const *)y)->string;
    int pa = -1, pb = -1;
    for (;;) {
        int ua = utf16_next(&a, &pa), ub = utf16_next(&b, &pb);
        if (ua != ub || ua < 0) return ua - ub;
    }
}

/* Newline and `depth` tabs, in the pretty form. */
static void indent(sbuf *b, int depth)
{
    put_s(b, "\n");
    for (int i = 0; i < depth; i++) put_s(b, "\t");
}

/* node as JSON: canonical (depth < 0: members sorted, no whitespace, at
 * the top level without digest and signature), or pretty (depth >= 0:
 * members in the document's order, one per line, indented by tabs as
 * cJSON_Print does).  Both print strings and numbers the same way, so the
 * pretty file reads back as exactly the document the digest covers.
 * false for what JSON cannot hold (a non-finite number). */
static bool json_value(sbuf *b, const cJSON *node, bool top, int depth)
{
    const bool canon = depth < 0;
    if (cJSON_IsNull(node)) put_s(b, "null");
    else if (cJSON_IsFalse(node)) put_s(b, "false");
    else if (cJSON_IsTrue(node)) put_s(b, "true");
    else if (cJSON_IsString(node)) jcs_string(b, node->valuestring);
    else if (cJSON_IsNumber(node)) {
        if (!isfinite(node->valuedouble)) return false;
        jcs_number(b, node->valuedouble);
    } else if (cJSON_IsArray(node)) {
        put_s(b, "[");
        for (const cJSON *c = node->child; c; c = c->next) {
            if (!json_value(b, c, false, canon ? -1 : depth + 1)) return false;
            if (c->next) put_s(b, canon ? "," : ", ");
        }
        put_s(b, "]");
    } else if (cJSON_IsObject(node)) {
        size_t n = 0, i = 0;
        for (const cJSON *c = node->child; c; c = c->next) n++;
        const cJSON **items = malloc((n ? n : 1) * sizeof *items);
        if (!items) {
            b->oom = true;
            return false;
        }
        for (const cJSON *c = node->child; c; c = c->next)
            if (!canon || !top || (strcmp(c->string, "digest") && strcmp(c->string, "signature"))) items[i++] = c;
        if (canon) qsort(items, i, sizeof *items, cmp_utf16);
        put_s(b, "{");
        bool ok = true;
        for (size_t k = 0; k < i && ok; k++) {
            if (k) put_s(b, ",");
            if (!canon) indent(b, depth + 1);
            jcs_string(b, items[k]->string);
            put_s(b, canon ? ":" : ":\t");
            ok = json_value(b, items[k], false, canon ? -1 : depth + 1);
        }
        free(items);
        if (!ok) return false;
        if (!canon && i) indent(b, depth);
        put_s(b, "}");
    } else {
        return false;   /* cJSON_Raw or an invalid node: not JSON */
    }
    return !b->oom;
}

char *tc_receipt_canonical(const cJSON *root)
{
    sbuf b = { 0 };
    if (!json_value(&b, root, true, -1)) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *tc_receipt_text(const cJSON *root)
{
    sbuf b = { 0 };
    if (!json_value(&b, root, true, 0)) {
        free(b.p);
        return NULL;
    }
    put_s(&b, "\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static tc_status digest_of(const cJSON *root, unsigned char md[32], char hex[TC_SHA256_HEX])
{
    char *txt = tc_receipt_canonical(root);
    if (!txt) return TC_E_NOMEM;
    tc_status s = tc_sha256(txt, strlen(txt), md);
    free(txt);
    if (!s) tc_hex_encode(md, 32, hex);
    return s;
}

/* ---- what a receipt may hold: made JSON before it is sealed ---- */

/* s as valid UTF-8: every byte that does not start a valid character
 * becomes U+FFFD.  NULL when s is valid already (or out of memory). */
static char *repaired_utf8(const char *s, bool *oom)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, j = 0;
    char *out = NULL;
    while (i < n) {
        size_t len = p[i] < 0x80 ? 1 : (p[i] & 0xe0) == 0xc0 ? 2 : (p[i] & 0xf0) == 0xe0 ? 3
                     : (p[i] & 0xf8) == 0xf0 ? 4 : 0;
        uint32_t cp = len == 1 ? p[i] : len == 2 ? p[i] & 0x1fu : len == 3 ? p[i] & 0x0fu : p[i] & 0x07u;
        bool ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) {
            ok = (p[i + k] & 0xc0) == 0x80;
            cp = cp << 6 | (p[i + k] & 0x3fu);
        }
        ok = ok && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) &&
             cp >= (len == 2 ? 0x80u : len == 3 ? 0x800u : len == 4 ? 0x10000u : 0u);
        if (!ok && !out) {   /* the first bad byte: copy what came before */
            if (!(out = malloc(3 * n + 1))) {
                *oom = true;
                return NULL;
            }
            memcpy(out, s, i);
            j = i;
        }
        if (ok && out) memcpy(out + j, p + i, len), j += len;
        else if (!ok) memcpy(out + j, "\xef\xbf\xbd", 3), j += 3;
        i += ok ? len : 1;
    }
    if (out) out[j] = '\0';
    return out;
}

/* Replace *slot (a string cJSON owns unless is_const) by a cJSON copy of
 * fixed. */
static bool replace_string(char **slot, bool is_const, const char *fixed)
{
    size_t n = strlen(fixed) + 1;
    char *copy = cJSON_malloc(n);
    if (!copy) return false;
    memcpy(copy, fixed, n);
    if (!is_const) cJSON_free(*slot);
    *slot = copy;
    return true;
}

/* What the receipt file will hold, made so before the digest: a
 * non-finite number is written as null (so null is what is sealed), a
 * string or key that is not UTF-8 (a file name, a CPU name, a plug-in's
 * kernel names) is repaired. */
static bool make_json(cJSON *node)
{
    bool oom = false;
    if (cJSON_IsNumber(node) && !isfinite(node->valuedouble)) node->type = cJSON_NULL;
    if (node->string) {
        char *fixed = repaired_utf8(node->string, &oom);
        bool cst = (node->type & cJSON_StringIsConst) != 0;
        if (fixed && !replace_string(&node->string, cst, fixed)) oom = true;
        if (fixed && cst) node->type &= ~cJSON_StringIsConst;
        free(fixed);
    }
    if (cJSON_IsString(node) && node->valuestring) {
        char *fixed = repaired_utf8(node->valuestring, &oom);
        if (fixed && !replace_string(&node->valuestring, false, fixed)) oom = true;
        free(fixed);
    }
    for (cJSON *c = node->child; c && !oom; c = c->next)
        if (!make_json(c)) oom = true;
    return !oom;
}

/* ---- keys ---- */

static EVP_PKEY *read_key(const char *path, bool private, tc_err *err)
{
    FILE *fp = fopen(path, "r");
    if (!fp) {
        tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *k = private ? PEM_read_PrivateKey(fp, NULL, NULL, NULL) : PEM_read_PUBKEY(fp, NULL, NULL, NULL);
    fclose(fp);
    if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
        EVP_PKEY_free(k);
        tc_fail(err, TC_E_USAGE, "%s: expected an Ed25519 %s key in PEM (tritcheck keygen makes one)", path,
                private ? "private" : "public");
        return NULL;
    }
    return k;
}

tc_status tc_keygen(const char *path, tc_err *err)
{
    EVP_PKEY *k = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
    if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return tc_fail(err, TC_E_NOMEM, "keygen: Ed25519 key generation failed");
    }
    EVP_PKEY_CTX_free(ctx);
    tc_status s = TC_OK;
    size_t publen = strlen(path) + 5;
    char *pub = malloc(publen);
    if (!pub) {
        EVP_PKEY_free(k);
        return tc_fail(err, TC_E_NOMEM, "keygen: out of memory");
    }
    snprintf(pub, publen, "%s.pub", path);
    /* private key: created 0600 from the start */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!fp || !PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL)) {
        s = tc_fail(err, TC_E_IO, "%s: cannot write the private key: %s", path,
                    fd < 0 ? strerror(errno) : "write failed");
        if (fp) { fclose(fp); unlink(path); } else if (fd >= 0) close(fd);
        goto out;
    }
    fclose(fp);
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long n = b && PEM_write_bio_PUBKEY(b, k) ? BIO_get_mem_data(b, &pem) : 0;
    if (n <= 0 || (s = tc_write_file_atomic(pub, pem, (size_t)n, err)) != TC_OK) {
        if (n <= 0) s = tc_fail(err, TC_E_NOMEM, "keygen: cannot encode the public key");
        unlink(path);
    }
    BIO_free(b);
out:
    free(pub);
    EVP_PKEY_free(k);
    return s;
}

/* ---- seal and check ---- */

void tc_key_fingerprint(const unsigned char raw[32], char hex[TC_SHA256_HEX])
{
    unsigned char md[32];
    if (tc_sha256(raw, 32, md)) {
        hex[0] = '\0';
        return;
    }
    tc_hex_encode(md, 32, hex);
}

tc_status tc_pubkey_load(const char *path, unsigned char raw[32], tc_err *err)
{
    tc_status s = tc_check_regular(path, err);
    if (s) return s;
    EVP_PKEY *k = read_key(path, false, err);
    if (!k) return err ? err->status : TC_E_USAGE;
    size_t n = 32;
    int ok = EVP_PKEY_get_raw_public_key(k, raw, &n) > 0 && n == 32;
    EVP_PKEY_free(k);
    if (!ok) return tc_fail(err, TC_E_USAGE, "%s: expected an Ed25519 public key in PEM", path);
    return TC_OK;
}

tc_status tc_receipt_seal(cJSON *root, const char *key_path, tc_err *err)
{
    cJSON_DeleteItemFromObjectCaseSensitive(root, "digest");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "signature");
    unsigned char md[32];
    char hex[TC_SHA256_HEX];
    if (!make_json(root) || digest_of(root, md, hex)) return tc_fail(err, TC_E_NOMEM, "receipt: out of memory");
    if (key_path) {
        EVP_PKEY *k = read_key(key_path, true, err);
        if (!k) return err ? err->status : TC_E_USAGE;
        unsigned char sig[64], pubraw[32];
        size_t siglen = sizeof sig, publen = sizeof pubraw;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) > 0 &&
                 EVP_DigestSign(ctx, sig, &siglen, md, sizeof md) > 0 &&
                 EVP_PKEY_get_raw_public_key(k, pubraw, &publen) > 0;
        EVP_MD_CTX_free(ctx);
        EVP_PKEY_free(k);
        if (!ok) return tc_fail(err, TC_E_USAGE, "%s: signing failed", key_path);
        char sighex[129], pubhex[65];
        tc_hex_encode(sig, siglen, sighex);
        tc_hex_encode(pubraw, publen, pubhex);
        cJSON *s = cJSON_AddObjectToObject(root, "signature");
        cJSON_AddStringToObject(s, "algorithm", "ed25519");
        cJSON_AddStringToObject(s, "signed", "the 32 bytes of digest.value");
        cJSON_AddStringToObject(s, "public_key", pubhex);
        cJSON_AddStringToObject(s, "value", sighex);
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "algorithm", "sha256");
    cJSON_AddStringToObject(d, "over", TC_DIGEST_OVER);
    cJSON_AddStringToObject(d, "value", hex);
    cJSON_AddItemToObject(root, "digest", d);
    return TC_OK;
}

tc_status tc_receipt_check_seal(const cJSON *root, const unsigned char *trusted, tc_seal_info *info, tc_err *err)
{
    tc_seal_info dummy;
    if (!info) info = &dummy;
    memset(info, 0, sizeof *info);
    unsigned char md[32];
    char hex[TC_SHA256_HEX];
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "digest");
    const char *dv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "value"));
    if (!dv) return tc_fail(err, TC_E_FORMAT, "digest: missing (expected digest.value, a SHA-256 in hex)");
    tc_status ds = digest_of(root, md, hex);
    if (ds == TC_E_NOMEM) return tc_fail(err, TC_E_NOMEM, "receipt: out of memory");
    if (ds) return tc_fail(err, TC_E_FORMAT, "digest: the receipt has no canonical form");
    if (strcmp(dv, hex) != 0)
        return tc_fail(err, TC_E_FORMAT, "digest: the receipt's content does not match digest.value "
                       "(recorded %.16s..., computed %.16s...): it was changed after sealing", dv, hex);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "signature");
    if (!s) {
        if (trusted) return tc_fail(err, TC_E_FORMAT, "signature: missing, but --pubkey asks for one");
        return TC_OK;
    }
    info->has_signature = true;
    unsigned char sig[64], pubraw[32];
    const char *alg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "algorithm"));
    const char *sv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "value"));
    const char *pv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "public_key"));
    if (!alg || strcmp(alg, "ed25519"))
        return tc_fail(err, TC_E_FORMAT, "signature: algorithm: expected \"ed25519\"");
    if (!sv || !pv || strlen(sv) != 128 || strlen(pv) != 64 || !tc_hex_decode(sv, sig, 64) ||
        !tc_hex_decode(pv, pubraw, 32))
        return tc_fail(err, TC_E_FORMAT, "signature: expected value (64 bytes) and public_key (32 bytes) in hex");
    tc_key_fingerprint(pubraw, info->signer);
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pubraw, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = k && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) > 0 &&
             EVP_DigestVerify(ctx, sig, 64, md, sizeof md) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    if (!ok) return tc_fail(err, TC_E_FORMAT, "signature: does not verify against the digest");
    info->signature_valid = true;
    if (trusted) {
        if (memcmp(trusted, pubraw, 32) != 0) {
            char want[TC_SHA256_HEX];
            tc_key_fingerprint(trusted, want);
            return tc_fail(err, TC_E_FORMAT, "signature: made with another key (sha256:%.16s...) than the trusted "
                           "one (sha256:%.16s...)", info->signer, want);
        }
        info->authenticated = true;
    }
    return TC_OK;
}
