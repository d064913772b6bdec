"""Everything the complaint feature says to owners and staff, in one place for review."""

STATUS_NAMES = {"received": "已受理", "assigned": "已交办", "in_progress": "办理中", "resolved": "已办结待评价",
                "closed": "已办结"}
RATING_NAMES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

FILED = ("您的{kind}已登记，工单号：{ticket}\n"
         "类别：{category}　承办：{department}\n"
         "受理时限：{accept_due} 前　办结时限：{due} 前\n"
         "查询进度请发送“查询 {ticket}”或“我的诉求”。")
ASK_ENTERPRISE = "\n为便于办理，请问您是哪家企业的？请回复贵公司全称（企业名称）。"
ASK_ENTERPRISE_GROUP = "\n请问您是哪家企业的？请回复企业全称，以便转交办理。"
REASK_ENTERPRISE = "（还请回复您所在企业的全称，不便提供可回复“跳过”。）"
ENTERPRISE_SKIPPED = "好的，工单 {ticket} 先不登记企业，工作人员如有需要会联系您。"
ENTERPRISE_FROM_MESSAGE = "\n已记下您所在的企业「{name}」（待核实）。"
ASK_PHONE = "\n方便的话请留一个联系电话，承办人员好联系您（不方便可不留）。"
PHONE_SAVED = "好的，已记下联系电话，承办人员会联系您。"
PHONE_DECLINED = "好的，不留电话也没关系，办理进展会在这里通知您。"
MERGED = ("您反映的问题与工单 {ticket}（{status}）是同一事项，已并入该工单一并办理（第{times}次反映）。"
          "\n查询进度请发送“查询 {ticket}”。")
ENTERPRISE_CLAIMED = ("已在工单 {ticket} 上记下「{name}」（待核实）。工作人员核实您的身份后会通知您；"
                      "核实前您只能查看自己反映的诉求。")
NAME_NOTED = "好的，知道您是「{name}」的。要查看本企业的诉求，请发送“绑定企业 公司名称”完成绑定；有问题直接描述即可。"
ENTERPRISE_NOTED = "没有在园区企业名录中找到「{text}」，已把该名称记在工单 {ticket} 的备注里，工作人员会核实。"

OFFER_FILING = ("抱歉，我没能完全理解。如果这是需要园区协调解决的问题，回复“登记”，我会把您刚才说的内容"
                "登记为诉求并给您工单号；其他事情请发送“菜单”看看我能做什么。")
