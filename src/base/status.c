/* status.c -- status names and error recording. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/status.h"

const char *tc_strerror(tc_status s)
{
    switch (s) {
    case TC_OK: return "success";
    case TC_E_IO: return "I/O error";
    case TC_E_FORMAT: return "format error";
    case TC_E_MODEL: return "model error";
    case TC_E_NOMEM: return "out of memory";
    case TC_E_USAGE: return "usage error";
    case TC_E_RANGE: return "value out of range";
    case TC_E_UNSUPPORTED: return "unsupported";
    case TC_E_DEVICE: return "device error";
    }
    return "unknown status";
}

tc_status tc_fail(tc_err *err, tc_status s, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = s;
    }
    return s;
}

void tc_err_clear(tc_err *err)
{
    if (err) {
        err->status = TC_OK;
        err->msg[0] = '\0';
    }
}

int tc_exit_code(tc_status s)
{
    return s == TC_OK ? 0 : 2;
}

tc_status tc_err_prefix(tc_err *err, const char *prefix)
{
    if (!err) return TC_OK;
    size_t n = strlen(prefix);
    if (!strncmp(err->msg, prefix, n) && err->msg[n] == ':') return err->status;
    char msg[sizeof err->msg];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return tc_fail(err, err->status, "%s: %s", prefix, msg);
}
