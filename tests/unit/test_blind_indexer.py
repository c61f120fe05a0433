"""The blind indexes' HMAC (`crypto.fields.blind_indexer`, computed from two SHA-256 states for
speed, issue 15) gives exactly the digests of `hmac.new`, the standard library's HMAC-SHA256,
for any key, organisation, purpose and value: every stored index (children's names, UPNs,
search terms) must still be found."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from portal.crypto import fields
from portal.crypto.keys import lp

VALUES = ["a", "amira", "amira khan", "khan-smith", "o'neil", "o\u2019neil's", "maisíe",
          "李丽", "王", "Ζωή παπαδοπούλου", "محمد علی", "x" * 63, "y" * 64, "z" * 200,
          "mary jane van der berg-smith", "\u00e9\u0301", "🙂 emoji"]


def _reference(key: bytes, org: str, purpose: str, value: str) -> str:
    prefix = lp(b"portal.blind-index.v1") + lp(org.encode("utf-8")) + lp(purpose.encode())
    return hmac.new(key, prefix + lp(value.encode("utf-8")), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("key_len", [1, 16, 32, 63, 64, 65, 100, 200])
def test_the_same_digests_as_hmac_for_any_key_length(key_len: int) -> None:
    rng = random.Random(key_len)
    key = rng.randbytes(key_len)
    org = "0b6c9b8e-1111-2222-3333-444455556666"
    for purpose in ("child-name", "child-family-name", "upn", "a.b_c-9"):
        index = fields.blind_indexer(key, org, purpose)
        for value in VALUES:
            assert index(value) == _reference(key, org, purpose, value)


def test_the_same_digests_as_hmac_for_random_values() -> None:
    rng = random.Random(15)
    alphabet = "abcdefghijklmnopqrstuvwxyz -'\u2019éüçñ李王\u0396ωήمحمد0123456789"
    for _ in range(200):
        key = rng.randbytes(32)
        org = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        index = fields.blind_indexer(key, org, "child-name")
        for _ in range(5):
            value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 150)))
            assert index(value) == _reference(key, org, "child-name", value)


def test_each_purpose_and_org_its_own_index() -> None:
    key = bytes(range(32))
    a = fields.blind_indexer(key, "org-a", "child-name")("amira khan")
    assert a != fields.blind_indexer(key, "org-b", "child-name")("amira khan")
    assert a != fields.blind_indexer(key, "org-a", "child-family-name")("amira khan")
    assert a != fields.blind_indexer(bytes(32), "org-a", "child-name")("amira khan")


def test_an_empty_value_is_refused() -> None:
    with pytest.raises(ValueError):
        fields.blind_indexer(bytes(32), "org-a", "child-name")("")
