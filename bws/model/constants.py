"""Constants and defaults of the reference BWS (docs/spec/api.md §8).

Everything here is a plain value; nothing is configurable at run time (the typed
configuration lives in ``bws.config``).  Units are given in the comment of each
name: ``s`` = seconds, ``ms`` = milliseconds, ``min`` = minutes, amounts are
integers in the smallest unit of the coin (satoshi / wei).
"""

from __future__ import annotations

# ---------------------------------------------------- docs/spec/api.md §8.1 constants

COIN_BTC = "btc"
COIN_BCH = "bch"
COIN_ETH = "eth"
COIN_TRY = "try"
#: the Ethereum-compatible Trias chain (its own chain id; added by the port)
COIN_TRI = "tri"
COINS: tuple[str, ...] = (COIN_BTC, COIN_BCH, COIN_ETH, COIN_TRY, COIN_TRI)
DEFAULT_COIN = COIN_BTC
#: coins whose model is account based (no UTXOs, no change, single address)
EVM_COINS: tuple[str, ...] = (COIN_ETH, COIN_TRY, COIN_TRI)
#: coins with bitcoin style UTXOs and scripts
UTXO_COINS: tuple[str, ...] = (COIN_BTC, COIN_BCH)

LIVENET = "livenet"
TESTNET = "testnet"
NETWORKS: tuple[str, ...] = (LIVENET, TESTNET)
DEFAULT_NETWORK = LIVENET
#: notification types stored under a network name instead of a wallet id
#: (the block monitors' NewBlock); the poll takes only these from the network
#: scope, so nothing else stored there reaches every wallet of the network
NETWORK_NOTIFICATION_TYPES: tuple[str, ...] = ("NewBlock",)

P2SH = "P2SH"
P2PKH = "P2PKH"
SCRIPT_TYPES: tuple[str, ...] = (P2SH, P2PKH)

BIP44 = "BIP44"
BIP45 = "BIP45"
DERIVATION_STRATEGIES: tuple[str, ...] = (BIP44, BIP45)

PATHS = {
    "REQUEST_KEY": "m/1'/0",       # from the root key (client side)
    "TXPROPOSAL_KEY": "m/1'/1",    # legacy, unused
    "REQUEST_KEY_AUTH": "m/2",     # relative to the copayer base key
}

#: copayerIndex of the shared BIP45 branch (0x7fffffff)
BIP45_SHARED_INDEX = 0x80000000 - 1

ADDRESS_FORMATS: tuple[str, ...] = ("copay", "cashaddr", "legacy")

# TxProposal statuses
TXP_TEMPORARY = "temporary"
TXP_PENDING = "pending"
TXP_ACCEPTED = "accepted"
TXP_REJECTED = "rejected"
TXP_BROADCASTED = "broadcasted"
TXP_STATUSES: tuple[str, ...] = (TXP_TEMPORARY, TXP_PENDING, TXP_ACCEPTED, TXP_REJECTED, TXP_BROADCASTED)

# Wallet statuses
WALLET_PENDING = "pending"
WALLET_COMPLETE = "complete"

# Wallet scanStatus values (None = never scanned)
SCAN_RUNNING = "running"
SCAN_SUCCESS = "success"
SCAN_ERROR = "error"

# Email statuses
EMAIL_PENDING = "pending"
EMAIL_SENT = "sent"
EMAIL_FAIL = "fail"

# ---------------------------------------------------- docs/spec/api.md §8.2 defaults

MIN_FEE_PER_KB = 0                    # satoshi / kB
MAX_FEE_PER_KB = 10_000 * 1000        # satoshi / kB (10k sat/byte)
MIN_TX_FEE = 0                        # satoshi
MAX_TX_FEE = 10_000_000               # satoshi (0.1 BTC), build sanity check
MAX_TX_SIZE_IN_KB = 100               # kB

MAX_KEYS = 100                        # request keys per copayer

DELETE_LOCKTIME = 600                 # s: others may delete a pending txp after this

BACKOFF_OFFSET = 10                   # consecutive rejections allowed before back-off
BACKOFF_TIME = 600                    # s

MAX_MAIN_ADDRESS_GAP = 20             # addresses
SCAN_ADDRESS_GAP = MAX_MAIN_ADDRESS_GAP + 20   # addresses (the fork hard-codes 2)

FEE_LEVELS_FALLBACK = 2

TWO_STEP_BALANCE_THRESHOLD = 100      # addresses
TWO_STEP_CREATION_HOURS = 24          # hours
TWO_STEP_INACTIVE_CLEAN_DURATION_MIN = 60   # min

FIAT_RATE_PROVIDER = "BitPay"
FIAT_RATE_FETCH_INTERVAL = 10         # min (config default 60)
FIAT_RATE_MAX_LOOK_BACK_TIME = 120    # min

