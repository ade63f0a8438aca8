#!/usr/bin/env bash
# Generates TypeScript for proto/**/*.proto into src/api/gen/ with Debian's protoc and the pinned
# ts-proto plugin from node_modules. `--check` generates into a temporary directory instead and
# fails, printing the diff, when the committed src/api/gen/ is stale (CI runs this).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=src/api/gen
PLUGIN=node_modules/.bin/protoc-gen-ts_proto
# One place for the generator's options; changing them changes the generated API.
#  - grpc-js services and clients; ESM imports with a .js suffix for NodeNext resolution;
#  - oneofs as tagged unions {$case, value}, so a switch on $case is checked by the compiler;
#  - 64-bit integers as bigint (IPv6 halves are fixed64 and must not lose precision);
#  - bytes as Buffer, Timestamp as Date.
OPTS=(
  outputServices=grpc-js
  env=node
  esModuleInterop=true
  importSuffix=.js
  oneof=unions-value
  forceLong=bigint
  useDate=true
  useOptionals=none
  exportCommonSymbols=false
)

command -v protoc >/dev/null 2>&1 || { echo "gen-proto: protoc not found (apt-get install protobuf-compiler, or run scripts/setup.sh)" >&2; exit 1; }
[ -x "$PLUGIN" ] || { echo "gen-proto: $PLUGIN not found (run npm ci)" >&2; exit 1; }

generate() {
  local dest=$1
  rm -rf "$dest"
  mkdir -p "$dest"
  local files
  mapfile -t files < <(cd proto && find . -name '*.proto' | sed 's|^\./||' | LC_ALL=C sort)
  protoc --plugin=protoc-gen-ts_proto="$PLUGIN" -I proto \
    --ts_proto_out="$dest" --ts_proto_opt="$(IFS=,; echo "${OPTS[*]}")" "${files[@]}"
}

if [ "${1:-}" = "--check" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp/gen"
  if ! diff -ru "$OUT" "$tmp/gen" >"$tmp/diff"; then
    cat "$tmp/diff" >&2
    echo "gen-proto: $OUT is stale; run scripts/gen-proto.sh (or npm run gen) and commit the result" >&2
    exit 1
  fi
  echo "gen-proto: $OUT is current"
  exit 0
fi
[ $# -eq 0 ] || { echo "usage: scripts/gen-proto.sh [--check]" >&2; exit 2; }
generate "$OUT"
echo "gen-proto: generated $OUT from proto/"
