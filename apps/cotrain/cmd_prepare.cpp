// `cotrain prepare`: captions + regions -> memory-mapped binary shards.
#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "command.h"
#include "cotrain/core/error.h"
#include "cotrain/data/captions.h"
#include "cotrain/data/codebook.h"
#include "cotrain/data/codebook_file.h"
#include "cotrain/data/shards_prepare.h"

namespace cotrain::app {
namespace {

struct PrepareArgs {
  std::string captions, format = "auto", splits, image_root;
  std::vector<std::string> regions;
  bool from_images = false, check_images = false;
  std::string image_list;
  data::GridOptions grid;
  std::string codebook;
  std::string on_bad_record = "fail";
  data::PrepareOptions options;
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<PrepareArgs>();
  a->options.threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  cmd.add_option("--captions", a->captions, "captions: COCO JSON, Karpathy split JSON, or JSONL");
  cmd.add_option("--format", a->format, "caption format: auto, coco, karpathy, jsonl")->capture_default_str();
  cmd.add_option("--splits", a->splits, "keep only these splits, comma-separated (e.g. train,restval)");
  cmd.add_option("--image-root", a->image_root, "folder image paths are relative to (default: the caption file's)");
  cmd.add_option("--regions", a->regions, "bottom-up-attention TSV files (joined by image id)");
  cmd.add_flag("--from-images", a->from_images, "extract grid-patch regions from the caption's image files");
  cmd.add_option("--images", a->image_list, "also add these images without captions: a folder or a list file");
  cmd.add_flag("--check-images", a->check_images, "with --regions: fail on captions whose image file is missing");
  cmd.add_option("--size", a->grid.image_size, "grid: images resized to S x S")->capture_default_str();
  cmd.add_option("--grid", a->grid.grid, "grid: G x G patches")->capture_default_str();
  cmd.add_option("--pool", a->grid.pool, "grid: each patch pooled to P x P (D = 3 P^2)")->capture_default_str();
  cmd.add_option("--codebook", a->codebook, "class targets: soft assignments to this codebook (cotrain codebook)");
  cmd.add_option("--out", a->options.out_dir, "output folder")->required();
  cmd.add_option("--images-per-shard", a->options.images_per_shard, "images per shard file")->capture_default_str();
  cmd.add_option("--on-bad-record", a->on_bad_record, "fail, or skip (and count) bad records")
      ->check(CLI::IsMember({"fail", "skip"}))
      ->capture_default_str();
  cmd.add_option("--threads", a->options.threads, "image decoding threads")->capture_default_str();
  cmd.footer(
      "Regions come from --regions TSV files (image_id = the caption's image key: COCO image id,\n"
      "Karpathy cocoid or file stem, JSONL image_id or image) or, with --from-images / --images,\n"
      "from the images: resized to S x S, cut into G x G patches, each patch's ImageNet-normalised\n"
      "pixels average-pooled to P x P as its feature, its rectangle as its box.\n"
      "Writes OUT/shard-NNNNN.bin (format: src/cotrain/data/shards.h) and OUT/index.json.");
  return [a] {
    const auto start = std::chrono::steady_clock::now();
    a->options.skip_bad_records = a->on_bad_record == "skip";
    std::vector<data::Caption> captions;
    if (!a->captions.empty()) {
      data::CaptionOptions co;
      co.format = data::parse_caption_format(a->format);
      co.image_root = a->image_root;
      co.splits = a->splits;
      captions = data::read_captions(a->captions, co);
      if (captions.empty()) fail("{}: no captions{}", a->captions, a->splits.empty() ? "" : " in splits " + a->splits);
    }
    std::vector<std::string> extra;
    if (!a->image_list.empty()) extra = data::list_images(a->image_list);
    if (a->regions.empty() && !a->from_images && extra.empty())
      fail("prepare: give --regions TSV files, or --from-images / --images to extract grid regions");
    if (!a->regions.empty() && (a->from_images || !extra.empty()))
      fail("prepare: --regions and --from-images / --images exclude each other");
    if (a->from_images && captions.empty() && extra.empty()) fail("prepare: --from-images needs --captions");
    if (a->check_images && !captions.empty()) data::check_caption_images(captions, a->captions);
    std::string source = a->captions.empty() ? "images" : a->captions;
    a->options.description = source;
    if (!a->codebook.empty()) {
      auto codebook = std::make_shared<data::Codebook>(data::load_codebook(a->codebook));
      a->options.transform = [codebook, path = a->codebook](data::Regions& r) {
        if (r.feature_dim != codebook->dim)
          fail("{}: codebook of dimension {} for features of dimension {}", path, codebook->dim, r.feature_dim);
        r.num_classes = codebook->k;
        r.class_probs.resize(static_cast<std::size_t>(r.num_boxes * codebook->k));
        data::soft_assign(*codebook, r.features.data(), r.num_boxes, r.class_probs.data());
      };
      a->options.description += " + codebook " + a->codebook;
    }
    data::PrepareStats s = a->regions.empty()
                               ? data::prepare_from_images(captions, source, extra, a->grid, a->options)
                               : data::prepare_from_tsv(captions, source, a->regions, a->options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "prepare: " << s.images << " images, " << s.captions << " captions in " << s.shards
              << " shard(s) under " << a->options.out_dir << "; D " << s.feature_dim << ", C " << s.num_classes
              << "; " << seconds << " s";
    if (s.skipped_images || s.skipped_captions)
      std::cout << "; skipped " << s.skipped_images << " images, " << s.skipped_captions << " captions";
    std::cout << "\n";
    return 0;
  };
}

Registration reg("prepare", "captions + regions (TSV or grid patches of images) -> binary shards", setup);

}  // namespace
}  // namespace cotrain::app
