"""AddressManager (docs/spec/api.md §5.2): the index bookkeeping of one address branch.

Wire / storage shape::

    {"version": 2, "derivationStrategy": "BIP44"|"BIP45",
     "receiveAddressIndex": int, "changeAddressIndex": int, "copayerIndex": int}

Paths: BIP44 ``m/<0|1>/<i>``; BIP45 ``m/<copayerIndex>/<0|1>/<i>`` (the shared
branch uses ``copayerIndex = BIP45_SHARED_INDEX = 2147483647``).
"""

from __future__ import annotations

from typing import Any

from . import constants as C
from .base import Model


class AddressManager(Model):
    """Index bookkeeping for one receive/change branch pair.

    Attributes: ``version`` (int 2), ``derivation_strategy`` (``"BIP44"`` |
    ``"BIP45"``), ``receive_address_index`` / ``change_address_index`` (int, next
    index to hand out), ``copayer_index`` (int).
    """

    FIELDS = (
        ("version", "version"),
        ("derivation_strategy", "derivationStrategy"),
        ("receive_address_index", "receiveAddressIndex"),
        ("change_address_index", "changeAddressIndex"),
        ("copayer_index", "copayerIndex"),
    )

    @classmethod
    def create(cls, derivation_strategy: str = C.BIP45, copayer_index: int | None = None) -> "AddressManager":
        """New manager at index 0/0.  ``copayer_index`` defaults to
        ``BIP45_SHARED_INDEX``."""
        derivation_strategy = derivation_strategy or C.BIP45
        if derivation_strategy not in C.DERIVATION_STRATEGIES:
            raise ValueError(f"invalid derivation strategy {derivation_strategy!r}")
        x = cls()
        x.version = 2
        x.derivation_strategy = derivation_strategy
        x.receive_address_index = 0
        x.change_address_index = 0
        x.copayer_index = (
            copayer_index
            if isinstance(copayer_index, int) and not isinstance(copayer_index, bool)
            else C.BIP45_SHARED_INDEX
        )
        return x

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AddressManager":
        """From a stored document; missing ``derivationStrategy`` -> BIP45."""
        x = super().from_dict(d)
        if not x.derivation_strategy:
            x.derivation_strategy = C.BIP45
        return x

    @staticmethod
    def supports_copayer_branches(derivation_strategy: str) -> bool:
        """Only BIP45 has per-copayer branches."""
        return derivation_strategy == C.BIP45

    # ---------------------------------------------------------------- indexes
    def get_current_index(self, is_change: bool) -> int:
        """Next index to be handed out on the branch (int)."""
        return self.change_address_index if is_change else self.receive_address_index

    def _increment_index(self, is_change: bool) -> None:
        if is_change:
            self.change_address_index += 1
        else:
            self.receive_address_index += 1

    def rewind_index(self, is_change: bool, step: int = 1, n: int | None = None) -> None:
        """Decrement the branch index by ``step`` (alias ``n``), floored at 0."""
        if n is not None:
            step = n
        if is_change:
            self.change_address_index = max(0, self.change_address_index - step)
        else:
            self.receive_address_index = max(0, self.receive_address_index - step)

    # ---------------------------------------------------------------- paths
    def _prefix(self) -> str:
        if self.derivation_strategy == C.BIP45:
            return f"m/{self.copayer_index}/"
        return "m/"

    def get_base_address_path(self, is_change: bool) -> str:
        """``m/[<copayerIndex>/]<0|1>/0`` -- key of the scan index cache."""
        return f"{self._prefix()}{1 if is_change else 0}/0"

    def get_current_address_path(self, is_change: bool) -> str:
        """``m/[<copayerIndex>/]<0|1>/<current index>``."""
        return f"{self._prefix()}{1 if is_change else 0}/{self.get_current_index(is_change)}"

    def get_new_address_path(self, is_change: bool) -> str:
        """Return the current path, then advance the branch index."""
        path = self.get_current_address_path(is_change)
        self._increment_index(is_change)
        return path


__all__ = ["AddressManager"]
