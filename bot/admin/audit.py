"""The audit log for admins: search by staff member, action, object and time; read only.

There is no route that changes or deletes an entry, and the model refuses to
(:mod:`models.audit`), so the log stays the record PIPL art. 55 asks for.
"""

from __future__ import annotations

import datetime as dt

from flask import render_template, request
from sqlalchemy import select

from bot.admin.common import bp, runtime
from models.audit import AuditQuery, search_audit
from models.staff import StaffUser
from models.windows import SHANGHAI

PER_PAGE = 100
ACTION_LABELS = {
    "login": "登录成功",
    "login_failed": "登录失败",
    "lockout": "账号被锁定",
    "login_locked": "锁定期间尝试登录",
    "login_throttled": "登录过于频繁被拒",
    "logout": "退出登录",
    "password_changed": "修改密码",
    "password_reset": "重置密码",
    "staff_created": "新建账号",
    "staff_changed": "修改角色或工会",
    "staff_disabled": "停用账号",
    "staff_enabled": "启用账号",
    "sessions_revoked": "强制退出登录",
    "view": "查看申请",
    "reveal": "查看完整信息",
    "proof": "查看材料",
    "transition": "处理申请",
    "transcript": "查看对话记录",
    "edit": "修改设置",
    "handoff": "人工服务处理",
}


def _day(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(name, "").strip())
    except ValueError:
        return None


def _start_of(day: dt.date) -> dt.datetime:
    """Midnight in Beijing, as UTC: staff give days as their clocks show them."""
    return dt.datetime.combine(day, dt.time(), SHANGHAI).astimezone(dt.UTC)


@bp.get("/audit")
def audit_log():
    since, until = _day("since"), _day("until")
    page = max(request.args.get("page", 1, type=int), 1)
    staff = request.args.get("staff", "").strip()
    query = AuditQuery(
        actor=f"staff:{staff}" if staff else "",
        action=request.args.get("action", "").strip(),
        subject=request.args.get("subject", "").strip(),
        since=_start_of(since) if since else None,
        until=_start_of(until + dt.timedelta(days=1)) if until else None,
    )
    with runtime().session_factory() as session:
        rows = search_audit(session, query, offset=(page - 1) * PER_PAGE, limit=PER_PAGE + 1)
        usernames = session.scalars(select(StaffUser.username).order_by(StaffUser.username)).all()
        return render_template(
            "admin/audit.html",
            rows=rows[:PER_PAGE],
            has_next=len(rows) > PER_PAGE,
            page=page,
            usernames=usernames,
            actions=ACTION_LABELS,
            args=request.args,
        )
