"""The BM25 policy search core."""
from nlp.search import PolicyIndex

DOCS = [
    {"id": 1, "title": "研发费用加计扣除政策", "summary": "企业研发费用按100%在税前加计扣除", "body": "汇算清缴时申报"},
    {"id": 2, "title": "稳岗返还", "summary": "不裁员或少裁员的企业返还失业保险费", "body": "人社局办理"},
    {"id": 3, "title": "创业担保贷款贴息", "summary": "小微企业最高可贷300万元并享受贴息", "body": "向合作银行申请"},
]


def test_ranked_hits_with_field_weights_and_synonyms():
    index = PolicyIndex(DOCS)
    assert index.search("加计扣除怎么申请")[0].doc_id == 1
    assert index.search("小微企业贷款")[0].doc_id == 3
    assert index.search("不裁员有什么返还")[0].doc_id == 2
    assert index.search("融资")[0].doc_id == 3          # synonym: 融资 ~ 贷款
    assert index.search("今天天气") == []
