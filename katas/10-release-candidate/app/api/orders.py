"""The shop's order routes: the back office's list, an order's page, placing and shipping."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Order
from app.repositories.orders import OrderRepository
from app.schemas import LineOut, OrderIn, OrderOut, ShipmentIn, ShipmentOut
from app.services.orders import NotShippable, OrderService, UnknownCustomer, UnknownOrder, UnknownProducts

router = APIRouter(prefix="/api/orders", tags=["orders"])

Status = Literal["placed", "confirmed", "shipped"]


def order_out(order: Order) -> OrderOut:
    """An order as the API shows it: the back office's list, an order's page, a placed order."""
    head = {"id": order.id, "number": order.number, "status": order.status, "placed_at": order.placed_at}
    lines = [
        LineOut(
            sku=line.product.sku,
            name=line.product.name,
            quantity=line.quantity,
            unit_price_cents=line.unit_price_cents,
        )
        for line in order.lines
    ]
    return OrderOut(
        **head,
        customer=order.customer.name,
        total_cents=sum(line.quantity * line.unit_price_cents for line in lines),
        lines=lines,
    )


@router.get("")
async def list_orders(status: Status = "placed", session: AsyncSession = Depends(get_session)) -> list[OrderOut]:
    """The back office's list: the warehouse screens poll it every few seconds."""
    return [order_out(order) for order in await OrderRepository(session).by_status(status)]


@router.get("/{order_id}")
async def get_order(order_id: int, session: AsyncSession = Depends(get_session)) -> OrderOut:
    order = await OrderRepository(session).get(order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="unknown order")
    return order_out(order)


@router.post("", status_code=201)
async def place_order(payload: OrderIn, session: AsyncSession = Depends(get_session)) -> OrderOut:
    try:
        order = await OrderService(session).place(payload.customer_id, payload.lines)
    except UnknownCustomer:
        raise HTTPException(status_code=404, detail="unknown customer") from None
    except UnknownProducts as unknown:
        raise HTTPException(status_code=422, detail=f"unknown products: {unknown}") from None
    return order_out(order)


@router.post("/{order_id}/shipment", status_code=201)
async def ship_order(order_id: int, payload: ShipmentIn, session: AsyncSession = Depends(get_session)) -> ShipmentOut:
    try:
        shipped = await OrderService(session).ship(order_id, payload.carrier)
    except UnknownOrder:
        raise HTTPException(status_code=404, detail="unknown order") from None
    except NotShippable as status:
        raise HTTPException(status_code=409, detail=f"the order is {status}, not confirmed") from None
    return ShipmentOut(
        order_id=shipped.order_id,
        number=shipped.number,
        carrier=shipped.carrier,
        tracking_code=shipped.tracking_code,
        shipped_at=shipped.shipped_at,
    )
