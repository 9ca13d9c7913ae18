/* pool.h -- the fast engine's thread pool: n-1 pthreads created at open,
 * plus the caller.  tc_pool_run hands one function to every thread and
 * returns when all have finished it.  The handoff spins briefly on an
 * atomic generation counter and then sleeps on a condition variable; no
 * allocation, no lock on the fast path. */
#ifndef TC_FAST_CPU_POOL_H
#define TC_FAST_CPU_POOL_H

#include <stddef.h>

/* fn(arg, tid, n_threads) runs once on each thread tid = 0 .. n_threads-1
 * (tid 0 is the caller). */
typedef void (*tc_pool_fn)(void *arg, int tid, int n_threads);

typedef struct tc_pool tc_pool;

/* A pool of n_threads (>= 1) threads in all; NULL when a thread or the
 * memory cannot be had. */
tc_pool *tc_pool_new(int n_threads);

/* Run fn on every thread and wait for all of them.  Not reentrant. */
void tc_pool_run(tc_pool *p, tc_pool_fn fn, void *arg);

/* Work sharing inside one tc_pool_run: each call, from any thread, returns
 * the next of 0, 1, 2, ... (every index once per run).  A job that cuts
 * its work into chunks and loops while tc_pool_claim(p) < n_chunks keeps
 * both cores busy when one of them runs slower (a neighbour on the host,
 * causal attention's growing rows).  The results stay bit-identical as
 * long as a chunk's arithmetic depends only on which chunk it is. */
size_t tc_pool_claim(tc_pool *p);

/* Static ranges with stealing: tc_pool_run_split gives thread t the chunks
 * [n t / T, n (t+1) / T) and runs fn; inside, tc_pool_take(p, tid) returns
 * the thread's next own chunk, front to back (so each thread streams its
 * part of memory in order), and when those are gone a chunk from the back
 * of another thread's range; SIZE_MAX when no chunk is left.  Every chunk
 * is taken once.  n_chunks < 2^32. */
void tc_pool_run_split(tc_pool *p, tc_pool_fn fn, void *arg, size_t n_chunks);
size_t tc_pool_take(tc_pool *p, int tid);

int tc_pool_threads(const tc_pool *p);

/* Stop and join the workers; NULL is a no-op. */
void tc_pool_free(tc_pool *p);

#endif
