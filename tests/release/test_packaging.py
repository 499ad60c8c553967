"""Packaging without building: tools/setup.sh installs only when the checkout changed, console output survives a
GBK or ASCII console, matplotlib's cache is persistent, the icon files, installer.spec, the .desktop entry, the
.deb's dependencies and (when makensis is installed) the Windows installer script.

The full build (bundle + .deb installed and smoke-tested) is tools/release-smoke.sh: minutes, not a unit test."""

import ast
import configparser
import io
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256)


# -- tools/setup.sh start: pip only when pyproject.toml or the version changed ------------------------------

@pytest.fixture
def checkout(tmp_path):
    """A copy of what setup.sh reads, with a fake venv whose python logs each pip call and whose qjgb echoes."""
    (tmp_path / "tools").mkdir()
    (tmp_path / "qjgb_desktop").mkdir()
    shutil.copy(ROOT / "tools/setup.sh", tmp_path / "tools/setup.sh")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "qjgb_desktop/__init__.py", tmp_path / "qjgb_desktop/__init__.py")
    venv_bin = tmp_path / ".venv/bin"
    venv_bin.mkdir(parents=True)
    log = tmp_path / "pip.log"
    (venv_bin / "python").write_text(f'#!/bin/sh\necho "$*" >>"{log}"\n')
    (venv_bin / "qjgb").write_text('#!/bin/sh\necho "qjgb $*"\n')
    for f in venv_bin.iterdir():
        f.chmod(0o755)
    # only what the script needs: no dpkg/apt-get on PATH, so it leaves the system alone
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "sh", "dirname", "sha256sum", "cut", "sed", "cat", "python3", "id"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return tmp_path


