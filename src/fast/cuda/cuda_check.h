/* cuda_check.h -- CUDA runtime errors as tc_status, for the .cu files of
 * the CUDA engine (C++): one line naming the call, the CUDA error string
 * and its name. */
#ifndef TC_FAST_CUDA_CUDA_CHECK_H
#define TC_FAST_CUDA_CUDA_CHECK_H

#include <cuda_runtime.h>

extern "C" {
#include "base/status.h"
}

static inline tc_status cuda_fail(tc_err *err, cudaError_t e, const char *what)
{
    return tc_fail(err, TC_E_DEVICE, "%s: %s (%s)", what, cudaGetErrorString(e), cudaGetErrorName(e));
}

/* Return TC_E_DEVICE from the enclosing function (which has a tc_err *err)
 * when call fails. */
#define TC_CU(call, what)                                       \
    do {                                                        \
        cudaError_t e_ = (call);                                \
        if (e_ != cudaSuccess) return cuda_fail(err, e_, what); \
    } while (0)

#endif
