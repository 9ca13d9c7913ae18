/* cuda_engine.h -- the CUDA engine's constructor (the registry opens it as
 * "cuda"). */
#ifndef TC_FAST_CUDA_CUDA_ENGINE_H
#define TC_FAST_CUDA_CUDA_ENGINE_H

#include "engine/engine.h"

/* The CUDA engine (src/fast/cuda/): the whole forward pass on one GPU of
 * compute capability 9.0 or newer, precision i2s, F16 embedding and head,
 * I2_S linears.  TC_E_UNSUPPORTED when this build has no CUDA, when there
 * is no such GPU, or for another precision or weight type; TC_E_DEVICE
 * when a CUDA call fails (out of device memory included). */
tc_status tc_cuda_engine_open(const tc_model *m, const tc_engine_opts *o, tc_engine **out, tc_err *err);

#endif
