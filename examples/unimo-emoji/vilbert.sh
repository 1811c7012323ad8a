#!/usr/bin/env bash
# ViLBERT on the emoji example, next to the tiny UNIMO (issue 5, "Example on real
# data"): the same Google training store and vocabulary, the same number of updates
# and batch, a comparable parameter count (configs/vilbert-emoji.yaml), then zero-shot
# retrieval on the other artist (Apple) by the alignment head through
# `cotrain eval --task retrieval`:
#   heldout: Apple drawings of the concepts held out of training (split "heldout");
#   seen:    Apple drawings of concepts seen in training (every SEEN_EVERY-th "train"
#            line, about as many as heldout).
# ViLBERT scores every image-caption pair jointly: n_images x n_texts forward passes
# (466 x 466 for heldout). EVAL_LIMIT caps each set at that many image-caption lines,
# a deterministic subset (every ceil(n / EVAL_LIMIT)-th line of the set); the eval
# JSON's own "images", "texts" and chance levels then describe the smaller set.
# Writes OUT/results/vilbert-{heldout,seen}.json: the eval report plus "model",
# "params", "updates", "train_s" (the contract of run.sh's UNIMO results).
#
# Usage: examples/unimo-emoji/vilbert.sh [OUT]   (run from the repository root, after
# run.sh or the README's steps made DATA/unimo-emoji/{google-train,vocab.txt})
# Environment: COTRAIN (binary, build/bin/cotrain), DATA (data), UPDATES (300),
#              SEEN_EVERY (7), EVAL_LIMIT (0: every line), BATCH (eval pairs per forward
#              pass, 256), EXTRA (more pretrain options).
set -euo pipefail

OUT=${1:-${OUT:-runs/emoji-example}}
COTRAIN=${COTRAIN:-build/bin/cotrain}
DATA=${DATA:-data}
UPDATES=${UPDATES:-300}
SEEN_EVERY=${SEEN_EVERY:-7}
BATCH=${BATCH:-256}
EVAL_LIMIT=${EVAL_LIMIT:-0}
STORE=$DATA/unimo-emoji/google-train
VOCAB=$DATA/unimo-emoji/vocab.txt
APPLE=$DATA/emoji-captions/apple.jsonl
for need in "$STORE" "$VOCAB" "$APPLE"; do
  [ -e "$need" ] || { echo "vilbert.sh: $need missing (run the README's data steps or run.sh first)" >&2; exit 2; }
done
mkdir -p "$OUT/results" "$OUT/data"

# The evaluation sets: Apple lines of one split, thinned (seen: every SEEN_EVERY-th;
# then at most EVAL_LIMIT); image paths made absolute so that the files can live
# outside the captions folder.
APPLE_DIR=$(cd "$(dirname "$APPLE")" && pwd)
eval_set() {  # SPLIT EVERY > jsonl
  grep "\"split\":\"$1\"" "$APPLE" | awk -v n="$2" 'NR % n == 0' |
    awk -v limit="$EVAL_LIMIT" '{ line[NR] = $0 }
      END { step = (limit > 0 && NR > limit) ? int((NR + limit - 1) / limit) : 1
            for (i = 1; i <= NR; i += step) print line[i] }' |
    sed "s#\"image\":\"\\([^/\"][^\"]*\\)\"#\"image\":\"$APPLE_DIR/\\1\"#"
}
HELDOUT=$OUT/data/vilbert-heldout.jsonl
SEEN=$OUT/data/vilbert-seen.jsonl
eval_set heldout 1 > "$HELDOUT"
eval_set train "$SEEN_EVERY" > "$SEEN"
for f in "$HELDOUT" "$SEEN"; do
  [ -s "$f" ] || { echo "vilbert.sh: no captions for $f in $APPLE" >&2; exit 2; }
done
echo "vilbert evaluation sets (EVAL_LIMIT=$EVAL_LIMIT): heldout $(wc -l < "$HELDOUT"), seen $(wc -l < "$SEEN") lines"

RUN=$OUT/vilbert
start=$(date +%s.%N)
rm -rf "$RUN"
"$COTRAIN" pretrain --task vilbert --config configs/vilbert-emoji.yaml --data "$STORE" --vocab "$VOCAB" \
  --set trainer.max_updates="$UPDATES" --set trainer.save_every=0 --out "$RUN" ${EXTRA:-}
train_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f\n", b - a }')

for setting in heldout seen; do
  if [ "$setting" = heldout ]; then data=$HELDOUT; split=heldout; else data=$SEEN; split=train; fi
  raw=$OUT/results/vilbert-$setting.raw.json
  t0=$(date +%s.%N)
  "$COTRAIN" eval --task retrieval --model "$RUN" --data "$data" --retrieval-splits "$split" \
    --batch-size "$BATCH" --out "$raw" > /dev/null
  eval_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f\n", b - a }')
  jq --arg model vilbert --argjson updates "$UPDATES" --argjson train_s "$train_s" --arg setting "$setting" \
    --argjson eval_s "$eval_s" \
    '. + {model: $model, updates: $updates, train_s: $train_s, setting: $setting, eval_s: $eval_s}' "$raw" \
    > "$OUT/results/vilbert-$setting.json"
  rm -f "$raw"
  jq -c '{model, setting, params, images, texts, ir_r1, ir_r5, ir_r10, tr_r1, tr_r5, tr_r10, chance_r1}' \
    "$OUT/results/vilbert-$setting.json"
done
