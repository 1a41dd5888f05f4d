"""Visma.net sandbox tables

Revision ID: sandbox_0001
Revises: 0001
Create Date: 2026-11-21 15:16:36.887542

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'sandbox_0001'
down_revision = 'engine_0001'  # chained at merge: 0001 → engine → sandbox → integration
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sandbox_authorization_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('company_id', sa.String(length=20), nullable=False),
    sa.Column('code_challenge', sa.String(length=200), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('family', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_sandbox_authorization_codes_code_hash'))
    )
    op.create_table('sandbox_authorization_requests',
    sa.Column('id', sa.String(length=43), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('state', sa.String(length=1000), nullable=True),
    sa.Column('code_challenge', sa.String(length=200), nullable=False),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=False),
    sa.Column('requested_company_id', sa.String(length=20), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_authorization_requests'))
    )
    op.create_table('sandbox_companies',
    sa.Column('id', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('fault_rate_limit_count', sa.Integer(), nullable=False),
    sa.Column('fault_retry_after', sa.Integer(), nullable=False),
    sa.Column('fault_server_error_count', sa.Integer(), nullable=False),
    sa.Column('fault_delay_seconds', sa.Float(), nullable=False),
    sa.Column('fault_expire_tokens_after', sa.Integer(), nullable=False),
    sa.Column('fault_reject_reference', sa.String(length=100), nullable=True),
    sa.Column('fault_reject_message', sa.String(length=500), nullable=True),
    sa.Column('closed_periods', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_companies'))
    )
    op.create_table('sandbox_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('number', sa.String(length=60), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=True),
    sa.Column('period', sa.String(length=6), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_records')),
    sa.UniqueConstraint('company_id', 'kind', 'number', name='uq_sandbox_records_company_kind_number')
    )
    with op.batch_alter_table('sandbox_records', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_records_lookup', ['company_id', 'kind', 'reference'], unique=False)

    op.create_table('sandbox_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('path', sa.String(length=2000), nullable=False),
    sa.Column('company_id', sa.String(length=20), nullable=True),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('request_body', sa.Text(), nullable=True),
    sa.Column('response_body', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_requests'))
    )
    with op.batch_alter_table('sandbox_requests', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_requests_company_created', ['company_id', 'created_at'], unique=False)

    op.create_table('sandbox_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('company_id', sa.String(length=20), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sandbox_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_sandbox_tokens_token_hash'))
    )
    with op.batch_alter_table('sandbox_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_sandbox_tokens_company_kind', ['company_id', 'kind'], unique=False)
        batch_op.create_index('ix_sandbox_tokens_family', ['family'], unique=False)



def downgrade():
    with op.batch_alter_table('sandbox_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_tokens_family')
        batch_op.drop_index('ix_sandbox_tokens_company_kind')

    op.drop_table('sandbox_tokens')
    with op.batch_alter_table('sandbox_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_requests_company_created')

    op.drop_table('sandbox_requests')
    with op.batch_alter_table('sandbox_records', schema=None) as batch_op:
        batch_op.drop_index('ix_sandbox_records_lookup')

    op.drop_table('sandbox_records')
    op.drop_table('sandbox_companies')
    op.drop_table('sandbox_authorization_requests')
    op.drop_table('sandbox_authorization_codes')
