"""The signature check on raw Atoma bodies: what passes, every way to fail, and its settings.

Bodies are signed as a node signs them (``tests/support/signing.py``), with each of Sui's
three schemes, and chosen so that a verifier hashing a re-serialized JSON would fail:
Ryu's float forms, non-ASCII text, escaped quotes, and the server's (unsorted) key order.
"""

from __future__ import annotations

import base64
import json
import pickle
import subprocess
import sys
from hashlib import blake2b
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import atoma_integrations
from atoma_integrations import errors
from atoma_integrations._retries import retry_delay
from atoma_integrations._signatures import (
    VERIFY_EXTRA,
    SignatureVerifier,
    VerificationSettings,
    _load_key,
    build_verifier,
    normalize_sui_address,
    sui_address,
)
from atoma_integrations._streaming import SSEDecoder
from atoma_integrations.errors import AtomaError, ConfigurationError, SignatureVerificationError

# The lowest-versions environment installs the package without the [verify] extra.
pytest.importorskip("cryptography", reason="the [verify] extra (cryptography) is not installed")

from tests.support.signing import (
    SCHEMES,
    NodeKey,
    Scheme,
    serde_float,
    serde_json_text,
    sign_text,
    sign_value,
    sse_body,
)

# What a node sends, as text: vLLM-style key order (not sorted), Ryu floats that Python
# writes differently (0.00001 / 1e-05, 1e-7 / 1e-07, 1e16 / 1e+16), non-ASCII written raw,
# an escaped quote and backslash, and a control character as serde_json escapes it.
COMPLETION = (
    '{"id":"cmpl-7","object":"text_completion","created":1730000000,"model":"m",'
    '"choices":[{"index":0,"text":"Caf\u00e9 \\"d\u00e9j\u00e0\\" \\\\ \u65e5\u672c\\u001f",'
    '"logprobs":{"tokens":["Caf"],"token_logprobs":[0.00001],"top_logprobs":[{"Caf":1e-7}],'
    '"text_offset":[0]},"finish_reason":"length","stop_reason":null}],'
    '"usage":{"prompt_tokens":5,"total_tokens":21,"completion_tokens":16}}'
)
CHAT_CHUNK = (
    '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"m",'
    '"choices":[{"index":0,"delta":{"content":"\u00a1Hola! \\"\u2014\\""},'
    '"logprobs":{"content":[{"token":"\u00a1","logprob":-0.00001,"bytes":[194,161],'
    '"top_logprobs":[]}]},"finish_reason":null}],"usage":null}'
)
USAGE_CHUNK = (
    '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1730000000,"model":"m",'
    '"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}'
)
EMBEDDINGS = (
    '{"object":"list","data":[{"object":"embedding","index":0,'
    '"embedding":[0.00001,-1e-7,1e16,-0.0,0.1234567890123]}],'
    '"model":"e","usage":{"prompt_tokens":2,"total_tokens":2}}'
)
BODIES = {"completion": COMPLETION, "chat_chunk": CHAT_CHUNK, "embeddings": EMBEDDINGS}


@pytest.fixture(scope="module")
def keys() -> dict[Scheme, NodeKey]:
    return {scheme: NodeKey.generate(scheme) for scheme in SCHEMES}


@pytest.fixture(scope="module")
def verifier() -> SignatureVerifier:
    built = build_verifier(verify_signatures=True)
    assert built is not None
    return built


def _failure(verifier: SignatureVerifier, body: bytes, **kwargs: Any) -> SignatureVerificationError:
    with pytest.raises(SignatureVerificationError) as caught:
        verifier.verify(body, **kwargs)
    return caught.value


def _members(body: bytes) -> tuple[str, str]:
    parsed = json.loads(body)
    return parsed["signature"], parsed["response_hash"]


def _replace_member(body: bytes, name: str, value: str) -> bytes:
    old = _members(body)[0 if name == "signature" else 1]
    return body.replace(f'"{name}":"{old}"'.encode(), f'"{name}":"{value}"'.encode())


# The fixtures themselves: bodies the way a node writes them.


