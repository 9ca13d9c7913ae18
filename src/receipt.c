/* receipt.c -- receipts: build, canonical form, digest, Ed25519, files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "device.h"
#include "receipt.h"
#include "sha256.h"

#ifndef TC_BUILD_CFLAGS
#define TC_BUILD_CFLAGS "unknown"
#endif

/* ---- tool and host ---- */

static void add_tool(cJSON *root)
{
    cJSON *t = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(t, "name", "tritcheck");
    cJSON_AddStringToObject(t, "version", PACKAGE_VERSION);
    cJSON_AddStringToObject(t, "git_commit", TC_GIT_COMMIT);
#ifdef __VERSION__
    cJSON_AddStringToObject(t, "compiler", __VERSION__);
#endif
    cJSON_AddStringToObject(t, "cflags", TC_BUILD_CFLAGS);
    cJSON_AddBoolToObject(t, "cuda_built", tc_cuda_built());
}

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    char line[512];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *v = strchr(line, ':');
        if (!v) break;
        v++;
        while (*v == ' ') v++;
        snprintf(buf, n, "%s", v);
        buf[strcspn(buf, "\n")] = '\0';
        break;
    }
    fclose(fp);
}

static void add_host(cJSON *root)
{
    cJSON *h = cJSON_AddObjectToObject(root, "host");
    struct utsname u;
    if (uname(&u) == 0) {
        char os[400];
        snprintf(os, sizeof os, "%s %s %s", u.sysname, u.release, u.machine);
        cJSON_AddStringToObject(h, "os", os);
    }
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    cJSON_AddStringToObject(h, "cpu_model", cpu);
    cJSON_AddNumberToObject(h, "cpus_online", (double)sysconf(_SC_NPROCESSORS_ONLN));
    cJSON *f = cJSON_AddArrayToObject(h, "cpu_features");
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) cJSON_AddItemToArray(f, cJSON_CreateString("avx2"));
    if (__builtin_cpu_supports("fma")) cJSON_AddItemToArray(f, cJSON_CreateString("fma"));
    if (__builtin_cpu_supports("f16c")) cJSON_AddItemToArray(f, cJSON_CreateString("f16c"));
    if (__builtin_cpu_supports("avx512f")) cJSON_AddItemToArray(f, cJSON_CreateString("avx512f"));
    if (__builtin_cpu_supports("avx512bw")) cJSON_AddItemToArray(f, cJSON_CreateString("avx512bw"));
    if (__builtin_cpu_supports("avx512vl")) cJSON_AddItemToArray(f, cJSON_CreateString("avx512vl"));
    if (__builtin_cpu_supports("avx512vnni")) cJSON_AddItemToArray(f, cJSON_CreateString("avx512vnni"));
#endif
    cJSON *g = cJSON_AddArrayToObject(h, "gpus");
    tc_gpu_info info[8];
    int n = 0;
    if (tc_cuda_built() && tc_cuda_devices(info, 8, &n, NULL) == TC_OK) {
        for (int i = 0; i < n && i < 8; i++) {
            cJSON *d = cJSON_CreateObject();
            cJSON_AddStringToObject(d, "name", info[i].name);
            cJSON_AddNumberToObject(d, "driver_version", info[i].driver_version);
            cJSON_AddNumberToObject(d, "runtime_version", info[i].runtime_version);
            cJSON_AddItemToArray(g, d);
        }
    }
}

cJSON *tc_receipt_new(const char *kind)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "schema", TC_RECEIPT_SCHEMA);
    cJSON_AddStringToObject(root, "kind", kind);
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    cJSON_AddStringToObject(root, "created", when);
    add_tool(root);
    add_host(root);
    return root;
}

cJSON *tc_hparams_json(const tc_hparams *hp, bool with_arch)
{
    cJSON *h = cJSON_CreateObject();
    if (with_arch) cJSON_AddStringToObject(h, "architecture", hp->arch);
    cJSON_AddNumberToObject(h, "vocab", hp->n_vocab);
    cJSON_AddNumberToObject(h, "context", hp->n_ctx);
    cJSON_AddNumberToObject(h, "embedding", hp->n_embd);
    cJSON_AddNumberToObject(h, "blocks", hp->n_layer);
    cJSON_AddNumberToObject(h, "ffn", hp->n_ff);
    cJSON_AddNumberToObject(h, "heads", hp->n_head);
    cJSON_AddNumberToObject(h, "kv_heads", hp->n_head_kv);
    cJSON_AddNumberToObject(h, "head_dim", hp->head_dim);
    cJSON_AddNumberToObject(h, "rope_base", hp->rope_base);
    cJSON_AddNumberToObject(h, "eps", hp->eps);
    cJSON_AddStringToObject(h, "ffn_activation", hp->act == TC_ACT_RELU2 ? "relu2" : "silu");
    return h;
}

