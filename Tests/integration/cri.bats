#!/usr/bin/env bats
# The Kubernetes path without a cluster: containerd's CRI plugin, configured as
# hack/k8s/containerd.toml configures it (runtime handler "safehouse", the one
# hack/k8s/runtimeclass.yaml names), driven over its socket by a small CRI client
# (cri/client.py, gRPC from PyPI) the way the kubelet drives it: RunPodSandbox with the
# handler, CreateContainer, StartContainer, ContainerStatus, ExecSync, StopContainer,
# RemoveContainer, StopPodSandbox, RemovePodSandbox.
#
# The handler's BinaryName is $RUNTIME, so every test passes with RUNTIME=runc too.
# setup_file starts containerd on a private root, state, socket and shim root (the
# handler's Root option) under a temp dir, and imports the busybox image and a "pause"
# image built from the same rootfs (no registry is reachable). Pods use the host's
# network (NODE) unless a test asks for their own (NET_MODE=POD): then the CNI config
# setup_file writes (Debian's containernetworking-plugins: a bridge of this run's own
# on a private /24, host-local addresses, no masquerade, no default route: nothing
# leaves the machine) gives each pod a network namespace on that bridge, where two
# test hosts (a network namespace each, busybox httpd) serve. teardown_file removes
# every pod, stops containerd and removes every trace: the bridge, the test hosts and
# any iptables rule naming this run's network.

load helpers

IMAGE=docker.io/library/safehouse-busybox:latest
PAUSE_IMAGE=docker.io/library/safehouse-pause:latest
VENV_PYTHON="$REPO/.venv/bin/python"
# Where Debian's containernetworking-plugins puts the plugins (upstream: /opt/cni/bin).
CNI_BIN=/usr/lib/cni
# The pods' network mode (the CRI's NamespaceMode): NODE is the host's network, POD a
# network namespace of the pod's own, made by CNI.
NET_MODE=NODE

setup_file() {
	command -v containerd >/dev/null && command -v ctr >/dev/null || skip "containerd not installed"
	if ! "$VENV_PYTHON" -c 'import grpc, grpc_tools' 2>/dev/null; then
		echo "# $VENV_PYTHON lacks grpcio/grpcio-tools: run hack/setup" >&2
		return 1
	fi
	export CRI_DIR CRI_SOCK CRI_PID SHIM_ROOT CRI_PB_DIR CGROUP_PARENT CRI_MADE_RUN
	export CNI_NAME CNI_BRIDGE CNI_PREFIX CNI_READY
	CRI_DIR="$(mktemp -d /tmp/safehouse-cri.XXXXXX)"
	chmod 0755 "$CRI_DIR"
	CRI_SOCK="$CRI_DIR/containerd.sock"
	SHIM_ROOT="$CRI_DIR/runc"
	CRI_PB_DIR="$CRI_DIR/pb"
	CGROUP_PARENT="/safehouse-cri-$$"
	CRI_MADE_RUN=0
	[ -e /run/containerd ] || CRI_MADE_RUN=1
	mkdir -p "$CRI_DIR/cni" "$CRI_PB_DIR" "$CRI_DIR/logs"
	CNI_READY=0
	if [ -x "$CNI_BIN/bridge" ] && [ -x "$CNI_BIN/host-local" ] && [ -x "$CNI_BIN/loopback" ]; then
		cni_setup
	fi
	# The committed config, with this run's runtime, shim root and CNI dirs.
	sed -e "s|^\( *BinaryName = \).*|\1\"$RUNTIME\"|" \
		-e "s|^\( *Root = \).*|\1\"$SHIM_ROOT\"|" \
		-e "s|^\( *conf_dir = \).*|\1\"$CRI_DIR/cni\"|" \
		-e "s|^\( *bin_dir = \).*|\1\"$CNI_BIN\"|" \
		"$REPO/hack/k8s/containerd.toml" >"$CRI_DIR/config.toml"
	grep -q "BinaryName = \"$RUNTIME\"" "$CRI_DIR/config.toml"
	containerd --config "$CRI_DIR/config.toml" \
		--root "$CRI_DIR/root" --state "$CRI_DIR/state" --address "$CRI_SOCK" \
		</dev/null >"$CRI_DIR/containerd.log" 2>&1 3>&- &
	CRI_PID=$!
	local i
	for i in $(seq 100); do
		cri version >/dev/null 2>&1 && break
		sleep 0.1
	done
	cri version >/dev/null
	"$REPO/hack/mkimage" --rootfs "$ROOTFS" --name "$IMAGE" "$CRI_DIR/image.tar" 2>/dev/null
	"$REPO/hack/mkimage" --rootfs "$ROOTFS" --name "$PAUSE_IMAGE" --cmd sleep --cmd 2147483647 \
		"$CRI_DIR/pause.tar" 2>/dev/null
	ctr -a "$CRI_SOCK" -n k8s.io images import "$CRI_DIR/image.tar" >/dev/null
	ctr -a "$CRI_SOCK" -n k8s.io images import "$CRI_DIR/pause.tar" >/dev/null
}

teardown_file() {
	[ -n "${CRI_DIR:-}" ] || return 0
	local p c
	if [ -S "$CRI_SOCK" ]; then
		for p in $(cri pods 2>/dev/null | jq -r '.items[]?.id'); do
			cri stop-pod "$p" >/dev/null 2>&1 || true
			cri rm-pod "$p" >/dev/null 2>&1 || true
		done
		for c in $(ctr -a "$CRI_SOCK" -n k8s.io tasks ls -q 2>/dev/null); do
			ctr -a "$CRI_SOCK" -n k8s.io tasks kill -a -s KILL "$c" >/dev/null 2>&1 || true
			sleep 0.2
			ctr -a "$CRI_SOCK" -n k8s.io tasks rm -f "$c" >/dev/null 2>&1 || true
		done
	fi
	if [ -n "${CRI_PID:-}" ] && kill -0 "$CRI_PID" 2>/dev/null; then
		kill -TERM "$CRI_PID"
		for _ in $(seq 100); do kill -0 "$CRI_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$CRI_PID" 2>/dev/null || true
		wait "$CRI_PID" 2>/dev/null || true
	fi
	# Whatever the runtime still knows of (a test that died half way).
	_cleanup_root "$RUNTIME" "$SHIM_ROOT/k8s.io"
	awk -v d="$CRI_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -path "*${CGROUP_PARENT}*" 2>/dev/null | sort -r |
		while read -r d; do rmdir "$d" 2>/dev/null || true; done
	if [ "$CRI_MADE_RUN" = 1 ]; then
		rmdir /run/containerd/fifo /run/containerd/s /run/containerd 2>/dev/null || true
	fi
	cni_teardown
	rm -rf "$CRI_DIR"
}

