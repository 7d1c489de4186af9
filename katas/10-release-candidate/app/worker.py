"""The confirmation worker: every placed order gets its confirmation mail, once.

It runs beside the web app (`python -m app.worker`), a batch every few seconds. A batch claims the
placed orders first, in a transaction of its own, so a second worker started by a deploy never
mails them again; then it mails each customer and writes the mail log, in another transaction, so
a mail provider that hangs never holds the claim's locks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.mail import MemoryOutbox, Message, Outbox
from app.models import Notification, Order
from app.repositories.orders import OrderRepository

logger = logging.getLogger(__name__)


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d} EUR"


def confirmation(order: Order) -> Message:
    """The mail a customer gets for a placed order: its number, each line, the total."""
    subject = f"Your order {order.number} is confirmed"
    rows = [f"  {line.quantity} x {line.product.name} at {money(line.unit_price_cents)}" for line in order.lines]
    total = sum(line.quantity * line.unit_price_cents for line in order.lines)
    return Message(
        to=order.customer.email,
        subject=subject,
        body="\n".join([f"Hello {order.customer.name},", "", *rows, "", f"Total: {money(total)}"]),
    )


class ConfirmationWorker:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], outbox: Outbox) -> None:
        self.sessions = sessions
        self.outbox = outbox

    async def run_once(self) -> int:
        """One batch: claim the placed orders, then mail each customer. Returns how many were confirmed."""
        async with self.sessions() as session:
            orders = await OrderRepository(session).to_confirm()
            if not orders:
                return 0
            claimed = [order.id for order in orders]
            # One UPDATE for the batch, guarded by the status: an order another worker claimed meanwhile stays its.
            await session.execute(
                update(Order).where(Order.id.in_(claimed), Order.status == "placed").values(status="confirmed")
            )
            await session.commit()  # the claim: from here no other worker picks these orders
            await self.notify(orders)
        logger.info("confirmed %d orders", len(orders))
        return len(orders)

    async def notify(self, orders: Sequence[Order]) -> None:
        """Mail each order's customer, and log each mail, in a session of its own."""
        async with self.sessions() as session:
            log = []
            for order in orders:
                message = confirmation(order)
                await self.outbox.send(message)
                log.append(
                    {"order_id": order.id, "kind": "confirmation", "email": message.to, "subject": message.subject}
                )
            await session.execute(insert(Notification), log)  # one INSERT for the batch
            await session.commit()


async def main(interval: float = 5.0) -> None:  # pragma: no cover - the process, not the batch
    from app.db import get_sessionmaker

    worker = ConfirmationWorker(get_sessionmaker(), MemoryOutbox())
    while True:
        await worker.run_once()
        await asyncio.sleep(interval)


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(main())