void tc_tensor_type_counts(cJSON *types, const tc_gguf *g)
{
    for (size_t i = 0; i < g->n_tensors; i++) {
        const char *tn = tc_type_name(g->tensors[i].type);
        cJSON *c = cJSON_GetObjectItemCaseSensitive(types, tn);
        if (c) cJSON_SetNumberValue(c, c->valuedouble + 1);
        else cJSON_AddNumberToObject(types, tn, 1);
    }
}

tc_status tc_receipt_add_model(cJSON *root, const tc_model *m, const char *path, tc_err *err)
{
    char sha[TC_SHA256_HEX];
    tc_status s = tc_sha256_file(path, sha, err);
    if (s) return s;
    const tc_hparams *hp = &m->hp;
    cJSON *o = cJSON_AddObjectToObject(root, "model");
    const char *base = strrchr(path, '/');
    cJSON_AddStringToObject(o, "file", base ? base + 1 : path);
    cJSON_AddNumberToObject(o, "size", (double)m->gguf->size);
    cJSON_AddStringToObject(o, "sha256", sha);
    cJSON_AddStringToObject(o, "architecture", hp->arch);
    cJSON_AddItemToObject(o, "hparams", tc_hparams_json(hp, false));
    tc_tensor_type_counts(cJSON_AddObjectToObject(o, "tensor_types"), m->gguf);
    return TC_OK;
}

cJSON *tc_receipt_engine(const tc_engine *e)
{
    cJSON *o = cJSON_CreateObject();
    const tc_engine_opts *eo = tc_engine_options(e);
    cJSON_AddStringToObject(o, "id", tc_engine_name(e));
    cJSON_AddStringToObject(o, "precision", tc_precision_name(eo->precision));
    cJSON_AddNumberToObject(o, "threads", eo->n_threads);
    cJSON_AddNumberToObject(o, "context", eo->n_ctx);
    if (eo->inject) cJSON_AddStringToObject(o, "inject", eo->inject);
    cJSON *k = cJSON_AddObjectToObject(o, "kernels");
    size_t n;
    const tc_kernel_count *kc = tc_engine_kernels(e, &n);
    for (size_t i = 0; i < n; i++)
        if (kc[i].calls) cJSON_AddNumberToObject(k, kc[i].name, (double)kc[i].calls);
    return o;
}

/* ---- canonical form and digest ---- */

static int cmp_items(const void *a, const void *b)
{
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Sort every object's members by key, recursively (in place on a copy). */
static bool sort_keys(cJSON *node)
{
    if (cJSON_IsObject(node)) {
        size_t n = (size_t)cJSON_GetArraySize(node);
        if (n > 1) {
            cJSON **items = malloc(n * sizeof *items);
            if (!items) return false;
            size_t i = 0;
            for (cJSON *c = node->child; c; c = c->next) items[i++] = c;
            qsort(items, n, sizeof *items, cmp_items);
            for (i = 0; i < n; i++) {
                items[i]->prev = i ? items[i - 1] : items[n - 1];   /* cJSON: head->prev is the tail */
                items[i]->next = i + 1 < n ? items[i + 1] : NULL;
            }
            node->child = items[0];
            free(items);
        }
    }
    for (cJSON *c = node->child; c; c = c->next)
        if (!sort_keys(c)) return false;
    return true;
}

char *tc_receipt_canonical(const cJSON *root)
{
    cJSON *copy = cJSON_Duplicate(root, 1);
    if (!copy) return NULL;
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "digest");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "signature");
    char *txt = sort_keys(copy) ? cJSON_PrintUnformatted(copy) : NULL;
    cJSON_Delete(copy);
    return txt;
}

static tc_status digest_of(const cJSON *root, unsigned char md[32], char hex[TC_SHA256_HEX])
{
    char *txt = tc_receipt_canonical(root);
    if (!txt) return TC_E_NOMEM;
    unsigned int len = 0;
    EVP_Digest(txt, strlen(txt), md, &len, EVP_sha256(), NULL);
    free(txt);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
    return TC_OK;
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static bool from_hex(const char *s, unsigned char *out, size_t n)
{
    if (!s || strlen(s) != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return false;
        out[i] = (unsigned char)v;
    }
    return true;
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

tc_status tc_receipt_seal(cJSON *root, const char *key_path, tc_err *err)
{
    cJSON_DeleteItemFromObjectCaseSensitive(root, "digest");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "signature");
    unsigned char md[32];
    char hex[TC_SHA256_HEX];
    if (digest_of(root, md, hex)) return tc_fail(err, TC_E_NOMEM, "receipt: out of memory");
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
        to_hex(sig, siglen, sighex);
        to_hex(pubraw, publen, pubhex);
        cJSON *s = cJSON_AddObjectToObject(root, "signature");
        cJSON_AddStringToObject(s, "algorithm", "ed25519");
        cJSON_AddStringToObject(s, "signed", "the 32 bytes of digest.value");
        cJSON_AddStringToObject(s, "public_key", pubhex);
        cJSON_AddStringToObject(s, "value", sighex);
    }
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "algorithm", "sha256");
    cJSON_AddStringToObject(d, "over", "canonical JSON without digest and signature: keys sorted, no whitespace");
    cJSON_AddStringToObject(d, "value", hex);
    cJSON_AddItemToObject(root, "digest", d);
    return TC_OK;
}