# cni_setup: the CNI config, its bridge and the test hosts; sets CNI_READY=1.
cni_setup() {
	CNI_NAME="safehouse-cri-$$"
	CNI_BRIDGE="shcri$$"
	# A private /24 no route of the host uses yet: 10.213.N.0/24.
	local n=$(($$ % 200 + 20)) i
	for i in $(seq 200); do
		ip route | grep -q "^10\.213\.$n\." || break
		n=$(((n + 1) % 250))
	done
	CNI_PREFIX="10.213.$n"
	# bridge: the pod's end of a veth on CNI_BRIDGE, which is the gateway (.1) but
	# routes nothing further: no ipMasq, and host-local gives no routes, so the pod has
	# its subnet only. containerd adds the loopback plugin itself (lo up in the pod).
	jq -n --arg name "$CNI_NAME" --arg br "$CNI_BRIDGE" --arg subnet "$CNI_PREFIX.0/24" \
		--arg data "$CRI_DIR/cni-ipam" '{
		cniVersion: "1.0.0", name: $name,
		plugins: [{type: "bridge", bridge: $br, isGateway: true, ipMasq: false, hairpinMode: true,
			ipam: {type: "host-local", dataDir: $data,
				ranges: [[{subnet: $subnet, rangeStart: ($subnet | sub("0/24$"; "10")), rangeEnd: ($subnet | sub("0/24$"; "200"))}]]}}]
	}' >"$CRI_DIR/cni/10-safehouse-cri.conflist"
	# The bridge now, so the test hosts can join it before the first pod.
	ip link add name "$CNI_BRIDGE" type bridge
	ip link set "$CNI_BRIDGE" up
	cni_test_host 250
	cni_test_host 251
	CNI_READY=1
}

# cni_test_host N: a network namespace at CNI_PREFIX.N on the bridge, serving
# http://CNI_PREFIX.N:8080/id (its own address) with busybox httpd. (Clients use
# `timeout 5 wget`: wget -T crashes in Debian's busybox 1.35.)
cni_test_host() {
	local n="$1" ns="shcri-$$-$1" www="$CRI_DIR/www-$1"
	mkdir -p "$www"
	echo "host $CNI_PREFIX.$n" >"$www/id"
	ip netns add "$ns"
	ip link add "shc$$h$n" type veth peer name "shc$$p$n"
	ip link set "shc$$h$n" master "$CNI_BRIDGE" up
	ip link set "shc$$p$n" netns "$ns"
	ip -n "$ns" addr add "$CNI_PREFIX.$n/24" dev "shc$$p$n"
	ip -n "$ns" link set "shc$$p$n" up
	ip -n "$ns" link set lo up
	ip netns exec "$ns" busybox httpd -p "$CNI_PREFIX.$n:8080" -h "$www" </dev/null >/dev/null 2>&1 3>&-
}

cni_teardown() {
	[ -n "${CNI_NAME:-}" ] || return 0
	local ns pid
	for ns in $(ip netns list | awk -v p="shcri-$$-" 'index($1, p) == 1 { print $1 }'); do
		# The test host's httpd (it daemonised) goes with its namespace.
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
		ip netns del "$ns" 2>/dev/null || true
	done
	ip link del "$CNI_BRIDGE" 2>/dev/null || true
	# The bridge plugin adds rules only for ipMasq (not set here); any rule naming this
	# run's network (its comment) goes all the same.
	local table rule
	for table in nat filter; do
		iptables-save -t "$table" 2>/dev/null | grep -F -- "$CNI_NAME" | grep '^-A ' |
			while read -r rule; do eval "iptables -t $table -D ${rule#-A }" 2>/dev/null || true; done
	done
}

setup() { common_setup; }
teardown() { common_teardown; }

# cri COMMAND ARGS...: the CRI client against this file's containerd.
cri() { "$VENV_PYTHON" "$BATS_TEST_DIRNAME/cri/client.py" --socket "$CRI_SOCK" "$@"; }

# The shim's runtime root for the CRI's namespace: the runtime keeps its state there.
rtk() { "$RUNTIME" --root "$SHIM_ROOT/k8s.io" "$@"; }

# pod_json NAME [PID_MODE]: a PodSandboxConfig as the kubelet sends one, in the network
# NET_MODE names (NODE: hostNetwork, no hostname then), with an io.safehouse.*
# annotation (not the policy one: that would make it a sandbox) and one that the handler
# does not pass on, in $TEST_TMP/NAME.pod.json.
pod_json() {
	local name="$1" pid="${2:-CONTAINER}"
	jq -n --arg name "$name" --arg uid "uid-$name-$$" --arg logs "$TEST_TMP/logs/$name" \
		--arg cg "$CGROUP_PARENT/pod-$name" --arg pid "$pid" --arg net "$NET_MODE" '{
		metadata: {name: $name, uid: $uid, namespace: "default", attempt: 0},
		log_directory: $logs,
		labels: {"app": $name},
		annotations: {"io.safehouse.tenant": "test-tenant", "example.com/not-passed": "x"},
		linux: {cgroup_parent: $cg,
			security_context: {namespace_options: {network: $net, pid: $pid, ipc: "POD"}}}
	} | if $net == "POD" then .hostname = $name else . end' >"$TEST_TMP/$name.pod.json"
	mkdir -p "$TEST_TMP/logs/$name"
}

# ctr_json NAME POD PID_MODE ARGS...: a ContainerConfig running ARGS in the busybox
# image (network NET_MODE), logging to NAME.log in the pod's log directory, in
# $TEST_TMP/NAME.ctr.json.
ctr_json() {
	local name="$1" pid="$3"
	shift 3
	jq -n --arg name "$name" --arg image "$IMAGE" --arg pid "$pid" --arg net "$NET_MODE" '{
		metadata: {name: $name, attempt: 0},
		image: {image: $image},
		command: $ARGS.positional,
		log_path: ($name + ".log"),
		annotations: {"io.safehouse.container-note": "from-container"},
		linux: {security_context: {namespace_options: {network: $net, pid: $pid, ipc: "POD"}}}
	}' --args -- "$@" >"$TEST_TMP/$name.ctr.json"
}

# The handler hack/k8s/runtimeclass.yaml names (the kubelet passes it on as is).
HANDLER="$(sed -n 's/^handler: *//p' "$REPO/hack/k8s/runtimeclass.yaml")"

# run_pod NAME [PID_MODE]: RunPodSandbox with the RuntimeClass's handler; sets POD.
run_pod() {
	pod_json "$@"
	POD="$(cri run-pod "$TEST_TMP/$1.pod.json" --handler "$HANDLER")"
	[ -n "$POD" ]
}

# create_ctr NAME POD_NAME PID_MODE ARGS...: CreateContainer in pod POD_NAME; sets CID.
create_ctr() {
	local name="$1" pod="$2"
	ctr_json "$@"
	CID="$(cri create "$POD" "$TEST_TMP/$name.ctr.json" "$TEST_TMP/$pod.pod.json")"
	[ -n "$CID" ]
}

