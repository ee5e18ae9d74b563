"""Chain constants (spec/api.md §8.2, §8.3). Amounts in satoshi (BTC/BCH) or wei (ETH/TRY)."""

MIN_OUTPUT_AMOUNT = 5000          # also the dust-change absorption threshold (§6.7)
DUST_AMOUNT = 546                 # bitcore Transaction.DUST_AMOUNT
MAX_TX_SIZE_IN_KB = 100
MAX_TX_FEE = 10_000_000           # 0.1 BTC: build sanity check (§6.8)
MIN_FEE_PER_KB = 0
MAX_FEE_PER_KB = 10_000_000
FEE_LEVELS_FALLBACK = 2

UTXO_SELECTION_MAX_SINGLE_UTXO_FACTOR = 2
UTXO_SELECTION_MIN_TX_AMOUNT_VS_UTXO_FACTOR = 0.1
UTXO_SELECTION_MAX_FEE_VS_TX_AMOUNT_FACTOR = 0.05
UTXO_SELECTION_MAX_FEE_VS_SINGLE_UTXO_FEE_FACTOR = 5

# name, nbBlocks, defaultValue (per kB; ETH/TRY: gas price in wei), multiplier (optional)
FEE_LEVELS = {
    "btc": [
        {"name": "urgent", "nbBlocks": 2, "defaultValue": 150000, "multiplier": 1.5},
        {"name": "priority", "nbBlocks": 2, "defaultValue": 100000},
        {"name": "normal", "nbBlocks": 3, "defaultValue": 80000},
        {"name": "economy", "nbBlocks": 6, "defaultValue": 50000},
        {"name": "superEconomy", "nbBlocks": 24, "defaultValue": 20000},
    ],
    "bch": [
        {"name": "normal", "nbBlocks": 2, "defaultValue": 2000},
    ],
    "eth": [
        {"name": "urgent", "nbBlocks": 1, "defaultValue": 40_000_000_000, "multiplier": 1.5},
        {"name": "priority", "nbBlocks": 2, "defaultValue": 10_000_000_000},
        {"name": "normal", "nbBlocks": 3, "defaultValue": 5_000_000_000},
        {"name": "economy", "nbBlocks": 6, "defaultValue": 4_000_000_000},
        {"name": "superEconomy", "nbBlocks": 24, "defaultValue": 2_000_000_000},
    ],
}
FEE_LEVELS["try"] = FEE_LEVELS["eth"]

UTXO_COINS = ("btc", "bch")
EVM_COINS = ("eth", "try")
