"""SQLAlchemy 2 models and the queries that go with them.

Importing this package registers every table on ``Base.metadata``.
"""

from models.base import Base, utcnow
from models.conversation import Conversation
from models.delivery import Delivery
from models.follower import Follower
from models.staff import StaffUser

__all__ = ["Base", "Conversation", "Delivery", "Follower", "StaffUser", "utcnow"]
