/* pool.c -- see pool.h.  One generation counter announces work; workers
 * spin on it for a while (a token's kernels follow each other within
 * microseconds) and then sleep on a condition variable, so an idle engine
 * costs no CPU.  `done` counts the workers that finished the generation. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#include "fast/cpu/pool.h"

/* Waiting: SPIN_ROUNDS pauses (~30 us on Zen 3: a token's kernels follow
 * each other faster), then yields (another runnable thread -- maybe the
 * one we wait for, on an oversubscribed machine -- gets the core), and a
 * worker goes to sleep after YIELD_ROUNDS yields. */
enum { SPIN_ROUNDS = 1 << 10, YIELD_ROUNDS = 64 };

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
    if (!p->tid) {
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
    free(p);
}
