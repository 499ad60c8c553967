"""imported Excel returns

Revision ID: 0004_import_batch
Revises: 0003_evidence
Create Date: 2026-11-29 10:31:51.659487
"""
import sqlalchemy as sa
from alembic import op

revision = '0004_import_batch'
down_revision = '0003_evidence'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('department', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batch')),
    sa.UniqueConstraint('sha256', name=op.f('uq_import_batch_sha256'))
    )


def downgrade() -> None:
    op.drop_table('import_batch')
