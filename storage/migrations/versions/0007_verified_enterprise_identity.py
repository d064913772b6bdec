"""verified enterprise identity: invitations and membership claims

From here on channel_users.enterprise_id means a VERIFIED membership (an invitation code, a staff
link, or a claim staff approved). Links made before this revision cannot all be told apart: a link
is kept as verified only when the audit log shows staff made it in the console ("user.link" naming
the same enterprise). Every other existing link — self-made with "绑定企业 … → 是", made by the old
`users link` command (which wrote no audit entry), or by the answer after filing a complaint —
becomes a pending claim (source "migrated") in the console's queue 企业认领审核, and the tickets that
user filed in the chat keep the enterprise only as a claimed name (待核实) until staff approve.

Revision ID: 0007
Revises: 0006
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channel_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('linked_via', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('linked_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_enterprise', sa.String(length=200), nullable=True))

    op.create_table('enterprise_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=8), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=False),
    sa.Column('used_count', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_hash')
    )
    with op.batch_alter_table('enterprise_invites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_invites_enterprise_id'), ['enterprise_id'], unique=False)

    op.create_table('enterprise_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_ref', sa.Integer(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('ticket_no', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['enterprises.id'], ),
    sa.ForeignKeyConstraint(['user_ref'], ['channel_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('enterprise_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enterprise_claims_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_claims_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_enterprise_claims_user_ref'), ['user_ref'], unique=False)

    _existing_links_become_claims()


def _existing_links_become_claims():
    conn = op.get_bind()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    linked = conn.execute(sa.text(
        "SELECT u.id, u.channel, u.user_id, u.enterprise_id, e.name FROM channel_users u"
        " JOIN enterprises e ON e.id = u.enterprise_id")).fetchall()
    for user_ref, channel, user_id, enterprise_id, name in linked:
        staff_link = conn.execute(sa.text(
            "SELECT detail, at FROM audit_log WHERE action = 'user.link' AND target = :target"
            " ORDER BY id DESC LIMIT 1"), {"target": f"{channel}:{user_id}"}).first()
        if staff_link is not None and staff_link[0] == name:
            conn.execute(sa.text("UPDATE channel_users SET linked_via = 'staff', linked_at = :at WHERE id = :id"),
                         {"at": staff_link[1], "id": user_ref})
            continue
        conn.execute(sa.text(
            "INSERT INTO enterprise_claims (user_ref, enterprise_id, status, source, ticket_no, reason, decided_by,"
            " created_at) VALUES (:user_ref, :enterprise_id, 'pending', 'migrated', '', '', '', :now)"),
            {"user_ref": user_ref, "enterprise_id": enterprise_id, "now": now})
        conn.execute(sa.text(
            "UPDATE complaints SET claimed_enterprise = :name, enterprise_id = NULL"
            " WHERE user_ref = :user_ref AND enterprise_id = :enterprise_id AND source IN ('wechat', 'wecom', 'group')"),
            {"name": name, "user_ref": user_ref, "enterprise_id": enterprise_id})
        conn.execute(sa.text("UPDATE channel_users SET enterprise_id = NULL WHERE id = :id"), {"id": user_ref})


def downgrade():
    conn = op.get_bind()
    # Undo what upgrade() demoted (claims still pending since the migration), and nothing else: a claim
    # somebody filed after the upgrade must not turn into a link.
    for user_ref, enterprise_id, name in conn.execute(sa.text(
            "SELECT c.user_ref, c.enterprise_id, e.name FROM enterprise_claims c JOIN enterprises e"
            " ON e.id = c.enterprise_id WHERE c.status = 'pending' AND c.source = 'migrated'")).fetchall():
        conn.execute(sa.text("UPDATE channel_users SET enterprise_id = :e WHERE id = :u AND enterprise_id IS NULL"),
                     {"e": enterprise_id, "u": user_ref})
        conn.execute(sa.text("UPDATE complaints SET enterprise_id = :e WHERE user_ref = :u AND enterprise_id IS NULL"
                             " AND claimed_enterprise = :name"), {"e": enterprise_id, "u": user_ref, "name": name})
    with op.batch_alter_table('enterprise_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_claims_user_ref'))
        batch_op.drop_index(batch_op.f('ix_enterprise_claims_status'))
        batch_op.drop_index(batch_op.f('ix_enterprise_claims_enterprise_id'))
    op.drop_table('enterprise_claims')
    with op.batch_alter_table('enterprise_invites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enterprise_invites_enterprise_id'))
    op.drop_table('enterprise_invites')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('claimed_enterprise')
    with op.batch_alter_table('channel_users', schema=None) as batch_op:
        batch_op.drop_column('linked_at')
        batch_op.drop_column('linked_via')
