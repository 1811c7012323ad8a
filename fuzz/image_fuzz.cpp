// The image decoder path (stb_image behind decode_image) and the resampler that
// follows it in the grid-feature extractor.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cotrain/core/error.h"
#include "cotrain/io/image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    cotrain::io::Image image =
        cotrain::io::decode_image(std::string(reinterpret_cast<const char*>(data), size), "fuzz.img");
    if (image.rgb.size() != static_cast<size_t>(3 * image.width * image.height)) __builtin_trap();
    cotrain::io::Image small = cotrain::io::resize_bilinear(image, 7, 5);
    volatile float sum = small.pixel(4, 6)[2];
    (void)sum;
  } catch (const cotrain::Error&) {
  }
  return 0;
}
