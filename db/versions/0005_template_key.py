"""a secret key that signs what each fill-in template was prefilled with

Revision ID: 0005_template_key
Revises: 0004_import_batch
Create Date: 2026-11-29 13:40:00
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0005_template_key'
down_revision = '0004_import_batch'
branch_labels = None
depends_on = None

setting = sa.table("setting", sa.column("key", sa.String(100)), sa.column("value", sa.JSON))


def upgrade() -> None:
    # Each database gets its own key: a template can only be vouched for by the database that wrote it.
    op.execute(setting.insert().values(key="template_key", value=secrets.token_hex(32)))


def downgrade() -> None:
    op.execute(setting.delete().where(setting.c.key == "template_key"))
