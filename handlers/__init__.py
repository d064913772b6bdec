"""The routing table and the flows; importing this package has no side effects.

The routing table: every feature's router, in the one order that decides who answers.

First match wins, so the order below matters (tests/test_routing.py pins it):
1. events    — subscribe/unsubscribe/click/… never reach intent routes;
2. explicit commands (绑定企业; 我的联络员是谁, 问卷; 催办 right after a payout answer, 找哪个单位 right after a
   policy answer, fewer people for a signup held) before intents, so a command is never mistaken for chat;
3. complaints — filing, status, "我的诉求"; meetings — info, signup, cancel; policies — questions,
   "第2条", what suits us, 转咨询, subscriptions (their commands come before their intents);
4. general   — help, smalltalk, human, media;
5. fallback  — requests whose feature has not landed go to staff; everything else gets the menu.
"""
from handlers import complaints, enterprise_link, general, meetings, outreach, policies

ROUTERS = [general.events, enterprise_link.router, outreach.router, policies.before_complaints, meetings.before_complaints,
           complaints.router, meetings.router, policies.router, general.general, general.fallback]
ROUTES = [route for router in ROUTERS for route in router.routes]

# Every declared multi-step conversation; bot/__init__.py hands them to the Dispatcher with ROUTES.
FLOWS = [*enterprise_link.FLOWS, *complaints.FLOWS, *meetings.FLOWS, *policies.FLOWS, *outreach.FLOWS]
