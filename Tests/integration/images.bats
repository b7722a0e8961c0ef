#!/usr/bin/env bats
# Images for sandboxes (`agent run --image`, `agent commit`, `image ls|rm|prune`,
# docs/images.md): an image the test builds (hack/mkimage, then umoci for its config)
# run from an OCI layout, an OCI archive, a docker archive, Podman's store and a local
# registry (Debian's docker-registry, in a network namespace the test makes, plain
# HTTP on its loopback); hostile layers refused with nothing left; the layer store
# shared between images; a committed change set run again. These need the real
# runtime (RUNTIME=safehouse).

load helpers

setup() {
	common_setup
	export SAFEHOUSE_IMAGE_STORE="$TEST_TMP/store"
	ARCHIVE="$TEST_TMP/bb.tar"
	"$REPO/hack/mkimage" --rootfs "$ROOTFS" --name localhost/images-bb:1 "$ARCHIVE" >/dev/null
	NETNS=""
	REGISTRY_PID=""
}

teardown() {
	if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
	if [ -n "$NETNS" ]; then ip netns delete "$NETNS" 2>/dev/null || true; fi
	# No image root may stay mounted once a run is over (checked after the clean-up,
	# so a failure here leaves nothing else behind).
	local mounted=0
	grep -q "$TEST_TMP/store" /proc/self/mountinfo && mounted=1
	common_teardown
	[ "$mounted" = 0 ] || { echo "an image root is still mounted" >&2; return 1; }
}

# An OCI layout at $1 whose one uncompressed layer is the tar $2 (a hostile one).
layout_of_tar() {
	python3 - "$1" "$2" <<'PY'
import hashlib, json, os, sys
out, tar = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(out + "/blobs/sha256/" + d, "wb").write(data)
    return "sha256:" + d, len(data)
layer = open(tar, "rb").read()
ld, ls = blob(layer)
cd, cs = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                          "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode())
md, ms = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld, "size": ls}]}).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": md, "size": ms, "annotations": {"org.opencontainers.image.ref.name": "bad"}}]}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion": "1.0.0"}')
PY
}

