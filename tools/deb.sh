# Sourced by tools/build-linux.sh and tools/build-linux-compat.sh: the .deb around a one-folder bundle.
# build_deb BUNDLE STAGE DEB VERSION ARCH DEPENDS
#   installs BUNDLE to /opt/qjgb-desktop, wrappers qjgb and qjgb-cli in /usr/bin, the menu entry (办公), the icons
#   and a README; builds DEB from STAGE (emptied first, removed after). Run from the checkout's top folder.
build_deb() {
  local bundle=$1 stage=$2 deb=$3 version=$4 arch=$5 depends=$6 pkg=qjgb-desktop size prog
  rm -rf "$stage"
  mkdir -p "$stage/DEBIAN" "$stage/opt" "$stage/usr/bin" "$stage/usr/share/applications" \
           "$stage/usr/share/icons/hicolor/scalable/apps" "$stage/usr/share/doc/$pkg"
  cp -a "$bundle" "$stage/opt/$pkg"
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
  dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
  rm -rf "$stage"
}
