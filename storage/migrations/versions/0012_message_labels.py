"""Message labels: staff's reading of messages and tickets, for retraining the nlp models

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=32), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('predicted', sa.String(length=64), nullable=False),
    sa.Column('labelled_by', sa.String(length=64), nullable=False),
    sa.Column('labelled_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['message_id'], ['inbound_messages.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('complaint_id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('message_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_labels_labelled_at'), ['labelled_at'], unique=False)


def downgrade():
    with op.batch_alter_table('message_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_labels_labelled_at'))
    op.drop_table('message_labels')
