"""Checks a /metrics scrape of safehouse serve with prometheus-client's text parser.

    metrics_check.py FILE ID     the sandbox ID is live: its series are there and plausible
    metrics_check.py FILE -ID    the sandbox ID is gone: none of its series is left

Exits 1 with one line per problem.
"""
import sys

from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
families = {f.name: f for f in text_string_to_metric_families(text)}
problems = []


def samples(family, **labels):
    f = families.get(family)
    if f is None:
        problems.append(f"no family {family}")
        return []
    return [s for s in f.samples if all(s.labels.get(k) == v for k, v in labels.items())]


def one(name, family=None, **labels):
    found = [s for s in samples(family or name, **labels) if s.name == name]
    if len(found) != 1:
        problems.append(f"{name}{labels}: {len(found)} samples")
        return None
    return found[0].value


target = sys.argv[2]
if target.startswith("-"):
    gone = target[1:]
    left = [s.name for f in families.values() for s in f.samples if s.labels.get("id") == gone]
    if left:
        problems.append(f"series of the deleted sandbox are left: {sorted(set(left))}")
else:
    sid = target
    per = {"id": sid, "policy": "default", "backend": "native"}
    types = {
        "safehouse_sandbox_cpu_seconds": "counter",
        "safehouse_sandbox_memory_bytes": "gauge",
        "safehouse_sandbox_memory_limit_bytes": "gauge",
        "safehouse_sandbox_pids": "gauge",
        "safehouse_sandbox_pids_limit": "gauge",
        "safehouse_sandbox_egress_decisions": "counter",
        "safehouse_sandbox_egress_bytes": "counter",
        "safehouse_sandbox_root_changes_bytes": "gauge",
        "safehouse_sandbox_age_seconds": "gauge",
        "safehouse_sandbox_time_left_seconds": "gauge",
        "safehouse_sandbox_oom_kills": "counter",
        "safehouse_sandbox_forks_refused": "counter",
        "safehouse_sandboxes": "gauge",
        "safehouse_sandbox_create_seconds": "histogram",
        "safehouse_limit_hits": "counter",
    }
    for name, kind in types.items():
        if name in families and families[name].type != kind:
            problems.append(f"{name} is a {families[name].type}, not a {kind}")
    memory = one("safehouse_sandbox_memory_bytes", **per)
    limit = one("safehouse_sandbox_memory_limit_bytes", **per)
    pids = one("safehouse_sandbox_pids", **per)
    pids_limit = one("safehouse_sandbox_pids_limit", **per)
    cpu = one("safehouse_sandbox_cpu_seconds_total", "safehouse_sandbox_cpu_seconds", **per)
    root = one("safehouse_sandbox_root_changes_bytes", **per)
    age = one("safehouse_sandbox_age_seconds", **per)
    left = one("safehouse_sandbox_time_left_seconds", **per)
    if memory is not None and not memory > 0:
        problems.append(f"memory {memory} is not > 0")
    if None not in (memory, limit) and not (limit > memory and limit >= 1 << 20):
        problems.append(f"memory limit {limit} against {memory}")
    if pids is not None and not pids >= 1:
        problems.append(f"pids {pids} is not >= 1")
    if None not in (pids, pids_limit) and not pids_limit >= pids:
        problems.append(f"pids limit {pids_limit} against {pids}")
    if cpu is not None and not cpu > 0:
        problems.append(f"cpu seconds {cpu} is not > 0 (the sandbox ran a busy loop)")
    if root is not None and not root >= 64 * 1024:
        problems.append(f"root changes {root} are not >= 64 KiB (the sandbox wrote 100 KiB)")
    if age is not None and not 0 < age < 600:
        problems.append(f"age {age}")
    if left is not None and not 0 < left <= 120:
        problems.append(f"time left {left} is not the service's deadline (timeout 120)")
    for decision in ("allowed", "refused"):
        v = one("safehouse_sandbox_egress_decisions_total", "safehouse_sandbox_egress_decisions", decision=decision, **per)
        if v is not None and v != 0:
            problems.append(f"egress {decision} {v}: the sandbox has no network")
    for direction in ("up", "down"):
        one("safehouse_sandbox_egress_bytes_total", "safehouse_sandbox_egress_bytes", direction=direction, **per)
    one("safehouse_sandbox_oom_kills_total", "safehouse_sandbox_oom_kills", **per)
    one("safehouse_sandbox_forks_refused_total", "safehouse_sandbox_forks_refused", **per)
    running = one("safehouse_sandboxes", state="running")
    if running is not None and running < 1:
        problems.append(f"sandboxes running: {running}")
    count = one("safehouse_sandbox_create_seconds_count", "safehouse_sandbox_create_seconds", policy="default")
    total = one("safehouse_sandbox_create_seconds_sum", "safehouse_sandbox_create_seconds", policy="default")
    inf = one("safehouse_sandbox_create_seconds_bucket", "safehouse_sandbox_create_seconds", policy="default", le="+Inf")
    if count is not None and (count < 1 or inf != count or not total > 0):
        problems.append(f"create latency: count {count}, +Inf bucket {inf}, sum {total}")
    for limit_name in ("memory", "pids", "timeout"):
        one("safehouse_limit_hits_total", "safehouse_limit_hits", limit=limit_name)

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
