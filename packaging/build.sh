#!/usr/bin/env bash
# Build the double-clickable app: dist/Reeldeck/ (one folder) and dist/Reeldeck-<version>-linux-<arch>.tar.gz.
# Run from a fresh checkout: it sets up .venv through ./dev and installs PyInstaller itself.
set -euo pipefail
cd "$(dirname "$0")/.."
./dev setup >/dev/null
PY=.venv/bin/python
"$PY" -m pip install -q --disable-pip-version-check "pyinstaller>=6.10" 2>&1 | grep -v "^WARNING: Location" || true
rm -rf build/reeldeck dist/Reeldeck
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --workpath build/reeldeck --distpath dist \
  packaging/reeldeck.spec
version=$("$PY" -c 'import core; print(core.__version__)')
archive="dist/Reeldeck-${version}-linux-$(uname -m).tar.gz"
tar -C dist -czf "$archive" Reeldeck
echo "bundle:  dist/Reeldeck  ($(du -sm dist/Reeldeck | cut -f1) MB)"
echo "archive: $archive  ($(du -m "$archive" | cut -f1) MB)"