OFFER_DECLINED = "好的，没有登记。有需要随时告诉我，发送“菜单”查看我能做的事。"
NOTHING_TO_REGISTER = "目前没有等待登记的内容。需要反映问题，请直接描述情况（发生了什么、在哪里），我会为您登记。"
ALREADY_REGISTERED = "您刚才反映的问题已登记，工单号：{ticket}（{status}）。查询进度请发送“查询 {ticket}”。"
NOTHING_FILED = "好的，没有登记。有需要随时告诉我。"
PLACE_ADDED = "好的，已把地点「{place}」补充到工单 {ticket}。"
# Notes on a ticket for its department (staff read them in its timeline), from what the owner said.
NOTE_URGED = "用户催促：{text}"
NOTE_PLACE_CORRECTED = "用户更正地点：{text}"
NOTE_DETAIL = "用户补充：{text}"
NOTE_PLACE_ADDED = "用户补充地点：{text}"
NOTE_ENTERPRISE_TOLD = "用户自报企业：{text}"
URGED = "收到，已把您的催促记到工单 {ticket}，承办部门会尽快处理（办结时限 {due}）。"
# The owner takes a ticket back ("撤回刚才的投诉", "已经来电了，不用处理了").
NOTE_WITHDRAW_ASKED = "用户申请撤回：{text}"
NOTE_FIXED = "用户反馈已恢复：{text}"
STATUS_WITHDRAWN = "已撤回"
TAKE_BACK_NOT_OPEN = "工单 {ticket} 目前{status}，无需撤回。"
WITHDRAWN = "好的，工单 {ticket} 已撤回，不再办理。问题如再出现，直接描述即可重新登记。"
WITHDRAW_ASKED = "工单 {ticket} 已在办理中（{status}），已把您撤回的意思转告承办部门，由他们确认后办结。"
FIXED_NOTED = "好的，已把“{text}”记到工单 {ticket}，承办部门会一并看到。如不再需要处理，回复“撤回”即可。"
STAFF_WITHDRAWN = "【诉求撤回】{ticket}（{category}）{enterprise}：{text}"
STAFF_WITHDRAW_ASKED = "【申请撤回】{ticket}（{category}）{enterprise}：{text}，请确认后办结"
PLACE_CORRECTED = "好的，已把工单 {ticket} 的地点更正为「{place}」。"
DETAIL_ADDED = "好的，已把您补充的情况记到工单 {ticket}，承办人员会一并看到。"
NOTHING_TO_CONFIRM = "目前没有需要您确认的事项。我是园区联企助手，有什么可以帮您？发送“菜单”查看我能做的事。"
GUIDED_WHAT = "请简单描述一下遇到的问题（发生了什么、影响如何）。可附图片或语音。发送“取消”可退出。"
GUIDED_WHERE = "问题发生在哪里？（如：西区3号厂房门口；没有可回复“跳过”，也可以发送位置）"
GUIDED_WHAT_AFTER_PLACE = "好的，地点记下了。请再简单描述一下遇到的问题（发生了什么、影响如何）。"
VENTING_WHAT = "理解您着急。请说说具体是什么问题、在哪里（如：西区3号路路灯不亮一个月了），我马上登记交办。发送“取消”可退出。"
REASK_WHAT = "（您要反映的问题，请简单描述一下；不反映了请回复“取消”。）"
REASK_WHERE = "（还请告诉我问题发生的地点，如：西区3号厂房门口；不清楚可回复“跳过”。）"
REASK_PHONE = "（还请留一个联系电话，或回复“跳过”。）"
GUIDED_PLACE_NOTED = "好的，地点已记下。"
GUIDED_PHONE = "请留一个联系电话，方便承办人员联系您（不方便可回复“跳过”）。"
GUIDED_MEDIA = "已收到{kind}，会随工单一并提交。请继续用文字描述问题。"
GUIDED_TOO_SHORT = "请再具体描述一下问题，比如发生了什么、在哪里、影响如何。"
GUIDED_BAD_PHONE = "这好像不是电话号码，请重新输入，或回复“跳过”。"

STATUS_LINE = "工单 {ticket}：{status}\n事项：{summary}\n类别：{category}　承办：{department}\n办结时限：{due}"
STATUS_LAST_REPLY = "\n最新答复（{at}）：{text}"
STATUS_EXTENDED = "（已延期）"
NOT_FOUND = "没有找到工单 {ticket}，或它不属于贵公司。请核对工单号。"
NONE_OPEN = "贵公司目前没有办理中的诉求。需要反映问题，直接描述即可。"
NONE_OPEN_OWN = "您目前没有办理中的诉求（未绑定企业时，只能查看自己反映的诉求）。需要反映问题，直接描述即可。"
MY_LIST_HEAD = "贵公司办理中的诉求："
MY_LIST_HEAD_OWN = "您反映的、办理中的诉求："
NO_MATCH = "没有找到与您说的事项相关的诉求。发送“我的诉求”可查看全部；要反映新问题，直接描述即可。"
CHOOSE_HEAD = "找到{n}件相关的诉求，您问的是哪一件？请回复编号："
CHOOSE_ITEM = "{n}. {summary}（{status}，{day}反映）"
REASK_CHOOSE = "（要查看哪一件，请回复编号 1-{n}。）"
CHOICE_SENT_PRIVATELY = "相关诉求涉及企业信息，已通过企业微信单独发给您，请在私聊里回复编号查看。"
MY_LIST_ITEM = "{ticket}　{status}　{category}　{summary}"
MY_LIST_TAIL = "\n发送“查询 工单号”查看详情。"

