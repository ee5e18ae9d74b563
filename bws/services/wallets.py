"""Wallet life: create, join, add access, status, support-staff lookup
(docs/spec/api.md §4.2–4.6, §6.16)."""

from __future__ import annotations

import logging
import uuid
from typing import Any, Optional

from coincurve import PublicKey

from bws import crypto
from bws.chains.rules import find_rules, rules_for
from bws.errors import ClientError, Errors, ServerError, bad_request, client_error
from bws.model import UNDEFINED as _UNDEF
from bws.model import Copayer, Wallet
from bws.model import constants as C

from .base import Aggregate, check_length, check_required, is_int, maybe_await, truthy
from .broadcasts import BroadcastMarks

from .context import Caller, Deps, State
from .balance import Balance
from . import wallet_status as ws
from .proposals import Proposals
from .preferences import Preferences

log = logging.getLogger(__name__)


def _valid_pubkey(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        PublicKey(bytes.fromhex(value))
        return True
    except Exception:
        return False


def _support_bip44(opts: dict) -> bool:
    """``supportBIP44AndP2PKH``: default True unless an explicit boolean."""
    v = opts.get("supportBIP44AndP2PKH")
    return v if isinstance(v, bool) else True


def valid_wallet_id(value: Any) -> bool:
    """A client-chosen wallet ``id`` is a UUID in its canonical 36-character
    form, any case (bitcore-wallet-client sends ``uuid.v4()`` or nothing, and
    its join secret packs the id as 32 hex digits).  Anything else -- a network
    name such as "testnet", blanks, long strings -- is refused: the id doubles
    as the notification scope, and "livenet"/"testnet" are the scopes every
    wallet of that network polls (docs/security.md §8, finding 2)."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _coin(opts: dict) -> str:
    """The body's ``coin``, else its ``chain`` (new clients), else btc; then
    ``chain`` must agree with it (:func:`wallet_status.check_chain`)."""
    coin = opts.get("coin")
    chain = opts.get("chain")
    if not truthy(coin) and isinstance(chain, str) and chain:
        coin = chain.lower()
    coin = coin if truthy(coin) else C.DEFAULT_COIN
    if coin not in C.COINS:
        raise bad_request("Invalid coin")
    ws.check_chain(opts, coin)
    return coin


class Wallets(Aggregate):
    """createWallet, joinWallet, addAccess, getWallet, getStatus, getWalletFromIdentifier."""

    def __init__(
        self,
        deps: Deps,
        state: State,
        broadcasts: BroadcastMarks,
        *,
        balance: Balance,
        proposals: Proposals,
        preferences: Preferences,
    ) -> None:
        super().__init__(deps, state, broadcasts)
        self.balance = balance
        self.proposals = proposals
        self.preferences = preferences

    # ------------------------------------------------------------ create (docs/spec/api.md §4.2)
    async def create_wallet(self, caller: Caller, opts: dict) -> dict:
        """Create a pending wallet.

        opts: ``{name, m, n, pubKey, id?, coin?, chain?, network?,
        singleAddress?, supportBIP44AndP2PKH?, usePurpose48?,
        useNativeSegwit?: false}`` -> ``{"walletId": str}``.
        Errors (in order): "<option> is not supported yet: ..." (a TSS,
        hardware-attested or segwit request:
        :func:`wallet_status.refuse_unsupported_wallet_options`),
        "Required argument <f> missing.", "Invalid wallet
        name" (also "...: longer than MAX_NAME_LENGTH characters"), "Invalid
        combination of required copayers / total copayers" (also for
        non-integers, Q18), "Invalid coin", "Invalid chain" (``chain`` not the
        coin's), "Invalid network",
        "Invalid public key", "Invalid wallet id" (``id`` given but not a
        UUID, see :func:`valid_wallet_id`), WALLET_ALREADY_EXISTS."""
        rules = find_rules(opts.get("coin")) if isinstance(opts, dict) else None
        if rules is not None:  # e.g. EVM wallets are 1-of-1, before the required-argument check
            rules.check_copayers(opts.get("m"), opts.get("n"))
        if isinstance(opts, dict):
            ws.refuse_unsupported_wallet_options(opts)
        check_required(opts, ["name", "m", "n", "pubKey"])
        name = opts["name"]
        if not isinstance(name, str) or not name:
            raise bad_request("Invalid wallet name")
        check_length(name, C.MAX_NAME_LENGTH, "wallet name")
        m, n = opts["m"], opts["n"]
        if not (is_int(m) and is_int(n)) or not Wallet.verify_copayer_limits(int(m), int(n)):
            raise bad_request("Invalid combination of required copayers / total copayers")
        m, n = int(m), int(n)
        coin = _coin(opts)
        network = opts.get("network")
        network = network if truthy(network) else C.DEFAULT_NETWORK
        if network not in C.NETWORKS:
            raise bad_request("Invalid network")
        bip44 = _support_bip44(opts)
        derivation = C.BIP44 if bip44 else C.BIP45
        address_type = C.P2PKH if (n == 1 and bip44) else C.P2SH
        if not _valid_pubkey(opts["pubKey"]):
            raise bad_request("Invalid public key")
        wallet_id = opts.get("id")
        if truthy(wallet_id) and not valid_wallet_id(wallet_id):
            raise bad_request("Invalid wallet id")
        wallet = Wallet.create(
            name,
            m,
            n,
            opts["pubKey"],
            coin=coin,
            network=network,
            singleAddress=truthy(opts.get("singleAddress")),
            derivationStrategy=derivation,
            addressType=address_type,
            id=wallet_id or None,
            now=self.now_s(),
        )

        async def store() -> None:
            if wallet_id and await self.storage.wallets.fetch(wallet.id):
                raise Errors.WALLET_ALREADY_EXISTS
            await self.storage.wallets.store(wallet.to_dict(for_storage=True))

        await self._run_locked(wallet.id, store)
        return {"walletId": wallet.id}

    # ------------------------------------------------------------ join (docs/spec/api.md §4.3)
    async def join_wallet(self, caller: Caller, opts: dict) -> dict:
        """Join a pending wallet (the creator joins its own wallet too).

        opts: ``{walletId, name, xPubKey, requestPubKey, copayerSignature,
        coin?, chain?, customData?, dryRun?, supportBIP44AndP2PKH?}`` ->
        ``{"copayerId": str, "wallet": Wallet}`` (dryRun: copayerId null and
        the wallet unchanged).  Emits NewCopayer, and WalletComplete when the
        wallet of n > 1 becomes complete, stored in the same transaction as
        the copayer and published after it.  Errors in spec order (docs/spec/api.md §4.3);
        before them the refused options of
        :func:`wallet_status.refuse_unsupported_wallet_options`, and "The
        wallet you are trying to join was created for a different chain"
        beside the coin check.  The answer's wallet carries ``chain``."""
        if isinstance(opts, dict):
            ws.refuse_unsupported_wallet_options(opts)
        check_required(opts, ["walletId", "name", "xPubKey", "requestPubKey", "copayerSignature"])
        name = opts["name"]
        if not isinstance(name, str) or not name:
            raise bad_request("Invalid copayer name")
        check_length(name, C.MAX_NAME_LENGTH, "copayer name")
        check_length(opts.get("customData"), C.MAX_CUSTOM_DATA_LENGTH, "customData")
        coin = _coin(opts)
        xpub = opts["xPubKey"]
        try:
            if not isinstance(xpub, str):
                raise ValueError
            xpub_network = crypto.xpub_network(xpub)
        except ValueError:
            raise bad_request("Invalid extended public key") from None
        request_pub_key = opts["requestPubKey"]
        signature = opts["copayerSignature"]
        wallet_id = opts["walletId"]
        if not isinstance(wallet_id, str) or not wallet_id:
            raise Errors.WALLET_NOT_FOUND
        bip44 = _support_bip44(opts)

        async def join() -> dict:
            wallet = await self._fetch_wallet(wallet_id)
            if coin != wallet.coin:
                raise bad_request("The wallet you are trying to join was created for a different coin")
            chain = opts.get("chain")
            if isinstance(chain, str) and chain.lower() != wallet.coin:
                raise bad_request("The wallet you are trying to join was created for a different chain")
            if xpub_network != wallet.network:
                raise bad_request("The wallet you are trying to join was created for a different network")
            if bip44 and wallet.derivation_strategy != C.BIP44:
                raise bad_request(
                    "The wallet you are trying to join was created with an older version of the client app."
                )
            if not bip44 and wallet.derivation_strategy == C.BIP44:
                raise client_error("UPGRADE_NEEDED", "To join this wallet you need to upgrade your client app.")
            if not isinstance(request_pub_key, str) or not crypto.verify_message(
                f"{name}|{xpub}|{request_pub_key}", signature, wallet.pub_key
            ):
                raise bad_request()
            if wallet.get_copayer_by_xpub(xpub) is not None:
                raise Errors.COPAYER_IN_WALLET
            if len(wallet.copayers) >= wallet.n:
                raise Errors.WALLET_FULL
            copayer = Copayer.create(
                name,
                xpub,
                request_pub_key,
                signature,
                coin=wallet.coin,
                copayerIndex=len(wallet.copayers),
                derivationStrategy=wallet.derivation_strategy,
                customData=opts.get("customData") if "customData" in opts else _UNDEF,
                now=self.now_s(),
            )
            if await self.storage.wallets.fetch_copayer_lookup(copayer.id):
                raise Errors.COPAYER_REGISTERED
            if truthy(opts.get("dryRun")):
                return {"copayerId": None, "wallet": ws.with_chain(wallet.to_dict())}
            wallet.add_copayer(copayer)
            notes = [
                self._new_notification(caller,
                    "NewCopayer",
                    {"walletId": wallet.id, "copayerId": copayer.id, "copayerName": copayer.name},
                    wallet_id=wallet.id,
                    creator_id=copayer.id,
                )
            ]
            if wallet.is_complete() and wallet.n > 1:
                notes.append(
                    self._new_notification(
                        caller, "WalletComplete", {"walletId": wallet.id}, wallet_id=wallet.id, is_global=True
                    )
                )
            # the copayer and its notifications land together or not at all (issue 10);
            # published only after the commit
            wallet_doc = wallet.to_dict(for_storage=True)
            await self.notifier.commit(
                notes,
                lambda docs, renew_id: self.storage.wallets.store_with_lookups(wallet_doc, docs, renew_id),
            )
            return {"copayerId": copayer.id, "wallet": ws.with_chain(wallet.to_dict())}

        return await self._run_locked(wallet_id, join)

    # ------------------------------------------------------------ add access (docs/spec/api.md §4.4)
    async def add_access(self, caller: Caller, opts: dict) -> dict:
        """Register an extra request key for a copayer that proves it holds
        the xpriv (signature of ``requestPubKey`` by the xpub's ``m/2`` key).

        opts: ``{copayerId, requestPubKey, signature, restrictions?, name?}`` ->
        ``{"copayerId", "wallet"}`` (Q15: copayerId returned).  Errors:
        "Required argument ...", NOT_AUTHORIZED, TOO_MANY_KEYS,
        WALLET_NOT_COMPLETE."""
        check_required(opts, ["copayerId", "requestPubKey", "signature"])
        copayer_id = opts["copayerId"]
        request_pub_key = opts["requestPubKey"]
        if not isinstance(copayer_id, str) or not isinstance(request_pub_key, str):
            raise Errors.NOT_AUTHORIZED
        lookup = await self.storage.wallets.fetch_copayer_lookup(copayer_id)
        if not lookup:
            raise Errors.NOT_AUTHORIZED
        wallet_id = lookup["walletId"]
        restrictions = opts.get("restrictions")
        if restrictions is not None and not isinstance(restrictions, dict):
            raise bad_request("Invalid restrictions")
        check_length(restrictions, C.MAX_CUSTOM_DATA_LENGTH, "restrictions")
        check_length(opts.get("name"), C.MAX_NAME_LENGTH, "name")

        async def add() -> dict:
            doc = await self.storage.wallets.fetch(wallet_id)
            if not doc:
                raise Errors.NOT_AUTHORIZED
            wallet = Wallet.from_dict(doc)
            copayer = wallet.get_copayer(copayer_id)
            if copayer is None:
                raise Errors.NOT_AUTHORIZED
            try:
                auth_key = crypto.request_key_auth_pubkey(copayer.xpub_key)
            except Exception:
                raise Errors.NOT_AUTHORIZED from None
            if not crypto.verify_message(request_pub_key, opts["signature"], auth_key):
                raise Errors.NOT_AUTHORIZED
            if len(copayer.get_request_pub_keys()) > C.MAX_KEYS:
                raise Errors.TOO_MANY_KEYS
            if not wallet.is_complete():
                raise Errors.WALLET_NOT_COMPLETE
            wallet.add_copayer_request_key(
                copayer_id, request_pub_key, opts["signature"], restrictions, opts.get("name")
            )
            await self.storage.wallets.store_with_lookups(wallet.to_dict(for_storage=True))
            self.copayer_lookups.forget(copayer_id)
            return {"copayerId": copayer_id, "wallet": wallet.to_dict()}

        return await self._run_locked(wallet_id, add)

    # ------------------------------------------------------------ read
    async def get_wallet(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """The caller's wallet as stored (full, no hiding); WALLET_NOT_FOUND."""
        return (await self._fetch_wallet(caller.wallet_id)).to_dict()

    async def get_status(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """Wallet status (docs/spec/api.md §4.5; v3: docs/spec/protocol-bwc11.md §3.1).

        opts: ``{includeExtendedInfo?: bool, twoStep?: bool,
        includeServerMessages?: bool, tokenAddress?, multisigContractAddress?,
        network?, numberFormat?}`` -> ``{wallet, balance?, pendingTxps,
        preferences}`` plus ``serverMessages: []`` when
        ``includeServerMessages`` (this server has no server messages).
        Other copayers' customData is always hidden; without extended info
        the wallet also loses publicKeyRing/pubKey/addressManager and each
        copayer xPubKey/requestPubKey/signature/addressManager/customData;
        the wallet carries ``chain``.  WALLET_NEED_SCAN from balance is
        tolerated with extended info.  Errors: WALLET_NOT_FOUND,
        INVALID_NUMBER_FORMAT, 400 for ``numberFormat`` hex/string and for
        token/multisig options on EVM wallets
        (:mod:`bws.services.wallet_status`)."""
        opts = opts or {}
        ws.check_number_format(opts.get("numberFormat"))
        extended = truthy(opts.get("includeExtendedInfo"))
        two_step = truthy(opts.get("twoStep"))
        wallet = await self._fetch_wallet(caller.wallet_id)
        rules_for(wallet.coin).check_token_options(opts)
        status: dict[str, Any] = {"wallet": ws.shape_status_wallet(wallet.to_dict(), caller.copayer_id, extended)}
        if truthy(opts.get("includeServerMessages")):
            status["serverMessages"] = []
        try:
            status["balance"] = await self.balance.get_balance(caller, {"twoStep": two_step})
        except ClientError as e:
            if not (e.code == "WALLET_NEED_SCAN" and extended):
                raise
        status["pendingTxps"] = await self.proposals.get_pending_txs(caller, {})
        status["preferences"] = await self.preferences.get_preferences(caller, {})
        return status

    async def get_status_all(self, identities: list[tuple[str, Any]], opts: dict) -> list[dict]:
        """Bulk status (``GET /v1/wallets/all/``; upstream ``routes/wallets.ts``).

        identities: ``[(copayerId, Caller | ClientError)]`` from
        :func:`bws.http.auth.authenticate_identities`; opts: the status
        options of :meth:`get_status` plus ``silentFailure: bool`` and
        ``perCopayer: {copayerId: {tokenAddresses, multisigContractAddress,
        network}}`` (:func:`wallet_status.per_copayer_options`).
        Returns a flat list, in identity order: per authenticated identity one
        :func:`wallet_status.bulk_item` (tokenAddress null) and one more per
        token address; per failed identity ``{success: false, error:
        message}`` when ``silentFailure``, else that identity's error is
        raised for the whole request (NOT_AUTHORIZED, 401).  A status that
        fails (client or server error) is that item's ``message``; storage
        unavailability still fails the request (503)."""
        ws.check_number_format(opts.get("numberFormat"))
        silent = truthy(opts.get("silentFailure"))
        if not silent:
            for _, who in identities:
                if isinstance(who, Exception):
                    raise who
        base = {k: opts.get(k) for k in ("includeExtendedInfo", "twoStep", "includeServerMessages")}
        out: list[dict] = []
        for copayer_id, who in identities:
            if isinstance(who, Exception):
                out.append({"success": False, "error": ws.error_message(who)})
                continue
            extra = (opts.get("perCopayer") or {}).get(copayer_id) or {}
            common = {**base, "multisigContractAddress": extra.get("multisigContractAddress"),
                      "network": extra.get("network")}
            for token in [None, *(extra.get("tokenAddresses") or [])]:
                status, error = None, None
                try:
                    status = await self.get_status(who, {**common, "tokenAddress": token})
                except (ClientError, ServerError) as e:
                    error = e
                out.append(ws.bulk_item(who.wallet_id, token, status, error))
        return out

    async def wallets_exist(self, caller: Caller, opts: dict) -> list[str]:
        """``POST /v1/wallets/exist`` (upstream ``routes/wallets.ts``; used by the
        BitPay app, not by bitcore-wallet-client): body ``{copayers:
        [{copayerId, signature}]}`` where ``signature`` signs the copayer id
        with one of that copayer's request keys (bitcore ``signMessage``).
        Returns the copayer ids, in request order, that exist and whose
        signature verifies; ``[]`` when ``copayers`` is not an array.  400
        "Too many copayers" past :data:`wallet_status.MAX_EXIST_COPAYERS`."""
        found: list[str] = []
        for copayer_id, signature in ws.exist_pairs(opts):
            lookup = await self.copayer_lookups.get(copayer_id)
            keys = [k.get("key") for k in (lookup or {}).get("requestPubKeys") or [] if isinstance(k, dict)]
            if any(crypto.verify_message(copayer_id, signature, k) for k in keys if k) and copayer_id not in found:
                found.append(copayer_id)
        return found

    # ------------------------------------------------------------ staff (docs/spec/api.md §6.16)
    async def get_wallet_from_identifier(self, caller: Caller, opts: dict) -> Optional[str]:
        """Id of the wallet found by ``opts["identifier"]``: a wallet id, an
        address (btc preferred), a proposal txid, else (hex identifiers) a
        transaction known to a configured explorer whose outputs pay one of
        our addresses.  None when nothing matches."""
        identifier = opts.get("identifier")
        if not isinstance(identifier, str) or not identifier:
            raise bad_request("Required argument identifier missing.")
        if await self.storage.wallets.fetch(identifier):
            return identifier
        addr = await self.storage.addresses.fetch_by_coin(C.DEFAULT_COIN, identifier)
        if addr:
            return addr["walletId"]
        txp = await self.storage.proposals.fetch_by_txid(identifier)
        if txp:
            return txp["walletId"]
        try:
            bytes.fromhex(identifier)
        except ValueError:
            return None
        for coin, network in _STAFF_EXPLORER_ORDER:
            try:
                ex = self._explorer(coin, network)
            except ServerError:
                continue
            try:
                tx = await maybe_await(ex.get_transaction(identifier))
            except Exception:
                continue
            if not tx:
                continue
            for address in _output_addresses(tx):
                a = await self.storage.addresses.fetch_by_coin(coin, address)
                if a:
                    return a["walletId"]
        return None


_STAFF_EXPLORER_ORDER = [
    ("btc", "livenet"),
    ("btc", "testnet"),
    ("bch", "livenet"),
    ("bch", "testnet"),
    ("eth", "livenet"),
    ("try", "livenet"),
]


def _output_addresses(tx: Any) -> list[str]:
    out: list[str] = []
    for vout in (tx.get("vout") or []) if isinstance(tx, dict) else []:
        spk = vout.get("scriptPubKey") or {}
        for a in spk.get("addresses") or ([spk["address"]] if spk.get("address") else []):
            if isinstance(a, str):
                out.append(a)
    if isinstance(tx, dict) and isinstance(tx.get("to"), str):
        out.append(tx["to"])
    return out