tc_status tc_receipt_check_seal(const cJSON *root, const char *pubkey_path, tc_err *err)
{
    unsigned char md[32];
    char hex[TC_SHA256_HEX];
    if (digest_of(root, md, hex)) return tc_fail(err, TC_E_NOMEM, "receipt: out of memory");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "digest");
    const char *dv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "value"));
    if (!dv) return tc_fail(err, TC_E_FORMAT, "digest: missing (expected digest.value, a SHA-256 in hex)");
    if (strcmp(dv, hex) != 0)
        return tc_fail(err, TC_E_FORMAT, "digest: the receipt's content does not match digest.value "
                       "(recorded %.16s..., computed %.16s...): it was changed after sealing", dv, hex);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "signature");
    if (!s) {
        if (pubkey_path) return tc_fail(err, TC_E_FORMAT, "signature: missing, but --pubkey asks for one");
        return TC_OK;
    }
    unsigned char sig[64], pubraw[32];
    const char *sv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "value"));
    const char *pv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "public_key"));
    if (!from_hex(sv, sig, 64) || !from_hex(pv, pubraw, 32))
        return tc_fail(err, TC_E_FORMAT, "signature: expected value (64 bytes) and public_key (32 bytes) in hex");
    if (pubkey_path) {
        EVP_PKEY *want = read_key(pubkey_path, false, err);
        if (!want) return err ? err->status : TC_E_IO;
        unsigned char wraw[32];
        size_t wl = sizeof wraw;
        int got = EVP_PKEY_get_raw_public_key(want, wraw, &wl);
        EVP_PKEY_free(want);
        if (got <= 0 || wl != 32 || memcmp(wraw, pubraw, 32) != 0)
            return tc_fail(err, TC_E_FORMAT, "signature: made with another key than %s", pubkey_path);
    }
    EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pubraw, 32);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = k && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) > 0 &&
             EVP_DigestVerify(ctx, sig, 64, md, sizeof md) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(k);
    if (!ok) return tc_fail(err, TC_E_FORMAT, "signature: does not verify against the digest");
    return TC_OK;
}

/* ---- files ---- */

tc_status tc_write_file_atomic(const char *path, const void *text, size_t n, tc_err *err)
{
    size_t len = strlen(path) + 16;
    char *tmp = malloc(len);
    if (!tmp) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    snprintf(tmp, len, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tc_status s = tc_fail(err, TC_E_IO, "%s: cannot create a temporary file beside it: %s", path, strerror(errno));
        free(tmp);
        return s;
    }
    fchmod(fd, 0644);
    FILE *fp = fdopen(fd, "w");
    bool ok = fp && fwrite(text, 1, n, fp) == n;
    ok = fp && fclose(fp) == 0 && ok;
    if (!fp) close(fd);
    if (!ok || rename(tmp, path) != 0) {
        tc_status s = tc_fail(err, TC_E_IO, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    return TC_OK;
}

tc_status tc_receipt_write(const cJSON *root, const char *path, tc_err *err)
{
    char *txt = cJSON_Print(root);
    if (!txt) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    size_t n = strlen(txt);
    txt[n] = '\n';   /* the NUL becomes the final newline: n + 1 bytes */
    tc_status s = tc_write_file_atomic(path, txt, n + 1, err);
    free(txt);
    return s;
}

tc_status tc_json_load(const char *path, size_t max_bytes, const char *what, cJSON **out, tc_err *err)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    if (n < 0 || (unsigned long)n > max_bytes) {
        fclose(fp);
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s of at most %zu bytes", path, what, max_bytes);
    }
    char *buf = malloc((size_t)n + 1);
    if (!buf) {
        fclose(fp);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(buf, 1, (size_t)n, fp);
    fclose(fp);
    buf[got] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(buf, &end, 0);
    size_t at = end ? (size_t)(end - buf) : 0;
    free(buf);
    if (!root) return tc_fail(err, TC_E_FORMAT, "%s: expected %s, not valid JSON (parse error at byte %zu)", path, what, at);
    *out = root;
    return TC_OK;
}

tc_status tc_receipt_load(const char *path, cJSON **out, tc_err *err)
{
    cJSON *root;
    *out = NULL;
    tc_status s = tc_json_load(path, (size_t)1 << 30, "a JSON receipt", &root, err);
    if (s) return s;
    const char *schema = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "schema"));
    if (!schema || strcmp(schema, TC_RECEIPT_SCHEMA) != 0) {
        s = tc_fail(err, TC_E_FORMAT, "%s: schema: expected \"%s\", found %s%s%s", path, TC_RECEIPT_SCHEMA,
                    schema ? "\"" : "", schema ? schema : "none", schema ? "\"" : "");
        cJSON_Delete(root);   /* schema points into root */
        return s;
    }
    *out = root;
    return TC_OK;
}