def test_the_fixture_bodies_are_what_serde_json_writes_and_python_does_not() -> None:
    for text in BODIES.values():
        assert serde_json_text(json.loads(text)) == text
        assert json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False) != text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-5, "0.00001"),
        (1.234e-5, "0.00001234"),
        (1e-7, "1e-7"),
        (-2.5e-10, "-2.5e-10"),
        (1e16, "1e16"),
        (1e15, "1000000000000000.0"),
        (1.5e300, "1.5e300"),
        (0.1, "0.1"),
        (12.0, "12.0"),
        (-0.0, "-0.0"),
    ],
)
def test_floats_are_written_in_ryus_layout(value: float, text: str) -> None:
    assert serde_float(value) == text


# What passes.


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("kind", sorted(BODIES))
def test_a_body_signed_by_a_node_returns_its_signer(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme, kind: str
) -> None:
    key = keys[scheme]
    body = sign_text(BODIES[kind], key)
    assert verifier.verify(body) == key.address
    # The body still parses, with the node's two members last.
    parsed = json.loads(body)
    assert list(parsed)[-2:] == ["signature", "response_hash"]
    assert base64.b64decode(parsed["signature"])[0] == key.flag


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_signer_is_the_sui_address_of_flag_and_public_key(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme
) -> None:
    key = keys[scheme]
    expected = "0x" + blake2b(bytes([key.flag]) + key.public_key, digest_size=32).hexdigest()
    assert sui_address(key.flag, key.public_key) == expected
    assert verifier.verify(sign_text(COMPLETION, key)) == expected
    assert len(expected) == 66


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_chunk_of_a_stream_verifies_as_the_decoder_hands_it_over(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme
) -> None:
    key = keys[scheme]
    chunks = [sign_text(CHAT_CHUNK, key), sign_text(CHAT_CHUNK, key), sign_text(USAGE_CHUNK, key)]
    stream = sse_body(chunks)
    decoder = SSEDecoder()
    payloads = [p for i in range(0, len(stream), 7) for p in decoder.feed(stream[i : i + 7])]
    assert payloads == chunks
    assert [verifier.verify(payload) for payload in payloads] == [key.address] * 3


def test_a_stream_from_one_node_loads_its_key_once(verifier: SignatureVerifier) -> None:
    key = NodeKey.generate("secp256k1")
    before = _load_key.cache_info()
    for _ in range(5):
        assert verifier.verify(sign_text(CHAT_CHUNK, key)) == key.address
    after = _load_key.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits == 4


def test_a_trusted_signer_passes(keys: dict[Scheme, NodeKey]) -> None:
    key = keys["ed25519"]
    trusted = build_verifier(trusted_signers=[keys["secp256r1"].address, key.address.upper()])
    assert trusted is not None
    assert trusted.verify(sign_text(COMPLETION, key)) == key.address


