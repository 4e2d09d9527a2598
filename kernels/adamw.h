/* adamw: the fused optimiser step. Host launcher only. */
#ifndef R1LAB_KERNELS_ADAMW_H
#define R1LAB_KERNELS_ADAMW_H

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One AdamW update of n parameters, torch.optim.AdamW's arithmetic (as backend_cpu.c): param, m, v updated in
 * place; when shadow (n, bf16) is not NULL it receives the updated parameters rounded to bf16 in the same pass. */
cudaError_t adamw_update(float *param, uint16_t *shadow, const float *grad, float *m, float *v, size_t n, float lr,
                         float beta1, float beta2, float eps, float weight_decay, float bias_correction1,
                         float bias_correction2, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
