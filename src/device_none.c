/* device_none.c -- GPU discovery in a build without CUDA. */
#include "device.h"

bool tc_cuda_built(void) { return false; }

tc_status tc_cuda_devices(tc_gpu_info *info, int max, int *count, tc_err *err)
{
    (void)info;
    (void)max;
    *count = 0;
    return tc_fail(err, TC_E_UNSUPPORTED, "this tritcheck was built without CUDA (configure --enable-cuda)");
}
