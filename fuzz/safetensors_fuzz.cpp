// safetensors reader on arbitrary bytes: only cotrain::Error may come out. The one
// reader of the set that needs LibTorch (it builds at::Tensor values).
#include <cstddef>
#include <cstdint>

#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto file = cotrain::io::parse_safetensors(reinterpret_cast<const char*>(data), size, "fuzz.safetensors");
    // Touch every tensor's bytes so that a wrong size or offset shows up under ASan.
    volatile uint64_t sum = 0;
    for (const auto& [name, t] : file.tensors) {
      const auto* bytes = static_cast<const uint8_t*>(t.data_ptr());
      for (size_t i = 0; i < t.nbytes(); ++i) sum += bytes[i];
    }
  } catch (const cotrain::Error&) {
  }
  return 0;
}
