#!/usr/bin/env bash
# CI check of the Linux release, the way an office PC gets it: build the bundle and the .deb
# (tools/build-linux.sh), install the .deb with apt-get, run the program from /usr/bin with no venv on
# PATH — first start into a fresh folder (migrations + seeding), the window offscreen, every chart kind as
# PNG, SVG and PDF, export, templates, backup --full and restore, the Word report and notices — then uninstall
# it. Prints the bundle size and the build time. Needs root (or sudo) for apt-get.
#   bash tools/release-smoke.sh              build, install, smoke, uninstall
#   bash tools/release-smoke.sh --no-build   use the dist/ already built
#   bash tools/release-smoke.sh --bundle     only smoke dist/qjgb/ itself (no .deb, no root)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

smoke() {  # $1: the console program (qjgb-cli), $2: the window program (qjgb), $3: its _internal folder
  local cli=$1 gui=$2 internal=$3 work kind ext
  # Word documents: python-docx needs its template and lxml.etree in the bundle (the spec trims the rest of lxml)
  test -s "$internal/docx/templates/default.docx" || { echo "docx/templates/default.docx missing" >&2; exit 1; }
  ls "$internal"/lxml/etree.*so* >/dev/null || { echo "lxml.etree missing" >&2; exit 1; }
  work=$(mktemp -d)
  # the installed program must not lean on the checkout's venv or sources
  (
    cd "$work"
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    unset VIRTUAL_ENV PYTHONPATH PYTHONHOME QJGB_DATA_DIR QJGB_DATABASE_URL MPLCONFIGDIR
    export QT_QPA_PLATFORM=offscreen HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache"
    mkdir -p "$HOME"
    set -x
    "$cli" --version
    "$cli" init --data-dir data
    "$cli" --data-dir data progress add --measure 1 --year 2025 --status 已完成 --percent 100 --done "完成 ✓"
    PYTHONIOENCODING=gbk "$cli" --data-dir data progress list >/dev/null
    "$cli" --data-dir data plan --json >plan.json
    for kind in overview actions departments status activity lagging; do
      for ext in png svg pdf; do
        "$cli" --data-dir data chart --kind "$kind" --out "chart-$kind.$ext"
      done
    done
    for ext in png svg pdf; do
      "$cli" --data-dir data chart --kind indicator --measure 1 --indicator 联席会 --out "chart-indicator.$ext"
    done
    "$cli" --data-dir data export --out 导出.xlsx
    "$cli" --data-dir data template --all --period 2025Q4 --out 模板
    "$cli" --data-dir data backup --full --out 备份
    "$cli" --data-dir data restore 备份
    "$cli" --data-dir data backup --out one.sqlite3
    "$cli" --data-dir data restore one.sqlite3
    "$gui" --data-dir data screenshot --out window.png --select 1
    # Word documents (python-docx + lxml from the bundle, charts inside): the report and the notices
    "$cli" --data-dir data report --year 2025 --out 报告.docx
    "$cli" --data-dir data notice --all --out 通知 --register
    "$cli" --data-dir data notice --list > 发文登记.txt
    grep -q "督办〔" 发文登记.txt
    for doc in 报告.docx 通知/*.docx; do
      [ "$(head -c 2 "$doc")" = PK ] && grep -qa "word/document.xml" "$doc" \
        || { echo "$doc is not a Word document" >&2; exit 1; }
    done
    set +x
    test -s window.png && test -s chart-overview.pdf && test -s 导出.xlsx
    ls 模板 | grep -q xlsx
    [ -d "$HOME/.cache/qjgb-desktop/matplotlib" ] || { echo "matplotlib cache not persistent" >&2; exit 1; }
  )
  rm -rf "$work"
}

case "${1:-}" in
  --bundle)
    smoke "$root/dist/qjgb/qjgb-cli" "$root/dist/qjgb/qjgb" "$root/dist/qjgb/_internal"
    echo "冒烟检查通过 / bundle smoke passed: dist/qjgb ($(du -sh dist/qjgb | cut -f1))"
    exit 0
    ;;
  --no-build) ;;
  "")
    start=$(date +%s)
    bash tools/build-linux.sh
    build_seconds=$(( $(date +%s) - start ))
    ;;
  *) echo "usage: bash tools/release-smoke.sh [--no-build|--bundle]" >&2; exit 2 ;;
esac

version=$(sed -n 's/^__version__ *= *"\([^"]*\)".*/\1/p' qjgb_desktop/__init__.py)
deb="$root/dist/qjgb-desktop_${version}_amd64.deb"
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$deb" >/dev/null
trap 'DEBIAN_FRONTEND=noninteractive $sudo apt-get remove -y -qq qjgb-desktop >/dev/null' EXIT
test -f /usr/share/applications/qjgb-desktop.desktop
test -f /usr/share/icons/hicolor/256x256/apps/qjgb-desktop.png
smoke /usr/bin/qjgb-cli /usr/bin/qjgb /opt/qjgb-desktop/_internal
size=$(du -sh dist/qjgb | cut -f1)
echo "冒烟检查通过 / release smoke passed: bundle dist/qjgb $size ($(du -sb dist/qjgb | cut -f1) bytes," \
     "$(find dist/qjgb -type f | wc -l) files), .deb $(du -h "$deb" | cut -f1)${build_seconds:+, build ${build_seconds} s}"
