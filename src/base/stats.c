/* stats.c -- see stats.h: GSL's sort and sorted-data statistics. */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "base/stats.h"

tc_stat tc_stat_of(double *v, size_t n)
{
    gsl_sort(v, 1, n);
    return (tc_stat){ gsl_stats_median_from_sorted_data(v, 1, n), v[0], v[n - 1] };
}

double tc_median(double *v, size_t n)
{
    return tc_stat_of(v, n).median;
}
