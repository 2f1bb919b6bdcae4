"""Check the signature an Atoma node puts on every response and every stream chunk.

A node hashes the compact JSON text it sends (BLAKE2b-256), signs the 32 digest bytes with
its Sui key, and appends two members at the end of the object::

    <text without its closing "}">,"signature":"<S>","response_hash":"<R>"}

``R`` is the standard base64 of the digest; ``S`` the standard base64 of Sui's serialized
signature ``flag || signature || public key`` (flag 0x00 Ed25519, 0x01 Secp256k1, 0x02
Secp256r1; both ECDSA schemes sign SHA-256 of the digest). The signer is the Sui address
``0x`` + hex(BLAKE2b-256(flag || public key)).

:meth:`SignatureVerifier.verify` checks exactly that, on the raw bytes received: the signed
text is recovered by cutting the suffix off the raw body, never by re-serializing parsed JSON
(Python writes ``1e-05`` where the node wrote ``1e-5``, and may re-escape or reorder). It
finds the suffix from the end of the body without parsing JSON, because the caller parses
the body anyway to build its typed object.

The crypto comes from ``cryptography`` (the ``atoma-integrations[verify]`` extra), imported
only when a verifier is built, so verification that is off costs an import nothing and the
hot path one ``is None`` check.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from hashlib import blake2b
from typing import TYPE_CHECKING

from atoma_integrations.errors import (
    ConfigurationError,
    SignatureFailure,
    SignatureVerificationError,
)

if TYPE_CHECKING:
    from atoma_integrations._signature_keys import PublicKey

__all__ = [
    "ED25519_FLAG",
    "SECP256K1_FLAG",
    "SECP256R1_FLAG",
    "VERIFY_EXTRA",
    "SignatureVerifier",
    "VerificationSettings",
    "build_verifier",
    "normalize_sui_address",
    "sui_address",
]

VERIFY_EXTRA = "atoma-integrations[verify]"

# The members a node appends, found from the end of the raw body. Inside a JSON string
# every quote is escaped, so ',"signature":"' outside one is where the member starts; the
# two values may hold no quote and no backslash (base64 needs no escape, and serde_json
# writes none), so each is the whole JSON string as written: nothing to unescape.
_SUFFIX_START = b',"signature":"'
_SUFFIX = re.compile(rb',"signature":"([^"\\]*)","response_hash":"([^"\\]*)"\}')
_SIGNATURE_KEY = b'"signature":'
_HASH_KEY = b'"response_hash":'

_ADDRESS = re.compile(r"(?:0x)?([0-9a-f]{64})")

# Most keys seen at once (one per node that answered); bounds memory if a server sends
# a new key with every response.
_KEY_CACHE_SIZE = 128


@dataclass(frozen=True)
class _Scheme:
    """One of Sui's signature schemes, as its serialized signature lays it out."""

    name: str
    signature_size: int
    public_key_size: int

    @property
    def serialized_size(self) -> int:
        """flag + signature + public key."""
        return 1 + self.signature_size + self.public_key_size


# Sui's signature scheme flags, the first byte of a serialized signature.
ED25519_FLAG = 0x00
SECP256K1_FLAG = 0x01
SECP256R1_FLAG = 0x02
_SCHEMES: dict[int, _Scheme] = {
    ED25519_FLAG: _Scheme("Ed25519", 64, 32),
    SECP256K1_FLAG: _Scheme("Secp256k1", 64, 33),
    SECP256R1_FLAG: _Scheme("Secp256r1", 64, 33),
}


def sui_address(flag: int, public_key: bytes) -> str:
    """The Sui address of a public key: ``0x`` + hex(BLAKE2b-256(flag || public key))."""
    return "0x" + blake2b(bytes((flag,)) + public_key, digest_size=32).hexdigest()


