#!/usr/bin/env python3
"""bench/mesh/driver.py: one backplane's measurements for bench/mesh/run.sh.

  driver.py --tether BIN --label NAME --dir DIR [--config FILE] [--instances 4]
            [--seconds 8] [--rate 2500] [--bytes 100] [--kills 20] [--cpus 0]

Starts `tether-meshprobe up --app meshprobe` (--tether: that binary) (its PID tracked, stopped by that PID), then:
  saturated  every instance publishes with rate=0 for --seconds: delivered/s =
             the growth of the sum over receivers of per-sender counts / seconds
  fixed      every instance publishes --rate/s (then --high-rate/s): p50/p99 publish->receive of every
             (receiver, sender) pair from meshprobe's report (steady clock, one host)
  failover   (--kills > 0, mesh only) SIGKILL the hub --kills times while everyone
             publishes 200/s; time from the kill until every surviving original
             member reports one new live hub at a newer epoch (polled every ~5 ms)
  each phase ends with publishing stopped, a drain, and lost/duplicated counts:
  lost = gaps + (sent - last received) over live (receiver, sender) pairs.
Prints one JSON object on stdout; progress on stderr.
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time


def log(msg):
    print(f"[driver {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Client:
    """Keep-alive HTTP to one instance; None on any failure."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def call(self, method, path, timeout=5):
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
                self.conn.request(method, path, body=b"" if method == "POST" else None)
                res = self.conn.getresponse()
                body = res.read()
                return res.status, body
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
        return None, None

    def report(self):
        status, body = self.call("GET", "/probe/report")
        if status != 200:
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None


class Plan:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.dir, exist_ok=True)
        self.log_path = os.path.join(args.dir, "plan.log")
        cmd = [args.tether, "up", "--port", "0", "--app", "meshprobe", "--instances",
               str(args.instances), "--state-dir", os.path.join(args.dir, "state"),
               "--log-level", "warn"]
        if args.config:
            cmd += ["--config", args.config]
        if args.cpus:
            cmd = ["taskset", "-c", args.cpus] + cmd
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.logf, stderr=subprocess.STDOUT)
        self.admin = None
        deadline = time.time() + 30
        while time.time() < deadline and self.admin is None:
            with open(self.log_path) as f:
                m = re.search(r"admin http://127\.0\.0\.1:(\d+)", f.read())
            if m:
                self.admin = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        if self.admin is None:
            raise SystemExit(f"tether up did not start; see {self.log_path}")
        self.admin_client = Client(self.admin)
        self.clients = {}

    def instances(self):
        """{id: (pid, port)} of the processes that are up."""
        status, body = self.admin_client.call("GET", "/status")
        if status != 200:
            return {}
        out = {}
        for p in json.loads(body)["processes"]:
            if p["state"] == "up":
                out[p["id"]] = (p["pid"], p["port"])
        return out

    def client(self, port):
        if port not in self.clients:
            self.clients[port] = Client(port)
        return self.clients[port]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()


def eventually(pred, limit=60.0, every=0.05):
    deadline = time.time() + limit
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(every)
    return None


def formed(plan, group, n, min_epoch=0, dead=()):
    """Every instance of `group` connected, seeing n members; mesh: one common live hub."""
    hubs = set()
    for iid, (pid, port) in group.items():
        r = plan.client(port).report()
        if not r:
            return False
        m = r["mesh"]
        if m["role"] not in ("member", "hub+member") or len(m["members"]) != n:
            return False
        if m["epoch"] < min_epoch:
            return False
        hubs.add((m["hub"], m["epoch"]))
    if len(hubs) != 1:
        return False
    hub = next(iter(hubs))[0]
    return hub not in dead


def reports(plan, group):
    out = {}
    for iid, (pid, port) in group.items():
        r = plan.client(port).report()
        if r:
            out[iid] = r
    return out


def total_received(plan, group):
    return sum(s["count"] for r in reports(plan, group).values() for s in r["received"].values())


def post_all(plan, group, path):
    for iid, (pid, port) in group.items():
        plan.client(port).call("POST", path)


def drain_and_count(plan, group, limit=10.0):
    """Stops publishing, waits for everything sent to arrive; (lost, duplicated, complete)."""
    post_all(plan, group, "/probe/stop")
    sent = {}

    def settled():
        rs = reports(plan, group)
        if len(rs) != len(group):
            return False
        for iid, r in rs.items():
            if r["mesh"]["unacked"] != 0:
                return False
            sent[iid] = r["sent"]
        for rid, r in rs.items():
            for sid, n in sent.items():
                s = r["received"].get(sid)
                if n and (not s or s["last"] < n):
                    return False
        return True

    complete = bool(eventually(settled, limit))
    rs = reports(plan, group)
    lost = dup = 0
    for rid, r in rs.items():
        for sid, n in sent.items():
            s = r["received"].get(sid)
            if not s:
                lost += n  # nothing at all (only possible when incomplete)
                continue
            lost += s["gaps"] + max(0, n - s["last"])
            dup += s["duplicates"]
    return lost, dup, complete


def phase_saturated(plan, group, args):
    post_all(plan, group, "/probe/reset")
    post_all(plan, group, f"/probe/start?rate=0&bytes={args.bytes}")
    time.sleep(2)
    r0, t0 = total_received(plan, group), time.monotonic()
    s0 = sum(r["sent"] for r in reports(plan, group).values())
    time.sleep(args.seconds)
    r1, t1 = total_received(plan, group), time.monotonic()
    s1 = sum(r["sent"] for r in reports(plan, group).values())
    lost, dup, complete = drain_and_count(plan, group)
    return {"delivered_per_s": (r1 - r0) / (t1 - t0), "published_per_s": (s1 - s0) / (t1 - t0),
            "lost": lost, "duplicated": dup, "drained": complete}


