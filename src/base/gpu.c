/* gpu.c -- GPU discovery through the CUDA runtime's C API, or, in a build
 * without CUDA, a discovery that says so.  Plain C: the receipt's host
 * section and `tritcheck devices` need no CUDA compiler. */
#include "config.h"

#include <stdio.h>

#include "base/gpu.h"

#ifdef HAVE_CUDA
#include <cuda_runtime_api.h>

bool tc_cuda_built(void) { return true; }

tc_status tc_cuda_devices(tc_gpu_info *info, int max, int *count, tc_err *err)
{
    *count = 0;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) return TC_OK;   /* no GPU here */
    if (e != cudaSuccess) return tc_fail(err, TC_E_DEVICE, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    for (int i = 0; i < n && i < max; i++) {
        struct cudaDeviceProp p;
        e = cudaGetDeviceProperties(&p, i);
        if (e != cudaSuccess)
            return tc_fail(err, TC_E_DEVICE, "cudaGetDeviceProperties(%d): %s", i, cudaGetErrorString(e));
        snprintf(info[i].name, sizeof info[i].name, "%s", p.name);
        info[i].cc_major = p.major;
        info[i].cc_minor = p.minor;
        info[i].mem_bytes = p.totalGlobalMem;
        info[i].driver_version = drv;
        info[i].runtime_version = rt;
    }
    *count = n;
    return TC_OK;
}

#else

bool tc_cuda_built(void) { return false; }

tc_status tc_cuda_devices(tc_gpu_info *info, int max, int *count, tc_err *err)
{
    (void)info;
    (void)max;
    *count = 0;
    return tc_fail(err, TC_E_UNSUPPORTED, "this tritcheck was built without CUDA (configure --enable-cuda)");
}

#endif
