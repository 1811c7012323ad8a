// Writing safetensors the way Hugging Face's library does: tensors ordered by element
// size (largest first, then by name) so that every tensor starts at a multiple of its
// element size, and the header padded with spaces to a multiple of 8 bytes.
#include <ATen/ATen.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/io/safetensors_dtypes.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors writer assumes a little-endian host");

namespace cotrain::io {
namespace {

struct Item {
  std::string name;
  const SafetensorsDtype* dtype;
  at::Tensor tensor;  // CPU, contiguous
  size_t nbytes;
};

std::vector<Item> prepare(const TensorMap& tensors) {
  std::vector<Item> items;
  for (const auto& [name, tensor] : tensors) {
    if (name.empty()) fail("safetensors: cannot write a tensor with an empty name");
    if (name == "__metadata__") fail("safetensors: \"__metadata__\" is reserved and cannot name a tensor");
    if (!tensor.defined()) fail("safetensors: tensor {} is undefined", name);
    if (tensor.layout() != at::kStrided) fail("safetensors: tensor {}: only dense tensors can be written", name);
    const SafetensorsDtype* dtype = dtype_by_type(tensor.scalar_type());
    if (!dtype) fail("safetensors: tensor {}: dtype {} cannot be written (supported: {})", name,
                     c10::toString(tensor.scalar_type()), supported_dtype_names());
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    items.push_back({name, dtype, t, static_cast<size_t>(t.numel()) * dtype->size});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return a.dtype->size != b.dtype->size ? a.dtype->size > b.dtype->size : a.name < b.name;
  });
  return items;
}

// The 8-byte length and the padded JSON header; the data follows in `items` order.
std::string header_bytes(const std::vector<Item>& items, const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  // transformers refuses to load a file whose metadata lacks "format", so add it.
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");
  header["__metadata__"] = meta;
  size_t offset = 0;
  for (const auto& item : items) {
    header[item.name] = {{"dtype", item.dtype->name},
                         {"shape", item.tensor.sizes().vec()},
                         {"data_offsets", {offset, offset + item.nbytes}}};
    offset += item.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception&) {
    fail("safetensors: a tensor name or metadata string is not valid UTF-8");
  }
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_size = text.size();
  std::string out(8, '\0');
  std::memcpy(&out[0], &header_size, 8);
  return out + text;
}

}  // namespace

std::string serialize_safetensors(const TensorMap& tensors, const std::map<std::string, std::string>& metadata) {
  const std::vector<Item> items = prepare(tensors);
  std::string out = header_bytes(items, metadata);
  for (const auto& item : items) out.append(static_cast<const char*>(item.tensor.data_ptr()), item.nbytes);
  return out;
}

void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<Item> items;
  std::string header;
  try {
    items = prepare(tensors);
    header = header_bytes(items, metadata);
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  // Streamed: a model's weights are not copied into one big buffer first.
  AtomicFileWriter file(path);
  file.write(header);
  for (const auto& item : items) file.write(static_cast<const char*>(item.tensor.data_ptr()), item.nbytes);
  file.commit();
}

}  // namespace cotrain::io
