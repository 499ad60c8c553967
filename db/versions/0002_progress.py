"""progress reports, indicator values, closed periods

Revision ID: 0002_progress
Revises: 0001_initial
Create Date: 2026-11-29 09:30:44.927257
"""
import sqlalchemy as sa
from alembic import op

revision = '0002_progress'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('closed_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], name=op.f('fk_closed_period_plan_id_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_period')),
    sa.UniqueConstraint('plan_id', 'period', name=op.f('uq_closed_period_plan_id'))
    )
    op.create_table('progress_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('is_current', sa.Boolean(), nullable=False),
    sa.Column('yearly_target_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('report_date', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('reporter', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('done', sa.Text(), nullable=False),
    sa.Column('problems', sa.Text(), nullable=False),
    sa.Column('next_steps', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_by', sa.String(length=100), nullable=False),
    sa.Column('delete_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_progress_report_department_id_department')),
    sa.ForeignKeyConstraint(['yearly_target_id'], ['yearly_target.id'], name=op.f('fk_progress_report_yearly_target_id_yearly_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_report')),
    sa.UniqueConstraint('series_id', 'revision', name=op.f('uq_progress_report_series_id'))
    )
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.create_index('ix_progress_report_period', ['period'], unique=False)
        batch_op.create_index('ix_progress_report_latest', ['yearly_target_id', 'is_current', 'deleted', 'report_date', 'id'], unique=False)

    op.create_table('indicator_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_by', sa.String(length=100), nullable=False),
    sa.Column('delete_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_indicator_value_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['report_id'], ['progress_report.id'], name=op.f('fk_indicator_value_report_id_progress_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_value'))
    )
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_value_indicator', ['indicator_id', 'as_of'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('indicator_value', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_value_indicator')

    op.drop_table('indicator_value')
    with op.batch_alter_table('progress_report', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_report_latest')
        batch_op.drop_index('ix_progress_report_period')

    op.drop_table('progress_report')
    op.drop_table('closed_period')