HISTORY_LIMIT = 50                    # txs per page

UTXO_SELECTION_MAX_SINGLE_UTXO_FACTOR = 2
UTXO_SELECTION_MIN_TX_AMOUNT_VS_UTXO_FACTOR = 0.1
UTXO_SELECTION_MAX_FEE_VS_TX_AMOUNT_FACTOR = 0.05
UTXO_SELECTION_MAX_FEE_VS_SINGLE_UTXO_FEE_FACTOR = 5

MIN_OUTPUT_AMOUNT = 5000              # satoshi; also dust-change absorption threshold
DUST_AMOUNT = 546                     # satoshi (bitcore Transaction.DUST_AMOUNT)

CONFIRMATIONS_TO_START_CACHING = 6 * 6
HISTORY_CACHE_ADDRESS_THRESOLD = 100  # (sic, reference spelling)
BALANCE_CACHE_ADDRESS_THRESHOLD = HISTORY_CACHE_ADDRESS_THRESOLD
BALANCE_CACHE_DIRECT_DURATION = 60    # s
BALANCE_CACHE_DURATION = 10           # s

BLOCKHEIGHT_CACHE_TIME = 10 * 60      # s
BLOCKHEIGHT_CACHE_TIME_ETH = 10       # s
BLOCKHEIGHT_CACHE_TIME_TRI = 10       # s

MAX_NOTIFICATIONS_TIMESPAN = 60 * 60 * 24 * 14   # s (14 days)
NOTIFICATIONS_TIMESPAN = 60           # s

SESSION_EXPIRATION = 60 * 60          # s

FEE_LEVELS_CACHE_DURATION = 5 * 60    # s

LOCK_WAIT_TIME = 10                   # s to acquire a wallet lock (fork; upstream 5)
LOCK_EXE_TIME = 5 * 60                # s maximum hold of a wallet lock

INSIGHT_REQUEST_POOL_SIZE = 10
INSIGHT_TIMEOUT = 30_000              # ms

POST_BODY_LIMIT = 100 * 1024          # bytes

# Field sizes (added; the reference bounds only the whole body): characters of a
# client-chosen string, or of the compact JSON of a value that is not one
# (customData). bitcore-wallet-client encrypts names, messages and notes (sjcl
# JSON: about 110 characters plus 4/3 of the plain text), so every bound leaves
# room for far more than an app lets a user type. Checked by
# bws.service.base.check_length -> 400 "Invalid <field>: longer than N characters".
MAX_NAME_LENGTH = 1024                # wallet name, copayer name, request-key (access) name
MAX_MESSAGE_LENGTH = 8192             # proposal and output message, tx-note body, reject reason
MAX_CUSTOM_DATA_LENGTH = 8192         # copayer and proposal customData, access restrictions
MAX_URL_LENGTH = 2048                 # payProUrl, webhook url
MAX_TOKEN_LENGTH = 1024               # push token, packageName, platform
MAX_TXID_LENGTH = 128                 # txid of notes and confirmation subscriptions

IS_ETH_TEST = False

# ---------------------------------------------------- docs/spec/api.md §8.3 fee levels
# Each level: {"name", "nbBlocks", "defaultValue"[, "multiplier"]}; defaultValue is
# satoshi/kB for btc/bch and wei (gas price) for eth/try.  Treat as read only
# (copy before mutating).

_GWEI = 10**9

_EVM_FEE_LEVELS = (
    {"name": "urgent", "nbBlocks": 1, "multiplier": 1.5, "defaultValue": 40 * _GWEI},
    {"name": "priority", "nbBlocks": 2, "defaultValue": 10 * _GWEI},
    {"name": "normal", "nbBlocks": 3, "defaultValue": 5 * _GWEI},
    {"name": "economy", "nbBlocks": 6, "defaultValue": 4 * _GWEI},
    {"name": "superEconomy", "nbBlocks": 24, "defaultValue": 2 * _GWEI},
)

FEE_LEVELS: dict[str, tuple[dict, ...]] = {
    COIN_BTC: (
        {"name": "urgent", "nbBlocks": 2, "multiplier": 1.5, "defaultValue": 150_000},
        {"name": "priority", "nbBlocks": 2, "defaultValue": 100_000},
        {"name": "normal", "nbBlocks": 3, "defaultValue": 80_000},
        {"name": "economy", "nbBlocks": 6, "defaultValue": 50_000},
        {"name": "superEconomy", "nbBlocks": 24, "defaultValue": 20_000},
    ),
    COIN_BCH: (
        {"name": "normal", "nbBlocks": 2, "defaultValue": 2000},
    ),
    COIN_ETH: _EVM_FEE_LEVELS,
    COIN_TRY: _EVM_FEE_LEVELS,
    COIN_TRI: _EVM_FEE_LEVELS,
}

DEFAULT_FEE_LEVEL = "normal"
