/* stream.h -- the CUDA engine's streams, asynchronous copies and CUDA
 * Graphs behind a plain-C API (the runtime stays in .cu files).
 *
 * Errors as in kernels.h: TC_OK, TC_E_USAGE, TC_E_DEVICE (err->msg names
 * the CUDA call and carries cudaGetErrorName / cudaGetErrorString).
 */
#ifndef TC_FAST_CUDA_STREAM_H
#define TC_FAST_CUDA_STREAM_H

#include <stdbool.h>
#include <stddef.h>

#include "fast/cuda/cuda_kernels.h"
#include "base/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An instantiated CUDA Graph (cudaGraphExec_t), opaque to C callers. */
typedef void *tc_cuda_graph;

/* A new non-blocking stream (never synchronizes with the legacy default
 * stream).  Returns TC_OK, TC_E_DEVICE. */
tc_status tc_cuda_stream_new(tc_cuda_stream *out, tc_err *err);

/* Destroy a stream (NULL: no-op). */
void tc_cuda_stream_free(tc_cuda_stream st);

/* Wait for the stream's work; reports any error a kernel raised.
 * Returns TC_OK, TC_E_DEVICE. */
tc_status tc_cuda_stream_sync(tc_cuda_stream st, tc_err *err);

/* Copies ordered on the stream.  From pageable host memory the source may
 * be reused on return; to pageable host memory the copy has completed on
 * return; with pinned (registered) memory both only after
 * tc_cuda_stream_sync.  Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_upload_async(void *dst, const void *src, size_t bytes, tc_cuda_stream st, tc_err *err);
tc_status tc_cuda_download_async(void *dst, const void *src, size_t bytes, tc_cuda_stream st, tc_err *err);

/* Page-lock an existing host buffer for direct DMA.  False when the
 * driver refuses (the buffer then stays pageable and works as before). */
bool tc_cuda_host_register(void *p, size_t bytes);
void tc_cuda_host_unregister(void *p);

/* Capture the work issued on st until tc_cuda_capture_end into a graph
 * (relaxed mode: the kernels' launch helpers may query the device).
 * Returns TC_OK, TC_E_DEVICE. */
tc_status tc_cuda_capture_begin(tc_cuda_stream st, tc_err *err);

/* End the capture and instantiate it into *out.  With ok false (the
 * issuing failed half way), end and discard it and return TC_OK with *out
 * NULL.  Returns TC_OK, TC_E_DEVICE. */
tc_status tc_cuda_capture_end(tc_cuda_stream st, bool ok, tc_cuda_graph *out, tc_err *err);

/* Replay a graph on st.  Returns TC_OK, TC_E_USAGE, TC_E_DEVICE. */
tc_status tc_cuda_graph_launch(tc_cuda_graph g, tc_cuda_stream st, tc_err *err);

/* Destroy an instantiated graph (NULL: no-op). */
void tc_cuda_graph_free(tc_cuda_graph g);

#ifdef __cplusplus
}
#endif

#endif
