"""Everything the policy feature says, in one place for review."""

HITS_HEAD = "为您找到以下政策："
HIT = "{n}.【{title}】{summary}\n   金额：{amount}　截止：{deadline}\n   申请：{how}\n   咨询：{contact}"
HITS_TAIL = "回复“第1条”“第2条”查看详细。"
DETAIL = ("【{title}】\n{doc_no}发布：{issuer}（{level}级）\n{summary}\n适用对象：{eligibility}\n"
          "支持标准：{amount}\n兑现方式：{payout_mode}\n所需材料：{materials}\n申请方式：{how}\n"
          "截止时间：{deadline}\n咨询：{contact}")
NO_DETAIL = "请先问一个政策问题，再回复“第1条”查看详细。"
PAYOUT = ("「{title}」的兑现方式是{payout_mode}：{explain}\n负责部门：{issuer}（{contact}）。\n"
          "如已超过承诺时限仍未到账，回复“催办”即可转为诉求，由园区协调。")
PAYOUT_MODES = {"免申即享": "符合条件即由部门直接拨付，无需申请",
                "快申快享": "线上提交简要材料，审核通过后快速拨付",
                "依申请": "需按申报通知提交材料，审核、公示后拨付"}
NO_HIT = ("暂时没有找到与您问题对应的政策。回复“转咨询”，我们会请工作人员在1个工作日内答复您；"
          "也可以换个说法再问。")
CONSULT_FILED = "已转交工作人员，咨询单号：{ticket}，将在 {due} 前答复您。"
FIT_NEED_ENTERPRISE = "请先绑定企业（发送“绑定企业 公司全称”），我再根据贵公司的情况筛选政策。"
FIT_HEAD = "根据「{name}」的情况（{profile}），以下政策可能适合："
FIT_ITEM = "{n}.【{title}】{amount}\n   理由：{why}"
FIT_NONE = "根据现有信息暂未筛选出特别匹配的政策，可以直接问具体问题，如“有没有招大学生的补贴”。"
SUBSCRIBED = "已为您订阅{what}政策推送，有新政策会第一时间通知您。回复“退订”可随时取消。"
UNSUBSCRIBED = "已退订{what}政策推送，即时生效。"
ALL_TOPICS = "全部"
CHASED = "已转为诉求，工单号：{ticket}，园区将协调主管部门，{due} 前答复您。"
PAYOUT_GENERAL = ("政策资金的兑现方式分三种：免申即享（部门直接拨付）、快申快享（线上简要申请后快速拨付）、"
                  "依申请（按通知申报、审核公示后拨付）。请告诉我具体的政策名称，我帮您查兑现方式和负责部门；"
                  "如已超过承诺时限仍未到账，回复“催办”即可转为诉求。")
BROADCAST_USAGE = "广播格式：广播 [all|topic:科技|tag:重点企业|group:群ID] 标题：正文"
BROADCAST_PREVIEW = "将向 {count} 位接收人（{target}）发送「{title}」。回复“确认”发送，“取消”放弃。"
BROADCAST_CONFIRM_AGAIN = "回复“确认”发送，或“取消”放弃。"
BROADCAST_STARTED = "广播 {id} 已开始发送，可用命令 python -m bot broadcast status {id} 查看进度。"