# Any JSON a node could send: any text (quotes, backslashes, control characters, U+2028,
# emoji), any float, nesting; each signed by one key, since only the text varies here.
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_PROPERTY_KEY = NodeKey.generate("ed25519")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.dictionaries(st.text(max_size=8), _JSON_VALUES, min_size=1, max_size=5))
def test_any_signed_json_verifies_and_any_changed_byte_before_the_members_fails(
    value: dict[str, Any],
) -> None:
    verifier = build_verifier(verify_signatures=True)
    assert verifier is not None
    body = sign_value(value, _PROPERTY_KEY)
    assert verifier.verify(body) == _PROPERTY_KEY.address
    cut = body.rindex(b',"signature":"')
    for position in {0, cut // 2, cut - 1}:
        changed = bytearray(body)
        changed[position] ^= 0x01
        with pytest.raises(SignatureVerificationError) as caught:
            verifier.verify(bytes(changed))
        assert caught.value.reason == "hash_mismatch"


# Every way to fail, each with its reason.


def test_a_re_serialized_body_fails_which_is_why_the_raw_bytes_are_hashed(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    body = sign_text(EMBEDDINGS, keys["ed25519"])
    python_text = json.dumps(json.loads(body), separators=(",", ":"), ensure_ascii=False)
    assert _failure(verifier, python_text.encode()).reason == "hash_mismatch"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_one_changed_byte_of_content_is_a_hash_mismatch(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme
) -> None:
    body = sign_text(COMPLETION, keys[scheme])
    tampered = body.replace(b'"finish_reason":"length"', b'"finish_reason":"lengtH"')
    assert tampered != body
    error = _failure(verifier, tampered)
    assert error.reason == "hash_mismatch"
    assert error.signer is None


def test_a_hash_from_another_body_is_a_hash_mismatch(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    key = keys["ed25519"]
    other_hash = _members(sign_text(CHAT_CHUNK, key))[1]
    body = _replace_member(sign_text(COMPLETION, key), "response_hash", other_hash)
    assert _failure(verifier, body).reason == "hash_mismatch"


def test_a_response_hash_that_is_not_base64_is_a_hash_mismatch(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    body = _replace_member(sign_text(COMPLETION, keys["ed25519"]), "response_hash", "not!b64")
    assert _failure(verifier, body).reason == "hash_mismatch"


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_signature_of_another_body_is_a_bad_signature(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme
) -> None:
    key = keys[scheme]
    other_signature = _members(sign_text(CHAT_CHUNK, key))[0]
    body = _replace_member(sign_text(COMPLETION, key), "signature", other_signature)
    error = _failure(verifier, body)
    assert error.reason == "bad_signature"
    assert "does not verify" in error.message


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_signature_by_another_key_under_this_public_key_is_a_bad_signature(
    verifier: SignatureVerifier, scheme: Scheme
) -> None:
    node, forger = NodeKey.generate(scheme), NodeKey.generate(scheme)
    text = COMPLETION.encode()
    digest = blake2b(text, digest_size=32).digest()
    forged = bytes([node.flag]) + forger.raw_signature(digest) + node.public_key
    body = _replace_member(sign_text(text, node), "signature", base64.b64encode(forged).decode())
    assert _failure(verifier, body).reason == "bad_signature"


def test_a_valid_signature_by_an_untrusted_key_is_an_untrusted_signer(
    keys: dict[Scheme, NodeKey],
) -> None:
    trusted = build_verifier(trusted_signers=[keys["ed25519"].address])
    assert trusted is not None
    other = keys["secp256k1"]
    error = _failure(trusted, sign_text(COMPLETION, other), request_id="req-9")
    assert error.reason == "untrusted_signer"
    assert error.signer == other.address
    assert other.address in error.message
    assert error.request_id == "req-9"


def test_a_high_s_secp256r1_signature_is_a_bad_signature(verifier: SignatureVerifier) -> None:
    key = NodeKey.generate("secp256r1")
    text = COMPLETION.encode()
    digest = blake2b(text, digest_size=32).digest()
    high = base64.b64encode(key.serialized_signature(digest, high_s=True)).decode()
    body = _replace_member(sign_text(text, key), "signature", high)
    assert _failure(verifier, body).reason == "bad_signature"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        (COMPLETION, 'no "signature" and no "response_hash" member'),
        (COMPLETION[:-1] + ',"response_hash":"AAAA"}', 'no "signature" member'),
        (COMPLETION[:-1] + ',"signature":"AAAA"}', 'no "response_hash" member'),
    ],
    ids=["neither", "no_signature", "no_hash"],
)
def test_a_missing_signature_or_hash_is_unsigned(
    verifier: SignatureVerifier, body: str, missing: str
) -> None:
    error = _failure(verifier, body.encode())
    assert error.reason == "unsigned"
    assert missing in error.message


@pytest.mark.parametrize("signature", ["AAA", "AA=A", "AAAA!AAA", "QUJD-_==", "AAAA\u00e9AAA"])
def test_a_signature_that_is_not_base64_is_a_bad_signature(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], signature: str
) -> None:
    body = _replace_member(sign_text(COMPLETION, keys["ed25519"]), "signature", signature)
    error = _failure(verifier, body)
    assert error.reason == "bad_signature"
    assert "not valid base64" in error.message


def test_an_empty_signature_is_a_bad_signature(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    body = _replace_member(sign_text(COMPLETION, keys["ed25519"]), "signature", "")
    assert _failure(verifier, body).reason == "bad_signature"


@pytest.mark.parametrize("flag", [0x03, 0x05, 0xFF])
def test_an_unknown_scheme_flag_is_an_unknown_scheme(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], flag: int
) -> None:
    body = sign_text(COMPLETION, keys["ed25519"])
    serialized = bytearray(base64.b64decode(_members(body)[0]))
    serialized[0] = flag
    body = _replace_member(body, "signature", base64.b64encode(serialized).decode())
    error = _failure(verifier, body)
    assert error.reason == "unknown_scheme"
    assert f"0x{flag:02x}" in error.message


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("change", [-1, +1, -33])
def test_a_signature_of_the_wrong_length_is_a_bad_signature(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme, change: int
) -> None:
    body = sign_text(COMPLETION, keys[scheme])
    serialized = base64.b64decode(_members(body)[0])
    resized = serialized[:change] if change < 0 else serialized + b"\x00"
    body = _replace_member(body, "signature", base64.b64encode(resized).decode())
    error = _failure(verifier, body)
    assert error.reason == "bad_signature"
    assert f"{len(resized)} bytes" in error.message


@pytest.mark.parametrize("scheme", ["secp256k1", "secp256r1"])
def test_a_public_key_that_is_not_a_curve_point_is_a_bad_signature(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], scheme: Scheme
) -> None:
    body = sign_text(COMPLETION, keys[scheme])
    serialized = bytearray(base64.b64decode(_members(body)[0]))
    serialized[65] = 0x05  # a compressed point starts with 0x02 or 0x03
    body = _replace_member(body, "signature", base64.b64encode(serialized).decode())
    error = _failure(verifier, body)
    assert error.reason == "bad_signature"
    assert "not a valid key" in error.message