# remove_pod: StopPodSandbox and RemovePodSandbox of $POD; the runtime forgets it.
remove_pod() {
	cri stop-pod "$POD"
	cri rm-pod "$POD"
	run rtk state "$POD"
	[ "$status" != 0 ]
	[ "$(cri pods | jq '.items | length')" = 0 ]
}

# stdout_lines LOG: the stdout lines of a CRI log file ("TIMESTAMP stdout F LINE").
stdout_lines() { sed -n 's/^[^ ]* stdout [FP] //p' "$1"; }

# bundle_config ID: the config.json the shim handed the runtime for container ID.
bundle_config() { cat "$CRI_DIR/state/io.containerd.runtime.v2.task/k8s.io/$1/config.json"; }

@test "cri: the RuntimeClass's handler is a runtime entry of the CRI config, with BinaryName and pod_annotations" {
	[ "$HANDLER" = safehouse ]
	run "$VENV_PYTHON" -c '
import sys, tomllib
cri = tomllib.load(open(sys.argv[1], "rb"))["plugins"]["io.containerd.grpc.v1.cri"]
entry = cri["containerd"]["runtimes"][sys.argv[2]]
print(entry["runtime_type"], entry["options"]["BinaryName"], entry["pod_annotations"], cri["sandbox_image"])
' "$REPO/hack/k8s/containerd.toml" "$HANDLER"
	[ "$status" = 0 ]
	[ "$output" = "io.containerd.runc.v2 /usr/local/bin/safehouse ['io.safehouse.*'] $PAUSE_IMAGE" ]
	# containerd took this run's copy of it (the runtime under test as BinaryName).
	grep -q "safehouse:{Type:io.containerd.runc.v2 .*PodAnnotations:\[io.safehouse.\*\].*BinaryName:$RUNTIME " "$CRI_DIR/containerd.log"
}

@test "cri: containerd serves CRI v1 with the local sandbox image" {
	run cri version
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r .runtime_api_version)" = v1 ]
	[ "$(echo "$output" | jq -r .runtime_name)" = containerd ]
	run cri image-status "$PAUSE_IMAGE"
	[ "$(echo "$output" | jq -r '.image.repo_tags[0]')" = "$PAUSE_IMAGE" ]
}

@test "cri: RunPodSandbox with runtime handler safehouse runs the sandbox on RUNTIME, with the io.safehouse.* pod annotations" {
	run_pod sbx
	run cri pod-status "$POD"
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r .status.state)" = SANDBOX_READY ]
	[ "$(echo "$output" | jq -r .status.runtime_handler)" = "$HANDLER" ]
	# The runtime itself knows the sandbox container, running, with the pid containerd has.
	run rtk state "$POD"
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r .status)" = running ]
	[ "$(echo "$output" | jq -r .pid)" = "$(cat "$CRI_DIR/state/io.containerd.runtime.v2.task/k8s.io/$POD/init.pid")" ]
	[[ "$(cat "/proc/$(echo "$output" | jq -r .pid)/cmdline" | tr '\0' ' ')" == "sleep 2147483647 " ]]
	# pod_annotations = ["io.safehouse.*"]: that annotation reaches config.json, others not.
	[ "$(bundle_config "$POD" | jq -r '.annotations["io.safehouse.tenant"]')" = test-tenant ]
	[ "$(bundle_config "$POD" | jq -r '.annotations["example.com/not-passed"]')" = null ]
	[ "$(bundle_config "$POD" | jq -r '.annotations["io.kubernetes.cri.container-type"]')" = sandbox ]
	remove_pod
}

