"""The shared send budget: slots in priority order, groups apart, a reserve for urgent."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.limiter import Limiter, Window
from storage.models import Priority

PATIENT = 42
GROUP = -100123


def test_window_allows_the_limit_then_waits():
    w = Window(3, 1.0)
    for t in (0.0, 0.1, 0.2):
        assert w.wait_time(t) == 0
        w.release(w.take(), t)
    assert w.wait_time(0.3) == pytest.approx(0.7)
    assert w.wait_time(1.05) == 0


def test_window_counts_a_request_until_a_period_after_its_answer():
    w = Window(2, 1.0)
    slow = w.take()  # sent at 0.0, answered only at 0.5
    w.release(w.take(), 0.0)
    assert w.wait_time(0.4) != 0  # both slots held: one in flight, one answered at 0.0
    w.release(slow, 0.5)
    assert w.wait_time(1.2) == 0  # the fast one expired at 1.0
    w.release(w.take(), 1.2)
    assert w.wait_time(1.3) == pytest.approx(0.2)  # the slow one frees at 1.5, not 1.0
    assert w.wait_time(1.5) == 0


async def test_waiters_get_slots_by_priority_then_in_arrival_order():
    w = Window(1, 0.05)
    first = await w.acquire(Priority.REMINDER)
    order: list[str] = []

    async def want(name: str, priority: Priority) -> None:
        slot = await w.acquire(priority)
        order.append(name)
        w.release(slot)

    waiting = [
        asyncio.create_task(want("reminder 1", Priority.REMINDER)),
        asyncio.create_task(want("digest", Priority.DIGEST)),
        asyncio.create_task(want("reminder 2", Priority.REMINDER)),
        asyncio.create_task(want("answer", Priority.ANSWER)),
        asyncio.create_task(want("urgent", Priority.URGENT)),
    ]
    await asyncio.sleep(0)  # all of them queue behind the slot in use
    w.release(first)
    await asyncio.gather(*waiting)
    assert order == ["urgent", "answer", "reminder 1", "reminder 2", "digest"]


async def test_a_full_group_window_does_not_hold_up_a_private_chat():
    limiter = Limiter(per_second=100, per_group_per_minute=1)
    async with limiter.slot(GROUP, Priority.ANSWER):
        pass
    stuck = asyncio.create_task(_use(limiter, GROUP))  # waits a minute for the group's window
    await asyncio.wait_for(_use(limiter, PATIENT), timeout=1)
    assert not stuck.done()
    stuck.cancel()


async def _use(limiter: Limiter, chat_id: int) -> None:
    async with limiter.slot(chat_id, Priority.URGENT):
        pass


def test_bulk_traffic_leaves_the_reserved_slots_for_urgent_messages_and_answers():
    w = Window(limit=5, period=1.0, reserved=2)
    for _ in range(3):
        assert w.wait_time(0.0, Priority.REMINDER) == 0
        w.release(w.take(), 0.0)
    assert w.wait_time(0.1, Priority.REMINDER) == pytest.approx(0.9)  # bulk: full at 3
    assert w.wait_time(0.1, Priority.DIGEST) == pytest.approx(0.9)
    assert w.wait_time(0.1, Priority.URGENT) == 0  # the reserve is there for these
    assert w.wait_time(0.1, Priority.ANSWER) == 0
