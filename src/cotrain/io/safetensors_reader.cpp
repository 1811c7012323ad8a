// Reading safetensors from untrusted bytes. Every field is checked before any byte of
// the data buffer is touched, so a truncated or corrupt file is a cotrain::Error, never
// an out-of-bounds read, a crash or a huge allocation.
#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "cotrain/core/atomic_file.h"
#include "cotrain/core/error.h"
#include "cotrain/io/safetensors.h"
#include "cotrain/io/safetensors_dtypes.h"

// The format is little-endian; the copies below are plain memcpy, which is right only
// on little-endian hosts (every platform LibTorch ships for).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors reader assumes a little-endian host");

namespace cotrain::io {
namespace {

using nlohmann::json;

// Same limit as the reference implementation: a real header is a few hundred KB.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;
constexpr size_t kMaxDims = 64;
constexpr int kMaxNesting = 8;

struct Entry {
  std::string name;
  const SafetensorsDtype* dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// nlohmann::json keeps the last of two equal keys without a word; a duplicated tensor
// name must be an error, so the parser callback records every key of every object.
json parse_header_json(const char* begin, const char* end, const std::string& file) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  size_t duplicate_depth = 0;
  // A valid header nests three deep ({"name": {"shape": [..]}}). Without a limit, 100 MB
  // of "[" would build tens of millions of nested arrays before failing: stop early.
  int open_containers = 0;
  struct TooDeep {};
  auto on_event = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) {
      if (++open_containers > kMaxNesting) throw TooDeep{};
    } else if (event == json::parse_event_t::object_end || event == json::parse_event_t::array_end) {
      --open_containers;
    }
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && duplicate.empty()) {
      const std::string& key = parsed.get_ref<const std::string&>();
      if (!open_objects.back().insert(key).second) {
        duplicate = key;
        duplicate_depth = open_objects.size();
      }
    }
    return true;
  };
  json header;
  try {
    header = json::parse(begin, end, on_event);
  } catch (const json::exception& e) {
    std::string why = e.what();
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    if (auto bracket = why.find("] "); bracket != std::string::npos) why = why.substr(bracket + 2);
    fail("{}: header is not valid JSON: {}", file, why);
  } catch (const TooDeep&) {
    fail("{}: header nests lists or objects more than {} deep: not a safetensors header", file, kMaxNesting);
  }
  if (!duplicate.empty()) {
    if (duplicate_depth == 1) fail("{}: tensor {}: name appears twice in the header", file, duplicate);
    fail("{}: header: key \"{}\" appears twice in one object", file, duplicate);
  }
  if (!header.is_object()) fail("{}: header must be a JSON object, got {}", file, header.type_name());
  return header;
}

uint64_t read_u64_le(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// A JSON value that must be a non-negative integer fitting in int64.
bool as_index(const json& v, uint64_t& out) {
  if (v.is_number_unsigned()) {
    out = v.get<uint64_t>();
  } else if (v.is_number_integer()) {
    int64_t s = v.get<int64_t>();
    if (s < 0) return false;
    out = static_cast<uint64_t>(s);
  } else {
    return false;
  }
  return out <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
}

Entry parse_entry(const std::string& name, const json& info, uint64_t buffer_size, const std::string& file) {
  Entry e;
  e.name = name;
  if (name.empty()) fail("{}: a tensor has an empty name", file);
  if (!info.is_object()) fail("{}: tensor {}: entry must be an object, got {}", file, name, info.type_name());

  auto dtype_it = info.find("dtype");
  if (dtype_it == info.end()) fail("{}: tensor {}: no dtype", file, name);
  if (!dtype_it->is_string()) fail("{}: tensor {}: dtype must be a string", file, name);
  e.dtype = dtype_by_name(dtype_it->get<std::string>());
  if (!e.dtype)
    fail("{}: tensor {}: unsupported dtype \"{}\" (supported: {})", file, name, dtype_it->get<std::string>(),
         supported_dtype_names());

  auto shape_it = info.find("shape");
  if (shape_it == info.end()) fail("{}: tensor {}: no shape", file, name);
  if (!shape_it->is_array()) fail("{}: tensor {}: shape must be a list of integers", file, name);
  if (shape_it->size() > kMaxDims) fail("{}: tensor {}: shape has {} dimensions (at most {})", file, name, shape_it->size(), kMaxDims);
  // numel x element size must not overflow; a zero dimension makes numel 0, but the
  // other dimensions must still be sane for LibTorch to build the tensor.
  uint64_t product_nonzero = 1, numel = 1;
  for (const auto& dim : *shape_it) {
    uint64_t d;
    if (!as_index(dim, d)) fail("{}: tensor {}: shape must be a list of non-negative integers, got {}", file, name, shape_it->dump());
    if (d != 0 && __builtin_mul_overflow(product_nonzero, d, &product_nonzero))
      fail("{}: tensor {}: shape {} is too large", file, name, shape_it->dump());
    numel = (d == 0) ? 0 : numel * d;  // cannot overflow: numel <= product_nonzero
    e.shape.push_back(static_cast<int64_t>(d));
  }
  uint64_t nbytes;
  if (product_nonzero > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
      __builtin_mul_overflow(numel, e.dtype->size, &nbytes))
    fail("{}: tensor {}: shape {} is too large", file, name, shape_it->dump());

  auto offsets_it = info.find("data_offsets");
  if (offsets_it == info.end()) fail("{}: tensor {}: no data_offsets", file, name);
  if (!offsets_it->is_array() || offsets_it->size() != 2 || !as_index((*offsets_it)[0], e.begin) ||
      !as_index((*offsets_it)[1], e.end))
    fail("{}: tensor {}: data_offsets must be two non-negative integers [begin, end]", file, name);
  if (e.begin > e.end) fail("{}: tensor {}: data_offsets [{}, {}] end before they begin", file, name, e.begin, e.end);
  if (e.end > buffer_size)
    fail("{}: tensor {}: data_offsets [{}, {}] reach past the end of the data ({} bytes; is the file truncated?)", file,
         name, e.begin, e.end, buffer_size);
  if (e.end - e.begin != nbytes)
    fail("{}: tensor {}: data_offsets [{}, {}] hold {} bytes, but {} {} needs {}", file, name, e.begin, e.end,
         e.end - e.begin, e.dtype->name, shape_it->dump(), nbytes);
  return e;
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& file) {
  if (!value.is_object()) fail("{}: __metadata__ must be an object of strings, got {}", file, value.type_name());
  std::map<std::string, std::string> out;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) fail("{}: __metadata__: value of \"{}\" must be a string, got {}", file, key, v.type_name());
    out[key] = v.get<std::string>();
  }
  return out;
}

