/* kernels.cu -- the CUDA engine's kernels (see kernels.h for the contract).
 *
 * Built with -fmad=false (Makefile.am): no multiply is ever contracted into
 * an FMA behind our back.  Where a rounding matters the code says so anyway
 * with the explicit __fmul_rn / __dmul_rn / __fdiv_rn intrinsics; where an
 * FMA is wanted (double accumulations, whose products are exact) it is
 * written as __fma_rn.
 *
 * Determinism: every reduction is a fixed tree (per-thread sequential
 * partials over a fixed stride, then a fixed shuffle/shared-memory tree)
 * for a fixed launch configuration; no float atomics.  Integer sums are
 * exact in any order.
 *
 * Launch configurations (all blocks 256 threads = 8 warps):
 *   i2s_gemm      one warp per weight row, 8 rows per block; grid
 *                 (ceil(rows/8), ceil(n_tok/TOK)), TOK = 1 (gemv) or 8
 *   f16_gemm      the same shape over F16 rows
 *   rmsnorm_q8    one block per token row
 *   rope          one thread per rotated pair
 *   attention     one block per (query head, token); scores in dynamic
 *                 shared memory
 *   act_mul, add  one thread per element (grid-stride)
 */
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

extern "C" {
#include "fast/cuda/cuda_kernels.h"
}
#include "fast/cuda/cuda_check.h"


/* After a launch: a bad configuration shows up here, at once. */
static tc_status launched(tc_err *err, const char *kernel)
{
    cudaError_t e = cudaGetLastError();
    return e == cudaSuccess ? TC_OK : cuda_fail(err, e, kernel);
}

static bool aligned16(const void *p) { return ((uintptr_t)p & 15u) == 0; }

enum { BLOCK = 256, WARPS = BLOCK / 32, GEMM_TOK = 8 };
static const unsigned FULL = 0xffffffffu;

/* ---- device buffers ---- */

extern "C" tc_status tc_cuda_alloc(void **p, size_t bytes, tc_err *err)
{
    if (!p) return tc_fail(err, TC_E_USAGE, "tc_cuda_alloc: NULL result pointer");
    *p = NULL;
    if (bytes == 0) return TC_OK;
    cudaError_t e = cudaMalloc(p, bytes);
    if (e != cudaSuccess) {
        *p = NULL;
        cudaGetLastError();   /* an allocation failure is not sticky: clear it */
        return tc_fail(err, TC_E_DEVICE, "cudaMalloc(%zu bytes): %s (%s)", bytes, cudaGetErrorString(e),
                       cudaGetErrorName(e));
    }
    return TC_OK;
}

extern "C" void tc_cuda_free(void *p)
{
    if (p) cudaFree(p);
}

static tc_status copy(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, tc_err *err, const char *what)
{
    if (bytes == 0) return TC_OK;
    if (!dst || !src) return tc_fail(err, TC_E_USAGE, "%s: NULL pointer", what);
    TC_CU(cudaMemcpy(dst, src, bytes, kind), what);
    return TC_OK;
}

extern "C" tc_status tc_cuda_upload(void *dst, const void *src, size_t bytes, tc_err *err)
{
    return copy(dst, src, bytes, cudaMemcpyHostToDevice, err, "cudaMemcpy (upload)");
}

extern "C" tc_status tc_cuda_download(void *dst, const void *src, size_t bytes, tc_err *err)
{
    return copy(dst, src, bytes, cudaMemcpyDeviceToHost, err, "cudaMemcpy (download)");
}

extern "C" tc_status tc_cuda_copy(void *dst, const void *src, size_t bytes, tc_cuda_stream st, tc_err *err)
{
    if (bytes == 0) return TC_OK;
    if (!dst || !src) return tc_fail(err, TC_E_USAGE, "tc_cuda_copy: NULL pointer");
    TC_CU(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, (cudaStream_t)st), "cudaMemcpyAsync (device)");
    return TC_OK;
}

extern "C" tc_status tc_cuda_memset(void *p, int value, size_t bytes, tc_cuda_stream st, tc_err *err)
{
    if (bytes == 0) return TC_OK;
    if (!p) return tc_fail(err, TC_E_USAGE, "tc_cuda_memset: NULL pointer");
    TC_CU(cudaMemsetAsync(p, value, bytes, (cudaStream_t)st), "cudaMemsetAsync");
    return TC_OK;
}

