"""Covering indexes for the office's figures (issue 16)

The dashboard, `stats` and the weekly chart are SQL aggregates that read only these indexes, never the wide
ticket rows (descriptions):

- ix_complaints_period_figures: a period (created_at range) with every column the figures count;
- ix_complaints_grouped_figures: the same columns led by the four breakdowns, so figures over all time
  (`stats` without --since) group in index order without a sort;
- ix_complaints_closed_at: tickets closed per week, and exports since a date (filed or closed since).

Revision ID: 0014
Revises: 0012
"""
from alembic import op

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

COUNTED = ['merged_into', 'due', 'closed_on_time', 'rating', 'reopen_count', 'repeat_count']
BREAKDOWNS = ['status', 'category', 'department', 'source']


def upgrade():
    op.create_index('ix_complaints_period_figures', 'complaints', ['created_at', *BREAKDOWNS, *COUNTED])
    op.create_index('ix_complaints_grouped_figures', 'complaints', [*BREAKDOWNS, 'created_at', *COUNTED])
    op.create_index('ix_complaints_closed_at', 'complaints', ['closed_at', 'merged_into'])


def downgrade():
    op.drop_index('ix_complaints_closed_at', table_name='complaints')
    op.drop_index('ix_complaints_grouped_figures', table_name='complaints')
    op.drop_index('ix_complaints_period_figures', table_name='complaints')