@test "cri: a container runs on RUNTIME: output in the CRI log, exit code in ContainerStatus, pod annotations in its config.json" {
	run_pod app
	create_ctr hello app CONTAINER sh -c 'echo hello from cri; id -u; readlink /proc/self/ns/pid; sleep 0.5; exit 3'
	# Created in containerd only: the CRI makes the runtime's container at StartContainer.
	[ "$(cri status-of "$CID" | jq -r .status.state)" = CONTAINER_CREATED ]
	# The spec the runtime will get (the bundle's config.json is checked in the next
	# test, on a container that lives long enough to look).
	local spec
	spec="$(cri status-of "$CID" | jq -r .info.info | jq .runtimeSpec)"
	[ "$(echo "$spec" | jq -r '.annotations["io.safehouse.tenant"]')" = test-tenant ]
	[ "$(echo "$spec" | jq -r '.annotations["io.safehouse.container-note"]')" = from-container ]
	[ "$(echo "$spec" | jq -r '.annotations["example.com/not-passed"]')" = null ]
	cri start "$CID"
	run cri wait "$CID" --timeout 20
	[ "$status" = 0 ]
	[ "$output" = 3 ]
	run cri status-of "$CID"
	[ "$(echo "$output" | jq -r .status.state)" = CONTAINER_EXITED ]
	[ "$(echo "$output" | jq -r .status.exit_code)" = 3 ]
	[ "$(echo "$output" | jq -r .status.reason)" = Error ]
	# CRI log format: TIMESTAMP STREAM TAG LINE.
	local log="$TEST_TMP/logs/app/hello.log"
	cat "$log" >&2
	[ "$(stdout_lines "$log" | head -2)" = "hello from cri
0" ]
	# pid: CONTAINER gives the container its own pid namespace.
	[ "$(stdout_lines "$log" | sed -n 3p)" != "$(readlink /proc/self/ns/pid)" ]
	cri rm "$CID"
	run cri status-of "$CID"
	[ "$status" != 0 ]
	remove_pod
}

@test "cri: ExecSync, ContainerStats, StopContainer (SIGTERM) and RemoveContainer of a running container" {
	run_pod svc
	create_ctr server svc CONTAINER sh -c 'trap "exit 143" TERM; while :; do sleep 0.1; done'
	cri start "$CID"
	[ "$(rtk state "$CID" | jq -r .status)" = running ]
	[ "$(cri status-of "$CID" | jq -r .status.state)" = CONTAINER_RUNNING ]
	# What the runtime was given: the pod's and the container's io.safehouse.*
	# annotations (pod_annotations, container_annotations), and nothing else of theirs.
	local cfg
	cfg="$(bundle_config "$CID")"
	[ "$(echo "$cfg" | jq -r '.annotations["io.safehouse.tenant"]')" = test-tenant ]
	[ "$(echo "$cfg" | jq -r '.annotations["io.safehouse.container-note"]')" = from-container ]
	[ "$(echo "$cfg" | jq -r '.annotations["example.com/not-passed"]')" = null ]
	[ "$(echo "$cfg" | jq -r '.annotations["io.kubernetes.cri.sandbox-id"]')" = "$POD" ]
	[ "$(rtk state "$CID" | jq -r '.annotations["io.safehouse.tenant"]')" = test-tenant ]
	# ExecSync: `RUNTIME exec` with stdout, stderr and the exit code.
	run cri exec-sync "$CID" -- sh -c 'echo out; echo err >&2; exit 6'
	[ "$status" = 6 ]
	[[ "$output" == *out* ]]
	[[ "$output" == *err* ]]
	# ContainerStats: the shim reads the container's cgroups.
	run cri stats "$CID"
	[ "$status" = 0 ]
	[ "$(echo "$output" | jq -r '.stats.memory.working_set_bytes.value // 0')" -gt 0 ]
	[ "$(echo "$output" | jq -r '.stats.cpu.usage_core_nano_seconds.value // 0')" -gt 0 ]
	# StopContainer: SIGTERM first (the trap exits 143), SIGKILL after the timeout.
	cri stop "$CID" --timeout 10
	run cri wait "$CID" --timeout 5
	[ "$output" = 143 ]
	run rtk state "$CID"
	[ "$status" != 0 ] # the CRI deleted it from the runtime once it exited
	cri rm "$CID"
	# RemoveContainer of a running container stops it first (SIGKILL).
	create_ctr sleeper svc CONTAINER sleep 1000
	cri start "$CID"
	cri rm "$CID"
	run rtk state "$CID"
	[ "$status" != 0 ]
	remove_pod
}

@test "cri: a container sharing the pod's pid namespace: its init's children are killed when it exits (kill --all of a stopped container)" {
	run_pod shared POD
	create_ctr forker shared POD sh -c 'sleep 1000 & echo $!; exit 0'
	cri start "$CID"
	run cri wait "$CID" --timeout 20
	[ "$output" = 0 ]
	# The CRI deletes the task with `kill --all ID KILL` first: nothing is left in the
	# container's cgroup and the runtime no longer knows it.
	local procs i
	for i in $(seq 50); do
		procs="$(cat /sys/fs/cgroup/pids"$CGROUP_PARENT/pod-shared/$CID"/cgroup.procs 2>/dev/null || true)"
		[ -z "$procs" ] && break
		sleep 0.1
	done
	[ -z "$procs" ]
	run rtk state "$CID"
	[ "$status" != 0 ]
	cri rm "$CID"
	remove_pod
}

@test "cri: a restricted container (RuntimeDefault seccomp, uid 1000, read-only root, no capabilities, limits) and UpdateContainerResources" {
	run_pod locked
	ctr_json tight locked CONTAINER sh -c 'id -u; id -g; grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status; touch /x 2>/dev/null || echo read-only; sleep 1000'
	jq '.linux.security_context += {
		run_as_user: {value: 1000}, run_as_group: {value: 1000}, readonly_rootfs: true,
		no_new_privs: true, capabilities: {drop_capabilities: ["ALL"]},
		seccomp: {profile_type: "RuntimeDefault"}}
	| .linux.resources = {memory_limit_in_bytes: 67108864, cpu_shares: 512, cpu_period: 100000, cpu_quota: 50000}' \
		"$TEST_TMP/tight.ctr.json" >"$TEST_TMP/tight.json"
	CID="$(cri create "$POD" "$TEST_TMP/tight.json" "$TEST_TMP/locked.pod.json")"
	cri start "$CID"
	local log="$TEST_TMP/logs/locked/tight.log" i
	for i in $(seq 50); do [ "$(grep -c ' stdout ' "$log" 2>/dev/null)" -ge 6 ] && break; sleep 0.1; done
	cat "$log" >&2
	[ "$(stdout_lines "$log")" = "1000
1000
CapEff:	0000000000000000
NoNewPrivs:	1
Seccomp:	2
read-only" ]
	# The limits in the container's cgroups (cgroupsPath = the pod's parent + the id).
	local cg="$CGROUP_PARENT/pod-locked/$CID" cpu
	cpu="$(ls -d /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct 2>/dev/null | head -1)"
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = 67108864 ]
	[ "$(cat "$cpu$cg/cpu.shares")" = 512 ]
	[ "$(cat "$cpu$cg/cpu.cfs_quota_us")" = 50000 ]
	# UpdateContainerResources: `RUNTIME update --resources -` on the live container.
	echo '{"memory_limit_in_bytes": 134217728, "cpu_shares": 256, "cpu_period": 100000, "cpu_quota": 20000}' >"$TEST_TMP/res.json"
	cri update "$CID" "$TEST_TMP/res.json"
	[ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = 134217728 ]
	[ "$(cat "$cpu$cg/cpu.shares")" = 256 ]
	[ "$(cat "$cpu$cg/cpu.cfs_quota_us")" = 20000 ]
	cri rm "$CID"
	remove_pod
}

@test "cri: a container with tty: true gets a terminal (console socket) and its output in the log" {
	run_pod term
	ctr_json console term CONTAINER sh -c 'tty; [ -t 1 ] && echo stdout-is-a-tty; exit 0'
	jq '.tty = true | .stdin = true | .stdin_once = true' "$TEST_TMP/console.ctr.json" >"$TEST_TMP/console.json"
	CID="$(cri create "$POD" "$TEST_TMP/console.json" "$TEST_TMP/term.pod.json")"
	cri start "$CID"
	run cri wait "$CID" --timeout 20
	[ "$output" = 0 ]
	local log="$TEST_TMP/logs/term/console.log"
	cat "$log" >&2
	[[ "$(stdout_lines "$log" | tr -d '\r' | head -1)" =~ ^/dev/pts/[0-9]+$ ]]
	[ "$(stdout_lines "$log" | tr -d '\r' | sed -n 2p)" = stdout-is-a-tty ]
	cri rm "$CID"
	remove_pod
}

@test "cri: StartContainer of a container that cannot start fails with the runtime's message" {
	run_pod broken
	create_ctr nobin broken CONTAINER /no/such/binary
	run cri start "$CID"
	echo "$output" >&2
	[ "$status" != 0 ]
	# The shim read the runtime's JSON log: its msg names the missing program.
	[[ "$output" == *"OCI runtime create failed"*"/no/such/binary"* ]]
	run cri status-of "$CID"
	[ "$(echo "$output" | jq -r .status.state)" = CONTAINER_EXITED ]
	[ "$(echo "$output" | jq -r .status.exit_code)" = 128 ]
	[[ "$(echo "$output" | jq -r .status.message)" == *"/no/such/binary"* ]]
	run rtk state "$CID"
	[ "$status" != 0 ] # nothing half made is left in the runtime
	cri rm "$CID"
	remove_pod
}

# cni_required: the pod-network tests need the plugins setup_file looked for.
cni_required() {
	[ "${CNI_READY:-0}" = 1 ] || skip "containernetworking-plugins not installed in $CNI_BIN (hack/setup installs it)"
}

# netns_of PID: the network namespace of a process, as readlink names it.
netns_of() { readlink "/proc/$1/ns/net"; }

