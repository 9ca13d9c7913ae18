/* i2s_gemv.cu -- laboratory for the I2_S x int8 GEMV/GEMM (SPEC 1.2, 2.2).
 *
 *   ./i2s_gemv            validate every version, then benchmark them
 *
 * Versions:
 *   1  one thread per row, one code at a time (the obvious kernel)
 *   2  one warp per row, 4-byte words, codes expanded to int8 in registers,
 *      one dp4a per 4 elements
 *   3  the production kernel (src/fast/cuda, tc_cuda_i2s_gemv/gemm): one
 *      warp per row, 16-byte chunks, TOK = 8 tokens per weight load in GEMM
 * Reference: tc_ref_i2s_dot_q8 (exact int64), y = (float)sum / s * m.
 * Floors (2b4t ffn_gate 6912 x 2560): 4.4 MB of codes per GEMV, so about
 * 1.3 us at 3.35 TB/s (H100 SXM); GEMM is bound by dp4a throughput.
 */
#include "common.h"

/* the production formula, checked here on all 256 byte patterns */
__host__ __device__ static inline uint32_t expand4(uint32_t c)
{
    const uint32_t b0 = c & 0x01010101u, b1 = (c >> 1) & 0x01010101u;
    return ~((b1 * 0xFEu) | (b0 * 0xFFu));
}

static int check_expand(void)
{
    static const int val[4] = { -1, 0, 1, 0 };
    int bad = 0;
    for (unsigned c = 0; c < 256; c++) {
        uint32_t w = 0;
        for (int k = 0; k < 4; k++) w |= ((c >> (2 * k)) & 3u) << (8 * k);
        uint32_t v = expand4(w);
        for (int k = 0; k < 4; k++) bad += (int8_t)(v >> (8 * k)) != val[(c >> (2 * k)) & 3u];
    }
    printf("%-34s %s\n", "expand4 on all 256 code bytes", bad ? "FAIL" : "ok");
    return bad;
}

__global__ void gemv_v1(const uint8_t *w, int rows, int K, const int8_t *q, const float *s, float m, float *y)
{
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const uint8_t *row = w + (size_t)r * (K / 4);
    int sum = 0;
    for (int i = 0; i < K; i++) {
        const int b = i / 128, e = i % 128;
        const unsigned c = (row[b * 32 + e % 32] >> (6 - 2 * (e / 32))) & 3u;
        sum += (c == 3 ? 0 : (int)c - 1) * q[i];
    }
    y[r] = __fmul_rn(__fdiv_rn(__int2float_rn(sum), s[0]), m);
}

__global__ void gemv_v2(const uint8_t *w, int rows, int K, const int8_t *q, const float *s, float m, float *y)
{
    const int lane = threadIdx.x % 32, r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (r >= rows) return;
    const uint32_t *row = (const uint32_t *)(w + (size_t)r * (K / 4));
    int sum = 0;
    for (int k = lane; k < K / 16; k += 32) {   /* word k: block k/8, bytes 4(k%8).. */
        const uint32_t word = row[k];
        const int base = (k / 8) * 128 + (k % 8) * 4;
        for (int g = 0; g < 4; g++)
            sum = __dp4a((int)expand4((word >> (6 - 2 * g)) & 0x03030303u), *(const int *)(q + base + 32 * g), sum);
    }
    for (int off = 16; off; off >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, off);
    if (lane == 0) y[r] = __fmul_rn(__fdiv_rn(__int2float_rn(sum), s[0]), m);
}

struct shape { const char *name; int rows, K; };

