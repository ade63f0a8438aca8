#!/usr/bin/env bash
# One idempotent setup for Fathom: system packages (Debian), npm packages, the native addon, the
# TypeScript build, and read access for the proxy's uid. Each step is skipped when it has nothing to do.
# It downloads nothing beyond Debian's packages and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PROXY_UID=${FATHOM_PROXY_UID:-2102}

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

# --- system packages -------------------------------------------------------------------------
# package:command pairs; a package is installed only when its command is missing.
APT_NEEDS=(
  "iproute2:ip" "iptables:iptables" "curl:curl" "nghttp2-client:h2load" "prometheus:prometheus"
  "util-linux:setpriv" "procps:ps" "wrk:wrk" "protobuf-compiler:protoc"
  "nginx:nginx" "haproxy:haproxy"
  "redis-server:redis-server" "redis-tools:redis-cli"
  "chromium:chromium"
)
missing=()
for pair in "${APT_NEEDS[@]}"; do
  pkg=${pair%%:*}; cmd=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: ${missing[*]}; run this script as root (or: apt-get install ${missing[*]})"
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's prometheus package starts a system service on :9090; Fathom runs its own, so stop that one.
  if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
    (command -v systemctl >/dev/null && systemctl disable --now prometheus >/dev/null 2>&1) || true
    (command -v service >/dev/null && service prometheus stop >/dev/null 2>&1) || true
  fi
  # The same for redis-server (:6379): tests run their own, unmodified, inside pods.
  if printf '%s\n' "${missing[@]}" | grep -qx redis-server; then
    (command -v systemctl >/dev/null && systemctl disable --now redis-server >/dev/null 2>&1) || true
    (command -v service >/dev/null && service redis-server stop >/dev/null 2>&1) || true
  fi
  # nginx and haproxy are only benchmark baselines (bench/): the benchmark runs its own instances.
  for svc in nginx haproxy; do
    printf '%s\n' "${missing[@]}" | grep -qx "$svc" || continue
    (command -v systemctl >/dev/null && systemctl disable --now "$svc" >/dev/null 2>&1) || true
    (command -v service >/dev/null && service "$svc" stop >/dev/null 2>&1) || true
  done
fi

# --- npm packages ----------------------------------------------------------------------------
lock_sum=$(sha1sum package-lock.json package.json | sha1sum | cut -d' ' -f1)
if [ ! -f node_modules/.fathom-lock ] || [ "$(cat node_modules/.fathom-lock)" != "$lock_sum" ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --ignore-scripts >/dev/null
  echo "$lock_sum" > node_modules/.fathom-lock
fi

# --- native addon (SO_ORIGINAL_DST) -------------------------------------------------------------
addon=native/build/Release/orig_dst.node
if [ ! -f "$addon" ] || [ -n "$(find native -maxdepth 1 -newer "$addon" \( -name '*.c' -o -name '*.gyp' \) 2>/dev/null)" ]; then
  say "building the native addon"
  nodedir=$(dirname "$(dirname "$(command -v node)")")
  [ -f "$nodedir/include/node/node_api.h" ] || die "Node headers not found under $nodedir/include/node (install Node's headers)"
  (cd native && "$ROOT/node_modules/.bin/node-gyp" rebuild --nodedir="$nodedir" >/dev/null 2>build.log) \
    || { cat native/build.log >&2; die "native addon build failed"; }
  rm -f native/build.log
fi

# --- TypeScript build ------------------------------------------------------------------------
# tsc's incremental build is fast when nothing changed; skip it entirely when no source is newer.
stamp=dist/.build-stamp
if [ ! -f "$stamp" ] || [ -n "$(find src test bench proto tsconfig.json package.json -newer "$stamp" -type f 2>/dev/null | head -1)" ]; then
  say "building TypeScript"
  node_modules/.bin/tsc -p tsconfig.json
  touch "$stamp"
fi

# --- the dashboard's front end ------------------------------------------------------------------
# web/ (plus the pure modules it bundles from src/) → dist/web, served by the controller.
web_stamp=dist/web/.build-stamp
if [ ! -f "$web_stamp" ] || [ -n "$(find web scripts/build-web.mjs src/controller/tap/top-table.ts package.json -newer "$web_stamp" -type f 2>/dev/null | head -1)" ]; then
  say "building the dashboard (web/ → dist/web)"
  node scripts/build-web.mjs
  touch "$web_stamp"
fi

# --- read access for the proxy's uid -----------------------------------------------------------
# The proxy runs as uid $PROXY_UID with no passwd entry: every directory from / down to the code must
# be traversable, and the code readable, by "others".
if [ "$(id -u)" -eq 0 ]; then
  chmod -R a+rX dist bin native/build node_modules package.json 2>/dev/null || true
  d=$ROOT
  while [ "$d" != "/" ]; do
    perms=$(stat -c '%A' "$d")
    if [ "${perms:9:1}" != "x" ] && [ "${perms:9:1}" != "t" ]; then
      die "the proxy (uid $PROXY_UID) cannot reach $ROOT: $d is not searchable by others (chmod o+x $d)"
    fi
    d=$(dirname "$d")
  done
  if command -v setpriv >/dev/null 2>&1; then
    setpriv --reuid "$PROXY_UID" --regid "$PROXY_UID" --clear-groups \
      node -e "import('$ROOT/dist/src/proxy/config.js').then(() => process.exit(0), (e) => { console.error(e.message); process.exit(1); })" \
      || die "uid $PROXY_UID cannot load the proxy's code under $ROOT"
  fi
fi
