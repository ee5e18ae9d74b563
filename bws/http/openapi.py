"""OpenAPI 3 description of the HTTP API, served at ``<basePath>/openapi.json``.

Paths and methods come from the route table (a :class:`bws.http.routing.Router`
built by :func:`bws.http.routes.build_router`), so a
route can't exist without being described.  What the route table doesn't know
(summaries, query parameters, bodies, answers) is written by hand below, as
plain data: :data:`SCHEMAS` (JSON schemas of the bodies), :data:`OPERATIONS`
(one entry per ``"METHOD /path"``).  ``tests/integration/test_openapi.py`` checks both
directions: every route has an entry, and every entry names a route.

Conventions of the description:

* ``servers[0].url`` is the base path; paths are relative to it, written
  ``/v1/wallets/{id}/copayers/`` (the router also accepts them without the
  trailing slash and in any case, docs/spec/api.md §2.3).
* request schemas describe what the reference accepts; the service still
  validates and answers 400 ``{"code", "message"}`` for bad values, so the
  schemas are deliberately permissive (``additionalProperties`` allowed).
* ``security``: ``sig`` routes need ``x-identity`` + ``x-signature``
  (docs/spec/api.md §3.4), ``session`` routes accept ``x-identity`` + ``x-session`` instead.
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Optional

from bws.model import constants as C

OPENAPI_VERSION = "3.0.3"

# ----------------------------------------------------------------------------- schemas

_str = {"type": "string"}
_int = {"type": "integer"}
_num = {"type": "number"}
_bool = {"type": "boolean"}
_obj = {"type": "object", "additionalProperties": True}
#: bounded client-chosen strings (bws/model/constants.py, issue 15 finding 5)
_name = {**_str, "maxLength": C.MAX_NAME_LENGTH}
_message = {**_str, "maxLength": C.MAX_MESSAGE_LENGTH}
_txid = {**_str, "maxLength": C.MAX_TXID_LENGTH}
_token = {**_str, "maxLength": C.MAX_TOKEN_LENGTH}
_url = {**_str, "maxLength": C.MAX_URL_LENGTH}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(item: dict) -> dict:
    return {"type": "array", "items": item}


def _object(props: dict, required: Iterable[str] = ()) -> dict:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": True}
    if required:
        out["required"] = list(required)
    return out


#: Component schemas (``#/components/schemas/<name>``).
SCHEMAS: dict[str, dict] = {
    # -- envelopes (docs/spec/api.md §2.4, §7)
    "ClientError": _object(
        {"code": {**_str, "description": "reference error code (docs/spec/api.md §7.1), BADREQUEST or NOT_AUTHORIZED"},
         "message": {"description": "human-readable text (an object for the Q1 quirk)"}},
        ["code", "message"],
    ),
    "ServerError": _object({"error": _str}, ["error"]),
    "Unavailable": _object(
        {"code": {**_str, "enum": ["SERVICE_UNAVAILABLE"]}, "message": _str}, ["code", "message"]
    ),
    # -- wallets (docs/spec/api.md §4.2–§4.6)
    "CreateWalletRequest": _object(
        {
            "name": _name, "m": _int, "n": _int, "pubKey": {**_str, "description": "wallet (shared) public key, hex"},
            "coin": {**_str, "enum": ["btc", "bch", "eth", "try"]}, "network": {**_str, "enum": ["livenet", "testnet"]},
            "singleAddress": _bool, "id": _str, "supportBIP44AndP2PKH": _bool,
            "chain": {**_str, "description": "must equal coin when given"}, "usePurpose48": _bool,
            "useNativeSegwit": {**_bool, "description": "only false: true is refused (not supported yet)"},
        },
        ["name", "m", "n", "pubKey"],
    ),
    "CreateWalletResponse": _object({"walletId": _str}, ["walletId"]),
    "WalletsExistRequest": _object(
        {"copayers": _array(_object({"copayerId": _str, "signature": _str}, ["copayerId", "signature"]))},
        ["copayers"],
    ),
    "JoinWalletRequest": _object(
        {
            "name": _name, "xPubKey": _str, "requestPubKey": _str, "copayerSignature": _str,
            "coin": _str, "chain": _str, "customData": {}, "dryRun": _bool, "supportBIP44AndP2PKH": _bool,
        },
        ["name", "xPubKey", "requestPubKey", "copayerSignature"],
    ),
    "JoinWalletResponse": _object({"copayerId": {**_str, "nullable": True}, "wallet": _ref("Wallet")}),
    "AddAccessRequest": _object(
        {"requestPubKey": _str, "signature": _str, "restrictions": _obj, "name": _name},
        ["requestPubKey", "signature"],
    ),
    "Copayer": _object({"id": _str, "name": _str, "xPubKey": _str, "requestPubKey": _str,
                        "createdOn": _int, "customData": {}}),
    "Wallet": _object(
        {
            "id": _str, "name": _str, "m": _int, "n": _int, "coin": _str, "chain": _str, "network": _str,
            "status": {**_str, "enum": ["pending", "complete"]}, "singleAddress": _bool,
            "derivationStrategy": _str, "addressType": _str, "scanStatus": {**_str, "nullable": True},
            "copayers": _array(_ref("Copayer")), "createdOn": _int,
        }
    ),
    "WalletStatus": _object(
        {"wallet": _ref("Wallet"), "balance": _ref("Balance"), "pendingTxps": _array(_ref("TxProposal")),
         "preferences": _ref("Preferences"), "serverMessages": _array(_obj)}
    ),
    "Preferences": _object({"email": {**_str, "nullable": True}, "language": {**_str, "nullable": True},
                            "unit": {**_str, "nullable": True}}),
    # -- addresses, balance, utxos (docs/spec/api.md §4.16, §4.17, §4.20)
    "CreateAddressRequest": _object({"ignoreMaxGap": _bool}),
    "Address": _object({"address": _str, "walletId": _str, "path": _str, "coin": _str, "network": _str,
                        "isChange": _bool, "createdOn": _int, "type": _str}),
    "Balance": _object(
        {"totalAmount": _int, "lockedAmount": _int, "totalConfirmedAmount": _int, "lockedConfirmedAmount": _int,
         "availableAmount": _int, "availableConfirmedAmount": _int, "byAddress": _array(_obj)}
    ),
    "Utxo": _object({"txid": _str, "vout": _int, "address": _str, "satoshis": _int, "confirmations": _int,
                     "locked": _bool, "path": _str}),
    "FeeLevel": _object({"level": _str, "feePerKb": _int, "feePerKB": _int, "nbBlocks": _int}),
    "SendMaxInfo": _object({"size": _int, "amount": _int, "fee": _int, "feePerKb": _int, "inputs": _array(_ref("Utxo")),
                            "utxosBelowFee": _int, "amountBelowFee": _int, "utxosAboveMaxSize": _int,
                            "amountAboveMaxSize": _int}),
    # -- proposals (docs/spec/api.md §4.8–§4.15)
    "Output": _object({"toAddress": _str, "amount": _int, "message": _message, "script": _str}),
    "CreateTxRequest": _object(
        {
            "outputs": _array(_ref("Output")), "message": _message, "feeLevel": _str, "feePerKb": _int, "fee": _int,
            "inputs": _array(_ref("Utxo")), "changeAddress": _str, "sendMax": _bool, "payProUrl": _url,
            "excludeUnconfirmedUtxos": _bool, "validateOutputs": _bool, "dryRun": _bool, "txProposalId": _str,
            "customData": {}, "noShuffleOutputs": _bool, "utxosToExclude": _array(_str),
        }
    ),
    "TxProposal": _object(
        {
            "id": _str, "walletId": _str, "creatorId": _str, "status": _str, "coin": _str, "network": _str,
            "outputs": _array(_ref("Output")), "amount": _int, "fee": _int, "feePerKb": _int, "inputs": _array(_obj),
            "actions": _array(_obj), "txid": _str, "createdOn": _int, "version": _int,
        }
    ),
    # -- bitcore-wallet-client 10.x / 11.x (docs/spec/protocol-bwc11.md §3.2, §3.3)
    "CreateAddressV4Request": _object({"ignoreMaxGap": {**_bool, "nullable": True},
                                       "isChange": {**_bool, "nullable": True}}),
    "CreateTxV3Request": _object(
        {
            "outputs": _array(_ref("Output")), "message": {**_message, "nullable": True}, "feeLevel": _str,
            "feePerKb": _int, "fee": _int, "inputs": _array(_ref("Utxo")), "changeAddress": _str, "sendMax": _bool,
            "payProUrl": {**_url, "nullable": True}, "excludeUnconfirmedUtxos": _bool, "dryRun": _bool,
            "txProposalId": _str, "customData": {}, "noShuffleOutputs": _bool,
            "chain": {**_str, "description": "the wallet's coin, else 400"},
            "txpVersion": {**_int, "enum": [3]},
            "signingMethod": {**_str, "enum": ["ecdsa"], "nullable": True},
            "enableRBF": {**_bool, "nullable": True, "description": "true is refused (400) until RBF is supported"},
            "replaceTxByFee": {**_bool, "nullable": True, "description": "true is refused (400)"},
            "isTokenSwap": {**_bool, "nullable": True, "description": "true is refused (400)"},
            "tokenAddress": {**_str, "nullable": True, "description": "set: refused (400)"},
            "multiSendContractAddress": {**_str, "nullable": True, "description": "set: refused (400)"},
            "instantAcceptanceEscrow": {**_int, "nullable": True, "description": "set: refused (400)"},
        }
    ),
    "Coin": _object({"chain": _str, "network": _str, "coinbase": _bool, "mintIndex": _int, "mintTxid": _str,
                     "mintHeight": {**_int, "nullable": True}, "spentTxid": {**_str, "nullable": True},
                     "spentHeight": _int, "address": _str, "script": {**_str, "nullable": True},
                     "value": {**_int, "nullable": True}, "confirmations": {**_int, "nullable": True}}),
    "TxCoins": _object({"inputs": _array(_ref("Coin")), "outputs": _array(_ref("Coin"))}, ["inputs", "outputs"]),
    "Success": _object({"success": _bool}, ["success"]),
    "PublishRequest": _object({"proposalSignature": _str}, ["proposalSignature"]),
    "SignRequest": _object({"signatures": _array(_str)}, ["signatures"]),
    "RejectRequest": _object({"reason": _message}),
    "BroadcastRawRequest": _object({"network": _str, "rawTx": _str, "coin": _str}, ["network", "rawTx"]),
    "ScanRequest": _object({"includeCopayerBranches": _bool}),
    "HistoryItem": _object({"txid": _str, "action": {**_str, "enum": ["sent", "received", "moved", "invalid"]},
                            "amount": _int, "fees": _int, "time": _int, "confirmations": _int}),
    # -- notifications, sessions, notes, subscriptions (docs/spec/api.md §3.5, §4.24–§4.27)
    "Notification": _object({"id": _str, "type": _str, "data": _obj, "walletId": _str, "creatorId": {**_str, "nullable": True},
                             "createdOn": _int}),
    "TxNote": _object({"txid": _str, "walletId": _str, "body": {**_str, "nullable": True}, "editedBy": _str,
                       "editedByName": _str, "editedOn": _int}),
    "EditTxNoteRequest": _object({"body": {**_message, "nullable": True}}),
    "PushSubscriptionRequest": _object({"token": _token, "packageName": _token, "platform": _token}, ["token"]),
    "PushSubscriptionV2Request": _object({**dict.fromkeys(("externalUserId", "packageName", "platform", "walletId", "token"), _token),
                                          "type": {**_str, "enum": ["ios", "android"]}}, ["externalUserId"]),
    "PushSubscriptionV2": _object({**dict.fromkeys(("copayerId", "externalUserId", "type", "token"), _str), "delivered": _bool}),
    "TxConfirmationRequest": _object({"txid": _txid}, ["txid"]),
    "Ok": _object({"ok": _int, "n": _int}),
    "WebhookRequest": _object({"url": _url, "secret": _str}, ["url"]),
    "Webhook": _object({"id": _str, "walletId": _str, "copayerId": _str, "url": _str, "secret": _str,
                        "createdOn": _int, "updatedOn": _int}),
    "WebhookDelivery": _object({"id": _str, "webhookId": _str, "notificationId": _str, "status": _str,
                                "attempts": _int, "createdOn": _num}),
    # -- misc (docs/spec/api.md §2.1, §4.26, §4.28, §4.29)
    "Version": _object({"serviceVersion": _str}, ["serviceVersion"]),
    "Stats": _object({"newWallets": _obj, "txProposals": _obj}),
    "FiatRate": _object({"ts": _int, "rate": _num, "fetchedOn": _int}),
    "CoinRate": _object({"code": _str, "name": _str, "rate": _num}),
    "NamedFiatRate": _object({"ts": _int, "rate": _num, "fetchedOn": _int, "code": _str, "name": _str}, ["ts", "code", "name"]),
    "Health": _object({"status": {**_str, "enum": ["ok", "fail"]}, "checks": _obj}, ["status", "checks"]),
    "Nonce": _object({"nonce": _int}),
    "PendingStatus": _object({"code": _int, "status": {}, "message": _str}),
}

# ----------------------------------------------------------------------------- operations

#: ``"METHOD /path"`` (the route table's spelling) -> hand-written facts:
#: summary; query: {name: schema}; body: schema name; response: schema (a
#: ``$ref`` name, ``[name]`` for an array, a literal schema dict, or None for
#: an empty body); tag.
OPERATIONS: dict[str, dict[str, Any]] = {
    # wallets
    "POST /v1/wallets/": {"tag": "wallets", "summary": "Create a wallet (legacy, BIP45) — deprecated",
                          "body": "CreateWalletRequest", "response": "CreateWalletResponse", "rateLimit": "createWallet"},
    "POST /v2/wallets/": {"tag": "wallets", "summary": "Create a wallet", "body": "CreateWalletRequest",
                          "response": "CreateWalletResponse", "rateLimit": "createWallet"},
    "PUT /v1/copayers/{id}/": {"tag": "wallets", "summary": "Add a request key to a copayer (proof: xpriv signature)",
                               "body": "AddAccessRequest", "response": "JoinWalletResponse"},
    "POST /v1/wallets/{id}/copayers/": {"tag": "wallets", "summary": "Join a wallet (legacy, BIP45) — deprecated",
                                        "body": "JoinWalletRequest", "response": "JoinWalletResponse"},
    "POST /v2/wallets/{id}/copayers/": {"tag": "wallets", "summary": "Join a wallet", "body": "JoinWalletRequest",
                                        "response": "JoinWalletResponse"},
    "GET /v1/wallets/": {"tag": "wallets", "summary": "Wallet status with extended info — deprecated",
                         "response": "WalletStatus"},
    "GET /v2/wallets/": {"tag": "wallets", "summary": "Wallet status",
                         "query": {"includeExtendedInfo": _str, "twoStep": _str}, "response": "WalletStatus"},
    "GET /v1/wallets/{identifier}/": {"tag": "wallets", "summary": "Support staff: status of the wallet found by id, address or txid (never the literal 'all')",
                                      "query": {"includeExtendedInfo": _str, "twoStep": _str, "walletCheck": _str},
                                      "response": "WalletStatus"},
    "GET /v3/wallets/": {"tag": "wallets", "summary": "Wallet status (v3: bitcore-wallet-client 10.x/11.x openWallet/getStatus)",
                         "query": {"includeExtendedInfo": _str, "twoStep": _str, "serverMessageArray": _str,
                                   "tokenAddress": _str, "multisigContractAddress": _str, "network": _str,
                                   "numberFormat": _str},
                         "response": "WalletStatus"},
    "GET /v1/wallets/all/": {"tag": "wallets",
                             "summary": "Bulk status: x-identities (comma-separated copayer ids) + one x-signature valid for each",
                             "query": {"includeExtendedInfo": _str, "twoStep": _str, "serverMessageArray": _str,
                                       "silentFailure": _str, "numberFormat": _str,
                                       "<copayerId>:tokenAddress": _str},
                             "response": _array(_object({"walletId": _str, "tokenAddress": {**_str, "nullable": True},
                                                         "success": _bool, "status": _ref("WalletStatus"),
                                                         "message": _str, "error": _str, "wallet": _obj}))},
    "POST /v1/wallets/exist": {"tag": "wallets",
                               "summary": "Which copayer ids exist (each proven by a signature of the id by a request key)",
                               "body": "WalletsExistRequest", "response": _array(_str)},
    "GET /v1/preferences/": {"tag": "wallets", "summary": "The caller's preferences", "response": "Preferences"},
    "PUT /v1/preferences/": {"tag": "wallets", "summary": "Save preferences (email, language, unit)",
                             "body": "Preferences", "response": None},
    # proposals
    "GET /v1/txproposals/": {"tag": "proposals", "summary": "Pending proposals", "response": ["TxProposal"]},
    "GET /v1/txproposals/{id}/": {"tag": "proposals", "summary": "One proposal (with its note)", "response": "TxProposal"},
    "POST /v1/txproposals/": {"tag": "proposals", "summary": "Retired: always UPGRADE_NEEDED", "body": "CreateTxRequest",
                              "response": "ClientError"},
    "POST /v2/txproposals/": {"tag": "proposals", "summary": "Create a temporary proposal", "body": "CreateTxRequest",
                              "response": "TxProposal"},
    "POST /v1/txproposals/{id}/publish/": {"tag": "proposals", "summary": "Publish a temporary proposal",
                                           "body": "PublishRequest", "response": "TxProposal"},
    "POST /v1/txproposals/{id}/signatures/": {"tag": "proposals", "summary": "Sign (accept) a proposal",
                                              "body": "SignRequest", "response": "TxProposal"},
    "POST /v1/txproposals/{id}/rejections/": {"tag": "proposals", "summary": "Reject a proposal", "body": "RejectRequest",
                                              "response": "TxProposal"},
    "POST /v1/txproposals/{id}/broadcast/": {"tag": "proposals", "summary": "Broadcast an accepted proposal",
                                             "response": "TxProposal"},
    "DELETE /v1/txproposals/{id}/": {"tag": "proposals", "summary": "Remove a pending proposal", "response": None},
    "POST /v1/broadcast_raw/": {"tag": "proposals", "summary": "Broadcast a raw transaction",
                                "body": "BroadcastRawRequest", "response": _str},
    "GET /v1/sendmaxinfo/": {"tag": "proposals", "summary": "'Send all' information",
                             "query": {"feePerKb": _str, "feeLevel": _str, "excludeUnconfirmedUtxos": _str,
                                       "returnInputs": _str},
                             "response": "SendMaxInfo"},
    "POST /v3/txproposals/": {"tag": "proposals", "summary": "Create a temporary proposal (bwc 10.x/11.x)",
                              "body": "CreateTxV3Request", "query": {"numberFormat": _str}, "response": "TxProposal"},
    "GET /v2/txproposals/": {"tag": "proposals", "summary": "Pending proposals (bwc 10.x/11.x)",
                             "query": {"numberFormat": _str}, "response": ["TxProposal"]},
    "POST /v2/txproposals/{id}/publish/": {"tag": "proposals", "summary": "Publish a temporary proposal (bwc 10.x/11.x)",
                                           "body": "PublishRequest", "query": {"numberFormat": _str},
                                           "response": "TxProposal"},
    "POST /v2/txproposals/{id}/signatures/": {"tag": "proposals", "summary": "Sign (accept) a proposal (bwc 10.x/11.x)",
                                              "body": "SignRequest", "query": {"numberFormat": _str},
                                              "response": "TxProposal"},
    "GET /v1/txproposalsbyhash/{txid}/": {"tag": "proposals",
                                          "summary": "The caller's wallet's proposal with this txid (with its note)",
                                          "response": "TxProposal"},
    "GET /v1/txcoins/": {"tag": "proposals", "summary": "Inputs and outputs of a transaction, as coins",
                         "query": {"coin": _str, "chain": _str, "network": _str, "txId": _str},
                         "response": "TxCoins"},
    "GET /v2/feelevels/": {"tag": "proposals", "summary": "Fee levels", "query": {"coin": _str, "network": _str},
                           "response": ["FeeLevel"], "rateLimit": "feeLevels"},
    "GET /v1/feelevels/": {"tag": "proposals", "summary": "Fee levels (field feePerKB) — deprecated",
                           "query": {"network": _str}, "response": ["FeeLevel"], "rateLimit": "feeLevels"},
    "GET /v1/txhistory/": {"tag": "proposals", "summary": "Transaction history",
                           "query": {"skip": _str, "limit": _str, "tokenAddress": _str, "multisigContractAddress": _str},
                           "response": ["HistoryItem"]},
    # addresses & funds
    "POST /v1/addresses/": {"tag": "addresses", "summary": "New address, gap ignored — deprecated",
                            "body": "CreateAddressRequest", "response": "Address"},
    "POST /v2/addresses/": {"tag": "addresses", "summary": "New address, gap ignored — deprecated",
                            "body": "CreateAddressRequest", "response": "Address"},
    "POST /v3/addresses/": {"tag": "addresses", "summary": "New address (gap enforced unless ignoreMaxGap)",
                            "body": "CreateAddressRequest", "response": "Address"},
    "GET /v1/addresses/": {"tag": "addresses", "summary": "Main (receive) addresses",
                           "query": {"limit": _str, "reverse": _str}, "response": ["Address"]},
    "POST /v4/addresses/": {"tag": "addresses",
                            "summary": "New receive or change address (gap enforced per branch unless ignoreMaxGap)",
                            "body": "CreateAddressV4Request", "response": "Address"},
    "GET /v2/addresses/": {"tag": "addresses", "summary": "Addresses (receive and change)",
                           "query": {"limit": _str, "skip": _str, "reverse": _str, "noChange": _str,
                                     "addresses": _str}, "response": ["Address"]},
    "POST /v1/clearcache/": {"tag": "addresses", "summary": "Forget the wallet's balance and history caches",
                             "query": {"tokenAddress": _str}, "response": "Success"},
    "POST /v1/addresses/scan/": {"tag": "addresses", "summary": "Start an address scan", "body": "ScanRequest",
                                 "response": None},
    "GET /v1/balance/": {"tag": "addresses", "summary": "Balance",
                         "query": {"coin": _str, "twoStep": _str, "tokenAddress": _str, "multisigContractAddress": _str},
                         "response": "Balance"},
    "GET /v1/utxos/": {"tag": "addresses", "summary": "UTXOs of the wallet or of given addresses",
                       "query": {"addresses": _str}, "response": ["Utxo"]},
    # sessions & notifications
    "POST /v1/login/": {"tag": "sessions", "summary": "Session token", "response": _str},
    "POST /v1/logout/": {"tag": "sessions", "summary": "Drop the session", "response": None},
    "GET /v1/notifications/": {"tag": "sessions", "summary": "Poll notifications",
                               "query": {"timeSpan": _str, "notificationId": _str}, "response": ["Notification"]},
    # notes
    "GET /v1/txnotes/{txid}/": {"tag": "notes", "summary": "One note (empty body when none)", "response": "TxNote"},
    "PUT /v1/txnotes/{txid}/": {"tag": "notes", "summary": "Create or edit a note", "body": "EditTxNoteRequest",
                                "response": "TxNote"},
    "GET /v1/txnotes/": {"tag": "notes", "summary": "Notes edited since minTs", "query": {"minTs": _str},
                         "response": ["TxNote"]},
    # subscriptions & webhooks
    "POST /v1/pushnotifications/subscriptions/": {"tag": "subscriptions", "summary": "Subscribe a device token",
                                                  "body": "PushSubscriptionRequest", "response": "Ok"},
    "DELETE /v1/pushnotifications/subscriptions/": {"tag": "subscriptions", "summary": "Legacy unsubscribe (no-op)",
                                                    "response": "Ok"},
    "DELETE /v2/pushnotifications/subscriptions/{token}/": {"tag": "subscriptions", "summary": "Unsubscribe a device token",
                                                            "response": "Ok"},
    "POST /v2/pushnotifications/subscriptions/": {"tag": "subscriptions", "summary": "Subscribe (bwc 10.x/11.x)", "body": "PushSubscriptionV2Request", "response": "PushSubscriptionV2"},
    "DELETE /v3/pushnotifications/subscriptions/{externalUserId}/": {"tag": "subscriptions", "summary": "Unsubscribe", "response": "Ok"},
    "POST /v1/txconfirmations/": {"tag": "subscriptions", "summary": "Subscribe to a transaction's confirmation",
                                  "body": "TxConfirmationRequest", "response": "Ok"},
    "DELETE /v1/txconfirmations/{txid}/": {"tag": "subscriptions", "summary": "Unsubscribe", "response": "Ok"},
    "POST /v1/webhooks/": {"tag": "subscriptions", "summary": "Register (or replace) the caller's webhook",
                           "body": "WebhookRequest", "response": "Webhook"},
    "GET /v1/webhooks/": {"tag": "subscriptions", "summary": "The caller's webhooks (no secrets)", "response": ["Webhook"]},
    "DELETE /v1/webhooks/{id}/": {"tag": "subscriptions", "summary": "Remove a webhook", "response": _obj},
    "GET /v1/webhooks/{id}/deliveries/": {"tag": "subscriptions", "summary": "Recent deliveries of a webhook",
                                          "response": ["WebhookDelivery"]},
    # misc
    "GET /v1/version/": {"tag": "misc", "summary": "Service version", "response": "Version"},
    "GET /v1/stats/": {"tag": "misc", "summary": "Wallet and proposal statistics",
                       "query": {"network": _str, "coin": _str, "from": _str, "to": _str}, "response": "Stats"},
    "GET /v1/fiatrates/{code}/": {"tag": "misc", "summary": "Fiat rate of a coin",
                                  "query": {"coin": _str, "provider": _str, "ts": _str}, "response": "FiatRate"},
    "GET /v2/fiatrates/{code}/": {"tag": "misc", "summary": "Rates of a fiat code since ts: {coin: [FiatRate]}", "query": {"coin": _str, "provider": _str,
                                  "ts": _str}, "response": {"type": "object", "additionalProperties": _array(_ref("FiatRate"))}},
    "GET /v3/fiatrates/": {"tag": "misc", "summary": "Each stored coin x fiat code at ts: {coin: [NamedFiatRate]}", "query": {"code": _str, "provider": _str,
                           "ts": _str}, "response": {"type": "object", "additionalProperties": _array(_ref("NamedFiatRate"))}},
    "GET /v3/fiatrates/{coin}/": {"tag": "misc", "summary": "One coin in every stored fiat code at ts", "query": {"code": _str, "provider": _str, "ts": _str},
                                  "response": ["NamedFiatRate"]},
    "GET /v1/rates/eth/": {"tag": "misc", "summary": "Fiat rates per ETH (empty body before the first fetch)", "response": ["CoinRate"]},
    "GET /v1/rates/try/": {"tag": "misc", "summary": "Fiat rates per TRY (empty body before the first fetch)", "response": ["CoinRate"]},
    "GET /openapi.json": {"tag": "misc", "summary": "This description", "response": _obj},
    "GET /v1/health/": {"tag": "misc", "summary": "Readiness: database, broker, lock, nodes (503 when a check fails)",
                        "response": "Health"},
    # ETH / Tri / TRY (docs/spec/api.md §4.29)
    "GET /v1/eth/address_nonce/{address}/": {"tag": "evm", "summary": "Next nonce of an ETH address",
                                             "response": "Nonce"},
    "GET /v1/try/address_nonce/{address}/": {"tag": "evm", "summary": "Next nonce for TRY sends (eth chain)",
                                             "response": "Nonce"},
    "GET /v1/tri/address_nonce/{address}/": {"tag": "evm", "summary": "Next nonce on the Trias chain",
                                             "response": "Nonce"},
    "GET /v1/get_transaction_pending_status/": {"tag": "evm", "summary": "Is a transaction mined? (always 200)",
                                                "query": {"coin": _str, "network": _str, "txid": _str},
                                                "response": "PendingStatus"},
}

# ----------------------------------------------------------------------------- building

_ERROR_RESPONSES = {
    "400": {"description": "Client error (docs/spec/api.md §7): a reference code and a message",
            "content": {"application/json": {"schema": _ref("ClientError")}}},
    "401": {"description": "NOT_AUTHORIZED (bad signature, unknown copayer, expired session)",
            "content": {"application/json": {"schema": _ref("ClientError")}}},
    "404": {"description": "No such route (NOT_FOUND)", "content": {"application/json": {"schema": _ref("ClientError")}}},
    "413": {"description": "Body over 100 KiB", "content": {"application/json": {"schema": _ref("ClientError")}}},
    "500": {"description": "Reference server error (explorer message etc.)",
            "content": {"application/json": {"schema": _ref("ServerError")}}},
    "503": {"description": "Database unreachable, or a write still conflicting after storageOpts.mongoDb."
                           "transactionTimeoutMS (SERVICE_UNAVAILABLE); retry later. "
                           "GET /v1/health/: a failed check",
            "content": {"application/json": {"schema": _ref("Unavailable")}}},
}
_RATE_LIMITED = {"description": "Rate limited (plain-text message, as upstream)", "content": {"text/plain": {"schema": _str}}}

_SECURITY = {
    "none": [],
    "sig": [{"identity": [], "signature": []}],
    "staff": [{"identity": [], "signature": []}],
    "session": [{"identity": [], "signature": []}, {"identity": [], "session": []}],
}


def openapi_path(route_path: str) -> str:
    """Route-table spelling (``/v1/wallets/:id/copayers/``) -> OpenAPI (``/v1/wallets/{id}/copayers/``);
    a parameter's excluded literals (``:identifier!all``) are dropped."""
    return "/".join("{" + s[1:].split("!")[0] + "}" if s.startswith(":") else s for s in route_path.split("/"))


