"""Independent DocRED metric (erica.md "DocRED format and metric"), written from the
definition of DocRED's official evaluation: F1 over unique (title, h, t, r) facts and
Ign F1, which drops correct predictions whose (head mention name, tail mention name, r)
is a training fact from precision's numerator and denominator.

usage: docred_metric_ref.py GOLD.json TRAIN.json PREDICTIONS.json
GOLD/TRAIN: DocRED documents {title, vertexSet: [[{name, ...}]], labels: [{h, t, r}]}.
Prints {"predictions", "gold", "correct", "correct_in_train", "precision", "recall",
"f1", "ign_precision", "ign_f1"} as JSON; a zero denominator gives 0.
"""
import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def main():
    gold_docs, train_docs, preds = (load(p) for p in sys.argv[1:4])

    # Training facts as mention-name triples: every name of the head entity with every
    # name of the tail entity.
    train_names = set()
    for doc in train_docs:
        vs = doc["vertexSet"]
        for lab in doc["labels"]:
            for m1 in vs[lab["h"]]:
                for m2 in vs[lab["t"]]:
                    train_names.add((m1["name"], m2["name"], str(lab["r"])))

    entities_of = {doc["title"]: doc["vertexSet"] for doc in gold_docs}
    gold = {(doc["title"], lab["h"], lab["t"], str(lab["r"]))
            for doc in gold_docs for lab in doc["labels"]}
    predicted = {(p["title"], p["h_idx"], p["t_idx"], str(p["r"])) for p in preds}

    correct = predicted & gold
    in_train = 0
    for title, h, t, r in correct:
        vs = entities_of[title]
        names = {(m1["name"], m2["name"], r) for m1 in vs[h] for m2 in vs[t]}
        if names & train_names:
            in_train += 1

    def div(a, b):
        return a / b if b else 0.0

    def f1(p, r):
        return 2 * p * r / (p + r) if p + r else 0.0

    precision = div(len(correct), len(predicted))
    recall = div(len(correct), len(gold))
    ign_precision = div(len(correct) - in_train, len(predicted) - in_train)
    print(json.dumps({
        "predictions": len(predicted), "gold": len(gold), "correct": len(correct),
        "correct_in_train": in_train, "precision": precision, "recall": recall,
        "f1": f1(precision, recall), "ign_precision": ign_precision,
        "ign_f1": f1(ign_precision, recall),
    }))


if __name__ == "__main__":
    main()