def normalize_sui_address(address: str) -> str:
    """``address`` as ``0x`` + 64 lowercase hex digits; a ConfigurationError otherwise."""
    if not isinstance(address, str):
        raise ConfigurationError(
            f"trusted_signers must hold Sui addresses as strings, got {address!r}"
        )
    match = _ADDRESS.fullmatch(address.strip().lower())
    if match is None:
        raise ConfigurationError(
            "trusted_signers must hold Sui addresses (0x followed by 64 hex digits), "
            f"got {address!r}"
        )
    return "0x" + match[1]


@lru_cache(maxsize=_KEY_CACHE_SIZE)
def _load_key(flag: int, public_key: bytes) -> PublicKey:
    """The key object for (flag, public key bytes); ValueError when they are not a key.

    Cached: decompressing an elliptic-curve point is a good part of a verification's
    cost, and a stream signed by one node would pay it on every chunk.
    """
    from atoma_integrations._signature_keys import load_public_key

    return load_public_key(flag, public_key, sui_address(flag, public_key))


def _require_cryptography() -> None:
    try:
        import atoma_integrations._signature_keys  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "Checking signatures (verify_signatures, trusted_signers) needs the "
            f"'cryptography' package: pip install '{VERIFY_EXTRA}'"
        ) from exc


class SignatureVerifier:
    """Checks one raw response body or SSE ``data:`` payload and returns its signer.

    Stateless apart from the trusted addresses, so one verifier serves every request and
    thread of a client, and pickles with it.
    """

    __slots__ = ("_trusted",)

    def __init__(self, trusted_signers: Sequence[str] | None = None) -> None:
        """``trusted_signers``: Sui addresses; None accepts any valid signature."""
        _require_cryptography()
        self._trusted = _trusted_set(trusted_signers)

    @property
    def trusted_signers(self) -> frozenset[str] | None:
        """The normalized addresses accepted, or None for any signer."""
        return self._trusted

    def __repr__(self) -> str:
        trusted = "any" if self._trusted is None else sorted(self._trusted)
        return f"SignatureVerifier(trusted_signers={trusted})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SignatureVerifier) and other._trusted == self._trusted

    def __hash__(self) -> int:
        return hash(self._trusted)

    def __reduce__(self) -> tuple[type[SignatureVerifier], tuple[list[str] | None]]:
        trusted = None if self._trusted is None else sorted(self._trusted)
        return (SignatureVerifier, (trusted,))

    def verify(self, raw: bytes, request_id: str | None = None) -> str:
        """The Sui address that signed ``raw``, the body exactly as received.

        Raises :class:`~atoma_integrations.errors.SignatureVerificationError` (its message
        about "the response"; a stream turns it into its own with ``in_stream``).
        """
        start = raw.rfind(_SUFFIX_START)
        suffix = _SUFFIX.fullmatch(raw, start) if start >= 0 else None
        if suffix is None:
            raise _layout_failure(raw, request_id)
        hasher = blake2b(memoryview(raw)[:start], digest_size=32)
        hasher.update(b"}")
        digest = hasher.digest()
        if base64.b64encode(digest) != suffix[2]:
            raise _failure(
                "hash_mismatch",
                "the BLAKE2b-256 hash of its body does not match its response_hash, so the "
                "body is not the text the node signed",
                request_id,
            )
        try:
            serialized = base64.b64decode(suffix[1], validate=True)
        except binascii.Error:
            raise _failure(
                "bad_signature", "its signature is not valid base64", request_id
            ) from None
        if not serialized:
            raise _failure("bad_signature", "its signature is empty", request_id)
        scheme = _SCHEMES.get(serialized[0])
        if scheme is None:
            raise _failure(
                "unknown_scheme",
                f"its signature scheme flag 0x{serialized[0]:02x} is not Ed25519 (0x00), "
                "Secp256k1 (0x01) or Secp256r1 (0x02)",
                request_id,
            )
        if len(serialized) != scheme.serialized_size:
            raise _failure(
                "bad_signature",
                f"its {scheme.name} signature is {len(serialized)} bytes, not the "
                f"{scheme.serialized_size} of flag, signature and public key",
                request_id,
            )
        cut = 1 + scheme.signature_size
        try:
            key = _load_key(serialized[0], serialized[cut:])
        except ValueError:
            raise _failure(
                "bad_signature",
                f"the {scheme.name} public key in its signature is not a valid key",
                request_id,
            ) from None
        if not key.verify(serialized[1:cut], digest):
            raise _failure(
                "bad_signature",
                f"its {scheme.name} signature does not verify against the public key it "
                f"carries ({key.address})",
                request_id,
            )
        trusted = self._trusted
        if trusted is not None and key.address not in trusted:
            raise _failure(
                "untrusted_signer",
                f"it was signed by {key.address}, which is not in trusted_signers",
                request_id,
                signer=key.address,
            )
        return key.address