# A hostile layer tar at $1 of kind $2: traversal, device, symlink-then-file.
hostile_tar() {
	python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
    def add(name, data=b"x", **kw):
        ti = tarfile.TarInfo(name)
        for k, v in kw.items(): setattr(ti, k, v)
        ti.size = len(data) if ti.type == tarfile.REGTYPE else 0
        t.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    add("bin/ok", b"fine")
    if kind == "traversal":
        add("../../../../tmp/images-escaped")
    elif kind == "device":
        add("dev/sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0)
    elif kind == "symlink":
        add("etc", type=tarfile.SYMTYPE, linkname="/etc")
        add("etc/images-escaped", b"through the link")
PY
}

@test "images: oci-archive: runs the image with its config as defaults; a second run uses the store (no fetch)" {
	# The image's config, set with umoci: env, working directory, entrypoint and cmd.
	skopeo copy --quiet "oci-archive:$ARCHIVE" "oci:$TEST_TMP/layout:bb"
	umoci config --image "$TEST_TMP/layout:bb" --tag cfg --config.env IMAGE_VAR=from-image \
		--config.workingdir /etc --config.entrypoint /bin/sh --config.cmd -c --config.cmd 'echo cmd-ran' >/dev/null
	skopeo copy --quiet "oci:$TEST_TMP/layout:cfg" "oci-archive:$TEST_TMP/cfg.tar"

	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci-archive:$TEST_TMP/cfg.tar" --summary none
	[ "$output" = "cmd-ran" ]
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci-archive:$TEST_TMP/cfg.tar" --summary none -- -c 'echo "$IMAGE_VAR $(pwd) $HOME"'
	[ "$output" = "from-image /etc /root" ]
	# The policy wins where it says something: --env and --workdir over the image's.
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci-archive:$TEST_TMP/cfg.tar" --summary none \
		--env IMAGE_VAR=from-flag --workdir /tmp -- -c 'echo "$IMAGE_VAR $(pwd)"'
	[ "$output" = "from-flag /tmp" ]
	# The image's User: numeric, or a name from the image's own /etc/passwd; a policy
	# that sets a user wins.
	umoci config --image "$TEST_TMP/layout:cfg" --tag user --config.user user >/dev/null
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci:$TEST_TMP/layout:user" --summary none -- -c 'id -u; id -g'
	[ "$output" = "$(printf '1000\n1000')" ]
	umoci config --image "$TEST_TMP/layout:cfg" --tag nouser --config.user no-such-user >/dev/null
	run -1 "$RUNTIME" --root "$ROOT" agent run --image "oci:$TEST_TMP/layout:nouser" --summary none -- -c true
	[[ "$output" == *"the image's User \"no-such-user\": no user no-such-user in the image's /etc/passwd"* ]]
	# Cached: the archive is gone, the image is in the store.
	rm "$TEST_TMP/cfg.tar"
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci-archive:$TEST_TMP/cfg.tar" --summary none -- -c 'echo still'
	[ "$output" = "still" ]
}

@test "images: oci: and docker-archive: refs; two images of one base share its layer in the store" {
	skopeo copy --quiet "oci-archive:$ARCHIVE" "oci:$TEST_TMP/layout:bb"
	skopeo copy --quiet "oci-archive:$ARCHIVE" "docker-archive:$TEST_TMP/docker.tar:localhost/images-bb:1"
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci:$TEST_TMP/layout:bb" --summary none -- cat /etc/hostname
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "docker-archive:$TEST_TMP/docker.tar" --summary none -- sh -c 'echo docker-archive ok'
	[ "$output" = "docker-archive ok" ]
	run -0 "$RUNTIME" image ls --format json
	[ "$(jq '.images | length' <<<"$output")" = 2 ]
	[ "$(jq '.layers' <<<"$output")" = 1 ]
	[ "$(jq -r '.images[0].layers[0] == .images[1].layers[0]' <<<"$output")" = true ]
	[ "$(ls "$SAFEHOUSE_IMAGE_STORE/layers/sha256" | wc -l)" = 1 ]
	run -0 "$RUNTIME" image ls
	[[ "$output" == *"layer store: 1 layer, "* ]]
}

@test "images: containers-storage: an image in a Podman store" {
	command -v podman >/dev/null || skip "podman is not installed on this machine"
	local storage="vfs@$TEST_TMP/podman-root+$TEST_TMP/podman-run"
	podman --root "$TEST_TMP/podman-root" --runroot "$TEST_TMP/podman-run" --storage-driver vfs \
		load -q -i "$ARCHIVE" >/dev/null
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "containers-storage:[$storage]localhost/images-bb:1" --summary none -- echo from-podman
	[ "$output" = "from-podman" ]
}

@test "images: docker:// from a local registry in a network namespace the test makes" {
	NETNS="safehouse-images-$$"
	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
	cat >"$TEST_TMP/registry.yml" <<-YML
	version: 0.1
	storage:
	  filesystem:
	    rootdirectory: $TEST_TMP/registry
	http:
	  addr: 127.0.0.1:5000
	YML
	ip netns exec "$NETNS" docker-registry serve "$TEST_TMP/registry.yml" >"$TEST_TMP/registry.log" 2>&1 &
	REGISTRY_PID=$!
	for _ in $(seq 50); do
		ip netns exec "$NETNS" curl -sf http://127.0.0.1:5000/v2/ >/dev/null && break
		sleep 0.1
	done
	ip netns exec "$NETNS" skopeo copy --quiet --dest-tls-verify=false "oci-archive:$ARCHIVE" docker://127.0.0.1:5000/images-bb:1
	# Plain HTTP is the registry's, said in a registries.conf as an operator would.
	# safehouse runs in the namespace through nsenter --net, which (unlike ip netns
	# exec) keeps the host's mounts: /sys/fs/cgroup is needed.
	printf '[[registry]]\nlocation = "127.0.0.1:5000"\ninsecure = true\n' >"$TEST_TMP/registries.conf"
	run -0 nsenter --net="/run/netns/$NETNS" env CONTAINERS_REGISTRIES_CONF="$TEST_TMP/registries.conf" \
		"$RUNTIME" --root "$ROOT" agent run --image docker://127.0.0.1:5000/images-bb:1 --summary none -- echo pulled
	[ "$output" = "pulled" ]
	# By digest too: skopeo checks the manifest against it.
	digest="$(ip netns exec "$NETNS" skopeo inspect --tls-verify=false docker://127.0.0.1:5000/images-bb:1 | jq -r .Digest)"
	run -0 nsenter --net="/run/netns/$NETNS" env CONTAINERS_REGISTRIES_CONF="$TEST_TMP/registries.conf" \
		"$RUNTIME" --root "$ROOT" agent run --image "docker://127.0.0.1:5000/images-bb@$digest" --summary none -- echo by-digest
	[ "$output" = "by-digest" ]
	bad="sha256:$(printf '0%.0s' $(seq 64))"
	run -1 nsenter --net="/run/netns/$NETNS" env CONTAINERS_REGISTRIES_CONF="$TEST_TMP/registries.conf" \
		"$RUNTIME" --root "$ROOT" agent run --image "docker://127.0.0.1:5000/images-bb@$bad" --summary none -- true
	[[ "$output" == "safehouse: --image docker://127.0.0.1:5000/images-bb@$bad: skopeo exited 1: "* ]]
}

@test "images: hostile layers (path traversal, a device node, a file through a symlink) are refused, nothing left" {
	for kind in traversal device symlink; do
		hostile_tar "$TEST_TMP/$kind.tar" "$kind"
		layout_of_tar "$TEST_TMP/$kind" "$TEST_TMP/$kind.tar"
		run -1 "$RUNTIME" --root "$ROOT" agent run --image "oci:$TEST_TMP/$kind:bad" --summary none -- true
		case "$kind" in
		traversal) [[ "$output" == *"tmp/images-escaped: the path leaves the layer"* ]] ;;
		device) [[ "$output" == *"dev/sda: device nodes are refused"* ]] ;;
		symlink) [[ "$output" == *"etc/images-escaped: the path goes through the symlink etc"* ]] ;;
		esac
		[ "$(ls "$SAFEHOUSE_IMAGE_STORE/layers/sha256")" = "" ]
		[ "$(ls "$SAFEHOUSE_IMAGE_STORE/images")" = "" ]
		[ "$(ls "$SAFEHOUSE_IMAGE_STORE/tmp")" = "" ]
	done
	[ ! -e /tmp/images-escaped ]
	[ ! -e /etc/images-escaped ]
}

