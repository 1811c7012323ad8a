#!/usr/bin/env bash
# UNIMO on emoji (issue 4, "Example on real data"): pretrain a tiny UNIMO on Google's
# emoji drawings with their CLDR captions, then zero-shot retrieval on Apple's drawings
#   heldout: the concepts held out of training (cotrain emoji --heldout 0.1 --seed 13:
#            the 10% of base emoji with the smallest hash of (seed, concept id), with
#            all their skin-tone variants; listed in DATA/emoji-captions/heldout.txt);
#   seen:    concepts seen in training (every 7th Apple "train" line, about as many
#            images as heldout, the same set vilbert.sh uses);
# once with full CMCL ("unimo") and once without its hard negatives and retrieval
# positives ("unimo-ablation": unimo.rewrite_negatives = tfidf_negatives =
# retrieval_positives = 0; in-batch negatives stay). configs/unimo-tiny.yaml turns
# paraphrase positives off for this data (other languages' labels; see the README).
# Both pretrainings start from the same seed and run side by side (one thread each).
#
#   make build && examples/unimo-emoji/run.sh [BUILD_DIR]
#
# Results: OUT/results/<model>-<setting>.json, each the JSON line of `cotrain eval
# --task retrieval` plus "model", "setting", "updates", "train_s"; a table of all
# of them (table.sh) at the end. If examples/unimo-emoji/vilbert.sh exists it runs
# too (same data, vocabulary and number of updates) and its results join the table.
#
# Knobs (environment): EXAMPLE_SCALE (default 1) multiplies the pretraining updates
# (600 at scale 1: about 10 minutes on 2 busy cores for both models and ViLBERT once
# the data is prepared, plus ViLBERT's evaluation); EXAMPLE_OUT (examples/unimo-emoji/out); EXAMPLE_DATA (data);
# EXAMPLE_VILBERT=0 skips vilbert.sh; EVAL_LIMIT (default 0: all) caps ViLBERT's evaluation
# sets at that many lines each (it scores n_images x n_texts pairs jointly; 0: all).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build}"
COTRAIN="${COTRAIN:-$BUILD_DIR/bin/cotrain}"
SCALE="${EXAMPLE_SCALE:-1}"
OUT="${EXAMPLE_OUT:-examples/unimo-emoji/out}"
DATA="${EXAMPLE_DATA:-data}"
HERE=examples/unimo-emoji
[ -x "$COTRAIN" ] || { echo "run.sh: $COTRAIN not found: run 'make build' first (or pass the build folder)" >&2; exit 1; }
command -v jq >/dev/null || { echo "run.sh: jq is missing (run 'make setup')" >&2; exit 1; }
scaled() { awk -v s="$SCALE" -v n="$1" 'BEGIN { v = int(s * n); print (v < 1 ? 1 : v) }'; }
step() { printf '\n== %s\n' "$*"; }
UPDATES=$(scaled 600)
SEEN_EVERY=7
CAPS="$DATA/emoji-captions"
PREP="$DATA/unimo-emoji"
mkdir -p "$OUT/results" "$OUT/data" "$PREP"
rm -f "$OUT"/results/unimo*.json

step "Emoji artwork and CLDR annotations (npm, pinned; skipped when present)"
bash scripts/fetch-emoji.sh "$DATA/emoji"

step "Captions: google.jsonl, apple.jsonl with split train / heldout (10% of concepts, seed 13)"
if [ ! -f "$CAPS/summary.json" ]; then
  "$COTRAIN" emoji --data "$DATA/emoji" --out "$CAPS" --heldout 0.1 --seed 13
fi

step "Google training shards: grid regions, a 32-centroid patch codebook, class targets"
if [ ! -f "$PREP/google-train/index.json" ]; then
  "$COTRAIN" prepare --captions "$CAPS/google.jsonl" --splits train --from-images --out "$PREP/google-raw"
  "$COTRAIN" codebook --shards "$PREP/google-raw" --k 32 --out "$PREP/codebook.safetensors"
  "$COTRAIN" prepare --captions "$CAPS/google.jsonl" --splits train --from-images \
    --codebook "$PREP/codebook.safetensors" --out "$PREP/google-train"
fi