def operation_key(method: str, route_path: str) -> str:
    return f"{method.upper()} {openapi_path(route_path)}"


def _schema(spec: Any) -> Optional[dict]:
    if spec is None:
        return None
    if isinstance(spec, str):
        return _ref(spec)
    if isinstance(spec, list):
        return _array(_ref(spec[0]))
    return copy.deepcopy(spec)


def _operation(key: str, route: Any, facts: dict) -> dict:
    method, path = key.split(" ", 1)
    op: dict[str, Any] = {
        "operationId": (method.lower() + path.replace("/", "_").replace("{", "").replace("}", "").replace(".", "_")).rstrip("_"),
        "summary": facts.get("summary", ""),
        "tags": [facts.get("tag", "misc")],
        "security": copy.deepcopy(_SECURITY.get(route.auth, [])),
    }
    params = []
    for seg in path.split("/"):
        if seg.startswith("{"):
            params.append({"name": seg[1:-1], "in": "path", "required": True, "schema": {**_str, "minLength": 1}})
    for name, schema in (facts.get("query") or {}).items():
        params.append({"name": name, "in": "query", "required": False, "schema": copy.deepcopy(schema)})
    if route.auth != "none" or route.version_gate:
        params.append({"name": "x-client-version", "in": "header", "required": False, "schema": _str,
                       "description": "bwc-<version>; clients older than 1.2 get UPGRADE_NEEDED (docs/spec/api.md §3.7)"})
    if params:
        op["parameters"] = params
    if facts.get("body"):
        op["requestBody"] = {"required": False,
                             "content": {"application/json": {"schema": _ref(facts["body"])}}}
    ok: dict[str, Any] = {"description": "Success (an empty body means 'no result')"}
    schema = _schema(facts.get("response"))
    if schema is not None:
        ok["content"] = {"application/json": {"schema": schema}}
    responses = {"200": ok, **copy.deepcopy(_ERROR_RESPONSES)}
    if facts.get("rateLimit"):
        responses["429"] = copy.deepcopy(_RATE_LIMITED)
        op["x-rate-limit"] = facts["rateLimit"]
    op["responses"] = responses
    op["x-auth"] = route.auth
    return op