@test "cri: a pod with its own network (CNI bridge): a new namespace, shared by its containers, an address on the bridge, nothing routed off it" {
	cni_required
	NET_MODE=POD
	run_pod netpod
	local ip sbx_pid sbx_net path
	ip="$(cri pod-status "$POD" | jq -r .status.network.ip)"
	echo "# pod ip $ip" >&2
	[[ "$ip" == "$CNI_PREFIX".* ]]
	# The sandbox runs on RUNTIME in the namespace the CRI made (config.json names its
	# path) and that is not the host's.
	sbx_pid="$(rtk state "$POD" | jq -r .pid)"
	sbx_net="$(netns_of "$sbx_pid")"
	[ "$sbx_net" != "$(netns_of $$)" ]
	path="$(bundle_config "$POD" | jq -r '.linux.namespaces[] | select(.type == "network") | .path')"
	[ -n "$path" ]
	[ "$path" != null ]
	[ "net:[$(stat -L -c %i "$path")]" = "$sbx_net" ]
	# Two containers of the pod: the sandbox's namespace, seen from inside.
	local one two
	create_ctr one netpod CONTAINER sleep 1000
	one="$CID"
	cri start "$one"
	create_ctr two netpod CONTAINER sleep 1000
	two="$CID"
	cri start "$two"
	[ "$(cri exec-sync "$one" -- readlink /proc/self/ns/net)" = "$sbx_net" ]
	[ "$(cri exec-sync "$two" -- readlink /proc/self/ns/net)" = "$sbx_net" ]
	[ "$(netns_of "$(rtk state "$two" | jq -r .pid)")" = "$sbx_net" ]
	# The pod's address on eth0, its subnet the only route: no default route.
	run cri exec-sync "$one" -- ip -4 -o addr show eth0
	[[ "$output" == *" inet $ip/24 "* ]]
	run cri exec-sync "$two" -- ip route
	echo "$output" >&2
	[ "$output" = "$CNI_PREFIX.0/24 dev eth0 scope link  src $ip " ]
	run cri exec-sync "$one" -- ip route get 192.0.2.1
	[ "$status" != 0 ]
	# A test host on the bridge answers both containers.
	run cri exec-sync "$one" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
	[ "$status" = 0 ]
	[ "$output" = "host $CNI_PREFIX.250" ]
	run cri exec-sync "$two" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.251:8080/id"
	[ "$output" = "host $CNI_PREFIX.251" ]
	cri rm "$one"
	cri rm "$two"
	remove_pod
}

# policy_pod NAME ANNOTATIONS_JSON: pod_json in NET_MODE, plus the given pod annotations
# (the policy's), and a pids limit on the pod's cgroup as the kubelet sets one
# (podPidsLimit, 64 here: the CRI has no per-container pids field); sets POD.
policy_pod() {
	local name="$1" extra="$2" pids
	pod_json "$name"
	jq --argjson extra "$extra" '.annotations += $extra' "$TEST_TMP/$name.pod.json" >"$TEST_TMP/$name.p.json"
	mv "$TEST_TMP/$name.p.json" "$TEST_TMP/$name.pod.json"
	pids="/sys/fs/cgroup/pids$CGROUP_PARENT/pod-$name"
	mkdir -p "$pids"
	echo 64 >"$pids/pids.max"
	POD="$(cri run-pod "$TEST_TMP/$name.pod.json" --handler "$HANDLER")"
	[ -n "$POD" ]
}

# needs_safehouse: runc ignores the policy annotation.
needs_safehouse() {
	"$RUNTIME" --version | grep -q '^safehouse' || skip "RUNTIME $RUNTIME is not safehouse (runc ignores the policy annotation)"
}

@test "cri: a policy (io.safehouse.policy, no network.allow) in a pod's own network namespace: ephemeral root, limits, audit log" {
	cni_required
	needs_safehouse
	NET_MODE=POD
	policy_pod agentpod '{"io.safehouse.policy": "default"}'
	# The container's memory limit is the pod spec's (memory_limit_in_bytes), its audit
	# log a file of this test's (io.safehouse.audit, a container annotation).
	ctr_json agent agentpod CONTAINER sh -c '
		grep " / / " /proc/self/mountinfo | grep -o " - overlay "
		echo note >/agent-note && cat /agent-note
		cat /sys/fs/cgroup/memory/memory.limit_in_bytes
		echo "forked $(sh -c "for i in \$(seq 80); do sleep 30 >/dev/null & echo \$i; done" 2>/dev/null | wc -l)"
		readlink /proc/self/ns/net'
	jq --arg audit "$TEST_TMP/agent.audit.jsonl" '.linux.resources = {memory_limit_in_bytes: 67108864}
		| .annotations["io.safehouse.audit"] = $audit' "$TEST_TMP/agent.ctr.json" >"$TEST_TMP/agent.json"
	CID="$(cri create "$POD" "$TEST_TMP/agent.json" "$TEST_TMP/agentpod.pod.json")"
	cri start "$CID"
	run cri wait "$CID" --timeout 30
	[ "$output" = 0 ]
	local log="$TEST_TMP/logs/agentpod/agent.log" audit="$TEST_TMP/agent.audit.jsonl" forked
	cat "$log" >&2
	# From inside: the root is the ephemeral overlay, and writable.
	[ "$(stdout_lines "$log" | sed -n 1,3p)" = " - overlay 
note
67108864" ]
	# The pod's pids limit stopped the fork loop short (other processes of the pod count).
	forked="$(stdout_lines "$log" | sed -n 's/^forked //p')"
	[ "$forked" -gt 10 ]
	[ "$forked" -lt 64 ]
	# The pod's own network namespace, not the host's.
	[ "$(stdout_lines "$log" | sed -n 5p)" = "$(netns_of "$(rtk state "$POD" | jq -r .pid)")" ]
	[ "$(stdout_lines "$log" | sed -n 5p)" != "$(netns_of $$)" ]
	# The audit log: a valid chain with the lifecycle, the exit code, the refused forks
	# the warden counted and the file written to the ephemeral root.
	wait_for 10 sh -c "jq -e -s 'map(.kind) | index(\"close\")' '$audit' >/dev/null"
	"$RUNTIME" audit verify "$audit"
	[ "$(jq -r -s '[.[].kind] | map(select(. == "create" or . == "start" or . == "exit" or . == "delete")) | join(" ")' "$audit")" = "create start exit delete" ]
	jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 0}' "$audit"
	jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.pidsLimitHits >= 1' "$audit"
	jq -e -s 'map(select(.kind == "changes")) | .[0].details.entries | map(.path) | index("/agent-note")' "$audit"
	cri rm "$CID"
	remove_pod
}

# egress_pod NAME ALLOW: a pod in its own network (NET_MODE=POD) whose annotations are a
# whole policy as `agent spec` writes it (the engine passes it on as is), allowing ALLOW,
# with the pod's audit log in $TEST_TMP/NAME.audit.jsonl; sets POD.
egress_pod() {
	NET_MODE=POD
	policy_pod "$1" "$(jq -n --arg allow "$2" --arg audit "$TEST_TMP/$1.audit.jsonl" '{
		"io.safehouse.policy": "cri-egress", "io.safehouse.limits.disk": "67108864",
		"io.safehouse.network.allow": $allow, "io.safehouse.audit": $audit}')"
}

