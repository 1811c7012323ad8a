#!/usr/bin/env bash
# Fetches the emoji image-text data (data.md) into DIR (default ./data/emoji):
#   DIR/emoji.json                      emoji-datasource records (same in both packages)
#   DIR/img/google/64/*.png             Google's drawings, 64x64 RGBA
#   DIR/img/apple/64/*.png              Apple's drawings, 64x64 RGBA
#   DIR/emojibase/<lang>/data.json      CLDR labels and tags for en zh ja de fr es ru ko
#
#   scripts/fetch-emoji.sh [DIR]
#
# Versions are pinned and each tarball is checked against the sha512 integrity that
# `npm view NAME@VERSION dist.integrity` prints, so every machine trains on the same
# bytes. Only the files listed above are unpacked. Idempotent: a part already in
# place (its stamp file exists) is skipped; a partial or corrupt download is fetched
# again. The tarballs stay in DIR/tarballs so that a rerun needs no network.
# Licences: emoji-datasource is MIT; the artwork belongs to Google (Apache 2.0) and
# Apple (see the packages' README); emojibase-data is MIT, CLDR data under the
# Unicode licence.
set -euo pipefail

dir="${1:-./data/emoji}"
LANGS=(en zh ja de fr es ru ko)

command -v npm >/dev/null || { echo "fetch-emoji: npm is missing (run 'make setup')" >&2; exit 1; }
mkdir -p "${dir}/tarballs"

integrity_of() {
  printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}
if ! command -v openssl >/dev/null; then
  integrity_of() {
    node -e 'const c=require("crypto"),f=require("fs");
      process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
  }
fi

# fetch NAME VERSION INTEGRITY: leaves the verified tarball in DIR/tarballs.
fetch() {
  local name="$1" version="$2" integrity="$3"
  local tarball="${dir}/tarballs/${name}-${version}.tgz"
  if [ ! -f "${tarball}" ] || [ "$(integrity_of "${tarball}")" != "${integrity}" ]; then
    rm -f "${tarball}"
    echo "fetch-emoji: npm pack ${name}@${version}" >&2
    (cd "${dir}/tarballs" && npm pack --silent "${name}@${version}" >/dev/null)
  fi
  local actual
  actual="$(integrity_of "${tarball}")"
  if [ "${actual}" != "${integrity}" ]; then
    echo "fetch-emoji: ${tarball}: integrity mismatch (expected ${integrity}, got ${actual})" >&2
    exit 1
  fi
  printf '%s' "${tarball}"
}

tmp="$(mktemp -d "${dir}/.unpack.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

# One artist: its 64 px images, and emoji.json (identical records in both packages).
artist() {
  local style="$1" integrity="$2"
  local stamp="${dir}/img/${style}/.fetched-16.0.0"
  if [ -f "${stamp}" ] && [ -f "${dir}/emoji.json" ]; then
    echo "fetch-emoji: ${style} images already in ${dir}/img/${style}/64"
    return
  fi
  local tarball
  tarball="$(fetch "emoji-datasource-${style}" 16.0.0 "${integrity}")"
  rm -rf "${tmp:?}/package"
  tar -xzf "${tarball}" -C "${tmp}" package/emoji.json "package/img/${style}/64"
  local count
  count="$(find "${tmp}/package/img/${style}/64" -name '*.png' | wc -l)"
  [ "${count}" -gt 0 ] || { echo "fetch-emoji: no images in ${tarball}" >&2; exit 1; }
  mkdir -p "${dir}/img/${style}"
  rm -rf "${dir}/img/${style}/64"
  mv "${tmp}/package/img/${style}/64" "${dir}/img/${style}/64"
  mv -f "${tmp}/package/emoji.json" "${dir}/emoji.json"
  touch "${stamp}"
  echo "fetch-emoji: ${count} ${style} images in ${dir}/img/${style}/64"
}

artist google "sha512-ZRexfzs7MVoLnmzZmNsO4TKhnAJp5D++Vm6PpUpH/jEQQlemp3l88CjZ+DoZ2faM9R4QxZkOPJCoT8DlPhfQ3A=="
artist apple "sha512-dVYjsK0FnCry9F+PBtnivhG2K0xdwlmqYaSgiUtztUdAGPYiHYhZcVKvNBqC791g2qyEcFNTBO6utg4eQ3uLTw=="

stamp="${dir}/emojibase/.fetched-17.0.0"
if [ -f "${stamp}" ]; then
  echo "fetch-emoji: CLDR annotations already in ${dir}/emojibase"
else
  tarball="$(fetch emojibase-data 17.0.0 "sha512-Yvgb5AWoHViHV/gq1qr5ZAarcBip+B27/ZLRsUJkbgAEaLlZ/fof9g882LTpmEpyhBNEC0m2SEmItljHsTygjA==")"
  members=()
  for lang in "${LANGS[@]}"; do members+=("package/${lang}/data.json"); done
  rm -rf "${tmp:?}/package"
  tar -xzf "${tarball}" -C "${tmp}" "${members[@]}"
  rm -rf "${dir}/emojibase"
  mkdir -p "${dir}/emojibase"
  for lang in "${LANGS[@]}"; do
    mkdir -p "${dir}/emojibase/${lang}"
    mv "${tmp}/package/${lang}/data.json" "${dir}/emojibase/${lang}/data.json"
  done
  touch "${stamp}"
  echo "fetch-emoji: CLDR annotations for ${LANGS[*]} in ${dir}/emojibase"
fi
