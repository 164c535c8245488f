"""Fault knobs for tests and benchmarks: added latency, 429s with Retry-After, and 5xx.

They are off by default and only ever hit the chat API (paths under ``/api/``), never
``/oauth/``, ``/admin/`` or the OpenAPI description. Set them in-process with
``set_faults(app, ...)`` (or by assigning ``app.state.faults``) or over HTTP at ``/admin/faults``.
With a ``seed`` the sequence of injected faults is the same on every run; assigning new settings
restarts it.
"""

from __future__ import annotations

import asyncio
import collections
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

FAULTABLE_PREFIX = "/api/"


class Faults(BaseModel):
    """What to inject; each knob may be limited to paths starting with its ``*_path_prefix``."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: int = Field(default=0, ge=0, le=60_000, description="Delay added to each request.")
    latency_path_prefix: str | None = None
    rate_limit_fraction: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests → 429."
    )
    retry_after: int = Field(default=1, ge=0, le=3600, description="Retry-After seconds on a 429.")
    rate_limit_path_prefix: str | None = None
    server_error_fraction: float = Field(
        default=0.0, ge=0, le=1, description="Share of requests → 5xx."
    )
    server_error_status: int = Field(default=503, ge=500, le=599)
    server_error_path_prefix: str | None = None
    seed: int | None = Field(default=None, description="Makes the injected sequence repeatable.")


@dataclass(frozen=True)
class Decision:
    """What happens to one request."""

    latency_ms: int = 0
    status: int | None = None
    retry_after: int | None = None


def _applies(path: str, prefix: str | None) -> bool:
    return prefix is None or path.startswith(prefix)


class FaultInjector:
    """Draws decisions for requests; restarts its random sequence when the settings change."""

    def __init__(self) -> None:
        self._settings: Faults | None = None
        self._random = random.Random()  # noqa: S311 - fault injection, not cryptography

    def decide(self, faults: Faults, path: str) -> Decision:
        """The decision for a request to ``path`` under ``faults``."""
        if not path.startswith(FAULTABLE_PREFIX):
            return Decision()
        if faults is not self._settings:
            self._settings = faults
            self._random = random.Random(faults.seed)  # noqa: S311
        latency = faults.latency_ms if _applies(path, faults.latency_path_prefix) else 0
        if (
            faults.rate_limit_fraction
            and _applies(path, faults.rate_limit_path_prefix)
            and self._random.random() < faults.rate_limit_fraction
        ):
            return Decision(latency, 429, faults.retry_after)
        if (
            faults.server_error_fraction
            and _applies(path, faults.server_error_path_prefix)
            and self._random.random() < faults.server_error_fraction
        ):
            return Decision(latency, faults.server_error_status)
        return Decision(latency)


def set_faults(app: FastAPI, faults: Faults | None = None, **knobs: Any) -> Faults:
    """Replace the app's faults with ``faults`` or with ``Faults(**knobs)`` (none: all off)."""
    chosen = faults if faults is not None else Faults(**knobs)
    app.state.faults = chosen
    return chosen


def get_faults(app: FastAPI) -> Faults:
    """The faults the app injects now."""
    return cast(Faults, app.state.faults)


def install_faults(app: FastAPI, faults: Faults | None) -> None:
    """Hold ``faults`` in ``app.state`` and add the middleware that injects them."""
    app.state.faults = faults or Faults()
    # How many responses each fault replaced, by status: tests check retries really happened.
    app.state.fault_counts = collections.Counter()
    injector = FaultInjector()

    @app.middleware("http")
    async def inject_faults(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        decision = injector.decide(request.app.state.faults, request.url.path)
        if decision.latency_ms:
            await asyncio.sleep(decision.latency_ms / 1000)
        if decision.status is not None:
            request.app.state.fault_counts[decision.status] += 1
        if decision.status == 429:
            response: Response = JSONResponse(
                {"error": {"code": "rate_limited", "message": "slow down (injected fault)"}},
                status_code=429,
                headers={"Retry-After": str(decision.retry_after), "X-Sandbox-Fault": "429"},
            )
        elif decision.status is not None:
            response = JSONResponse(
                {"error": {"code": "server_error", "message": "injected server error"}},
                status_code=decision.status,
                headers={"X-Sandbox-Fault": str(decision.status)},
            )
        else:
            response = await call_next(request)
        if decision.latency_ms:
            response.headers["X-Sandbox-Latency-Ms"] = str(decision.latency_ms)
        return response