# egress_owner: the file the runtime keeps for the pod's network namespace (the one
# SharedNetworkEgress names: device-inode of the namespace), as JSON.
egress_owner() {
	local path
	path="$(bundle_config "$POD" | jq -r '.linux.namespaces[] | select(.type == "network") | .path')"
	cat "$SHIM_ROOT/k8s.io/@netns/$(stat -L -c '%d-%i' "$path").json"
}

@test "cri: a policy with network.allow in a pod's own network namespace: the allowed test host is reachable from two containers, the other refused" {
	cni_required
	needs_safehouse
	# Only the test host at .250 is allowed; .251, on the same bridge, is not.
	egress_pod egresspod "$CNI_PREFIX.250:8080"
	# The pod sandbox (pause) container serves the namespace's egress.
	[ "$(egress_owner | jq -r .container)" = "$POD" ]
	[ "$(egress_owner | jq -r .wardenPid)" = "$(jq -r .wardenPid "$SHIM_ROOT/k8s.io/$POD/state.json")" ]
	local c ids=()
	for c in first second; do
		create_ctr "$c" egresspod CONTAINER sleep 1000
		cri start "$CID"
		ids+=("$CID")
	done
	for c in "${ids[@]}"; do
		# Direct connections are captured (transparent egress) and the allowlist decides.
		run cri exec-sync "$c" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
		[ "$status" = 0 ]
		[ "$output" = "host $CNI_PREFIX.250" ]
		run cri exec-sync "$c" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.251:8080/id"
		[ "$status" != 0 ]
		[[ "$output" != *"host $CNI_PREFIX.251"* ]]
		# And through the proxy the warden serves on the pod's loopback.
		run cri exec-sync "$c" -- env http_proxy=http://127.0.0.1:3128 timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
		[ "$output" = "host $CNI_PREFIX.250" ]
		run cri exec-sync "$c" -- env http_proxy=http://127.0.0.1:3128 timeout 5 wget -q -O- "http://$CNI_PREFIX.251:8080/id"
		[ "$status" != 0 ]
	done
	# The refusals are in the pod's audit log.
	jq -e -s --arg h "$CNI_PREFIX.251" 'map(select(.kind == "egress" and (.details.decision | tostring | contains("denied") and contains($h)))) | length > 0' \
		"$TEST_TMP/egresspod.audit.jsonl"
	# The containers are gone, the pod's warden still serves: a third container reaches
	# the allowed host.
	for c in "${ids[@]}"; do cri rm "$c"; done
	create_ctr third egresspod CONTAINER sleep 1000
	cri start "$CID"
	run cri exec-sync "$CID" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
	[ "$output" = "host $CNI_PREFIX.250" ]
	cri rm "$CID"
	remove_pod
	# The owner's record went with the pod sandbox.
	[ -z "$(ls "$SHIM_ROOT/k8s.io/@netns")" ]
}

# A pod whose policy has no network.allow (the default policy) gets what `agent run` gives
# such a policy, no network at all: the pod sandbox serves the pod's namespace with an
# empty allowlist, so every connection and DNS query of every container is captured and
# refused (and recorded), while loopback, inside the namespace, still works.
@test "cri: a pod whose policy has no network.allow reaches nothing (a test host a plain pod reaches), loopback works, the refusals in its audit log; an allowlist in it is refused" {
	cni_required
	needs_safehouse
	NET_MODE=POD
	# Without the annotation, a pod on the same bridge reaches the test host.
	run_pod plainnet
	create_ctr reach plainnet CONTAINER timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
	cri start "$CID"
	run cri wait "$CID" --timeout 30
	[ "$output" = 0 ]
	[ "$(stdout_lines "$TEST_TMP/logs/plainnet/reach.log")" = "host $CNI_PREFIX.250" ]
	cri rm "$CID"
	remove_pod
	local audit="$TEST_TMP/nonet.audit.jsonl"
	policy_pod nonetpod "$(jq -n --arg audit "$audit" '{"io.safehouse.policy": "default", "io.safehouse.audit": $audit}')"
	# The pod sandbox serves the namespace, with an empty allowlist.
	[ "$(egress_owner | jq -r .container)" = "$POD" ]
	[ "$(egress_owner | jq -c .terms)" = '{"network.allow":""}' ]
	# One container serves http on the pod's loopback; another reaches it there.
	create_ctr lo nonetpod CONTAINER sh -c 'mkdir -p /tmp/w && echo loopback >/tmp/w/id && exec httpd -f -p 127.0.0.1:8081 -h /tmp/w'
	cri start "$CID"
	local lo="$CID"
	create_ctr app nonetpod CONTAINER sleep 1000
	cri start "$CID"
	local c
	for c in "$lo" "$CID"; do
		run cri exec-sync "$c" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
		echo "$output" >&2
		[ "$status" != 0 ]
		[[ "$output" != *"host $CNI_PREFIX.250"* ]]
		run cri exec-sync "$c" -- timeout 5 nslookup www.example.test 192.0.2.53
		[ "$status" != 0 ]
	done
	wait_for 5 cri exec-sync "$CID" -- timeout 5 wget -q -O- http://127.0.0.1:8081/id
	[ "$(cri exec-sync "$CID" -- timeout 5 wget -q -O- http://127.0.0.1:8081/id)" = loopback ]
	# The refusals are recorded as any egress decision is, in the pod's audit log.
	wait_for 5 jq -e -s --arg h "$CNI_PREFIX.250" 'map(select(.kind == "egress" and (.details.decision | tostring | contains("denied") and contains($h)))) | length > 0' "$audit"
	jq -e -s 'map(select(.kind == "egress" and (tostring | contains("www.example.test")))) | length > 0' "$audit"
	# A container asking for an allowlist in this pod: refused, naming the pod sandbox.
	ctr_json wider nonetpod CONTAINER sleep 1000
	jq --arg allow "$CNI_PREFIX.250:8080" '.annotations += {"io.safehouse.policy": "cri-egress",
		"io.safehouse.limits.disk": "67108864", "io.safehouse.network.allow": $allow}' \
		"$TEST_TMP/wider.ctr.json" >"$TEST_TMP/wider.json"
	local wider
	wider="$(cri create "$POD" "$TEST_TMP/wider.json" "$TEST_TMP/nonetpod.pod.json")"
	run cri start "$wider"
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"is served by container $POD, whose policy has network.allow none; this container's has \"$CNI_PREFIX.250:8080\""* ]]
	cri rm "$wider"
	cri rm "$lo"
	cri rm "$CID"
	remove_pod
	[ -z "$(ls "$SHIM_ROOT/k8s.io/@netns")" ]
}

