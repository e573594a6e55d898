#!/usr/bin/env bash
# Install Debian's poppler-utils when missing: the browser journeys read the stakeholder
# report's PDF with pdftotext to check that its segments and model comparison are in it.
set -u
if command -v pdftotext >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's poppler-utils (pdftotext) for the journeys' PDF checks..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
    || echo "Could not install poppler-utils: the journeys skip reading the report's PDF."
else
  echo "pdftotext is missing and cannot be installed here (not root or no apt-get): the journeys skip reading the report's PDF."
fi
exit 0