extern "C" tc_status tc_cuda_sync(tc_err *err)
{
    TC_CU(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    TC_CU(cudaGetLastError(), "cudaGetLastError");
    return TC_OK;
}

/* ---- deterministic block reductions ---- */

struct op_add {
    template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct op_max {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
    __device__ double operator()(double a, double b) const { return fmax(a, b); }
};

/* Reduce v over the warp with a fixed butterfly: every lane ends with the
 * same value (the operations are commutative, the tree is fixed). */
template <typename T, typename Op> __device__ __forceinline__ T warp_reduce(T v, Op op)
{
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_xor_sync(FULL, v, off));
    return v;
}

/* Reduce v over the block (blockDim.x a multiple of 32, at most 1024);
 * sh: [32] shared scratch.  Every thread gets the result.  Contains
 * barriers: call from every thread. */
template <typename T, typename Op> __device__ T block_reduce(T v, T identity, T *sh, Op op)
{
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, n_warps = blockDim.x / 32;
    v = warp_reduce(v, op);
    if (lane == 0) sh[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < n_warps ? sh[lane] : identity;
        v = warp_reduce(v, op);
        if (lane == 0) sh[0] = v;
    }
    __syncthreads();
    T r = sh[0];
    __syncthreads();   /* sh may be reused at once */
    return r;
}

/* ---- I2_S x int8 ---- */

/* Four 2-bit codes, one per byte of c (values 0..3), to four int8 weights:
 * code 0 -> -1 (0xFF), 1 -> 0, 2 -> +1, 3 -> 0 (SPEC 1.2).  With b1, b0 the
 * code's bits: weight = b0 ? 0 : 2*b1 - 1, i.e. the byte ~(b1*0xFE | b0*0xFF)
 * (no carries: each product stays inside its byte).  Checked for all 256
 * byte combinations in dev/cuda/i2s_gemv.cu. */
__host__ __device__ __forceinline__ uint32_t i2s_expand4(uint32_t c)
{
    const uint32_t b0 = c & 0x01010101u, b1 = (c >> 1) & 0x01010101u;
    return ~((b1 * 0xFEu) | (b0 * 0xFFu));
}

/* One warp per row r of w; lanes stride over the row's 16-byte chunks.
 * Chunk c is half h = c%2 of block b = c/2: its word k, byte j holds the
 * elements 128b + 32g + 16h + 4k + j for the groups g = 0..3 in bits
 * 7-2g:6-2g (SPEC 1.2), so (word >> (6-2g)) & 0x03030303 holds four codes
 * that line up with the four int8 activations at that element: one dp4a.
 * Each chunk's weights are expanded once and used for TOK tokens.
 * K % 128 == 0; w, q 16-byte aligned; every token's sum exact in int32
 * (|sum| <= 128 K). */
template <int TOK>
__global__ void __launch_bounds__(BLOCK) i2s_gemm_kernel(const uint8_t *__restrict__ w, int rows, int K,
                                                         const int8_t *__restrict__ q, int n_tok,
                                                         const float *__restrict__ s, float m,
                                                         float *__restrict__ y, int32_t *__restrict__ isum,
                                                         size_t ld)
{
    const int lane = threadIdx.x % 32;
    const int r = blockIdx.x * WARPS + threadIdx.x / 32;
    if (r >= rows) return;   /* warp-uniform: whole warps leave */
    const int t0 = blockIdx.y * TOK;
    const uint4 *wr = reinterpret_cast<const uint4 *>(w + (size_t)r * (size_t)(K / 4));
    const int n_chunks = K / 64;
    int acc[TOK];
#pragma unroll
    for (int t = 0; t < TOK; t++) acc[t] = 0;

    for (int c = lane; c < n_chunks; c += 32) {
        const uint4 wv = wr[c];
        const uint32_t ww[4] = { wv.x, wv.y, wv.z, wv.w };
        uint32_t e[4][4];   /* e[g][k]: int8 weights of group g, word k */
#pragma unroll
        for (int g = 0; g < 4; g++)
#pragma unroll
            for (int k = 0; k < 4; k++) e[g][k] = i2s_expand4((ww[k] >> (6 - 2 * g)) & 0x03030303u);
        const size_t base = (size_t)(c / 2) * 128 + (size_t)(c % 2) * 16;
#pragma unroll
        for (int t = 0; t < TOK; t++) {
            if (t0 + t < n_tok) {
                const int8_t *qt = q + (size_t)(t0 + t) * (size_t)K + base;
#pragma unroll
                for (int g = 0; g < 4; g++) {
                    const int4 qv = *reinterpret_cast<const int4 *>(qt + 32 * g);
                    acc[t] = __dp4a((int)e[g][0], qv.x, acc[t]);
                    acc[t] = __dp4a((int)e[g][1], qv.y, acc[t]);
                    acc[t] = __dp4a((int)e[g][2], qv.z, acc[t]);
                    acc[t] = __dp4a((int)e[g][3], qv.w, acc[t]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TOK; t++) acc[t] = warp_reduce(acc[t], op_add());
    if (lane == 0) {
#pragma unroll
        for (int t = 0; t < TOK; t++) {
            if (t0 + t >= n_tok) break;
            const size_t o = (size_t)(t0 + t) * ld + (size_t)r;
            if (isum) isum[o] = acc[t];
            /* (float)sum / s * m, each step IEEE-rounded: SPEC 2.2 */
            if (y) y[o] = __fmul_rn(__fdiv_rn(__int2float_rn(acc[t]), s[t0 + t]), m);
        }
    }
}

static tc_status i2s_check(const uint8_t *w, size_t rows, size_t K, const int8_t *q, size_t n_tok, const float *s,
                           const float *y, const int32_t *isum, size_t ld, tc_err *err)
{
    if (!w || !q || !s || (!y && !isum))
        return tc_fail(err, TC_E_USAGE, "i2s_gemm: NULL pointer (w, q, s, and y or isum, are required)");
    if (K == 0 || K % 128 != 0) return tc_fail(err, TC_E_USAGE, "i2s_gemm: K = %zu is not a positive multiple of 128", K);
    if (!aligned16(w) || !aligned16(q)) return tc_fail(err, TC_E_USAGE, "i2s_gemm: w and q must be 16-byte aligned");
    if (ld < rows) return tc_fail(err, TC_E_USAGE, "i2s_gemm: ld %zu < rows %zu", ld, rows);
    if (rows > INT_MAX || K > INT_MAX || n_tok > (size_t)GEMM_TOK * 65535)
        return tc_fail(err, TC_E_USAGE, "i2s_gemm: shape rows %zu, K %zu, n_tok %zu too large", rows, K, n_tok);
    return TC_OK;
}

extern "C" tc_status tc_cuda_i2s_gemm(const uint8_t *w, size_t rows, size_t K, const int8_t *q, size_t n_tok,
                                      const float *s, float m, float *y, int32_t *isum, size_t ld,
                                      tc_cuda_stream st, tc_err *err)
{
    tc_status rc = i2s_check(w, rows, K, q, n_tok, s, y, isum, ld, err);
    if (rc != TC_OK || rows == 0 || n_tok == 0) return rc;
    const dim3 grid((unsigned)((rows + WARPS - 1) / WARPS), (unsigned)((n_tok + GEMM_TOK - 1) / GEMM_TOK));
    i2s_gemm_kernel<GEMM_TOK><<<grid, BLOCK, 0, (cudaStream_t)st>>>(w, (int)rows, (int)K, q, (int)n_tok, s, m, y,
                                                                     isum, ld);
    return launched(err, "i2s_gemm_kernel<8>");
}

extern "C" tc_status tc_cuda_i2s_gemv(const uint8_t *w, size_t rows, size_t K, const int8_t *q, const float *s,
                                      float m, float *y, int32_t *isum, tc_cuda_stream st, tc_err *err)
{
    tc_status rc = i2s_check(w, rows, K, q, 1, s, y, isum, rows, err);
    if (rc != TC_OK || rows == 0) return rc;
    const dim3 grid((unsigned)((rows + WARPS - 1) / WARPS), 1);
    i2s_gemm_kernel<1><<<grid, BLOCK, 0, (cudaStream_t)st>>>(w, (int)rows, (int)K, q, 1, s, m, y, isum, rows);
    return launched(err, "i2s_gemm_kernel<1>");
}

/* ---- RMSNorm and quantization ---- */

/* h_i = (float)(x_i * scale) * w_i as the reference rounds it; x_i itself
 * when there is no norm (w NULL). */
__device__ __forceinline__ float norm_elem(float x, double scale, const float *__restrict__ w, int i)
{
    if (!w) return x;
    return __fmul_rn(__double2float_rn(__dmul_rn((double)x, scale)), w[i]);
}

/* 1/sqrt(mean(x^2) + eps) over one row, sum of squares in double (each
 * square of a float is exact in double); the same value in every thread. */
__device__ double rms_scale(const float *__restrict__ xr, int n, float eps, double *sh)
{
    double ss = 0.0;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const double v = xr[i];
        ss = __dadd_rn(ss, __dmul_rn(v, v));
    }
    ss = block_reduce(ss, 0.0, sh, op_add());
    return 1.0 / sqrt(ss / (double)n + (double)eps);
}

/* One block per token row t: optional RMSNorm (w non-NULL), then SPEC 2.2
 * quantization.  h is recomputed in the second pass rather than stored: the
 * same expression gives the same float. */
__global__ void __launch_bounds__(BLOCK) rmsnorm_q8_kernel(const float *__restrict__ x, const float *__restrict__ w,
                                                           int n, float eps, int8_t *__restrict__ q,
                                                           float *__restrict__ s_out, float *__restrict__ h_out)
{
    __shared__ double shd[32];
    __shared__ float shf[32];
    const size_t row = (size_t)blockIdx.x * (size_t)n;
    const float *xr = x + row;
    const double scale = w ? rms_scale(xr, n, eps, shd) : 1.0;

    /* amax = max|h_i|: exact in float, then widened (SPEC 2.2) */
    float amax = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float h = norm_elem(xr[i], scale, w, i);
        amax = fmaxf(amax, fabsf(h));
        if (h_out) h_out[row + i] = h;
    }
    amax = block_reduce(amax, 0.0f, shf, op_max());
    const float s = __double2float_rn(127.0 / fmax(1e-5, (double)amax));

    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        const float h = norm_elem(xr[i], scale, w, i);
        float r = rintf(__fmul_rn(h, s));   /* float product, then half to even */
        r = fminf(fmaxf(r, -128.0f), 127.0f);
        q[row + i] = (int8_t)__float2int_rz(r);
    }
    if (threadIdx.x == 0) s_out[blockIdx.x] = s;
}

__global__ void __launch_bounds__(BLOCK) rmsnorm_kernel(const float *x, const float *__restrict__ w, int n, float eps,
                                                        float *y)
{
    __shared__ double shd[32];
    const size_t row = (size_t)blockIdx.x * (size_t)n;
    /* every read of x[row..] happens before the barriers in rms_scale, so
     * y may alias x */
    const double scale = rms_scale(x + row, n, eps, shd);
    for (int i = threadIdx.x; i < n; i += blockDim.x) y[row + i] = norm_elem(x[row + i], scale, w, i);
}

static tc_status rows_check(const char *what, size_t n, size_t n_tok, tc_err *err)
{
    if (n == 0 || n > INT_MAX) return tc_fail(err, TC_E_USAGE, "%s: row length %zu out of range", what, n);
    if (n_tok > INT_MAX) return tc_fail(err, TC_E_USAGE, "%s: %zu rows is too many", what, n_tok);
    return TC_OK;
}

extern "C" tc_status tc_cuda_rmsnorm_q8(const float *x, const float *w, size_t n, size_t n_tok, float eps, int8_t *q,
                                        float *s, float *h, tc_cuda_stream st, tc_err *err)
{
    if (!x || !w || !q || !s) return tc_fail(err, TC_E_USAGE, "rmsnorm_q8: NULL pointer");
    if (h == x) return tc_fail(err, TC_E_USAGE, "rmsnorm_q8: h must not alias x");
    tc_status rc = rows_check("rmsnorm_q8", n, n_tok, err);
    if (rc != TC_OK || n_tok == 0) return rc;
    rmsnorm_q8_kernel<<<(unsigned)n_tok, BLOCK, 0, (cudaStream_t)st>>>(x, w, (int)n, eps, q, s, h);
    return launched(err, "rmsnorm_q8_kernel");
}

extern "C" tc_status tc_cuda_quantize_q8(const float *x, size_t n, size_t n_tok, int8_t *q, float *s,
                                         tc_cuda_stream st, tc_err *err)
{
    if (!x || !q || !s) return tc_fail(err, TC_E_USAGE, "quantize_q8: NULL pointer");
    tc_status rc = rows_check("quantize_q8", n, n_tok, err);
    if (rc != TC_OK || n_tok == 0) return rc;
    rmsnorm_q8_kernel<<<(unsigned)n_tok, BLOCK, 0, (cudaStream_t)st>>>(x, NULL, (int)n, 0.0f, q, s, NULL);
    return launched(err, "rmsnorm_q8_kernel (quantize only)");
}

extern "C" tc_status tc_cuda_rmsnorm(const float *x, const float *w, size_t n, size_t n_tok, float eps, float *y,
                                     tc_cuda_stream st, tc_err *err)
{
    if (!x || !w || !y) return tc_fail(err, TC_E_USAGE, "rmsnorm: NULL pointer");
    tc_status rc = rows_check("rmsnorm", n, n_tok, err);
    if (rc != TC_OK || n_tok == 0) return rc;
    rmsnorm_kernel<<<(unsigned)n_tok, BLOCK, 0, (cudaStream_t)st>>>(x, w, (int)n, eps, y);
    return launched(err, "rmsnorm_kernel");
}

/* ---- RoPE ---- */

extern "C" tc_status tc_cuda_rope_table_upload(double *d_table, uint32_t n_pos, size_t head_dim, double base,
                                               tc_err *err)
{
    if (!d_table) return tc_fail(err, TC_E_USAGE, "rope table: NULL pointer");
    if (head_dim == 0 || head_dim % 2) return tc_fail(err, TC_E_USAGE, "rope table: head_dim %zu is not even", head_dim);
    const size_t half = head_dim / 2, n = (size_t)n_pos * head_dim;
    if (n == 0) return TC_OK;
    double *t = (double *)malloc(n * sizeof *t);
    if (!t) return tc_fail(err, TC_E_NOMEM, "rope table: %zu doubles", n);
    for (uint32_t p = 0; p < n_pos; p++)
        for (size_t i = 0; i < half; i++) {
            /* the reference's expression, term for term (SPEC 2.1) */
            const double theta = (double)p * pow(base, -2.0 * (double)i / (double)head_dim);
            t[((size_t)p * half + i) * 2 + 0] = cos(theta);
            t[((size_t)p * half + i) * 2 + 1] = sin(theta);
        }
    tc_status rc = tc_cuda_upload(d_table, t, n * sizeof *t, err);
    free(t);
    return rc;
}

/* One thread per pair (token t, head, i < half): NEOX rotation in double,
 * rounded once to float, as tc_ref_rope_neox. */
__global__ void rope_kernel(const float *x, float *y, size_t n_pairs, int n_heads, int hd, uint32_t pos0,
                            const uint32_t *__restrict__ d_pos0, const double *__restrict__ table)
{
    if (d_pos0) pos0 = *d_pos0;   /* the _dev variant: position read on the device */
    const size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_pairs) return;
    const int half = hd / 2;
    const int i = (int)(idx % (size_t)half);
    const size_t th = idx / (size_t)half;   /* t * n_heads + head */
    const size_t t = th / (size_t)n_heads;
    const double *cs = table + (((size_t)pos0 + t) * (size_t)half + (size_t)i) * 2;
    const size_t o = th * (size_t)hd + (size_t)i;
    const double a = x[o], b = x[o + half], c = cs[0], sn = cs[1];
    y[o] = __double2float_rn(__dsub_rn(__dmul_rn(a, c), __dmul_rn(b, sn)));
    y[o + half] = __double2float_rn(__dadd_rn(__dmul_rn(a, sn), __dmul_rn(b, c)));
}

static tc_status rope_launch(const float *x, float *y, size_t n_tok, size_t n_heads, size_t head_dim, uint32_t pos0,
                             const uint32_t *d_pos0, const double *table, tc_cuda_stream st, tc_err *err)
{
    if (!x || !y || !table) return tc_fail(err, TC_E_USAGE, "rope: NULL pointer");
    if (head_dim == 0 || head_dim % 2 || head_dim > INT_MAX || n_heads > INT_MAX)
        return tc_fail(err, TC_E_USAGE, "rope: head_dim %zu (must be even), n_heads %zu", head_dim, n_heads);
    const size_t n_pairs = n_tok * n_heads * (head_dim / 2);
    if (n_pairs == 0) return TC_OK;
    const size_t blocks = (n_pairs + BLOCK - 1) / BLOCK;
    if (blocks > INT_MAX) return tc_fail(err, TC_E_USAGE, "rope: %zu pairs is too many", n_pairs);
    rope_kernel<<<(unsigned)blocks, BLOCK, 0, (cudaStream_t)st>>>(x, y, n_pairs, (int)n_heads, (int)head_dim, pos0,
                                                                  d_pos0, table);
    return launched(err, "rope_kernel");
}

extern "C" tc_status tc_cuda_rope(const float *x, float *y, size_t n_tok, size_t n_heads, size_t head_dim,
                                  uint32_t pos0, const double *table, tc_cuda_stream st, tc_err *err)
{
    return rope_launch(x, y, n_tok, n_heads, head_dim, pos0, NULL, table, st, err);
}

extern "C" tc_status tc_cuda_rope_dev(const float *x, float *y, size_t n_tok, size_t n_heads, size_t head_dim,
                                      const uint32_t *d_pos0, const double *table, tc_cuda_stream st, tc_err *err)
{
    if (!d_pos0) return tc_fail(err, TC_E_USAGE, "rope: NULL device position");
    return rope_launch(x, y, n_tok, n_heads, head_dim, 0, d_pos0, table, st, err);
}

/* ---- attention ---- */

/* Dynamic shared memory of one attention block: scores [n_keys_max]
 * doubles, partial sums [BLOCK] doubles, the query [hd] floats. */
static size_t attention_smem(size_t n_keys_max, size_t hd)
{
    return (n_keys_max + BLOCK) * sizeof(double) + hd * sizeof(float);
}

/* One block per (query head h, token t); token t sees keys j <= pos0 + t.
 *  1. scores: one warp per key, lanes over the head dimension, in double
 *     (products of floats are exact in double), then * 1/sqrt(hd);
 *  2. softmax in double: max, exp(s - max), sum, divide -- as
 *     tc_ref_softmax;
 *  3. out_i = sum_j p_j v_j,i: parts = BLOCK/hd groups of threads each sum
 *     a contiguous key range, combined in part order (fixed). */
__global__ void __launch_bounds__(BLOCK) attention_kernel(const float *__restrict__ q, const float *__restrict__ kc,
                                                          const float *__restrict__ vc, float *__restrict__ out,
                                                          uint32_t pos0, const uint32_t *__restrict__ d_pos0,
                                                          int keys_cap, int n_head, int n_kv, int hd)
{
    if (d_pos0) pos0 = *d_pos0;   /* the _dev variant: position read on the device */
    extern __shared__ double smem[];
    __shared__ double shd[32];
    const int h = blockIdx.x, t = blockIdx.y, tid = threadIdx.x;
    const int lane = tid % 32, warp = tid / 32;
    const int n_keys_max = keys_cap, n_keys = (int)pos0 + t + 1;   /* keys_cap >= pos0 + gridDim.y */
    double *sc = smem, *part = smem + n_keys_max;
    float *qs = reinterpret_cast<float *>(part + BLOCK);
    const int g = h / (n_head / n_kv);
    const size_t kv_stride = (size_t)n_kv * (size_t)hd;
    const float *qr = q + ((size_t)t * (size_t)n_head + (size_t)h) * (size_t)hd;
    const float *kg = kc + (size_t)g * hd, *vg = vc + (size_t)g * hd;

    for (int i = tid; i < hd; i += BLOCK) qs[i] = qr[i];
    __syncthreads();

    const double scale = 1.0 / sqrt((double)hd);
    for (int j = warp; j < n_keys; j += WARPS) {
        const float *kr = kg + (size_t)j * kv_stride;
        double d = 0.0;
        for (int i = lane; i < hd; i += 32) d = __fma_rn((double)qs[i], (double)kr[i], d);
        d = warp_reduce(d, op_add());
        if (lane == 0) sc[j] = __dmul_rn(d, scale);
    }
    __syncthreads();

    double mx = -INFINITY;
    for (int j = tid; j < n_keys; j += BLOCK) mx = fmax(mx, sc[j]);
    mx = block_reduce(mx, -(double)INFINITY, shd, op_max());
    double sum = 0.0;
    for (int j = tid; j < n_keys; j += BLOCK) {
        const double e = exp(sc[j] - mx);
        sc[j] = e;
        sum += e;
    }
    sum = block_reduce(sum, 0.0, shd, op_add());   /* its barriers publish sc */
    for (int j = tid; j < n_keys; j += BLOCK) sc[j] = sc[j] / sum;
    __syncthreads();

    const int parts = hd <= BLOCK ? BLOCK / hd : 1;
    const int chunk = (n_keys + parts - 1) / parts;
    float *o = out + ((size_t)t * (size_t)n_head + (size_t)h) * (size_t)hd;
    if (parts == 1) {
        for (int i = tid; i < hd; i += BLOCK) {
            double acc = 0.0;
            for (int j = 0; j < n_keys; j++) acc = __fma_rn(sc[j], (double)vg[(size_t)j * kv_stride + i], acc);
            o[i] = __double2float_rn(acc);
        }
        return;
    }
    if (tid < parts * hd) {
        const int i = tid % hd, p = tid / hd;
        const int j1 = min(n_keys, (p + 1) * chunk);
        double acc = 0.0;
        for (int j = p * chunk; j < j1; j++) acc = __fma_rn(sc[j], (double)vg[(size_t)j * kv_stride + i], acc);
        part[tid] = acc;
    }
    __syncthreads();
    if (tid < hd) {
        double acc = part[tid];
        for (int p = 1; p < parts; p++) acc += part[p * hd + tid];
        o[tid] = __double2float_rn(acc);
    }
}

/* keys_cap: the most keys any query sees (pos0 + n_tok, or the caller's
 * bound when the position is read on the device); it sizes shared memory. */
static tc_status attention_launch(const float *q, const float *kcache, const float *vcache, float *out, size_t n_tok,
                                  uint32_t pos0, const uint32_t *d_pos0, size_t keys_cap, size_t n_head,
                                  size_t n_head_kv, size_t hd, tc_cuda_stream st, tc_err *err)
{
    if (!q || !kcache || !vcache || !out) return tc_fail(err, TC_E_USAGE, "attention: NULL pointer");
    if (hd == 0 || hd > 4096 || n_head == 0 || n_head_kv == 0 || n_head % n_head_kv != 0 || n_head > 65535)
        return tc_fail(err, TC_E_USAGE, "attention: n_head %zu, n_head_kv %zu, head_dim %zu", n_head, n_head_kv, hd);
    if (n_tok == 0) return TC_OK;
    if (n_tok > 65535 || (uint64_t)pos0 + n_tok > INT_MAX || keys_cap < n_tok || keys_cap > INT_MAX)
        return tc_fail(err, TC_E_USAGE, "attention: %zu tokens at position %u (at most %zu keys)", n_tok, pos0, keys_cap);
    const size_t smem = attention_smem(keys_cap, hd);
    if (smem > 48 * 1024) {
        int dev = 0, optin = 0;
        TC_CU(cudaGetDevice(&dev), "cudaGetDevice");
        TC_CU(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev), "cudaDeviceGetAttribute");
        if (smem > (size_t)optin - 32 * sizeof(double))
            return tc_fail(err, TC_E_UNSUPPORTED, "attention: %zu keys need %zu bytes of shared memory, the device has %d",
                           keys_cap, smem, optin);
        /* always the same (largest) limit, never a smaller one: a CUDA Graph
         * captured with a larger launch must still replay after this call */
        TC_CU(cudaFuncSetAttribute(attention_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                   optin - (int)(32 * sizeof(double))),
              "cudaFuncSetAttribute (attention)");
    }
    const dim3 grid((unsigned)n_head, (unsigned)n_tok);
    attention_kernel<<<grid, BLOCK, smem, (cudaStream_t)st>>>(q, kcache, vcache, out, pos0, d_pos0, (int)keys_cap,
                                                              (int)n_head, (int)n_head_kv, (int)hd);
    return launched(err, "attention_kernel");
}

