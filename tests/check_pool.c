/* check_pool.c -- the fast engine's thread pool (src/fast/cpu/pool.c):
 * every thread runs a job once per call, also after the workers slept;
 * claim and take hand out every chunk exactly once, and a thread that
 * finishes its own range steals the others' from the back. */
#include <check.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fast/cpu/pool.h"
#include "testutil.h"

/* ---- core: the pool ---- */

typedef struct pool_probe {
    int hits[8];
    int n_threads_seen;
} pool_probe;

static void probe_fn(void *arg, int tid, int nt)
{
    pool_probe *p = arg;
    p->hits[tid]++;
    if (tid == 0) p->n_threads_seen = nt;
}

START_TEST(pool_runs_each_thread_once)
{
    for (int nt = 1; nt <= 4; nt++) {
        tc_pool *p = tc_pool_new(nt);
        ck_assert_ptr_nonnull(p);
        pool_probe pr = { { 0 }, 0 };
        for (int k = 0; k < 1000; k++) tc_pool_run(p, probe_fn, &pr);
        usleep(1000);
        for (int k = 0; k < 10; k++) tc_pool_run(p, probe_fn, &pr);   /* after the workers slept */
        for (int t = 0; t < nt; t++) ck_assert_int_eq(pr.hits[t], 1010);
        ck_assert_int_eq(pr.n_threads_seen, nt);
        tc_pool_free(p);
    }
    ck_assert_ptr_null(tc_pool_new(0));
    tc_pool_free(NULL);
}
END_TEST

/* tc_pool_claim and tc_pool_take hand out every chunk exactly once; with
 * thread 0 held back, the others take (steal) its chunks from the back */
typedef struct take_probe {
    tc_pool *p;
    size_t n;
    _Atomic int *count;   /* [n] times each chunk was handed out */
    int by[8];            /* chunks each thread took */
    size_t first_stolen;  /* the first chunk of thread 0's range that another thread took, or SIZE_MAX */
    bool use_take, slow0;
} take_probe;

static void take_fn(void *arg, int tid, int nt)
{
    take_probe *t = arg;
    if (t->slow0 && tid == 0) usleep(20000);
    for (size_t c; (c = t->use_take ? tc_pool_take(t->p, tid) : tc_pool_claim(t->p)) < t->n;) {
        atomic_fetch_add(&t->count[c], 1);
        t->by[tid]++;
        if (t->use_take && tid != 0 && c < t->n / (size_t)nt && t->first_stolen == SIZE_MAX)
            t->first_stolen = c;   /* only thread 1 steals from 0 in the 2-thread run checked below */
    }
}

START_TEST(pool_hands_out_every_chunk_once)
{
    static const size_t ns[] = { 0, 1, 3, 1000 };
    for (int nt = 1; nt <= 4; nt++)
        for (size_t i = 0; i < 4; i++)
            for (int use_take = 0; use_take <= 1; use_take++) {
                tc_pool *p = tc_pool_new(nt);
                ck_assert_ptr_nonnull(p);
                take_probe t = { .p = p, .n = ns[i], .count = calloc(ns[i] + 1, sizeof(_Atomic int)),
                                 .first_stolen = SIZE_MAX, .use_take = use_take, .slow0 = nt == 2 && ns[i] == 1000 };
                ck_assert_ptr_nonnull(t.count);
                for (int rep = 0; rep < 2; rep++) {   /* a second run starts afresh */
                    for (size_t c = 0; c < ns[i]; c++) atomic_store(&t.count[c], 0);
                    if (use_take) tc_pool_run_split(p, take_fn, &t, ns[i]);
                    else tc_pool_run(p, take_fn, &t);
                    for (size_t c = 0; c < ns[i]; c++)
                        ck_assert_msg(atomic_load(&t.count[c]) == 1, "%s, %d threads, %zu chunks: chunk %zu handed out %d times",
                                      use_take ? "take" : "claim", nt, ns[i], c, atomic_load(&t.count[c]));
                }
                if (t.slow0 && use_take) {
                    /* thread 1 finished its half long before thread 0 woke: it took thread 0's
                     * chunks from the back, the last one first */
                    ck_assert_uint_eq(t.first_stolen, ns[i] / 2 - 1);
                    ck_assert_int_gt(t.by[1], (int)ns[i]);   /* two runs: more than its own 2 x 500 */
                }
                free(t.count);
                tc_pool_free(p);
            }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pool");
    TCase *core = tcase_create("core");
    tcase_add_test(core, pool_runs_each_thread_once);
    tcase_add_test(core, pool_hands_out_every_chunk_once);
    suite_add_tcase(s, core);
    return tu_run(s);
}
