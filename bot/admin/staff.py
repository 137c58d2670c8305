"""Staff accounts, for admins: list, create, reset a password, disable or enable, end sessions.

An admin manages the accounts of their own union and those below it: the county's every
account, a town's its own and its grassroots unions'. Another union's account is "not
found", and an account can be given only an organisation in the admin's reach, so no
admin can make an account that sees more than they do.

Admins never choose or see a staff member's own password: creating an account or
resetting one makes a temporary password, shown once on the response page (never in
a cookie, URL or log), which only opens the change-password page. Every change is
audited under ``staff:<username>``, the subject the audit page searches by. (The
app-wide CSRFProtect refuses a POST without its token before these views run.)
"""

from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Regexp, ValidationError

from bot.admin.common import bp, in_scope_or_404, runtime, staff_actor, staff_scope
from bot.admin.permissions import ROLE_LABELS, ROLES
from bot.admin.signin import clock
from models.audit import audit
from models.database import serialised
from models.orgs import all_orgs, within
from models.staff import MIN_PASSWORD_LENGTH, StaffUser, find_staff
from models.staff_sessions import revoke_sessions

# No look-alikes (l/1, O/0): the temporary password is read off a screen and typed.
TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_LENGTH = max(MIN_PASSWORD_LENGTH, 12)


class AccountForm(FlaskForm):
    """What an account may do and for which organisation."""

    role = SelectField("角色", choices=[SelectChoice(role, ROLE_LABELS[role]) for role in ROLES])
    org_code = SelectField("所属工会", validate_choice=True)

    def __init__(self, session: Session, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.org_code.choices = [
            SelectChoice(org.code, f"{org.name}（{org.level_label}）")
            for org in all_orgs(session)
            if staff_scope().covers(org.code)
        ]
        self._session = session


class NewStaffForm(AccountForm):
    username = StringField(
        "用户名（登录用，字母、数字、点、横线或下划线）",
        validators=[
            DataRequired("请输入用户名"),
            Regexp(
                r"^[A-Za-z0-9_.-]{2,32}$", message="用户名须为2到32个字母、数字、点、横线或下划线"
            ),
        ],
    )
    display_name = StringField(
        "姓名", validators=[DataRequired("请输入姓名"), Length(max=64, message="姓名太长")]
    )

    def validate_username(self, field) -> None:
        if find_staff(self._session, field.data.strip()) is not None:
            raise ValidationError("这个用户名已被使用")


def temporary_password() -> str:
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(TEMPORARY_LENGTH))


def _account(session: Session, staff_id: int) -> StaffUser:
    user = session.get(StaffUser, staff_id)
    if user is None:
        abort(404)
    in_scope_or_404(user.org_code)
    return user


def _subject(user: StaffUser) -> str:
    return f"staff:{user.username}"


def _issue_temporary(user: StaffUser) -> str:
    """Give ``user`` a temporary password that must be replaced at the next sign-in."""
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.failed_logins, user.locked_until = 0, None
    return password


@bp.get("/staff")
def staff_list():
    with runtime().session_factory() as session:
        orgs = {org.code: org.name for org in all_orgs(session)}
        reach = within(StaffUser.org_code, staff_scope().orgs)
        users = session.scalars(select(StaffUser).where(reach).order_by(StaffUser.username)).all()
        return render_template(
            "admin/staff.html", users=users, orgs=orgs, roles=ROLE_LABELS, now=clock()
        )


@bp.route("/staff/new", methods=["GET", "POST"])
def staff_new():
    with serialised(runtime().session_factory) as session, session.begin():
        form = NewStaffForm(session)
        if not form.validate_on_submit():
            return render_template(
                "admin/staff_new.html", form=form
            ), 400 if form.is_submitted() else 200
        user = StaffUser(
            username=form.username.data.strip(),
            display_name=form.display_name.data.strip(),
            role=form.role.data,
            org_code=form.org_code.data,
        )
        password = _issue_temporary(user)
        session.add(user)
        audit(
            session,
            staff_actor(),
            "staff_created",
            _subject(user),
            f"{user.role} {user.org_code}",
            now=clock(),
        )
        return render_template(
            "admin/staff_password.html", user=user, password=password, created=True
        )


def _may_change(user: StaffUser, form: AccountForm) -> bool:
    # An admin who demoted themselves could lock the county out of its own accounts page.
    if user.id == current_user.user_id and form.role.data != user.role:
        form.role.errors.append("不能修改自己的角色，请由另一位管理员修改。")
        return False
    return True


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
def staff_edit(staff_id: int):
    """Change an account's role or organisation; it applies from the account's next request."""
    with serialised(runtime().session_factory) as session, session.begin():
        user = _account(session, staff_id)
        form = AccountForm(session, obj=user)
        if form.validate_on_submit() and _may_change(user, form):
            changes = [
                f"{name} {getattr(user, name)}→{getattr(form, name).data}"
                for name in ("role", "org_code")
                if getattr(user, name) != getattr(form, name).data
            ]
            form.populate_obj(user)
            if changes:
                audit(session, staff_actor(), "staff_changed", _subject(user), "; ".join(changes))
            flash(f"已保存 {user.username} 的角色和所属工会。" if changes else "没有修改。")
            return redirect(url_for("admin.staff_list"))
        status = 400 if form.is_submitted() else 200
        return render_template("admin/staff_edit.html", form=form, user=user), status


@bp.post("/staff/<int:staff_id>/reset")
def staff_reset(staff_id: int):
    """A new temporary password; the account's sessions end and its lockout is lifted."""
    with serialised(runtime().session_factory) as session, session.begin():
        user = _account(session, staff_id)
        password = _issue_temporary(user)
        now = clock()
        revoke_sessions(session, user.id, now)
        audit(session, staff_actor(), "password_reset", _subject(user), now=now)
        return render_template(
            "admin/staff_password.html", user=user, password=password, created=False
        )


@bp.post("/staff/<int:staff_id>/active")
def staff_active(staff_id: int):
    """Disable an account (its sessions end at once) or enable it again."""
    with serialised(runtime().session_factory) as session, session.begin():
        user = _account(session, staff_id)
        if user.id == current_user.user_id:
            flash("不能停用自己的账号。")
            return redirect(url_for("admin.staff_list"))
        user.active = not user.active
        now = clock()
        if not user.active:
            revoke_sessions(session, user.id, now)
        action = "staff_enabled" if user.active else "staff_disabled"
        audit(session, staff_actor(), action, _subject(user), now=now)
        message = f"已{'启用' if user.active else '停用'}账号 {user.username}。"
    flash(message)
    return redirect(url_for("admin.staff_list"))


@bp.post("/staff/<int:staff_id>/sessions")
def staff_revoke(staff_id: int):
    """Sign an account out everywhere (a lost phone, a shared computer)."""
    with serialised(runtime().session_factory) as session, session.begin():
        user = _account(session, staff_id)
        now = clock()
        ended = revoke_sessions(session, user.id, now)
        audit(
            session, staff_actor(), "sessions_revoked", _subject(user), f"{ended} sessions", now=now
        )
        message = f"已让 {user.username} 在所有地方退出登录（{ended} 处）。"
    flash(message)
    return redirect(url_for("admin.staff_list"))
