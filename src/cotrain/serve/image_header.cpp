// image_header_size (search_service.h): an uploaded image's size from its header,
// so that a small compressed file announcing a huge image is refused before any
// pixel memory is allocated. Uses stb_image's info functions, compiled here with
// internal linkage (io/image.cpp holds its own private copy for decoding).
#include "cotrain/serve/search_service.h"

#include <climits>

#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#endif
#include <stb/stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace cotrain::serve {

bool image_header_size(const std::string& bytes, int64_t& width, int64_t& height) {
  if (bytes.empty() || bytes.size() > static_cast<size_t>(INT_MAX)) return false;
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                             &channels))
    return false;
  width = w;
  height = h;
  return true;
}

}  // namespace cotrain::serve
