"""Where things live: the user's data folder, the database URL, and the files shipped with the program.

Order of precedence for the data folder: `--data-dir` (set_data_dir) > QJGB_DATA_DIR > the platform's user
data folder (platformdirs). The database URL: QJGB_DATABASE_URL > `database_url` in <data>/config.toml >
SQLite file <data>/qjgb.sqlite3.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from pathlib import Path

APP_NAME = "qjgb-desktop"
DB_FILENAME = "qjgb.sqlite3"
CONFIG_FILENAME = "config.toml"

_data_dir_override: Path | None = None


def set_data_dir(path: str | os.PathLike | None) -> None:
    global _data_dir_override
    _data_dir_override = Path(path).expanduser().resolve() if path else None


def data_dir() -> Path:
    if _data_dir_override is not None:
        return _data_dir_override
    env = os.environ.get("QJGB_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config() -> dict:
    path = data_dir() / CONFIG_FILENAME
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


_database_url_override: str | None = None
# scheme://user:password@ — a URL that carries a password (store/credentials.py keeps passwords out of URLs)
PASSWORD_IN_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@:]*):(?P<pw>[^/@]*)@")


class ConfigError(ValueError):
    """config.toml says something the program must not use; the message (Chinese) says what to change. Told to the
    user like errors.UserError (errors.explain knows it; this module stays below errors)."""


def set_database_url(url: str | None) -> None:
    """The URL this process works with from now on (a command's server login: the account's URL, no password)."""
    global _database_url_override
    _database_url_override = url


def database_url() -> str:
    if _database_url_override:
        return _database_url_override
    url = os.environ.get("QJGB_DATABASE_URL")
    if url:
        return url
    url = config().get("database_url")
    if url:
        if PASSWORD_IN_URL.match(str(url)):
            raise ConfigError(f"数据文件夹的 {CONFIG_FILENAME} 中的 database_url 含有密码。服务器模式下各台电脑只记服务器和"
                            "数据库（如 postgresql+psycopg://服务器地址/qjgb），每人用自己的账户和密码登录；"
                            f"请删除其中“:密码@”的部分（文件：{data_dir() / CONFIG_FILENAME}）。")
        return str(url)
    return "sqlite:///" + (data_dir() / DB_FILENAME).as_posix()


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    if not url.startswith("sqlite"):
        return None
    _, _, rest = url.partition(":///")
    if not rest or rest == ":memory:":
        return None
    return Path(rest)


def resource_path(*parts: str) -> Path:
    """A file shipped with the program: beside the package in a checkout, in _MEIPASS when frozen."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base.joinpath(*parts)


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def use_persistent_matplotlib_cache() -> None:
    """Point MPLCONFIGDIR at <user cache>/matplotlib before matplotlib is first imported, so its font list
    is built once, not on every start (a scan of the fonts costs about a second on each chart's first use).

    An MPLCONFIGDIR the user set is kept. PyInstaller's matplotlib run-time hook sets a fresh temporary
    folder on every start (for one-file builds, whose paths change); our one-folder build has stable paths,
    so that folder is replaced. matplotlib rebuilds its list by itself when a listed font file is gone.
    """
    current = os.environ.get("MPLCONFIGDIR")
    if current and not (getattr(sys, "frozen", False) and _is_throwaway_dir(Path(current))):
        return
    folder = cache_dir() / "matplotlib"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only or full home: matplotlib falls back to a temporary folder itself
        return
    os.environ["MPLCONFIGDIR"] = str(folder)


def _is_throwaway_dir(path: Path) -> bool:
    """The empty folder straight under the temp directory that PyInstaller's hook made for this run."""
    import tempfile

    try:
        return path.parent.resolve() == Path(tempfile.gettempdir()).resolve() and not any(path.iterdir())
    except OSError:
        return False
