#!/usr/bin/env python3
"""The soak (issue 7, item 6): mixed HTTP, WebSocket and mesh traffic through a
`tether-meshprobe up --app meshprobe` plan for a fixed time, with periodic instance
kills; then the mesh's exactly-once check, error counts and the RSS of every
process that lived through the whole run.

    bench/soak/run.sh [--minutes 10] [--instances 4] [--kill-every 20]

Traffic: HTTP GET /healthz through the front door on keep-alive connections
(one thread per connection, paced), WebSocket echo round trips through the
front door (/probe/ws), and every instance publishing numbered mesh messages
(meshprobe). Kills: every --kill-every seconds, SIGKILL one instance outside
the two "tracked" originals (the plan replaces it); every other kill takes the
hub (the tracked instances are drained at the front door, so no election
ever lands on them), so the mesh fails over again and again. Tracked: the plan process (front door, supervisor) and two
original instances; their RSS is sampled every 10 s and must stay within 10%
of the value at the end of warm-up. Exit code 0 when every check holds.
Stdlib only; processes are stopped by PID.
"""
import argparse, base64, http.client, json, os, random, signal, socket, struct
import subprocess, sys, threading, time

p = argparse.ArgumentParser()
p.add_argument("--binary", default="build/bench/tether-meshprobe")
p.add_argument("--minutes", type=float, default=10)
p.add_argument("--instances", type=int, default=4)
p.add_argument("--kill-every", type=float, default=20)
p.add_argument("--http-conns", type=int, default=4)
p.add_argument("--http-rate", type=float, default=200, help="requests/s per connection")
p.add_argument("--ws-conns", type=int, default=8)
p.add_argument("--ws-rate", type=float, default=50, help="round trips/s per connection")
p.add_argument("--mesh-rate", type=int, default=100, help="messages/s per instance")
p.add_argument("--warmup", type=float, default=60)
args = p.parse_args()

