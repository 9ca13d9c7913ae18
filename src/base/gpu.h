/* gpu.h -- GPU discovery, independent of whether CUDA was built. */
#ifndef TC_BASE_GPU_H
#define TC_BASE_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"

typedef struct tc_gpu_info {
    char name[256];        /* "NVIDIA H100 80GB HBM3" */
    int cc_major, cc_minor;/* compute capability */
    size_t mem_bytes;      /* global memory */
    int driver_version;    /* cudaDriverGetVersion, e.g. 13000 */
    int runtime_version;   /* cudaRuntimeGetVersion */
} tc_gpu_info;

/* True when this build contains the CUDA engine. */
bool tc_cuda_built(void);

/* Fill up to max entries of info and set *count to the number of GPUs.
 * Returns TC_OK (count may be 0), TC_E_UNSUPPORTED when CUDA is not built,
 * or TC_E_DEVICE with the CUDA error string. */
tc_status tc_cuda_devices(tc_gpu_info *info, int max, int *count, tc_err *err);

#endif
