"""Model layer: plain Python objects mirroring the reference ``lib/model``.

No I/O.  Every model has ``to_dict(for_storage=False)`` (reference wire names;
``UNDEFINED`` attributes omitted, ``None`` emitted as null) and
``from_dict(d)`` (accepts stored documents, ignores ``_id``, upgrades legacy
forms).  Python attributes are the snake_case forms of the wire names.
"""

from . import constants
from .address import Address
from .addressmanager import AddressManager
from .base import UNDEFINED, Model, is_defined, now_ms, now_s, or_default, or_none
from .copayer import Copayer, copayer_id, xpub_to_copayer_id
from .email import Email
from .notification import Notification, NotificationIds, format_notification_id, notification_id_ms
from .preferences import Preferences
from .pushnotificationsub import PushNotificationSub
from .session import Session
from .txconfirmationsub import TxConfirmationSub
from .txnote import TxNote
from .txproposal import LEGACY_UNSUPPORTED_MESSAGE, TxProposal, TxProposalAction, TxProposalLegacy
from .wallet import Wallet

__all__ = [
    "constants",
    "UNDEFINED",
    "Model",
    "is_defined",
    "or_none",
    "or_default",
    "now_ms",
    "now_s",
    "Address",
    "AddressManager",
    "Copayer",
    "copayer_id",
    "xpub_to_copayer_id",
    "Email",
    "Notification",
    "NotificationIds",
    "format_notification_id",
    "notification_id_ms",
    "Preferences",
    "PushNotificationSub",
    "Session",
    "TxConfirmationSub",
    "TxNote",
    "TxProposal",
    "TxProposalAction",
    "TxProposalLegacy",
    "LEGACY_UNSUPPORTED_MESSAGE",
    "Wallet",
]
