"""Everything the general handlers say, in one place for review."""

MENU = (
    "我是园区联企助手，可以帮您：\n"
    "1. 反映问题、提诉求：直接描述问题，如“西区停电三天了”\n"
    "2. 查诉求进度：如“查一下工单 TS2026031500012”或“我的诉求”\n"
    "3. 问惠企政策：如“研发费用加计扣除怎么申请”\n"
    "4. 订阅/退订政策推送：如“订阅科技政策”“退订”\n"
    "5. 报名政企早茶会：如“报名下一期早茶会”\n"
    "6. 绑定企业：发送“绑定企业 公司名称”\n"
    "7. 找工作人员：发送“转人工”"
)
WELCOME = "欢迎关注园区联企助手！\n" + MENU
# The WeCom intelligent robot's enter-chat event (first visit of the day to its one-to-one chat): nothing is
# "followed" there, so it says how to reach the robot in groups (@ it) and here.
WECOM_WELCOME = (
    "您好！在企业微信里这样找我：\n"
    "· 在企业微信群里：先@联企助手再说事，如“@联企助手 西区停电三天了”，没有@我的群消息我收不到；\n"
    "· 在这里单聊：直接发消息就行，不用@。\n"
) + MENU
WELCOME_BACK = "欢迎回来！有什么可以帮您？发送“菜单”查看我能做的事。"
THANKS = "不客气，有需要随时找我。"
GREETING = "您好！有什么可以帮您？发送“菜单”查看我能做的事。"
ACK = "好的。"
# "如果停电了找谁", "投诉要怎么弄": nothing happened yet; how telling the bot works.
IF_IT_HAPPENS = ("遇到这类问题（{category}），直接在这里告诉我发生了什么、在哪里，我会马上登记并给您工单号，"
                 "转{department}办理；急事也可以回复“转人工”。")
HOW_TO_COMPLAIN = ("直接在这里描述问题就行：发生了什么、在哪里、影响如何。我会马上登记并给您工单号，承办部门按时限办理，"
                   "进展会通知您；也可以先发送“我要反映问题”，我一步步问您。")
JOKE_NOTED = "😄 有需要园区协调的事，随时告诉我。"
SORRY_UPSET = "抱歉没能帮上忙。您可以直接描述遇到的问题，我马上登记；或回复“转人工”，由工作人员联系您。"
LET_IT_GO = "好的，有需要随时告诉我。"
BYE = "再见，祝您工作顺利！"
HUMAN = "已为您转人工：已通知园区工作人员，他们会在工作时间尽快联系您。如方便，请留下联系电话和需要沟通的事项。"
HUMAN_STAFF_NOTICE = "【转人工】{who}（{enterprise}）请求人工服务：{text}"
FALLBACK = "抱歉，我没太明白您的意思。\n" + MENU
CANNOT_HELP = "抱歉，这个我帮不上忙。"
WHO_AM_I = ("我是园区联企助手，一个自动回复的智能助手，可以帮您反映问题、查诉求进度、问惠企政策、报名早茶会。"
            "需要工作人员请发送“转人工”。")
HERE = "在的，我是园区联企助手，请讲。"
NO_HURRY = "好的，不着急。"
# "先不要取消", "等下先别退", "先不用催": the action held back, and how to take it when they decide.
HELD_BACK = {"meeting.cancel": "好的，报名先给您保留着。确定去不了时回复“取消早茶会报名”。",
             "policy.unsubscribe": "好的，先不退订，推送照常。想退时回复“退订”。",
             "complaint.file": "好的，先不催办。需要园区协调时回复“催办”。"}
DID_YOU_MEAN = "您是想{guess}吗？可以换个说法再说一次。"
INTENT_NAMES = {
    "complaint.file": "反映问题", "complaint.status": "查询诉求进度", "policy.query": "咨询政策",
    "policy.subscribe": "订阅政策推送", "policy.unsubscribe": "退订政策推送",
    "meeting.signup": "报名早茶会", "meeting.cancel": "取消早茶会报名", "meeting.info": "了解早茶会安排",
    "help": "查看功能菜单", "human": "联系工作人员",
}
MEDIA_RECEIVED = {"image": "图片", "voice": "语音", "video": "视频", "shortvideo": "视频",
                  "location": "位置", "link": "链接", "file": "文件"}
MEDIA_ACK = "已收到您发送的{kind}。如需反映问题，请用文字描述一下具体情况。"
