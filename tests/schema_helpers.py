"""Databases of an older schema revision with the built-in plan in them, for the upgrade and restore tests."""

from sqlalchemy import MetaData, insert, select, text

from qjgb_desktop.store.engine import make_engine
from qjgb_desktop.store.models import Base


def seed_plan(engine, scratch) -> None:
    """The built-in plan written into a database of an older revision: loaded into a current database in `scratch`,
    then copied table by table with only the columns the older schema has (a column added later is left out, so
    the test needs no change when a model gains one)."""

    from qjgb_desktop.services.plan.load import builtin_plan_record, load_plan
    from qjgb_desktop.store.engine import make_sessionmaker

    seed = make_engine(f"sqlite:///{scratch / 'seed.sqlite3'}")
    Base.metadata.create_all(seed)
    with make_sessionmaker(seed).begin() as s:
        load_plan(s, builtin_plan_record())
    older = MetaData()
    older.reflect(engine)
    with seed.connect() as src, engine.begin() as dst:
        for table in Base.metadata.sorted_tables:
            if table.name not in older.tables or table.name == "setting":
                continue
            columns = set(older.tables[table.name].columns.keys())
            rows = [{k: v for k, v in r.items() if k in columns} for r in src.execute(select(table)).mappings()]
            if rows:
                dst.execute(insert(older.tables[table.name]), rows)
                if dst.dialect.name == "postgresql" and "id" in columns:
                    dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"(SELECT max(id) FROM {table.name}))"))
    seed.dispose()
