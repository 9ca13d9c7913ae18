/* attention.cu -- laboratory for causal GQA attention over a KV cache.
 *
 * Versions:
 *   1  one thread per (token, head), sequential, scores in global memory
 *   2  the production kernel (tc_cuda_attention): one block per (head,
 *      token), one warp per key for the scores, double softmax in shared
 *      memory, values summed in fixed parts
 * Validation: |out - ref| <= 1e-6 * max|v| against tc_ref_attention_head.
 * Shapes: 2b4t heads (20 query, 5 KV, head_dim 128): decode at 4096
 * keys, prefill of 128 tokens.
 */
#include "common.h"

__global__ void attention_v1(const float *q, const float *kc, const float *vc, float *out, int n_tok, int pos0,
                             int n_head, int n_kv, int hd, double *scores /* [n_tok*n_head][pos0+n_tok] */)
{
    const int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n_tok * n_head) return;
    const int t = idx / n_head, h = idx % n_head, g = h / (n_head / n_kv), nk = pos0 + t + 1;
    const size_t st = (size_t)n_kv * hd;
    double *sc = scores + (size_t)idx * (pos0 + n_tok), mx = -INFINITY, sum = 0;
    const float *qr = q + (size_t)idx * hd;
    for (int j = 0; j < nk; j++) {
        double d = 0;
        for (int i = 0; i < hd; i++) d += (double)qr[i] * kc[j * st + g * hd + i];
        sc[j] = d / sqrt((double)hd);
        mx = fmax(mx, sc[j]);
    }
    for (int j = 0; j < nk; j++) sum += sc[j] = exp(sc[j] - mx);
    for (int i = 0; i < hd; i++) {
        double acc = 0;
        for (int j = 0; j < nk; j++) acc += sc[j] / sum * vc[j * st + g * hd + i];
        out[(size_t)idx * hd + i] = (float)acc;
    }
}

int main(void)
{
    require_gpu("attention");
    const int n_head = 20, n_kv = 5, hd = 128;
    const int cases[][2] = { { 4095, 1 }, { 0, 128 } };   /* {pos0, n_tok} */
    int fails = 0;
    printf("\n%-22s %-8s %10s\n", "case", "version", "us");
    for (auto &c : cases) {
        const int pos0 = c[0], n_tok = c[1], n_ctx = pos0 + n_tok;
        const size_t qn = (size_t)n_tok * n_head * hd, kn = (size_t)n_ctx * n_kv * hd;
        std::vector<float> q(qn), k(kn), v(kn), got(qn), ref(qn);
        std::vector<double> sc(n_ctx);
        for (auto &a : q) a = lab_gauss();
        for (auto &a : k) a = lab_gauss();
        float vmax = 0;
        for (auto &a : v) a = 2.385f * lab_gauss(), vmax = fmaxf(vmax, fabsf(a));
        for (int t = 0; t < n_tok; t++)
            for (int h = 0; h < n_head; h++) {
                const int g = tc_ref_kv_head(h, n_head, n_kv);
                tc_ref_attention_head(&q[((size_t)t * n_head + h) * hd], &k[(size_t)g * hd], &v[(size_t)g * hd],
                                      (size_t)n_kv * hd, pos0 + t + 1, hd, sc.data(), &ref[((size_t)t * n_head + h) * hd]);
            }
        float *dq = to_device(q.data(), qn), *dk = to_device(k.data(), kn), *dv = to_device(v.data(), kn), *dout;
        double *dsc;
        cuda_check(cudaMalloc(&dout, qn * 4));
        cuda_check(cudaMalloc(&dsc, (size_t)n_tok * n_head * n_ctx * 8));
        char what[96];
        for (int ver = 1; ver <= 2; ver++) {
            cuda_check(cudaMemset(dout, 0xff, qn * 4));
            auto run = [&](int) {
                if (ver == 1)
                    attention_v1<<<(n_tok * n_head + 63) / 64, 64>>>(dq, dk, dv, dout, n_tok, pos0, n_head, n_kv, hd, dsc);
                if (ver == 2) tc_check(tc_cuda_attention(dq, dk, dv, dout, n_tok, pos0, n_head, n_kv, hd, NULL, &lab_err));
            };
            run(0);
            cuda_check(cudaDeviceSynchronize());
            cuda_check(cudaMemcpy(got.data(), dout, qn * 4, cudaMemcpyDeviceToHost));
            snprintf(what, sizeof what, "attention v%d pos0 %d tokens %d", ver, pos0, n_tok);
            fails += validate(what, got.data(), ref.data(), qn, 1e-6 * vmax, 0) != 0;
            double ms = bench_ms(run, 2, 10);
            printf("pos0 %-5d tokens %-4d v%-7d %10.2f\n", pos0, n_tok, ver, ms * 1e3);
        }
        cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dout), cudaFree(dsc);
    }
    printf("attention: %s\n", fails ? "FAILED" : "all versions match the reference");
    return fails ? 1 : 0;
}
