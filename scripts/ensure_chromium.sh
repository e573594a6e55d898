#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing and we can install it.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "Could not install chromium: browser tests will be skipped (reason printed by pytest)."
else
  echo "chromium is missing and cannot be installed here (not root or no apt-get): browser tests will be skipped."
fi
exit 0
