"""Just enough AMQP 0-9-1 to ask RabbitMQ about one queue: a passive `queue.declare` returns its depth
(messages ready) and its consumer count without creating, changing or consuming anything.

No client library: the handshake is five frames each way (connection start/tune/open, channel open) and the
answer is one method frame. Every socket call has the connection's timeout."""

from __future__ import annotations

import contextlib
import socket
import struct
from dataclasses import dataclass

FRAME_METHOD, FRAME_HEADER, FRAME_BODY, FRAME_HEARTBEAT = 1, 2, 3, 8
FRAME_END = b"\xce"


class AmqpError(Exception):
    """The broker refused (with its reply code and text) or the connection failed."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class QueueState:
    name: str
    messages: int
    consumers: int


def _shortstr(text: str) -> bytes:
    data = text.encode()
    return struct.pack("B", len(data)) + data


def _longstr(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


class Connection:
    """One AMQP connection with channel 1 open."""

    def __init__(self, host: str, port: int, user: str, password: str, vhost: str, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self._buffer = b""
        try:
            self._handshake(user, password, vhost)
        except BaseException:
            self.sock.close()
            raise

    def close(self) -> None:
        try:
            self._method(0, 10, 50, struct.pack(">H", 200) + _shortstr("bye") + struct.pack(">HH", 0, 0))
        except OSError:
            pass
        finally:
            self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- frames --------------------------------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AmqpError("the broker closed the connection (wrong user/password or vhost?)")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _frame(self) -> tuple[int, int, bytes]:
        kind, channel, size = struct.unpack(">BHI", self._read(7))
        payload = self._read(size)
        if self._read(1) != FRAME_END:
            raise AmqpError("malformed frame from the broker: is this port an AMQP 0-9-1 listener?")
        return kind, channel, payload

    def _send(self, kind: int, channel: int, payload: bytes) -> None:
        self.sock.sendall(struct.pack(">BHI", kind, channel, len(payload)) + payload + FRAME_END)

    def _method(self, channel: int, class_id: int, method_id: int, arguments: bytes) -> None:
        self._send(FRAME_METHOD, channel, struct.pack(">HH", class_id, method_id) + arguments)

    def _expect(self, class_id: int, method_id: int) -> bytes:
        """The arguments of the next method frame, which must be (class_id, method_id)."""
        while True:
            kind, channel, payload = self._frame()
            if kind == FRAME_HEARTBEAT:
                continue
            got_class, got_method = struct.unpack(">HH", payload[:4])
            arguments = payload[4:]
            if (got_class, got_method) in ((10, 50), (20, 40)):  # connection.close / channel.close
                code = struct.unpack(">H", arguments[:2])[0]
                text = arguments[3 : 3 + arguments[2]].decode(errors="replace")
                closing = (10, 51) if got_class == 10 else (20, 41)
                with contextlib.suppress(OSError):
                    self._method(channel, *closing, b"")
                raise AmqpError(text, code)
            if (got_class, got_method) != (class_id, method_id):
                raise AmqpError(f"unexpected AMQP method {got_class}.{got_method} from the broker")
            return arguments

    def _handshake(self, user: str, password: str, vhost: str) -> None:
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        self._expect(10, 10)  # connection.start
        client = b""  # an empty client-properties table
        response = b"\x00" + user.encode() + b"\x00" + password.encode()
        self._method(
            0, 10, 11, _longstr(client) + _shortstr("PLAIN") + _longstr(response) + _shortstr("en_US")
        )
        tune = self._expect(10, 30)  # connection.tune
        channel_max, frame_max, _heartbeat = struct.unpack(">HIH", tune[:8])
        self._method(0, 10, 31, struct.pack(">HIH", channel_max, frame_max, 0))  # tune-ok, no heartbeats
        self._method(0, 10, 40, _shortstr(vhost) + _shortstr("") + b"\x00")  # connection.open
        self._expect(10, 41)
        self._method(1, 20, 10, _shortstr(""))  # channel.open
        self._expect(20, 11)

    # --- queues --------------------------------------------------------------------------------------

    def declare(self, queue: str, *, passive: bool) -> QueueState:
        """queue.declare: passive only asks (404 when the queue does not exist); otherwise creates it."""
        bits = 0x01 if passive else 0x02  # passive, or durable
        self._method(1, 50, 10, struct.pack(">H", 0) + _shortstr(queue) + bytes([bits]) + _longstr(b""))
        answer = self._expect(50, 11)
        length = answer[0]
        name = answer[1 : 1 + length].decode()
        messages, consumers = struct.unpack(">II", answer[1 + length : 9 + length])
        return QueueState(name, messages, consumers)

    def delete(self, queue: str) -> None:
        self._method(1, 50, 40, struct.pack(">H", 0) + _shortstr(queue) + b"\x00")
        self._expect(50, 41)

    def publish(self, queue: str, body: bytes) -> None:
        """basic.publish to the default exchange, routed to `queue` (for tests and demos)."""
        self._method(1, 60, 40, struct.pack(">H", 0) + _shortstr("") + _shortstr(queue) + b"\x00")
        self._send(FRAME_HEADER, 1, struct.pack(">HHQH", 60, 0, len(body), 0))
        self._send(FRAME_BODY, 1, body)


def queue_state(
    host: str, port: int, user: str, password: str, vhost: str, queue: str, timeout: float
) -> QueueState:
    """Depth and consumers of `queue`, by a passive declare (read-only)."""
    with Connection(host, port, user, password, vhost, timeout) as connection:
        return connection.declare(queue, passive=True)
