"""Server mode: a database URL names the server, the database and (optionally) the login, never the password.

A password reaches the program from a prompt, the login dialog, the environment (QJGB_PASSWORD) or, for the DBA, a URL
given on the command line or in QJGB_DATABASE_URL; it is kept here, in this process's memory only, under the URL
without it, and handed to the driver when a connection is made (store/engine.make_engine). So every URL the program
holds, prints or logs has no password in it; with none given, libpq looks in PGPASSWORD and the PGPASSFILE
(~/.pgpass, %APPDATA%\\postgresql\\pgpass.conf) itself.
"""

from __future__ import annotations

from qjgb_desktop.paths import PASSWORD_IN_URL

_PASSWORDS: dict[str, str] = {}


def is_server(url: str) -> bool:
    return not url.startswith("sqlite")


def _parse(url: str):
    from sqlalchemy.engine import make_url

    return make_url(url)


def clean(url: str) -> str:
    """The URL without its password; a password in it is remembered for this URL."""
    if not is_server(url):
        return url
    u = _parse(url)
    if u.password is None:
        return u.render_as_string(hide_password=False)
    bare = u._replace(password=None).render_as_string(hide_password=False)
    _PASSWORDS[bare] = str(u.password)
    return bare


def remember(url: str, password: str | None) -> str:
    """Remember `password` for `url` (cleaned); returns the clean URL."""
    bare = clean(url)
    if password is not None:
        _PASSWORDS[bare] = password
    return bare


def forget(url: str) -> None:
    _PASSWORDS.pop(clean(url), None)


def password_for(url: str) -> str | None:
    return _PASSWORDS.get(clean(url)) if is_server(url) else None


def user_of(url: str) -> str | None:
    return _parse(url).username if is_server(url) else None


def with_user(url: str, user: str) -> str:
    """The server URL logging in as `user` (any password it had is not carried over)."""
    u = _parse(url)._replace(username=user, password=None)  # (URL.set leaves a field alone when given None)
    return u.render_as_string(hide_password=False)


def has_password(url: str) -> bool:
    return bool(url) and PASSWORD_IN_URL.match(url) is not None


def safe(url: str) -> str:
    """A URL fit to print or log: any password removed (also from a URL that does not parse)."""
    if not url or not is_server(url):
        return url
    try:
        return _parse(url)._replace(password=None).render_as_string(hide_password=False)
    except Exception:  # noqa: BLE001 - a malformed URL is still printed, without what looks like a password
        return PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}@", url)


def account_url(url: str) -> str:
    """What every PC's config.toml holds: the server and the database, no login, no password."""
    return _parse(url)._replace(username=None, password=None).render_as_string(hide_password=False)
