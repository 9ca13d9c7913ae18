/* fileio.c -- see fileio.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/fileio.h"

tc_status tc_check_regular(const char *path, tc_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode)) return TC_OK;
    const char *what = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISSOCK(st.st_mode) ? "a socket"
                       : "not a regular file";
    return tc_fail(err, TC_E_IO, "%s: is %s, expected a regular file", path, what);
}

/* Append up to `room` bytes from fp to buf, growing it; the total stops
 * at max + 1 so that a file one byte too large is seen. */
static tc_status read_stream(FILE *fp, const char *path, size_t max, char **out, size_t *n, tc_err *err)
{
    size_t cap = 1 << 16, len = 0, got;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t want = cap - len;
        if (len + want > max + 1) want = max + 1 - len;
        if (want == 0 || (got = fread(buf + len, 1, want, fp)) == 0) break;
        len += got;
        if (len == cap && len <= max) {
            char *nb = cap > (((size_t)-1) >> 2) ? NULL : realloc(buf, 2 * cap + 1);
            if (!nb) free(buf);
            buf = nb;
            cap *= 2;
        }
    }
    if (!buf) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    if (ferror(fp)) {
        free(buf);
        return tc_fail(err, TC_E_IO, "%s: read error: %s", path, strerror(errno));
    }
    buf[len] = '\0';
    *out = buf;
    *n = len;
    return TC_OK;
}

tc_status tc_read_file(const char *path, size_t max_bytes, const char *what, char **out, size_t *n, tc_err *err)
{
    *out = NULL;
    *n = 0;
    const bool is_stdin = !strcmp(path, "-");
    tc_status s = is_stdin ? TC_OK : tc_check_regular(path, err);
    if (s) return s;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0;
    s = read_stream(fp, path, max_bytes, &buf, &len, err);
    if (!is_stdin) fclose(fp);
    if (s) return s;
    if (len > max_bytes) {
        free(buf);
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s of at most %zu bytes", path, what, max_bytes);
    }
    *out = buf;
    *n = len;
    return TC_OK;
}

tc_status tc_read_gz(const char *path, size_t max_bytes, const char *what, void **out, size_t *n, bool *more,
                     tc_err *err)
{
    *out = NULL;
    *n = 0;
    if (more) *more = false;
    tc_status s = tc_check_regular(path, err);
    if (s) return s;
    gzFile f = gzopen(path, "rb");   /* reads plain files too */
    if (!f) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = max_bytes < ((size_t)1 << 20) ? max_bytes + 1 : (size_t)1 << 20, len = 0;
    uint8_t *buf = malloc(cap + 1);
    int k = 0;
    while (buf && len <= max_bytes) {
        if (len == cap) {
            size_t nc = cap > max_bytes / 2 ? max_bytes + 1 : 2 * cap;
            uint8_t *nb = realloc(buf, nc + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap = nc;
        }
        size_t want = cap - len > (1u << 30) ? (1u << 30) : cap - len;
        if ((k = gzread(f, buf + len, (unsigned)want)) <= 0) break;
        len += (size_t)k;
    }
    int zerr = Z_OK;
    const char *zmsg = gzerror(f, &zerr);
    char zbuf[128];
    snprintf(zbuf, sizeof zbuf, "%s", zmsg ? zmsg : "");
    gzclose(f);
    if (!buf) return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    if (k < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
        free(buf);
        return tc_fail(err, TC_E_FORMAT, "%s: gzip stream damaged: %s", path, zbuf);
    }
    if (len > max_bytes) {
        if (!more) {
            free(buf);
            return tc_fail(err, TC_E_FORMAT, "%s: expected %s of at most %zu bytes", path, what, max_bytes);
        }
        *more = true;
        len = max_bytes;
    }
    buf[len] = 0;
    *out = buf;
    *n = len;
    return TC_OK;
}

tc_status tc_write_file_atomic(const char *path, const void *data, size_t n, tc_err *err)
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
    bool ok = fp && fwrite(data, 1, n, fp) == n;
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
