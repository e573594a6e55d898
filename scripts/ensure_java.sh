#!/usr/bin/env bash
# Install Debian's Java runtime for the Spark engine's tests when it is missing and we can.
set -u
if command -v java >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's default-jre-headless for the Spark tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null) \
    || echo "Could not install Java: Spark tests will be skipped (reason printed by pytest)."
else
  echo "java is missing and cannot be installed here (not root or no apt-get): Spark tests will be skipped."
fi
exit 0
