/* hostprobe.c -- see hostprobe.h.  Times come from CLOCK_MONOTONIC
 * (base/clock.h). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "base/clock.h"
#include "base/host.h"
#include "check/hostprobe.h"

/* ---- read bandwidth ---- */

typedef struct bw_job {
    const uint64_t *p;   /* this thread's slice */
    size_t n;            /* words */
    int streams;         /* the slice is read as this many parts in lockstep */
    uint64_t sum;        /* kept so the reads are not optimized away */
} bw_job;

/* The slice in `streams` equal parts of whole 64-byte lines, read one line
 * from each part in turn (a core keeps more lines in flight over several
 * streams: 13.3 GB/s with one stream, 18.5 with eight on one Zen 3 core
 * of this project's build host), then the rest. */
#define BW_LINE_WORDS 8

#if defined(__x86_64__) || defined(__i386__)
/* 32-byte loads, independent adds: the loop is never the bottleneck */
__attribute__((target("avx2"))) static uint64_t read_avx2(const uint64_t *p, size_t n, int streams)
{
    const size_t part = n / (size_t)streams / BW_LINE_WORDS * BW_LINE_WORDS;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (size_t i = 0; i < part; i += BW_LINE_WORDS)
        for (int s = 0; s < streams; s++) {
            const uint64_t *l = p + (size_t)s * part + i;
            a0 = _mm256_add_epi64(a0, _mm256_load_si256((const __m256i *)l));
            a1 = _mm256_add_epi64(a1, _mm256_load_si256((const __m256i *)(l + 4)));
        }
    uint64_t t[4];
    _mm256_storeu_si256((__m256i *)t, _mm256_add_epi64(a0, a1));
    uint64_t sum = t[0] + t[1] + t[2] + t[3];
    for (size_t i = part * (size_t)streams; i < n; i++) sum += p[i];
    return sum;
}
#endif

static void *bw_thread(void *arg)
{
    bw_job *j = arg;
#if defined(__x86_64__) || defined(__i386__)
    if (tc_cpu_has(TC_CPU_AVX2)) {
        j->sum = read_avx2(j->p, j->n, j->streams);
        return NULL;
    }
#endif
    const size_t part = j->n / (size_t)j->streams / BW_LINE_WORDS * BW_LINE_WORDS;
    uint64_t s0 = 0, s1 = 0;
    for (size_t i = 0; i < part; i += BW_LINE_WORDS)
        for (int s = 0; s < j->streams; s++) {
            const uint64_t *l = j->p + (size_t)s * part + i;
            s0 += l[0] + l[2] + l[4] + l[6];
            s1 += l[1] + l[3] + l[5] + l[7];
        }
    for (size_t i = part * (size_t)j->streams; i < j->n; i++) s0 += j->p[i];
    j->sum = s0 + s1;
    return NULL;
}

enum { BW_MAX_THREADS = 256, BW_PASSES = 5 };

/* One timed pass: n_threads threads over buf[0..words), ns streams each;
 * bytes per second. */
static double bw_pass(const uint64_t *buf, size_t words, int n_threads, int ns, uint64_t *check)
{
    bw_job jobs[BW_MAX_THREADS];
    pthread_t tid[BW_MAX_THREADS];
    for (int t = 0; t < n_threads; t++) {
        /* slices of whole 64-byte lines */
        size_t lo = words / 8 * (size_t)t / (size_t)n_threads * 8, hi = words / 8 * (size_t)(t + 1) / (size_t)n_threads * 8;
        jobs[t] = (bw_job){ buf + lo, hi - lo, ns, 0 };
    }
    const double t0 = tc_now_s();
    int started = 1;
    for (int t = 1; t < n_threads; t++, started++)
        if (pthread_create(&tid[t], NULL, bw_thread, &jobs[t])) break;
    bw_thread(&jobs[0]);
    for (int t = 1; t < started; t++) pthread_join(tid[t], NULL);
    for (int t = started; t < n_threads; t++) bw_thread(&jobs[t]);   /* a thread that could not start */
    const double dt = tc_now_s() - t0;
    for (int t = 0; t < n_threads; t++) *check += jobs[t].sum;
    return dt > 0 ? (double)(words / 8 * 8) * 8.0 / dt : 0.0;
}

