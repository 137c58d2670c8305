"""Who may do what in the admin: the one table the routes, the menu and the buttons read.

HOW TO ADD AN ADMIN ENDPOINT
    1. Add a line to ``ENDPOINTS``: ``("admin.<view function name>", "<METHOD>"): <permission>``,
       one line per method the route accepts (HEAD is looked up as GET). Use an existing
       permission, or add one to ``Permission`` and grant it to roles in ``GRANTS``.
    2. If the page belongs in the menu, add ``(endpoint, label)`` to ``MENU``; the menu
       shows it only to roles that may GET it.
    3. Objects of a union organisation (applications, sign-ups, followers) must also be
       looked up within the staff member's scope (:func:`models.orgs.scope_of`), so
       another organisation's object is a 404, not just a hidden link.
    An admin endpoint missing from ``ENDPOINTS`` answers 403 to everyone (anonymous callers
    are sent to sign in first), and ``tests/bot/admin/test_authorisation.py`` fails naming
    it: no route reaches workers' data without a decision written here.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # Anyone, signed in or not (the sign-in page itself).
    PUBLIC = "public"
    # Any signed-in staff member, whatever their role (sign out, change own password).
    SIGNED_IN = "signed_in"
    DASHBOARD = "dashboard"
    APPLICATIONS_READ = "applications.read"
    # Full ID, phone and card numbers, and proof photos (shown as the worker sent them).
    APPLICATIONS_REVEAL = "applications.reveal"
    APPLICATIONS_DECIDE = "applications.decide"
    PROGRAMMES_READ = "programmes.read"
    # A programme's window, summary, whether it takes applications, station limits.
    PROGRAMMES_EDIT = "programmes.edit"
    COMPETITIONS_READ = "competitions.read"
    # A competition's settings and results.
    COMPETITIONS_EDIT = "competitions.edit"
    # Cancelling a sign-up for a worker who phones in.
    ENTRIES_CANCEL = "competitions.entries.cancel"
    CAMPAIGNS_READ = "campaigns.read"
    CAMPAIGNS_EDIT = "campaigns.edit"
    BENEFITS_READ = "benefits.read"
    BENEFITS_EDIT = "benefits.edit"
    # Followers' transcripts.
    FOLLOWERS_READ = "followers.read"
    HANDOFFS_READ = "handoffs.read"
    # Showing a call-back number in full and marking a call-back done.
    HANDOFFS_HANDLE = "handoffs.handle"
    OUTBOX_READ = "outbox.read"
    STAFF_MANAGE = "staff.manage"
    SETTINGS = "settings"
    AUDIT_READ = "audit.read"


P = Permission

# Every role, in the order the CLI and the accounts page offer them.
ROLES = ("admin", "reviewer", "operator", "viewer")
ROLE_LABELS = {
    "admin": "管理员",
    "reviewer": "审核员",
    "operator": "运营人员",
    "viewer": "只读查看",
}

_READ_ALL = frozenset(
    {
        P.DASHBOARD,
        P.APPLICATIONS_READ,
        P.PROGRAMMES_READ,
        P.COMPETITIONS_READ,
        P.CAMPAIGNS_READ,
        P.BENEFITS_READ,
        P.FOLLOWERS_READ,
        P.HANDOFFS_READ,
        P.OUTBOX_READ,
    }
)

# Separation of duties: whoever decides aid does not run campaigns, and the reverse; a viewer
# (a union chair looking over the work, an inspector) reads everything masked and changes
# nothing. Only admins manage accounts and settings and read the audit log, so nobody can
# grant themselves more or cover their own tracks.
GRANTS: dict[str, frozenset[Permission]] = {
    "admin": frozenset(Permission) - {P.PUBLIC},
    "reviewer": frozenset(
        {
            P.SIGNED_IN,
            P.DASHBOARD,
            P.APPLICATIONS_READ,
            P.APPLICATIONS_REVEAL,
            P.APPLICATIONS_DECIDE,
            P.PROGRAMMES_READ,
            P.FOLLOWERS_READ,
            P.HANDOFFS_READ,
            P.HANDOFFS_HANDLE,
            P.OUTBOX_READ,
        }
    ),
    "operator": frozenset(
        {
            P.SIGNED_IN,
            P.DASHBOARD,
            P.PROGRAMMES_READ,
            P.PROGRAMMES_EDIT,
            P.COMPETITIONS_READ,
            P.COMPETITIONS_EDIT,
            P.ENTRIES_CANCEL,
            P.CAMPAIGNS_READ,
            P.CAMPAIGNS_EDIT,
            P.BENEFITS_READ,
            P.BENEFITS_EDIT,
            P.FOLLOWERS_READ,
            P.HANDOFFS_READ,
            P.HANDOFFS_HANDLE,
            P.OUTBOX_READ,
        }
    ),
    "viewer": _READ_ALL | {P.SIGNED_IN},
}

# What the whole county shares (the catalogue, campaigns to every follower, settings): only
# staff of the county federation change it, whatever their role; a town's operator runs
# its own workers' sign-ups, not the county's contests. The audit log spans every
# organisation (its entries name subjects, not organisations), so it is the county's too.
# Staff accounts are not: a town's admin manages the accounts of its own union and those
# below it (bot/admin/staff.py scopes them).
COUNTY_ONLY = frozenset(
    {
        P.PROGRAMMES_EDIT,
        P.COMPETITIONS_EDIT,
        P.CAMPAIGNS_EDIT,
        P.BENEFITS_EDIT,
        P.SETTINGS,
        P.AUDIT_READ,
    }
)

# (endpoint, method) → the permission it needs. Keep one line per route and method.
ENDPOINTS: dict[tuple[str, str], Permission] = {
    ("admin.login", "GET"): P.PUBLIC,
    ("admin.login", "POST"): P.PUBLIC,
    ("admin.logout", "POST"): P.SIGNED_IN,
    ("admin.index", "GET"): P.DASHBOARD,
    ("admin.applications", "GET"): P.APPLICATIONS_READ,
    ("admin.application", "GET"): P.APPLICATIONS_READ,
    ("admin.reveal", "POST"): P.APPLICATIONS_REVEAL,
    ("admin.proof", "GET"): P.APPLICATIONS_REVEAL,
    ("admin.decide", "POST"): P.APPLICATIONS_DECIDE,
    ("admin.programme_list", "GET"): P.PROGRAMMES_READ,
    ("admin.programme", "GET"): P.PROGRAMMES_READ,
    ("admin.edit_programme", "POST"): P.PROGRAMMES_EDIT,
    ("admin.competition_list", "GET"): P.COMPETITIONS_READ,
    ("admin.competition", "GET"): P.COMPETITIONS_READ,
    ("admin.edit_competition", "POST"): P.COMPETITIONS_EDIT,
    ("admin.cancel_competition_entry", "POST"): P.ENTRIES_CANCEL,
    ("admin.follower_transcript", "GET"): P.FOLLOWERS_READ,
    ("admin.handoffs", "GET"): P.HANDOFFS_READ,
    ("admin.handoff_reveal", "POST"): P.HANDOFFS_HANDLE,
    ("admin.handoff_done", "POST"): P.HANDOFFS_HANDLE,
    ("admin.outbox", "GET"): P.OUTBOX_READ,
    ("admin.change_password", "GET"): P.SIGNED_IN,
    ("admin.change_password", "POST"): P.SIGNED_IN,
    ("admin.staff_list", "GET"): P.STAFF_MANAGE,
    ("admin.staff_new", "GET"): P.STAFF_MANAGE,
    ("admin.staff_new", "POST"): P.STAFF_MANAGE,
    ("admin.staff_edit", "GET"): P.STAFF_MANAGE,
    ("admin.staff_edit", "POST"): P.STAFF_MANAGE,
    ("admin.staff_reset", "POST"): P.STAFF_MANAGE,
    ("admin.staff_active", "POST"): P.STAFF_MANAGE,
    ("admin.staff_revoke", "POST"): P.STAFF_MANAGE,
    ("admin.audit_log", "GET"): P.AUDIT_READ,
    ("admin.campaign_list", "GET"): P.CAMPAIGNS_READ,
    ("admin.campaign", "GET"): P.CAMPAIGNS_READ,
    ("admin.campaign_new", "GET"): P.CAMPAIGNS_EDIT,
    ("admin.campaign_new", "POST"): P.CAMPAIGNS_EDIT,
    ("admin.campaign_edit", "GET"): P.CAMPAIGNS_EDIT,
    ("admin.campaign_edit", "POST"): P.CAMPAIGNS_EDIT,
    # Approve, schedule, pause, resume, run now, cancel; the two-person rule is the model's.
    ("admin.campaign_action", "POST"): P.CAMPAIGNS_EDIT,
}

# The menu, in order: (endpoint, label). Shown to a role only where it may GET the endpoint.
MENU: tuple[tuple[str, str], ...] = (
    ("admin.index", "概览"),
    ("admin.applications", "帮扶申请"),
    ("admin.programme_list", "帮扶项目"),
    ("admin.competition_list", "竞赛报名"),
    ("admin.campaign_list", "群发活动"),
    ("admin.handoffs", "人工服务"),
    ("admin.outbox", "消息发送"),
    ("admin.staff_list", "工作人员"),
    ("admin.audit_log", "操作日志"),
)


def required(endpoint: str | None, method: str) -> Permission | None:
    """The permission ``endpoint`` needs for ``method``; None when the table has no entry."""
    if endpoint is None:
        return None
    return ENDPOINTS.get((endpoint, "GET" if method == "HEAD" else method))


def role_may(role: str | None, permission: Permission | None, *, county: bool) -> bool:
    """Whether ``role`` holds ``permission``, for staff of the county federation or not;
    an unknown role or permission holds nothing."""
    if permission is None:
        return False
    if permission is P.PUBLIC:
        return True
    if permission in COUNTY_ONLY and not county:
        return False
    return permission in GRANTS.get(role or "", frozenset())


def menu_for(role: str | None, *, county: bool) -> list[tuple[str, str]]:
    """The menu entries ``role`` may open."""
    return [
        (endpoint, label)
        for endpoint, label in MENU
        if role_may(role, required(endpoint, "GET"), county=county)
    ]
