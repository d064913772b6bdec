"""WeCom groups reached through group-robot webhooks; aibot reply urls

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wecom_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('webhook_key', sa.String(length=128), nullable=False),
    sa.Column('reminders', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('webhook_key')
    )
    op.create_table('group_meeting_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], ),
    sa.ForeignKeyConstraint(['group_id'], ['wecom_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'group_id', name='uq_group_meeting_reminder')
    )
    op.create_table('aibot_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msgid', sa.String(length=160), nullable=False),
    sa.Column('response_url', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('msgid')
    )
    with op.batch_alter_table('aibot_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aibot_replies_status'), ['status'], unique=False)


def downgrade():
    with op.batch_alter_table('aibot_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aibot_replies_status'))
    op.drop_table('aibot_replies')
    op.drop_table('group_meeting_reminders')
    op.drop_table('wecom_groups')
