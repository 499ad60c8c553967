"""One truth for a target several departments report on: each department's latest report found by an index, indicator
values with their department and source, how an indicator combines departments' values, which measures' cooperating
departments report too, returns' own saved time

Revision ID: 0009_rule_of_truth
Revises: 0008_notice_numbers
Create Date: 2026-12-08 00:10:00

Existing indicator values keep every figure: each gets the department of the report it was entered with, else of
the return it was imported from (its note names the file), else its measure's lead department; and its source
(report, return file or manual entry) the same way.
"""
import sqlalchemy as sa
from alembic import op

revision = '0009_rule_of_truth'
down_revision = '0008_notice_numbers'
branch_labels = None
depends_on = None

IMPORT_NOTE = '导入：'  # what an imported value's note starts with (services/collection/commit.py)


def upgrade() -> None:
    op.create_index('ix_progress_report_department', 'progress_report',
                    ['yearly_target_id', 'department_id', 'report_date', 'id'], unique=False)
    with op.batch_alter_table('import_batch') as batch:
        batch.add_column(sa.Column('saved_at', sa.DateTime(), nullable=True))
    # indicator and measure are referenced by other tables' rows: altered in place, never rebuilt (a rebuild would
    # have to drop them)
    op.add_column('indicator', sa.Column('aggregate', sa.String(length=16), nullable=False, server_default='lead'))
    op.add_column('measure', sa.Column('cooperating_report', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('indicator_value') as batch:
        batch.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default='manual'))
    bind = op.get_bind()
    bind.execute(sa.text(
        "UPDATE indicator_value SET source = 'report', department_id = "
        "(SELECT r.department_id FROM progress_report r WHERE r.id = indicator_value.report_id) "
        "WHERE report_id IS NOT NULL"))
    bind.execute(sa.text(
        "UPDATE indicator_value SET source = 'return', department_id = "
        "(SELECT d.id FROM import_batch b JOIN department d ON d.name = b.department "
        " WHERE :prefix || b.file_name = indicator_value.note ORDER BY b.id DESC LIMIT 1) "
        "WHERE report_id IS NULL AND note LIKE :like"), {"prefix": IMPORT_NOTE, "like": IMPORT_NOTE + "%"})
    bind.execute(sa.text(
        "UPDATE indicator_value SET department_id = "
        "(SELECT md.department_id FROM indicator i JOIN measure_department md "
        " ON md.measure_id = i.measure_id AND md.role = 'lead' WHERE i.id = indicator_value.indicator_id) "
        "WHERE department_id IS NULL"))
    with op.batch_alter_table('indicator_value') as batch:
        batch.alter_column('department_id', existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(op.f('fk_indicator_value_department_id_department'), 'department',
                                 ['department_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('indicator_value') as batch:
        batch.drop_constraint(op.f('fk_indicator_value_department_id_department'), type_='foreignkey')
        batch.drop_column('source')
        batch.drop_column('department_id')
    for table, column in (('measure', 'cooperating_report'), ('indicator', 'aggregate')):
        if op.get_bind().dialect.name == 'sqlite':  # SQLite 3.35+ drops a column in place
            op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
        else:
            op.drop_column(table, column)
    with op.batch_alter_table('import_batch') as batch:
        batch.drop_column('saved_at')
    op.drop_index('ix_progress_report_department', table_name='progress_report')