extern "C" tc_status tc_cuda_attention(const float *q, const float *kcache, const float *vcache, float *out,
                                       size_t n_tok, uint32_t pos0, size_t n_head, size_t n_head_kv, size_t hd,
                                       tc_cuda_stream st, tc_err *err)
{
    return attention_launch(q, kcache, vcache, out, n_tok, pos0, NULL, (size_t)pos0 + n_tok, n_head, n_head_kv, hd,
                            st, err);
}

extern "C" tc_status tc_cuda_attention_dev(const float *q, const float *kcache, const float *vcache, float *out,
                                           size_t n_tok, const uint32_t *d_pos0, size_t keys_cap, size_t n_head,
                                           size_t n_head_kv, size_t hd, tc_cuda_stream st, tc_err *err)
{
    if (!d_pos0) return tc_fail(err, TC_E_USAGE, "attention: NULL device position");
    return attention_launch(q, kcache, vcache, out, n_tok, 0, d_pos0, keys_cap, n_head, n_head_kv, hd, st, err);
}

/* ---- element-wise ---- */

__global__ void act_mul_kernel(const float *gate, const float *up, size_t n, int act, float *y)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float g = gate[i];
        float a;
        if (act == TC_CUDA_ACT_RELU2) {
            const float r = g > 0.0f ? g : 0.0f;
            a = __fmul_rn(r, r);
        } else {
            a = __double2float_rn((double)g / (1.0 + exp(-(double)g)));
        }
        y[i] = __fmul_rn(a, up[i]);
    }
}

