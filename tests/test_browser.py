"""End to end in a real browser: Playwright driving Debian's chromium against `python -m bot serve`
and a real `python -m bot worker`, on the test database and Redis, with the fake WeChat API at the edge.

Screenshots go to test-artifacts/ (or $BOT_TEST_ARTIFACTS). Without /usr/bin/chromium these tests
skip, except under .ci/run, which installs it and sets CI_REQUIRE_BROWSER=1 so a missing browser fails.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage import enterprises, staff, users
from tests.browsers import ARTIFACTS, require_chromium

ROOT = Path(__file__).resolve().parent.parent

sync_api = require_chromium()


@pytest.fixture
def stack(make_app, cli_env, fake_api, running_server_factory):
    """The served app and a worker, both on the fake API; jobs go through Redis to the worker."""
    services = make_app(jobs_inline=False).extensions["bot"]
    env = dict(cli_env, WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base, SIMULATOR="1")
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        enterprises.upsert(session, "滇中新材料有限公司", industry="新材料")
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield services, running_server_factory(env)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=15)


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _login(page, base: str, username="admin1", password="admin-pass-1") -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    sync_api.expect(page.get_by_role("heading", name=re.compile("本季度"))).to_be_visible()


def test_owner_chats_staff_work_the_ticket_and_the_owner_sees_every_step(stack, browser):
    services, base = stack
    expect = sync_api.expect
    owner = browser.new_page(viewport={"width": 420, "height": 860})        # the owner, on a phone
    owner.goto(base + "/")                       # the simulator is a staff tool: the login comes first
    expect(owner).to_have_url(re.compile(r"/admin/login\?next="))
    owner.get_by_label("用户名").fill("admin1")
    owner.get_by_label("密码").fill("admin-pass-1")
    owner.get_by_role("button", name="登录").click()
    expect(owner).to_have_url(base + "/")
    owner.get_by_label("微信号").fill("zhao")    # behind the fixed "sim-" prefix: a simulated user
    owner.get_by_label("姓名").fill("赵总")
    owner.get_by_label("企业").fill("滇中新材料有限公司")
    owner.get_by_role("button", name="使用此用户").click()
    expect(owner.locator("#log")).to_contain_text("现在以 赵总（滇中新材料有限公司）")
    owner.get_by_label("消息").fill("园区西门道路塌陷一个多月了，货车进不来，严重影响发货")
    owner.get_by_role("button", name="发送").click()
    receipt = owner.locator(".row.bot .bubble").last
    expect(receipt).to_contain_text("工单号")
    ticket = re.search(r"TS\d{13}", receipt.inner_text()).group(0)
    _shot(owner, "1-simulator-complaint-filed")

    desk = browser.new_page(viewport={"width": 1280, "height": 900})       # the office, on a laptop
    _login(desk, base)
    desk.get_by_role("link", name="诉求工单").first.click()
    desk.get_by_role("link", name=ticket).click()
    expect(desk.get_by_text("滇中新材料有限公司")).to_be_visible()
    desk.locator("form:has(input[value=assign]) button").click()
    expect(desk.get_by_text("已保存")).to_be_visible()
    desk.get_by_placeholder("公开答复（推送给企业）").fill("城建局已派人到现场查看，今晚开始抢修")
    desk.get_by_role("button", name="答复").click()
    expect(desk.locator("table").get_by_text("城建局已派人到现场查看，今晚开始抢修")).to_be_visible()
    desk.locator("form:has(input[value=status]) select").select_option("resolved")
    desk.get_by_placeholder("公开说明（如办结情况）").fill("道路已修复通车")
    desk.get_by_role("button", name="改状态").click()
    expect(desk.locator("h2")).to_contain_text("已办结待评价")
    _shot(desk, "2-console-ticket-resolved")

    pushes = owner.locator(".row.push .bubble")                       # delivered by the worker, polled
    expect(pushes.filter(has_text="今晚开始抢修")).to_have_count(1, timeout=20000)
    expect(pushes.filter(has_text="道路已修复通车")).to_have_count(1, timeout=20000)
    owner.get_by_label("消息").fill("5 很及时")
    owner.get_by_role("button", name="发送").click()
    expect(owner.locator(".row.bot .bubble").last).to_contain_text("已办结")
    _shot(owner, "3-simulator-follow-ups-and-rating")

    desk.reload()
    expect(desk.locator("h2")).to_contain_text("已办结")
    with services.db.session() as session:
        from storage import complaints
        assert complaints.by_ticket(session, ticket).rating == 5
        assert users.find(session, "wechat", "sim-zhao").enterprise.name == "滇中新材料有限公司"


def test_staff_send_a_broadcast_and_watch_it_go_out(stack, browser, fake_api):
    services, base = stack
    expect = sync_api.expect
    with services.db.session() as session:
        for n in range(30):
            users.seen(session, "wechat", f"reader-{n}")
    fake_api.latency_s = 0.05                                      # slow enough to see it progress
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _login(page, base)
    page.get_by_role("link", name="政策广播").first.click()
    page.get_by_placeholder("标题").fill("关于申报2027年度研发补助的通知")
    page.get_by_placeholder("正文").fill("请符合条件的企业于12月31日前在线申报。")
    page.get_by_role("button", name="预览接收人数").click()
    expect(page.get_by_text("将向 30 位接收人")).to_be_visible()
    page.get_by_role("button", name="确认发送").click()
    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "100", timeout=30000)
    expect(page.get_by_role("status").filter(has_text="发送完成")).to_contain_text("30/30 已发，0 失败")
    _shot(page, "4-broadcast-sent")
    sent = [c for c in fake_api.calls if c["path"] == "/cgi-bin/message/custom/send"]
    assert sorted(c["body"]["touser"] for c in sent) == sorted(f"reader-{n}" for n in range(30))


def test_dashboard_charts_and_menu_on_a_phone(stack, browser):
    services, base = stack
    expect = sync_api.expect
    from bot.complaints import service as tickets
    with services.db.session() as session:
        for text, category in (("停电", "供电"), ("道路坑洼", "道路交通"), ("路灯不亮", "道路交通")):
            tickets.file(services, session, description=text, category=category, source="电话")
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    _login(page, base)
    drawn = page.evaluate("() => ['chart-category','chart-status','chart-weekly']"
                          ".map(id => !!Chart.getChart(document.getElementById(id)))")
    assert drawn == [True, True, True]
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-category')).data.datasets[0].data") == [2, 1]
    expect(page.locator("nav .links")).to_be_hidden()                # the phone menu replaces the links
    page.get_by_text("菜单").click()
    page.locator("nav details").get_by_role("link", name="早茶会").click()
    expect(page.get_by_role("heading", name="政企早茶会")).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    _shot(page, "5-phone-meetings")
