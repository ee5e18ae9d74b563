"""The fees aggregate: fee levels (docs/spec/api.md §4.18, §6.5, §8.3, §9.4,
docs/spec/api.md §10 Q5) and the fee rate a proposal uses (upstream bitcore-wallet-service
lib/server.js ``getFeeLevels`` / ``_getFeePerKb``).

EVM coins (eth, tri, try): gas prices in wei from the node, the static table
when it cannot answer.

Levels are sampled from the explorer's fee estimator (``estimate_fee([n])``
-> ``{n: BTC/kB or -1}``, parsed properly — the fork never parsed it, Q5) and
cached for 5 minutes in the ``cache`` collection: type ``feeLevels``,
walletId null, key ``JSON({coin, network})``, content ``{ts (ms), result}``.
An estimator failure answers the defaults (``nbBlocks: null``) and is not
cached, so the next call asks again.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Optional

from bws.chains.constants import EVM_FAMILY, UTXO_FAMILY
from bws.chains.feelevels import compute_fee_levels, sample_points, static_fee_levels
from bws.chains.rules import rules_for
from bws.crypto import js_json_stringify
from bws.errors import bad_request
from bws.jsnum import is_number
from bws.model import Wallet
from bws.model import constants as C

from .base import Aggregate, maybe_await
from .broadcasts import BroadcastMarks
from .context import Caller, Deps, State

log = logging.getLogger(__name__)

FEE_LEVELS_CACHE_TYPE = "feeLevels"


class Fees(Aggregate):
    """getFeeLevels and the fee rate of a proposal."""

    def __init__(self, deps: Deps, state: State, broadcasts: BroadcastMarks) -> None:
        super().__init__(deps, state, broadcasts)
        #: the fee-level source of each chain-rules family (bws/chains/rules.py)
        self._level_sources: dict[str, Callable[[str, str], Awaitable[list[dict]]]] = {
            UTXO_FAMILY: self._estimated_levels,
            EVM_FAMILY: self._node_levels,
        }

    async def get_fee_levels(self, caller: Caller, opts: Optional[dict] = None) -> list[dict]:
        """Fee levels ``[{level, feePerKb (int sat/kB, wei for eth/try), nbBlocks (int|null)}]``
        in FEE_LEVELS order (docs/spec/api.md §6.5).

        opts: ``{coin?: "btc", network?: "livenet"}``.  Errors: BADREQUEST
        "Invalid coin" / "Invalid network".  Explorer failures give the
        defaults with ``nbBlocks: null`` (never an error)."""
        opts = opts or {}
        coin = opts.get("coin") or C.DEFAULT_COIN
        network = opts.get("network") or C.DEFAULT_NETWORK
        if coin not in C.COINS:
            raise bad_request("Invalid coin")
        if network not in C.NETWORKS:
            raise bad_request("Invalid network")
        return await self._level_sources[rules_for(coin).family](coin, network)

    async def _node_levels(self, coin: str, network: str) -> list[dict]:
        """EVM coins: gas prices (wei) from the node
        (bws.adapters.explorers.web3.Web3Explorer.get_fee_levels), livenet only;
        without an explorer or when the node cannot answer: the reference's
        static table (docs/spec/api.md §9.4).  Not cached."""
        try:
            return await self._explorer_call(coin, network, "get_fee_levels")
        except Exception as e:  # noqa: BLE001 - like BTC: defaults, never an error
            log.warning("fee levels for %s failed: %r", coin, e)
            return static_fee_levels(coin)

    async def _estimated_levels(self, coin: str, network: str) -> list[dict]:
        """UTXO coins: the explorer's estimator sampled, cached 5 minutes (see
        the module doc); its failure answers the defaults, not cached."""
        key = js_json_stringify({"coin": coin, "network": network})
        now_ms = self.now_ms()
        cached = await self.storage.cache.get(None, FEE_LEVELS_CACHE_TYPE, key)
        if cached and isinstance(cached.get("ts"), (int, float)):
            if now_ms - cached["ts"] < C.FEE_LEVELS_CACHE_DURATION * 1000 and isinstance(cached.get("result"), list):
                return cached["result"]

        levels = C.FEE_LEVELS[coin]
        samples: Any = None
        try:
            ex = self._explorer(coin, network)
            samples = await maybe_await(ex.estimate_fee(sample_points(levels)))
            if not isinstance(samples, dict):
                raise ValueError(f"unexpected estimator answer {samples!r}")
        except Exception as e:
            log.warning("fee estimation for %s/%s failed: %r", coin, network, e)
            samples = None
        result = compute_fee_levels(levels, samples)
        if samples is not None:
            await self.storage.cache.set(None, FEE_LEVELS_CACHE_TYPE, key, {"ts": now_ms, "result": result})
        return result

    async def fee_per_kb(self, caller: Caller, wallet: Wallet, opts: dict) -> Any:
        """A numeric ``opts.feePerKb`` wins; else the rate of level
        ``opts.feeLevel`` of the wallet's coin/network.  BADREQUEST
        'Could not compute fee for "<lvl>" level' when unknown."""
        if is_number(opts.get("feePerKb")):
            return opts["feePerKb"]
        levels = await self.get_fee_levels(caller, {"coin": wallet.coin, "network": wallet.network})
        level = next((lv for lv in levels if lv.get("level") == opts.get("feeLevel")), None)
        if level is None:
            raise bad_request(f'Could not compute fee for "{opts.get("feeLevel")}" level')
        return level["feePerKb"]
