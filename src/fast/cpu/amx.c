/* amx.c -- the AMX table of the fast CPU engine: the prefill GEMM on the
 * tile unit, everything else AVX-512 VNNI (the I2_S GEMV, the GEMM's last
 * tokens that fill no tile) and AVX2 (the float kernels).  The names in
 * the table say which ran.
 *
 * The weights are in the i2s-x16 layout (x16.h), whose super-blocks are
 * tile B operands packed two bits per code: unpacked (four shifts and
 * masks per 64-byte load) they are the 16 x 64-byte tile TDPBSUD takes,
 * B[kk][4r + j] = code(row r, input 4kk + j), against A = 16 tokens x 64
 * signed int8 activations, giving C[t][r] += sum of 64 products.  One
 * micro-kernel call: 32 tokens x 2 groups of 16 rows, four C tiles, so
 * that each unpacked B tile and each A tile serves two products.
 *
 * Tile registers: C 0..3 (tile 2a + b: tokens 16a.., group b), A 4 and 5,
 * B 6 and 7.  Every call configures the tiles and releases them before it
 * returns, so nothing of the tile state outlives a kernel.  Using the
 * tiles needs the process's permission, which the ISA check asks for
 * (base/host.c). */
#include <stdalign.h>
#include <string.h>

#include "fast/cpu/dispatch.h"
#include "fast/cpu/simd.h"
#include "fast/cpu/x16.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define TA __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,amx-tile,amx-int8")))

/* The intrinsics are asm statements that do not tell the compiler which
 * memory they read or write: a barrier keeps the stores of an unpacked
 * tile before its load, and the loads of a stored tile after its store. */
#define MEMORY_BARRIER() __asm__ volatile("" ::: "memory")

/* palette 1: eight tiles of 16 rows x 64 bytes */
typedef struct tile_config {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static TA void tiles_configure(void)
{
    alignas(64) tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) cfg.colsb[i] = 64, cfg.rows[i] = 16;
    _tile_loadconfig(&cfg);
}

/* One super-block (x16.h) as the 1024-byte B tile: load i shifted by 2f
 * is tile row 4f + i. */
static inline TA void unpack(const uint8_t *blk, uint8_t *b)
{
    const __m512i m3 = _mm512_set1_epi8(3);
    for (int i = 0; i < 4; i++) {
        const __m512i v = _mm512_loadu_si512((const void *)(blk + 64 * i));
        _mm512_store_si512((void *)(b + 64 * i), _mm512_and_si512(v, m3));
        _mm512_store_si512((void *)(b + 64 * (i + 4)), _mm512_and_si512(_mm512_srli_epi16(v, 2), m3));
        _mm512_store_si512((void *)(b + 64 * (i + 8)), _mm512_and_si512(_mm512_srli_epi16(v, 4), m3));
        _mm512_store_si512((void *)(b + 64 * (i + 12)), _mm512_and_si512(_mm512_srli_epi16(v, 6), m3));
    }
}

/* C tile 2a + b (as int32 [16 tokens][16 rows]) minus each token's qsum,
 * into out for the rows of group g inside [r0, r1). */
static inline TA void store_sums(const int32_t *c, size_t g, size_t r0, size_t r1, const int32_t *qsum, int32_t *out,
                                 size_t ld)
{
    const __mmask16 mask = (__mmask16)tc_x16_lanes(g, r0, r1);
    for (int t = 0; t < 16; t++)
        _mm512_mask_storeu_epi32(out + t * ld + g * TC_X16_ROWS, mask,
                                 _mm512_sub_epi32(_mm512_load_si512((const void *)(c + 16 * t)),
                                                  _mm512_set1_epi32(qsum[t])));
}

/* 32 tokens (rows of q, K apart) against group g, and g + 1 when two. */
static TA void tile_32xgroups(const uint8_t *w, size_t K, size_t g, int two, size_t r0, size_t r1, const int8_t *q,
                              const int32_t *qsum, int32_t *out, size_t ld)
{
    /* two buffers per group: chunk ch is unpacked one iteration before
     * its tiles are loaded, so that its stores have reached the cache
     * (a tile load does not take data from pending stores) */
    alignas(64) uint8_t b[2][2][1024];
    alignas(64) int32_t c[4][256];
    const size_t chunks = K / TC_X16_CHUNK;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    unpack(tc_x16_block(w, K, g, 0), b[0][0]);
    if (two) unpack(tc_x16_block(w, K, g + 1, 0), b[0][1]);
    for (size_t ch = 0; ch < chunks; ch++) {
        uint8_t(*cur)[1024] = b[ch % 2], (*next)[1024] = b[(ch + 1) % 2];
        MEMORY_BARRIER();
        _tile_loadd(6, cur[0], 64);
        if (two) _tile_loadd(7, cur[1], 64);
        _tile_loadd(4, q + ch * TC_X16_CHUNK, K);
        _tile_loadd(5, q + 16 * K + ch * TC_X16_CHUNK, K);
        MEMORY_BARRIER();
        if (ch + 1 < chunks) {
            unpack(tc_x16_block(w, K, g, ch + 1), next[0]);
            if (two) unpack(tc_x16_block(w, K, g + 1, ch + 1), next[1]);
        }
        _tile_dpbsud(0, 4, 6);
        _tile_dpbsud(2, 5, 6);
        if (two) {
            _tile_dpbsud(1, 4, 7);
            _tile_dpbsud(3, 5, 7);
        }
    }
    _tile_stored(0, c[0], 64);
    _tile_stored(2, c[2], 64);
    if (two) {
        _tile_stored(1, c[1], 64);
        _tile_stored(3, c[3], 64);
    }
    MEMORY_BARRIER();
    for (int a = 0; a < 2; a++)
        for (int j = 0; j <= two; j++)
            store_sums(c[2 * a + j], g + (size_t)j, r0, r1, qsum + 16 * a, out + 16 * a * ld, ld);
}

/* The micro-kernel of the blocking loop (x16.h): 32 tokens against the
 * groups [gb, ge), two at a time. */
static TA void micro32(const uint8_t *w, size_t K, size_t gb, size_t ge, size_t r0, size_t r1, const int8_t *q,
                       const int32_t *qsum, int32_t *out, size_t ld)
{
    tiles_configure();
    for (size_t g = gb; g < ge; g += 2) tile_32xgroups(w, K, g, g + 1 < ge, r0, r1, q, qsum, out, ld);
    _tile_release();
}

static TC_X16_GEMM(TA, amx_gemm, 32, micro32, tc_fast_avx512_x16_rest)

const tc_fast_kernels tc_fast_kernels_amx = {
    .isa = "amx",
    .layout = "i2s-x16", .layout_bytes = tc_x16_bytes, .repack = tc_fast_avx512_x16_repack,
    .i2s_gemv = tc_fast_avx512_x16_gemv, .i2s_gemm = amx_gemm,
    .i2s_gemv_name = "fast.cpu.avx512vnni.i2s_gemv", .i2s_gemm_name = "fast.cpu.amx.i2s_gemm",
    TC_SIMD_AVX2_FLOAT_KERNELS,
};

#else

const tc_fast_kernels tc_fast_kernels_amx = { .isa = NULL };

#endif
