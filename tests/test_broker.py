"""The embedded broker (ismit.config.broker): a message is never taken before it is whole."""

from __future__ import annotations

import threading

from kombu import Connection

from ismit.config.broker import Transport

BIG = "x" * 400_000  # written in several system calls: a reader can come in between
COUNT = 300


def _connection(folder) -> Connection:
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "polling_interval": 0.001}
    return Connection("filesystem://localhost/", transport=Transport, transport_options=options)


def test_a_consumer_polling_while_messages_are_written_receives_each_one_whole(tmp_path):
    received: list[int] = []
    failures: list[str] = []
    done = threading.Event()

    def consume() -> None:
        with _connection(tmp_path) as conn:
            queue = conn.SimpleQueue("race")
            while len(received) + len(failures) < COUNT:
                try:
                    message = queue.get(block=False)
                except queue.Empty:
                    if done.is_set() and not any(tmp_path.glob("*.race.msg")):
                        break
                    continue
                except Exception as exc:  # an empty or truncated file does not decode
                    failures.append(repr(exc))
                    continue
                payload = message.payload
                if payload.get("body") != BIG:
                    failures.append(f"message {payload.get('n')} truncated")
                received.append(payload["n"])
                message.ack()

    consumer = threading.Thread(target=consume)
    consumer.start()
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("race")
        for n in range(COUNT):
            queue.put({"n": n, "body": BIG})
    done.set()
    consumer.join(60)
    assert failures == []
    assert sorted(received) == list(range(COUNT))
    assert not list(tmp_path.glob(".partial-*"))
