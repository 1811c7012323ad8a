// The page `cotrain serve` answers GET / with: a query box, a mode choice (text ->
// images, text -> texts, image upload -> texts or images) and a result grid, built
// with fetch() against the JSON API. `/?q=smiling&mode=text-to-images` runs that
// query on load (links, and the headless browser test). One file, no external
// resources; results are inserted as text nodes, never as HTML.
#pragma once
#include <string>

namespace cotrain::serve {

const std::string& search_page_html();

}  // namespace cotrain::serve
