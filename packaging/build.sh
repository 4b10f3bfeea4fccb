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
# Strip debug symbols from our own interpreter and extension modules, but never from the vendored libraries
# (*.libs/, Qt's FFmpeg): those are patched by auditwheel and strip breaks them ("ELF load command ... not
# page-aligned"), which silently disables Qt Multimedia.
if command -v strip >/dev/null 2>&1; then
  find dist/Reeldeck/_internal \( -path '*/*.libs/*' -o -path '*/PySide6/Qt/lib/*' -o -path '*/PySide6/Qt/plugins/*' \) \
       -prune -o -type f \( -name '*.so' -o -name '*.so.*' \) -print0 | xargs -0 -r strip --strip-unneeded 2>/dev/null || true
fi
version=$("$PY" -c 'import core; print(core.__version__)')
archive="dist/Reeldeck-${version}-linux-$(uname -m).tar.gz"
tar -C dist -czf "$archive" Reeldeck
echo "bundle:  dist/Reeldeck  ($(du -sm dist/Reeldeck | cut -f1) MB)"
echo "archive: $archive  ($(du -m "$archive" | cut -f1) MB)"
