"""Encryption at rest: envelope keys, field encryption, blind indexes, encrypted attachments.

Pure Python on top of ``cryptography``; no Flask or SQLAlchemy, so it can be used by the web app,
the CLI and migrations alike, and tested on its own. One module per job:

``keys``
    The master key (``MasterKeyProvider``: a local key from a file or the environment, or a key
    service) wraps one data key and one blind-index key per organisation. Only wrapped keys are
    stored (``WrappedKeyStore``); rotating the master key re-wraps those and touches no records.
    Also the errors of the whole package.
``fields``
    Where a value lives (``FieldContext``), the field format (``parse_field`` reads a value's
    header once), blind indexes, ``key_id_of``.
``stream``
    The chunked AES-GCM format (STREAM), used by attachments and by backups.
``keyring``
    ``KeyRing``: the cache of unwrapped keys, and through it fields, indexes and attachments.

``from portal.crypto import X`` is the way in for everything below.
"""

from __future__ import annotations

from .fields import (
    FieldContext,
    SealedField,
    fold_for_match,
    key_id_of,
    normalise_for_index,
    parse_field,
)
from .keyring import DEFAULT_CHUNK_SIZE, KeyRing
from .keys import (
    DEPLOYMENT_ORG,
    MASTER_KEY_ENV,
    CryptoError,
    DecryptionError,
    InMemoryKeyStore,
    KeyNotFound,
    KeyPurpose,
    KeyShredded,
    KeyState,
    LocalMasterKey,
    MasterKeyInvalid,
    MasterKeyMissing,
    MasterKeyProvider,
    WrappedKey,
    WrappedKeyStore,
    load_master_key,
    new_master_key_b64,
)
from .stream import Readable, Writable

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DEPLOYMENT_ORG",
    "MASTER_KEY_ENV",
    "CryptoError",
    "DecryptionError",
    "FieldContext",
    "InMemoryKeyStore",
    "KeyNotFound",
    "KeyPurpose",
    "KeyRing",
    "KeyShredded",
    "KeyState",
    "LocalMasterKey",
    "MasterKeyInvalid",
    "MasterKeyMissing",
    "MasterKeyProvider",
    "Readable",
    "SealedField",
    "WrappedKey",
    "WrappedKeyStore",
    "Writable",
    "fold_for_match",
    "key_id_of",
    "load_master_key",
    "new_master_key_b64",
    "normalise_for_index",
    "parse_field",
]
