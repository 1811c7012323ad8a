#include "erica_test_util.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

#include "cotrain/models/bert/text_model.h"

namespace cotrain::testing {

void write_erica_test_model(const std::string& dir, uint64_t seed) {
  Config c = erica_fixture_config();
  models::TextModel tm = models::new_text_model(c.model, c.data.vocab, true);
  at::Generator gen = at::detail::createCPUGenerator(seed);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : tm.model->named_parameters()) {
      const std::string& name = p.key();
      at::Tensor noise = at::normal(0.0, 1.0, p.value().sizes(), gen);
      if (name.find("LayerNorm") != std::string::npos && name.size() > 6 && name.substr(name.size() - 6) == "weight")
        p.value().copy_(1.0 + 0.1 * noise);
      else if (name.size() > 4 && name.substr(name.size() - 4) == "bias")
        p.value().copy_(0.1 * noise);
      else
        p.value().copy_(0.1 * noise);
    }
  }
  models::save_text_model(dir, tm);
}

}  // namespace cotrain::testing
