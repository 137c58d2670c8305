"""Why a staff member asks to see a full ID, phone or card number: asked before every reveal.

PIPL art. 6 allows only the processing a purpose needs, so a reveal states its purpose,
and the audit log keeps it beside who, when and which value (see the audit page).
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

OTHER = "other"
REASONS = {
    "verify": "核实申请人身份",
    "contact": "电话联系职工",
    "payment": "办理资金发放",
    "transfer": "材料报送上级工会",
    OTHER: "其他",
}


class RevealReasonForm(FlaskForm):
    reason = SelectField(
        "查看原因",
        choices=[SelectChoice("", "请选择查看原因…")]
        + [SelectChoice(key, label) for key, label in REASONS.items()],
        validators=[DataRequired("请选择查看原因")],
    )
    note = StringField("说明", validators=[Length(max=100, message="说明不能超过100字")])

    def validate_reason(self, field) -> None:
        if field.data not in REASONS:
            raise ValidationError("请选择查看原因")
        if field.data == OTHER and not (self.note.data or "").strip():
            raise ValidationError("选择“其他”时请写明查看原因")

    def stated(self) -> str:
        """The reason as the audit log keeps it: the choice, then the staff member's words."""
        note = (self.note.data or "").strip()
        label = REASONS[self.reason.data]
        return f"{label}：{note}" if note else label

    def first_error(self) -> str:
        return next(iter(self.reason.errors or self.note.errors or ["请选择查看原因"]))