NOTIFY_ASSIGNED = "您的工单 {ticket} 已交由「{department}」办理，办结时限 {due}。"
NOTIFY_REPLY = "您的工单 {ticket} 有新的答复：{text}"
NOTIFY_EXTENDED = "您的工单 {ticket} 已延期至 {due}，原因：{reason}。"
NOTIFY_RESOLVED = ("您的工单 {ticket} 已办结：{text}\n"
                   "请对办理结果评价，回复数字：5 非常满意　4 满意　3 基本满意　2 不满意　1 非常不满意"
                   "（可在数字后附意见）。")
NOTIFY_MERGED = "您的工单 {ticket} 与工单 {into} 是同一事项，已并入该工单一并办理。查询进度请发送“查询 {into}”。"
MERGED_BY_STAFF = "已并入工单 {ticket} 一并办理"
NOTIFY_STATUS = "您的工单 {ticket} 状态更新为：{status}。"
RATING_THANKS_CLOSED = "感谢您的评价（{rating}），工单 {ticket} 已办结。"
RATING_REOPENED = "很抱歉办理结果未让您满意（{rating}），工单 {ticket} 已重新办理，督办人员会跟进。"
RATING_ASK_AGAIN = "请回复 1-5 的数字评价工单 {ticket}（5 非常满意 … 1 非常不满意），或发送“取消”。"
REASK_RATING = "（另外，请为工单 {ticket} 的办理结果打分：回复 1-5，5 为非常满意，1 为非常不满意。）"
RATING_REMINDER = "提醒：您的工单 {ticket} 已办结，请回复 1-5 评价办理结果（5 非常满意 … 1 非常不满意）。"

STAFF_WARNING = "【预警】工单 {ticket}（{category}，{enterprise}）将于 {due} 到期，请抓紧办理。"
STAFF_ESCALATION = "【督办】工单 {ticket}（{category}，承办：{department}，{enterprise}）已超过办结时限 {due}，请督促办理。"
STAFF_BAD_RATING = "【不满意】工单 {ticket}（{department}）被评价为“{rating}”，已重新办理。意见：{comment}"
STAFF_NEW = "【新诉求】{ticket}（{category}）{enterprise}：{summary}"
UNRATED_NOTE = "超过评价期限未评价，按未评价办结"

EVENT_NAMES = {"filed": "登记", "status": "状态变更", "assigned": "交办", "reply": "答复", "note": "内部备注",
               "extend": "延期", "merged": "并单", "attachment": "附件", "rated": "评价", "reopened": "重新办理",
               "warned": "预警", "escalated": "督办", "category": "改类别",
               "withdrawn": "用户撤回"}
CATEGORY_CHANGED = "{before} → {after}"

# Status asked in a group chat: the details never go to the whole group.
STATUS_PUSH_TITLE = "诉求办理进度"
STATUS_SENT_PRIVATELY = "工单进度涉及企业信息，已通过企业微信单独发给您，请查收。"
STATUS_ASK_PRIVATELY = "工单进度涉及企业信息，不在群里公布。请单独私聊我，或在公众号里发送“查询 工单号”查看。"
NOTE_MATTER_CORRECTED = "用户更正事项：{text}"
MATTER_CORRECTED = "好的，已把工单 {ticket} 更正为「{text}」\n类别：{category}　承办：{department}"
NOTE_REINSTATED = "用户撤回有误，恢复办理：{text}"
STAFF_REINSTATED = "【撤回有误】{ticket}（{category}）{enterprise}：用户说撤回有误，请继续办理。{text}"
REINSTATED = "好的，工单 {ticket} 已恢复办理，进展会在这里通知您。"
