#!/usr/bin/env python3
"""What the kubelet sends the CRI for the pod a Kubernetes manifest carries.

usage: kubelet.py MANIFEST KIND NAME --runtime-classes FILE --image IMAGE
                  --cgroup-parent PATH --log-dir DIR --out DIR

Reads the object KIND/NAME from MANIFEST (a multi-document YAML file: a Pod, or an
agent-sandbox Sandbox or SandboxTemplate, whose spec.podTemplate is the pod) and writes,
as the kubelet would make them for the pod's first container:

  DIR/pod.json      the PodSandboxConfig (labels and annotations of the pod, its own
                    network namespace unless hostNetwork, then the node's, NODE: the
                    runtime refuses a pod with a policy there; cgroup parent, log
                    directory)
  DIR/ctr.json      the ContainerConfig (IMAGE instead of the manifest's image, which no
                    registry here serves; command and args; env; the memory and cpu
                    limits as memory_limit_in_bytes and cpu_quota/cpu_period)
  DIR/handler       the runtime handler: the handler of the RuntimeClass that the pod's
                    runtimeClassName names, looked up in FILE (empty without one)

Needs PyYAML (hack/setup installs it into the repository's .venv). A field this does not
translate (volumes, probes, securityContext, more than one container) is an error, so a
manifest cannot silently carry more than the test runs.
"""
import json
import os
import re
import sys

import yaml

# The fields of a pod spec that the translation below covers (or that do not reach the
# CRI); anything else fails loudly.
POD_FIELDS = {"containers", "runtimeClassName", "restartPolicy", "automountServiceAccountToken",
              "hostNetwork", "terminationGracePeriodSeconds"}
CONTAINER_FIELDS = {"name", "image", "command", "args", "env", "workingDir", "resources"}
BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40}
DECIMAL = {"k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
CPU_PERIOD = 100_000  # the kubelet's CFS period


def fail(message):
    raise SystemExit(f"kubelet.py: {message}")


def memory_bytes(quantity):
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?", str(quantity))
    if not m:
        fail(f"memory {quantity!r}: not a quantity this translates")
    return int(m.group(1)) * (BINARY.get(m.group(2)) or DECIMAL.get(m.group(2)) or 1)


def cpu_millis(quantity):
    text = str(quantity)
    if text.endswith("m") and text[:-1].isdigit():
        return int(text[:-1])
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return round(float(text) * 1000)
    fail(f"cpu {quantity!r}: not a quantity this translates")


def pod_template(docs, kind, name):
    for doc in docs:
        if doc and doc.get("kind") == kind and doc.get("metadata", {}).get("name") == name:
            if kind == "Pod":
                return doc.get("metadata", {}), doc["spec"]
            template = doc["spec"]["podTemplate"]
            return template.get("metadata", {}), template["spec"]
    fail(f"no {kind} {name!r} in the manifest")


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 64
    manifest, kind, name, rest = argv[0], argv[1], argv[2], argv[3:]
    opts = dict(zip(rest[::2], rest[1::2]))
    with open(manifest) as f:
        docs = list(yaml.safe_load_all(f))
    meta, spec = pod_template(docs, kind, name)
    extra = set(spec) - POD_FIELDS
    if extra:
        fail(f"{kind} {name}: pod spec fields not translated: {sorted(extra)}")
    if len(spec["containers"]) != 1:
        fail(f"{kind} {name}: one container expected, found {len(spec['containers'])}")
    container = spec["containers"][0]
    extra = set(container) - CONTAINER_FIELDS
    if extra:
        fail(f"{kind} {name}: container fields not translated: {sorted(extra)}")

    handler = ""
    if spec.get("runtimeClassName"):
        with open(opts["--runtime-classes"]) as f:
            classes = [d for d in yaml.safe_load_all(f) if d and d.get("kind") == "RuntimeClass"]
        match = [c for c in classes if c["metadata"]["name"] == spec["runtimeClassName"]]
        if not match:
            fail(f"RuntimeClass {spec['runtimeClassName']!r} not in {opts['--runtime-classes']}")
        handler = match[0]["handler"]

    network = "NODE" if spec.get("hostNetwork") else "POD"
    pod = {
        "metadata": {"name": name, "uid": f"uid-{name}-{os.getpid()}", "namespace": "default", "attempt": 0},
        "log_directory": opts["--log-dir"],
        "labels": meta.get("labels", {}),
        "annotations": meta.get("annotations", {}),
        "linux": {"cgroup_parent": opts["--cgroup-parent"],
                  "security_context": {"namespace_options": {"network": network, "pid": "CONTAINER", "ipc": "POD"}}},
    }
    if network == "POD":
        pod["hostname"] = name

    limits = container.get("resources", {}).get("limits", {})
    if set(container.get("resources", {})) - {"limits", "requests"} or set(limits) - {"memory", "cpu"}:
        fail(f"{kind} {name}: resources other than memory and cpu limits are not translated")
    resources = {}
    if "memory" in limits:
        resources["memory_limit_in_bytes"] = memory_bytes(limits["memory"])
    if "cpu" in limits:
        resources["cpu_period"] = CPU_PERIOD
        resources["cpu_quota"] = cpu_millis(limits["cpu"]) * CPU_PERIOD // 1000
    ctr = {
        "metadata": {"name": container["name"], "attempt": 0},
        "image": {"image": opts["--image"]},
        "command": container.get("command", []),
        "args": container.get("args", []),
        "working_dir": container.get("workingDir", ""),
        "envs": [{"key": e["name"], "value": e.get("value", "")} for e in container.get("env", [])],
        "log_path": container["name"] + ".log",
        "linux": {"resources": resources,
                  "security_context": {"namespace_options": {"network": network, "pid": "CONTAINER", "ipc": "POD"}}},
    }
    out = opts["--out"]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "pod.json"), "w") as f:
        json.dump(pod, f, indent=1)
    with open(os.path.join(out, "ctr.json"), "w") as f:
        json.dump(ctr, f, indent=1)
    with open(os.path.join(out, "handler"), "w") as f:
        f.write(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
