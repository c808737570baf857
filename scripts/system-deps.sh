#!/usr/bin/env bash
# System packages some tests need, from Debian: chromium (the verify report is checked in a real
# browser) and python3-torch (our .pt files are loaded with torch.load under /usr/bin/python3).
# Installs only what is missing; one `apt-get update` serves both. Needs root (as CI runs).
set -u
apt_updated=
apt_install() { { [ -n "$apt_updated" ] || { apt-get update -qq && apt_updated=1; }; } && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }
status=0
command -v chromium >/dev/null || apt_install chromium || { echo "chromium install failed"; status=1; }
/usr/bin/python3 -c "import torch" 2>/dev/null || apt_install python3-torch || { echo "python3-torch install failed"; status=1; }
exit $status
