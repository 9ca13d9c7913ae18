/* f16_gemv.cu -- laboratory for the F16 tied LM head (128256 x 2560).
 *
 * Versions:
 *   1  one warp per row, 2-byte loads, float accumulation
 *   2  the production kernel (tc_cuda_f16_gemv): one warp per row, 16-byte
 *      loads, double accumulation (each f16 x float product exact)
 * Validation: |y - ref| <= 1e-6 * sum|w x| per row (ref in double).
 * Floor: 656 MB of F16 weights per token: about 196 us at 3.35 TB/s.
 */
#include <cuda_fp16.h>

#include "common.h"

__global__ void f16_v1(const uint16_t *w, int rows, int K, const float *x, float *y)
{
    const int lane = threadIdx.x % 32, r = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
    if (r >= rows) return;
    float s = 0;
    for (int i = lane; i < K; i += 32) s += __half2float(__ushort_as_half(w[(size_t)r * K + i])) * x[i];
    for (int off = 16; off; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
    if (lane == 0) y[r] = s;
}

int main(void)
{
    require_gpu("f16_gemv");
    const int rows = 128256, K = 2560;
    std::vector<uint16_t> w((size_t)rows * K);
    std::vector<float> x(K), ref(rows), tol(rows), got(rows);
    for (auto &v : w) v = tc_f32_to_f16(0.05f * lab_gauss());
    for (auto &v : x) v = lab_gauss();
    for (int r = 0; r < rows; r++) {
        double s = 0, a = 0;
        for (int i = 0; i < K; i++) {
            double p = (double)tc_f16_to_f32(w[(size_t)r * K + i]) * x[i];
            s += p, a += fabs(p);
        }
        ref[r] = (float)s, tol[r] = (float)(1e-6 * a);
    }
    uint16_t *dw = to_device(w.data(), w.size());
    float *dx = to_device(x.data(), K), *dy;
    cuda_check(cudaMalloc(&dy, rows * 4));
    int fails = 0;
    printf("\n%-10s %10s %10s\n", "version", "us", "GB/s");
    for (int v = 1; v <= 2; v++) {
        cuda_check(cudaMemset(dy, 0xff, rows * 4));
        auto run = [&](int) {
            if (v == 1) f16_v1<<<(rows + 7) / 8, 256>>>(dw, rows, K, dx, dy);
            if (v == 2) tc_check(tc_cuda_f16_gemv(dw, rows, K, dx, dy, NULL, &lab_err));
        };
        run(0);
        cuda_check(cudaDeviceSynchronize());
        cuda_check(cudaMemcpy(got.data(), dy, rows * 4, cudaMemcpyDeviceToHost));
        size_t bad = 0;
        for (int r = 0; r < rows; r++) bad += !(fabs((double)got[r] - ref[r]) <= tol[r] + 1e-30);
        printf("f16 gemv v%d: %zu/%d rows outside 1e-6 * sum|wx|: %s\n", v, bad, rows, bad ? "FAIL" : "ok");
        if (v == 2) fails += bad != 0;   /* v1 (float sums) is shown for contrast */
        double ms = bench_ms(run);
        printf("v%-9d %10.2f %10.1f\n", v, ms * 1e3, ((double)rows * K * 2 + K * 4 + rows * 4) / ms / 1e6);
    }
    cudaFree(dw), cudaFree(dx), cudaFree(dy);
    printf("f16_gemv: %s\n", fails ? "FAILED" : "the production version matches the reference");
    return fails ? 1 : 0;
}
