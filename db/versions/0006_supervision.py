"""督办 items and their steps (立项 → 交办 → 反馈 → 办结 / 继续督办)

Revision ID: 0006_supervision
Revises: 0005_template_key
Create Date: 2026-11-29 16:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006_supervision'
down_revision = '0005_template_key'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supervision_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('yearly_target_id', sa.Integer(), nullable=True),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('feedback_due', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'],
                            name=op.f('fk_supervision_item_department_id_department')),
    sa.ForeignKeyConstraint(['yearly_target_id'], ['yearly_target.id'],
                            name=op.f('fk_supervision_item_yearly_target_id_yearly_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_item'))
    )
    op.create_index('ix_supervision_item_target', 'supervision_item', ['yearly_target_id', 'stage'], unique=False)
    op.create_table('supervision_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('to_whom', sa.Text(), nullable=False),
    sa.Column('notice_file', sa.Text(), nullable=False),
    sa.Column('notice_sha256', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('evidence_ids', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('feedback_due', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['supervision_item.id'],
                            name=op.f('fk_supervision_step_item_id_supervision_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_step'))
    )
    op.create_index(op.f('ix_supervision_step_item_id'), 'supervision_step', ['item_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_supervision_step_item_id'), table_name='supervision_step')
    op.drop_table('supervision_step')
    op.drop_index('ix_supervision_item_target', table_name='supervision_item')
    op.drop_table('supervision_item')
