"""Field values: where a value lives (``FieldContext``), the field format, blind indexes and the
normalising that goes before them.

Field format (version 1), all of it authenticated::

    0x01 | len(key_id) | key_id (ASCII) | nonce (12) | AES-256-GCM ciphertext + tag (16)

    AAD = domain label | header | organisation | table | column | row id (each length-prefixed)

Attachments (version 2) share the first bytes of the header (version, key id); see
``portal.crypto.keyring`` and ``portal.crypto.stream``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .keys import NONCE_LEN, TAG_LEN, DecryptionError, check_key_id, check_text, lp

FIELD_VERSION: Final = 1
STREAM_VERSION: Final = 2
_FIELD_DOMAIN: Final = b"portal.field.v1"
_FIELD_LABEL: Final = lp(_FIELD_DOMAIN)  # the AAD's first part, the same for every value
_KEY_ID_MAX: Final = 64  # check_key_id's longest id: a header is at most 2 + 64 bytes
_INDEX_DOMAIN: Final = b"portal.blind-index.v1"
_PURPOSE_RE: Final = re.compile(r"[a-z0-9_.-]{1,64}")
# HMAC-SHA256's block size and its inner and outer pads, as `hmac` makes them (RFC 2104).
_SHA256_BLOCK: Final = 64
_HMAC_IPAD: Final = bytes(x ^ 0x36 for x in range(256))
_HMAC_OPAD: Final = bytes(x ^ 0x5C for x in range(256))


def normalise_for_index(value: str) -> str:
    """Normalise text before blind indexing: NFKC, casefold, collapsed whitespace.

    NFKC is applied again after casefolding because casefolding can produce unnormalised
    sequences (the Unicode "NFKC_Casefold" recipe).
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    return " ".join(folded.split())


def fold_for_match(value: str) -> str:
    """`normalise_for_index`, then without accents: "Maisíe", "MAISIE" and "Maisi\u0301e" all
    fold to "maisie". For finding names in free text (R6 redaction, portal/services/chronology);
    the blind indexes keep `normalise_for_index` (folding accents there would need every stored
    index recomputed from the decrypted names)."""
    decomposed = unicodedata.normalize("NFKD", normalise_for_index(value))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", bare)


@dataclass(frozen=True, slots=True)
class FieldContext:
    """Where a value lives. Bound into the AAD so a copied value fails to decrypt.

    ``row_id`` is compared as text, so ``5`` and ``"5"`` are the same row.
    """

    org_id: str
    table: str
    column: str
    row_id: str | int

    def __post_init__(self) -> None:
        check_text("org_id", self.org_id)
        if not (isinstance(self.table, str) and isinstance(self.column, str)):
            check_text("table", self.table)  # (not text: refused before looking it up)
            check_text("column", self.column)
        _place(self.table, self.column)  # checks both
        if isinstance(self.row_id, bool) or not isinstance(self.row_id, str | int):
            raise ValueError("row_id must be a string or an integer")
        check_text("row_id", str(self.row_id))

    def encode(self) -> bytes:
        """Canonical, unambiguous encoding used in associated data."""
        return (lp(self.org_id.encode("utf-8")) + _place(self.table, self.column)
                + lp(str(self.row_id).encode("utf-8")))


@functools.lru_cache(maxsize=1024)
def _place(table: str, column: str) -> bytes:
    """A field's table and column, checked and length-prefixed as `FieldContext.encode` puts
    them in the AAD. Names from the code (a model's table and column, a few hundred at most),
    so worked out once per process, not for each value (issue 15: a child's file decrypts
    about 200 values a request). A name that fails its check is never kept."""
    check_text("table", table)
    check_text("column", column)
    return lp(table.encode("utf-8")) + lp(column.encode("utf-8"))


def header(version: int, key_id: str) -> bytes:
    kid = key_id.encode("ascii")
    return bytes((version, len(kid))) + kid


def parse_header(blob: bytes) -> tuple[int, str, int]:
    """Return (version, key id, offset after the header) without checking authenticity."""
    if len(blob) < 2:
        raise DecryptionError("encrypted value is too short")
    version, kid_len = blob[0], blob[1]
    if version not in (FIELD_VERSION, STREAM_VERSION):
        raise DecryptionError(f"unsupported encryption format version {version}")
    end = 2 + kid_len
    if len(blob) < end:
        raise DecryptionError("encrypted value is too short")
    try:
        key_id = blob[2:end].decode("ascii")
        check_key_id(key_id)
    except (UnicodeDecodeError, ValueError):
        raise DecryptionError("encrypted value has a malformed key id") from None
    return version, key_id, end


