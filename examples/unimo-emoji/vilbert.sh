#!/usr/bin/env bash
# ViLBERT on the emoji example, next to the tiny UNIMO (issue 5, "Example on real
# data"): the same Google training store and vocabulary, the same number of updates
# and batch, a comparable parameter count (configs/vilbert-emoji.yaml), then zero-shot
# retrieval on the other artist (Apple) by the alignment head through
# `cotrain eval --task retrieval`:
#   heldout: Apple drawings of the concepts held out of training (split "heldout");
#   seen:    Apple drawings of concepts seen in training (every SEEN_EVERY-th "train"
#            line, about as many as heldout: ViLBERT scores every image-caption pair
#            jointly, n_images x n_texts forward passes).
# Writes OUT/results/vilbert-{heldout,seen}.json: the eval report plus "model",
# "params", "updates", "train_s" (the contract of run.sh's UNIMO results).
#
# Usage: examples/unimo-emoji/vilbert.sh [OUT]   (run from the repository root, after
# run.sh or the README's steps made DATA/unimo-emoji/{google-train,vocab.txt})
# Environment: COTRAIN (binary), DATA (data), UPDATES (1000), SEEN_EVERY (7),
#              BATCH (eval pairs per forward pass, 256), EXTRA (more pretrain options).
set -euo pipefail

OUT=${1:-${OUT:-runs/emoji-example}}
COTRAIN=${COTRAIN:-build/apps/cotrain/cotrain}
DATA=${DATA:-data}
UPDATES=${UPDATES:-1000}
SEEN_EVERY=${SEEN_EVERY:-7}
BATCH=${BATCH:-256}
STORE=$DATA/unimo-emoji/google-train
VOCAB=$DATA/unimo-emoji/vocab.txt
APPLE=$DATA/emoji-captions/apple.jsonl
for need in "$STORE" "$VOCAB" "$APPLE"; do
  [ -e "$need" ] || { echo "vilbert.sh: $need missing (run the README's data steps or run.sh first)" >&2; exit 2; }
done
mkdir -p "$OUT/results" "$OUT/data"

# The seen set: Apple "train" lines, thinned; image paths made absolute so that the
# file can live outside the captions folder.
APPLE_DIR=$(cd "$(dirname "$APPLE")" && pwd)
SEEN=$OUT/data/apple-seen.jsonl
grep '"split":"train"' "$APPLE" | awk -v n="$SEEN_EVERY" 'NR % n == 0' |
  sed "s#\"image\":\"\\([^/\"][^\"]*\\)\"#\"image\":\"$APPLE_DIR/\\1\"#" > "$SEEN"
[ -s "$SEEN" ] || { echo "vilbert.sh: no seen captions in $APPLE" >&2; exit 2; }

RUN=$OUT/vilbert
start=$(date +%s.%N)
"$COTRAIN" pretrain --task vilbert --config configs/vilbert-emoji.yaml --data "$STORE" --vocab "$VOCAB" \
  --set trainer.max_updates="$UPDATES" --set trainer.save_every=0 --out "$RUN" ${EXTRA:-}
train_s=$(echo "$(date +%s.%N) - $start" | bc)

for setting in heldout seen; do
  if [ "$setting" = heldout ]; then data=$APPLE; split=heldout; else data=$SEEN; split=train; fi
  raw=$OUT/results/vilbert-$setting.raw.json
  "$COTRAIN" eval --task retrieval --model "$RUN" --data "$data" --retrieval-splits "$split" \
    --batch-size "$BATCH" --out "$raw" > /dev/null
  jq --arg model vilbert --argjson updates "$UPDATES" --argjson train_s "$train_s" --arg setting "$setting" \
    '. + {model: $model, updates: $updates, train_s: $train_s, setting: $setting}' "$raw" \
    > "$OUT/results/vilbert-$setting.json"
  rm -f "$raw"
  jq -c '{model, setting, params, images, texts, ir_r1, ir_r5, ir_r10, tr_r1, tr_r5, tr_r10, chance_r1}' \
    "$OUT/results/vilbert-$setting.json"
done