__global__ void add_kernel(const float *a, const float *b, size_t n, float *y)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __fadd_rn(a[i], b[i]);
}

/* enough blocks to fill any current GPU; the loops stride over the rest */
static unsigned elementwise_blocks(size_t n)
{
    size_t b = (n + BLOCK - 1) / BLOCK;
    return (unsigned)(b < 65536 ? b : 65536);
}

extern "C" tc_status tc_cuda_act_mul(const float *gate, const float *up, size_t n, tc_cuda_act act, float *y,
                                     tc_cuda_stream st, tc_err *err)
{
    if (!gate || !up || !y) return tc_fail(err, TC_E_USAGE, "act_mul: NULL pointer");
    if (act != TC_CUDA_ACT_RELU2 && act != TC_CUDA_ACT_SILU)
        return tc_fail(err, TC_E_USAGE, "act_mul: unknown activation %d", (int)act);
    if (n == 0) return TC_OK;
    act_mul_kernel<<<elementwise_blocks(n), BLOCK, 0, (cudaStream_t)st>>>(gate, up, n, (int)act, y);
    return launched(err, "act_mul_kernel");
}

extern "C" tc_status tc_cuda_relu2_mul(const float *gate, const float *up, size_t n, float *y, tc_cuda_stream st,
                                       tc_err *err)
{
    return tc_cuda_act_mul(gate, up, n, TC_CUDA_ACT_RELU2, y, st, err);
}