state_dir = subprocess.check_output(["mktemp", "-d"]).decode().strip()
plan = subprocess.Popen([args.binary, "up", "--app", "meshprobe", "--instances",
                         str(args.instances), "--port", "0", "--state-dir", state_dir,
                         "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
front_port = admin = None
for line in plan.stdout:
    if "ready behind" in line:
        front_port = int(line.strip().rsplit(":", 1)[1])
    if "admin http" in line:
        admin = line.split("admin ")[1].split()[0]
        break
if not front_port:
    sys.exit("soak: the plan did not start")
admin_host, admin_port = admin.replace("http://", "").split(":")
stop = threading.Event()
lock = threading.Lock()
counts = {"http_ok": 0, "http_err": 0, "http_5xx": 0, "ws_ok": 0, "ws_err": 0, "ws_reconnect": 0}


def bump(k, n=1):
    with lock:
        counts[k] += n


def get_json(host, port, path, method="GET"):
    c = http.client.HTTPConnection(host, port, timeout=5)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body) if body[:1] in (b"{", b"[") else body


def processes():
    st = get_json(admin_host, int(admin_port), "/status")
    return [x for x in st["processes"] if x["state"] == "up"]


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None


def http_worker():
    conn = None
    while not stop.is_set():
        t0 = time.time()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", front_port, timeout=10)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            bump("http_ok" if r.status == 200 else "http_5xx")
        except Exception:
            bump("http_err")
            conn = None
        time.sleep(max(0, 1 / args.http_rate - (time.time() - t0)))


def ws_connect():
    s = socket.create_connection(("127.0.0.1", front_port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    s.sendall((f"GET /probe/ws HTTP/1.1\r\nHost: 127.0.0.1:{front_port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("closed during upgrade")
        head += chunk
    if not head.startswith(b"HTTP/1.1 101"):
        raise OSError(head.split(b"\r\n")[0].decode())
    return s, head.split(b"\r\n\r\n", 1)[1]


def ws_send(s, text):
    data = text.encode()
    mask = os.urandom(4)
    hdr = bytes([0x81, 0x80 | len(data)]) if len(data) < 126 else bytes([0x81, 0xFE]) + struct.pack("!H", len(data))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def ws_frame(buf):
    """(opcode, payload, rest) of the first whole server frame in buf, or None."""
    if len(buf) < 2:
        return None
    n, off = buf[1] & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, off = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, off = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < off + n:
        return None
    return buf[0] & 0x0F, buf[off:off + n], buf[off + n:]


def ws_recv(s, buf):
    while True:
        f = ws_frame(buf)
        if f:
            op, payload, buf = f
            if op == 1:
                return payload.decode(), buf
            if op == 8:
                raise OSError("closed")
            continue
        chunk = s.recv(65536)
        if not chunk:
            raise OSError("closed")
        buf += chunk


def ws_worker(i):
    s, buf, n = None, b"", 0
    while not stop.is_set():
        t0 = time.time()
        try:
            if s is None:
                s, buf = ws_connect()
            n += 1
            msg = f"ws{i}-{n}"
            ws_send(s, msg)
            got, buf = ws_recv(s, buf)
            bump("ws_ok" if got == msg else "ws_err")
        except Exception:
            bump("ws_reconnect")
            try:
                s and s.close()
            except Exception:
                pass
            s, buf = None, b""
            time.sleep(0.1)
        time.sleep(max(0, 1 / args.ws_rate - (time.time() - t0)))


def report(port):
    return get_json("127.0.0.1", port, "/probe/report")


def converged(procs):
    try:
        reps = [report(x["port"]) for x in procs]
    except Exception:
        return False
    hubs = {r["mesh"]["hub"] for r in reps}
    return (len(hubs) == 1 and all(len(r["mesh"]["members"]) == len(procs) for r in reps)
            and all(r["mesh"]["role"] in ("member", "hub+member") for r in reps))


def wait(pred, limit=60):
    end = time.time() + limit
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


ok = True
try:
    assert wait(lambda: len(processes()) == args.instances and converged(processes())), "no mesh"
    originals = processes()
    hub0 = report(originals[0]["port"])["mesh"]["hub"]
    tracked = [x for x in originals if x["id"] != hub0][:2]  # the hub stays killable
    # Tracked instances are drained: they keep their mesh link and traffic
    # pinned to them, but the front door never balances a new connection to
    # them, so no election can make one the hub and every hub is killable.
    for x in tracked:
        get_json(admin_host, int(admin_port), f"/instances/{x['id']}/drain", "POST")
    for x in processes():
        get_json("127.0.0.1", x["port"], f"/probe/start?rate={args.mesh_rate}", "POST")
    threads = [threading.Thread(target=http_worker, daemon=True) for _ in range(args.http_conns)]
    threads += [threading.Thread(target=ws_worker, args=(i,), daemon=True) for i in range(args.ws_conns)]
    for t in threads:
        t.start()
    start = time.time()
    end = start + args.minutes * 60
    next_kill = start + args.kill_every
    baseline, samples, kills, hub_kills = None, [], 0, 0
    tracked_pids = {"plan": plan.pid, **{x["id"][:8]: x["pid"] for x in tracked}}
    while time.time() < end:
        time.sleep(1)
        now = time.time()
        if now >= next_kill:
            next_kill = now + args.kill_every
            victims = [x for x in processes() if x["id"] not in {t["id"] for t in tracked}]
            if victims:
                hub = report(tracked[0]["port"])["mesh"]["hub"]
                # Every other kill takes the hub: a failover each time.
                hubs = [x for x in victims if x["id"] == hub]
                v = hubs[0] if hubs and kills % 2 == 0 else random.choice(victims)
                os.kill(v["pid"], signal.SIGKILL)
                kills += 1
                hub_kills += v["id"] == hub
                # The replacement publishes too, once it is up and joined.
                if wait(lambda: len(processes()) == args.instances and converged(processes())):
                    for x in processes():
                        if x["id"] not in {o["id"] for o in originals}:
                            get_json("127.0.0.1", x["port"], f"/probe/start?rate={args.mesh_rate}", "POST")
                else:
                    print("soak: the mesh did not re-form after a kill", file=sys.stderr)
                    ok = False
        if int(now - start) % 10 == 0:
            rss = {k: rss_kb(p) for k, p in tracked_pids.items()}
            samples.append((round(now - start), rss))
            if baseline is None and now - start >= args.warmup:
                baseline = rss
    stop.set()
    for t in threads:
        t.join(timeout=15)

    # Mesh: stop, drain, exactly once among the tracked originals.
    for x in tracked:
        get_json("127.0.0.1", x["port"], "/probe/stop", "POST")
    for x in processes():
        get_json("127.0.0.1", x["port"], "/probe/stop", "POST")
    assert wait(lambda: all(report(x["port"])["mesh"]["unacked"] == 0 for x in tracked)), "unacked left"
    sent = {x["id"]: report(x["port"])["sent"] for x in tracked}
    mesh_ok = wait(lambda: all(report(r["port"])["received"].get(s, {}).get("last", 0) >= n
                               for r in tracked for s, n in sent.items()))
    lost = dup = 0
    for r in tracked:
        rec = report(r["port"])["received"]
        for s, n in sent.items():
            e = rec.get(s, {"count": 0, "gaps": 0, "duplicates": 0})
            lost += max(0, n - e["count"])
            dup += e["duplicates"]
    epoch = report(tracked[0]["port"])["mesh"]["epoch"]

    final = {k: rss_kb(p) for k, p in tracked_pids.items()}
    growth = {k: (final[k] / baseline[k] - 1) * 100 if baseline and baseline.get(k) and final[k] else None
              for k in tracked_pids}
    rss_ok = all(g is not None and g <= 10 for g in growth.values())
    print(f"soak: {args.minutes} min, {args.instances} instances, {kills} kills ({hub_kills} of the hub), final epoch {epoch}")
    print(f"  HTTP: {counts['http_ok']} ok, {counts['http_5xx']} 5xx, {counts['http_err']} connection errors")
    print(f"  WebSocket echo: {counts['ws_ok']} ok, {counts['ws_err']} wrong, {counts['ws_reconnect']} reconnects")
    print(f"  mesh (tracked originals): sent {sent}, lost {lost}, duplicated {dup}, complete {mesh_ok}")
    for k in tracked_pids:
        print(f"  RSS {k}: after warm-up {baseline and baseline.get(k)} kB, end {final[k]} kB, "
              f"growth {growth[k] if growth[k] is None else round(growth[k], 1)}%")
    ok = ok and mesh_ok and lost == 0 and dup == 0 and counts["ws_err"] == 0 and rss_ok
    print("soak: PASS" if ok else "soak: FAIL")
finally:
    stop.set()
    plan.send_signal(signal.SIGTERM)
    try:
        plan.wait(timeout=30)
    except subprocess.TimeoutExpired:
        plan.kill()
    subprocess.call(["rm", "-rf", state_dir])
sys.exit(0 if ok else 1)
