#!/usr/bin/env bash
# Installs a real VS Code for the end-to-end suite from the registries this
# project may use (npm, Debian): code-server 4.100.3 (the VS Code 1.100 web
# build) and playwright-core into CACHE, Debian's chromium if missing.
# Nothing downloads from elsewhere: code-server's postinstall (which fetches
# ripgrep from GitHub) is skipped, Debian's rg is copied in and the native
# modules are rebuilt here (recipe: ../shared/recipes/code-server-offline.sh).
# Reused between runs: a finished install leaves CACHE/.ready.
set -euo pipefail
cache=${1:?usage: install.sh CACHE}
case $cache in /*) ;; *) cache=$PWD/$cache ;; esac
version=4.100.3
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PLAYWRIGHT_BROWSERS_PATH=0 npm_config_update_notifier=false
# node-gyp would fetch Node's headers from nodejs.org; Debian's nodejs ships them.
if [ -f /usr/include/node/node.h ]; then export npm_config_nodedir=/usr; fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
need=()
for p in build-essential python3 libkrb5-dev libsecret-1-dev libx11-dev libxkbfile-dev ripgrep chromium; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "e2e: apt-get install ${need[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -f "$cache/.ready" ] && [ "$(cat "$cache/.ready")" = "$version" ]; then
  exit 0
fi
echo "e2e: installing code-server $version and playwright-core into $cache"
rm -rf "$cache" && mkdir -p "$cache" && cd "$cache"
echo '{"name": "neuride-e2e-cache", "private": true}' > package.json
npm install --ignore-scripts --no-audit --no-fund "code-server@$version" playwright-core@1.65.1 >/dev/null
npm rebuild argon2 >/dev/null
cd node_modules/code-server/lib/vscode
npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null
mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
for gyp in node_modules/*/binding.gyp node_modules/@*/*/binding.gyp; do
  [ -f "$gyp" ] || continue
  (cd "$(dirname "$gyp")" && npx --yes node-gyp rebuild ${npm_config_nodedir:+--nodedir=$npm_config_nodedir} >/dev/null 2>&1) || echo "e2e: warning: native build failed in $(dirname "$gyp")"
done
ln -sfn node_modules node_modules.asar
(cd bin/remote-cli && ln -sfn code-linux.sh code-server)
(cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
(cd extensions && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null)
echo "$version" > "$cache/.ready"