extern "C" tc_status tc_cuda_add(const float *a, const float *b, size_t n, float *y, tc_cuda_stream st, tc_err *err)
{
    if (!a || !b || !y) return tc_fail(err, TC_E_USAGE, "add: NULL pointer");
    if (n == 0) return TC_OK;
    add_kernel<<<elementwise_blocks(n), BLOCK, 0, (cudaStream_t)st>>>(a, b, n, y);
    return launched(err, "add_kernel");
}

/* ---- the engine's glue: embedding, KV store, output multipliers ---- */

/* x[t][i] = f16 -> float of table[tokens[t]][i] (exact); tokens on the
 * device, already checked against the vocabulary by the caller. */
__global__ void embed_f16_kernel(const uint16_t *__restrict__ table, size_t d, const int32_t *__restrict__ tokens,
                                 size_t n, float *__restrict__ x)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const size_t t = i / d, j = i % d;
        x[i] = __half2float(__ushort_as_half(table[(size_t)tokens[t] * d + j]));
    }
}

/* kcache[pos0 + t][i] = k[t][i], the same for v: rows are contiguous, so
 * the batch is one block of n elements at offset pos0 * d_kv. */
__global__ void kv_store_kernel(const float *__restrict__ k, const float *__restrict__ v, float *__restrict__ kc,
                                float *__restrict__ vc, size_t n, size_t d_kv, const uint32_t *__restrict__ d_pos0)
{
    const size_t off = (size_t)*d_pos0 * d_kv;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        kc[off + i] = k[i];
        vc[off + i] = v[i];
    }
}