@test "images: agent commit makes the kept change set an image; run it, see the files; image rm and prune" {
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci-archive:$ARCHIVE" --keep --id images-commit -- \
		sh -c 'mkdir -p /opt/tool && echo installed >/opt/tool/lib.py && rm /bin/vi'
	[[ "$output" == *"kept for agent commit images-commit NAME"* ]]
	run -0 "$RUNTIME" agent commit images-commit images/tool:1
	[[ "$output" == *"created /opt/tool/lib.py (10 bytes)"* ]]
	[[ "$output" == *"deleted /bin/vi"* ]]
	run -0 "$RUNTIME" --root "$ROOT" agent run --image images/tool:1 --summary none -- sh -c 'cat /opt/tool/lib.py; [ ! -e /bin/vi ] && echo vi-gone'
	[ "$output" = "$(printf 'installed\nvi-gone')" ]
	# Without a user namespace the layers are stacked as they are (no idmapping).
	printf 'user:\n  userNamespace: false\n' >"$TEST_TMP/nouserns.yaml"
	run -0 "$RUNTIME" --root "$ROOT" agent run --policy "$TEST_TMP/nouserns.yaml" --image images/tool:1 --summary none -- \
		sh -c 'cat /opt/tool/lib.py; echo more >>/opt/tool/lib.py; [ ! -e /bin/vi ] && echo vi-gone'
	[ "$output" = "$(printf 'installed\nvi-gone')" ]
	# The change set went into the image: nothing left to commit twice.
	run -1 "$RUNTIME" agent commit images-commit images/again
	[[ "$output" == *"left no change set"* ]]
	run -0 "$RUNTIME" --root "$ROOT" agent run --image images/tool:1 --keep --summary json -- true
	id="$(jq -r .kept <<<"$output")"
	[ -f "$SAFEHOUSE_IMAGE_STORE/changes/$id/layer.tar" ]
	rm -r "$SAFEHOUSE_IMAGE_STORE/changes/$id"
	run -1 "$RUNTIME" --root "$ROOT" agent run --rootfs "$ROOTFS" --keep -- true
	[[ "$output" == *"--keep: needs --image"* ]]

	run -0 "$RUNTIME" image ls --format json
	[ "$(jq '.layers' <<<"$output")" = 2 ]
	[ "$(jq -r '.images[] | select(.name == "images/tool:1") | .layers | length' <<<"$output")" = 2 ]
	# Removing the base image keeps its layer: the committed image uses it.
	run -0 "$RUNTIME" image rm "oci-archive:$ARCHIVE"
	[[ "$output" == *"(0 layers freed)"* ]]
	# A kept change set holds its image's layers until it is committed.
	run -0 "$RUNTIME" --root "$ROOT" agent run --image images/tool:1 --keep --id images-pending --summary none -- touch /pending
	run -0 "$RUNTIME" image rm images/tool:1
	[[ "$output" == *"(0 layers freed)"* ]]
	run -0 "$RUNTIME" image prune
	[[ "$output" == "freed 0B (0 layers)" ]]
	run -0 "$RUNTIME" agent commit images-pending images/tool:2
	run -0 "$RUNTIME" --root "$ROOT" agent run --image images/tool:2 --summary none -- sh -c 'ls /pending && cat /opt/tool/lib.py'
	[ "$output" = "$(printf '/pending\ninstalled')" ]
	run -0 "$RUNTIME" image rm images/tool:2
	[[ "$output" == *"(3 layers freed)"* ]]
	[ "$(ls "$SAFEHOUSE_IMAGE_STORE/layers/sha256")" = "" ]
	run -1 "$RUNTIME" image rm images/tool:1
	[[ "$output" == *"no image \"images/tool:1\" in the store"* ]]
	# prune: a layer no image names (left by a removed record) goes.
	run -0 "$RUNTIME" --root "$ROOT" agent run --image "oci-archive:$ARCHIVE" --summary none -- true
	rm "$SAFEHOUSE_IMAGE_STORE"/images/*.json
	run -0 "$RUNTIME" image prune
	[[ "$output" == *"removed layer sha256:"* ]]
	[ "$(ls "$SAFEHOUSE_IMAGE_STORE/layers/sha256")" = "" ]
	run -1 "$RUNTIME" --root "$ROOT" agent run --image no-such-image --summary none -- true
	[[ "$output" == *"no image \"no-such-image\" in the store"* ]]
}

@test "images: the gvisor backend runs an image and a commit of it (runsc over the same stacked layers)" {
	command -v runsc >/dev/null || skip "runsc is not installed on this machine"
	run -0 "$RUNTIME" --root "$ROOT" agent run --backend gvisor --image "oci-archive:$ARCHIVE" --keep --id images-gvisor -- \
		sh -c 'echo on-gvisor >/etc/gvisor-note && rm /bin/vi'
	[[ "$output" == *"created /etc/gvisor-note (10 bytes)"* ]]
	run -0 "$RUNTIME" agent commit images-gvisor images/gvisor:1
	run -0 "$RUNTIME" --root "$ROOT" agent run --backend gvisor --image images/gvisor:1 --summary none -- \
		sh -c 'cat /etc/gvisor-note; [ ! -e /bin/vi ] && echo vi-gone'
	[ "$output" = "$(printf 'on-gvisor\nvi-gone')" ]
}
