/* device.cu -- GPU discovery through the CUDA runtime: the first CUDA file,
 * compiled and linked whenever configure finds nvcc. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

extern "C" {
#include "device.h"
}

extern "C" bool tc_cuda_built(void) { return true; }

extern "C" tc_status tc_cuda_devices(tc_gpu_info *info, int max, int *count, tc_err *err)
{
    *count = 0;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver) return TC_OK;  /* no GPU here */
    if (e != cudaSuccess)
        return tc_fail(err, TC_E_DEVICE, "cudaGetDeviceCount: %s", cudaGetErrorString(e));
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    for (int i = 0; i < n && i < max; i++) {
        cudaDeviceProp p;
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
