// Scoring DocRED-format predictions against DocRED-format gold files
// (`cotrain eval --task docred`): the bridge between the data layer's documents and
// the eval layer's metric.
#pragma once
#include <string>
#include <vector>

#include "cotrain/data/docred.h"
#include "cotrain/eval/docred_metric.h"

namespace cotrain::tasks {

// Title, mention names per entity and labels of each document.
std::vector<eval::DocredGoldDocument> docred_gold_documents(const std::vector<data::Document>& documents);

// Reads the gold file (and the training file for Ign F1, when given) and scores the
// predictions file. Files are validated; every problem names the file and record.
eval::DocredScore evaluate_docred_files(const std::string& gold_path, const std::string& predictions_path,
                                        const std::string& train_path);

}  // namespace cotrain::tasks
