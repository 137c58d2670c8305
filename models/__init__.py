"""SQLAlchemy 2 models and the queries that go with them.

Importing this package registers every table on ``Base.metadata``.
"""

from models.aid import (
    AidApplication,
    AidProgramme,
    ApplicationEvent,
    ApplicationProof,
    ReferenceCounter,
)
from models.alerts import Alert
from models.audience import CampaignOptOut, FollowerTag
from models.audit import AuditEntry
from models.base import Base, utcnow
from models.benefit import Benefit
from models.campaign_runs import CampaignRecipient, CampaignReport, CampaignRun
from models.campaigns import Campaign
from models.catalogue import CatalogueVersion
from models.competition import Competition, CompetitionEntry
from models.consent import ConsentRecord
from models.conversation import Conversation
from models.coordination import AccessToken, Lease, RateWindow
from models.crypto import KeyCheck
from models.delivery import Delivery
from models.follower import Follower
from models.handoff import HandoffRequest
from models.media import MediaFile
from models.orgs import UnionOrg
from models.outbox import OutboxMessage
from models.signin_guard import AddressFailures
from models.staff import StaffUser
from models.staff_sessions import StaffSession
from models.subscription import SubscribeConsent
from models.wishes import ReminderWish

__all__ = [
    "AccessToken",
    "AddressFailures",
    "AidApplication",
    "AidProgramme",
    "Alert",
    "ApplicationEvent",
    "ApplicationProof",
    "AuditEntry",
    "Base",
    "Benefit",
    "Campaign",
    "CampaignOptOut",
    "CampaignRecipient",
    "CampaignReport",
    "CampaignRun",
    "CatalogueVersion",
    "Competition",
    "CompetitionEntry",
    "ConsentRecord",
    "Conversation",
    "Delivery",
    "Follower",
    "FollowerTag",
    "HandoffRequest",
    "KeyCheck",
    "Lease",
    "MediaFile",
    "OutboxMessage",
    "RateWindow",
    "ReferenceCounter",
    "ReminderWish",
    "StaffSession",
    "StaffUser",
    "SubscribeConsent",
    "UnionOrg",
    "utcnow",
]
