#!/usr/bin/env bash
# Put a built Reeldeck bundle in the desktop menu: copies dist/Reeldeck (or the folder given) to
# ~/.local/opt/Reeldeck, installs the icons and a .desktop file, so Reeldeck opens with a double click.
#   packaging/install-desktop.sh [BUNDLE_DIR]      install for the current user
#   packaging/install-desktop.sh --uninstall       remove it again
set -euo pipefail
cd "$(dirname "$0")/.."
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
target=${REELDECK_INSTALL_DIR:-$HOME/.local/opt/Reeldeck}
desktop="$data_home/applications/reeldeck.desktop"

if [ "${1:-}" = "--uninstall" ]; then
  rm -rf "$target" "$desktop"
  for size in 16 24 32 48 64 128 256 512; do rm -f "$data_home/icons/hicolor/${size}x${size}/apps/reeldeck.png"; done
  echo "Reeldeck removed from the menu"
  exit 0
fi

bundle=${1:-dist/Reeldeck}
[ -x "$bundle/Reeldeck" ] || { echo "no built bundle at $bundle (run packaging/build.sh first)" >&2; exit 1; }
mkdir -p "$(dirname "$target")" "$data_home/applications"
rm -rf "$target"
cp -a "$bundle" "$target"
for size in 16 24 32 48 64 128 256 512; do
  icon="resources/icons/reeldeck-$size.png"
  [ -f "$icon" ] || continue
  mkdir -p "$data_home/icons/hicolor/${size}x${size}/apps"
  cp "$icon" "$data_home/icons/hicolor/${size}x${size}/apps/reeldeck.png"
done
sed -e "s|^Exec=.*|Exec=\"$target/Reeldeck\"|" -e "s|^TryExec=.*||" resources/reeldeck.desktop > "$desktop"
chmod +x "$desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data_home/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q "$data_home/icons/hicolor" || true
echo "installed: $target/Reeldeck, menu entry $desktop"
