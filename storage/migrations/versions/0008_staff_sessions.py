"""staff sessions that end on logout and password change

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for existing accounts: their next login creates a token; cookies issued before carry none
    # and are refused, so everyone signs in once more after the upgrade.
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('staff_accounts', schema=None) as batch_op:
        batch_op.drop_column('session_token')
