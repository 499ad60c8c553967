"""server mode: evidence contents in the database (chunked), and accounts

Revision ID: 0007_server_mode
Revises: 0006_supervision
Create Date: 2026-11-29 16:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007_server_mode'
down_revision = '0006_supervision'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stored_blob',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('upload_id', sa.String(length=32), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('stored_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_stored_blob')),
    sa.UniqueConstraint('upload_id', name=op.f('uq_stored_blob_upload_id'))
    )
    op.create_table('blob_chunk',
    sa.Column('upload_id', sa.String(length=32), nullable=False),
    sa.Column('n', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('upload_id', 'n', name=op.f('pk_blob_chunk'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('departments', sa.JSON(), nullable=False),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('password_changed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('name', name=op.f('uq_user_account_name'))
    )


def downgrade() -> None:
    op.drop_table('user_account')
    op.drop_table('blob_chunk')
    op.drop_table('stored_blob')
