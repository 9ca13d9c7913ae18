/* pool.c -- see pool.h.  One generation counter announces work; workers
 * spin on it for a while (a token's kernels follow each other within
 * microseconds) and then sleep on a condition variable, so an idle engine
 * costs no CPU.  `done` counts the workers that finished the generation. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#include "fast/cpu/pool.h"

/* Waiting: SPIN_ROUNDS pauses (~30 us on Zen 3, ~12 us on a Xeon whose
 * pause takes ~12 ns: a token's kernels mostly follow each other faster;
 * spinning 100 us by the clock measured no better, doc/perf.md v14), then
 * yields (another runnable thread -- maybe the one we wait for, on an
 * oversubscribed machine -- gets the core), and a worker goes to sleep
 * after YIELD_ROUNDS yields. */
enum { SPIN_ROUNDS = 1 << 10, YIELD_ROUNDS = 64 };

/* one thread's remaining chunks [front, back) as front << 32 | back, on a
 * line of its own */
typedef struct range_slot {
    _Alignas(64) atomic_uint_least64_t fb;
} range_slot;

struct tc_pool {
    int n_threads;
    pthread_t *tid;               /* [n_threads - 1] workers */
    int started;                  /* workers created */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;              /* bumped once per tc_pool_run */
    atomic_int sleepers;          /* workers waiting on cv */
    atomic_int done;              /* workers finished with the current gen */
    atomic_int stop;
    atomic_size_t next;           /* tc_pool_claim's counter, reset per run */
    range_slot *ranges;           /* [n_threads] tc_pool_take's ranges */
    tc_pool_fn fn;                /* the current work, valid while gen is current */
    void *arg;
};

typedef struct worker_arg {
    tc_pool *p;
    int tid;
} worker_arg;

/* wait until gen moves past `seen`; returns the new gen */
static unsigned wait_gen(tc_pool *p, unsigned seen)
{
    for (int i = 0; i < SPIN_ROUNDS + YIELD_ROUNDS; i++) {
        unsigned g = atomic_load(&p->gen);
        if (g != seen) return g;
        if (i < SPIN_ROUNDS) CPU_RELAX();
        else sched_yield();
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&p->gen)) == seen) pthread_cond_wait(&p->cv, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *worker(void *v)
{
    worker_arg *wa = v;
    tc_pool *p = wa->p;
    const int tid = wa->tid;
    free(wa);
    unsigned seen = 0;
    for (;;) {
        seen = wait_gen(p, seen);
        if (atomic_load(&p->stop)) return NULL;
        p->fn(p->arg, tid, p->n_threads);
        atomic_fetch_add(&p->done, 1);
    }
}

/* publish a new generation and wake the sleepers */
static void bump(tc_pool *p)
{
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

tc_pool *tc_pool_new(int n_threads)
{
    if (n_threads < 1) return NULL;
    tc_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->tid = calloc((size_t)n_threads, sizeof *p->tid);
    p->ranges = aligned_alloc(64, (size_t)n_threads * sizeof *p->ranges);
    if (!p->tid || !p->ranges) {
        tc_pool_free(p);
        return NULL;
    }
    for (int t = 1; t < n_threads; t++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break;
        *wa = (worker_arg){ p, t };
        if (pthread_create(&p->tid[t - 1], NULL, worker, wa)) {
            free(wa);
            break;
        }
        p->started++;
    }
    if (p->started != n_threads - 1) {
        tc_pool_free(p);
        return NULL;
    }
    return p;
}

int tc_pool_threads(const tc_pool *p) { return p->n_threads; }

void tc_pool_run(tc_pool *p, tc_pool_fn fn, void *arg)
{
    atomic_store(&p->next, 0);
    if (p->n_threads == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->done, 0);
    bump(p);   /* seq_cst: fn/arg/done are visible before the new gen */
    fn(arg, 0, p->n_threads);
    for (int i = 0; atomic_load(&p->done) != p->n_threads - 1; i++) {
        if (i < SPIN_ROUNDS) CPU_RELAX();
        else sched_yield();
    }
}

size_t tc_pool_claim(tc_pool *p) { return atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed); }

void tc_pool_run_split(tc_pool *p, tc_pool_fn fn, void *arg, size_t n_chunks)
{
    const size_t nt = (size_t)p->n_threads;
    for (size_t t = 0; t < nt; t++) {
        const uint64_t lo = n_chunks * t / nt, hi = n_chunks * (t + 1) / nt;
        atomic_store(&p->ranges[t].fb, lo << 32 | hi);
    }
    tc_pool_run(p, fn, arg);   /* its seq_cst generation bump publishes the ranges */
}

size_t tc_pool_take(tc_pool *p, int tid)
{
    for (int k = 0; k < p->n_threads; k++) {
        range_slot *r = &p->ranges[(tid + k) % p->n_threads];
        uint64_t v = atomic_load_explicit(&r->fb, memory_order_relaxed);
        for (;;) {
            const uint64_t f = v >> 32, b = v & 0xffffffffu;
            if (f >= b) break;
            /* own range: from the front; another's: from the back */
            const uint64_t nv = k == 0 ? (f + 1) << 32 | b : f << 32 | (b - 1);
            if (atomic_compare_exchange_weak_explicit(&r->fb, &v, nv, memory_order_relaxed, memory_order_relaxed))
                return (size_t)(k == 0 ? f : b - 1);
        }
    }
    return SIZE_MAX;
}

void tc_pool_free(tc_pool *p)
{
    if (!p) return;
    if (p->started) {
        atomic_store(&p->stop, 1);
        bump(p);
        for (int t = 0; t < p->started; t++) pthread_join(p->tid[t], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->tid);
    free(p->ranges);
    free(p);
}