def _moved_members(body: bytes) -> bytes:
    signature, response_hash = _members(body)
    members = f'"signature":"{signature}","response_hash":"{response_hash}",'
    text = COMPLETION
    return ("{" + members + text[1:]).encode()


def _swapped_members(body: bytes) -> bytes:
    signature, response_hash = _members(body)
    return (
        COMPLETION[:-1] + f',"response_hash":"{response_hash}","signature":"{signature}"}}'
    ).encode()


@pytest.mark.parametrize(
    "relayout",
    [
        _moved_members,
        _swapped_members,
        lambda body: body.replace(b',"signature":', b', "signature":'),
        lambda body: body.replace(b'"signature":"', b'"signature": "'),
        lambda body: body.replace(b'","response_hash"', b'", "response_hash"'),
        lambda body: body[:-1] + b" }",
        lambda body: body + b"\n",
        lambda body: body.replace(b'"signature":"', b'"signature":"\\u0041'),
    ],
    ids=[
        "members_first",
        "members_swapped",
        "space_before_signature",
        "space_after_colon",
        "space_before_hash",
        "space_before_brace",
        "trailing_newline",
        "escape_in_signature",
    ],
)
def test_members_elsewhere_or_spaced_are_a_layout_that_cannot_be_checked(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey], relayout: Any
) -> None:
    body = relayout(sign_text(COMPLETION, keys["ed25519"]))
    json.loads(body)  # still the same JSON to a parser
    error = _failure(verifier, body)
    assert error.reason == "unverifiable_layout"
    assert "cannot be recovered" in error.message


