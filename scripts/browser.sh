#!/usr/bin/env bash
# Debian's chromium, for the test that opens `camelid report`'s page in a real headless browser.
# Best effort and only as root with apt-get; without it that test skips (and fails under CI=true).
set -uo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing chromium for the report browser test" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
    >/dev/null 2>&1 || echo "setup: could not install chromium" >&2
else
  echo "setup: no chromium (the report browser test will skip)" >&2
fi
exit 0
