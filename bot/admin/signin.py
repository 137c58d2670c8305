"""Staff sign-in and sign-out, and the staff member as Flask-Login keeps them."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import UserMixin, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from bot.admin.common import bp, runtime
from models.base import utcnow
from models.staff import StaffUser, find_staff


class Staff(UserMixin):
    """The signed-in staff member as Flask-Login sees them (detached from any session)."""

    def __init__(self, user: StaffUser):
        self.id = str(user.id)
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码"), Length(max=128)])


def load_staff(user_id: str) -> Staff | None:
    if not user_id.isdigit():
        return None
    with runtime().session_factory() as session:
        user = session.get(StaffUser, int(user_id))
        return Staff(user) if user is not None and user.active else None


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if target and target.startswith("/") and not urlsplit(target).netloc and "\\" not in target:
        return target
    return url_for("admin.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        with runtime().session_factory() as session, session.begin():
            user = find_staff(session, form.username.data.strip())
            if user is not None and user.active and user.check_password(form.password.data):
                user.last_login_at = utcnow()
                login_user(Staff(user))
                return redirect(_safe_next(request.args.get("next")))
        flash("用户名或密码错误。")
    return render_template("admin/login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    return redirect(url_for("admin.login"))
