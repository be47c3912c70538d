"""Messages the console's workers post: the database opened or failed, changes arrived."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message

from cc_tui.errors import CcError

if TYPE_CHECKING:
    from cc_tui.console.calls import Connection
    from cc_tui.db.changes import ChangeInfo


@dataclass(frozen=True)
class ChangeBatch:
    """Changes committed by anyone since the last batch, oldest first."""

    changes: Sequence[ChangeInfo]

    @property
    def incident_ids(self) -> set[int]:
        return {c.incident_id for c in self.changes if c.incident_id is not None}

    def touches(self, *entities: str) -> bool:
        """True if any change is about one of these entities (e.g. "incident")."""
        return any(c.entity in entities for c in self.changes)


class ChangesArrived(Message):
    """Posted to the app by the change-feed worker; the app republishes it on
    `changes_signal` so every open screen can react."""

    def __init__(self, batch: ChangeBatch) -> None:
        super().__init__()
        self.batch = batch


class StartScreenShown(Message):
    """The start mode's screen has been painted (after the console's first frame)."""


class DatabaseReady(Message):
    """The database is open and the agent is known."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection


class DatabaseFailed(Message):
    """The database could not be opened, or the agent is not allowed in."""

    def __init__(self, error: CcError) -> None:
        super().__init__()
        self.error = error
