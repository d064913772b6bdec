"""The staff console on a 390 px phone (issue 15): Playwright driving Debian's chromium against the real
`python -m bot serve`, at the size of a common phone. Each check is what a person at the door, or a staff
member reading a ticket on the way, would notice: the 签到 button is on screen and works, the search finds
the person, replies and rating comments are readable, the queue shows the deadline, nothing scrolls
sideways, and the simulator leaves the screen to the chat. Desktop keeps its tables.

Screenshots go to test-artifacts/phone-<page>.png (or $BOT_TEST_ARTIFACTS). Without /usr/bin/chromium these
tests skip, except under .ci/run, which installs it and sets CI_REQUIRE_BROWSER=1 so a missing browser fails.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from bot import clock
from storage import enterprises, identity, staff, users
from tests.browsers import ARTIFACTS, require_chromium

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}

sync_api = require_chromium()
expect = sync_api.expect

REPLY = "城建局已派人到现场查看，今晚开始抢修，预计明天上午恢复通行，请企业提前安排好货车改走东门"
COMMENT = "路修好了，货车能进出了，但是井盖还有点松动，希望城建局再来看一下，总体很满意"
ATTENDEES = (("wx-wang", "王芳", "滇中新材料有限公司"), ("wx-li", "李建国", "云岭生物医药股份有限公司"),
             ("wx-zhao", "赵敏", "云岭生物医药股份有限公司"), ("wx-chen", "陈晓东", "昆明智造装备有限公司"))


@pytest.fixture
def phone_stack(make_app, fake_api, running_server_factory):
    """The served app with a meeting roster, a ticket with a reply and a rating comment, and a queue."""
    services = make_app().extensions["bot"]
    from bot.complaints import service as tickets
    from bot.meetings import service as meetings
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        firms = {name: enterprises.upsert(session, name, industry="制造业")[0].id for _, _, name in ATTENDEES}
        meeting = meetings.create(session, title="新材料产业政企早茶会", starts_at=clock.now() + timedelta(days=2),
                                  venue="管委会三楼会议室", capacity=20, per_enterprise_limit=3)
        for user_id, name, firm in ATTENDEES:
            user = users.get_or_create(session, "wechat", user_id, name)
            users.link_enterprise(user, firms[firm])
            session.flush()
            session.refresh(user)
            record, _ = meetings.signup(services, session, meeting, user, note="带两份产品资料")
            assert record.status == "confirmed"
        road, _ = tickets.file(services, session, description="园区西门道路塌陷一个多月了，货车进不来，严重影响发货",
                               category="道路交通", source="电话", enterprise_id=firms["滇中新材料有限公司"])
        tickets.reply(services, session, road, REPLY, "admin1")
        tickets.resolve(services, session, road, "道路已修复通车", "admin1")
        tickets.rate(services, session, road, 4, COMMENT)
        for text, category in (("厂区东侧路灯连续一周不亮，夜班工人出行不安全", "道路交通"),
                               ("申请高新技术企业认定的材料提交后一直没有回音", "政务服务"),
                               ("西区停电三天了，生产线全部停工，损失很大", "供电")):
            tickets.file(services, session, description=text, category=category, source="走访",
                         enterprise_id=firms["云岭生物医药股份有限公司"])
        # a claim to decide and an invite to revoke: forms inside cards
        claimant = users.get_or_create(session, "wechat", "wx-sun", "孙丽")
        identity.file_claim(session, claimant, enterprises.by_name(session, "昆明智造装备有限公司"), "command")
        identity.create_invite(session, enterprises.by_name(session, "滇中新材料有限公司"), "admin1", uses=3)
        ids = {"meeting": meeting.id, "ticket": road.ticket_no, "firm": firms["滇中新材料有限公司"]}
    env = {"WECHAT_API_BASE": fake_api.base, "WECOM_API_BASE": fake_api.base, "SIMULATOR": "1"}
    return services, running_server_factory(env), ids


def _phone(browser, base: str):
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    page.goto(f"{base}/admin/login")
    page.get_by_label("用户名").fill("admin1")
    page.get_by_label("密码").fill("admin-pass-1")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("本季度"))).to_be_visible()
    return page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"), full_page=True)


def _inside_phone(box) -> bool:
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5


def _fits_the_phone(page, name: str) -> None:
    """No sideways scrolling, every control on screen, and no table cell squeezed to a sliver."""
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: the page scrolls sideways ({width}px)"
    off_screen = page.evaluate("""() => [...document.querySelectorAll(
        'a, button, input:not([type=hidden]), select, textarea')].filter(e => {
          const r = e.getBoundingClientRect();
          return r.width > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5);
        }).map(e => e.outerHTML.slice(0, 120))""")
    assert off_screen == [], f"{name}: controls off screen: {off_screen}"
    squeezed = page.evaluate("""() => [...document.querySelectorAll('table.cards td')].filter(td => {
          const r = td.getBoundingClientRect();
          return r.width > 0 && td.textContent.trim() && r.width < 200;
        }).map(td => td.textContent.trim().slice(0, 40))""")
    assert squeezed == [], f"{name}: cells narrower than 200px: {squeezed}"


def _visible_names(page) -> list[str]:
    return page.locator("#roster tr[data-search]:visible td.lead").all_inner_texts()


def test_check_in_at_the_door_with_the_search_box(phone_stack, browser):
    services, base, ids = phone_stack
    page = _phone(browser, base)
    page.goto(f"{base}/admin/meetings/{ids['meeting']}")
    assert _visible_names(page) == ["王芳", "李建国", "赵敏", "陈晓东"]
    buttons = page.get_by_role("button", name=re.compile("^签到"))
    expect(buttons).to_have_count(4)
    for n in range(4):                                 # every 签到 is on screen, and big enough for a thumb
        box = buttons.nth(n).bounding_box()
        assert _inside_phone(box) and box["height"] >= 44 and box["width"] >= 200, box
    _fits_the_phone(page, "meeting")

    search = page.get_by_label("查找报名人（姓名或企业）")
    search.fill("云岭")                                # part of an enterprise's name
    assert _visible_names(page) == ["李建国", "赵敏"]
    expect(page.locator("#roster-count")).to_have_text("找到 2 / 4 条")
    search.fill("平安")
    assert _visible_names(page) == []
    expect(page.get_by_text("没有匹配的报名人")).to_be_visible()
    search.fill("王芳")
    assert _visible_names(page) == ["王芳"]
    button = page.get_by_role("button", name="签到 王芳")
    expect(button).to_be_in_viewport()
    assert _inside_phone(button.bounding_box())
    _shot(page, "meeting-search")

    button.click()
    expect(page.get_by_role("status").filter(has_text="已签到")).to_be_visible()
    expect(search).to_have_value("王芳")                # the search survives the check-in
    assert _visible_names(page) == ["王芳"]
    row = page.locator("#roster tr[data-search]:visible")
    expect(row.locator("td[data-label=状态]")).to_have_text("已签到")
    expect(row.get_by_role("button", name=re.compile("签到"))).to_have_count(0)
    with services.db.session() as session:
        from storage import meetings as meeting_store
        states = {s.user.display_name: s.status for s in meeting_store.roster(session, ids["meeting"])}
    assert states == {"王芳": "attended", "李建国": "confirmed", "赵敏": "confirmed", "陈晓东": "confirmed"}
    search.fill("")
    assert len(_visible_names(page)) == 4
    _shot(page, "meeting")


def test_ticket_timeline_reads_on_a_phone(phone_stack, browser):
    _, base, ids = phone_stack
    page = _phone(browser, base)
    page.goto(f"{base}/admin/complaints/{ids['ticket']}")
    for text in (REPLY, COMMENT):
        cell = page.locator("table.timeline td").filter(has_text=text)
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box["width"] > 200 and _inside_phone(box), (text, box)
        lines = box["height"] / float(cell.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert lines < 6, f"{text[:10]}… is wrapped into {lines:.0f} lines"
    for name in ("答复", "备注", "改状态", "交办", "延期"):
        assert _inside_phone(page.get_by_role("button", name=name, exact=True).bounding_box()), name
    _fits_the_phone(page, "complaint")
    _shot(page, "complaint")


def test_queue_cards_show_the_deadline(phone_stack, browser):
    services, base, ids = phone_stack
    page = _phone(browser, base)
    page.goto(f"{base}/admin/complaints")
    cards = page.locator("table.queue tr:has(td.lead)")
    expect(cards).to_have_count(4)
    with services.db.session() as session:
        from storage import complaints
        due = complaints.by_ticket(session, ids["ticket"]).due.isoformat()
    card = cards.filter(has=page.get_by_role("link", name=ids["ticket"]))
    deadline = card.locator("td[data-label=办结时限]")
    expect(deadline).to_be_visible()
    expect(deadline).to_have_text(due)
    assert _inside_phone(deadline.bounding_box())
    label = deadline.evaluate("e => getComputedStyle(e, '::before').content")
    assert "办结时限" in label                          # each value sits under its name
    description = card.locator("td[data-label=内容]")
    assert description.bounding_box()["height"] < 3 * 24, "the description is wrapped one character a line"
    expect(page.locator("table.queue thead")).to_be_hidden()
    _fits_the_phone(page, "complaints")
    _shot(page, "complaints")


def test_simulator_header_is_compact(phone_stack, browser):
    _, base, _ = phone_stack
    page = _phone(browser, base)
    page.goto(base + "/")
    expect(page.locator("#log")).to_contain_text("现在以")
    header = page.locator("header").bounding_box()
    assert header["height"] < 0.15 * PHONE["height"], f"the header takes {header['height']}px"
    title = page.locator("header .title")
    line = float(title.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"
                                " || 1.3 * parseFloat(getComputedStyle(e).fontSize)"))
    assert title.bounding_box()["height"] < 1.5 * line, "the title breaks over two lines"
    assert _inside_phone(title.bounding_box())
    _shot(page, "simulator-choose-user")

    page.get_by_label("微信号").fill("zhao")                # choosing a user folds the picker to one line
    page.get_by_label("姓名").fill("赵总")
    page.get_by_label("企业").fill("滇中新材料有限公司")
    page.get_by_role("button", name="使用此用户").click()
    expect(page.locator("#who-box summary")).to_contain_text("当前：赵总（滇中新材料有限公司）")
    expect(page.get_by_label("微信号")).to_be_hidden()
    top = page.evaluate("() => document.getElementById('log').getBoundingClientRect().top")
    assert top < 0.15 * PHONE["height"], f"header and user picker take {top}px"
    log = page.locator("#log").bounding_box()
    assert log["height"] > 0.6 * PHONE["height"], f"the chat gets only {log['height']}px"
    page.get_by_label("消息").fill("菜单")
    page.get_by_role("button", name="发送").click()
    expect(page.locator(".row.bot .bubble").last).to_contain_text("联企助手")
    _fits_the_phone(page, "simulator")
    _shot(page, "simulator")
    page.get_by_text("切换用户").click()                     # and opens again to switch
    expect(page.get_by_label("微信号")).to_be_visible()
    expect(page.get_by_label("微信号")).to_have_value("zhao")


PAGES = {"dashboard": "/admin/", "complaints": "/admin/complaints", "policies": "/admin/policies",
         "broadcasts": "/admin/broadcasts", "groups": "/admin/groups", "meetings": "/admin/meetings",
         "enterprises": "/admin/enterprises", "enterprise": "/admin/enterprises/{firm}", "claims": "/admin/claims",
         "users": "/admin/users", "unhandled": "/admin/unhandled", "staff": "/admin/staff", "audit": "/admin/audit",
         "complaint-new": "/admin/complaints/new", "password": "/admin/password"}


def test_every_main_page_fits_a_phone(phone_stack, browser):
    _, base, ids = phone_stack
    page = _phone(browser, base)
    for name, path in PAGES.items():
        response = page.goto(base + path.format(**ids))
        assert response.status == 200, (name, response.status)
        _fits_the_phone(page, name)
        _shot(page, name)
    page.get_by_text("菜单").click()                   # the phone menu reaches every page
    expect(page.locator("nav details").get_by_role("link", name="诉求工单")).to_be_in_viewport()


def test_desktop_keeps_its_tables(phone_stack, browser):
    _, base, ids = phone_stack
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/admin/login")
    page.get_by_label("用户名").fill("admin1")
    page.get_by_label("密码").fill("admin-pass-1")
    page.get_by_role("button", name="登录").click()
    page.goto(f"{base}/admin/complaints")
    expect(page.locator("table.queue thead")).to_be_visible()
    assert page.locator("table.queue td.due").first.evaluate("e => getComputedStyle(e).display") == "table-cell"
    assert page.locator("table.queue td.due").first.evaluate("e => getComputedStyle(e, '::before').content") == "none"
    page.goto(f"{base}/admin/complaints/{ids['ticket']}")
    cell = page.locator("table.timeline td").filter(has_text=REPLY)
    assert cell.evaluate("e => getComputedStyle(e).display") == "table-cell"
    page.goto(f"{base}/admin/meetings/{ids['meeting']}")
    button = page.get_by_role("button", name="签到 王芳")
    assert button.bounding_box()["width"] < 100             # a small button in the last column, as before
    page.get_by_label("查找报名人（姓名或企业）").fill("陈")
    assert _visible_names(page) == ["陈晓东"]
    _shot(page, "desktop-meeting")
    page.goto(base + "/")                                    # the simulator on a laptop: the picker stays open
    expect(page.locator("#log")).to_contain_text("现在以")
    page.get_by_label("微信号").fill("qian")
    page.get_by_role("button", name="使用此用户").click()
    expect(page.locator("#log")).to_contain_text("现在以 sim-qian")
    expect(page.get_by_label("微信号")).to_be_visible()
    expect(page.locator("header small")).to_be_visible()
    expect(page.locator("#who-box summary")).to_be_hidden()
