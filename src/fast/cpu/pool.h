/* pool.h -- the fast engine's thread pool: n-1 pthreads created at open,
 * plus the caller.  tc_pool_run hands one function to every thread and
 * returns when all have finished it.  The handoff spins briefly on an
 * atomic generation counter and then sleeps on a condition variable; no
 * allocation, no lock on the fast path. */
#ifndef TC_FAST_CPU_POOL_H
#define TC_FAST_CPU_POOL_H

/* fn(arg, tid, n_threads) runs once on each thread tid = 0 .. n_threads-1
 * (tid 0 is the caller). */
typedef void (*tc_pool_fn)(void *arg, int tid, int n_threads);

typedef struct tc_pool tc_pool;

/* A pool of n_threads (>= 1) threads in all; NULL when a thread or the
 * memory cannot be had. */
tc_pool *tc_pool_new(int n_threads);

/* Run fn on every thread and wait for all of them.  Not reentrant. */
void tc_pool_run(tc_pool *p, tc_pool_fn fn, void *arg);

int tc_pool_threads(const tc_pool *p);

/* Stop and join the workers; NULL is a no-op. */
void tc_pool_free(tc_pool *p);

#endif
