"""Sign bodies the way an Atoma node does, with any of Sui's three signature schemes.

A node parses the inference server's JSON into a ``serde_json::Value`` and signs the text
``value.to_string()`` gives: compact, keys in the server's order, non-ASCII as raw UTF-8,
only ``"``, ``\\`` and control characters escaped, and floats in Ryu's shortest form
(``0.00001``, ``1e-7``, ``1e16``, where Python writes ``1e-05``, ``1e-07``, ``1e+16``).
It hashes that text with BLAKE2b-256, signs the 32 digest bytes, and appends
``,"signature":"<S>","response_hash":"<R>"}`` in place of the closing brace.

:func:`serde_json_text` writes that text from a parsed value; :func:`sign_text` signs a text
as given (so a test can sign bodies a re-serializer would get wrong); :class:`NodeKey` is a
node key of one scheme. The local relay (``scripts/local_server/relay.py``) signs with the
same code.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass
from decimal import Decimal
from hashlib import blake2b
from typing import Any, Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = [
    "SCHEMES",
    "NodeKey",
    "Scheme",
    "serde_float",
    "serde_json_text",
    "sign_text",
    "sign_value",
    "sse_body",
]

Scheme = Literal["ed25519", "secp256k1", "secp256r1"]
SCHEMES: tuple[Scheme, ...] = ("ed25519", "secp256k1", "secp256r1")

_FLAGS: dict[Scheme, int] = {"ed25519": 0x00, "secp256k1": 0x01, "secp256r1": 0x02}
_CURVES: dict[Scheme, ec.EllipticCurve] = {
    "secp256k1": ec.SECP256K1(),
    "secp256r1": ec.SECP256R1(),
}
# Group orders: a Sui ECDSA signature carries the low s of the pair (s, n - s).
_ORDERS: dict[Scheme, int] = {
    "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
}
_I64_MIN, _U64_MAX = -(2**63), 2**64 - 1


def serde_float(value: float) -> str:
    """A finite float as serde_json writes it (Ryu's shortest digits, Ryu's layout)."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    # repr gives the shortest digits that round-trip, as Ryu does; only the layout differs.
    sign, digit_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple)).rstrip("0")
    exponent += len(digit_tuple) - len(digits)
    length, point = len(digits), len(digits) + exponent  # value = 0.<digits> * 10**point
    if exponent >= 0 and point <= 16:
        text = digits + "0" * exponent + ".0"
    elif 0 < point <= 16:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -5 < point <= 0:
        text = "0." + "0" * -point + digits
    elif length == 1:
        text = f"{digits}e{point - 1}"
    else:
        text = f"{digits[0]}.{digits[1:]}e{point - 1}"
    return "-" + text if sign else text


def serde_json_text(value: Any) -> str:
    """``value`` (parsed JSON) as ``serde_json::Value::to_string`` writes it."""
    if isinstance(value, str):
        # Python escapes the same characters as serde_json once ensure_ascii is off:
        # ", \\, \b \f \n \r \t, and other control characters as lowercase \\u00xx.
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        # serde_json holds integers as i64/u64; a larger one becomes an f64.
        return str(value) if _I64_MIN <= value <= _U64_MAX else serde_float(float(value))
    if isinstance(value, float):
        return serde_float(value)
    if isinstance(value, dict):
        members = ",".join(
            f"{serde_json_text(key)}:{serde_json_text(item)}" for key, item in value.items()
        )
        return "{" + members + "}"
    if isinstance(value, list):
        return "[" + ",".join(serde_json_text(item) for item in value) + "]"
    raise TypeError(f"not a JSON value: {value!r}")


@dataclass(frozen=True)
class NodeKey:
    """A node's signing key in one of Sui's schemes."""

    scheme: Scheme
    private_key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls, scheme: Scheme = "ed25519") -> NodeKey:
        """A fresh random key."""
        if scheme == "ed25519":
            return cls(scheme, ed25519.Ed25519PrivateKey.generate())
        return cls(scheme, ec.generate_private_key(_CURVES[scheme]))

    @property
    def flag(self) -> int:
        """Sui's scheme flag, the first byte of a serialized signature."""
        return _FLAGS[self.scheme]

    @property
    def public_key(self) -> bytes:
        """The raw public key: 32 bytes (Ed25519) or a 33-byte compressed point."""
        public = self.private_key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    @property
    def address(self) -> str:
        """The Sui address: ``0x`` + hex(BLAKE2b-256(flag || public key))."""
        return "0x" + blake2b(bytes((self.flag,)) + self.public_key, digest_size=32).hexdigest()

    def raw_signature(self, digest: bytes, *, high_s: bool = False) -> bytes:
        """The 64-byte signature of ``digest`` (``r || s`` for ECDSA, low s unless asked)."""
        key = self.private_key
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key.sign(digest)
        r, s = decode_dss_signature(key.sign(digest, ec.ECDSA(hashes.SHA256())))
        order = _ORDERS[self.scheme]
        if (s > order // 2) != high_s:
            s = order - s
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def serialized_signature(self, digest: bytes, *, high_s: bool = False) -> bytes:
        """Sui's serialized signature of ``digest``: ``flag || signature || public key``."""
        signature = self.raw_signature(digest, high_s=high_s)
        return bytes((self.flag,)) + signature + self.public_key


def sign_text(text: str | bytes, key: NodeKey) -> bytes:
    """``text`` (a JSON object's text) with the node's two members appended, signed by key."""
    body = text.encode() if isinstance(text, str) else text
    assert body.endswith(b"}"), "a node signs JSON objects"
    digest = blake2b(body, digest_size=32).digest()
    signature = base64.b64encode(key.serialized_signature(digest))
    response_hash = base64.b64encode(digest)
    return body[:-1] + b',"signature":"%s","response_hash":"%s"}' % (signature, response_hash)


def sign_value(value: Any, key: NodeKey) -> bytes:
    """``value`` serialized as the node does, then signed: what a client receives."""
    return sign_text(serde_json_text(value), key)


def sse_body(payloads: list[bytes], *, keep_alive: bool = True) -> bytes:
    """An Atoma stream body: each payload as a ``data:`` event, no ``[DONE]``."""
    comment = b": keep-alive\n\n" if keep_alive else b""
    return comment + b"".join(b"data: " + payload + b"\n\n" + comment for payload in payloads)
