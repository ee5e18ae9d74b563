"""Output-script helpers the chain adapters need, from a library (embit).

* :func:`segwit_address`: the BIP173 (witness v0, bech32) / BIP350 (v1+,
  bech32m) address of a witness-program output script, for outputs that are
  not ours (BTC only; BCH has no segwit). python-bitcoinlib 0.12's
  ``segwit_addr`` predates bech32m, so embit encodes.
* :func:`decode_segwit_address`: the inverse, validated by embit per BIP173 and
  BIP350 (checksum, case, HRP, witness version ≤ 16, program 2-40 bytes, v0
  only 20/32 bytes, v0 must be bech32 and v1+ bech32m).
* :func:`descriptor_with_checksum`: an output descriptor with its 8-character
  checksum (Bitcoin Core's ``getdescriptorinfo``), so ``importdescriptors``
  needs no extra RPC per script.
"""

from __future__ import annotations

from typing import Optional

from embit import bech32
from embit.descriptor.checksum import add_checksum
from embit.descriptor.errors import DescriptorError

__all__ = ["segwit_address", "witness_program", "witness_script", "decode_segwit_address", "descriptor_with_checksum"]


def witness_program(script: bytes) -> Optional[tuple[int, bytes]]:
    """``(witness version, program)`` of a native segwit output script
    (``OP_n <2..40 bytes>``; v0 only with 20 or 32 bytes), else None."""
    if len(script) < 4 or len(script) > 42 or script[1] != len(script) - 2:
        return None
    if script[0] == 0:
        return (0, script[2:]) if len(script) in (22, 34) else None
    if 0x51 <= script[0] <= 0x60:
        return (script[0] - 0x50, script[2:])
    return None


def segwit_address(hrp: str, script_hex: str) -> Optional[str]:
    """Address of a witness-program output script (hex) with human-readable part
    ``hrp`` ("bc", "tb"); None when the script is not a witness program."""
    prog = witness_program(bytes.fromhex(script_hex)) if script_hex else None
    if prog is None:
        return None
    return bech32.encode(hrp, prog[0], prog[1])


def witness_script(version: int, program: bytes) -> bytes:
    """Output script ``OP_version <program>`` (``OP_0`` = 0x00, ``OP_1..OP_16`` = 0x51..0x60)."""
    return bytes([0 if version == 0 else 0x50 + version, len(program)]) + program


def decode_segwit_address(address: str) -> Optional[tuple[str, int, bytes]]:
    """``(hrp (lower-case), witness version, program)`` of a bech32/bech32m segwit
    address, or None when it is not one (bad checksum, mixed case, bech32 vs
    bech32m mismatch, bad version or program length: BIP173/BIP350, checked by
    embit). Upper-case addresses are valid (BIP173)."""
    if not isinstance(address, str) or "1" not in address:
        return None
    hrp = address[: address.rfind("1")].lower()
    if not hrp:
        return None
    try:
        version, program = bech32.decode(hrp, address)
    except (ValueError, TypeError, IndexError):
        return None
    if version is None or program is None:
        return None
    return hrp, version, bytes(program)


def descriptor_with_checksum(desc: str) -> str:
    """``desc#checksum`` (e.g. ``raw(0014…)#t687veyk``). Raises ValueError for a
    character a descriptor cannot hold."""
    try:
        return add_checksum(desc)
    except DescriptorError as e:
        raise ValueError(str(e)) from None