__global__ void scale_kernel(float *y, size_t n, float c)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        y[i] = __fmul_rn(y[i], c);
}

extern "C" tc_status tc_cuda_embed_f16(const uint16_t *table, size_t d, const int32_t *d_tokens, size_t n_tok,
                                       float *x, tc_cuda_stream st, tc_err *err)
{
    if (!table || !d_tokens || !x) return tc_fail(err, TC_E_USAGE, "embed_f16: NULL pointer");
    if (d == 0) return tc_fail(err, TC_E_USAGE, "embed_f16: zero row length");
    if (n_tok == 0) return TC_OK;
    embed_f16_kernel<<<elementwise_blocks(n_tok * d), BLOCK, 0, (cudaStream_t)st>>>(table, d, d_tokens, n_tok * d, x);
    return launched(err, "embed_f16_kernel");
}

extern "C" tc_status tc_cuda_kv_store(const float *k, const float *v, float *kcache, float *vcache, size_t n_tok,
                                      size_t d_kv, const uint32_t *d_pos0, tc_cuda_stream st, tc_err *err)
{
    if (!k || !v || !kcache || !vcache || !d_pos0) return tc_fail(err, TC_E_USAGE, "kv_store: NULL pointer");
    if (n_tok == 0 || d_kv == 0) return TC_OK;
    kv_store_kernel<<<elementwise_blocks(n_tok * d_kv), BLOCK, 0, (cudaStream_t)st>>>(k, v, kcache, vcache,
                                                                                   n_tok * d_kv, d_kv, d_pos0);
    return launched(err, "kv_store_kernel");
}

