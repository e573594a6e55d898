#!/usr/bin/env bash
# Install Debian's Noto CJK fonts when missing, so that Chinese renders in the browser tests,
# the charts drawn by kaleido (Chromium) and the stakeholder report's PDF.
set -u
if fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's fonts-noto-cjk for Chinese text in charts, PDFs and the browser..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null) \
    || echo "Could not install fonts-noto-cjk: Chinese text may show as empty boxes in PDFs and screenshots."
else
  echo "fonts-noto-cjk is missing and cannot be installed here (not root or no apt-get): Chinese text may show as empty boxes in PDFs and screenshots."
fi
exit 0