def _setup(checkout, *args):
    env = {"PATH": str(checkout / "bin"), "HOME": str(checkout), "PYTHON": "python3"}
    done = subprocess.run(["bash", str(checkout / "tools/setup.sh"), *args], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    log = checkout / "pip.log"
    calls = log.read_text().splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return done.stdout, calls


def test_setup_start_installs_once_then_only_when_the_checkout_changes(checkout):
    out, calls = _setup(checkout, "start", "--version")
    assert out.strip() == "qjgb --version"
    assert calls == ["-m pip install -q --disable-pip-version-check -e ."]
    assert (checkout / ".venv/qjgb-install-stamp").is_file()

    out, calls = _setup(checkout, "start", "--version")  # offline from here on: no pip at all
    assert out.strip() == "qjgb --version" and calls == []

    with (checkout / "pyproject.toml").open("a") as fh:
        fh.write("\n# a new dependency\n")
    assert len(_setup(checkout, "start")[1]) == 1
    assert _setup(checkout, "start")[1] == []

    init = checkout / "qjgb_desktop/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "', '__version__ = "9'))
    assert len(_setup(checkout, "start")[1]) == 1
    assert _setup(checkout, "start")[1] == []


def test_setup_start_reinstalls_when_the_program_is_missing(checkout):
    _setup(checkout, "start")
    (checkout / ".venv/bin/qjgb").unlink()
    (checkout / ".venv/bin/qjgb").write_text('#!/bin/sh\necho "qjgb $*"\n')
    (checkout / ".venv/bin/qjgb").chmod(0o644)  # not executable: as if pip never finished
    env = {"PATH": str(checkout / "bin"), "HOME": str(checkout), "PYTHON": "python3"}
    subprocess.run(["bash", str(checkout / "tools/setup.sh"), "start"], env=env, capture_output=True, timeout=60)
    assert (checkout / "pip.log").read_text().count("pip install") == 1


def test_setup_test_mode_still_installs_the_test_extras(checkout):
    for _ in range(2):
        _, calls = _setup(checkout, "test", "-q")
        assert calls[0] == '-m pip install -q --disable-pip-version-check -e .[test]'
        assert calls[1] == "-m pytest -q"


# -- console output on a GBK or ASCII console --------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "ascii", "cp936"])
def test_console_output_never_fails_on_a_narrow_code_page(monkeypatch, encoding):
    from qjgb_desktop.cli import entry as cli

    out = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    err = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    cli._console_safe_output()
    print("完成 ✓ 第一批")
    print("错误：✓", file=sys.stderr)
    out.flush()
    text = out.buffer.getvalue().decode(encoding)
    assert text.count("\n") == 1 and "?" in text  # the whole line printed, ✓ replaced
    if encoding != "ascii":
        assert "完成" in text and "第一批" in text


def test_utf8_console_is_left_alone(monkeypatch):
    from qjgb_desktop.cli import entry as cli

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", out)
    cli._console_safe_output()
    assert out.errors == "strict"


@pytest.mark.parametrize("encoding", ["gbk", "ascii"])
def test_help_prints_on_a_narrow_console(encoding, tmp_path):
    env = dict(os.environ, PYTHONIOENCODING=encoding, XDG_CACHE_HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "qjgb_desktop", "progress", "add", "--help"], cwd=ROOT, env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode(encoding, "replace")
    assert b"--measure" in done.stdout


# -- matplotlib's cache --------------------------------------------------------------------------------------

def _mpl_probe(tmp_path, env_extra, code=""):
    env = {k: v for k, v in os.environ.items() if k != "MPLCONFIGDIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), **env_extra)
    script = ("import os, sys\n" + code +
              "from qjgb_desktop import paths\npaths.use_persistent_matplotlib_cache()\n"
              "print(os.environ.get('MPLCONFIGDIR'))\nprint('matplotlib' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_matplotlib_cache_goes_to_the_user_cache_folder_without_importing_matplotlib(tmp_path):
    folder, imported = _mpl_probe(tmp_path, {})
    assert Path(folder) == tmp_path / "cache" / "qjgb-desktop" / "matplotlib"
    assert Path(folder).is_dir()
    assert imported == "False"


def test_a_users_mplconfigdir_is_kept(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    assert _mpl_probe(tmp_path, {"MPLCONFIGDIR": str(mine)})[0] == str(mine)


def test_pyinstallers_throwaway_mplconfigdir_is_replaced_in_the_bundle(tmp_path):
    import tempfile

    throwaway = Path(tempfile.mkdtemp())  # what PyInstaller's matplotlib run-time hook makes on each start
    try:
        folder, _ = _mpl_probe(tmp_path, {"MPLCONFIGDIR": str(throwaway)}, code="sys.frozen = True\n")
        assert Path(folder) == tmp_path / "cache" / "qjgb-desktop" / "matplotlib"
    finally:
        throwaway.rmdir()


def test_cli_main_sets_the_cache_before_anything_else(tmp_path):
    source = (ROOT / "qjgb_desktop/cli/entry.py").read_text(encoding="utf-8")
    main = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef) and n.name == "main")
    first = [ast.unparse(s) for s in main.body[:2]]
    assert first == ["_console_safe_output()", "paths.use_persistent_matplotlib_cache()"]


# -- icons -----------------------------------------------------------------------------------------------------

def test_icon_files_are_present_and_valid():
    from PIL import Image

    ET.parse(ICONS / "qjgb.svg")
    for size in SIZES:
        with Image.open(ICONS / f"qjgb-{size}.png") as im:
            assert im.format == "PNG" and im.size == (size, size) and im.mode == "RGBA"
    with Image.open(ICONS / "qjgb.ico") as ico:
        assert ico.format == "ICO"
        assert {(s, s) for s in SIZES} <= set(ico.info["sizes"])


@pytest.mark.gui
def test_the_window_icon_is_set(qapp):
    from qjgb_desktop.app import _application

    app = _application()
    sizes = {(s.width(), s.height()) for s in app.windowIcon().availableSizes()}
    assert {(s, s) for s in SIZES} <= sizes


# -- installer.spec ----------------------------------------------------------------------------------------

def test_installer_spec_parses_and_covers_what_the_bundle_lacked():
    text = (ROOT / "installer.spec").read_text(encoding="utf-8")
    ast.parse(text)
    for needed in ("matplotlib.backends.backend_svg", "matplotlib.backends.backend_pdf",
                   "matplotlib.backends.backend_agg", "strip=False", "resources\", \"icons\", \"qjgb.ico",
                   '_exe("qjgb", console=False)', '_exe("qjgb-cli", console=True)', "version=_windows_version_file(name)", 'f"{name}.exe"',
                   "LastResortHE-Regular.ttf", "*gtk3*", "sqlalchemy.testing", "opengl32sw.dll"):
        assert needed in text, needed
    assert not re.search(r"strip\s*=\s*True\s*[,)]", text)  # stripping everything breaks numpy


def test_installer_spec_ships_python_docx_in_a_form_that_finds_its_templates():
    text = (ROOT / "installer.spec").read_text(encoding="utf-8")
    assert '"docx"]' in text  # a hidden import: the bundle carries python-docx and its templates
    # docx/parts/../templates/default-footer.xml needs a real docx/parts folder in the bundle (Linux)
    assert 'module_collection_mode={"docx.parts": "pyc"}' in text
    # only lxml.etree: the spec's own hook replaces the one that adds every lxml submodule
    assert 'hookspath=[os.path.join(SPECPATH, "installer", "hooks")]' in text
    hook = {}
    exec((ROOT / "installer/hooks/hook-lxml.py").read_text(encoding="utf-8"), hook)
    assert hook["hiddenimports"] == []


def test_release_smoke_writes_word_documents_from_the_installed_program():
    script = (ROOT / "tools/release-smoke.sh").read_text(encoding="utf-8")
    assert "docx/templates/default.docx" in script and "lxml/etree" in script
    assert re.search(r'"\$cli" --data-dir data report --year \d{4} --out \S+\.docx', script)
    assert re.search(r'"\$cli" --data-dir data notice --all --out ', script)


# -- the .deb --------------------------------------------------------------------------------------------------

def test_desktop_entry():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "installer/linux/qjgb-desktop.desktop", encoding="utf-8")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application"
    assert "强基固本" in d["Name[zh_CN]"]
    assert d["Exec"] == "/usr/bin/qjgb"
    assert d["Icon"] == "qjgb-desktop"
    assert d["Terminal"] == "false"
    assert "Office" in d["Categories"].split(";")
    if shutil.which("desktop-file-validate"):
        subprocess.run(["desktop-file-validate", str(ROOT / "installer/linux/qjgb-desktop.desktop")], check=True)


def test_deb_depends_on_what_qt_needs_on_a_real_x_session_and_a_chinese_font():
    script = (ROOT / "tools/build-linux.sh").read_text(encoding="utf-8")
    assert ". tools/deb.sh" in script and "build_deb dist/qjgb" in script  # the package itself: tools/deb.sh
    script += (ROOT / "tools/deb.sh").read_text(encoding="utf-8")
    for pkg in ("libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-render-util0",
                "libxcb-xinerama0", "libxcb-randr0", "libxkbcommon-x11-0", "libgl1", "libegl1", "libfontconfig1",
                "libdbus-1-3", "fonts-noto-cjk | fonts-wqy-microhei"):
        assert pkg in script, pkg
    assert "/opt/$pkg" in script or "opt/qjgb-desktop" in script
    assert "hicolor" in script


# -- the Windows installer script ----------------------------------------------------------------------------

def test_nsis_script_compiles():
    assert shutil.which("makensis"), "makensis not installed: bash tools/setup.sh test installs Debian's nsis"
    done = subprocess.run(["bash", str(ROOT / "tools/check-nsis.sh")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nsis_script_installs_per_user_and_keeps_the_data():
    text = (ROOT / "installer/qjgb.nsi").read_text(encoding="utf-8")
    assert "RequestExecutionLevel user" in text
    assert 'InstallDir "$LOCALAPPDATA\\Programs\\${APP_ID}"' in text
    uninstall = text.split('Section "Uninstall"', 1)[1]
    assert "qjgb-desktop\"" not in uninstall and "$LOCALAPPDATA" not in uninstall  # the data folder stays


def test_wine_build_script_parses_and_stays_out_of_ci():
    script = ROOT / "installer/build-windows-wine.sh"
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    assert "build-windows-wine" not in (ROOT / ".ci/run").read_text(encoding="utf-8")  # a manual check: ~10 min
    text = script.read_text(encoding="utf-8")
    # the Wine stand-ins stay in the Wine prefix, never in the bundle or the installer
    assert "is in the bundle" in text and "-DNO_WINDOWS_VERSION_CHECK" in text
    assert "NO_WINDOWS_VERSION_CHECK" in (ROOT / "installer/qjgb.nsi").read_text(encoding="utf-8")
