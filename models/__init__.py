"""SQLAlchemy 2 models and the queries that go with them.

Importing this package registers every table on ``Base.metadata``.
"""

from models.alerts import Alert
from models.base import Base, utcnow
from models.conversation import Conversation
from models.coordination import AccessToken, Lease, RateWindow
from models.crypto import KeyCheck
from models.delivery import Delivery
from models.follower import Follower
from models.media import MediaFile
from models.outbox import OutboxMessage
from models.staff import StaffUser
from models.subscription import SubscribeConsent

__all__ = [
    "AccessToken",
    "Alert",
    "Base",
    "Conversation",
    "Delivery",
    "Follower",
    "KeyCheck",
    "Lease",
    "MediaFile",
    "OutboxMessage",
    "RateWindow",
    "StaffUser",
    "SubscribeConsent",
    "utcnow",
]
