"""Starting the window: display check, single instance, database, main window; and the offscreen screenshot."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from qjgb_desktop import paths

log = logging.getLogger("qjgb")

NO_DISPLAY_MESSAGE = (
    "无法打开窗口：当前环境没有可用的图形显示（未设置 DISPLAY 或 WAYLAND_DISPLAY）。\n"
    "请在图形桌面中运行；在服务器上可用虚拟显示运行：xvfb-run qjgb；\n"
    "只需截图或测试时可设置 QT_QPA_PLATFORM=offscreen，或使用 qjgb screenshot --out 文件.png。\n"
    "No display available: run under a desktop session, or `xvfb-run qjgb`, or set QT_QPA_PLATFORM=offscreen."
)


def display_problem(env: dict | os._Environ = os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt could not open a window here, before Qt gets the chance to abort the process."""
    if not platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def setup_logging(data_dir: Path) -> None:
    from logging.handlers import RotatingFileHandler

    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    handler = RotatingFileHandler(logs / "qjgb.log", maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def install_excepthook() -> None:
    """A bug never closes the window silently: it is logged with its traceback and shown. A failure the user can
    fix (disk full, read-only folder, damaged or locked database) is told as such, not as a program error."""
    def hook(exc_type, exc, tb) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        from qjgb_desktop.errors import report

        message = report(exc) if isinstance(exc, Exception) else None
        if message is not None and QApplication.instance() is not None:
            QMessageBox.warning(QApplication.activeWindow(), "未能完成", message)
            return
        try:
            log.error("未处理的异常", exc_info=(exc_type, exc, tb))
        except Exception:  # noqa: BLE001 - the log itself may be on the failing disk
            pass
        if QApplication.instance() is not None:
            QMessageBox.critical(None, "程序错误",
                                 f"程序遇到意外错误，已记录到日志文件夹：\n{paths.data_dir() / 'logs'}\n\n"
                                 f"{exc_type.__name__}: {exc}")
        else:
            sys.__excepthook__(exc_type, exc, tb)
    sys.excepthook = hook


def ui_settings():
    from PySide6.QtCore import QSettings

    return QSettings(str(paths.data_dir() / "ui.ini"), QSettings.Format.IniFormat)


def load_tree(db):
    from qjgb_desktop.services.plan.query import plan_tree

    with db.sessions() as session:
        return plan_tree(session)


def create_main_window(tree, db=None, today=None, settings=None):
    """The window over a plan tree. With `db` the window uses that open database; without, start() opens it
    in the background. `today` fixes the date the lights are computed for (tests, screenshots); `settings`
    replaces the user's ui.ini (a screenshot must neither use nor change the clerk's saved view)."""
    from qjgb_desktop.ui.window.context import AppContext
    from qjgb_desktop.ui.window.main_window import MainWindow

    settings = settings if settings is not None else ui_settings()
    ctx = AppContext(db=db, today=today, settings=settings)
    window = MainWindow(tree, settings, paths.data_dir(), ctx=ctx)
    ctx.setParent(window)
    return window


def _install_qt_translations(app) -> None:
    """Qt's own texts (standard buttons, file and message dialogs, the Undo/Copy/Paste context menu, the calendar)
    in Chinese whatever the system's language, like the rest of the program. Qt ships them as qtbase_zh_CN.qm
    next to its libraries; PyInstaller's QtCore hook collects qtbase_*.qm into the bundle (and PySide6's qt.conf
    points QLibraryInfo there); the frozen fallbacks cover a bundle laid out differently."""
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    if getattr(app, "qt_translators", None):
        return
    locale = QLocale("zh_CN")
    QLocale.setDefault(locale)
    folders = [QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        folders += [str(Path(bundle, *parts, "translations")) for parts in (("PySide6", "Qt"), ("PySide6",), ())]
    translator = QTranslator(app)
    if any(translator.load("qtbase_zh_CN", folder) for folder in folders):
        app.installTranslator(translator)
        app.qt_translators = [translator]  # kept alive with the application
    else:
        log.warning("Qt 的中文翻译 qtbase_zh_CN.qm 未找到（%s），标准按钮和对话框将显示英文", "; ".join(folders))


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("qjgb-desktop")
    app.setApplicationDisplayName("强基固本三年行动计划 · 进展管理")
    app.setDesktopFileName("qjgb-desktop")  # Wayland/X11 docks match the window to qjgb-desktop.desktop
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        icon.addFile(str(paths.resource_path("resources", "icons", f"qjgb-{size}.png")))
    app.setWindowIcon(icon)
    _install_qt_translations(app)
    return app


def _open_database_or_explain():
    """The database, or None after telling the user (in a dialog) what is wrong and what to do."""
    from PySide6.QtWidgets import QMessageBox

    from qjgb_desktop.errors import DAMAGED_MARK, report
    from qjgb_desktop.services.safety.database import UnusableDatabase, open_database
    from qjgb_desktop.store import credentials
    from qjgb_desktop.store.schema import SchemaError

    for attempt in range(2):
        try:
            url = paths.database_url()
            if credentials.is_server(url) and not credentials.user_of(url):  # each person's own login
                from PySide6.QtWidgets import QDialog

                from qjgb_desktop.ui.accounts.login_dialog import ServerLoginDialog

                dialog = ServerLoginDialog(url, ui_settings())
                return dialog.db if dialog.exec() == QDialog.DialogCode.Accepted else None
            return open_database()
        except Exception as exc:  # a disk that is full, read-only or locked, a damaged file: the user's to fix
            message = str(exc) if isinstance(exc, SchemaError) else report(exc)
            if message is None:
                raise
            text = f"无法打开数据库：\n{_shown_url()}\n\n{message}"
            damaged = isinstance(exc, UnusableDatabase) or DAMAGED_MARK in message
            if attempt == 0 and damaged and _offer_restore(text):
                continue
            QMessageBox.critical(None, "无法打开数据库", text)
            return None
    return None


def _shown_url() -> str:
    from qjgb_desktop.store import credentials

    try:
        return credentials.safe(paths.database_url())
    except Exception:  # noqa: BLE001 - a config.toml the message itself is about
        return str(paths.data_dir() / paths.CONFIG_FILENAME)


def _offer_restore(text: str) -> bool:
    """A damaged database: offer the newest backup that passes every check; True once it is restored."""
    from PySide6.QtWidgets import QMessageBox

    from qjgb_desktop.errors import report
    from qjgb_desktop.services.safety.checks import newest_good_backup
    from qjgb_desktop.services.safety.restore import restore_backup

    good = newest_good_backup()
    if good is None:
        return False
    answer = QMessageBox.question(
        None, "数据库已损坏", f"{text}\n\n最近一份检查完好的备份：\n{good}\n"
        "（时间：" + __import__("datetime").datetime.fromtimestamp(good.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        + "）\n\n是否用它恢复？恢复前，损坏的文件会另存一份，不会删除。",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes)
    if answer != QMessageBox.StandardButton.Yes:
        return False
    try:
        restore_backup(good)
    except Exception as exc:  # noqa: BLE001 - told, then the caller shows the original problem
        QMessageBox.critical(None, "未能恢复", report(exc) or str(exc))
        return False
    QMessageBox.information(None, "已恢复", f"已从备份恢复：\n{good}\n备份之后录入的内容需要重新录入。")
    return True


def lock_problem(error, data_dir: Path) -> tuple[str, str]:
    """Why the window's single-instance lock was not taken: another window, or a folder that cannot be written."""
    from PySide6.QtCore import QLockFile

    if error == QLockFile.LockError.LockFailedError:
        return "程序已在运行", f"本程序已在使用该数据文件夹：\n{data_dir}\n请切换到已打开的窗口。"
    if error == QLockFile.LockError.PermissionError:
        return "数据文件夹不可写", (f"数据文件夹是只读的或没有写入权限：\n{data_dir}\n"
                                   "请检查文件夹权限，或用 --data-dir 指定一个可写的数据文件夹。")
    return "无法启动", (f"无法在数据文件夹中创建文件（磁盘已满或磁盘故障？）：\n{data_dir}\n"
                       "请腾出磁盘空间后再启动。")


def run_gui() -> int:
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 3
    # The crash handler first: nothing below may fail before there is a way to tell the user.
    install_excepthook()
    data_dir = paths.data_dir()
    app = _application()
    from PySide6.QtCore import QLockFile
    from PySide6.QtWidgets import QMessageBox

    from qjgb_desktop.errors import report

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        setup_logging(data_dir)
    except OSError as exc:
        QMessageBox.critical(None, "无法使用数据文件夹", f"数据文件夹：\n{data_dir}\n\n{report(exc) or exc}")
        return 1
    lock = QLockFile(str(data_dir / "qjgb.lock"))
    lock.setStaleLockTime(0)
    if not lock.tryLock(200):
        problem = lock_problem(lock.error(), data_dir)
        QMessageBox.warning(None, problem[0], problem[1])
        return 1
    # First paint straight from a current SQLite file; otherwise (first start, migration, another database)
    # open it the full way, which creates, migrates, seeds and explains what is wrong.
    from qjgb_desktop.services.plan.query import plan_tree_quick

    db = None
    try:
        tree = plan_tree_quick(paths.database_url())
    except paths.ConfigError:  # (a config.toml to correct: told by the full path below)
        tree = None
    if tree is None:
        db = _open_database_or_explain()
        if db is None:
            return 1
        tree = load_tree(db)
    window = create_main_window(tree, db=db)
    if db is None:
        # The lights with the first paint: the same SQL as the full path, through sqlite3 (no SQLAlchemy yet).
        # The full path recomputes them once the database is open; until then the view is the same.
        from qjgb_desktop.services.progress.status_core import quick_status

        snap = quick_status(paths.database_url(), window.ctx.today(), tree)
        if snap is not None:
            window.ctx.status_ready.emit(snap)
    window.show()
    # Heavy libraries loaded by now would have slowed the first paint (the start-up benchmark checks this).
    early = [m for m in ("sqlalchemy", "alembic", "matplotlib", "openpyxl") if m in sys.modules]
    from PySide6.QtCore import QTimer

    if os.environ.get("QJGB_STARTUP_PROBE"):  # the start-up benchmark: when the window, then its lights, show
        def shown() -> None:
            print(f"shown {time.time():.6f} {' '.join(early)}".rstrip(), flush=True)
            if window.model.status() is not None:
                lights()
            else:
                window.ctx.status_ready.connect(lambda _s: QTimer.singleShot(0, lights))

        def lights() -> None:
            print(f"lights {time.time():.6f}", flush=True)
            app.quit()
        QTimer.singleShot(0, shown)
    QTimer.singleShot(0, window.start)  # open the database once the window is on screen
    try:
        return app.exec()
    finally:
        window.ctx.close()
        lock.unlock()


def screenshot(out: Path, select: int | None = None, size: tuple[int, int] = (1366, 768),
               filters: dict | None = None, today=None, tab: int = 0, login=None) -> int:
    """`login(db)`: the command's account (or None for a database without accounts), logged in once the database
    is open; the window is then that account's, without the login dialog."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _application()
    from qjgb_desktop.errors import report
    from qjgb_desktop.services.safety.database import open_database
    from qjgb_desktop.store.schema import SchemaError

    try:
        db = open_database()
    except SchemaError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a damaged, locked or unreadable database is told, not thrown
        message = report(exc)
        if message is None:
            raise
        print(f"错误：{message}", file=sys.stderr)
        return 1
    try:
        account = login(db) if login is not None else None
    except Exception as exc:  # no login, a wrong password, a disabled account: told, nothing shown
        db.close()
        message = report(exc)
        if message is None:
            raise
        print(f"错误：{message}", file=sys.stderr)
        return 1
    try:
        import tempfile

        from PySide6.QtCore import QSettings

        scratch = tempfile.TemporaryDirectory(prefix="qjgb-shot-")
        # the user's name is kept; the view (filters, selection, splitters) is the default one, and not saved
        ephemeral = QSettings(str(Path(scratch.name) / "ui.ini"), QSettings.Format.IniFormat)
        own = ui_settings()
        for key in ("user/name", "user/department"):
            if own.value(key):
                ephemeral.setValue(key, own.value(key))
        window = create_main_window(load_tree(db), db=db, today=today, settings=ephemeral)
        if account is not None:
            window.ctx.log_in(account)
        window.resize(*size)
        window.show()
        window.start()
        window.ctx.workers.wait()
        app.processEvents()  # the status computed in the background arrives
        filters = filters or {}
        if filters.get("department"):
            combo = window.filter_bar.department
            if combo.findData(filters["department"]) < 0:
                print(f"错误：没有部门“{filters['department']}”", file=sys.stderr)
                return 2
            window.filter_bar.select_department(filters["department"])
        if filters.get("year"):
            window.filter_bar.select_year(filters["year"])
        if filters.get("search"):
            window.filter_bar.keyword.setText(filters["search"])
        if select is not None and not window.select_measure(select):
            print(f"错误：没有第 {select} 项改革措施", file=sys.stderr)
            return 2
        window.tabs.setCurrentIndex(tab)
        window.ctx.workers.wait()
        app.processEvents()
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        from qjgb_desktop.store.files import write_atomically

        image = window.grab()

        def save(tmp) -> None:
            if not image.save(str(tmp), "PNG"):
                raise OSError(f"无法写入 {out}")
        try:
            write_atomically(out, save)
        except OSError as exc:
            print(f"错误：{report(exc) or exc}", file=sys.stderr)
            return 1
        window.close()
    finally:
        window_ctx = locals().get("window")
        if window_ctx is not None:
            window_ctx.ctx.workers.wait()
        db.close()
    print(out)
    return 0
