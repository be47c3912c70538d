"""Files the program writes for a person (an attachment saved, articles exported): whole
or not at all, never half a file beside the old one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cc_tui.errors import RuleViolation, UsageError


def write_file_atomically(target: Path, content: bytes, *, overwrite: bool) -> None:
    """`content` in file `target`, all or nothing (a temporary file renamed into place).

    UsageError for a folder that does not exist or a path that is a folder; RuleViolation
    for an existing file without `overwrite`."""
    if target.is_dir():
        raise UsageError(f"{target} is a folder: give a file name", field="path")
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: no folder {folder}", field="path")
    if target.exists() and not overwrite:
        raise RuleViolation(f"{target} exists already", field="path")
    try:
        handle, temporary = tempfile.mkstemp(
            dir=folder, prefix=f".{target.name[:100]}.", suffix=".part"
        )
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}", field="path") from exc
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        if overwrite:
            os.replace(temporary, target)
        else:
            # A hard link never replaces a file that appeared meanwhile (a rename would).
            try:
                os.link(temporary, target)
            except FileExistsError as exc:
                raise RuleViolation(f"{target} exists already", field="path") from exc
            except OSError:  # a file system without hard links
                if target.exists():
                    raise RuleViolation(f"{target} exists already", field="path") from None
                os.replace(temporary, target)
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}", field="path") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
