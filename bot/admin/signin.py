"""Staff sign-in, sign-out and password change, and the staff member as Flask-Login keeps them.

The cookie (Flask's signed session) holds only a random session token, which
Flask-Login treats as the user id; :func:`load_staff` looks it up among the
database's live sessions on every request (see :mod:`models.staff_sessions`).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_login import UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from bot.admin.common import bp, runtime, staff_actor
from models.audit import audit
from models.base import utcnow
from models.database import serialised
from models.signin_guard import GuardPolicy, Outcome, check_sign_in
from models.staff import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, StaffUser
from models.staff_sessions import (
    SessionLimits,
    live_session,
    open_session,
    revoke_sessions,
    revoke_token,
)

REFUSED = "用户名或密码错误，或账号已被暂时锁定（连续输错{count}次锁定{minutes}分钟）。"
THROTTLED = "登录失败次数过多，请{minutes}分钟后再试。"
# Pages a staff member who must change their password may still open.
BEFORE_NEW_PASSWORD = frozenset({"admin.change_password", "admin.logout", "admin.login"})


class Staff(UserMixin):
    """The signed-in staff member as Flask-Login sees them (detached from any session).

    ``id`` is the session token, so that Flask-Login's cookie names a session, not an
    account: ending the session in the database ends the cookie's use.
    """

    def __init__(self, user: StaffUser, token: str):
        self.id = token
        self.user_id = user.id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role
        self.org_code = user.org_code
        self.must_change_password = user.must_change_password


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


def new_password_field(label: str) -> PasswordField:
    """A password being set: the one length rule, wherever a password is chosen."""
    return PasswordField(
        label,
        validators=[
            DataRequired("请输入新密码"),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=f"密码长度须为{MIN_PASSWORD_LENGTH}到{MAX_PASSWORD_LENGTH}个字符",
            ),
        ],
    )


class PasswordForm(FlaskForm):
    current = PasswordField(
        "当前密码（或管理员给的临时密码）", validators=[DataRequired("请输入当前密码")]
    )
    new = new_password_field(f"新密码（至少{MIN_PASSWORD_LENGTH}个字符）")
    confirm = PasswordField(
        "再次输入新密码", validators=[EqualTo("new", message="两次输入的新密码不一致")]
    )

    def validate_new(self, field) -> None:
        if field.data == self.current.data:
            raise ValidationError("新密码不能与当前密码相同")


def clock() -> dt.datetime:
    """Now, from ``app.config["UNIONBOT_CLOCK"]`` when a test sets one."""
    return current_app.config.get("UNIONBOT_CLOCK", utcnow)()


def session_limits() -> SessionLimits:
    settings = runtime().settings.admin
    return SessionLimits(
        idle=dt.timedelta(minutes=settings.idle_minutes),
        lifetime=dt.timedelta(hours=settings.session_hours),
    )


def guard_policy() -> GuardPolicy:
    settings = runtime().settings.admin
    return GuardPolicy(
        max_failures=settings.max_failed_logins,
        lockout=dt.timedelta(minutes=settings.lockout_minutes),
        address_max_failures=settings.address_max_failures,
        address_window=dt.timedelta(minutes=settings.address_window_minutes),
    )


def client_address() -> str:
    """The caller's address: the one the outermost trusted proxy saw, if any are trusted."""
    hops = runtime().settings.admin.proxy_hops
    forwarded = [
        part.strip()
        for part in request.headers.get("X-Forwarded-For", "").split(",")
        if part.strip()
    ]
    if hops and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr or ""


def load_staff(token: str) -> Staff | None:
    """The staff member behind a live session token, or None (signed out, expired, disabled)."""
    # It may write (last seen, expiry): take SQLite's write lock up front, as a read that
    # later writes fails there if another request wrote in between.
    with serialised(runtime().session_factory) as session, session.begin():
        row = live_session(session, token, clock(), session_limits())
        user = session.get(StaffUser, row.staff_id) if row is not None else None
        return Staff(user, token) if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.index")


@bp.before_request
def require_new_password():
    """A temporary password opens nothing but the change-password page."""
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in BEFORE_NEW_PASSWORD
    ):
        return redirect(url_for("admin.change_password"))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template(
            "admin/login.html", form=form
        ), 401 if request.method == "POST" else 200
    settings, now = runtime().settings.admin, clock()
    with serialised(runtime().session_factory) as session, session.begin():
        attempt = check_sign_in(
            session,
            form.username.data.strip(),
            form.password.data,
            client_address(),
            now,
            guard_policy(),
        )
        token = (
            open_session(session, attempt.user, now, client_address())
            if attempt.outcome is Outcome.SIGNED_IN
            else None
        )
        staff = Staff(attempt.user, token) if token else None
    if staff is None:
        if attempt.outcome is Outcome.THROTTLED:
            flash(THROTTLED.format(minutes=settings.address_window_minutes))
            status = 429
        else:
            flash(
                REFUSED.format(count=settings.max_failed_logins, minutes=settings.lockout_minutes)
            )
            status = 401
        return render_template("admin/login.html", form=form), status
    cookie.clear()  # nothing from before sign-in (a reveal marker, an old token) carries over
    login_user(staff)
    if staff.must_change_password:
        return redirect(url_for("admin.change_password"))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    with serialised(runtime().session_factory) as session, session.begin():
        revoke_token(session, current_user.id, clock())
        audit(session, staff_actor(), "logout", staff_actor(), now=clock())
    logout_user()
    cookie.clear()
    return redirect(url_for("admin.login"))


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """Set one's own password; every other session of the account ends."""
    form = PasswordForm()
    if form.validate_on_submit():
        with serialised(runtime().session_factory) as session, session.begin():
            user = session.get(StaffUser, current_user.user_id)
            if check_password_hash(user.password_hash, form.current.data):
                user.set_password(form.new.data)
                user.must_change_password = False
                now = clock()
                ended = revoke_sessions(session, user.id, now, keep_token=current_user.id)
                audit(
                    session,
                    staff_actor(),
                    "password_changed",
                    staff_actor(),
                    f"{ended} other sessions ended",
                    now=now,
                )
                flash("密码已修改。" + ("您在其他地方的登录已退出。" if ended else ""))
                return redirect(url_for("admin.index"))
        form.current.errors.append("当前密码不正确")
    return render_template(
        "admin/password.html", form=form
    ), 200 if request.method == "GET" else 400
