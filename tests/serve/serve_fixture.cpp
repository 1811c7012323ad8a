#include "serve/serve_fixture.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <algorithm>
#include <filesystem>

#include "cotrain/models/unimo/unimo_folder.h"
#include "cotrain/serve/thumbnail.h"
#include "cotrain/text/tokenizer.h"
#include "support/support.h"

namespace cotrain::serve_test {

std::string solid_png(int w, int h, int r, int g, int b) {
  io::Image image;
  image.width = w;
  image.height = h;
  image.rgb.resize(static_cast<size_t>(w * h * 3));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      float* p = image.pixel(y, x);
      const bool mark = x < w / 4 && y < h / 4;
      p[0] = mark ? 0.1f : r / 255.0f;
      p[1] = mark ? 0.1f : g / 255.0f;
      p[2] = mark ? 0.1f : b / 255.0f;
    }
  return serve::encode_png(image);
}

Collection make_collection(const std::string& name) {
  Collection c;
  c.root = testing::scratch_dir(name);
  c.model = c.root + "/model";
  c.images = c.root + "/images";
  c.texts = c.root + "/texts.txt";
  c.index = c.root + "/index";
  std::filesystem::create_directories(c.images);

  const std::vector<std::string> words = {"a", "red", "green", "blue", "yellow", "smiling", "face", "heart",
                                          "cat", "dog", "with", "tears", "of", "joy", "circle", "square"};
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : words) vocab += w + "\n";
  testing::write_file(c.root + "/vocab.txt", vocab);

  torch::manual_seed(7);
  models::UnimoFolder f;
  f.config.type = "bert";
  f.config.vocab_size = static_cast<int64_t>(words.size()) + 5;
  f.config.hidden_size = 16;
  f.config.num_hidden_layers = 1;
  f.config.num_attention_heads = 2;
  f.config.intermediate_size = 32;
  f.config.max_position_embeddings = 32;
  f.config.type_vocab_size = 1;
  f.config.pad_token_id = 0;
  // Wide initial weights: with BERT's 0.02 every short text gets nearly the same
  // h[CLS] (cosine 1 to float precision), and rankings would be ties.
  f.config.initializer_range = 0.5;
  f.geometry.region_feature_dim = 12;  // grid pool 2: 3 * 2 * 2
  f.geometry.num_region_classes = 0;
  f.model = models::UnimoModel(f.config, f.geometry);
  f.tokenizer = text::load_tokenizer(c.root + "/vocab.txt", true);
  f.lowercase = true;
  models::save_unimo_folder(c.model, f);

  c.encoder.grid.image_size = 16;
  c.encoder.grid.grid = 2;
  c.encoder.grid.pool = 2;

  struct Colour {
    const char* name;
    int w, h, r, g, b;
  };
  const std::vector<Colour> colours = {{"blue.png", 40, 30, 0, 0, 255},     {"green.png", 30, 40, 0, 200, 0},
                                       {"red.png", 40, 30, 255, 0, 0},      {"yellow-wide.png", 200, 100, 255, 220, 0},
                                       {"white.png", 20, 20, 255, 255, 255}, {"zcyan.png", 24, 24, 0, 200, 200}};
  for (const auto& col : colours) {
    testing::write_file(c.images + "/" + col.name, solid_png(col.w, col.h, col.r, col.g, col.b));
    c.image_names.push_back(col.name);
  }
  std::sort(c.image_names.begin(), c.image_names.end());  // the index lists a folder sorted
  testing::write_file(c.images + "/notes.txt", "not an image");  // ignored: not an image name
  c.text_lines = {"a red heart", "a green circle", "smiling face with tears of joy", "a blue square",
                  "a yellow dog", "a cat"};
  std::string texts;
  for (size_t i = 0; i < c.text_lines.size(); ++i) texts += c.text_lines[i] + (i == 2 ? "\n\n" : "\n");
  testing::write_file(c.texts, texts);

  serve::UnimoEncoder encoder(c.model, c.encoder);
  serve::IndexSources sources;
  sources.images = c.images;
  sources.texts = c.texts;
  serve::IndexBuildOptions build;
  build.batch_size = 4;
  serve::build_index(encoder, sources, c.index, build);
  return c;
}

}  // namespace cotrain::serve_test
