"""The relay against the real RabbitMQ (ADR 34): at least once, in log order, no gap, whatever fails in between.

Each test publishes to an exchange of its own, with a durable queue bound to every routing key, and deletes both
afterwards. The faults: the relay process SIGKILLed mid-batch, its connection closed by the broker mid-batch, and
the broker refusing messages for a while (a queue at its length limit with `reject-publish`, by policy).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pika
import psycopg
import pytest

from projections.published.relay import Relay, position
from projections.published.stream import Cursor, Item, read
from tests.market import Market

ROOT = Path(__file__).resolve().parent.parent
BROKER_URL = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
SOURCE = "urn:uk:gov:justice:probation-ledger"

pytestmark = pytest.mark.faults


def _broker_reachable() -> bool:
    try:
        pika.BlockingConnection(pika.URLParameters(BROKER_URL)).close()
    except pika.exceptions.AMQPError:
        return False
    return True


def rabbitmqctl(*args: str) -> str:
    return subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, text=True, check=True).stdout


def until(condition: Callable[[], Any], what: str, *, limit: float = 60.0) -> Any:
    """Wait for a condition (polling); the limit only stops a broken test from hanging."""
    deadline = time.monotonic() + limit
    while not (value := condition()):
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)
    return value


class Queue:
    """A durable queue bound to every message of one exchange, read back with basic_get."""

    def __init__(self) -> None:
        self.exchange = f"test-relay-{uuid.uuid4().hex[:12]}"
        self.name = f"{self.exchange}.all"
        self.connection = pika.BlockingConnection(pika.URLParameters(BROKER_URL))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        self.channel.queue_declare(self.name, durable=True)
        self.channel.queue_bind(self.name, self.exchange, routing_key="#")

    def depth(self) -> int:
        return self.channel.queue_declare(self.name, durable=True, passive=True).method.message_count

    def drain(self) -> list[tuple[Any, dict[str, Any]]]:
        taken = []
        while True:
            method, properties, body = self.channel.basic_get(self.name, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, json.loads(body)))

    def delete(self) -> None:
        self.channel.queue_delete(self.name)
        self.channel.exchange_delete(self.exchange)
        self.connection.close()


@pytest.fixture
def queue() -> Iterator[Queue]:
    if not _broker_reachable():
        pytest.skip(f"no RabbitMQ at {BROKER_URL}")
    q = Queue()
    yield q
    with contextlib.suppress(subprocess.CalledProcessError):  # a test that lifted its policy already
        rabbitmqctl("clear_policy", q.name)
    q.delete()


def refuse_beyond(queue: Queue, length: int) -> None:
    """The broker refuses (nacks) every message once the queue holds `length`."""
    definition = json.dumps({"max-length": length, "overflow": "reject-publish"})
    rabbitmqctl("set_policy", queue.name, f"^{queue.name}$", definition, "--apply-to", "queues", "--priority", "10")


@pytest.fixture(scope="module")
def history(market: Market) -> Market:
    """A contract through a whole competition, a checkpoint, referrals: well over a hundred messages."""
    contract, _ = market.contract()
    assert market.client.simulate_post(
        "/audit/checkpoints", headers=market.headers("auditor", "hmpps-audit")
    ).status_code in (200, 201)
    for _ in range(3):
        market.referral(contract)
    return market


def expected(url: str) -> list[Item]:
    with psycopg.connect(url, autocommit=True) as conn:
        return read(conn, Cursor(), 100_000, source=SOURCE).items


def relay_at(url: str, exchange: str) -> Cursor | None:
    with psycopg.connect(url, autocommit=True) as conn:
        return position(conn, exchange)


def assert_delivered(received: list[tuple[Any, dict[str, Any]]], items: list[Item]) -> None:
    """Every message there, the first copy of each in log order (so in order per aggregate), and any repeat a
    repeat of the same `id` and the same message."""
    first: dict[str, dict[str, Any]] = {}
    order = []
    for properties, message in received:
        assert properties.delivery_mode == 2 and properties.content_type == "application/cloudevents+json"
        assert properties.message_id == message["id"] and properties.type == message["type"]
        if message["id"] in first:
            assert first[message["id"]] == message  # a repeat is the same message
        else:
            first[message["id"]] = message
            order.append(message["id"])
    assert order == [item.id for item in items]  # no gap, nothing extra, in log order
    assert [first[i.id] for i in items] == [json.loads(i.body) for i in items]
    per_subject: dict[str, list[int]] = {}
    for message in (first[i] for i in order):
        per_subject.setdefault(message["subject"], []).append(message["position"])
    assert all(p == sorted(p) for p in per_subject.values())


def test_the_relay_publishes_every_message_persistent_and_routed_by_type(history: Market, queue: Queue) -> None:
    url = history.url
    items = expected(url)
    relay = Relay(url, BROKER_URL, exchange=queue.exchange, source=SOURCE, batch_size=50)
    try:
        assert relay.catch_up() == len(items)
        assert relay.catch_up() == 0  # caught up: nothing published twice
    finally:
        relay.close()
    received = queue.drain()
    assert len(received) == len(items)
    assert_delivered(received, items)
    assert relay_at(url, queue.exchange) >= items[-1].cursor
    types = {message["type"] for _, message in received}
    assert "uk.gov.justice.probation-ledger.audit.checkpoint-signed.v1" in types
    assert "uk.gov.justice.probation-ledger.referral.referral-made.v1" in types


def test_a_consumer_binds_to_the_types_it_wants(history: Market, queue: Queue) -> None:
    referrals = f"{queue.exchange}.referrals"
    queue.channel.queue_declare(referrals, durable=True)
    queue.channel.queue_bind(referrals, queue.exchange, routing_key="uk.gov.justice.probation-ledger.referral.#")
    relay = Relay(history.url, BROKER_URL, exchange=queue.exchange, source=SOURCE)
    try:
        relay.catch_up()
    finally:
        relay.close()
    taken = []
    while (got := queue.channel.basic_get(referrals, auto_ack=True))[0] is not None:
        taken.append(json.loads(got[2]))
    queue.channel.queue_delete(referrals)
    assert len(taken) == 3 and all(".referral.referral-made." in m["type"] for m in taken)


def test_a_relay_killed_mid_batch_publishes_the_batch_again_and_nothing_is_lost(history: Market, queue: Queue) -> None:
    url = history.url
    items = expected(url)
    refuse_beyond(queue, 20)  # holds the relay mid-batch: 20 confirmed, the 21st refused
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "BROKER_URL": BROKER_URL,
        "BROKER_EXCHANGE": queue.exchange,
        "RELAY_BATCH_SIZE": "1000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "relay"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        until(lambda: queue.depth() == 20, "the relay to publish into the full queue")
        assert relay_at(url, queue.exchange) == Cursor()  # mid-batch: nothing of it recorded as published
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    rabbitmqctl("clear_policy", queue.name)
    relay = Relay(url, BROKER_URL, exchange=queue.exchange, source=SOURCE)
    try:
        relay.catch_up()
    finally:
        relay.close()
    received = queue.drain()
    assert len(received) == len(items) + 20  # the first 20 twice, with the same ids
    assert_delivered(received, items)


def test_a_connection_dropped_mid_batch_is_reopened_and_the_batch_published_again(
    history: Market, queue: Queue
) -> None:
    url = history.url
    items = expected(url)
    held, go_on = threading.Event(), threading.Event()
    published: list[str] = []

    def hold_at_the_tenth(item: Item) -> None:
        published.append(item.id)
        if len(published) == 10:
            held.set()
            go_on.wait()

    relay = Relay(
        url, BROKER_URL, exchange=queue.exchange, source=SOURCE, retry_seconds=0.05, on_publish=hold_at_the_tenth
    )
    thread = threading.Thread(target=relay.run_forever, kwargs={"poll_seconds": 0.1}, daemon=True)
    thread.start()
    try:
        until(held.is_set, "the relay to be mid-batch")
        name = f"ledger relay {queue.exchange} {os.getpid()}"
        rows = [line.split("\t") for line in rabbitmqctl("list_connections", "pid", "client_properties").splitlines()]
        [connection] = [row[0] for row in rows if len(row) > 1 and name in row[1]]
        rabbitmqctl("close_connection", connection, "test: the relay's connection dropped")
        go_on.set()
        until(lambda: (relay_at(url, queue.exchange) or Cursor()) >= items[-1].cursor, "the relay to catch up")
    finally:
        go_on.set()
        relay.stop()
        thread.join(timeout=30)
    received = queue.drain()
    assert len(received) > len(items)  # the batch was published again after the drop
    assert_delivered(received, items)


def test_a_broker_refusing_for_a_while_delays_the_messages_but_loses_none(history: Market, queue: Queue) -> None:
    url = history.url
    items = expected(url)
    refuse_beyond(queue, 5)
    relay = Relay(url, BROKER_URL, exchange=queue.exchange, source=SOURCE, retry_seconds=0.05, max_retry_seconds=0.2)
    thread = threading.Thread(target=relay.run_forever, kwargs={"poll_seconds": 0.1}, daemon=True)
    thread.start()
    try:
        until(lambda: queue.depth() == 5, "the queue to fill")
        attempts = [relay_at(url, queue.exchange) for _ in range(3)]
        assert attempts == [Cursor()] * 3  # refused: the relay stays where it was
        rabbitmqctl("clear_policy", queue.name)
        until(lambda: (relay_at(url, queue.exchange) or Cursor()) >= items[-1].cursor, "the relay to catch up")
    finally:
        relay.stop()
        thread.join(timeout=30)
    received = queue.drain()
    assert_delivered(received, items)


def test_the_relay_s_lag_is_on_readiness(history: Market, queue: Queue) -> None:
    def ready() -> dict[str, Any]:
        return history.client.simulate_get("/health/ready").json

    assert ready()["relay_lag"] is None  # the settings' exchange: no relay has run for it
    settings_exchange = history.app.services.settings.broker_exchange
    relay = Relay(history.url, BROKER_URL, exchange=settings_exchange, source=SOURCE, batch_size=10)
    try:
        relay.step()
        behind = ready()["relay_lag"]
        assert behind["events"] > 0 and behind["seconds"] >= 0
        relay.catch_up()
        assert ready()["relay_lag"] == {"events": 0, "seconds": 0.0}
    finally:
        relay.close()
        with pika.BlockingConnection(pika.URLParameters(BROKER_URL)) as connection:
            connection.channel().exchange_delete(settings_exchange)