def test_a_signature_member_inside_the_content_does_not_pass_for_the_suffix(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    # The model wrote the members as text: escaped, so never taken for the real ones,
    # neither as the suffix nor as members that are present.
    key = keys["ed25519"]
    signed = sign_text(COMPLETION, key)
    quoted = json.dumps(signed[signed.index(b',"signature"') :].decode())[1:-1]
    text = COMPLETION.replace('"text":"', '"text":"' + quoted, 1)
    assert verifier.verify(sign_text(text, key)) == key.address
    assert _failure(verifier, text.encode()).reason == "unsigned"


# The error.


def test_messages_are_one_sentence_with_the_request_id_and_never_the_body(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    body = sign_text(COMPLETION, keys["ed25519"]).replace(b"Caf", b"Cab", 1)
    error = _failure(verifier, body, request_id="req-1")
    assert error.message == str(error)
    assert error.message.startswith("The response failed its signature check: ")
    assert error.message.endswith("[request id req-1]")
    assert "\n" not in error.message
    assert "Cab" not in error.message
    assert error.request_id == "req-1"
    assert isinstance(error, AtomaError)


def test_the_error_in_a_stream_carries_what_was_verified_before_it(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    error = _failure(verifier, CHAT_CHUNK.encode(), request_id="req-2")
    usage = object()
    streamed = error.in_stream(
        "chat completion", text="Hello", texts={0: "Hello"}, usage=usage, partial_message=None
    )
    assert isinstance(streamed, SignatureVerificationError)
    assert streamed.reason == "unsigned"
    assert streamed.message == (
        "The chat completion stream stopped at a chunk that failed its signature check: "
        f"{error.detail} (5 verified characters were delivered before it) [request id req-2]"
    )
    assert (streamed.text, streamed.texts, streamed.usage) == ("Hello", {0: "Hello"}, usage)
    assert streamed.request_id == "req-2"


def test_the_error_pickles_with_its_reason_and_what_it_carries() -> None:
    error = SignatureVerificationError(
        "m", reason="untrusted_signer", detail="d", request_id="r", signer="0xab", text="t"
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.reason, copy.detail, copy.request_id, copy.signer) == (
        "untrusted_signer",
        "d",
        "r",
        "0xab",
    )
    assert (copy.text, copy.texts, str(copy)) == ("t", {0: "t"}, "m")


def test_the_error_is_exported_and_never_retried() -> None:
    assert atoma_integrations.SignatureVerificationError is SignatureVerificationError
    assert "SignatureVerificationError" in errors.__all__
    error = SignatureVerificationError("m", reason="hash_mismatch", detail="d")
    assert retry_delay(0, error) is None


# The settings and the verifier they build.


def test_off_by_default_and_then_no_verifier() -> None:
    assert build_verifier() is None
    assert build_verifier(verify_signatures=False, trusted_signers=None) is None
    assert VerificationSettings().build() is None


def test_verify_signatures_alone_accepts_any_signer() -> None:
    built = build_verifier(verify_signatures=True)
    assert isinstance(built, SignatureVerifier)
    assert built.trusted_signers is None


def test_trusted_signers_turn_verification_on_normalized(keys: dict[Scheme, NodeKey]) -> None:
    address = keys["ed25519"].address
    settings = VerificationSettings(trusted_signers=[f"  {address.upper()} ", address[2:]])
    assert settings.verify_signatures is True
    assert settings.trusted_signers == (address,)
    built = settings.build()
    assert built is not None
    assert built.trusted_signers == frozenset({address})
    assert settings == VerificationSettings(True, [address])


def test_settings_and_verifier_survive_pickling(keys: dict[Scheme, NodeKey]) -> None:
    settings = VerificationSettings(trusted_signers=[keys["secp256k1"].address])
    assert pickle.loads(pickle.dumps(settings)) == settings
    built = settings.build()
    copy = pickle.loads(pickle.dumps(built))
    assert copy == built
    assert copy is not None
    body = sign_text(COMPLETION, keys["secp256k1"])
    assert copy.verify(body) == keys["secp256k1"].address


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"trusted_signers": ["0x1234"]}, "64 hex digits), got '0x1234'"),
        ({"trusted_signers": ["0x" + "g" * 64]}, "64 hex digits"),
        ({"trusted_signers": ["0x" + "a" * 65]}, "64 hex digits"),
        ({"trusted_signers": [12]}, "as strings, got 12"),
        ({"trusted_signers": "0x" + "a" * 64}, "not one string"),
        ({"trusted_signers": []}, "trusted_signers is empty"),
        ({"verify_signatures": "yes"}, "verify_signatures must be True or False"),
    ],
)
def test_bad_settings_are_configuration_errors(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        build_verifier(**settings)
    assert message in str(caught.value)


def test_normalize_sui_address() -> None:
    assert normalize_sui_address("0X" + "AB" * 32) == "0x" + "ab" * 32
    assert normalize_sui_address("ab" * 32) == "0x" + "ab" * 32


def test_asking_for_verification_without_cryptography_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m.startswith("cryptography")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.delitem(sys.modules, "atoma_integrations._signature_keys", raising=False)
    monkeypatch.setitem(sys.modules, "cryptography", None)  # an import of it fails
    with pytest.raises(ConfigurationError) as caught:
        build_verifier(verify_signatures=True)
    assert f"pip install '{VERIFY_EXTRA}'" in str(caught.value)
    assert build_verifier() is None  # off needs nothing


def test_cryptography_is_imported_only_when_a_verifier_is_built() -> None:
    code = (
        "import sys\n"
        "from atoma_integrations._signatures import build_verifier\n"
        "import atoma_integrations.errors\n"
        "build_verifier()\n"
        "print('cryptography' in sys.modules)\n"
        "build_verifier(verify_signatures=True)\n"
        "print('cryptography' in sys.modules)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.split() == ["False", "True"]


def test_sign_value_signs_what_serde_json_writes(
    verifier: SignatureVerifier, keys: dict[Scheme, NodeKey]
) -> None:
    key = keys["secp256r1"]
    body = sign_value(json.loads(EMBEDDINGS), key)
    assert body.startswith(EMBEDDINGS[:-1].encode())
    assert verifier.verify(body) == key.address
