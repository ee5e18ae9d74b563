"""OpenAPI 3 building blocks and the component schemas of the API
(bws/http/openapi.py builds the document; bws/http/openapi_operations.py
describes each route with these)."""

from __future__ import annotations

from typing import Any, Iterable

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
            "enableRBF": {**_bool, "nullable": True, "description": "true: every input signals BIP125 (sequence 0xfffffffd)"},
        }
    ),
    "TxProposal": _object(
        {
            "id": _str, "walletId": _str, "creatorId": _str, "status": _str, "coin": _str, "network": _str,
            "outputs": _array(_ref("Output")), "amount": _int, "fee": _int, "feePerKb": _int, "inputs": _array(_obj),
            "actions": _array(_obj), "txid": _str, "createdOn": _int, "version": _int, "enableRBF": _bool,
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
            "enableRBF": {**_bool, "nullable": True, "description": "true: every input signals BIP125 (sequence 0xfffffffd)"},
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


__all__ = ["OPENAPI_VERSION", "SCHEMAS"]
