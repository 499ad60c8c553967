"""evidence files and attachments

Revision ID: 0003_evidence
Revises: 0002_progress
Create Date: 2026-11-29 09:55:55.277204
"""
import sqlalchemy as sa
from alembic import op

revision = '0003_evidence'
down_revision = '0002_progress'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('evidence_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('stored_at', sa.DateTime(), nullable=False),
    sa.Column('purged_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_file')),
    sa.UniqueConstraint('sha256', name=op.f('uq_evidence_file_sha256'))
    )
    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('yearly_target_id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('original_name', sa.Text(), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('deleted_by', sa.String(length=100), nullable=False),
    sa.Column('delete_reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['evidence_file.id'], name=op.f('fk_evidence_file_id_evidence_file')),
    sa.ForeignKeyConstraint(['report_id'], ['progress_report.id'], name=op.f('fk_evidence_report_id_progress_report')),
    sa.ForeignKeyConstraint(['yearly_target_id'], ['yearly_target.id'], name=op.f('fk_evidence_yearly_target_id_yearly_target')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_target', ['yearly_target_id', 'deleted'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_evidence_target')

    op.drop_table('evidence')
    op.drop_table('evidence_file')
