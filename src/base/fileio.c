/* fileio.c -- see fileio.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/fileio.h"

/* What st is, for a message: "a directory", "a FIFO", ... */
static const char *file_kind(const struct stat *st)
{
    return S_ISDIR(st->st_mode) ? "a directory" : S_ISFIFO(st->st_mode) ? "a FIFO"
           : S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "a device" : S_ISSOCK(st->st_mode) ? "a socket"
           : "not a regular file";
}

tc_status tc_check_regular(const char *path, tc_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) return tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISREG(st.st_mode)) return TC_OK;
    return tc_fail(err, TC_E_IO, "%s: is %s, expected a regular file", path, file_kind(&st));
}

/* Open path for reading only when it is a regular file: opened without
 * blocking (a FIFO put in its place after a stat() would hang the open),
 * then checked on the descriptor itself, so that nothing can be swapped in
 * between.  The descriptor (blocking again) or -1 with err set; *size is
 * the file's size. */
static int open_regular(const char *path, off_t *size, tc_err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        tc_fail(err, TC_E_IO, "%s: is %s, expected a regular file", path, file_kind(&st));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    *size = st.st_size;
    return fd;
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
    off_t size = 0;
    int fd = is_stdin ? -1 : open_regular(path, &size, err);
    if (!is_stdin && fd < 0) return err ? err->status : TC_E_IO;
    /* the cheap check first: a file larger than allowed is not read */
    if (!is_stdin && (uintmax_t)size > max_bytes) {
        close(fd);
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s of at most %zu bytes, the file has %jd", path, what,
                       max_bytes, (intmax_t)size);
    }
    FILE *fp = is_stdin ? stdin : fdopen(fd, "rb");
    if (!fp) {
        tc_status s = tc_fail(err, TC_E_IO, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return s;
    }
    char *buf = NULL;
    size_t len = 0;
    tc_status s = read_stream(fp, path, max_bytes, &buf, &len, err);
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
    off_t size;
    int fd = open_regular(path, &size, err);
    if (fd < 0) return err ? err->status : TC_E_IO;
    gzFile f = gzdopen(fd, "rb");   /* reads plain files too */
    if (!f) {
        close(fd);
        return tc_fail(err, TC_E_IO, "%s: cannot open: out of memory", path);
    }
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

tc_status tc_read_gz_each(const char *path, size_t max_bytes, const char *what,
                         void (*fn)(void *user, const void *buf, size_t n), void *user, size_t *total, tc_err *err)
{
    *total = 0;
    off_t size;
    int fd = open_regular(path, &size, err);
    if (fd < 0) return err ? err->status : TC_E_IO;
    gzFile f = gzdopen(fd, "rb");
    unsigned char *buf = malloc((size_t)1 << 20);
    if (!f || !buf) {
        if (f) gzclose(f);
        else close(fd);
        free(buf);
        return tc_fail(err, TC_E_NOMEM, "%s: out of memory", path);
    }
    int k;
    while ((k = gzread(f, buf, 1u << 20)) > 0 && *total <= max_bytes) {
        *total += (size_t)k;
        if (*total <= max_bytes) fn(user, buf, (size_t)k);
    }
    int zerr = Z_OK;
    const char *zmsg = gzerror(f, &zerr);
    char zbuf[128];
    snprintf(zbuf, sizeof zbuf, "%s", zmsg ? zmsg : "");
    gzclose(f);
    free(buf);
    if (*total > max_bytes)
        return tc_fail(err, TC_E_FORMAT, "%s: expected %s of at most %zu bytes", path, what, max_bytes);
    if (k < 0 || (zerr != Z_OK && zerr != Z_STREAM_END))
        return tc_fail(err, TC_E_FORMAT, "%s: gzip stream damaged: %s", path, zbuf);
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

tc_status tc_check_output(const char *out, const char *const *inputs, size_t n, tc_err *err)
{
    struct stat so, si;
    if (!out || stat(out, &so) != 0) return TC_OK;   /* not there yet: it cannot be an input */
    for (size_t i = 0; i < n; i++)
        if (inputs[i] && strcmp(inputs[i], "-") && stat(inputs[i], &si) == 0 && si.st_dev == so.st_dev &&
            si.st_ino == so.st_ino)
            return tc_fail(err, TC_E_USAGE, "%s: is the same file as the input %s: refusing to overwrite an input",
                           out, inputs[i]);
    return TC_OK;
}