def build_openapi(routes: Any, base_path: str = "/bws/api", version: str = "2.5.1") -> dict:
    """The OpenAPI 3 document for ``routes`` (a Router: anything with
    ``.routes``, each with ``method``, ``path``, ``auth``).

    Routes without hand-written facts in :data:`OPERATIONS` are still listed
    (summary "undocumented") so the document never hides a route; the test
    suite fails on them."""
    paths: dict[str, dict] = {}
    for route in routes.routes:
        key = operation_key(route.method, route.path)
        method, path = key.split(" ", 1)
        if method.lower() in paths.get(path, {}):
            continue  # first match wins (a duplicate registration is unreachable)
        facts = OPERATIONS.get(key, {"summary": "undocumented", "response": _obj})
        paths.setdefault(path, {})[method.lower()] = _operation(key, route, facts)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "bitcore-wallet-service (BWS-Twisted)",
            "version": version,
            "description": (
                "HTTP API of bitcore-wallet-service 2.5.1 as served by BWS-Twisted. Paths are matched "
                "case-insensitively with an optional trailing slash. Errors: 400/401 {code, message}, "
                "500 {error}, 503 {code: SERVICE_UNAVAILABLE, message}; 429 plain text when rate limited."
            ),
        },
        "servers": [{"url": base_path or "/"}],
        "tags": [{"name": t} for t in sorted({op["tags"][0] for ops in paths.values() for op in ops.values()})],
        "paths": paths,
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "securitySchemes": {
                "identity": {"type": "apiKey", "in": "header", "name": "x-identity",
                             "description": "copayer id (docs/spec/api.md §3.2)"},
                "signature": {"type": "apiKey", "in": "header", "name": "x-signature",
                              "description": "DER hex ECDSA signature of 'method|url|body' by a request key (docs/spec/api.md §3.4)"},
                "session": {"type": "apiKey", "in": "header", "name": "x-session",
                            "description": "session token from POST /v1/login/ (notifications only)"},
            },
        },
    }


__all__ = ["SCHEMAS", "OPERATIONS", "build_openapi", "openapi_path", "operation_key"]
