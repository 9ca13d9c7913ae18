/* stats.h -- the summary statistics of repeated measurements (GSL). */
#ifndef TC_BASE_STATS_H
#define TC_BASE_STATS_H

#include <stddef.h>

/* Median, minimum and maximum of a sample. */
typedef struct tc_stat {
    double median, min, max;
} tc_stat;

/* The statistics of v[0..n) (n >= 1); sorts v in place. */
tc_stat tc_stat_of(double *v, size_t n);

/* The median of v[0..n) (n >= 1); sorts v in place. */
double tc_median(double *v, size_t n);

#endif
