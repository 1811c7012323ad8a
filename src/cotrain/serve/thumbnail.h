// Small PNG previews of indexed images, stored inside the index folder so that the
// search service serves them without touching the original collection.
#pragma once
#include <cstdint>
#include <string>

#include "cotrain/io/image.h"

namespace cotrain::serve {

// Scales `image` to fit `max_side` x `max_side` (aspect kept, never enlarged) and
// encodes it as PNG bytes (RGB, 8 bits).
std::string thumbnail_png(const io::Image& image, int64_t max_side = 96);

// PNG bytes of an RGB float image as it is (values clamped to [0, 1]).
std::string encode_png(const io::Image& image);

}  // namespace cotrain::serve
