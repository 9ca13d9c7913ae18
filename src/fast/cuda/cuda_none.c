/* cuda_none.c -- the CUDA engine in a build without CUDA: it says so. */
#include "fast/cuda/cuda_engine.h"

tc_status tc_cuda_engine_open(const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err)
{
    (void)m;
    (void)o;
    *out = NULL;
    return tc_fail(err, TC_E_UNSUPPORTED, "this tritcheck was built without CUDA (configure --enable-cuda)");
}
