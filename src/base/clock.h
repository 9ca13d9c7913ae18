/* clock.h -- time: a monotonic clock for durations, and the UTC time of
 * day for receipts. */
#ifndef TC_BASE_CLOCK_H
#define TC_BASE_CLOCK_H

#include <stddef.h>

/* Seconds on CLOCK_MONOTONIC (only differences mean anything). */
double tc_now_s(void);

/* The current UTC time as "2026-12-07T06:49:05Z" into buf (n >= 21). */
void tc_utc_timestamp(char *buf, size_t n);

#endif
