#!/usr/bin/env python3
"""A small CRI client (what the kubelet does, one call per command) for the tests.

usage: client.py --socket PATH COMMAND [ARGS...]

  version                         VersionResponse as JSON
  status                          StatusResponse (runtime conditions) as JSON
  image-status REF                ImageStatusResponse as JSON (empty image: not present)
  run-pod POD.json [--handler H]  RunPodSandbox; prints the sandbox id
  pod-status ID                   PodSandboxStatusResponse as JSON
  pods                            ListPodSandbox as JSON
  create POD_ID CTR.json POD.json CreateContainer; prints the container id
  start ID                        StartContainer
  wait ID [--timeout S]           waits until the container has exited; prints its exit code
  status-of ID                    ContainerStatusResponse (verbose) as JSON
  exec-sync ID [--timeout S] -- CMD...
                                  ExecSync; prints stdout, stderr to stderr, exits with
                                  the command's exit code
  stats ID                        ContainerStatsResponse as JSON
  update ID RESOURCES.json        UpdateContainerResources (a LinuxContainerResources)
  containers [--pod ID]           ListContainers as JSON
  stop ID [--timeout S]           StopContainer
  rm ID                           RemoveContainer
  stop-pod ID                     StopPodSandbox
  rm-pod ID                       RemovePodSandbox

POD.json is a PodSandboxConfig, CTR.json a ContainerConfig, in the protobuf JSON mapping
(field names as in api.proto or lowerCamelCase; enums by name, e.g. "network": "NODE").

The Python code for api.proto (beside this file) is generated with grpc_tools.protoc on
first use into $CRI_PB_DIR (default: a temporary directory removed at exit). Needs the
grpcio and grpcio-tools packages (hack/setup installs them into the repository's .venv).
Errors from the CRI are printed as "CODE: details" on stderr, exit code 1.
"""
import atexit
import hashlib
import importlib
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "api.proto")


def load_modules():
    """Generate (once per proto content) and import api_pb2 and api_pb2_grpc."""
    from grpc_tools import protoc

    with open(PROTO, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    base = os.environ.get("CRI_PB_DIR")
    if not base:
        base = tempfile.mkdtemp(prefix="cri-pb.")
        atexit.register(shutil.rmtree, base, True)
    out = os.path.join(base, digest)
    if not os.path.isfile(os.path.join(out, "api_pb2_grpc.py")):
        tmp = tempfile.mkdtemp(prefix=".gen.", dir=base)
        include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
        rc = protoc.main(["protoc", f"-I{HERE}", f"-I{include}", f"--python_out={tmp}",
                          f"--grpc_python_out={tmp}", PROTO])
        if rc != 0:
            raise SystemExit(f"client.py: protoc failed on {PROTO} ({rc})")
        try:
            os.rename(tmp, out)  # another client may have won the race: use its copy
        except OSError:
            shutil.rmtree(tmp, True)
    sys.path.insert(0, out)
    return importlib.import_module("api_pb2"), importlib.import_module("api_pb2_grpc")


def main(argv):
    import grpc
    from google.protobuf import json_format

    if len(argv) < 3 or argv[0] != "--socket":
        print(__doc__.strip(), file=sys.stderr)
        return 64
    socket_path, cmd, args = argv[1], argv[2], argv[3:]
    pb, pb_grpc = load_modules()
    channel = grpc.insecure_channel(f"unix://{socket_path}")
    rt = pb_grpc.RuntimeServiceStub(channel)
    img = pb_grpc.ImageServiceStub(channel)
    timeout = 60

    def show(msg):
        # Fields at their default (exit code 0, state SANDBOX_READY, ...) are printed too.
        print(json_format.MessageToJson(msg, preserving_proto_field_name=True, indent=None,
                                        sort_keys=True, always_print_fields_with_no_presence=True))

    def read(path, message):
        with open(path) as f:
            return json_format.Parse(f.read(), message)

    def option(name, default=None):
        if name in args:
            i = args.index(name)
            value = args[i + 1]
            del args[i:i + 2]
            return value
        return default

    try:
        if cmd == "version":
            show(rt.Version(pb.VersionRequest(version="v1"), timeout=timeout))
        elif cmd == "status":
            show(rt.Status(pb.StatusRequest(), timeout=timeout))
        elif cmd == "image-status":
            show(img.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=args[0])), timeout=timeout))
        elif cmd == "run-pod":
            handler = option("--handler", "")
            config = read(args[0], pb.PodSandboxConfig())
            resp = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=config, runtime_handler=handler), timeout=timeout)
            print(resp.pod_sandbox_id)
        elif cmd == "pod-status":
            show(rt.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=args[0], verbose=True), timeout=timeout))
        elif cmd == "pods":
            show(rt.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=timeout))
        elif cmd == "create":
            resp = rt.CreateContainer(pb.CreateContainerRequest(
                pod_sandbox_id=args[0], config=read(args[1], pb.ContainerConfig()),
                sandbox_config=read(args[2], pb.PodSandboxConfig())), timeout=timeout)
            print(resp.container_id)
        elif cmd == "start":
            rt.StartContainer(pb.StartContainerRequest(container_id=args[0]), timeout=timeout)
        elif cmd == "wait":
            limit = float(option("--timeout", "30"))
            deadline = time.monotonic() + limit
            while True:
                st = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=args[0]), timeout=timeout).status
                if st.state == pb.CONTAINER_EXITED:
                    print(st.exit_code)
                    break
                if time.monotonic() > deadline:
                    print(f"client.py: container {args[0]} still {pb.ContainerState.Name(st.state)} after {limit} s",
                          file=sys.stderr)
                    return 2
                time.sleep(0.1)
        elif cmd == "status-of":
            show(rt.ContainerStatus(pb.ContainerStatusRequest(container_id=args[0], verbose=True), timeout=timeout))
        elif cmd == "exec-sync":
            limit = int(option("--timeout", "0"))
            cid = args[0]
            command = args[args.index("--") + 1:] if "--" in args else args[1:]
            resp = rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=command, timeout=limit), timeout=timeout)
            sys.stdout.buffer.write(resp.stdout)
            sys.stderr.buffer.write(resp.stderr)
            return resp.exit_code
        elif cmd == "stats":
            show(rt.ContainerStats(pb.ContainerStatsRequest(container_id=args[0]), timeout=timeout))
        elif cmd == "update":
            rt.UpdateContainerResources(pb.UpdateContainerResourcesRequest(
                container_id=args[0], linux=read(args[1], pb.LinuxContainerResources())), timeout=timeout)
        elif cmd == "containers":
            pod = option("--pod", "")
            show(rt.ListContainers(pb.ListContainersRequest(filter=pb.ContainerFilter(pod_sandbox_id=pod)),
                                   timeout=timeout))
        elif cmd == "stop":
            t = int(option("--timeout", "0"))
            rt.StopContainer(pb.StopContainerRequest(container_id=args[0], timeout=t), timeout=timeout)
        elif cmd == "rm":
            rt.RemoveContainer(pb.RemoveContainerRequest(container_id=args[0]), timeout=timeout)
        elif cmd == "stop-pod":
            rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=args[0]), timeout=timeout)
        elif cmd == "rm-pod":
            rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=args[0]), timeout=timeout)
        else:
            print(f"client.py: unknown command {cmd}", file=sys.stderr)
            return 64
    except grpc.RpcError as e:
        print(f"{e.code().name}: {e.details()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
