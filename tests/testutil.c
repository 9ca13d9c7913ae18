/* testutil.c -- helpers shared by the Check suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "testutil.h"

#ifndef TC_SRCDIR
#define TC_SRCDIR "."
#endif

const char *tu_vector_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("TC_VECTORS");
    if (root && *root) snprintf(buf, sizeof buf, "%s/%s", root, rel);
    else snprintf(buf, sizeof buf, "%s/vectors/%s", TC_SRCDIR, rel);
    return buf;
}

uint8_t *tu_read_gz(const char *path, size_t *n)
{
    gzFile f = gzopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = malloc(cap);
    int k;
    while (buf && (k = gzread(f, buf + len, (unsigned)(cap - len))) > 0) {
        len += (size_t)k;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); buf = NULL; }
            buf = nb;
        }
    }
    gzclose(f);
    *n = len;
    return buf;
}

char *tu_temp_path(const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = "/tmp";
    size_t len = strlen(dir) + strlen(suffix) + 32;
    char *p = malloc(len);
    snprintf(p, len, "%s/tctest.XXXXXX", dir);
    int fd = mkstemp(p);
    if (fd < 0) { free(p); return NULL; }
    close(fd);
    unlink(p);
    strcat(p, suffix);
    return p;
}

char *tu_gunzip_temp(const char *gz)
{
    size_t n;
    uint8_t *data = tu_read_gz(gz, &n);
    if (!data) return NULL;
    char *path = tu_temp_path(".gguf");
    FILE *fp = path ? fopen(path, "wb") : NULL;
    if (!fp || fwrite(data, 1, n, fp) != n) {
        if (fp) fclose(fp);
        free(data);
        free(path);
        return NULL;
    }
    fclose(fp);
    free(data);
    return path;
}

int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
