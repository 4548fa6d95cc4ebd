"""Many PyPI python-socketio clients with default transports through the
load balancer: each must end on WebSocket (its session moving to the node
that took the upgrade) and keep working: echo with ack, rooms, broadcasts.

Prints one JSON line of what it observed; the Rust test asserts on it.
Usage: python py/cluster_clients.py '<json plan>'
plan: {"url": ..., "clients": N, "rooms": R}
"""

import json
import queue
import sys
import threading

import socketio

PLAN = json.loads(sys.argv[1])
TIMEOUT = 10


def main():
    report = {"transports": {}, "errors": []}
    clients = []
    for index in range(PLAN["clients"]):
        heard = queue.Queue()
        client = socketio.Client(reconnection=False)
        client.on("hey", lambda *args, heard=heard: heard.put(list(args)))
        client.connect(PLAN["url"], transports=["polling", "websocket"], wait_timeout=TIMEOUT)
        clients.append((client, heard, f"room-{index % PLAN['rooms']}"))

    for index, (client, _, room) in enumerate(clients):
        transport = client.transport()
        report["transports"][transport] = report["transports"].get(transport, 0) + 1
        value = {"index": index, "nested": [index, "x"]}
        echoed = client.call("echo", value, timeout=TIMEOUT)
        if echoed != value:
            report["errors"].append({"index": index, "echoed": echoed})
        client.call("join", room, timeout=TIMEOUT)

    for index, (client, _, room) in enumerate(clients):
        client.call("to-room", (room, "hey", index), timeout=TIMEOUT)

    # Every member of a room hears every member's broadcast, its own included.
    for index, (client, heard, room) in enumerate(clients):
        expected = sorted(i for i, (_, _, r) in enumerate(clients) if r == room)
        got = []
        try:
            while len(got) < len(expected):
                got.append(heard.get(timeout=TIMEOUT)[0])
        except queue.Empty:
            pass
        if sorted(got) != expected or not heard.empty():
            report["errors"].append({"index": index, "heard": got, "expected": expected})

    report["connected"] = sum(1 for client, _, _ in clients if client.connected)
    # Disconnects in parallel: each waits for its WebSocket's closing
    # handshake through the load balancer.
    closing = [threading.Thread(target=client.disconnect) for client, _, _ in clients]
    for thread in closing:
        thread.start()
    for thread in closing:
        thread.join(timeout=TIMEOUT)
    print(json.dumps(report))


main()