extern "C" tc_status tc_cuda_scale(float *y, size_t n, float c, tc_cuda_stream st, tc_err *err)
{
    if (!y) return tc_fail(err, TC_E_USAGE, "scale: NULL pointer");
    if (n == 0) return TC_OK;
    scale_kernel<<<elementwise_blocks(n), BLOCK, 0, (cudaStream_t)st>>>(y, n, c);
    return launched(err, "scale_kernel");
}

/* ---- F16 weights ---- */

__device__ __forceinline__ double h2d(uint32_t word, int hi)
{
    return (double)__half2float(__ushort_as_half((unsigned short)(hi ? word >> 16 : word & 0xffffu)));
}

/* One warp per row; lanes over 16-byte chunks of 8 halves; TOK tokens per
 * chunk.  Each f16 x float product is exact in double, so __fma_rn adds
 * it with one rounding.  K % 8 == 0; w, x 16-byte aligned. */
template <int TOK>
__global__ void __launch_bounds__(BLOCK) f16_gemm_kernel(const uint16_t *__restrict__ w, int rows, int K,
                                                         const float *__restrict__ x, int n_tok,
                                                         float *__restrict__ y, size_t ld)
{
    const int lane = threadIdx.x % 32;
    const int r = blockIdx.x * WARPS + threadIdx.x / 32;
    if (r >= rows) return;
    const int t0 = blockIdx.y * TOK;
    const uint4 *wr = reinterpret_cast<const uint4 *>(w + (size_t)r * (size_t)K);
    double acc[TOK];
#pragma unroll
    for (int t = 0; t < TOK; t++) acc[t] = 0.0;
    for (int c = lane; c < K / 8; c += 32) {
        const uint4 wv = wr[c];
        const double wd[8] = { h2d(wv.x, 0), h2d(wv.x, 1), h2d(wv.y, 0), h2d(wv.y, 1),
                               h2d(wv.z, 0), h2d(wv.z, 1), h2d(wv.w, 0), h2d(wv.w, 1) };
#pragma unroll
        for (int t = 0; t < TOK; t++) {
            if (t0 + t < n_tok) {
                const float4 *xt = reinterpret_cast<const float4 *>(x + (size_t)(t0 + t) * (size_t)K) + 2 * c;
                const float4 a = xt[0], b = xt[1];
                double s = acc[t];
                s = __fma_rn(wd[0], (double)a.x, s);
                s = __fma_rn(wd[1], (double)a.y, s);
                s = __fma_rn(wd[2], (double)a.z, s);
                s = __fma_rn(wd[3], (double)a.w, s);
                s = __fma_rn(wd[4], (double)b.x, s);
                s = __fma_rn(wd[5], (double)b.y, s);
                s = __fma_rn(wd[6], (double)b.z, s);
                s = __fma_rn(wd[7], (double)b.w, s);
                acc[t] = s;
            }
        }
    }
#pragma unroll
    for (int t = 0; t < TOK; t++) acc[t] = warp_reduce(acc[t], op_add());
    if (lane == 0) {
#pragma unroll
        for (int t = 0; t < TOK; t++) {
            if (t0 + t >= n_tok) break;
            y[(size_t)(t0 + t) * ld + (size_t)r] = __double2float_rn(acc[t]);
        }
    }
}

