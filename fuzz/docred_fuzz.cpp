// DocRED / ERICA JSON reader on arbitrary bytes, in both bad-record modes; accepted
// documents are written back to JSON (what `cotrain` does when it builds data).
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "cotrain/core/error.h"
#include "cotrain/data/docred.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  cotrain::data::DocredReadOptions options;
  options.on_bad_record = (data[0] & 1) ? cotrain::data::OnBadRecord::skip : cotrain::data::OnBadRecord::fail;
  cotrain::data::RelationNames relations = {{"P17", "country"}, {"P131", "located in"}};
  if (data[0] & 2) options.relations = &relations;
  const std::string path = cotrain::fuzz::write_scratch("docred.json", data + 1, size - 1);
  try {
    cotrain::data::DocredReadReport report;
    for (const auto& doc : cotrain::data::read_docred(path, options, &report)) {
      (void)doc.num_words();
      for (size_t s = 0; s < doc.num_sents(); ++s) (void)doc.sent_length(s);
      (void)cotrain::data::document_to_json(doc).dump();
    }
    (void)report.summary();
  } catch (const cotrain::Error&) {
  }
  return 0;
}
