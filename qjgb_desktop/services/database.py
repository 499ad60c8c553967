"""Open the program's database: create or migrate the schema, seed the built-in plan once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from .. import paths
from ..store.engine import make_engine, make_sessionmaker
from ..store.schema import ensure_schema


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]
    schema_action: str  # "current", "created", "migrated from …"
    seeded: bool

    def close(self) -> None:
        self.engine.dispose()


def open_database(url: str | None = None, seed: bool = True) -> Database:
    """Open (creating if needed) the database at `url`, by default the one of the current data folder.

    Raises store.schema.SchemaError for a database this program must not touch.
    """
    url = url or paths.database_url()
    engine = make_engine(url)
    try:
        action = ensure_schema(engine)
        sessions = make_sessionmaker(engine)
        seeded = False
        if seed:
            seeded = seed_builtin_plan(sessions)
    except BaseException:
        engine.dispose()
        raise
    return Database(url, engine, sessions, action, seeded)


def seed_builtin_plan(sessions: sessionmaker[Session]) -> bool:
    """Load the built-in plan into an empty database. A database that has a plan is left as it is:
    a revised plan is loaded on purpose, with `qjgb plan load`."""
    from ..store.models import Plan

    with sessions.begin() as session:
        if session.scalar(select(Plan.id).limit(1)) is not None:
            return False
        from .plan_load import builtin_plan_record, load_plan

        load_plan(session, builtin_plan_record(), actor="system", source="内置计划")
    return True
