"""Outreach in a real browser (issue 17): staff compose a 三问三促 survey, preview and send it from the console,
the worker delivers it through the fake WeChat API, owners answer in signed Official Account callbacks, and
the results page shows the response rate and the per-question charts; a free-text answer becomes a ticket
(source 问需) in one click; a visit logged on 走访记录 raises a ticket (source 走访) and shows on 我的企业.

The results page's screenshot is test-artifacts/outreach-results.png (or under $BOT_TEST_ARTIFACTS).
Like tests/test_browser.py, this skips without /usr/bin/chromium unless CI_REQUIRE_BROWSER=1."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import OfficialAccountUser

from storage import complaints, enterprises, identity, staff, users
from storage import outreach as store
from tests.browsers import ARTIFACTS, require_chromium

ROOT = Path(__file__).resolve().parent.parent

sync_api = require_chromium()

FIRMS = ["滇中新材料有限公司", "楚雄云药业有限公司", "大理数字科技有限公司", "玉溪精密机械有限公司",
         "曲靖绿色能源有限公司", "普洱生态茶业有限公司"]
# Each owner's answers: state, needs (several), the 1–5 score, a free text (or 跳过).
ANSWERS = [("1", "1,2", "5", "新厂房用电报装进度慢，影响二期投产"), ("2", "2", "4", "跳过"),
           ("2", "1 3", "4", "希望园区组织专场招聘会，缺少熟练技术工人"), ("3", "4", "2", "物流成本高，希望开通货运专线"),
           ("1", "2、4", "5", "跳过")]


@pytest.fixture
def stack(make_app, cli_env, fake_api, running_server_factory):
    """The served app and a worker on the fake API; the in-process app (same database and Redis) speaks
    for the owners through signed callbacks."""
    app = make_app(jobs_inline=False)
    services = app.extensions["bot"]
    env = dict(cli_env, WECHAT_API_BASE=fake_api.base, WECOM_API_BASE=fake_api.base)
    with services.db.session() as session:
        staff.add(session, "admin1", "admin-pass-1", "admin")
        liaison = staff.add(session, "zhangwei", "zhangwei-pass-1", "staff", department="经发局")
        store.set_contact(session, liaison, "张伟", "zhangwei-wx", "13800001111")
        for n, name in enumerate(FIRMS):
            firm, _ = enterprises.upsert(session, name, industry="制造业", tags=[store.KEY_TAG] if n < 3 else [])
            store.assign(session, firm, liaison, None, "test")
            identity.staff_link(session, users.get_or_create(session, "wechat", f"owner-{n}", f"老板{n}"), firm, "test")
    worker = subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        yield app, services, running_server_factory(env)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=15)


def _login(page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("用户名").fill("admin1")
    page.get_by_label("密码").fill("admin-pass-1")
    page.get_by_role("button", name="登录").click()
    sync_api.expect(page.get_by_role("heading", name=re.compile("本季度"))).to_be_visible()


def _delivered(fake_api, count: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len([c for c in fake_api.calls if c["path"].startswith("/cgi-bin/message/")]) >= count:
            return
        time.sleep(0.2)
    pytest.fail("the worker did not deliver the survey")


def test_compose_send_answer_and_read_the_results_in_the_console(stack, browser, fake_api):
    app, services, base = stack
    expect = sync_api.expect
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())          # the 确认发送 confirmation
    _login(page, base)
    page.get_by_role("link", name="三问三促").first.click()
    page.get_by_label("标题").fill("2026年四季度问需于企")
    page.get_by_label("目的").select_option("问需")
    questions = [("贵企业目前的生产经营状况？", "single", "满负荷生产\n基本正常\n开工不足"),
                 ("最需要园区帮助的方面（可多选）", "multiple", "融资\n用工\n用地\n物流"),
                 ("对园区政务服务的总体评价", "scale", ""), ("还有什么具体困难或建议？", "text", "")]
    for n, (text, kind, options) in enumerate(questions, 1):
        page.get_by_label(f"第{n}题题目").fill(text)
        page.get_by_label(f"第{n}题题型").select_option(kind)
        if options:
            page.get_by_label(f"第{n}题选项").fill(options)
    page.get_by_role("button", name="保存并预览").click()
    expect(page.get_by_text("（1/4）贵企业目前的生产经营状况？")).to_be_visible()
    page.get_by_label("发送对象：").fill("liaison:zhangwei")
    page.get_by_role("button", name="预览接收人数").click()
    expect(page.locator("#reach")).to_contain_text("将发给 6 位企业成员，覆盖 6 家企业")
    page.get_by_role("button", name="确认发送").click()
    expect(page.get_by_text("问卷已交给发送队列")).to_be_visible()
    _delivered(fake_api, 6)

    client = app.test_client()
    for n, answers in enumerate(ANSWERS):
        owner = OfficialAccountUser(client, services.settings, f"owner-{n}")
        assert "（1/4）" in owner.say("问卷")
        for answer in answers:
            owner.say(answer)
    page.reload()
    figures = page.locator("#survey-figures")
    expect(figures).to_contain_text("5家企业已答")
    expect(figures).to_contain_text("83%")
    expect(page.locator("#q1 table")).to_contain_text("基本正常")
    expect(page.locator("#q3 svg")).to_be_visible()
    expect(page.locator("#q3")).to_contain_text("平均 4.0 分")
    page.locator("#q4 tr", has_text="新厂房用电报装进度慢").get_by_role("button", name="转为诉求").click()
    expect(page.get_by_text("已转为诉求")).to_be_visible()
    expect(page.locator("#q4 tr", has_text="新厂房用电报装进度慢").get_by_role("link")).to_contain_text("TS")
    page.screenshot(path=str(ARTIFACTS / "outreach-results.png"), full_page=True)
    with services.db.session() as session:
        ticket = complaints.listing(session)[0]
        assert ticket.source == "问需" and ticket.enterprise.name == FIRMS[0]

    page.goto(f"{base}/admin/outreach/visits")
    page.get_by_label("企业").first.fill(FIRMS[5])
    page.get_by_label("走访人员").fill("张伟、李军")
    page.get_by_label("情况记录").fill("了解二期达产情况")
    page.get_by_label("提出的问题").fill("希望协调银行贷款，解决流动资金紧张")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page.get_by_text("问题已登记为工单")).to_be_visible()
    page.goto(f"{base}/admin/outreach?liaison=zhangwei")
    row = page.locator("#my-enterprises tr", has_text=FIRMS[5])
    expect(row).to_contain_text("（走访）")
    expect(row).to_contain_text("TS")
    page.screenshot(path=str(ARTIFACTS / "outreach-my-enterprises.png"), full_page=True)
