#!/usr/bin/env bash
# Build the Linux release: dist/qjgb/ (PyInstaller one-folder bundle: qjgb = window, qjgb-cli = console)
# and dist/qjgb-desktop_<version>_amd64.deb for 统信UOS / 银河麒麟 / Debian / Ubuntu.
#   bash tools/build-linux.sh
# Installs its own build tools into .venv when missing (pip install -e ".[build]"); needs dpkg-deb.
# The .deb installs to /opt/qjgb-desktop, puts qjgb and qjgb-cli in /usr/bin, a menu entry (办公) and
# the icon. It runs on systems whose glibc is at least the build machine's (Depends: says which): build on
# the oldest system you ship to.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

[ -x .venv/bin/python ] || "$PY" -m venv .venv
if ! .venv/bin/python -c "import PyInstaller" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[build]"
fi
# the bundle is built from the checkout: the installed copy must be this checkout (editable), not an older one
.venv/bin/python -c "import qjgb_desktop, pathlib, sys; sys.exit(pathlib.Path(qjgb_desktop.__file__).resolve().parent != pathlib.Path('qjgb_desktop').resolve())" \
  || .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .

version=$(.venv/bin/python -c "import sys; sys.path.insert(0, '.'); import qjgb_desktop; print(qjgb_desktop.__version__)")
echo "== PyInstaller: dist/qjgb (qjgb-desktop $version)"
LANG=C.UTF-8 .venv/bin/pyinstaller --noconfirm --log-level WARN installer.spec
test -x dist/qjgb/qjgb && test -x dist/qjgb/qjgb-cli

echo "== .deb"
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
pkg=qjgb-desktop
stage=build/deb/${pkg}_${version}_${arch}
rm -rf "$stage"
mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
         "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/$pkg"
cp -a dist/qjgb "$stage/opt/$pkg"
for prog in qjgb qjgb-cli; do
  # a wrapper rather than a symlink: the program finds its _internal folder beside the real file
  printf '#!/bin/sh\nexec /opt/%s/%s "$@"\n' "$pkg" "$prog" >"$stage/usr/bin/$prog"
  chmod 0755 "$stage/usr/bin/$prog"
done
install -m 0644 installer/linux/qjgb-desktop.desktop "$stage/usr/share/applications/$pkg.desktop"
for size in 16 24 32 48 64 128 256; do
  mkdir -p "$stage/usr/share/icons/hicolor/${size}x${size}/apps"
  install -m 0644 "resources/icons/qjgb-$size.png" "$stage/usr/share/icons/hicolor/${size}x${size}/apps/$pkg.png"
done
install -m 0644 resources/icons/qjgb.svg "$stage/usr/share/icons/hicolor/scalable/apps/$pkg.svg"
printf '%s\n' "qjgb-desktop $version" "延庆区“强基固本”教育改革与发展三年行动计划 进展管理（离线桌面程序）" \
  "用户数据在 ~/.local/share/qjgb-desktop（卸载时保留）。" >"$stage/usr/share/doc/$pkg/README"

# the newest glibc symbol any bundled file needs: the oldest system the package can install on
glibc=$(find dist/qjgb -type f \( -name "*.so*" -o -name "qjgb*" \) -exec objdump -T {} + 2>/dev/null \
        | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1 || true)
depends="libc6 (>= ${glibc:-2.28}), libxcb1, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-image0,"
depends+=" libxcb-render-util0, libxcb-xinerama0, libxcb-randr0, libxcb-shape0, libxcb-xfixes0, libxcb-xkb1,"
depends+=" libxkbcommon0, libxkbcommon-x11-0, libgl1, libegl1, libfontconfig1, libfreetype6, libdbus-1-3,"
depends+=" libglib2.0-0 | libglib2.0-0t64, fonts-noto-cjk | fonts-wqy-microhei | fonts-wqy-zenhei"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version
Architecture: $arch
Maintainer: 延庆区教育委员会 <noreply@localhost>
Section: misc
Priority: optional
Installed-Size: $(du -sk "$stage" | cut -f1)
Depends: $depends
Description: 强基固本三年行动计划进展管理（离线桌面程序）
 延庆区“强基固本”教育改革与发展三年行动计划（2025-2027年）的进展填报、
 佐证材料、红黄绿灯预警、督办和 Excel 汇总。无需网络。
 .
 命令：qjgb（窗口）、qjgb-cli（命令行）。用户数据在 ~/.local/share/qjgb-desktop，
 卸载不会删除。
CONTROL
deb=dist/${pkg}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "== done"
echo "dist/qjgb: $(du -sh dist/qjgb | cut -f1) ($(find dist/qjgb -type f | wc -l) files)"
echo "$deb: $(du -h "$deb" | cut -f1)"
