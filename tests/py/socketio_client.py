"""Drives PyPI python-socketio against the echo app of a Switchyard node.

Prints one JSON line of what it observed; the Rust tests assert on it.
Usage: python py/socketio_client.py '<json plan>'
plan: {"url": ..., "transports": [...]}
"""

import json
import queue
import sys

import socketio

PLAN = json.loads(sys.argv[1])
TIMEOUT = 10


def plain(value):
    """Bytes become {"bytes": [...]} so that the report is JSON."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": list(value)}
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def as_list(response):
    """An ack's arguments: python-socketio gives a tuple for several, a value for one."""
    if isinstance(response, tuple):
        return list(response)
    return [response]


def basics(report):
    events = queue.Queue()
    client = socketio.Client(reconnection=False)
    for namespace in ("/", "/custom"):
        client.on("auth", lambda data, ns=namespace: events.put(("auth", ns, data)), namespace=namespace)
    client.on("message-back", lambda *args: events.put(("message-back", "/", list(args))))
    client.on("ask", lambda *args: (*args, "answered", b"\x04\x02"))
    auth = {"token": "py", "list": [1, 2.5]}
    client.connect(PLAN["url"], auth=auth, transports=PLAN["transports"], namespaces=["/", "/custom"], wait_timeout=TIMEOUT)
    auths = {}
    while len(auths) < 2:
        _, namespace, data = events.get(timeout=TIMEOUT)
        auths[namespace] = data
    report["auth"] = auths

    args = [1, "two", {"b": {"c": [3, None, True]}, "a": -0.5}, [], "ünïcødé ✓"]
    client.emit("message", tuple(args))
    report["messageBack"] = events.get(timeout=TIMEOUT)[2]
    report["messageAck"] = as_list(client.call("message-with-ack", tuple(args), timeout=TIMEOUT))
    report["customEcho"] = as_list(client.call("echo", "custom", namespace="/custom", timeout=TIMEOUT))

    binary = {"file": b"\x01\x02\x03\xff", "parts": [b"", {"deep": b"\x09"}]}
    client.emit("message", ("label", binary, b"\x07\x07"))
    report["binaryBack"] = plain(events.get(timeout=TIMEOUT)[2])
    report["binaryAck"] = plain(as_list(client.call("message-with-ack", binary, timeout=TIMEOUT)))
    report["serverAck"] = plain(as_list(client.call("request-ack", ("ask", 5000, "q", {"n": 1}), timeout=TIMEOUT)))

    room_events = queue.Queue()
    client.on("room-event", lambda *args: room_events.put(list(args)))
    client.call("join", "py-room", timeout=TIMEOUT)
    client.call("to-room", ("py-room", "room-event", {"x": 1}), timeout=TIMEOUT)
    report["roomEvent"] = room_events.get(timeout=TIMEOUT)

    report["transport"] = client.transport()
    client.disconnect()


def refusals(report):
    for name, namespace, auth in (("invalid", "/nope", None), ("rejected", "/", {"reject": {"code": 7}})):
        errors = queue.Queue()
        client = socketio.Client(reconnection=False)
        client.on("connect_error", lambda data: errors.put(data), namespace=namespace)
        try:
            client.connect(PLAN["url"], auth=auth, transports=PLAN["transports"], namespaces=[namespace], wait_timeout=TIMEOUT)
            report[name] = "connected"
        except socketio.exceptions.ConnectionError:
            report[name] = errors.get(timeout=TIMEOUT)
        client.disconnect()


def main():
    report = {}
    try:
        basics(report)
        refusals(report)
    except Exception as error:  # the report carries the failure to the Rust test
        report["error"] = repr(error)
    print(json.dumps(report), flush=True)


main()
