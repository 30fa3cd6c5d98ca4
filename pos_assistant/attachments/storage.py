"""Where photo bytes live: a storage interface, local files under var/ by default.

Files are kept outside the web root (web/static) under random keys and are only ever served
through an access check (web/attachments.py) or the staff tool. For several servers or object
storage, set ATTACHMENT_STORAGE to `module:Class` of a class with the same three methods (for
example one that puts objects into an S3/OSS bucket); docs/attachments.md says how.
"""

from __future__ import annotations

import importlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

_KEY = re.compile(r"[0-9a-f]{32}(\.thumb)?\.jpg")


class AttachmentStorage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def delete(self, key: str) -> None: ...


class LocalFileStorage:
    """One file per key in `root`, written atomically (temp file + rename), owner-readable only."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):  # keys are ours; never a path from outside
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def storage_from_setting(setting: str, default_root: Path) -> AttachmentStorage:
    """`local` (or empty): files under `default_root`; `module:Class`: that class, built with no
    arguments (it reads its own configuration)."""
    if setting in ("", "local"):
        return LocalFileStorage(default_root)
    module_name, _, class_name = setting.partition(":")
    storage_class = getattr(importlib.import_module(module_name), class_name)
    return storage_class()
