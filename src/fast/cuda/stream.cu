/* stream.cu -- streams, asynchronous copies and CUDA Graphs for the CUDA
 * engine (see stream.h). */
#include <cuda_runtime.h>

extern "C" {
#include "fast/cuda/stream.h"
}
#include "fast/cuda/cuda_check.h"


extern "C" tc_status tc_cuda_stream_new(tc_cuda_stream *out, tc_err *err)
{
    cudaStream_t s = NULL;
    *out = NULL;
    TC_CU(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    *out = (tc_cuda_stream)s;
    return TC_OK;
}

extern "C" void tc_cuda_stream_free(tc_cuda_stream st)
{
    if (st) cudaStreamDestroy((cudaStream_t)st);
}

extern "C" tc_status tc_cuda_stream_sync(tc_cuda_stream st, tc_err *err)
{
    TC_CU(cudaStreamSynchronize((cudaStream_t)st), "cudaStreamSynchronize");
    TC_CU(cudaGetLastError(), "cudaGetLastError");
    return TC_OK;
}

static tc_status copy_async(void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, tc_cuda_stream st,
                            tc_err *err, const char *what)
{
    if (bytes == 0) return TC_OK;
    if (!dst || !src) return tc_fail(err, TC_E_USAGE, "%s: NULL pointer", what);
    TC_CU(cudaMemcpyAsync(dst, src, bytes, kind, (cudaStream_t)st), what);
    return TC_OK;
}

extern "C" tc_status tc_cuda_upload_async(void *dst, const void *src, size_t bytes, tc_cuda_stream st, tc_err *err)
{
    return copy_async(dst, src, bytes, cudaMemcpyHostToDevice, st, err, "cudaMemcpyAsync (upload)");
}

extern "C" tc_status tc_cuda_download_async(void *dst, const void *src, size_t bytes, tc_cuda_stream st, tc_err *err)
{
    return copy_async(dst, src, bytes, cudaMemcpyDeviceToHost, st, err, "cudaMemcpyAsync (download)");
}

extern "C" bool tc_cuda_host_register(void *p, size_t bytes)
{
    if (!p || bytes == 0) return false;
    if (cudaHostRegister(p, bytes, cudaHostRegisterDefault) == cudaSuccess) return true;
    cudaGetLastError();   /* not sticky: the buffer simply stays pageable */
    return false;
}

extern "C" void tc_cuda_host_unregister(void *p)
{
    if (p && cudaHostUnregister(p) != cudaSuccess) cudaGetLastError();
}

extern "C" tc_status tc_cuda_capture_begin(tc_cuda_stream st, tc_err *err)
{
    TC_CU(cudaStreamBeginCapture((cudaStream_t)st, cudaStreamCaptureModeRelaxed), "cudaStreamBeginCapture");
    return TC_OK;
}

extern "C" tc_status tc_cuda_capture_end(tc_cuda_stream st, bool ok, tc_cuda_graph *out, tc_err *err)
{
    cudaGraph_t g = NULL;
    cudaGraphExec_t x = NULL;
    *out = NULL;
    cudaError_t e = cudaStreamEndCapture((cudaStream_t)st, &g);
    if (!ok) {
        if (g) cudaGraphDestroy(g);
        cudaGetLastError();   /* an invalidated capture is expected here */
        return TC_OK;
    }
    if (e != cudaSuccess) {
        if (g) cudaGraphDestroy(g);
        return cuda_fail(err, e, "cudaStreamEndCapture");
    }
    e = cudaGraphInstantiate(&x, g, 0);
    cudaGraphDestroy(g);   /* the executable graph keeps what it needs */
    if (e != cudaSuccess) return cuda_fail(err, e, "cudaGraphInstantiate");
    *out = (tc_cuda_graph)x;
    return TC_OK;
}

extern "C" tc_status tc_cuda_graph_launch(tc_cuda_graph g, tc_cuda_stream st, tc_err *err)
{
    if (!g) return tc_fail(err, TC_E_USAGE, "cudaGraphLaunch: NULL graph");
    TC_CU(cudaGraphLaunch((cudaGraphExec_t)g, (cudaStream_t)st), "cudaGraphLaunch");
    return TC_OK;
}

extern "C" void tc_cuda_graph_free(tc_cuda_graph g)
{
    if (g) cudaGraphExecDestroy((cudaGraphExec_t)g);
}
