#!/usr/bin/env bash
# Prints the path of the system's Chromium for the web view's browser test,
# installing Debian's chromium and chromium-driver with apt-get when they
# are missing and this runs as root (as CI does). Otherwise fails, naming
# what is missing. Playwright never downloads a browser of its own here.
set -euo pipefail
find_chromium() {
  for c in chromium chromium-browser; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}
if ! find_chromium >/dev/null || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # One installer at a time: tests may start in parallel.
    exec 9>/tmp/cairn-chromium-install.lock
    flock 9
    if ! find_chromium >/dev/null; then
      echo "chromium.sh: installing Debian's chromium and chromium-driver" >&2
      apt-get update -qq >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2
    fi
  fi
fi
if ! path="$(find_chromium)"; then
  echo "chromium.sh: Chromium is missing and cannot be installed here (not root, or no apt-get): install Debian's 'chromium' and 'chromium-driver' packages" >&2
  exit 1
fi
echo "$path"
