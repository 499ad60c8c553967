"""督办通知单 numbers: the 发文登记 of registered notices, and the 文号 on each 交办 step

Revision ID: 0008_notice_numbers
Revises: 0007_server_mode
Create Date: 2026-11-29 19:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_notice_numbers'
down_revision = '0007_server_mode'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('file_name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_notice_record_department_id_department')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_record')),
    sa.UniqueConstraint('year', 'seq', name='uq_notice_record_year_seq')
    )
    with op.batch_alter_table('supervision_step') as batch:
        batch.add_column(sa.Column('notice_no', sa.String(length=60), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('supervision_step') as batch:
        batch.drop_column('notice_no')
    op.drop_table('notice_record')