int main(void)
{
    int fails = check_expand();
    require_gpu("i2s_gemv");
    const shape shapes[] = { { "attn_q 2560x2560", 2560, 2560 }, { "attn_k 640x2560", 640, 2560 },
                             { "ffn_gate 6912x2560", 6912, 2560 }, { "ffn_down 2560x6912", 2560, 6912 } };
    const int n_copies = 16, n_tok = 128;   /* rotate weight copies past the L2 */
    printf("\n%-22s %-10s %10s %10s\n", "shape", "version", "us", "GB/s|TOPS");
    for (const shape &sh : shapes) {
        const size_t nb = (size_t)sh.rows * sh.K / 4;
        std::vector<uint8_t> w(nb);
        for (auto &b : w) b = (uint8_t)lab_u32();
        std::vector<int8_t> q((size_t)n_tok * sh.K);
        for (auto &v : q) v = (int8_t)lab_u32();
        std::vector<float> s(n_tok), ref((size_t)n_tok * sh.rows), got((size_t)n_tok * sh.rows);
        for (auto &v : s) v = 0.5f + (float)(lab_u32() % 1000) / 10.0f;
        const float m = 2.385f;
        for (int t = 0; t < n_tok; t++)
            for (int r = 0; r < sh.rows; r++)
                ref[(size_t)t * sh.rows + r] =
                    (float)tc_ref_i2s_dot_q8(&w[(size_t)r * sh.K / 4], &q[(size_t)t * sh.K], sh.K) / s[t] * m;
        uint8_t *dw;
        cuda_check(cudaMalloc(&dw, nb * n_copies));
        for (int c = 0; c < n_copies; c++) cuda_check(cudaMemcpy(dw + c * nb, w.data(), nb, cudaMemcpyHostToDevice));
        int8_t *dq = to_device(q.data(), q.size());
        float *ds = to_device(s.data(), s.size()), *dy;
        cuda_check(cudaMalloc(&dy, got.size() * 4));
        char what[96];
        for (int v = 1; v <= 3; v++) {
            cuda_check(cudaMemset(dy, 0xff, got.size() * 4));
            auto run = [&](int it) {
                const uint8_t *wc = dw + (size_t)(it % n_copies) * nb;
                if (v == 1) gemv_v1<<<(sh.rows + 127) / 128, 128>>>(wc, sh.rows, sh.K, dq, ds, m, dy);
                if (v == 2) gemv_v2<<<(sh.rows + 7) / 8, 256>>>(wc, sh.rows, sh.K, dq, ds, m, dy);
                if (v == 3) tc_check(tc_cuda_i2s_gemv(wc, sh.rows, sh.K, dq, ds, m, dy, NULL, NULL, &lab_err));
            };
            run(0);
            cuda_check(cudaDeviceSynchronize());
            cuda_check(cudaMemcpy(got.data(), dy, sh.rows * 4, cudaMemcpyDeviceToHost));
            snprintf(what, sizeof what, "gemv v%d %s", v, sh.name);
            fails += validate_exact(what, got.data(), ref.data(), sh.rows, 4) != 0;
            double ms = bench_ms(run);
            printf("%-22s gemv v%-3d %10.2f %10.1f\n", sh.name, v, ms * 1e3, (nb + sh.K + sh.rows * 4) / ms / 1e6);
        }
        /* prefill: the production GEMM over n_tok tokens */
        cuda_check(cudaMemset(dy, 0xff, got.size() * 4));
        auto run = [&](int it) {
            tc_check(tc_cuda_i2s_gemm(dw + (size_t)(it % n_copies) * nb, sh.rows, sh.K, dq, n_tok, ds, m, dy, NULL,
                                      sh.rows, NULL, &lab_err));
        };
        run(0);
        cuda_check(cudaDeviceSynchronize());
        cuda_check(cudaMemcpy(got.data(), dy, got.size() * 4, cudaMemcpyDeviceToHost));
        snprintf(what, sizeof what, "gemm v3 %s x %d tok", sh.name, n_tok);
        fails += validate_exact(what, got.data(), ref.data(), got.size(), 4) != 0;
        double ms = bench_ms(run);
        printf("%-22s gemm%-5d %10.2f %10.2f\n", sh.name, n_tok, ms * 1e3, 2.0 * sh.rows * sh.K * n_tok / ms / 1e9);
        cudaFree(dw), cudaFree(dq), cudaFree(ds), cudaFree(dy);
    }
    printf("i2s_gemv: %s\n", fails ? "FAILED" : "all versions match the reference");
    return fails ? 1 : 0;
}