tc_status tc_bw_buffer_open(tc_bw_buffer *b, size_t bytes, tc_err *err)
{
    if (bytes < ((size_t)1 << 20)) bytes = (size_t)1 << 20;
    b->words = bytes / 8;
    b->p = tc_alloc_streamed(b->words * 8);   /* as the engines' weights: huge pages where offered */
    if (!b->p) return tc_fail(err, TC_E_NOMEM, "bench: out of memory for a %zu-byte bandwidth buffer", bytes);
    for (size_t i = 0; i < b->words; i++) b->p[i] = i;   /* fault every page in before timing */
    return TC_OK;
}

void tc_bw_buffer_close(tc_bw_buffer *b)
{
    free(b->p);
    b->p = NULL;
}

static tc_status check_threads(int n_threads, tc_err *err)
{
    if (n_threads < 1 || n_threads > BW_MAX_THREADS)
        return tc_fail(err, TC_E_USAGE, "bench: %d bandwidth threads: expected 1..%d", n_threads, BW_MAX_THREADS);
    return TC_OK;
}

tc_status tc_probe_bandwidth_in(const tc_bw_buffer *b, int n_threads, int streams, double *gbps, int *best_streams,
                                double *huge, tc_err *err)
{
    static const int stream_counts[] = { 1, 2, 4, 8 };
    tc_status st = check_threads(n_threads, err);
    if (st) return st;
    const size_t words = b->words, bytes = words * 8;
    /* rounds: BW_PASSES over 256 MiB or less, fewer over more (at least
     * two), so that a probe reads about the same bytes at any size */
    const size_t per_round = (size_t)BW_PASSES << 28;
    const int rounds = bytes <= ((size_t)256 << 20) ? BW_PASSES : bytes >= per_round / 2 ? 2 : (int)(per_round / bytes);
    const int n_counts = streams ? 1 : 4;
    double best = 0.0;
    int best_n = streams ? streams : 1;
    uint64_t check = 0;
    for (int pass = 0; pass < rounds * n_counts; pass++) {   /* each stream count in turn */
        const int ns = streams ? streams : stream_counts[pass % 4];
        const double rate = bw_pass(b->p, words, n_threads, ns, &check);
        if (rate > best) {
            best = rate;
            best_n = ns;
        }
    }
    if (huge) *huge = (double)tc_huge_bytes(b->p, bytes) / (double)bytes;
    *gbps = best / 1e9;
    if (best_streams) *best_streams = best_n;
    (void)check;
    return TC_OK;
}

tc_status tc_probe_bandwidth(size_t bytes, int n_threads, int streams, double *gbps, int *best_streams,
                             double *huge, tc_err *err)
{
    tc_status st = check_threads(n_threads, err);   /* before the buffer is made */
    if (st) return st;
    tc_bw_buffer b;
    st = tc_bw_buffer_open(&b, bytes, err);
    if (!st) st = tc_probe_bandwidth_in(&b, n_threads, streams, gbps, best_streams, huge, err);
    tc_bw_buffer_close(&b);
    return st;
}

/* ---- clock and integer peak ---- */

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
/* n iterations of four dependent 64-bit multiplies (x = x * m): no CPU
 * executes a multiply at rename, as recent Intel cores do a dependent
 * `add $1` (which made the old add chain report 9 to 13 GHz), and imul
 * r64, r64 has a latency of 3 cycles on every x86 core of the last
 * fifteen years (Intel since Nehalem, AMD since Zen). */
static void imul_chain(uint64_t n)
{
    uint64_t x = 3, m = 0x9e3779b97f4a7c15ull;
    __asm__ volatile("1:\n\timul %2, %1\n\timul %2, %1\n\timul %2, %1\n\timul %2, %1\n\tdec %0\n\tjnz 1b"
                     : "+r"(n), "+r"(x) : "r"(m));
}
#define IMUL_LATENCY 3.0
#endif

#if defined(__linux__)
#include <linux/perf_event.h>
#include <sys/syscall.h>

/* Cycles this thread spends in user mode, from the kernel's cycle counter
 * (perf_event_open); -1 where the kernel or the hypervisor gives none. */
