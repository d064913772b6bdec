"""The simulator's group mode (群聊（企业微信智能机器人）) in a real browser, on a laptop and on a 390 px
phone: Playwright driving Debian's chromium against `python -m bot serve`, as tests/test_browser.py does.
A staff member sets up a group with two members, one asks the robot with @联企助手 and is answered,
the other chats without @ and the robot hears nothing, then reports a problem with @ and gets a ticket;
everything stays on screen at 390 px. Screenshots: test-artifacts/simulator-group.png (the phone) and
simulator-group-desktop.png. And an answer that misses the callback (passive_budget_s 0) reaches the
group through response_url, posted by a real worker to the fake API, and shows as sent.
Without chromium these tests skip (except under CI_REQUIRE_BROWSER=1).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from storage import enterprises, staff
from tests.browsers import ARTIFACTS, require_chromium
from tests.configs import write_config

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

sync_api = require_chromium()
expect = sync_api.expect


@pytest.fixture
def served(make_app, fake_api, running_server_factory):
    services = make_app().extensions["bot"]
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        enterprises.upsert(session, "滇中新材料有限公司", industry="新材料")
    return running_server_factory({"WECHAT_API_BASE": fake_api.base, "WECOM_API_BASE": fake_api.base, "SIMULATOR": "1"})


def _open(browser, base: str, viewport: dict, phone: bool):
    page = browser.new_page(viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
    page.goto(f"{base}/admin/login?next=/")
    page.get_by_label("用户名").fill("admin1")
    page.get_by_label("密码").fill("admin-pass-1")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#log")).to_contain_text("现在以")
    return page


def _fits(page, width: int) -> None:
    """No sideways scrolling and every visible control on screen."""
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= width
    off_screen = page.evaluate("""() => [...document.querySelectorAll(
        'a, button, input:not([type=hidden]), select, textarea')].filter(e => {
          const r = e.getBoundingClientRect();
          return r.width > 0 && (r.left < -0.5 || r.right > window.innerWidth + 0.5);
        }).map(e => e.outerHTML.slice(0, 120))""")
    assert off_screen == [], off_screen


def _join(page, account: str, name: str, firm: str, phone: bool) -> None:
    if phone and not page.get_by_label("成员账号").is_visible():
        page.get_by_text("群设置").click()                     # the folded picker opens again
    page.get_by_label("成员账号").fill(account)
    page.get_by_label("姓名").fill(name)
    page.get_by_label("企业", exact=True).fill(firm)
    page.get_by_role("button", name="加入群聊").click()
    expect(page.locator("#log")).to_contain_text(f"加入群聊：{name}")


def _say(page, speaker: str, text: str, mention: bool) -> None:
    page.get_by_label("发言成员").select_option(label=speaker)
    page.get_by_label("@联企助手").set_checked(mention)
    page.get_by_label("消息").fill(text)
    page.get_by_role("button", name="发送").click()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_staff_member_plays_a_wecom_group_with_two_members(served, browser, size):
    phone = size == "phone"
    viewport = PHONE if phone else DESKTOP
    page = _open(browser, served, viewport, phone)
    page.get_by_label("模式").select_option("group")
    expect(page.locator("#log")).to_contain_text("群聊 sim-group1")
    if not phone:
        expect(page.locator("header small")).to_contain_text("企业微信智能机器人")
    _join(page, "li", "李经理", "滇中新材料有限公司", phone)
    if phone:                                                    # joining folds the picker to one line
        expect(page.get_by_label("成员账号")).to_be_hidden()
        expect(page.locator("#who-box summary")).to_contain_text("群 sim-group1 · 李经理")
    _join(page, "wang", "王会计", "", phone)

    _say(page, "李经理", "你能干什么", mention=True)
    answer = page.locator(".row.bot .bubble").last
    expect(answer).to_contain_text("园区联企助手")
    expect(page.locator(".row.me .bubble").last).to_contain_text("@联企助手 你能干什么")

    bots = page.locator(".row.bot").count()
    _say(page, "王会计", "今天食堂中午吃什么", mention=False)
    expect(page.locator(".note").last).to_contain_text("没有@联企助手")
    assert page.locator(".row.bot").count() == bots                  # the robot heard nothing

    _say(page, "王会计", "西区停电三天了，生产线全部停工", mention=True)
    receipt = page.locator(".row.bot .bubble").last
    expect(receipt).to_contain_text("工单号")
    assert re.search(r"TS\d{13}", receipt.inner_text())
    expect(page.locator(".row.me .bubble .who").last).to_have_text("王会计")

    if phone:
        top = page.evaluate("() => document.getElementById('log').getBoundingClientRect().top")
        assert top < 0.2 * PHONE["height"], f"header and group settings take {top}px"
        form = page.locator("form#f").bounding_box()
        assert form["y"] + form["height"] <= PHONE["height"] + 0.5      # speaker, @ and the input on screen
    _fits(page, viewport["width"])
    page.screenshot(path=str(ARTIFACTS / ("simulator-group.png" if phone else "simulator-group-desktop.png")),
                    full_page=True)


@pytest.fixture
def served_with_worker(make_app, fake_api, cli_env, settings, tmp_path, running_server_factory):
    """Every robot answer goes through response_url (passive_budget_s 0), sent by a real worker."""
    services = make_app(jobs_inline=False).extensions["bot"]
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
    config = write_config(tmp_path / "late.yaml", {"var_dir": str(settings.var_dir), "wecom_bot": {"passive_budget_s": 0}})
    env = dict(cli_env, BOT_CONFIG=str(config), WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base, SIMULATOR="1")
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield running_server_factory(env)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=15)


def test_a_late_answer_arrives_through_response_url(served_with_worker, browser, fake_api):
    page = _open(browser, served_with_worker, DESKTOP, phone=False)
    page.get_by_label("模式").select_option("group")
    _join(page, "zhou", "周主任", "", phone=False)
    _say(page, "周主任", "菜单", mention=True)
    expect(page.locator(".note").last).to_contain_text("答复稍后经 response_url 发到群里")
    later = page.locator(".row.later .bubble").last
    expect(later).to_contain_text("园区联企助手", timeout=20_000)
    expect(later.locator(".tag")).to_have_text("经 response_url 回复 周主任", timeout=20_000)   # sent: no state left
    assert any(c["path"] == "/cgi-bin/aibot/response" for c in fake_api.calls)
    page.screenshot(path=str(ARTIFACTS / "simulator-group-response-url.png"), full_page=True)
