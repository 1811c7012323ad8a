#!/usr/bin/env bash
# Emoji captioning with UNIMO's seq2seq (issue 7): fine-tune a tiny UNIMO to write the
# CLDR name of Google's emoji drawings (image as the source, name as the target), then
# name Apple's drawings of the same concepts and score them (BLEU-4, CIDEr-D).
#
#   examples/unimo-caption/run.sh            (from the repository root)
#   EXAMPLE_SCALE=0.25 examples/unimo-caption/run.sh    shorter (fewer updates, fewer Apple images)
#
# Needs the `cotrain` binary (COTRAIN=path, default build/bin/cotrain) and
# npm for the first data fetch (scripts/fetch-emoji.sh). Steps whose output exists are
# skipped; delete data/unimo-caption or runs/unimo-caption to redo them.
set -euo pipefail

COTRAIN="${COTRAIN:-build/bin/cotrain}"
SCALE="${EXAMPLE_SCALE:-1}"
DATA=data/unimo-caption
RUN="${RUN_DIR:-runs/unimo-caption}"
THREADS="${THREADS:-2}"
updates=$(awk -v s="$SCALE" 'BEGIN { n = int(1500 * s); print (n < 20 ? 20 : n) }')
apple_images=$(awk -v s="$SCALE" 'BEGIN { n = int(600 * s); print (n < 24 ? 24 : n) }')

[ -x "$COTRAIN" ] || { echo "run.sh: no cotrain binary at $COTRAIN (build it, or set COTRAIN=)" >&2; exit 1; }
mkdir -p "$DATA"

# 1. Emoji images and CLDR names: one JSONL per artist, concepts split train / heldout.
[ -f data/emoji/emoji.json ] || scripts/fetch-emoji.sh data/emoji
[ -f data/emoji-captions/google.jsonl ] || "$COTRAIN" emoji --data data/emoji --out data/emoji-captions

# 2. Grid-patch regions (16 patches of 64x64 images, D = 192) of Google's training
#    concepts, and of Apple's drawings: a sample of the same (training) concepts, and
#    the held-out concepts that no Google drawing showed.
python3 - "$apple_images" <<'PY'
import json, sys
n = int(sys.argv[1])
rows = [json.loads(l) for l in open("data/emoji-captions/apple.jsonl", encoding="utf-8")]
seen = [r for r in rows if r.get("split") == "train"]
step = max(1, len(seen) // n)
with open("data/unimo-caption/apple-seen.jsonl", "w", encoding="utf-8") as f:
    for r in seen[::step][:n]:
        # image paths ("../emoji/img/...") resolve from data/unimo-caption/ as from data/emoji-captions/
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
[ -f "$DATA/google-train/index.json" ] || "$COTRAIN" prepare --captions data/emoji-captions/google.jsonl \
    --splits train --from-images --out "$DATA/google-train"
rm -rf "$DATA/apple-seen" "$DATA/apple-heldout"
"$COTRAIN" prepare --captions "$DATA/apple-seen.jsonl" --from-images --out "$DATA/apple-seen"
"$COTRAIN" prepare --captions data/emoji-captions/apple.jsonl --splits heldout --from-images --out "$DATA/apple-heldout"

# 3. A WordPiece vocabulary from the Google names and tags (English).
if [ ! -f "$DATA/vocab.txt" ]; then
  python3 - <<'PY'
import json
with open("data/unimo-caption/vocab-corpus.txt", "w", encoding="utf-8") as f:
    for line in open("data/emoji-captions/google.jsonl", encoding="utf-8"):
        r = json.loads(line)
        f.write(r["caption"] + "\n")
        for t in r.get("tags", []):
            f.write(t + "\n")
PY
  "$COTRAIN" vocab --corpus "$DATA/vocab-corpus.txt" --size 3000 --quiet --out "$DATA/vocab.txt"
fi

# 4. Caption fine-tuning from scratch on Google's drawings; afterwards the task captions
#    seq2seq.dev (Apple, seen concepts) with beam 5 and prints BLEU / CIDEr-D.
if [ ! -d "$RUN/checkpoints" ]; then
  OMP_NUM_THREADS="$THREADS" "$COTRAIN" finetune --task caption --config configs/unimo-tiny.yaml \
      --data "$DATA/google-train" --vocab "$DATA/vocab.txt" --out "$RUN" \
      --set trainer.max_updates="$updates" --set trainer.save_every="$updates" --set trainer.display_every=50 \
      --set optim.lr=1e-3 --set trainer.batch_size=48 --set seq2seq.dev="$DATA/apple-seen"
fi

# 5. Scores and examples: Apple's drawings of seen concepts and of held-out concepts.
for split in seen heldout; do
  echo "== Apple drawings, ${split} concepts: beam 5, length penalty 0.6"
  OMP_NUM_THREADS="$THREADS" "$COTRAIN" eval --task caption --model "$RUN" --data "$DATA/apple-$split" \
      --caption-max-regions 16 --caption-max-length 16 --out "$DATA/apple-$split-captions.jsonl"
done
echo "== A dozen Apple drawings (seen concepts): generated name  <-  true name"
python3 - <<'PY'
import json
rows = [json.loads(l) for l in open("data/unimo-caption/apple-seen-captions.jsonl", encoding="utf-8")]
step = max(1, len(rows) // 12)
for r in rows[::step][:12]:
    print(f"  {r['caption']:<36}  <-  {r['references'][0]}")
PY
