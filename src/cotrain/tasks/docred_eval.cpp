#include "cotrain/tasks/docred_eval.h"

namespace cotrain::tasks {

std::vector<eval::DocredGoldDocument> docred_gold_documents(const std::vector<data::Document>& documents) {
  std::vector<eval::DocredGoldDocument> gold;
  gold.reserve(documents.size());
  for (const auto& doc : documents) {
    eval::DocredGoldDocument g;
    g.title = doc.title;
    for (const auto& entity : doc.entities) {
      std::vector<std::string> names;
      for (const auto& mention : entity.mentions) names.push_back(mention.name);
      g.entity_mention_names.push_back(std::move(names));
    }
    for (const auto& label : doc.labels) g.labels.push_back({label.h, label.t, label.r});
    gold.push_back(std::move(g));
  }
  return gold;
}

eval::DocredScore evaluate_docred_files(const std::string& gold_path, const std::string& predictions_path,
                                        const std::string& train_path) {
  const auto gold = docred_gold_documents(data::read_docred(gold_path));
  eval::DocredTrainFacts train_facts;
  if (!train_path.empty()) train_facts = eval::docred_train_facts(docred_gold_documents(data::read_docred(train_path)));
  return eval::score_docred(gold, eval::read_docred_predictions(predictions_path), train_facts);
}

}  // namespace cotrain::tasks