static int cycles_open(void)
{
    struct perf_event_attr pa;
    memset(&pa, 0, sizeof pa);
    pa.type = PERF_TYPE_HARDWARE;
    pa.size = sizeof pa;
    pa.config = PERF_COUNT_HW_CPU_CYCLES;
    pa.exclude_kernel = 1;
    pa.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &pa, 0, -1, -1, 0);
}
#endif

void tc_probe_clock(tc_clock *c)
{
    *c = (tc_clock){ .ghz = 0.0, .method = "none", .cpuinfo_ghz = tc_proc_number("/proc/cpuinfo", "cpu MHz") / 1000.0 };
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    /* best of three runs of ~50 ms: the cycle counter where the kernel
     * lets us read it, else the multiply chain's known latency */
    const uint64_t n = 4000000;
#if defined(__linux__)
    int fd = cycles_open();
    for (int run = 0; fd >= 0 && run < 3; run++) {
        uint64_t c0 = 0, c1 = 0;
        const double t0 = tc_now_s();
        ssize_t r0 = read(fd, &c0, sizeof c0);
        imul_chain(n);
        ssize_t r1 = read(fd, &c1, sizeof c1);
        const double dt = tc_now_s() - t0;
        if (r0 != (ssize_t)sizeof c0 || r1 != (ssize_t)sizeof c1 || c1 <= c0 || dt <= 0) break;
        const double ghz = (double)(c1 - c0) / dt / 1e9;
        if (ghz > c->ghz) {
            c->ghz = ghz;
            c->method = "cycle counter (perf_event_open)";
        }
    }
    if (fd >= 0) close(fd);
#endif
    if (c->ghz <= 0.0) {
        for (int run = 0; run < 3; run++) {
            const double t0 = tc_now_s();
            imul_chain(n);
            const double dt = tc_now_s() - t0;
            const double ghz = dt > 0 ? 4.0 * IMUL_LATENCY * (double)n / dt / 1e9 : 0.0;
            if (ghz > c->ghz) {
                c->ghz = ghz;
                c->method = "dependent imul chain (3 cycles each)";
            }
        }
    }
#endif
    if (c->ghz <= 0.0 && c->cpuinfo_ghz > 0.0) {
        c->ghz = c->cpuinfo_ghz;
        c->method = "/proc/cpuinfo";
    }
    /* the two should agree within turbo's reach: say so when they do not */
    c->agrees = c->cpuinfo_ghz <= 0.0 || (c->ghz < 1.5 * c->cpuinfo_ghz && c->ghz > 0.5 * c->cpuinfo_ghz);
}

double tc_probe_ghz(void)
{
    tc_clock c;
    tc_probe_clock(&c);
    return c.ghz;
}

/* AMX: one 16x16x64 TDPBSUD per 16 cycles (1024 MACs per cycle);
 * AVX-512 VNNI: two 512-bit vpdpbusd per cycle (64 MACs each);
 * AVX2: two 256-bit vpmaddubsw per cycle (32 MACs each). */
int tc_probe_int8_macs(const char *isa, const char **unit)
{
    /* the units each ISA's kernels may use, best first */
    const int any = !isa, avx512 = any || !strcmp(isa, "avx512") || !strcmp(isa, "amx"),
              avx2 = avx512 || !strcmp(isa, "avx2");
    if ((any || !strcmp(isa, "amx")) && tc_cpu_has(TC_CPU_AMX_INT8)) {
        *unit = "amx-int8";
        return 1024;
    }
    if (avx512 && tc_cpu_has(TC_CPU_AVX512VNNI)) {
        *unit = "avx512vnni";
        return 128;
    }
    if (avx2 && tc_cpu_has(TC_CPU_AVX2)) {
        *unit = "avx2";
        return 64;
    }
    *unit = "scalar";
    return 1;
}

size_t tc_probe_bandwidth_bytes(void)
{
    const size_t llc2 = 2 * (size_t)tc_probe_llc_bytes(), least = (size_t)256 << 20;
    return llc2 > least ? (llc2 + ((size_t)1 << 20) - 1) >> 20 << 20 : least;
}

long tc_probe_llc_bytes(void)
{
    long b = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
    b = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (b <= 0) b = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
    return b > 0 ? b : 0;
}

/* ---- memory ---- */

double tc_probe_peak_rss(void) { return tc_proc_number("/proc/self/status", "VmHWM") * 1024.0; }

bool tc_probe_reset_peak_rss(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    const bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}