step "WordPiece vocabulary (4000) from captions, paraphrases, tags and lexicon words"
if [ ! -f "$PREP/vocab.txt" ]; then
  # Every Google line (held-out ones too: the vocabulary only decides how words split
  # into pieces; no image or caption of a held-out concept is trained on).
  { jq -r '.caption, .paraphrases[]?, .tags[]?' "$CAPS/google.jsonl"
    grep -hv '^#' resources/lexicons/*.txt | tr '|' ' '; } > "$PREP/vocab-corpus.txt"
  "$COTRAIN" vocab --corpus "$PREP/vocab-corpus.txt" --size 4000 --out "$PREP/vocab.txt" --quiet
fi

step "Evaluation sets: Apple heldout (all) and Apple seen (every ${SEEN_EVERY}th train line)"
APPLE_DIR=$(cd "$CAPS" && pwd)
SEEN="$OUT/data/apple-seen.jsonl"
grep '"split":"train"' "$CAPS/apple.jsonl" | awk -v n="$SEEN_EVERY" 'NR % n == 0' |
  sed "s#\"image\":\"\\([^/\"][^\"]*\\)\"#\"image\":\"$APPLE_DIR/\\1\"#" > "$SEEN"
echo "heldout: $(grep -c '"split":"heldout"' "$CAPS/apple.jsonl") Apple images; seen: $(wc -l < "$SEEN")"

step "Pretraining, $UPDATES updates each: unimo (full CMCL) and unimo-ablation, side by side"
pretrain() {  # NAME EXTRA_SETS...
  local name="$1"; shift
  # A finished run of the same length and options is kept (evaluation reruns; delete
  # OUT, or OUT/NAME, to retrain, e.g. after rebuilding cotrain).
  local stamp="$UPDATES $*"
  if [ -e "$OUT/$name/latest" ] && [ "$(cat "$OUT/$name.updates" 2>/dev/null)" = "$stamp" ]; then
    echo "$name: keeping the finished run in $OUT/$name"; return 0
  fi
  rm -f "$OUT/$name.updates"
  local t0; t0=$(date +%s.%N)
  rm -rf "$OUT/$name"
  "$COTRAIN" pretrain --task unimo --config configs/unimo-tiny.yaml --data "$PREP/google-train" \
    --vocab "$PREP/vocab.txt" --set trainer.max_updates="$UPDATES" --set trainer.save_every=0 \
    --set trainer.display_every=25 --set trainer.threads=1 "$@" --out "$OUT/$name" > "$OUT/$name.log" 2>&1
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f\n", b - a }' > "$OUT/$name.train_s"
  echo "$stamp" > "$OUT/$name.updates"
}
pretrain unimo &
full=$!
pretrain unimo-ablation --set unimo.rewrite_negatives=0 --set unimo.tfidf_negatives=0 \
  --set unimo.retrieval_positives=0 &
ablation=$!
wait "$full" || { tail -5 "$OUT/unimo.log" >&2; exit 1; }
wait "$ablation" || { tail -5 "$OUT/unimo-ablation.log" >&2; exit 1; }
for name in unimo unimo-ablation; do echo "$name: $(tail -1 "$OUT/$name.log")"; done
grep -ho 'paraphrases: .*' "$OUT/unimo.log" | head -1 || true

step "Zero-shot retrieval on Apple's drawings (embedding similarity, h[IMG] . h[CLS])"
for name in unimo unimo-ablation; do
  for setting in heldout seen; do
    if [ "$setting" = heldout ]; then data="$CAPS/apple.jsonl"; split=heldout; else data="$SEEN"; split=train; fi
    raw="$OUT/results/$name-$setting.raw.json"
    "$COTRAIN" eval --task retrieval --model "$OUT/$name" --data "$data" --retrieval-splits "$split" \
      --batch-size 128 --out "$raw" > /dev/null
    jq --arg model "$name" --arg setting "$setting" --argjson updates "$UPDATES" \
      --argjson train_s "$(cat "$OUT/$name.train_s")" \
      '. + {model: $model, setting: $setting, updates: $updates, train_s: $train_s}' "$raw" \
      > "$OUT/results/$name-$setting.json"
    rm -f "$raw"
  done
done

if [ -f "$HERE/vilbert.sh" ] && [ "${EXAMPLE_VILBERT:-1}" != 0 ]; then
  step "ViLBERT on the same data (vilbert.sh)"
  COTRAIN="$COTRAIN" DATA="$DATA" UPDATES="$UPDATES" SEEN_EVERY="$SEEN_EVERY" EVAL_LIMIT="${EVAL_LIMIT:-0}" \
    bash "$HERE/vilbert.sh" "$OUT"
fi

step "Results (recalls in %, chance = a random ranking)"
bash "$HERE/table.sh" "$OUT/results"
