"""The public-key half of signature checks, on ``cryptography`` (the ``[verify]`` extra).

Imported only when a verifier is built (``atoma_integrations._signatures``), so a program
that does not check signatures never imports ``cryptography``, nor needs it installed.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from atoma_integrations._signatures import ED25519_FLAG, SECP256K1_FLAG, SECP256R1_FLAG

__all__ = ["PublicKey", "load_public_key"]

# Half the order of the P-256 group: Sui accepts a Secp256r1 signature only with a low s.
_P256_HALF_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551 // 2
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())


class PublicKey:
    """A node's public key, loaded once, with the Sui address it signs as."""

    __slots__ = ("address",)

    def __init__(self, address: str) -> None:
        self.address = address
        """``0x`` + 64 hex digits."""

    def verify(self, signature: bytes, digest: bytes) -> bool:
        """True when ``signature`` (64 bytes) is this key's signature of ``digest``."""
        raise NotImplementedError


class _Ed25519Key(PublicKey):
    __slots__ = ("_key",)

    def __init__(self, address: str, key: ed25519.Ed25519PublicKey) -> None:
        super().__init__(address)
        self._key = key

    def verify(self, signature: bytes, digest: bytes) -> bool:
        try:
            self._key.verify(signature, digest)
        except InvalidSignature:
            return False
        return True


class _EcdsaKey(PublicKey):
    """Secp256k1 or Secp256r1: ECDSA over SHA-256 of the digest, ``r || s`` on the wire."""

    __slots__ = ("_key", "_max_s")

    def __init__(self, address: str, key: ec.EllipticCurvePublicKey, max_s: int | None) -> None:
        super().__init__(address)
        self._key = key
        self._max_s = max_s

    def verify(self, signature: bytes, digest: bytes) -> bool:
        s = int.from_bytes(signature[32:], "big")
        if self._max_s is not None and s > self._max_s:
            return False
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), s)
        try:
            self._key.verify(der, digest, _ECDSA_SHA256)
        except InvalidSignature:
            return False
        return True


def load_public_key(flag: int, public_key: bytes, address: str) -> PublicKey:
    """The key for a known scheme flag; ValueError when the bytes are not such a key."""
    if flag == ED25519_FLAG:
        return _Ed25519Key(address, ed25519.Ed25519PublicKey.from_public_bytes(public_key))
    if flag == SECP256K1_FLAG:
        curve: ec.EllipticCurve = ec.SECP256K1()
        max_s = None
    elif flag == SECP256R1_FLAG:
        curve, max_s = ec.SECP256R1(), _P256_HALF_ORDER
    else:
        raise ValueError(f"unknown signature scheme flag 0x{flag:02x}")
    key = ec.EllipticCurvePublicKey.from_encoded_point(curve, public_key)
    return _EcdsaKey(address, key, max_s)
