"""Everything the enterprise-identity feature says to owners, in one place for review."""
from storage import identity

LINK_ASK = ("请发送工作人员给您的邀请码（如 YQ-7KX3-M9Q2），可立即绑定；"
            "没有邀请码请发送贵公司的全称（如：湘西苗岭农业科技有限公司），由工作人员核实。发送“取消”可退出。")
LINK_CONFIRM = "您是「{name}」的员工吗？回复“是”提交绑定申请，回复“不是”重新输入。"
LINK_NOT_FOUND = "没有在园区企业名录中找到「{text}」，请核对后重新发送公司全称，或发送“取消”。"
LINK_WHICH = "名录中有 {count} 家企业名称相符：\n{listed}\n请回复序号（如“1”），或发送公司全称；都不是请回复“不是”。"
LINK_RETRY = "好的，请重新发送公司全称。"
LINK_YES_NO = "请回复“是”或“不是”。"
LINK_DROPPED = "好的，不绑定了。需要时发送“绑定企业 公司名称”。"
ALREADY_LINKED = "您已绑定「{name}」，无需重复申请。"

CLAIM_FILED = ("已提交绑定「{name}」的申请，园区工作人员核实后会通知您。\n"
               "核实前，您只能查看自己反映的诉求。如有贵公司的邀请码，发送“绑定企业 邀请码”可立即绑定。")
CLAIM_PENDING = "您绑定「{name}」的申请正在审核中，核实后会通知您。"
CLAIM_APPROVED = "您绑定「{name}」的申请已通过核实。现在发送“我的诉求”可以查看贵公司的诉求办理进度。"
CLAIM_REJECTED = ("您绑定「{name}」的申请未通过核实{reason}。如有疑问请联系园区优化办，"
                  "或向贵公司负责人索取邀请码后发送“绑定企业 邀请码”。")
CLAIM_REJECTED_REASON = "（原因：{reason}）"
PUSH_TITLE = "企业绑定"

CODE_LINKED = "邀请码核验通过，已绑定「{name}」。现在发送“我的诉求”可以查看贵公司的诉求办理进度。"
CODE_INVALID = "邀请码无效、已过期或已被使用，请核对后重新发送，或联系园区工作人员重新获取。"
CODE_TOO_MANY = "邀请码输错次数过多，请一小时后再试，或联系园区工作人员。"
CODE_UNAVAILABLE = "暂时无法核验邀请码，请稍后再试。"
CODE_IN_GROUP = ("邀请码是绑定企业的凭证，请勿在群里发送。为安全起见，如该邀请码有效，它已作废；"
                 "请联系园区工作人员重新获取，并在与本助手的私聊中发送。")
CODE_IN_GROUP_REVOKED = identity.LEAKED_IN_GROUP
