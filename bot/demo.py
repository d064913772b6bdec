"""Demo data for the offline demo: clearly fictional enterprises and a staff member."""
from __future__ import annotations

from storage import enterprises, users

DEMO_ENTERPRISES = [
    ("湘西苗岭农业科技有限公司", "91433100DEMO00001A", "农产品加工", ["重点企业", "科技型中小企业"]),
    ("武陵云科技有限公司", "91433100DEMO00002B", "软件和信息技术", ["高新技术企业", "专精特新"]),
    ("湘西龙腾酒业有限公司", "91433100DEMO00003C", "酒类制造", ["重点企业", "规上企业"]),
    ("湘西山韵茶业有限公司", "91433100DEMO00004D", "茶叶加工", ["小微企业"]),
    ("吉首智造精密机械有限公司", "91433100DEMO00005E", "装备制造", ["规上企业", "高新技术企业"]),
]
DEMO_STAFF = ("wechat", "demo-staff-openid", "园区优化办（演示）")


def seed(session, force: bool = False) -> str:
    """Load once: a second call changes nothing unless forced."""
    if not force and enterprises.by_name(session, DEMO_ENTERPRISES[0][0]) is not None:
        return "demo data already loaded"
    for name, code, industry, tags in DEMO_ENTERPRISES:
        enterprises.upsert(session, name, code, industry, tags + ["演示数据"])
    channel, user_id, display = DEMO_STAFF
    staff = users.get_or_create(session, channel, user_id, display)
    staff.roles = ["staff"]
    return f"demo data loaded: {len(DEMO_ENTERPRISES)} enterprises, 1 staff user"
