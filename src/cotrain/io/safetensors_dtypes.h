// The safetensors dtype names, their LibTorch types and element sizes (internal to io/).
#pragma once
#include <cstddef>
#include <string>

#include <c10/core/ScalarType.h>

namespace cotrain::io {

struct SafetensorsDtype {
  const char* name;     // as written in the header: "F32", "BF16", ...
  at::ScalarType type;  // the LibTorch type a tensor of that dtype gets
  size_t size;          // bytes per element
};

// nullptr when `name` is not one of the supported dtypes.
const SafetensorsDtype* dtype_by_name(const std::string& name);
// nullptr when LibTorch type `type` has no safetensors dtype cotrain writes.
const SafetensorsDtype* dtype_by_type(at::ScalarType type);
// "F64, F32, ..." for error messages.
std::string supported_dtype_names();

}  // namespace cotrain::io
