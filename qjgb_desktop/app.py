"""Starting the window: display check, single instance, database, main window; and the offscreen screenshot."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from . import paths

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
    """A bug never closes the window silently: it is logged with its traceback and shown."""
    def hook(exc_type, exc, tb) -> None:
        log.error("未处理的异常", exc_info=(exc_type, exc, tb))
        from PySide6.QtWidgets import QApplication, QMessageBox

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
    from .services.plan_query import plan_tree

    with db.sessions() as session:
        return plan_tree(session)


def create_main_window(tree, db=None, today=None):
    """The window over a plan tree. With `db` the window uses that open database; without, start() opens it
    in the background. `today` fixes the date the lights are computed for (tests, screenshots)."""
    from .ui.context import AppContext
    from .ui.main_window import MainWindow

    settings = ui_settings()
    ctx = AppContext(db=db, today=today, settings=settings)
    window = MainWindow(tree, settings, paths.data_dir(), ctx=ctx)
    ctx.setParent(window)
    return window


def _application():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("qjgb-desktop")
    app.setApplicationDisplayName("强基固本三年行动计划 · 进展管理")
    return app


def _open_database_or_explain():
    """The database, or None after telling the user (in a dialog) what is wrong and what to do."""
    from PySide6.QtWidgets import QMessageBox

    from .services.database import open_database
    from .store.schema import SchemaError

    try:
        return open_database()
    except SchemaError as exc:
        QMessageBox.critical(None, "无法打开数据库", str(exc))
    except Exception as exc:  # a disk that is full, read-only or locked is the user's to fix
        from sqlalchemy.exc import OperationalError

        if not isinstance(exc, (OperationalError, OSError)):
            raise
        log.exception("无法打开数据库")
        QMessageBox.critical(None, "无法打开数据库",
                             f"无法打开数据库：\n{paths.database_url()}\n\n{exc}\n\n"
                             "请检查磁盘空间、文件夹写入权限，或是否有其他程序占用该文件。")
    return None


def run_gui() -> int:
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 3
    data_dir = paths.data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    setup_logging(data_dir)
    install_excepthook()
    app = _application()

    from PySide6.QtCore import QLockFile
    from PySide6.QtWidgets import QMessageBox

    lock = QLockFile(str(data_dir / "qjgb.lock"))
    lock.setStaleLockTime(0)
    if not lock.tryLock(200):
        QMessageBox.warning(None, "程序已在运行", f"本程序已在使用该数据文件夹：\n{data_dir}\n请切换到已打开的窗口。")
        return 1
    # First paint straight from a current SQLite file; otherwise (first start, migration, another database)
    # open it the full way, which creates, migrates, seeds and explains what is wrong.
    from .services.plan_query import plan_tree_quick

    db = None
    tree = plan_tree_quick(paths.database_url())
    if tree is None:
        db = _open_database_or_explain()
        if db is None:
            return 1
        tree = load_tree(db)
    window = create_main_window(tree, db=db)
    window.show()
    # Heavy libraries loaded by now would have slowed the first paint (the start-up benchmark checks this).
    early = [m for m in ("sqlalchemy", "alembic", "matplotlib", "openpyxl") if m in sys.modules]
    from PySide6.QtCore import QTimer

    if os.environ.get("QJGB_STARTUP_PROBE"):  # the start-up benchmark: the window is on screen now
        def report() -> None:
            print(f"shown {time.time():.6f} {' '.join(early)}".rstrip(), flush=True)
            app.quit()
        QTimer.singleShot(0, report)
    QTimer.singleShot(0, window.start)  # open the database once the window is on screen
    try:
        return app.exec()
    finally:
        window.ctx.close()
        lock.unlock()


def screenshot(out: Path, select: int | None = None, size: tuple[int, int] = (1366, 768),
               filters: dict | None = None, today=None, tab: int = 0) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = _application()
    from .services.database import open_database
    from .store.schema import SchemaError

    try:
        db = open_database()
    except SchemaError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 1
    try:
        window = create_main_window(load_tree(db), db=db, today=today)
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
        if not window.grab().save(str(out), "PNG"):
            print(f"错误：无法写入 {out}", file=sys.stderr)
            return 1
        window.close()
    finally:
        window_ctx = locals().get("window")
        if window_ctx is not None:
            window_ctx.ctx.workers.wait()
        db.close()
    print(out)
    return 0
