"""messages whose handling failed (未处理消息), and jobs kept while RQ's Redis is unreachable

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handled_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('handling_error', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('handling_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('handled_note', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_inbound_messages_handled_state'), ['handled_state'], unique=False)
    op.create_table('deferred_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    op.drop_table('deferred_jobs')
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_messages_handled_state'))
        batch_op.drop_column('handled_note')
        batch_op.drop_column('handling_attempts')
        batch_op.drop_column('handling_error')
        batch_op.drop_column('handled_state')
