/* bench_tokenizer.c -- encode and decode throughput on one core (a
 * benchmark, not a test: it asserts no time).
 *
 *   make tests/bench_tokenizer
 *   tests/bench_tokenizer VOCAB.gguf TEXT... [--repeat N]
 *
 * Each TEXT file is encoded whole (no BOS, specials not parsed) N times
 * (default 5); the best run's MB/s (10^6 bytes of text per second) is
 * reported, with tokens per byte and the decode speed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/gguf.h"
#include "format/tokenizer.h"
#include "testutil.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int repeat = 5, n_files = 0;
    const char *files[64];
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = atoi(argv[++i]);
        else if (n_files < 64) files[n_files++] = argv[i];
    }
    if (argc < 3 || repeat < 1 || !n_files) {
        fprintf(stderr, "usage: bench_tokenizer VOCAB.gguf TEXT... [--repeat N]\n");
        return 2;
    }
    tc_err err;
    tc_gguf *g;
    tc_tokenizer *t;
    double t0 = now_s();
    if (tc_gguf_open(argv[1], &g, &err) || tc_tokenizer_load(g, &t, &err)) {
        fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
        return 2;
    }
    printf("load: %.3f s (%u tokens, %zu merges)\n", now_s() - t0, tc_tokenizer_n_vocab(t), tc_tokenizer_n_merges(t));
    for (int f = 0; f < n_files; f++) {
        size_t len;
        char *text = (char *)tu_read_gz(files[f], &len);
        if (!text) {
            fprintf(stderr, "bench_tokenizer: cannot read %s\n", files[f]);
            return 2;
        }
        double best_enc = 1e30, best_dec = 1e30;
        size_t n = 0;
        for (int r = 0; r < repeat; r++) {
            int32_t *ids;
            char *back;
            size_t back_len;
            double a = now_s();
            if (tc_tokenizer_encode(t, text, len, 0, &ids, &n, &err)) {
                fprintf(stderr, "bench_tokenizer: %s\n", err.msg);
                return 2;
            }
            double b = now_s();
            if (tc_tokenizer_decode(t, ids, n, 0, &back, &back_len, &err) || back_len != len ||
                memcmp(back, text, len)) {
                fprintf(stderr, "bench_tokenizer: %s does not round-trip\n", files[f]);
                return 1;
            }
            double c = now_s();
            best_enc = b - a < best_enc ? b - a : best_enc;
            best_dec = c - b < best_dec ? c - b : best_dec;
            free(ids);
            free(back);
        }
        printf("%s: %zu bytes -> %zu tokens (%.3f tokens/byte); encode %.2f MB/s, decode %.0f MB/s (best of %d)\n",
               files[f], len, n, (double)n / (double)len, (double)len / best_enc / 1e6,
               (double)len / best_dec / 1e6, repeat);
        free(text);
    }
    tc_tokenizer_free(t);
    tc_gguf_close(g);
    return 0;
}
