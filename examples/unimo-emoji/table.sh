#!/usr/bin/env bash
# Prints every retrieval results file (`cotrain eval --task retrieval` JSON lines
# with "model", "setting", "updates", "train_s" added) side by side, one row each:
#   examples/unimo-emoji/table.sh RESULTS_DIR
set -euo pipefail
dir="${1:?usage: table.sh RESULTS_DIR}"
shopt -s nullglob
files=("$dir"/*.json)
[ ${#files[@]} -gt 0 ] || { echo "table.sh: no results in $dir" >&2; exit 1; }
jq -rs '
  def f: if type == "number" then (. * 10 | round / 10 | tostring) else tostring end;
  def f2: if type == "number" then (. * 100 | round / 100 | tostring) else tostring end;
  (["model", "setting", "images", "IR@1", "IR@5", "IR@10", "TR@1", "TR@5", "TR@10",
    "IR chance@1/5/10", "TR chance@1/5/10", "IR rank mean/med", "params", "updates", "train_s"] | @tsv),
  (sort_by(.model, .setting)[] |
    [.model, .setting, (.images | tostring),
     (.ir_r1 | f), (.ir_r5 | f), (.ir_r10 | f), (.tr_r1 | f), (.tr_r5 | f), (.tr_r10 | f),
     ([.chance_r1, .chance_r5, .chance_r10] | map(f2) | join("/")),
     ([.chance_tr_r1, .chance_tr_r5, .chance_tr_r10] | map(f2) | join("/")),
     ([.ir_mean_rank, .ir_median_rank] | map(f) | join("/")),
     (.params | tostring), (.updates | tostring), (.train_s | f)] | @tsv)
' "${files[@]}" | awk -F'\t' '
  { for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NF; rows = NR }
  END { for (r = 1; r <= rows; r++) { line = ""; for (i = 1; i <= n; i++) line = line sprintf("%-" w[i] "s  ", cell[r, i]); sub(/ +$/, "", line); print line } }'
