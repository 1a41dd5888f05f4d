"""The Visma.net provider: documents sent (its outbox) and stopped syncs.

Revision ID: provider_0001
Revises: integration_0001
"""
from alembic import op
import sqlalchemy as sa


revision = 'provider_0001'
down_revision = 'integration_0001'  # chained at merge: 0001 → engine → sandbox → integration → provider
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visma_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('path', sa.String(length=100), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('record_keys', sa.JSON(), nullable=False),
    sa.Column('row_ids', sa.JSON(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('visma_number', sa.String(length=60), nullable=True),
    sa.Column('location', sa.String(length=500), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['export_profiles.id'], name=op.f('fk_visma_documents_profile_id_export_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_visma_documents_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visma_documents'))
    )
    with op.batch_alter_table('visma_documents', schema=None) as batch_op:
        batch_op.create_index('ix_visma_documents_lookup', ['account_id', 'kind', 'reference', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_visma_documents_run_id'), ['run_id'], unique=False)

    op.create_table('sync_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('row_id', sa.BigInteger(), nullable=True),
    sa.Column('record_key', sa.String(length=200), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('stopped_at', sa.DateTime(), nullable=False),
    sa.Column('resumed_at', sa.DateTime(), nullable=True),
    sa.Column('resumed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['profile_id'], ['export_profiles.id'], name=op.f('fk_sync_stops_profile_id_export_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resumed_by_id'], ['users.id'], name=op.f('fk_sync_stops_resumed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_sync_stops_run_id_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_stops'))
    )
    with op.batch_alter_table('sync_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_stops_profile_id'), ['profile_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sync_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_stops_profile_id'))
    op.drop_table('sync_stops')
    with op.batch_alter_table('visma_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visma_documents_run_id'))
        batch_op.drop_index('ix_visma_documents_lookup')
    op.drop_table('visma_documents')
