/* seal.c -- canonical form, digest, Ed25519 signature and keys (seal.h). */
#include <errno.h>
#include <fcntl.h>
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
    tc_status s = tc_sha256(txt, strlen(txt), md);
    free(txt);
    if (!s) tc_hex_encode(md, 32, hex);
    return s;
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
    if (!tc_hex_decode(sv, sig, 64) || !tc_hex_decode(pv, pubraw, 32))
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

