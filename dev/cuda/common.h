/* common.h -- shared helpers of the dev/cuda kernel laboratory (llm.c
 * style): checked CUDA calls, a validator with tol + |ref|*eps, and an
 * event-timed benchmark that reports the median.  Lab programs are
 * programs, not library code: they may exit on a failed CUDA call. */
#ifndef TC_DEV_CUDA_COMMON_H
#define TC_DEV_CUDA_COMMON_H

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <vector>

extern "C" {
#include "fast/cuda/cuda_kernels.h"
#include "engine/q8.h"
#include "ref/ref_kernels.h"
#include "format/types.h"
}

#define cuda_check(call)                                                                         \
    do {                                                                                         \
        cudaError_t e_ = (call);                                                                 \
        if (e_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* expr is a tc_cuda_* call writing its error into lab_err */
static tc_err lab_err;
#define tc_check(expr)                                                            \
    do {                                                                          \
        if ((expr) != TC_OK) {                                                    \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #expr, lab_err.msg); \
            exit(1);                                                              \
        }                                                                         \
    } while (0)

/* Exit 77 (skipped) where there is no GPU: the lab builds everywhere. */
static void require_gpu(const char *prog)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
        fprintf(stderr, "%s: no CUDA GPU here: skipped\n", prog);
        exit(77);
    }
    cudaDeviceProp p;
    cuda_check(cudaGetDeviceProperties(&p, 0));
    printf("# %s on %s (cc %d.%d, %d SMs, L2 %d MB)\n", prog, p.name, p.major, p.minor, p.multiProcessorCount,
           p.l2CacheSize >> 20);
}

/* Count |got - ref| > tol + |ref| * eps (NaN never passes); print the first
 * few.  Returns the number of mismatches. */
static size_t validate(const char *what, const float *got, const float *ref, size_t n, double tol, double eps)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= tol + fabs((double)ref[i]) * eps)) {
            if (bad < 5) fprintf(stderr, "  %s[%zu]: %.9g vs ref %.9g\n", what, i, (double)got[i], (double)ref[i]);
            bad++;
        }
    }
    printf("%-34s %s (%zu/%zu mismatches)\n", what, bad ? "FAIL" : "ok", bad, n);
    return bad;
}

static size_t validate_exact(const char *what, const void *got, const void *ref, size_t n, size_t elem)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp((const char *)got + i * elem, (const char *)ref + i * elem, elem)) bad++;
    printf("%-34s %s (%zu/%zu differ)\n", what, bad ? "FAIL" : "ok", bad, n);
    return bad;
}

/* Median time in ms of fn(iteration) over reps runs after warmup runs,
 * each timed with events on the default stream. */
template <typename F> static double bench_ms(F fn, int warmup = 5, int reps = 50)
{
    cudaEvent_t a, b;
    cuda_check(cudaEventCreate(&a));
    cuda_check(cudaEventCreate(&b));
    for (int i = 0; i < warmup; i++) fn(i);
    cuda_check(cudaDeviceSynchronize());
    std::vector<float> ms(reps);
    for (int i = 0; i < reps; i++) {
        cuda_check(cudaEventRecord(a));
        fn(i);
        cuda_check(cudaEventRecord(b));
        cuda_check(cudaEventSynchronize(b));
        cuda_check(cudaEventElapsedTime(&ms[i], a, b));
    }
    cuda_check(cudaGetLastError());
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(ms.begin(), ms.end());
    return ms[reps / 2];
}

/* A small xorshift for lab inputs (the Check tests use GSL). */
static unsigned long long lab_rng = 0x2385238523852385ull;
static unsigned lab_u32(void)
{
    lab_rng ^= lab_rng << 13, lab_rng ^= lab_rng >> 7, lab_rng ^= lab_rng << 17;
    return (unsigned)(lab_rng >> 32);
}
static float lab_gauss(void)   /* roughly N(0,1): sum of 4 uniforms, centred */
{
    float s = 0;
    for (int i = 0; i < 4; i++) s += (float)lab_u32() / 4294967296.0f;
    return (s - 2.0f) * 1.7320508f;
}

template <typename T> static T *to_device(const T *h, size_t n)
{
    T *d;
    cuda_check(cudaMalloc(&d, n * sizeof(T)));
    cuda_check(cudaMemcpy(d, h, n * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}

#endif