# The engine form (the policy by name alone, here a file of the root's policy
# directory) with an allowlist: the whole policy is laid over each spec (the proxy
# variables where containerd set none), and the pod's sandbox serves the egress.
@test "cri: io.safehouse.policy naming a policy with network.allow: the pod's containers get the proxy variables and the pod's egress" {
	cni_required
	needs_safehouse
	mkdir -p "$TEST_TMP/policies" "$SHIM_ROOT/k8s.io"
	printf 'extends: default\nnetwork:\n  allow:\n    - %s\n' "$CNI_PREFIX.250:8080" >"$TEST_TMP/policies/cri-web.yaml"
	printf 'policies = %s\n' "$TEST_TMP/policies" >"$SHIM_ROOT/k8s.io/safehouse.conf"
	NET_MODE=POD
	policy_pod webpod '{"io.safehouse.policy": "cri-web"}'
	[ "$(egress_owner | jq -r .container)" = "$POD" ]
	create_ctr app webpod CONTAINER sleep 1000
	cri start "$CID"
	run cri exec-sync "$CID" -- sh -c 'echo "$HTTP_PROXY $http_proxy $ALL_PROXY"; cat /proc/self/uid_map'
	echo "$output" >&2
	[ "${lines[0]}" = "http://127.0.0.1:3128 http://127.0.0.1:3128 socks5h://127.0.0.1:1080" ]
	[ "$(echo "${lines[1]}" | tr -s ' ' | sed 's/^ //')" = "0 1000000000 65536" ]
	# Through the proxy its variables name, and captured without them.
	run cri exec-sync "$CID" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
	[ "$output" = "host $CNI_PREFIX.250" ]
	run cri exec-sync "$CID" -- env -u http_proxy timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
	[ "$output" = "host $CNI_PREFIX.250" ]
	run cri exec-sync "$CID" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.251:8080/id"
	[ "$status" != 0 ]
	run cri exec-sync "$CID" -- env -u http_proxy timeout 5 wget -q -O- "http://$CNI_PREFIX.251:8080/id"
	[ "$status" != 0 ]
	cri rm "$CID"
	remove_pod
	rm "$SHIM_ROOT/k8s.io/safehouse.conf"
}

@test "cri: a container whose network.allow differs from its pod's is refused, naming the pod sandbox that serves the namespace" {
	cni_required
	needs_safehouse
	egress_pod otherpod "$CNI_PREFIX.250:8080"
	ctr_json wider otherpod CONTAINER sleep 1000
	jq --arg allow "$CNI_PREFIX.251:8080" '.annotations["io.safehouse.network.allow"] = $allow' \
		"$TEST_TMP/wider.ctr.json" >"$TEST_TMP/wider.json"
	# The container's annotation reaches its config.json over the pod's.
	CID="$(cri create "$POD" "$TEST_TMP/wider.json" "$TEST_TMP/otherpod.pod.json")"
	run cri start "$CID"
	echo "$output" >&2
	[ "$status" != 0 ]
	[[ "$output" == *"egress: network namespace net:["*"] (linux.namespaces path "*") is served by container $POD, whose policy has network.allow \"$CNI_PREFIX.250:8080\"; this container's has \"$CNI_PREFIX.251:8080\""* ]]
	# Nothing of it is left in the runtime; the pod's egress still serves.
	run rtk state "$CID"
	[ "$status" != 0 ]
	cri rm "$CID"
	[ "$(egress_owner | jq -r .container)" = "$POD" ]
	# The owner's warden gone (killed, as a crash would), its record is not trusted: the
	# next sandbox of the namespace serves it again, under its own policy.
	kill -KILL "$(egress_owner | jq -r .wardenPid)"
	create_ctr again otherpod CONTAINER sleep 1000
	cri start "$CID"
	[ "$(egress_owner | jq -r .container)" = "$CID" ]
	run cri exec-sync "$CID" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.250:8080/id"
	[ "$output" = "host $CNI_PREFIX.250" ]
	run cri exec-sync "$CID" -- timeout 5 wget -q -O- "http://$CNI_PREFIX.251:8080/id"
	[ "$status" != 0 ]
	cri rm "$CID"
	remove_pod
	[ -z "$(ls "$SHIM_ROOT/k8s.io/@netns")" ]
}

# A deadline (limits.timeout, here on the container alone, so the pod sandbox has none):
# the warden kills the container at it. The shim reaps the init and containerd reports
# what it saw, the SIGKILL: exit code 137, reason "Error" (the CRI's reasons are
# Completed, Error and OOMKilled; none means a deadline). The audit log says timeout.
@test "cri: a policy's deadline kills the container: ContainerStatus shows 137 (Error), the audit log says timeout" {
	needs_safehouse
	run_pod deadline
	ctr_json late deadline CONTAINER sleep 60
	jq --arg audit "$TEST_TMP/late.audit.jsonl" '.annotations += {"io.safehouse.policy": "cri-deadline",
		"io.safehouse.limits.disk": "67108864", "io.safehouse.limits.timeout": "1", "io.safehouse.audit": $audit}' \
		"$TEST_TMP/late.ctr.json" >"$TEST_TMP/late.json"
	CID="$(cri create "$POD" "$TEST_TMP/late.json" "$TEST_TMP/deadline.pod.json")"
	cri start "$CID"
	run cri wait "$CID" --timeout 30
	[ "$output" = 137 ]
	run cri status-of "$CID"
	echo "$output" | jq -c '.status | {state, exit_code, reason, message}' >&2
	[ "$(echo "$output" | jq -r .status.state)" = CONTAINER_EXITED ]
	[ "$(echo "$output" | jq -r .status.exit_code)" = 137 ]
	[ "$(echo "$output" | jq -r .status.reason)" = Error ]
	local audit="$TEST_TMP/late.audit.jsonl"
	wait_for 10 sh -c "jq -e -s 'map(.kind) | index(\"delete\")' '$audit' >/dev/null"
	"$RUNTIME" audit verify "$audit"
	jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.reason == "timeout"' "$audit"
	jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 137, "signal": 9}' "$audit"
	cri rm "$CID"
	remove_pod
}

# The whole policy, not only the ephemeral root: what a container of a pod carrying only
# the annotation shows from inside is what `agent run` and Podman show (the same probe,
# helpers.bash), and ExecSync's process gets the same.
@test "cri: io.safehouse.policy=default applies the whole policy (user namespace, capabilities, seccomp, no_new_privs, limits), to ExecSync too" {
	needs_safehouse
	policy_pod wholepod '{"io.safehouse.policy": "default"}'
	create_ctr probe wholepod CONTAINER sh -c "$POLICY_PROBE"
	cri start "$CID"
	run cri wait "$CID" --timeout 30
	[ "$output" = 0 ]
	policy_probe_ok "$(stdout_lines "$TEST_TMP/logs/wholepod/probe.log")"
	cri rm "$CID"
	create_ctr sleeper wholepod CONTAINER sleep 60
	cri start "$CID"
	# The bundle containerd wrote is the engine's (no user namespace there); the
	# container joined the pod sandbox's, which has the policy's range.
	[ "$(bundle_config "$CID" | jq '[.linux.namespaces[] | select(.type == "user")] | length')" = 0 ]
	[ "$(readlink "/proc/$(rtk state "$CID" | jq -r .pid)/ns/user")" = "$(readlink "/proc/$(rtk state "$POD" | jq -r .pid)/ns/user")" ]
	run cri exec-sync "$CID" -- sh -c "$POLICY_PROBE"
	[ "$status" = 0 ]
	policy_probe_ok "$output"
	cri rm "$CID"
	remove_pod
}

