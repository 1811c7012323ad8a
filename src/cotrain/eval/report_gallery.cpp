#include "cotrain/eval/report_gallery.h"

#include <fmt/format.h>

#include "cotrain/core/error.h"
#include "cotrain/eval/report_projection.h"
#include "cotrain/eval/report_svg.h"

namespace cotrain::eval {

namespace {

bool is_inline_image(const std::string& uri) { return uri.rfind("data:image/", 0) == 0; }

std::string query_block(const GalleryQuery& q) {
  std::string h = fmt::format(
      "<div class=\"gallery-query\"><p class=\"query\"><b>“{}”</b> <span class=\"muted\">own image {}: rank {}</span></p>\n"
      "<div class=\"hits\">",
      xml_escape(q.text), xml_escape(q.target_key), q.target_rank);
  for (size_t r = 0; r < q.hits.size(); ++r) {
    const auto& hit = q.hits[r];
    const std::string img = is_inline_image(hit.thumbnail_uri)
                                ? fmt::format("<img src=\"{}\" alt=\"{}\">",
                                              xml_escape(hit.thumbnail_uri), xml_escape(hit.image_key))
                                : "<div class=\"no-thumb\">no image</div>";
    h += fmt::format(
        "<figure class=\"hit{}\" data-rank=\"{}\" data-match=\"{}\">{}<figcaption>{}. {}<br><span class=\"score\">{:.3f}"
        "</span></figcaption></figure>",
        hit.is_match ? " match" : "", r + 1, hit.is_match ? 1 : 0, img, r + 1, xml_escape(hit.image_key), hit.score);
  }
  return h + "</div></div>\n";
}

}  // namespace

std::string gallery_sections(const std::vector<std::string>& run_names, const std::vector<const RunGallery*>& galleries) {
  if (run_names.size() != galleries.size()) fail("report gallery: {} names for {} runs", run_names.size(), galleries.size());
  std::string gallery, projection;
  for (size_t i = 0; i < galleries.size(); ++i) {
    const RunGallery* g = galleries[i];
    if (!g) continue;
    gallery += fmt::format(
        "<section class=\"gallery\" data-run=\"{}\"><h3>{} <span class=\"muted\">({}; {}; {} candidate images from "
        "{})</span></h3>\n",
        xml_escape(run_names[i]), xml_escape(run_names[i]), xml_escape(g->model_kind), xml_escape(g->scoring),
        g->num_images, xml_escape(g->data));
    if (g->queries.empty()) gallery += "<p class=\"muted\">no queries</p>\n";
    for (const auto& q : g->queries) gallery += query_block(q);
    if (!g->note.empty()) gallery += "<p class=\"muted\">" + xml_escape(g->note) + "</p>\n";
    gallery += "</section>\n";

    if (g->image_embeddings.size() + g->text_embeddings.size() >= 2) {
      std::vector<std::vector<double>> rows = g->image_embeddings;
      rows.insert(rows.end(), g->text_embeddings.begin(), g->text_embeddings.end());
      const Projection2D p = pca_2d(rows);
      ProjectionPlot plot;
      plot.title = run_names[i] + ": image and caption embeddings, first two principal components";
      plot.images = g->image_labels;
      plot.texts = g->text_labels;
      plot.images.resize(g->image_embeddings.size());
      plot.texts.resize(g->text_embeddings.size());
      projection += fmt::format("<figure class=\"projection\" data-run=\"{}\" style=\"margin:0\">\n{}"
                                "<figcaption class=\"muted\">{} images and {} captions (one per image), PCA of "
                                "the embeddings together; a line joins each image to its caption.</figcaption>"
                                "</figure>\n",
                                xml_escape(run_names[i]), projection_svg(plot, p), g->image_embeddings.size(),
                                g->text_embeddings.size());
    }
  }
  if (gallery.empty()) return "";
  std::string h = "<h2>Retrieval gallery</h2>\n<p class=\"muted\">Captions used as queries; the images each model "
                  "ranks first (green frame: the caption's own image).</p>\n" + gallery;
  if (!projection.empty())
    h += "<h2>Embedding projection</h2>\n<div class=\"charts\" data-section=\"Projection\">\n" + projection + "</div>\n";
  return h;
}

}  // namespace cotrain::eval
