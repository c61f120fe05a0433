"""Encrypted, consistent backups (`flask backup`) and restoring them (`flask restore`).

What a backup holds
    Every table's rows as JSON lines (bytes base64, so ciphertext stays ciphertext; nothing is
    decrypted), the wrapped organisation keys (the ``org_keys`` rows, still wrapped), every
    attachment file as stored (already ciphertext), and a manifest: format version, schema
    revision, creation time, each table's row count and columns, and the SHA-256 of every part.

Consistency
    All rows are read in one database snapshot while the portal keeps serving: one REPEATABLE
    READ, READ ONLY transaction on PostgreSQL; one read transaction on SQLite (WAL lets writers
    carry on). Attachment files are write-once; a file re-encrypted by a key rotation after the
    snapshot would be under a key the snapshot lacks, so that is detected and the backup fails.

The file (format 1)::

    "PORTALBK" | 0x01 | len(master key id) | master key id | chunk size (4) | salt (16)
      | nonce prefix (7) | len(wrapped) (2) | wrapped file key | chunks...

    file key     = 32 random bytes, wrapped by the master key (AAD: "portal-backup-v1" + header)
    stream key   = HKDF-SHA256(file key, salt, info = "portal-backup-v1")
    each chunk   = AES-256-GCM(stream key, nonce = prefix | counter (4) | final flag (1),
                               AAD = header | counter | final flag)

    The wrap goes through the master key provider, so this works with a key service as well
    as a local key. A chunk opens only at its own position and the last one only as the last:
    truncation, reordering and extension are all detected. Without the master key the file
    reveals nothing but its length: not the table names, not the row counts.

Inside the encryption, a sequence of frames: kind (1) | len(name) (2) | name | len(data) (4) |
data. Kinds: ``T`` JSON lines of a table, ``F`` bytes of an attachment file, ``M`` the manifest
(last). A part is the concatenation of the data of its frames.

Restore reads the file twice: first to authenticate every chunk and check every part against the
manifest (nothing is touched if that fails), then to load. It refuses a database that holds any
row unless ``--force``.

One module per job: ``sealing`` (the container and the errors), ``frames``, ``rows`` (JSON lines,
the snapshot), ``writing`` (``write_backup``), ``restoring`` (``read_manifest``,
``restore_backup``), ``commands`` (``flask backup``, ``flask restore``).
"""

from __future__ import annotations

from .commands import backup_command, restore_command
from .restoring import RestoreSummary, read_manifest, restore_backup
from .sealing import BackupError, DamagedBackup, RestoredButUnverified, WrongMasterKey
from .writing import BackupSummary, write_backup

__all__ = [
    "BackupError",
    "BackupSummary",
    "DamagedBackup",
    "RestoreSummary",
    "RestoredButUnverified",
    "WrongMasterKey",
    "backup_command",
    "read_manifest",
    "restore_backup",
    "restore_command",
    "write_backup",
]