AGENT_SANDBOX="$REPO/hack/k8s/agent-sandbox.yaml"

@test "cri: hack/k8s/agent-sandbox.yaml parses: a SandboxTemplate, a SandboxClaim of it and a Sandbox, on the RuntimeClass, each with a shipped policy" {
	run "$VENV_PYTHON" -c '
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rc = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d and d["kind"] == "RuntimeClass"][0]["metadata"]["name"]
for d in docs:
    t = d["spec"].get("podTemplate")
    if t:
        print(d["apiVersion"], d["kind"], d["metadata"]["name"], t["spec"]["runtimeClassName"] == rc,
              t["metadata"]["annotations"]["io.safehouse.policy"], [c["name"] for c in t["spec"]["containers"]])
    else:
        print(d["apiVersion"], d["kind"], d["metadata"]["name"], d["spec"]["sandboxTemplateRef"]["name"])
' "$AGENT_SANDBOX" "$REPO/hack/k8s/runtimeclass.yaml"
	echo "$output" >&2
	[ "$status" = 0 ]
	[ "$output" = "extensions.agents.x-k8s.io/v1alpha1 SandboxTemplate safehouse-agent True default ['agent']
extensions.agents.x-k8s.io/v1alpha1 SandboxClaim safehouse-agent-claim safehouse-agent
agents.x-k8s.io/v1alpha1 Sandbox safehouse-agent True offline-strict ['agent']" ]
	# Both policies are shipped profiles: compiled in, no policy directory on the node.
	[ -f "$REPO/bundles/policies/default.yaml" ]
	[ -f "$REPO/bundles/policies/offline-strict.yaml" ]
}

@test "cri: the pods of hack/k8s/agent-sandbox.yaml run on the RuntimeClass's handler with their policy: ephemeral root, limits, audit log" {
	cni_required
	needs_safehouse
	local kind dir policy memory quota audit forked note
	for kind in SandboxTemplate Sandbox; do
		dir="$TEST_TMP/$kind"
		# The kubelet's part: PodSandboxConfig and ContainerConfig from the pod template
		# (the test image for busybox), the handler from the RuntimeClass.
		"$VENV_PYTHON" "$BATS_TEST_DIRNAME/cri/kubelet.py" "$AGENT_SANDBOX" "$kind" safehouse-agent \
			--runtime-classes "$REPO/hack/k8s/runtimeclass.yaml" --image "$IMAGE" \
			--cgroup-parent "$CGROUP_PARENT/pod-$kind" --log-dir "$TEST_TMP/logs/$kind" --out "$dir"
		[ "$(cat "$dir/handler")" = "$HANDLER" ]
		case "$kind" in
		SandboxTemplate) policy=default memory=536870912 quota=100000 note=note ;;
		# offline-strict's readonlyRoot holds on the engine's container too.
		Sandbox) policy=offline-strict memory=268435456 quota=50000 note="read-only root" ;;
		esac
		[ "$(jq -r '.annotations["io.safehouse.policy"]' "$dir/pod.json")" = "$policy" ]
		[ "$(jq -r .linux.security_context.namespace_options.network "$dir/pod.json")" = POD ]
		# The kubelet's pod-level pids limit (podPidsLimit), and this test's audit log.
		mkdir -p "$TEST_TMP/logs/$kind" "/sys/fs/cgroup/pids$CGROUP_PARENT/pod-$kind"
		echo 64 >"/sys/fs/cgroup/pids$CGROUP_PARENT/pod-$kind/pids.max"
		audit="$TEST_TMP/$kind.audit.jsonl"
		jq --arg audit "$audit" '.annotations["io.safehouse.audit"] = $audit' "$dir/ctr.json" >"$dir/ctr.audit.json"
		POD="$(cri run-pod "$dir/pod.json" --handler "$(cat "$dir/handler")")"
		CID="$(cri create "$POD" "$dir/ctr.audit.json" "$dir/pod.json")"
		cri start "$CID"
		wait_for 10 grep -q 'agent sandbox ready' "$TEST_TMP/logs/$kind/agent.log"
		# The policy reached the runtime: config.json, and the runtime's own state.
		[ "$(bundle_config "$CID" | jq -r '.annotations["io.safehouse.policy"]')" = "$policy" ]
		[ "$(rtk state "$CID" | jq -r '.annotations["io.safehouse.policy"]')" = "$policy" ]
		# From inside: the ephemeral overlay root (writable), the manifest's limits.
		run cri exec-sync "$CID" -- sh -c '
			grep " / / " /proc/self/mountinfo | grep -o " - overlay "
			{ echo note >/agent-note && cat /agent-note; } 2>/dev/null || echo "read-only root"
			cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us'
		echo "$output" >&2
		[ "$status" = 0 ]
		[ "$output" = " - overlay 
$note
$memory
$quota" ]
		# The pod's pids limit stops a fork loop short.
		forked="$(cri exec-sync "$CID" -- sh -c 'sh -c "for i in \$(seq 80); do sleep 30 >/dev/null & echo \$i; done" 2>/dev/null | wc -l')"
		echo "# $kind: forked $forked" >&2
		[ "$forked" -gt 10 ]
	[ "$forked" -lt 64 ]
		cri stop "$CID" --timeout 1
		run cri wait "$CID" --timeout 10
		[ "$output" = 137 ]
		cri rm "$CID"
		remove_pod
		# The audit log: a valid chain, the policy named, the lifecycle, the exit, the
		# refused forks and the file written to the ephemeral root.
		wait_for 10 sh -c "jq -e -s 'map(.kind) | index(\"close\")' '$audit' >/dev/null"
		"$RUNTIME" audit verify "$audit"
		[ "$(jq -r -s '[.[].kind] | map(select(. == "create" or . == "start" or . == "exit" or . == "delete")) | join(" ")' "$audit")" = "create start exit delete" ]
		jq -e -s --arg p "$policy" 'map(select(.kind == "create")) | .[0].details.policy == $p' "$audit"
		# StopContainer: SIGTERM (PID 1 sleep ignores it), then SIGKILL after the timeout.
		[ "$(jq -r -s 'map(select(.kind == "kill") | .details.signal) | .[0:2] | join(" ")' "$audit")" = "15 9" ]
		jq -e -s 'map(select(.kind == "exit")) | .[0].details == {"code": 137, "signal": 9}' "$audit"
		jq -e -s 'map(select(.kind == "warden")) | .[0].details.report.pidsLimitHits >= 1' "$audit"
		if [ "$note" = note ]; then
			jq -e -s 'map(select(.kind == "changes")) | .[0].details.entries | map(.path) | index("/agent-note")' "$audit"
		fi
	done
}
