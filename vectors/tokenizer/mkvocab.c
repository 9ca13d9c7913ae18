/* mkvocab.c -- write a vocabulary-only Llama 3 GGUF (metadata, no tensors)
 * from tokens.txt and merges.txt as make-fixture.mjs writes them.
 *
 *   cc -std=c11 -I../../src -I../.. mkvocab.c ../../src/libtritcheck.a -o mkvocab
 *   ./mkvocab tokens.txt merges.txt llama3-vocab.gguf
 *
 * The settings are those of BitNet b1.58 2B4T's file (SPEC 1.3): model gpt2,
 * pre llama-bpe, BOS 128000, EOS 128001, add_bos_token true; ids from
 * 128000 on are CONTROL (type 3), the rest NORMAL (1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

/* The lines of a file (newline-terminated), as NUL-terminated strings. */
static char **read_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1024, k = 0, len = 0;
    char **lines = malloc(cap * sizeof *lines), *line = NULL;
    ssize_t got;
    while (lines && (got = getline(&line, &len, f)) > 0) {
        if (line[got - 1] == '\n') line[got - 1] = 0;
        if (k == cap && !(lines = realloc(lines, (cap *= 2) * sizeof *lines))) break;
        if (!(lines[k++] = strdup(line))) { lines = NULL; break; }
    }
    free(line);
    fclose(f);
    *n = k;
    return lines;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: mkvocab tokens.txt merges.txt out.gguf\n");
        return 2;
    }
    size_t nt, nm;
    char **tokens = read_lines(argv[1], &nt), **merges = read_lines(argv[2], &nm);
    if (!tokens || !merges || nt != 128256) {
        fprintf(stderr, "mkvocab: cannot read %s / %s (or not 128256 tokens)\n", argv[1], argv[2]);
        return 1;
    }
    int32_t *type = malloc(nt * sizeof *type);
    for (size_t i = 0; i < nt; i++) type[i] = i >= 128000 ? 3 : 1;
    tc_err err = { 0 };
    tc_gguf_writer *w = tc_gguf_writer_new(3, 0);
    tc_status s;
    if ((s = tc_gguf_writer_set_str(w, "general.architecture", "llama", &err)) ||
        (s = tc_gguf_writer_set_str(w, "general.name", "llama3-tokenizer-js 1.2.0 vocabulary", &err)) ||
        (s = tc_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", &err)) ||
        (s = tc_gguf_writer_set_str(w, "tokenizer.ggml.pre", "llama-bpe", &err)) ||
        (s = tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.tokens", nt, (const char *const *)tokens, &err)) ||
        (s = tc_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", TC_GGUF_I32, nt, type, &err)) ||
        (s = tc_gguf_writer_set_arr_str(w, "tokenizer.ggml.merges", nm, (const char *const *)merges, &err)) ||
        (s = tc_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 128000, &err)) ||
        (s = tc_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 128001, &err)) ||
        (s = tc_gguf_writer_set_bool(w, "tokenizer.ggml.add_bos_token", true, &err)) ||
        (s = tc_gguf_writer_begin(w, argv[3], &err)) || (s = tc_gguf_writer_finish(w, &err))) {
        fprintf(stderr, "mkvocab: %s\n", err.msg);
        return 1;
    }
    tc_gguf_writer_free(w);
    printf("%s: %zu tokens, %zu merges\n", argv[3], nt, nm);
    return 0;
}