def phase_fixed(plan, group, args, rate):
    post_all(plan, group, "/probe/reset")
    post_all(plan, group, f"/probe/start?rate={rate}&bytes={args.bytes}")
    time.sleep(2)
    post_all(plan, group, "/probe/reset")  # drop the warm-up's latencies
    r0, t0 = total_received(plan, group), time.monotonic()
    time.sleep(args.seconds)
    r1, t1 = total_received(plan, group), time.monotonic()
    rs = reports(plan, group)
    p50s, p99s = [], []
    for r in rs.values():
        for s in r["received"].values():
            p50s.append(s["p50_us"])
            p99s.append(s["p99_us"])
    lost, dup, complete = drain_and_count(plan, group)
    return {"delivered_per_s": (r1 - r0) / (t1 - t0),
            "p50_us_median": statistics.median(p50s) if p50s else None,
            "p99_us_median": statistics.median(p99s) if p99s else None,
            "p99_us_max": max(p99s) if p99s else None,
            "lost": lost, "duplicated": dup, "drained": complete}


def phase_failover(plan, group, args):
    n = len(group)
    post_all(plan, group, "/probe/reset")
    post_all(plan, group, "/probe/start?rate=200&bytes=100")
    times = []
    failures = 0
    for k in range(args.kills):
        everyone = plan.instances()
        if not eventually(lambda: formed(plan, everyone, n), 30):
            failures += 1
            log(f"kill {k}: the mesh did not form before the kill")
            everyone = plan.instances()
        rs = reports(plan, everyone)
        hub = next((iid for iid, r in rs.items() if r["mesh"]["role"] == "hub+member"), None)
        if hub is None:
            failures += 1
            continue
        epoch = rs[hub]["mesh"]["epoch"]
        survivors = {i: v for i, v in everyone.items() if i != hub}
        t0 = time.monotonic()
        os.kill(everyone[hub][0], signal.SIGKILL)
        # The survivors agree on a new live hub at a newer epoch (members: the
        # survivors, or more once the plan's replacement joined).
        def joined():
            hubs = set()
            for iid, (pid, port) in survivors.items():
                r = plan.client(port).report()
                if not r:
                    return False
                m = r["mesh"]
                if m["role"] not in ("member", "hub+member") or m["epoch"] <= epoch:
                    return False
                if m["hub"] == hub or len(m["members"]) < n - 1:
                    return False
                hubs.add((m["hub"], m["epoch"]))
            return len(hubs) == 1
        if eventually(joined, 20, every=0.005):
            times.append(time.monotonic() - t0)
            log(f"kill {k + 1}/{args.kills}: {times[-1] * 1000:.0f} ms")
        else:
            failures += 1
            log(f"kill {k + 1}/{args.kills}: no convergence within 20 s")
        # The plan replaces the dead instance; wait until it joined too.
        eventually(lambda: len(plan.instances()) == n and formed(plan, plan.instances(), n), 30)
    group = plan.instances()
    lost, dup, complete = drain_and_count(plan, group)
    return {"kills": args.kills, "converged": len(times), "failures": failures,
            "median_ms": statistics.median(times) * 1000 if times else None,
            "max_ms": max(times) * 1000 if times else None,
            "all_ms": [round(t * 1000) for t in times],
            "lost": lost, "duplicated": dup, "drained": complete}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tether", required=True)
    ap.add_argument("--label", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--config")
    ap.add_argument("--instances", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--rate", type=float, default=2500)
    ap.add_argument("--high-rate", type=float, default=10000)
    ap.add_argument("--bytes", type=int, default=100)
    ap.add_argument("--kills", type=int, default=0)
    ap.add_argument("--cpus", default="0")
    args = ap.parse_args()
    plan = Plan(args)
    try:
        out = {"label": args.label}
        n = args.instances
        if not eventually(lambda: len(plan.instances()) == n, 60):
            raise SystemExit(f"{args.label}: {n} instances did not come up; see {plan.log_path}")
        group = plan.instances()
        if not eventually(lambda: formed(plan, group, n), 60):
            raise SystemExit(f"{args.label}: the backplane did not form; see {plan.log_path}")
        # The fixed rate first: a saturated run may leave backlogs behind.
        log(f"{args.label}: {n} instances joined; {args.rate:g}/s per instance for "
            f"{args.seconds:g} s")
        out["fixed"] = phase_fixed(plan, group, args, args.rate)
        log(f"{args.label}: {out['fixed']}")
        if args.high_rate:
            log(f"{args.label}: {args.high_rate:g}/s per instance for {args.seconds:g} s")
            out["fixed_high"] = phase_fixed(plan, group, args, args.high_rate)
            log(f"{args.label}: {out['fixed_high']}")
        log(f"{args.label}: saturated publishing for {args.seconds:g} s")
        out["saturated"] = phase_saturated(plan, group, args)
        log(f"{args.label}: {out['saturated']}")
        if args.kills:
            log(f"{args.label}: failover, {args.kills} hub kills")
            out["failover"] = phase_failover(plan, group, args)
            log(f"{args.label}: failover {out['failover']}")
        print(json.dumps(out), flush=True)
    finally:
        plan.stop()


if __name__ == "__main__":
    main()
