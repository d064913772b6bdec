"""Demo data for the offline demo: clearly fictional enterprises and a staff member."""
from __future__ import annotations

from datetime import timedelta

from bot import clock, services
from bot.meetings import service as meetings
from bot.policies import service as policies
from storage import enterprises, users
from storage import staff as accounts

DEMO_ENTERPRISES = [
    ("湘西苗岭农业科技有限公司", "91433100DEMO00001A", "农产品加工", ["重点企业", "科技型中小企业"]),
    ("武陵云科技有限公司", "91433100DEMO00002B", "软件和信息技术", ["高新技术企业", "专精特新"]),
    ("湘西龙腾酒业有限公司", "91433100DEMO00003C", "酒类制造", ["重点企业", "规上企业"]),
    ("湘西山韵茶业有限公司", "91433100DEMO00004D", "茶叶加工", ["小微企业"]),
    ("吉首智造精密机械有限公司", "91433100DEMO00005E", "装备制造", ["规上企业", "高新技术企业"]),
]   # tags double as eligibility statuses (高新技术企业, 专精特新, 规上企业, 小微企业 …)
DEMO_STAFF = ("wechat", "demo-staff-openid", "园区优化办（演示）")
DEMO_CONSOLE = ("admin", "demo-admin-2026")   # console login of the offline demo only: change it for real use


def seed(session, force: bool = False) -> str:
    """Load once: a second call changes nothing unless forced."""
    if not force and enterprises.by_name(session, DEMO_ENTERPRISES[0][0]) is not None:
        return "demo data already loaded"
    for name, code, industry, tags in DEMO_ENTERPRISES:
        enterprises.upsert(session, name, code, industry, tags + ["演示数据"])
    channel, user_id, display = DEMO_STAFF
    staff = users.get_or_create(session, channel, user_id, display)
    staff.roles = ["staff"]
    if accounts.by_username(session, DEMO_CONSOLE[0]) is None:
        accounts.add(session, DEMO_CONSOLE[0], DEMO_CONSOLE[1], "admin")
    _demo_meeting(session)
    counts = policies.seed_demo(services.current(), session)
    return (f"demo data loaded: {len(DEMO_ENTERPRISES)} enterprises, {counts['created'] + counts['updated']} "
            f"policies, 1 breakfast meeting, 1 staff user")


def _demo_meeting(session) -> None:
    """Next week's breakfast meeting, so signing up works right after `make run`."""

    start = (clock.now() + timedelta(days=7)).replace(hour=7, minute=30, second=0)
    meetings.create(session, title="乡情湘味政企早茶会（演示）", theme="农产品加工与食品", host="园区党工委书记",
                    starts_at=start, venue="管委会三楼会议室", capacity=10,
                    signup_deadline=start - timedelta(days=1))
