/* sha256.c -- SHA-256 through OpenSSL's EVP interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/sha256.h"

void tc_hex_encode(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool tc_hex_decode(const char *s, unsigned char *out, size_t n)
{
    if (!s || strlen(s) != 2 * n) return false;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

tc_status tc_sha256(const void *buf, size_t n, unsigned char md[32])
{
    unsigned char full[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(buf, n, full, &len, EVP_sha256(), NULL) || len != 32) return TC_E_NOMEM;
    memcpy(md, full, 32);
    return TC_OK;
}

tc_status tc_sha256_hex(const void *buf, size_t n, char hex[TC_SHA256_HEX])
{
    unsigned char md[32];
    if (tc_sha256(buf, n, md)) return TC_E_NOMEM;
    tc_hex_encode(md, 32, hex);
    return TC_OK;
}

/* ---- streams ---- */

struct tc_sha256_stream {
    EVP_MD_CTX *ctx;
    bool ok;
};

tc_sha256_stream *tc_sha256_begin(void)
{
    tc_sha256_stream *s = malloc(sizeof *s);
    if (!s) return NULL;
    s->ctx = EVP_MD_CTX_new();
    s->ok = s->ctx && EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL);
    if (!s->ok) {
        EVP_MD_CTX_free(s->ctx);
        free(s);
        return NULL;
    }
    return s;
}

void tc_sha256_update(tc_sha256_stream *s, const void *buf, size_t n)
{
    if (n && !EVP_DigestUpdate(s->ctx, buf, n)) s->ok = false;
}

tc_status tc_sha256_end(tc_sha256_stream *s, char hex[TC_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    bool ok = s->ok && EVP_DigestFinal_ex(s->ctx, md, &len) && len == 32;
    EVP_MD_CTX_free(s->ctx);
    free(s);
    if (!ok) return TC_E_NOMEM;
    tc_hex_encode(md, 32, hex);
    return TC_OK;
}

tc_status tc_sha256_file(const char *path, char hex[TC_SHA256_HEX], tc_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    tc_sha256_stream *s = tc_sha256_begin();
    unsigned char *chunk = malloc((size_t)1 << 20);
    if (!s || !chunk) {
        if (s) tc_sha256_end(s, hex);
        free(chunk);
        fclose(fp);
        return tc_fail(err, TC_E_NOMEM, "%s: cannot start SHA-256", path);
    }
    size_t n;
    while ((n = fread(chunk, 1, (size_t)1 << 20, fp)) > 0) tc_sha256_update(s, chunk, n);
    int bad = ferror(fp);
    fclose(fp);
    free(chunk);
    tc_status st = tc_sha256_end(s, hex);
    if (bad) return tc_fail(err, TC_E_IO, "%s: read error", path);
    if (st) return tc_fail(err, st, "%s: SHA-256 failed", path);
    return TC_OK;
}
