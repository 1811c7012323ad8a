// `cotrain emoji`: turns the fetched emoji packages into caption files per artist.
#include <CLI/CLI.hpp>

#include <iostream>

#include "command.h"
#include "cotrain/data/emoji.h"

namespace cotrain::app {
namespace {

struct EmojiArgs {
  std::string data = "data/emoji";
  std::string out = "data/emoji-captions";
  double heldout = 0.1;
  std::uint64_t seed = 13;
  std::vector<std::string> artists = {"google", "apple"};
  std::vector<std::string> languages = {"zh", "ja", "de", "fr", "es", "ru", "ko"};
};

Runner setup(CLI::App& cmd) {
  auto a = std::make_shared<EmojiArgs>();
  cmd.add_option("--data", a->data, "folder made by scripts/fetch-emoji.sh")->capture_default_str();
  cmd.add_option("--out", a->out, "output folder")->capture_default_str();
  cmd.add_option("--heldout", a->heldout, "fraction of concepts held out of training, in [0, 1]")
      ->capture_default_str();
  cmd.add_option("--seed", a->seed, "seed of the held-out draw")->capture_default_str();
  cmd.add_option("--artists", a->artists, "artists (image styles) to write")->capture_default_str();
  cmd.add_option("--paraphrase-languages", a->languages, "languages whose CLDR labels become paraphrases")
      ->capture_default_str();
  cmd.footer(
      "Joins emoji-datasource's emoji.json with emojibase's CLDR annotations by code point\n"
      "(case-insensitive, FE0F ignored) and writes OUT/<artist>.jsonl, one line per image:\n"
      "  {\"image\", \"image_id\", \"caption\", \"paraphrases\", \"tags\", \"concept\", \"split\",\n"
      "   \"category\", \"subcategory\", \"skin_tone\"}\n"
      "caption: the English CLDR label; tags: English CLDR keywords; paraphrases: the label in\n"
      "the other languages (and the Unicode name when it differs); concept: the base emoji, shared\n"
      "by its skin-tone variants; image paths are relative to OUT; image_id is the file name\n"
      "without extension (the id `cotrain regions --stem-ids` gives the image).\n"
      "Held-out split: a concept (a base emoji with all its skin tones) is held out when it is\n"
      "among the round(heldout x concepts) concepts with the smallest hash of (seed, concept id);\n"
      "its lines get split \"heldout\", all others \"train\", the same for every artist. So one can\n"
      "train on one artist's \"train\" lines and test retrieval on the other artist's \"heldout\"\n"
      "drawings (concepts never seen) and \"train\" drawings (concepts seen in another style).\n"
      "Also writes OUT/heldout.txt (concept ids) and OUT/summary.json (counts).");
  return [a] {
    data::EmojiOptions options;
    options.artists = a->artists;
    options.paraphrase_languages = a->languages;
    auto emoji = data::load_emoji(a->data, options);
    auto s = data::write_emoji_captions(emoji, a->out, a->heldout, a->seed);
    std::cout << "emoji: " << emoji.base_emoji << " emoji + " << emoji.skin_variants << " skin-tone variants, "
              << s.concepts << " concepts, " << s.heldout_concepts << " held out";
    if (emoji.without_annotation) std::cout << ", " << emoji.without_annotation << " without an English label";
    std::cout << "\n";
    for (const auto& [artist, n] : s.train_lines)
      std::cout << "  " << a->out << "/" << artist << ".jsonl: " << n << " train + " << s.heldout_lines[artist]
                << " heldout images\n";
    return 0;
  };
}

Registration reg("emoji", "emoji artwork + CLDR annotations -> caption files per artist, held-out concepts", setup);

}  // namespace
}  // namespace cotrain::app