at::Tensor make_tensor(const Entry& e, const char* data, const std::string& file) {
  if (e.dtype->type == at::kBool) {
    // Any byte other than 0 or 1 in a bool tensor is undefined behaviour in LibTorch.
    for (uint64_t i = e.begin; i < e.end; ++i)
      if (static_cast<unsigned char>(data[i]) > 1)
        fail("{}: tensor {}: BOOL element {} is {}, not 0 or 1", file, e.name, i - e.begin, static_cast<int>(static_cast<unsigned char>(data[i])));
  }
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype->type));
  if (e.end > e.begin) std::memcpy(t.data_ptr(), data + e.begin, e.end - e.begin);
  return t;
}

}  // namespace

SafetensorsFile parse_safetensors(const char* bytes, size_t size, const std::string& file) {
  if (size < 8) fail("{}: {} bytes is too short for a safetensors file (truncated?)", file, size);
  // A model repository cloned without Git LFS holds small text pointers instead.
  static const char kLfs[] = "version https://git-lfs";
  if (size >= sizeof kLfs - 1 && std::memcmp(bytes, kLfs, sizeof kLfs - 1) == 0)
    fail("{}: is a Git LFS pointer, not the tensors: fetch them with `git lfs install && git lfs pull` in its folder",
         file);
  const uint64_t header_size = read_u64_le(bytes);
  if (header_size > kMaxHeaderBytes)
    fail("{}: header length {} is absurd (more than {} bytes): not a safetensors file, or corrupt", file, header_size,
         kMaxHeaderBytes);
  if (header_size > size - 8)
    fail("{}: header length {} reaches past the end of the file ({} bytes; truncated?)", file, header_size, size);
  const char* header_begin = bytes + 8;
  const json header = parse_header_json(header_begin, header_begin + header_size, file);
  const char* data = header_begin + header_size;
  const uint64_t buffer_size = size - 8 - header_size;

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      out.metadata = parse_metadata(info, file);
      continue;
    }
    entries.push_back(parse_entry(name, info, buffer_size, file));
  }

  // Regions must not overlap: sorted by start, each begins at or after the previous end.
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& prev = *by_offset[i - 1];
    const Entry& cur = *by_offset[i];
    if (cur.begin < prev.end)
      fail("{}: tensor {}: data_offsets [{}, {}] overlap those of tensor {} [{}, {}]", file, cur.name, cur.begin,
           cur.end, prev.name, prev.begin, prev.end);
  }

  for (const auto& e : entries) out.tensors[e.name] = make_tensor(e, data, file);
  return out;
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& file) {
  return parse_safetensors(bytes.data(), bytes.size(), file);
}

SafetensorsFile load_safetensors(const std::string& path) {
  // Mapping the file instead of reading it halves peak memory for large models: the
  // tensors are the only copy. The mapping is private and read-only; cotrain replaces
  // files by rename, so a file is not truncated under us while it is mapped.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
      const size_t size = static_cast<size_t>(st.st_size);
      void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (map != MAP_FAILED) {
        struct Unmap {
          void* p;
          size_t n;
          ~Unmap() { ::munmap(p, n); }
        } unmap{map, size};
        return parse_safetensors(static_cast<const char*>(map), size, path);
      }
    } else {
      ::close(fd);
    }
  }
  return parse_safetensors(read_whole_file(path), path);  // also gives the error for a missing file
}

}  // namespace cotrain::io
