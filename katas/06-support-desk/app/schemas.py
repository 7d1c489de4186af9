"""What the API answers. FastAPI builds each response from the ORM objects a route returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class FromORM(BaseModel):
    # Read field by field from the object's attributes (Pydantic's from_attributes).
    model_config = ConfigDict(from_attributes=True)


class AgentOut(FromORM):
    id: int
    name: str


class CustomerOut(FromORM):
    id: int
    name: str
    plan: str


class TicketSummary(FromORM):
    """A ticket as the queue and a customer's page list it."""

    id: int
    subject: str
    status: str
    opened_at: datetime
    customer: CustomerOut
    assignee: AgentOut | None


class ReplyOut(FromORM):
    id: int
    body: str
    sent_at: datetime
    author: AgentOut


class TicketDetail(TicketSummary):
    """A ticket's own page: the summary, the customer's description, and the whole thread."""

    description: str
    replies: list[ReplyOut]
