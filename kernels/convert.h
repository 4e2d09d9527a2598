/* convert: fp32 -> bf16 copies for GEMM operands, and the bias broadcast that precedes a GEMM with bias.
 * Host launchers only; buffers are device memory, bf16 buffers are uint16_t in C. */
#ifndef R1LAB_KERNELS_CONVERT_H
#define R1LAB_KERNELS_CONVERT_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out (n, bf16) = round-to-nearest-even of in (n, fp32) */
cudaError_t convert_to_bf16(uint16_t *out, const float *in, size_t n, cudaStream_t stream);
/* out (R, C, bf16) = in[rows[r]] for in (*, C, fp32); rows (R) device */
cudaError_t convert_gather_bf16(uint16_t *out, const float *in, const int32_t *rows, int R, int C, cudaStream_t stream);
/* out (R, C, fp32) = in[rows[r]] */
cudaError_t convert_gather_f32(float *out, const float *in, const int32_t *rows, int R, int C, cudaStream_t stream);
/* out (N, OC) = bias broadcast over rows */
cudaError_t convert_broadcast_bias(float *out, const float *bias, int N, int OC, cudaStream_t stream);
/* cudaSuccess when this library holds code the current device can run (checked once at open: a library built
 * for sm_90 cannot run on an sm_80 device, and the message should say so before the first op fails). */
cudaError_t convert_probe(void);

#ifdef __cplusplus
}
#endif

#endif
