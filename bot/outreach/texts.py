"""Everything the outreach feature says, to owners in the chat and to staff, in one place for review."""

# --- 我的联络员是谁 ---
LIAISON = "贵企业（{enterprise}）的专属联络员：{name}\n部门：{department}\n电话：{phone}"
LIAISON_LEADER = "\n包联领导：{name}（{department}）"
LIAISON_TAIL = "\n有事可直接联系，也可以在这里直接描述问题，我们会登记并转给联络员。"
NO_LIAISON = ("贵企业（{enterprise}）暂未安排专属联络员。有事可以直接在这里描述问题，我们会登记跟进；"
              "需要人工服务请发送“转人工”。")
LIAISON_NOT_MEMBER = ("专属联络员信息仅向已认证的企业成员提供。请先发送“绑定企业 邀请码”完成认证"
                      "（邀请码向园区工作人员索取）；有事也可以直接描述问题，或发送“转人工”。")
UNKNOWN = "未登记"

# --- surveys in the chat ---
TYPE_HINTS = {"single": "请回复选项编号", "multiple": "可多选，请回复编号，如“1,3”",
              "scale": "请回复 1–5 的数字（1 最低，5 最高）", "text": "请直接回复文字"}
QUESTION = "（{n}/{total}）{text}{options}\n{hint}；回复“跳过”略过此题，“取消”暂停。"
SURVEY_START = "感谢参加「{title}」，共 {total} 题，可随时回复“跳过”或“取消”，7 天内回复“问卷”可接着填。\n"
SURVEY_RESUME = "接着填写「{title}」（已答 {done}/{total} 题）：\n"
SURVEY_COLLEAGUE_STARTED = "贵企业的同事已答了 {done} 题，您可以接着填（一家企业填一份）：\n"
SURVEY_DONE = "「{title}」已填写完毕，感谢贵企业的宝贵意见！我们会认真研究，有进展会告诉您。"
SURVEY_ALREADY = "贵企业已于 {day} 由{who}填写过「{title}」，每家企业填一份即可，感谢！"
SURVEY_NONE = "目前没有需要贵企业填写的问卷。有问题可以直接描述，我们会登记跟进。"
SURVEY_PRIVATE = "问卷请在与助手的私聊中填写：私聊发送“问卷”即可开始。"
SURVEY_NOT_MEMBER = "问卷由已认证的企业成员代表企业填写。请先发送“绑定企业 邀请码”完成认证。"
SURVEY_NOT_ANSWER = "没看明白这个回答。"
SURVEY_PAUSED_BY_CANCEL = "好的，问卷先暂停，已答的 {done} 题已保存；7 天内回复“问卷”可接着填写。"
SURVEY_STILL_WAITING = "（问卷「{title}」第 {n} 题还在等您：回复答案继续，“跳过”略过，“取消”暂停）"
SURVEY_PAUSED_FOR_OTHER = "（问卷「{title}」已暂停，已答内容保存；办完后回复“问卷”可接着填写）"
SURVEY_CLOSED = "问卷「{title}」已结束收集，感谢关注。"
COLLEAGUE = "同事"

# --- what the survey's broadcast says ---
INVITATION = "{intro}共 {total} 题，约 {minutes} 分钟。回复“问卷”开始填写，一家企业填一份，7 天内可随时接着填。"
REMINDER_TITLE = "问卷提醒：{title}"
REMINDER = "贵企业还未填写「{title}」（{purpose}），您的意见对园区改进服务很重要。回复“问卷”即可开始，约 {minutes} 分钟。"
PURPOSE_NAMES = {"问政": "问政于企：政策落实情况", "问需": "问需于企：达产达效所需", "问效": "问效于企：服务效果评价"}

# --- staff-facing ---
TYPE_NAMES = {"single": "单选", "multiple": "多选", "scale": "1–5 分", "text": "简答"}
VISIT_KINDS = ("走访", "座谈", "调研")
SURVEY_STATUS = {"draft": "草稿", "sent": "已发送", "closed": "已结束"}
ANSWER_TICKET = "【问卷「{title}」·{enterprise}】{question}\n{answer}"
EXPORT_HEAD = ("企业名称", "填写人", "提交时间")
SKIPPED = "（跳过）"
