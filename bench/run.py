#!/usr/bin/env python3
"""Runs every benchmark scenario against Switchyard and its peers in one
run, and writes the table into bench/RESULTS.md.

Usage (through scripts/bench, which installs and builds first):
    python3 bench/run.py --loadgen BIN --switchyard BIN --socketioxide BIN [--runs N] [--smoke]
                         [--only SCENARIO[,SCENARIO]] [--merge] [--results FILE]

Servers (and NATS, redis, nginx) run pinned to core 0 with taskset, the
load generator pinned to core 1. Each figure is the median of --runs runs.
The primary figure is the server's CPU time per operation, which the
generator reads from /proc for the server processes (every node, plus NATS
or redis where used) over its measured window. --merge keeps the rows of scenarios not run this time from the existing
results file (to re-run one scenario after fixing it). --smoke runs every scenario
once with a few clients for a few seconds and only checks that each
completes with zero errors; it writes no results.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_CPU = "0"
GENERATOR_CPU = "1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, log, limit=30.0):
    deadline = time.time() + limit
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early; see {log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened; see {log}")


def http_ok(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            return s.recv(64).split(b" ")[1] == b"200"
    except (OSError, IndexError):
        return False


class Stack:
    """The processes of one server setup, stopped together."""

    def __init__(self, work):
        self.work = work
        self.procs = []

    def start(self, name, cmd, env=None, port=None):
        log = self.work / f"{name}.log"
        full_env = dict(os.environ, **(env or {}))
        proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *cmd],
            env=full_env,
            stdout=open(log, "wb"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        self.procs.append(proc)
        if port is not None:
            wait_for_port(port, proc, log)
        return proc

    def stop(self):
        for proc in reversed(self.procs):
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []


def nginx_config(work, name, upstreams, sticky):
    """The shipped template, with `hash $remote_addr` for the sticky runs
    (ip_hash would hash every 127.0.0.x source to one node: it keys on the
    first three octets)."""
    template = (ROOT / "config" / "nginx.conf.template").read_text()
    prefix = work / f"nginx-{name}"
    prefix.mkdir(exist_ok=True)
    port = free_port()
    lines = []
    for line in template.splitlines():
        if line.strip() == "{{UPSTREAMS}}":
            indent = line[: len(line) - len(line.lstrip())]
            if sticky:
                lines.append(f"{indent}hash $remote_addr;")
            lines.extend(f"{indent}server {up};" for up in upstreams)
        else:
            lines.append(line.replace("{{LISTEN}}", f"127.0.0.1:{port}").replace("{{PREFIX}}", str(prefix)))
    config = prefix / "nginx.conf"
    config.write_text("\n".join(lines) + "\n")
    return config, prefix, port


def nginx_binary():
    for path in ("/usr/sbin/nginx", "/usr/bin/nginx"):
        if Path(path).exists():
            return path
    return "nginx"


def nats_binary():
    for path in ("/usr/sbin/nats-server", "/usr/bin/nats-server"):
        if Path(path).exists():
            return path
    return "nats-server"


class Setups:
    """Starts each server setup; every method returns (urls, pids, stack)."""

    def __init__(self, args, work):
        self.args = args
        self.work = work

    def switchyard(self):
        stack = Stack(self.work)
        port = free_port()
        proc = stack.start(
            "switchyard",
            [self.args.switchyard],
            {"SWITCHYARD_LISTEN": f"127.0.0.1:{port}", "RUST_LOG": "warn"},
            port,
        )
        return [f"http://127.0.0.1:{port}"], [proc.pid], stack

    def node(self):
        stack = Stack(self.work)
        port = free_port()
        proc = stack.start("node", ["node", "bench/peers/node/server.mjs"], {"PORT": str(port)}, port)
        return [f"http://127.0.0.1:{port}"], [proc.pid], stack

    def socketioxide(self):
        stack = Stack(self.work)
        port = free_port()
        proc = stack.start("socketioxide", [self.args.socketioxide], {"PORT": str(port)}, port)
        return [f"http://127.0.0.1:{port}"], [proc.pid], stack

    def switchyard_cluster(self, lb=None):
        """Three nodes on one NATS; `lb` is None (clients go straight to the
        nodes), "rr" or "sticky" (clients go through nginx)."""
        stack = Stack(self.work)
        nats_port = free_port()
        nats = stack.start("nats", [nats_binary(), "-a", "127.0.0.1", "-p", str(nats_port)], port=nats_port)
        pids, urls, upstreams = [nats.pid], [], []
        for index in range(3):
            port = free_port()
            proc = stack.start(
                f"node{index}",
                [self.args.switchyard],
                {
                    "SWITCHYARD_LISTEN": f"127.0.0.1:{port}",
                    "SWITCHYARD_NATS__URL": f"nats://127.0.0.1:{nats_port}",
                    "SWITCHYARD_NODE_ID": f"bench{index}",
                    "RUST_LOG": "warn",
                },
                port,
            )
            pids.append(proc.pid)
            urls.append(f"http://127.0.0.1:{port}")
            upstreams.append(f"127.0.0.1:{port}")
        for url in urls:
            port = int(url.rsplit(":", 1)[1])
            deadline = time.time() + 30
            while not http_ok(port, "/ready"):
                if time.time() > deadline:
                    raise RuntimeError(f"{url} never became ready")
                time.sleep(0.1)
        if lb is None:
            return urls, pids, stack
        return self._behind_nginx(stack, f"switchyard-{lb}", upstreams, lb == "sticky"), pids, stack

    def node_cluster(self):
        """Two socket.io processes on one redis, behind sticky nginx."""
        stack = Stack(self.work)
        redis_port = free_port()
        redis = stack.start(
            "redis",
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            port=redis_port,
        )
        pids, upstreams = [redis.pid], []
        for index in range(2):
            port = free_port()
            proc = stack.start(
                f"node{index}",
                ["node", "bench/peers/node/server.mjs"],
                {"PORT": str(port), "REDIS_URL": f"redis://127.0.0.1:{redis_port}"},
                port,
            )
            pids.append(proc.pid)
            upstreams.append(f"127.0.0.1:{port}")
        return self._behind_nginx(stack, "node-redis", upstreams, True), pids, stack

    def _behind_nginx(self, stack, name, upstreams, sticky):
        config, prefix, port = nginx_config(self.work, name, upstreams, sticky)
        stack.start(name, [nginx_binary(), "-e", "stderr", "-p", str(prefix), "-c", str(config)], port=port)
        return [f"http://127.0.0.1:{port}"]


def scenarios(smoke):
    """(label, scenario args, setups) for every measurement. Sizes shrink
    in smoke mode; the set of scenarios and setups does not."""
    s = smoke
    single = ["switchyard", "node", "socketioxide"]
    return [
        # Connections come from 16 addresses: one address's ports fill up
        # with TIME_WAIT sockets over the runs, and the kernel's search for
        # a free port then costs the generator more than the server. Enough
        # connections that the fastest server is measured over a second or
        # more: /proc counts CPU time in 10 ms ticks.
        ("connect (websocket)", ["--scenario", "connect", "--clients", "60" if s else "20000", "--concurrency", "10" if s else "50", "--sources", "16"], single),
        ("connect (polling)", ["--scenario", "connect", "--transport", "polling", "--clients", "60" if s else "10000", "--concurrency", "10" if s else "50", "--sources", "16"], single),
        ("echo (websocket)", ["--scenario", "echo", "--clients", "10" if s else "200"], single),
        ("fanout", ["--scenario", "fanout", "--clients", "20" if s else "500", "--rate", "20" if s else "100"], single),
        ("idle 10k", ["--scenario", "idle", "--clients", "100" if s else "10000", "--sources", "4", "--hold", "1" if s else "5"], single),
        ("idle 18k", ["--scenario", "idle", "--clients", "150" if s else "18000", "--sources", "4", "--hold", "1" if s else "5"], single),
        ("polling echo through nginx", ["--scenario", "echo", "--transport", "polling", "--clients", "10" if s else "100", "--sources", "50"], ["switchyard-3 rr", "switchyard-3 sticky", "node-redis-2 sticky"]),
        ("connect (polling) through nginx", ["--scenario", "connect", "--transport", "polling", "--clients", "60" if s else "6000", "--concurrency", "10" if s else "50", "--sources", "50"], ["switchyard-3 rr", "switchyard-3 sticky", "node-redis-2 sticky"]),
        # socket.io-client's default transports: polling, then the upgrade,
        # which behind round-robin usually moves the session to the node of
        # its WebSocket; echo is measured after every client has upgraded.
        ("echo (default transports) through nginx", ["--scenario", "echo", "--transport", "upgrade", "--clients", "10" if s else "100", "--sources", "50"], ["switchyard-3 rr", "switchyard-3 sticky", "node-redis-2 sticky"]),
        ("connect (default transports) through nginx", ["--scenario", "connect", "--transport", "upgrade", "--clients", "60" if s else "6000", "--concurrency", "10" if s else "50", "--sources", "50"], ["switchyard-3 rr", "switchyard-3 sticky", "node-redis-2 sticky"]),
        ("cross-node fanout", ["--scenario", "fanout", "--clients", "30" if s else "300", "--rate", "20" if s else "100"], ["switchyard", "switchyard-3 direct"]),
    ]


def start_setup(setups, name):
    return {
        "switchyard": setups.switchyard,
        "node": setups.node,
        "socketioxide": setups.socketioxide,
        "switchyard-3 rr": lambda: setups.switchyard_cluster("rr"),
        "switchyard-3 sticky": lambda: setups.switchyard_cluster("sticky"),
        "switchyard-3 direct": lambda: setups.switchyard_cluster(None),
        "node-redis-2 sticky": setups.node_cluster,
    }[name]()


def run_loadgen(args, extra, urls, pids, smoke):
    timing = ["--warmup", "0.5", "--duration", "2"] if smoke else ["--warmup", "2", "--duration", "10"]
    cmd = [
        "taskset", "-c", GENERATOR_CPU, args.loadgen,
        "--url", ",".join(urls),
        "--server-pids", ",".join(str(p) for p in pids),
        *timing,
        *extra,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"loadgen failed ({done.returncode}): {' '.join(cmd)}\n{done.stderr[-2000:]}")
    result = json.loads(lines[-1])
    if result.get("errors", 0):
        # The generator prints its first errors; keep them for the report.
        result["stderr"] = done.stderr[-1000:]
    return result, cmd


def median_of(results):
    merged = {}
    for key in results[0]:
        values = [r.get(key) for r in results]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            merged[key] = statistics.median(values)
        else:
            merged[key] = values[0]
    return merged


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--loadgen", required=True)
    parser.add_argument("--switchyard", required=True)
    parser.add_argument("--socketioxide", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", default="")
    parser.add_argument("--merge", action="store_true")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results.jsonl"))
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    only = [o for o in args.only.split(",") if o]
    work = Path(tempfile.mkdtemp(prefix="switchyard-bench-"))
    setups = Setups(args, work)
    rows, failures, commands = [], [], {}
    for label, extra, servers in scenarios(args.smoke):
        if only and not any(o in label for o in only):
            continue
        for server in servers:
            results = []
            for run in range(runs):
                urls, pids, stack = start_setup(setups, server)
                try:
                    result, cmd = run_loadgen(args, extra, urls, pids, args.smoke)
                    commands[label] = " ".join(cmd[3:]).replace(args.loadgen, "loadgen")
                except (RuntimeError, subprocess.TimeoutExpired) as error:
                    failures.append(f"{label} / {server}: {error}")
                    result = None
                finally:
                    stack.stop()
                if result is None:
                    break
                print(f"{label:34} {server:22} run {run + 1}: {json.dumps(result)}", file=sys.stderr)
                stderr = result.pop("stderr", "")
                if result.get("errors", 0) != 0 or result.get("ops", 1) == 0:
                    failures.append(f"{label} / {server}: {json.dumps(result)}\n{stderr}")
                results.append(result)
            if results:
                rows.append({"label": label, "server": server, "runs": len(results), **median_of(results)})
    if not args.smoke:
        if args.merge and Path(args.results).exists():
            kept = [json.loads(line) for line in Path(args.results).read_text().splitlines() if line.strip()]
            commands = {**kept[0].get("commands", {}), **commands}
            labels = {row["label"] for row in rows}
            rows = [row for row in kept[1:] if row["label"] not in labels] + rows
            order = [label for label, _, _ in scenarios(False)]
            rows.sort(key=lambda row: order.index(row["label"]) if row["label"] in order else len(order))
        with open(args.results, "w") as out:
            out.write(json.dumps({"commands": commands}) + "\n")
            for row in rows:
                out.write(json.dumps(row) + "\n")
        print(f"results in {args.results}; logs in {work}", file=sys.stderr)
    if failures:
        print("\n".join(["FAILED:"] + failures), file=sys.stderr)
        sys.exit(1)
    print(f"{'smoke' if args.smoke else 'bench'}: {len(rows)} scenario × server rows, zero errors", file=sys.stderr)


if __name__ == "__main__":
    main()
