"""A covering index for the enterprises that filed tickets in a period (issue 16)

The dashboard's and `stats`' outreach figures count the enterprises the park was in touch with in a period;
the tickets' part of that ("which enterprises filed in this quarter") read every ticket row of the period
through ix_complaints_created_at (11.6 ms at 50,000 tickets, 8,400 in the quarter). With enterprise_id beside
created_at the database answers from this index alone.

Revision ID: 0015
Revises: 0014
"""
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_complaints_period_enterprises', 'complaints', ['created_at', 'enterprise_id'])


def downgrade():
    op.drop_index('ix_complaints_period_enterprises', table_name='complaints')
