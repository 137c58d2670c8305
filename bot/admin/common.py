"""What every admin page shares: the blueprint and its permission check, the runtime, who
the staff member is and may do, the yearly-window form, and the edit-and-audit step.

The route modules (see :mod:`bot.admin`) register their views on :data:`bp`;
this module registers none itself, so it can be imported by all of them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, StringField
from wtforms.validators import ValidationError

from bot.admin.permissions import Permission, menu_for, required, role_may
from models.audit import audit
from models.orgs import Scope, scope_of
from models.windows import SHANGHAI, parse_month_day

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Column names as staff read them, for the audit trail shown on the page.
FIELD_LABELS = {
    "opens": "报名开始",
    "closes": "报名截止",
    "event_on": "比赛日期",
    "event_time": "比赛时间",
    "place": "地点",
    "capacity": "名额",
    "per_unit": "每单位限报",
    "active": "启用",
    "results": "比赛结果",
    "summary": "简介",
    "definition": "各点名额",
}
# Far above any county contest, well inside a 32-bit integer column.
MAX_PLACES = 100_000


def runtime():
    """The app's :class:`bot.Runtime` (settings, session factory)."""
    return current_app.extensions["unionbot"]


# --- who is signed in ----------------------------------------------------------


def staff_actor() -> str:
    return f"staff:{current_user.username}"


def actor_label(actor: str) -> str:
    """``staff:wang`` → ``工作人员 wang``; ``worker`` → ``职工``."""
    if actor.startswith("staff:"):
        return f"工作人员 {actor.removeprefix('staff:')}"
    return {"worker": "职工", "system": "系统"}.get(actor, actor)


def staff_scope() -> Scope:
    """The organisations the signed-in staff member may see (read once per request)."""
    if "staff_scope" not in g:
        with runtime().session_factory() as session:
            g.staff_scope = scope_of(session, current_user.org_code)
    return g.staff_scope


def in_scope_or_404(org_code: str | None) -> None:
    """Another organisation's object is "not found", not "forbidden": staff of one town
    learn nothing about what exists in another."""
    if not staff_scope().covers(org_code):
        abort(404)


def may(permission: Permission) -> bool:
    """Whether the signed-in staff member holds ``permission`` (for buttons and links)."""
    if not current_user.is_authenticated:
        return False
    return role_may(current_user.role, permission, county=staff_scope().county)


@bp.before_request
def authorise():
    """Every admin request is checked here against the permission table, before its view
    runs: a view cannot forget the check, and a route missing from the table is refused
    (deny by default) rather than open to every signed-in account."""
    needed = required(request.endpoint, request.method)
    if needed is Permission.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    if not may(needed):
        abort(403)
    return None


@bp.context_processor
def permissions_for_templates() -> dict[str, Any]:
    if not current_user.is_authenticated:
        return {"may": may, "menu": [], "county": False}
    county = staff_scope().county
    return {"may": may, "menu": menu_for(current_user.role, county=county), "county": county}


def local_time(value: dt.datetime | None) -> str:
    """Show a stored UTC time in Asia/Shanghai, as staff read clocks."""
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else "—"


# --- the yearly window, as competitions and programmes both have one -----------


class WindowForm(FlaskForm):
    """A yearly window (or all year) and whether the item is in use."""

    all_year = BooleanField("全年（不限时间）")
    opens = StringField("开始日期")
    closes = StringField("截止日期")
    active = BooleanField("启用")

    def _window_day(self, field, label: str) -> None:
        if self.all_year.data:
            field.data = None
            return
        if not (field.data or "").strip():
            raise ValidationError(f"请填写{label}（月-日，例如 11-01），或勾选“全年”。")
        parsed = parse_month_day(field.data)
        if parsed is None:
            raise ValidationError(
                f"{label}“{field.data.strip()}”不是有效的日期，请按 月-日 填写，例如 11-01。"
            )
        field.data = parsed

    def validate_opens(self, field) -> None:
        self._window_day(field, "开始日期")

    def validate_closes(self, field) -> None:
        self._window_day(field, "截止日期")

    def window_values(self) -> dict[str, Any]:
        return {"opens": self.opens.data, "closes": self.closes.data, "active": self.active.data}


def window_data(item: Any) -> dict[str, Any]:
    """A competition's or programme's window as :class:`WindowForm` shows it."""
    all_year = not item.opens or not item.closes
    return {
        "all_year": all_year,
        "opens": "" if all_year else item.opens,
        "closes": "" if all_year else item.closes,
        "active": item.active,
    }


# --- saving an edit ------------------------------------------------------------


def apply_changes(item: Any, values: dict[str, Any]) -> list[str]:
    """Set what differs; return the names of the columns changed."""
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    for name in changed:
        setattr(item, name, values[name])
    return changed


def save_changes(session: Session, item, form: WindowForm) -> tuple[list[str], str]:
    """Apply the form to ``item``, audit what changed, and say so in Chinese."""
    changed = apply_changes(item, form.values())
    if changed:
        audit(session, staff_actor(), "edit", item.code, ",".join(changed))
    message = f"已保存：{changed_words(','.join(changed))}。" if changed else "没有修改。"
    return changed, message


def changed_words(detail: str) -> str:
    """An audit entry's column names (``capacity,place``) as staff read them."""
    return "、".join(FIELD_LABELS.get(name, name) for name in detail.split(",") if name)
