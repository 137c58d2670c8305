"""Unpaid wages, dismissal and retirement: what a worker can do, and whom to call.

These are not programmes to apply for, so the catalogue's one-line answers fall
short: a worker owed three months' pay needs every door (the union's 12351 and
its free legal aid, the labour inspectorate) and, before anything else, to keep
the evidence. A retired worker asking for 帮扶 needs to hear what does apply.
Numbers and the office come from ``[union]``.
"""

from __future__ import annotations

from handlers.cues import hardship
from handlers.messages import Reply, Text
from handlers.office import office_line
from handlers.state import State

EVIDENCE = "劳动合同、工资条或银行流水、考勤记录、工作群聊天记录、工牌或工作服照片"


def empathy(text: str) -> str:
    """One line of sympathy when the worker describes illness or hardship; else ''."""
    situation = hardship(text)
    if situation == "illness":
        return "听到生病的事，真替您着急，工会尽力帮您。"
    if situation == "hardship":
        return "日子难，辛苦您了，我们帮您看看能申请哪些帮扶。"
    return ""


def labour_answer(state: State, dispute: str) -> list[Reply]:
    """Wage arrears (``arrears``) or dismissal (``dismissal``): the three doors and the evidence."""
    union = state.settings.union
    if dispute == "arrears":
        lead = "干了活拿不到工资，确实着急。可以这样办："
        inspect = f"3 向劳动保障监察投诉：拨打 {union.labour_inspection}。"
        keep = f"请保存好证据：{EVIDENCE}。"
    else:
        lead = "被辞退先别急着签字。可以这样办："
        inspect = (
            f"3 违法辞退可向劳动保障监察（{union.labour_inspection}）投诉，"
            "或申请劳动仲裁（一般在1年内提出）。"
        )
        keep = f"请保存好：辞退通知或聊天记录、{EVIDENCE}、社保缴费记录。"
    lines = [
        lead,
        f"1 拨打职工服务热线 {union.hotline}（江苏省总工会 {union.provincial_hotline}），"
        "工会帮您协调；",
        f"2 工会提供免费法律援助（调解、仲裁代理），到{office_line(state)}；",
        inspect,
        keep,
    ]
    return [Text("\n".join(lines))]


def retiree_answer(state: State) -> list[Reply]:
    """What applies to a retired worker, and what does not."""
    union = state.settings.union
    lines = [
        "困难职工帮扶、大病帮扶和金秋助学面向在职的工会会员，退休职工不能以在职职工身份申请。"
        "可以这样办：",
        "1 生活困难：向所在社区（村）申请低保或临时救助；",
        f"2 退休金、退休待遇：拨打人社服务热线 {union.labour_inspection}；",
        "3 退休劳模按规定享受荣誉津贴，回复“劳模”查看；",
        f"其他问题请拨打 {union.hotline}，或到{office_line(state)}咨询。",
    ]
    return [Text("\n".join(lines))]
