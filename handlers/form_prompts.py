"""What a form says: the question with its position, the photo request, the summary.

Kept apart from the engine (:mod:`handlers.forms`) so the wording can be read and
changed in one place, and so other conversations (a question answered in the
middle of a form) can repeat the pending question exactly.
"""

from __future__ import annotations

from handlers.draft import Draft
from models.form_schema import Field, Form

SUMMARY_CHOICES = "回复“确认”提交，回复“取消”放弃，回复“修改 数字”改某一项（例如“修改 2”）。"
CONTROL_HINT = "（回复“上一步”返回，“重填”重来，“取消”退出，“人工”找工作人员）"


def pause_notice(title: str) -> str:
    return f"您有一份未完成的{title}，回复“继续”接着填，回复“取消”放弃。"


def prompt(form: Form, draft: Draft, before: str = "") -> str:
    """The message that asks for the draft's current step, ``before`` it a reason."""
    answers = draft.answers
    step = draft.step
    if draft.at_summary:
        body = summary(form, draft)
    elif draft.at_proofs:
        got = len(draft.proofs)
        body = (
            "请拍照发送以下材料：" + "、".join(form.proofs) + "。\n"
            f"已收到{got}张。发完后回复“完成”"
            + ("" if form.proofs_required else "，暂时没有可回复“跳过”，之后补交")
            + "。"
        )
    else:
        field = form.field(step)
        steps = form.steps(answers)
        position = steps.index(step) + 1 if step in steps else 1
        body = f"【{form.title} {position}/{form.expected_steps(answers)}】\n{field.question()}"
        if step in answers:
            keep = "，不用改请回复“不变”" if draft.walking_back else ""
            body += f"\n（原来填的是：{field.show(answers[step])}{keep}）"
    hint = "" if draft.at_summary else "\n" + CONTROL_HINT
    return f"{before}{body}{hint}"


def summary(form: Form, draft: Draft) -> str:
    answers = draft.answers
    lines = ["请核对您填写的信息："]
    lines += [
        f"{n} {f.label}：{f.show(answers[f.key])}"
        for n, f in enumerate(editable(form, answers), 1)
    ]
    if form.proofs:
        lines.append(f"照片材料：{len(draft.proofs)}张")
    lines += draft.notes
    lines.append("回复“确认”提交；回复“修改 数字”修改某一项，例如“修改 2”；回复“取消”放弃。")
    return "\n".join(lines)


def editable(form: Form, answers: dict) -> list[Field]:
    """The summary's numbered lines: answers that can be changed (a consent that
    must be given is not one of them)."""
    return [f for f in form.fields if f.applies(answers) and f.key in answers and not f.required]
