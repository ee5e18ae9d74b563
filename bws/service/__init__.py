"""WalletService: the business rules of BWS, transport-free (spec api.md §4–§6).

The service is one class assembled from area mixins, each in its own module:

=================  ==========================================================
module             methods
=================  ==========================================================
``base``           ServiceBase: deps, ``bind()``, ``_run_locked``, ``_notify``,
                   ``_explorer``/``_explorer_call``, ``check_required``
``wallets``        create_wallet, join_wallet, add_access, get_wallet,
                   get_status, get_wallet_from_identifier
``preferences``    get_preferences, save_preferences
``addresses``      create_address, get_main_addresses (+ derive_wallet_address)
``balance``        get_wallet_utxos, get_utxos, get_balance, get_pending_txs,
                   decorate_txp
``notifications``  get_notifications
``sessions``       login, logout, check_session
``notes``          get_tx_note, edit_tx_note, get_tx_notes
``subscriptions``  push_notifications_(un)subscribe, tx_confirmation_(un)subscribe
``misc``           get_service_version, get_stats
``webhooks``       webhook_register, webhook_list, webhook_remove, webhook_deliveries
``fiat``           get_fiat_rate, get_coin_rates
``feelevels``      get_fee_levels (+ _get_fee_per_kb)
``txproposals``    create_tx, publish_tx, sign_tx, reject_tx, remove_pending_tx,
                   get_tx, broadcast_tx, broadcast_raw_tx, get_send_max_info
                   (+ the pending list's blockchain check)
``balancecache``   two-step balance, balance fast cache
``history``        get_tx_history
``scan``           start_scan, scan
``evm``            (first: overrides) eth/tri/try branches of create_wallet,
                   get_fee_levels, create/publish/sign/broadcast, send max,
                   get_utxos; get_address_nonce, get_transaction_pending_status
=================  ==========================================================

To add an area: write ``bws/service/<area>.py`` with ``class XMixin(ServiceBase)``
and list it in ``WalletService`` below.  Mixins listed earlier win, so an area
may override a hook of a later one (e.g. ``_get_balance_two_step``,
``_check_pending_broadcasts`` of ``balance``).

Typical use::

    service = WalletService(storage, LocalLock(), LocalBroker(), explorers={("btc", "testnet"): ex})
    await service.create_wallet({...})                      # no caller needed
    me = service.bind(wallet_id, copayer_id)                # acting copayer
    await me.create_address({})
"""

from __future__ import annotations

from .addresses import AddressesMixin
from .balance import BalanceMixin
from .balancecache import BalanceCacheMixin
from .base import SERVICE_VERSION, ServiceBase, check_required
from .evm import EvmMixin
from .feelevels import FeeLevelsMixin
from .fiat import FiatMixin
from .history import HistoryMixin
from .misc import MiscMixin
from .notes import NotesMixin
from .notifications import NotificationsMixin
from .preferences import PreferencesMixin
from .scan import ScanMixin
from .sessions import SessionsMixin
from .subscriptions import SubscriptionsMixin
from .txproposals import TxProposalsMixin
from .wallets import WalletsMixin
from .webhooks import WebhooksMixin


class WalletService(
    EvmMixin,
    WalletsMixin,
    PreferencesMixin,
    AddressesMixin,
    TxProposalsMixin,
    FeeLevelsMixin,
    HistoryMixin,
    ScanMixin,
    BalanceCacheMixin,
    BalanceMixin,
    NotificationsMixin,
    SessionsMixin,
    NotesMixin,
    SubscriptionsMixin,
    WebhooksMixin,
    FiatMixin,
    MiscMixin,
    ServiceBase,
):
    """All areas of the wallet service; see the module docstring."""


__all__ = ["WalletService", "ServiceBase", "SERVICE_VERSION", "check_required"]
