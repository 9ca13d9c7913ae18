/* gen.h -- deterministic synthetic BitNet b1.58 models (SPEC 8).
 *
 * The same options and seed give a byte-identical file on any machine:
 * every tensor draws from its own GSL mt19937 stream seeded from (seed,
 * tensor index), so the ternary codes of `--weights f32` and of I2_S are
 * the same numbers, and nothing depends on the host's thread count.
 */
#ifndef TC_GEN_H
#define TC_GEN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"
#include "format/types.h"

typedef struct tc_gen_opts {
    const char *name;       /* preset name, recorded in general.name */
    const char *arch;       /* general.architecture: bitnet-b1.58 (default) */
    uint32_t n_vocab;       /* >= 258: 256 bytes + at least 2 specials */
    uint32_t n_ctx;
    uint32_t n_embd;        /* multiple of 128 and of n_head */
    uint32_t n_layer;
    uint32_t n_ff;          /* multiple of 128 */
    uint32_t n_head;
    uint32_t n_head_kv;     /* divides n_head */
    double rope_base;
    float eps;
    tc_type weight_type;    /* linears: I2_S (default), F32 or F16 */
    bool latent;            /* Gaussian non-ternary F32 linears (for accuracy studies) */
    bool silu;              /* arch bitnet only: SiLU FFN (no hidden_activation key) */
    uint64_t seed;
} tc_gen_opts;

/* Fill o with a preset: "tiny", "small", "medium" or "2b4t".
 * Returns TC_OK or TC_E_USAGE (unknown name, message lists the presets). */
tc_status tc_gen_preset(const char *name, tc_gen_opts *o, tc_err *err);

/* Check that the options describe a valid model.  TC_OK or TC_E_USAGE. */
tc_status tc_gen_check(const tc_gen_opts *o, tc_err *err);

/* Write the model to path (temporary file renamed into place).  Returns
 * TC_OK, TC_E_USAGE (invalid options), TC_E_IO or TC_E_NOMEM. */
tc_status tc_gen_write(const tc_gen_opts *o, const char *path, tc_err *err);

#endif
