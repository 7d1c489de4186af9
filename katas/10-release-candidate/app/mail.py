"""Outgoing mail. Production sends through the mail provider's API; tests keep what was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class Outbox(Protocol):
    async def send(self, message: Message) -> None: ...


@dataclass
class MemoryOutbox:
    """An outbox that keeps every message: the tests' and the local setup's."""

    sent: list[Message] = field(default_factory=list)

    async def send(self, message: Message) -> None:
        self.sent.append(message)