static tc_status f16_check(const uint16_t *w, size_t rows, size_t K, const float *x, size_t n_tok, const float *y,
                           size_t ld, tc_err *err)
{
    if (!w || !x || !y) return tc_fail(err, TC_E_USAGE, "f16_gemm: NULL pointer");
    if (K == 0 || K % 8 != 0) return tc_fail(err, TC_E_USAGE, "f16_gemm: K = %zu is not a positive multiple of 8", K);
    if (!aligned16(w) || !aligned16(x)) return tc_fail(err, TC_E_USAGE, "f16_gemm: w and x must be 16-byte aligned");
    if (ld < rows) return tc_fail(err, TC_E_USAGE, "f16_gemm: ld %zu < rows %zu", ld, rows);
    if (rows > INT_MAX || K > INT_MAX || n_tok > (size_t)GEMM_TOK * 65535)
        return tc_fail(err, TC_E_USAGE, "f16_gemm: shape rows %zu, K %zu, n_tok %zu too large", rows, K, n_tok);
    return TC_OK;
}

extern "C" tc_status tc_cuda_f16_gemm(const uint16_t *w, size_t rows, size_t K, const float *x, size_t n_tok, float *y,
                                      size_t ld, tc_cuda_stream st, tc_err *err)
{
    tc_status rc = f16_check(w, rows, K, x, n_tok, y, ld, err);
    if (rc != TC_OK || rows == 0 || n_tok == 0) return rc;
    const dim3 grid((unsigned)((rows + WARPS - 1) / WARPS), (unsigned)((n_tok + GEMM_TOK - 1) / GEMM_TOK));
    f16_gemm_kernel<GEMM_TOK><<<grid, BLOCK, 0, (cudaStream_t)st>>>(w, (int)rows, (int)K, x, (int)n_tok, y, ld);
    return launched(err, "f16_gemm_kernel<8>");
}

extern "C" tc_status tc_cuda_f16_gemv(const uint16_t *w, size_t rows, size_t K, const float *x, float *y,
                                      tc_cuda_stream st, tc_err *err)
{
    tc_status rc = f16_check(w, rows, K, x, 1, y, rows, err);
    if (rc != TC_OK || rows == 0) return rc;
    const dim3 grid((unsigned)((rows + WARPS - 1) / WARPS), 1);
    f16_gemm_kernel<1><<<grid, BLOCK, 0, (cudaStream_t)st>>>(w, (int)rows, (int)K, x, 1, y, rows);
    return launched(err, "f16_gemm_kernel<1>");
}
