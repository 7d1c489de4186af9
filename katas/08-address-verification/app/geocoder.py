"""The outside geocoding service: where an address is, and how sure the service is of it.

One lookup is one HTTPS request to the vendor and takes about 200 ms, whatever we do on our side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import httpx


@dataclass(frozen=True)
class Match:
    reference: str  # the vendor's id for this answer: quoted to them when a driver reports a wrong pin
    formatted: str
    latitude: float
    longitude: float
    confidence: float  # 0 to 1


class GeocoderUnavailable(Exception):
    """The vendor did not answer (a timeout, a 5xx): nothing is known about the address yet."""


class Geocoder(Protocol):
    async def lookup(self, query: str) -> Match: ...


class HttpGeocoder:
    def __init__(self, base_url: str, api_key: str, timeout: float = 2.0) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, headers={"X-Api-Key": api_key}, timeout=timeout)

    async def lookup(self, query: str) -> Match:
        try:
            response = await self.client.get("/v2/geocode", params={"q": query})
            response.raise_for_status()
        except (httpx.TransportError, httpx.HTTPStatusError) as error:
            raise GeocoderUnavailable(f"geocoder: {error}") from error
        best = response.json()["results"][0]
        return Match(
            reference=best["id"],
            formatted=best["formatted"],
            latitude=best["lat"],
            longitude=best["lon"],
            confidence=best["confidence"],
        )


@cache
def get_geocoder() -> Geocoder:
    """The vendor's client, built on first use (a FastAPI dependency)."""
    url = os.environ.get("GEOCODER_URL", "https://geocoder.example.com")
    return HttpGeocoder(url, os.environ.get("GEOCODER_KEY", ""))
