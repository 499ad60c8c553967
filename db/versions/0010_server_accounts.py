"""Server accounts as database logins: an account's password may live with the server (no hash here), an account may
have to change its password at the next login, and the server's own log of every row a login changed

Revision ID: 0010_server_accounts
Revises: 0009_rule_of_truth
Create Date: 2026-12-08 03:00:00

On PostgreSQL the roles, privileges, row-level security and triggers are set up after the migrations by
store/server_security.py (they name roles of the server, not tables of this schema).
"""
import sqlalchemy as sa
from alembic import op

revision = '0010_server_accounts'
down_revision = '0009_rule_of_truth'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.alter_column('password_hash', existing_type=sa.String(length=255), nullable=True)
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'row_audit',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('login', sa.String(length=100), nullable=False),
        sa.Column('tbl', sa.String(length=64), nullable=False),
        sa.Column('op', sa.String(length=8), nullable=False),
        sa.Column('row_key', sa.Text(), nullable=True),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_row_audit')))
    op.create_index(op.f('ix_row_audit_at'), 'row_audit', ['at'], unique=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':  # the server's policies, triggers and functions name columns
        drop_server_security()
    op.drop_index(op.f('ix_row_audit_at'), table_name='row_audit')
    op.drop_table('row_audit')
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('must_change_password')
        batch.alter_column('password_hash', existing_type=sa.String(length=255), nullable=False)


def drop_server_security() -> None:
    """What store/server_security.py installed on the tables (the roles stay: the server's, not the schema's)."""
    bind = op.get_bind()
    for table, policy in bind.execute(sa.text(
            "SELECT tablename, policyname FROM pg_policies WHERE schemaname = 'public'")).all():
        op.execute(f'DROP POLICY "{policy}" ON public."{table}"')
        op.execute(f'ALTER TABLE public."{table}" DISABLE ROW LEVEL SECURITY')
    for table, trigger in bind.execute(sa.text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND t.tgname LIKE 'qjgb%' "
            "AND NOT t.tgisinternal")).all():
        op.execute(f'DROP TRIGGER "{trigger}" ON public."{table}"')
    for (function,) in bind.execute(sa.text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname LIKE 'qjgb%'")).all():
        op.execute(f'DROP FUNCTION IF EXISTS {function} CASCADE')
