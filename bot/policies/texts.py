"""Everything the policy feature says, in one place for review."""

HITS_HEAD = "为您找到以下政策："
WHOM_HEAD = "刚才这几项政策的受理部门和咨询电话："
WHOM_ITEM = "{n}.【{title}】{issuer}，咨询：{contact}"
HIT = "{n}.【{title}】{summary}\n   金额：{amount}　截止：{deadline}\n   申请：{how}\n   咨询：{contact}"
HITS_TAIL = "回复“第1条”“第2条”查看详细。"
DETAIL = ("【{title}】\n{doc_no}发布：{issuer}（{level}级）\n{summary}\n适用对象：{eligibility}\n"
          "支持标准：{amount}\n兑现方式：{payout_mode}\n所需材料：{materials}\n申请方式：{how}\n"
          "截止时间：{deadline}\n咨询：{contact}")
ONLY_SO_MANY = "上次只找到 {count} 条政策，请回复“第1条”到“第{count}条”查看详细。"
ONLY_ONE = "上次只找到这 1 条政策：\n"
NO_DETAIL = "请先问一个政策问题，再回复“第1条”查看详细。"
PAYOUT = ("「{title}」的兑现方式是{payout_mode}：{explain}\n负责部门：{issuer}（{contact}）。\n"
          "如已超过承诺时限仍未到账，回复“催办”即可转为诉求，由园区协调。")
PAYOUT_MODES = {"免申即享": "符合条件即由部门直接拨付，无需申请",
                "快申快享": "线上提交简要材料，审核通过后快速拨付",
                "依申请": "需按申报通知提交材料，审核、公示后拨付"}
NO_HIT = ("暂时没有找到与您问题对应的政策。回复“转咨询”，我们会请工作人员在1个工作日内答复您；"
          "也可以换个说法再问。")
NO_FIT = ("政策库里暂时没有找到与“{what}”相关的政策。回复“转咨询”，工作人员会在1个工作日内核实答复您；"
          "也可以回复“转人工”直接联系工作人员。")
NO_FIT_PAYOUT = ("政策库里暂时没有找到“{what}”这项政策，暂时查不到它的兑现方式和进度。回复“转咨询”，工作人员会在1个"
                 "工作日内核实答复您；已超过承诺时限仍未到账的，回复“催办”转为诉求由园区协调；也可以回复“转人工”。")
ASK_WHICH = "请问是哪一项政策的资金？可能是：\n{options}\n回复序号或政策名称即可；都不是的话请告诉我政策名称，或回复“转人工”。"
ASK_WHICH_NONE = ("请问是哪一项政策的资金？告诉我政策名称（如“稳岗返还”），我帮您查兑现方式和负责部门；"
                  "也可以回复“转人工”。")
ASK_WHICH_TOPIC = "您想了解哪方面的政策？可能是：\n{options}\n回复序号查看详细，或直接说出政策名称、想办的事。"
WHICH_ITEM = "{n}. {title}（{payout_mode}）"
WHICH_AGAIN = "没认出是哪一项，请回复序号（1-{n}）或政策名称，或回复“转人工”。"
CHASE_WHAT = ("请先告诉我要催办哪项政策资金（如“稳岗返还什么时候到账”），我查清兑现方式后可转为催办诉求；"
              "已反映的诉求，发送“我的诉求”可查看进度。")
CONSULT_FILED = "已转交工作人员，咨询单号：{ticket}，将在 {due} 前答复您。"
FIT_NEED_ENTERPRISE = "请先绑定企业（发送“绑定企业 公司全称”），我再根据贵公司的情况筛选政策。"
FIT_HEAD = "根据「{name}」的情况（{profile}），以下政策可能适合："
FIT_ITEM = "{n}.【{title}】{amount}\n   理由：{why}"
FIT_NONE = "根据现有信息暂未筛选出特别匹配的政策，可以直接问具体问题，如“有没有招大学生的补贴”。"
SUBSCRIBED = "已为您订阅{what}政策推送，有新政策会第一时间通知您。回复“退订”可随时取消。"
SUBSCRIPTIONS_NONE = "您目前没有订阅政策推送。回复“订阅政策”可接收全部政策通知，或只订阅某一类，如“订阅科技政策”。"
SUBSCRIPTIONS_ALL = "您已订阅全部政策推送，有新政策会通知您。回复“退订”可取消。"
SUBSCRIPTIONS_TOPICS = "您已订阅{what}方面的政策推送。回复“订阅政策”可改为全部，回复“退订”可取消。"
UNSUBSCRIBED = "已退订{what}政策推送，即时生效。"
ALL_TOPICS = "全部"
CHASED = "已登记为诉求，工单号：{ticket}，园区将协调主管部门，{due} 前答复您。"
CHASED_ALREADY = "这笔资金已为您催办，工单号：{ticket}。发送“查询 {ticket}”可查看进度。"
PAYOUT_GENERAL = ("政策资金的兑现方式分三种：免申即享（部门直接拨付）、快申快享（线上简要申请后快速拨付）、"
                  "依申请（按通知申报、审核公示后拨付）。请告诉我具体的政策名称，我帮您查兑现方式和负责部门；"
                  "如已超过承诺时限仍未到账，回复“催办”即可转为诉求。")
BROADCAST_USAGE = ("广播格式：广播 [对象] 标题：正文。对象可省略（全部关注用户），或写 主题:科技、标签:重点企业、"
                   "群:群名。")
BROADCAST_PREVIEW = "将向 {count} 位接收人（{target}）发送「{title}」。回复“确认”发送，“取消”放弃。"
BROADCAST_CONFIRM_AGAIN = "回复“确认”发送，或“取消”放弃。"
BROADCAST_STARTED = "第{id}号广播已开始发送，发送进度可在管理后台「政策广播」页查看。"
BROADCAST_TARGETS = {"all": "全部关注用户", "topic": "订阅“{name}”政策的用户", "tag": "“{name}”企业的用户",
                     "group": "群“{name}”"}