def key_id_of(blob: bytes) -> str:
    """The key id in a field value or attachment header (the first bytes are enough).

    Lets a CLI count which keys are still in use before dropping retired keys or shredding.
    Not authenticated: use it for bookkeeping, never for access decisions.
    """
    return parse_header(bytes(blob[: 2 + _KEY_ID_MAX]))[1]


def _field_aad(head: bytes, ctx: FieldContext) -> bytes:
    return _FIELD_LABEL + lp(head) + ctx.encode()


def seal_field(aead: AESGCM, key_id: str, ctx: FieldContext, data: bytes) -> bytes:
    """A field value of ``data`` under the data key ``aead`` (whose id is ``key_id``)."""
    head = header(FIELD_VERSION, key_id)
    nonce = os.urandom(NONCE_LEN)  # fresh per value; 2^32 values per key is far off
    return head + nonce + aead.encrypt(nonce, data, _field_aad(head, ctx))


def field_key_id(blob: bytes) -> str:
    """The key id of a field value, checking it is one (not yet its authenticity)."""
    return parse_field(blob, as_key_id_of=False).key_id


class SealedField(NamedTuple):
    """A field value whose header has been read once (``parse_field``): its bytes, its key id
    and where its nonce starts. Checked to be a field value, not yet authenticated."""

    blob: bytes
    key_id: str
    offset: int


def parse_field(blob: bytes, *, as_key_id_of: bool = True) -> SealedField:
    """Read a field value's header once, for everything a decryption asks of it (which key,
    where the nonce starts, the header in the AAD), checking it is a field value. Raises
    ``DecryptionError`` as ``key_id_of`` and then ``field_key_id`` would, in that order: a
    length byte longer than any key id is "too short" as ``key_id_of`` finds it (or, with
    ``as_key_id_of`` false, "malformed" as ``field_key_id`` alone finds it)."""
    blob = bytes(blob)
    version, key_id, offset = parse_header(blob[: 2 + _KEY_ID_MAX] if as_key_id_of else blob)
    if version != FIELD_VERSION:
        raise DecryptionError(f"not a field value (format version {version})")
    if len(blob) < offset + NONCE_LEN + TAG_LEN:
        raise DecryptionError("encrypted value is too short")
    return SealedField(blob, key_id, offset)


def open_field(aead: AESGCM, ctx: FieldContext, blob: bytes, offset: int | None = None) -> bytes:
    """The plaintext of a field value (``field_key_id`` first, to find ``aead``; ``offset``, the
    end of its header, when ``parse_field`` has read it already)."""
    if offset is None:
        offset = parse_header(blob)[2]
    nonce = blob[offset : offset + NONCE_LEN]
    try:
        return aead.decrypt(nonce, blob[offset + NONCE_LEN :], _field_aad(blob[:offset], ctx))
    except InvalidTag:
        raise DecryptionError(
            f"value for {ctx.table}.{ctx.column} row {ctx.row_id} of {ctx.org_id} "
            "failed authentication (tampered, or copied from elsewhere)"
        ) from None


def check_purpose(purpose: str) -> None:
    if not _PURPOSE_RE.fullmatch(purpose):
        raise ValueError("purpose must be 1-64 characters from a-z 0-9 _ . -")


def blind_indexer(index_key: bytes, org_id: str, purpose: str) -> Callable[[str], str]:
    """HMAC-SHA256 (hex) of values already passed through ``normalise_for_index``, keyed by the
    organisation's index key, its id and the purpose (so equal values in different columns do
    not match). An empty value is refused."""
    check_purpose(purpose)
    # HMAC (RFC 2104) as `hmac.new(index_key, prefix + lp(value), sha256)` computes it, its
    # two SHA-256 states keyed once and the prefix (domain, organisation, purpose) already in
    # the inner one: each value then costs two copies and two short updates (issue 15: the
    # child's file indexes about 1,100 runs of words a request, and `hmac`'s own copy and
    # digest cost 60% more). The same digests: tests/unit/test_blind_indexer.py.
    key = index_key if len(index_key) <= _SHA256_BLOCK else hashlib.sha256(index_key).digest()
    key = key.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(key.translate(_HMAC_IPAD))
    inner.update(lp(_INDEX_DOMAIN) + lp(org_id.encode("utf-8")) + lp(purpose.encode("ascii")))
    outer = hashlib.sha256(key.translate(_HMAC_OPAD))
    inner_copy, outer_copy = inner.copy, outer.copy

    def index(normalised: str) -> str:
        if not normalised:
            raise ValueError("cannot index an empty value")
        mac = inner_copy()
        mac.update(lp(normalised.encode("utf-8")))
        out = outer_copy()
        out.update(mac.digest())
        return out.hexdigest()

    return index
