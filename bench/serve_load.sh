#!/usr/bin/env bash
# Load test of `cotrain serve` on loopback with wrk (Debian: wrk): text -> images,
# text -> texts and image upload -> texts at a few concurrency levels, with exact
# search and, when the index has one, its approximate index. Prints a Markdown
# table (req/s, latency p50/p90/p99 from `wrk --latency`, non-2xx responses).
#
#   bench/serve_load.sh INDEX [IMAGE]
#
# INDEX: a folder from `cotrain index` (add an approximate index to it with
# `cotrain index --out INDEX --approximate ivf`). IMAGE: the PNG/JPEG uploaded for
# image -> texts (default: the first thumbnail in the index).
# Environment: COTRAIN (build/bin/cotrain), CONNECTIONS ("1 8 32"), DURATION (10s),
# WORKERS (server --workers, 32), SERVE_ARGS (more `cotrain serve` options),
# SEARCHES ("exact approximate"), OUT (folder for wrk's raw output, a temp folder).
set -euo pipefail
cd "$(dirname "$0")/.."
INDEX="${1:?usage: bench/serve_load.sh INDEX [IMAGE]}"
IMAGE="${2:-}"
COTRAIN="${COTRAIN:-build/bin/cotrain}"
CONNECTIONS="${CONNECTIONS:-1 8 32}"
DURATION="${DURATION:-10s}"
WORKERS="${WORKERS:-32}"
SEARCHES="${SEARCHES:-exact approximate}"
OUT="${OUT:-$(mktemp -d)}"
command -v wrk >/dev/null || { echo "serve_load.sh: wrk is missing (apt-get install wrk, or scripts/setup.sh)" >&2; exit 1; }
[ -x "$COTRAIN" ] || { echo "serve_load.sh: $COTRAIN not found (set COTRAIN or build first)" >&2; exit 1; }
[ -f "$INDEX/index.json" ] || { echo "serve_load.sh: $INDEX/index.json not found" >&2; exit 1; }
if [ -z "$IMAGE" ]; then IMAGE="$(ls "$INDEX"/thumbs/*.png 2>/dev/null | head -n 1 || true)"; fi
[ -f "$IMAGE" ] || { echo "serve_load.sh: no image to upload (give one as the second argument)" >&2; exit 1; }
mkdir -p "$OUT"
IMAGE="$(cd "$(dirname "$IMAGE")" && pwd)/$(basename "$IMAGE")"

# wrk request scripts: JSON queries taken in turn from a short list; the upload.
cat > "$OUT/text.lua" <<'EOF'
local queries = {"smiling face", "red heart", "a dog", "crying cat", "thumbs up", "fire", "a flag",
                 "green apple", "sun with rays", "person running"}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{"query": "%s", "k": 10}', queries[(n % #queries) + 1])
  return wrk.format(nil, nil, nil, body)
end
EOF
cat > "$OUT/image.lua" <<EOF
local f = assert(io.open("$IMAGE", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/png"
EOF

SERVER_PID=""
stop_server() { if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""; fi; }
trap stop_server EXIT

start_server() {  # $1: exact | approximate; sets PORT
  local extra=()
  [ "$1" = exact ] && extra+=(--exact)
  # shellcheck disable=SC2086
  "$COTRAIN" serve --index "$INDEX" --port 0 --workers "$WORKERS" --quiet "${extra[@]}" ${SERVE_ARGS:-} \
    > "$OUT/serve-$1.out" 2> "$OUT/serve-$1.err" &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 600); do
    PORT="$(sed -n 's|.*at http://[^:]*:\([0-9]*\)/.*|\1|p' "$OUT/serve-$1.out" | head -n 1)"
    [ -n "$PORT" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve-$1.err" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$PORT" ] || { echo "serve_load.sh: the server did not start" >&2; exit 1; }
}

# "1.23ms" / "456.00us" / "1.02s" -> milliseconds
to_ms() { awk -v v="$1" 'BEGIN { u = v; gsub(/[0-9.]/, "", u); x = v + 0;
  if (u == "us") x /= 1000; else if (u == "s") x *= 1000; else if (u == "m") x *= 60000; printf "%.2f", x }'; }

echo "| query | search | connections | req/s | p50 ms | p90 ms | p99 ms | non-2xx |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for search in $SEARCHES; do
  if [ "$search" = approximate ] && ! grep -q '"approximate"' "$INDEX/index.json"; then
    echo "serve_load.sh: $INDEX has no approximate index; skipping (cotrain index --out $INDEX --approximate ivf)" >&2
    continue
  fi
  start_server "$search"
  kind="$(grep -o '"kind": *"[a-z]*"' "$INDEX/index.json" | head -n 1 | sed 's/.*"\([a-z]*\)"$/\1/')"
  label="$search"; [ "$search" = approximate ] && label="$kind"
  for mode in text-to-images text-to-texts image-to-texts; do
    script="$OUT/text.lua"; path="/api/$mode"
    [ "$mode" = image-to-texts ] && { script="$OUT/image.lua"; path="/api/$mode?k=10"; }
    for c in $CONNECTIONS; do
      t=$(( c < 2 ? 1 : 2 ))
      raw="$OUT/wrk-$search-$mode-$c.txt"
      wrk -t "$t" -c "$c" -d "$DURATION" --latency --timeout 30s -s "$script" "http://127.0.0.1:$PORT$path" > "$raw"
      rps="$(awk '/^Requests\/sec/ { printf "%.1f", $2 }' "$raw")"
      p50="$(awk '$1 == "50%" { print $2 }' "$raw")"; p90="$(awk '$1 == "90%" { print $2 }' "$raw")"
      p99="$(awk '$1 == "99%" { print $2 }' "$raw")"
      bad="$(awk '/Non-2xx/ { print $NF }' "$raw")"; bad="${bad:-0}"
      errs="$(awk '/Socket errors/ { print }' "$raw")"
      echo "| $mode | $label | $c | $rps | $(to_ms "$p50") | $(to_ms "$p90") | $(to_ms "$p99") | $bad |"
      [ -z "$errs" ] || echo "serve_load.sh: $mode $label c=$c: $errs" >&2
    done
  done
  stop_server
done
echo "raw wrk output: $OUT" >&2
