#include "cotrain/data/regions_grid.h"

#include "cotrain/core/error.h"

namespace cotrain::data {

void check_grid_options(const GridOptions& o) {
  if (o.image_size <= 0 || o.grid <= 0 || o.pool <= 0)
    fail("grid regions: image size {}, grid {} and pool {} must be positive", o.image_size, o.grid, o.pool);
  if (o.image_size % o.grid != 0)
    fail("grid regions: image size {} is not a multiple of the grid {}", o.image_size, o.grid);
  if ((o.image_size / o.grid) % o.pool != 0)
    fail("grid regions: patch size {} (= {} / {}) is not a multiple of the pool size {}", o.image_size / o.grid,
         o.image_size, o.grid, o.pool);
  for (float s : o.std)
    if (!(s > 0)) fail("grid regions: normalisation std must be positive");
}

Regions grid_regions(const io::Image& image, const GridOptions& o, std::string image_id) {
  check_grid_options(o);
  const io::Image resized = io::resize_bilinear(image, o.image_size, o.image_size);
  const std::int64_t patch = o.image_size / o.grid, cell = patch / o.pool;
  const std::int64_t dim = o.feature_dim();
  Regions r;
  r.image_id = std::move(image_id);
  r.width = image.width;
  r.height = image.height;
  r.num_boxes = o.grid * o.grid;
  r.feature_dim = dim;
  r.boxes.resize(static_cast<std::size_t>(4 * r.num_boxes));
  r.features.assign(static_cast<std::size_t>(r.num_boxes * dim), 0.0f);
  const float inv_cell = 1.0f / static_cast<float>(cell * cell);
  std::array<float, 3> scale, shift;  // (x - mean) / std = x * scale + shift
  for (int c = 0; c < 3; ++c) {
    scale[c] = 1.0f / o.std[c];
    shift[c] = -o.mean[c] / o.std[c];
  }
  for (std::int64_t gy = 0; gy < o.grid; ++gy) {
    for (std::int64_t gx = 0; gx < o.grid; ++gx) {
      const std::int64_t index = gy * o.grid + gx;
      float* box = r.boxes.data() + 4 * index;
      box[0] = static_cast<float>(static_cast<double>(gx) * image.width / o.grid);
      box[1] = static_cast<float>(static_cast<double>(gy) * image.height / o.grid);
      box[2] = static_cast<float>(static_cast<double>(gx + 1) * image.width / o.grid);
      box[3] = static_cast<float>(static_cast<double>(gy + 1) * image.height / o.grid);
      float* feature = r.features.data() + index * dim;
      for (std::int64_t py = 0; py < o.pool; ++py) {
        for (std::int64_t px = 0; px < o.pool; ++px) {
          float* out = feature + 3 * (py * o.pool + px);
          float sum[3] = {0, 0, 0};
          for (std::int64_t y = 0; y < cell; ++y) {
            const float* row = resized.pixel(gy * patch + py * cell + y, gx * patch + px * cell);
            for (std::int64_t x = 0; x < cell; ++x)
              for (int c = 0; c < 3; ++c) sum[c] += row[3 * x + c];
          }
          for (int c = 0; c < 3; ++c) out[c] = sum[c] * inv_cell * scale[c] + shift[c];
        }
      }
    }
  }
  return r;
}

}  // namespace cotrain::data
