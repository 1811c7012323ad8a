// The report's 2-D picture of a vision-language model's embedding space: principal
// component analysis of image and text embeddings together, drawn as a plain SVG
// scatter (images and texts in two colours, each image joined to its caption by a
// thin line). No LibTorch: the embeddings arrive as plain rows and the PCA is a
// Jacobi eigendecomposition of their covariance, exact for the sizes a report
// shows (a few hundred points of a few hundred dimensions).
#pragma once
#include <array>
#include <string>
#include <vector>

namespace cotrain::eval {

struct Projection2D {
  // Row i of the input projected on the first two principal axes (centred: the
  // coordinates of each axis sum to zero).
  std::vector<std::array<double, 2>> points;
  std::array<double, 2> axis_variance{0, 0};  // variance along each axis (divided by n - 1)
  double total_variance = 0;                  // trace of the covariance
  // The unit principal axes (input dimension each). Sign convention: the entry of
  // largest magnitude is positive, so that the picture does not flip between runs of
  // the same data.
  std::array<std::vector<double>, 2> axes;
};

// PCA of `rows` (n rows of equal dimension d >= 1, n >= 2, all finite; an Error
// otherwise). When the data span fewer than two dimensions the missing axis has
// variance 0 and coordinates 0.
Projection2D pca_2d(const std::vector<std::vector<double>>& rows);

// Eigenvalues (descending) and unit eigenvectors (matching order) of a symmetric
// d x d matrix given row-major; cyclic Jacobi rotations to machine precision.
void symmetric_eigen(std::vector<double> matrix, size_t d, std::vector<double>& values,
                     std::vector<std::vector<double>>& vectors);

struct ProjectionPlot {
  std::string title;
  // Pair k: image k and text k; the first `images.size()` projected points are the
  // images, the next `texts.size()` the texts (as pca_2d's input was stacked).
  std::vector<std::string> images, texts;  // labels (shown as tooltips)
  int width = 520, height = 420;
};

// The scatter: <circle class="image-point" data-pair="k">, <rect class="text-point"
// data-pair="k">, <line class="pair-link" data-pair="k">, axis labels with the share
// of variance each axis explains. Points map linearly into <rect class="plot-area">
// with one scale for both axes (distances are not distorted).
std::string projection_svg(const ProjectionPlot& plot, const Projection2D& projection);

}  // namespace cotrain::eval
