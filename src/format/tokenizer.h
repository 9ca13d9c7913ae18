/* tokenizer.h -- text <-> token ids from a GGUF file's tokenizer metadata.
 *
 * Two vocabulary kinds (tokenizer.ggml.model):
 *   gpt2   byte-level BPE (Llama 3): the text is split by the pre-tokenizer
 *          regular expression of tokenizer.ggml.pre (llama-bpe: Llama 3's;
 *          default/gpt2: GPT-2's), run by PCRE2 in UTF mode with Unicode
 *          properties; each piece's bytes are merged by tokenizer.ggml.merges
 *          in rank order.  With llama-bpe a piece that is itself a token is
 *          taken whole (Llama 3's ignore_merges).  The vocabulary `gen`
 *          writes (256 byte tokens, no merges) is the degenerate case.
 *   llama  SentencePiece-style: UTF-8 characters merged by score, with
 *          <0xNN> byte fallback.  "▁" stands for a space.  A vocabulary with
 *          no token containing "▁" (bitnet.cpp's tiny test model) therefore
 *          encodes a space as <0x20>, where llama.cpp would spend the three
 *          bytes of "▁"; on real SentencePiece vocabularies the two agree.
 *
 * Special tokens (token_type CONTROL or USER_DEFINED) are recognised in the
 * text only when asked (TC_TOK_PARSE_SPECIAL); otherwise "<|eot_id|>" is
 * plain text.  A loaded tokenizer is immutable: encode and decode may run
 * from several threads at once.
 */
#ifndef TC_TOKENIZER_H
#define TC_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "format/gguf.h"
#include "base/sha256.h"
#include "base/status.h"

typedef struct tc_tokenizer tc_tokenizer;

/* Encode flags. */
#define TC_TOK_PARSE_SPECIAL 1u  /* special tokens written in the text become their ids */
#define TC_TOK_ADD_BOS 2u        /* BOS first (EOS last) when add_bos_token (add_eos_token)
                                    says so; add_bos_token defaults to true, add_eos_token
                                    to false */

/* Decode flags. */
#define TC_DETOK_SKIP_SPECIAL 1u /* leave out CONTROL and UNKNOWN tokens (BOS, EOS, <unk>) */
#define TC_DETOK_VALID_UTF8 2u   /* replace each invalid UTF-8 sequence by U+FFFD */

/* Build a tokenizer from g's metadata (g may hold no tensors: a
 * vocabulary-only file is enough).  The tokenizer copies what it needs and
 * does not borrow from g.  Returns TC_OK; TC_E_MODEL for malformed or
 * missing metadata (no tokens, no merges for gpt2, a merge naming an
 * unknown token, token_type or scores of the wrong length, BOS/EOS outside
 * the vocabulary, a byte with no token), naming the file and key;
 * TC_E_UNSUPPORTED for an unknown tokenizer.ggml.model or .pre;
 * TC_E_NOMEM. */
tc_status tc_tokenizer_load(const tc_gguf *g, tc_tokenizer **out, tc_err *err);

/* Free; NULL is a no-op. */
void tc_tokenizer_free(tc_tokenizer *t);

/* text[0..len) as token ids (malloc'd *ids of *n; never NULL on success,
 * even for n == 0).  Invalid UTF-8 is accepted: each stray byte becomes its
 * byte token.  Returns TC_OK, TC_E_UNSUPPORTED (a byte with no token and no
 * <unk>, llama vocabularies only), TC_E_RANGE (text over 2 GiB, or a
 * pathological regular-expression match), TC_E_NOMEM. */
tc_status tc_tokenizer_encode(const tc_tokenizer *t, const char *text, size_t len, unsigned flags,
                              int32_t **ids, size_t *n, tc_err *err);

/* The text of ids[0..n) (malloc'd, NUL-terminated, *len bytes without the
 * NUL; may contain NULs and, without TC_DETOK_VALID_UTF8, invalid UTF-8
 * where a multi-byte character is split).  Returns TC_OK, TC_E_RANGE (an id
 * outside the vocabulary, naming it and its index), TC_E_NOMEM. */
tc_status tc_tokenizer_decode(const tc_tokenizer *t, const int32_t *ids, size_t n, unsigned flags,
                              char **text, size_t *len, tc_err *err);

/* Token id's string as stored in the file (not NUL-terminated), or NULL
 * when id is out of range. */
const char *tc_tokenizer_piece(const tc_tokenizer *t, int32_t id, size_t *len);

/* Accessors. */
uint32_t tc_tokenizer_n_vocab(const tc_tokenizer *t);
int32_t tc_tokenizer_bos(const tc_tokenizer *t);        /* -1 when none */
int32_t tc_tokenizer_eos(const tc_tokenizer *t);        /* -1 when none */
const char *tc_tokenizer_model(const tc_tokenizer *t);  /* "gpt2" or "llama" */
const char *tc_tokenizer_pre(const tc_tokenizer *t);    /* "llama-bpe", "gpt2" or "" (llama) */
size_t tc_tokenizer_n_merges(const tc_tokenizer *t);

/* SHA-256 (hex) over everything that decides the ids: the model and
 * pre-tokenizer names and regular expression, every token string, type
 * and score, every merge in order, BOS/EOS and the add_bos/add_eos/
 * add_space_prefix settings.  Two files with equal hashes tokenize alike. */
const char *tc_tokenizer_sha256(const tc_tokenizer *t);

#endif
