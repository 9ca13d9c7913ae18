/* sha256.c -- SHA-256 through OpenSSL's EVP interface. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "sha256.h"

static void to_hex(const unsigned char *md, char hex[TC_SHA256_HEX])
{
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

tc_status tc_sha256_hex(const void *buf, size_t n, char hex[TC_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(buf, n, md, &len, EVP_sha256(), NULL)) return TC_E_NOMEM;
    to_hex(md, hex);
    return TC_OK;
}

tc_status tc_sha256_file(const char *path, char hex[TC_SHA256_HEX], tc_err *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        fclose(fp);
        return tc_fail(err, TC_E_NOMEM, "%s: cannot start SHA-256", path);
    }
    static unsigned char chunk[1 << 20];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) EVP_DigestUpdate(ctx, chunk, n);
    int bad = ferror(fp);
    fclose(fp);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    if (bad) return tc_fail(err, TC_E_IO, "%s: read error", path);
    to_hex(md, hex);
    return TC_OK;
}
