// One AdamW update of one parameter in a single pass over param, grad and both
// moments (torch.optim.AdamW's formula, same order of operations), instead of the
// eight tensor-wide passes and two temporaries of the ATen composition.
#pragma once
#include <ATen/core/Tensor.h>

namespace cotrain::nn::kernels {

struct AdamWStep {
  double lr = 0;             // this parameter's learning rate
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0;   // 0 for parameters without decay
  double bias_correction1 = 1, bias_correction2 = 1;
};

// True when the fused update can take these tensors (CPU float32, contiguous,
// same size).
bool adamw_fusable(const at::Tensor& param, const at::Tensor& grad, const at::Tensor& exp_avg,
                   const at::Tensor& exp_avg_sq);

// Updates param, exp_avg and exp_avg_sq in place.
void adamw_update(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg, at::Tensor& exp_avg_sq,
                  const AdamWStep& s);

}  // namespace cotrain::nn::kernels