def _trusted_set(trusted_signers: Sequence[str] | None) -> frozenset[str] | None:
    if trusted_signers is None:
        return None
    if isinstance(trusted_signers, (str, bytes)):
        raise ConfigurationError(
            "trusted_signers must be a list of Sui addresses, not one string: "
            f"pass [{trusted_signers!r}]"
        )
    trusted = frozenset(normalize_sui_address(address) for address in trusted_signers)
    if not trusted:
        raise ConfigurationError(
            "trusted_signers is empty, so no response could pass; pass None to accept any "
            "valid signature"
        )
    return trusted


def _failure(
    reason: SignatureFailure, detail: str, request_id: str | None, *, signer: str | None = None
) -> SignatureVerificationError:
    message = f"The response failed its signature check: {detail}"
    if request_id:
        message += f" [request id {request_id}]"
    return SignatureVerificationError(
        message, reason=reason, detail=detail, request_id=request_id, signer=signer
    )


def _layout_failure(raw: bytes, request_id: str | None) -> SignatureVerificationError:
    """The suffix is not there: say whether the members are missing or misplaced."""
    # A quote inside a JSON string is always escaped, so '"signature":' (a quote right
    # before the colon) occurs only where signature is a key.
    missing = [
        name
        for name, key in (("signature", _SIGNATURE_KEY), ("response_hash", _HASH_KEY))
        if key not in raw
    ]
    if missing:
        members = " and ".join(f'no "{name}"' for name in missing)
        return _failure(
            "unsigned",
            f"it has {members} member, so no Atoma node signed it",
            request_id,
        )
    return _failure(
        "unverifiable_layout",
        'its "signature" and "response_hash" members are not the compact ending an Atoma '
        "node appends, so the signed text cannot be recovered from the body",
        request_id,
    )


@dataclass(frozen=True)
class VerificationSettings:
    """The two settings clients and adapters take; validated when built.

    ``trusted_signers`` set turns verification on: only those Sui addresses may sign.
    ``verify_signatures=True`` alone accepts any valid signature. Neither: off.
    """

    verify_signatures: bool = False
    trusted_signers: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.verify_signatures, bool):
            raise ConfigurationError(
                f"verify_signatures must be True or False, got {self.verify_signatures!r}"
            )
        trusted = _trusted_set(self.trusted_signers)
        if trusted is not None:
            # Stored sorted and normalized: equal settings compare and hash equal.
            object.__setattr__(self, "trusted_signers", tuple(sorted(trusted)))
            object.__setattr__(self, "verify_signatures", True)

    def build(self) -> SignatureVerifier | None:
        """The verifier these settings ask for, or None when verification is off."""
        if not self.verify_signatures:
            return None
        return SignatureVerifier(self.trusted_signers)


def build_verifier(
    verify_signatures: bool = False, trusted_signers: Sequence[str] | None = None
) -> SignatureVerifier | None:
    """The verifier for a client's two settings, or None when verification is off.

    Raises ConfigurationError for a malformed address, an empty ``trusted_signers``, or when
    verification is on and ``cryptography`` is not installed.
    """
    return VerificationSettings(verify_signatures, trusted_signers).build()
