"""Integration accounts (Visma.net), administration mappings and dimension mappings.

Revision ID: integration_0001
Revises: sandbox_0001
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'integration_0001'
down_revision = 'sandbox_0001'  # chained after the sandbox's (this branch merges it); standalone: '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('integration_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('provider', sa.String(length=30), nullable=False),
    sa.Column('company_id', sa.String(length=64), nullable=True),
    sa.Column('company_name', sa.String(length=200), nullable=True),
    sa.Column('scopes', sa.String(length=500), nullable=False),
    sa.Column('access_token_encrypted', sa.Text(), nullable=True),
    sa.Column('refresh_token_encrypted', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('authorised_at', sa.DateTime(), nullable=True),
    sa.Column('last_refresh_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(), nullable=True),
    sa.Column('needs_reauthorisation', sa.Boolean(), nullable=False),
    sa.Column('wizard_step', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_integration_accounts_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_accounts')),
    sa.UniqueConstraint('name', name=op.f('uq_integration_accounts_name'))
    )
    op.create_table('administration_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('visma_company_id', sa.String(length=64), nullable=False),
    sa.Column('visma_company_name', sa.String(length=200), nullable=False),
    sa.Column('branch_number', sa.String(length=30), nullable=False),
    sa.Column('branch_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_administration_mappings_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_administration_mappings_company_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_administration_mappings')),
    sa.UniqueConstraint('account_id', 'company_id', name=op.f('uq_administration_mappings_account_id'))
    )
    op.create_table('dimension_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('visma_dimension_id', sa.String(length=40), nullable=True),
    sa.Column('segment_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['integration_accounts.id'], name=op.f('fk_dimension_mappings_account_id_integration_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dimension_mappings')),
    sa.UniqueConstraint('account_id', 'kind', name=op.f('uq_dimension_mappings_account_id'))
    )


def downgrade():
    op.drop_table('dimension_mappings')
    op.drop_table('administration_mappings')
    op.drop_table('integration_accounts')
