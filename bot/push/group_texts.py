"""What staff and group members read about WeCom groups and the intelligent robot."""

BAD_KEY = "机器人密钥格式不对：请粘贴群机器人的 Webhook 地址，或其中 key= 后面的部分"
NAME_MISSING = "请填写群名称"
NAME_TOO_LONG = "群名称最多 {limit} 个字"
NAME_BAD_CHARS = "群名称不能含换行等控制字符"
NAME_TAKEN = "群「{name}」已登记过"
KEY_TAKEN = "这个群机器人已登记在另一个群名下"
NOT_REGISTERED = "群「{name}」未登记或已删除"
UNREACHABLE = "企业微信接口暂时无法访问"

# Posted into a group that takes breakfast-meeting reminders.
MEETING_REMINDER_TITLE = "早茶会提醒"
MEETING_REMINDER = ("{title}{theme}\n时间：{when}\n地点：{venue}\n{seats}"
                    "想参加的企业请@我说“报名早茶会”，或在公众号里报名。")
MEETING_SEATS_LEFT = "尚余 {left} 个座位。"
MEETING_FULL = "名额已满，报名将进入候补。"


# "@助手 这个问题帮我登记" quoting a colleague's message: what the dialogue core is given instead.
FILE_QUOTED = "我要反映：{quoted}"
