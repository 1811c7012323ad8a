// `cotrain regions`: grid-patch regions of raw images, written as a bottom-up-attention
// TSV, for users who want region files in the format other tools read.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "command.h"
#include "cotrain/core/error.h"
#include "cotrain/data/regions_grid.h"
#include "cotrain/data/regions_tsv.h"
#include "cotrain/data/shards_prepare.h"
#include "cotrain/io/image.h"

namespace cotrain::app {
namespace {

struct RegionsArgs {
  std::string images, out;
  data::GridOptions grid;
  bool stem_ids = false;
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<RegionsArgs>();
  cmd.add_option("--images", a->images, "a folder of PNG/JPEG images, or a file listing image paths")->required();
  cmd.add_option("--out", a->out, "region feature TSV to write")->required();
  cmd.add_option("--size", a->grid.image_size, "images resized to S x S")->capture_default_str();
  cmd.add_option("--grid", a->grid.grid, "G x G patches")->capture_default_str();
  cmd.add_option("--pool", a->grid.pool, "each patch pooled to P x P (D = 3 P^2)")->capture_default_str();
  cmd.add_flag("--stem-ids", a->stem_ids, "image_id = file name without extension (default: the path)");
  cmd.footer("Writes image_id, image_w, image_h, num_boxes, boxes, features (no cls_prob).");
  return [a] {
    data::check_grid_options(a->grid);
    auto files = data::list_images(a->images);
    if (files.empty()) fail("{}: no images", a->images);
    data::RegionsTsvWriter writer(a->out);
    for (const auto& f : files) {
      std::string id = a->stem_ids ? std::filesystem::path(f).stem().string() : f;
      writer.write(data::grid_regions(io::load_image(f), a->grid, id));
    }
    writer.close();
    std::cout << "regions: " << files.size() << " images x " << a->grid.grid * a->grid.grid << " patches, D "
              << a->grid.feature_dim() << " -> " << a->out << "\n";
    return 0;
  };
}

Registration reg("regions", "grid-patch regions of images -> bottom-up-attention TSV", setup);

}  // namespace
}  // namespace cotrain::app
