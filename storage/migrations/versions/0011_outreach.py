"""Outreach: liaisons (包联) and their contacts, visits (走访), policy applications, 三问三促 surveys

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enterprise_liaisons',
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('liaison_id', sa.Integer(), nullable=True),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by', sa.String(length=64), nullable=False),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['leader_id'], ['staff_accounts.id'], ),
    sa.ForeignKeyConstraint(['liaison_id'], ['staff_accounts.id'], ),
    sa.PrimaryKeyConstraint('enterprise_id')
    )
    with op.batch_alter_table('enterprise_liaisons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_liaisons_leader_id'), ['leader_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_liaisons_liaison_id'), ['liaison_id'], unique=False)

    op.create_table('policy_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('noted_by', sa.String(length=64), nullable=False),
    sa.Column('noted_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enterprise_id', 'policy_id', name='uq_policy_application')
    )
    with op.batch_alter_table('policy_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_applications_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('staff_contacts',
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('wecom_id', sa.String(length=64), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id')
    )
    op.create_table('surveys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=8), nullable=False),
    sa.Column('intro', sa.Text(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('reminder_broadcast_id', sa.Integer(), nullable=True),
    sa.Column('remind_after_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('reminded_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], ),
    sa.ForeignKeyConstraint(['reminder_broadcast_id'], ['broadcasts.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surveys_status'), ['status'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('staff', sa.String(length=200), nullable=False),
    sa.Column('met', sa.String(length=200), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('tickets', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_visited_on'), ['visited_on'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('user_ref', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('tickets', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_ref'], ['channel_users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('survey_id', 'enterprise_id', name='uq_survey_enterprise')
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_completed_at'), ['completed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_responses_survey_id'), ['survey_id'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_responses_status'))
        batch_op.drop_index(batch_op.f('ix_survey_responses_enterprise_id'))
        batch_op.drop_index(batch_op.f('ix_survey_responses_completed_at'))

    op.drop_table('survey_responses')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_visited_on'))
        batch_op.drop_index(batch_op.f('ix_visits_enterprise_id'))

    op.drop_table('visits')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surveys_status'))

    op.drop_table('surveys')
    op.drop_table('staff_contacts')
    with op.batch_alter_table('policy_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_applications_enterprise_id'))

    op.drop_table('policy_applications')
    with op.batch_alter_table('enterprise_liaisons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_liaisons_liaison_id'))
        batch_op.drop_index(batch_op.f('ix_enterprise_liaisons_leader_id'))

    op.drop_table('enterprise_liaisons')
