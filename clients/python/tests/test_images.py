"""Images through the API: a sandbox made from an image (an OCI archive the test builds
from the busybox rootfs with hack/mkimage), a live commit into a named image that a new
sandbox runs at once, the image list and removal, and the errors. The service of this
module has its own image store (SAFEHOUSE_IMAGE_STORE)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO, ROOTFS, Service
from safehouse import ConflictError, InvalidArgumentError, NotFoundError, Sandbox


@pytest.fixture(scope="module")
def image_service() -> Iterator[Service]:
    tmp = Path(tempfile.mkdtemp(prefix="safehouse-serve-images."))
    archive = tmp / "bb.tar"
    subprocess.run([str(REPO / "hack" / "mkimage"), "--rootfs", ROOTFS, "--name", "localhost/serve-images:1",
                    str(archive)], check=True, stdout=subprocess.DEVNULL)
    before = {k: os.environ.get(k) for k in ("SAFEHOUSE_IMAGE_STORE", "SAFEHOUSE_URL", "SAFEHOUSE_TOKEN")}
    os.environ["SAFEHOUSE_IMAGE_STORE"] = str(tmp / "store")
    svc = Service(tmp).start()
    svc.archive = f"oci-archive:{archive}"  # type: ignore[attr-defined]
    os.environ["SAFEHOUSE_URL"] = svc.url
    os.environ.pop("SAFEHOUSE_TOKEN", None)
    try:
        yield svc
    finally:
        left = svc.cleanup()
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        mounted = str(tmp / "store") in Path("/proc/self/mountinfo").read_text()
        shutil.rmtree(tmp, ignore_errors=True)
        assert left == [], f"sandboxes left after the tests: {left}"
        assert not mounted, "an image root was left mounted"


def store_mounts(svc: Service) -> int:
    return Path("/proc/self/mountinfo").read_text().count(str(svc.tmp / "store"))


def test_create_from_image_and_delete_unmounts(image_service):
    with Sandbox.create(image=image_service.archive, timeout=120) as sbx:
        info = sbx.get_info()
        assert info.image == image_service.archive and info.rootfs is None and info.state == "running"
        assert [s.image for s in Sandbox.list() if s.sandbox_id == sbx.sandbox_id] == [image_service.archive]
        # The image's root: busybox's files, writable (the ephemeral root over the layers).
        assert sbx.commands.run("ls /bin/busybox && echo w > /etc/written && cat /etc/written").stdout == "/bin/busybox\nw\n"
        assert store_mounts(image_service) >= 1
    assert store_mounts(image_service) == 0
    # A write in one sandbox is in no layer: the next sandbox of the image has none of it.
    with Sandbox.create(image=image_service.archive, timeout=120) as sbx:
        assert sbx.commands.run("test -e /etc/written || echo absent").stdout == "absent\n"


def test_template_is_the_image(image_service):
    with Sandbox.create(template=image_service.archive, timeout=120) as sbx:
        assert sbx.get_info().image == image_service.archive
    with pytest.raises(ValueError):
        Sandbox.create(image=image_service.archive, template=image_service.archive)


def test_commit_live_then_run_the_new_image(image_service):
    name = "serve-images/tool:1"
    with Sandbox.create(image=image_service.archive, timeout=120) as sbx:
        sbx.commands.run("mkdir -p /opt/tool && echo 'echo tool ran' > /opt/tool/run.sh && rm /bin/vi")
        # A process running through the commit: frozen for the copy, running after it.
        ticker = sbx.commands.run("while :; do date +%s%N >> /tmp/ticks; sleep 0.05; done", background=True)
        made = sbx.commit(name)
        assert made.name == name and len(made.layers) == 2
        assert "created /opt/tool/run.sh (14 bytes)" in made.changes and "deleted /bin/vi" in made.changes
        assert sbx.get_info().state == "running"
        before = sbx.files.read("/tmp/ticks")
        sbx.commands.run("sleep 0.3")
        assert len(sbx.files.read("/tmp/ticks")) > len(before), "the sandbox did not run on after the commit"
        ticker.kill()
    images = {i.name: i for i in Sandbox.list_images()}
    assert images[name].layers == made.layers and images[name].size > 0
    assert images[image_service.archive].layers == made.layers[:1]
    with Sandbox.create(image=name, timeout=120) as sbx:
        out = sbx.commands.run("sh /opt/tool/run.sh; test -e /bin/vi || echo no-vi")
        assert out.stdout == "tool ran\nno-vi\n"
        # A commit of a commit: a third layer on the two.
        sbx.commands.run("echo more > /opt/tool/more")
        again = sbx.commit(name + "-more")
        assert again.layers[:2] == made.layers and len(again.layers) == 3
    Sandbox.remove_image(name + "-more")
    Sandbox.remove_image(name)
    assert name not in {i.name for i in Sandbox.list_images()}
    with pytest.raises(InvalidArgumentError) as e:
        Sandbox.create(image=name, timeout=60)
    assert e.value.status == 400 and "image" in e.value.message


def test_commit_of_a_paused_sandbox_leaves_it_paused(image_service):
    with Sandbox.create(image=image_service.archive, timeout=120) as sbx:
        sbx.commands.run("echo p > /paused-file")
        sbx.pause()
        made = sbx.commit("serve-images/paused:1")
        assert "created /paused-file (2 bytes)" in made.changes
        assert sbx.get_info().state == "paused"
        sbx.resume()
        assert sbx.commands.run("cat /paused-file").stdout == "p\n"
    Sandbox.remove_image("serve-images/paused:1")


def test_image_errors(image_service):
    with pytest.raises(InvalidArgumentError) as e:
        Sandbox.create(rootfs=ROOTFS, image=image_service.archive)
    assert "image" in e.value.message and "not both" in e.value.message
    with pytest.raises(InvalidArgumentError) as e:
        Sandbox.create(image="oci-archive:/nonexistent/serve-images.tar")
    assert "image" in e.value.message
    with pytest.raises(InvalidArgumentError) as e:
        Sandbox.create(image="no-such-image-serve-images")
    assert "no image" in e.value.message
    assert store_mounts(image_service) == 0
    assert not any(Path(image_service.state_dir).iterdir()), "a refused create left a directory"
    with Sandbox.create(rootfs=ROOTFS, timeout=60) as sbx:
        with pytest.raises(ConflictError) as c:
            sbx.commit("serve-images/from-rootfs")
        assert "rootfs" in c.value.message
    with Sandbox.create(image=image_service.archive, timeout=60) as sbx:
        with pytest.raises(InvalidArgumentError) as e:
            sbx.commit("oci:/tmp/x")
        assert "name" in e.value.message
        with pytest.raises(InvalidArgumentError):
            sbx.commit("")
    with pytest.raises(NotFoundError):
        Sandbox.remove_image("serve-images/never-made")


def test_images_dir_limits_image_paths(private_tmp, image_service):
    allowed = private_tmp / "allowed"
    allowed.mkdir()
    svc = Service(private_tmp, extra=["--images", str(allowed)]).start()
    try:
        with pytest.raises(InvalidArgumentError) as e:
            Sandbox.create(image=image_service.archive, url=svc.url)
        assert "--images" in e.value.message
        shutil.copy(image_service.archive[len("oci-archive:"):], allowed / "bb.tar")
        with Sandbox.create(image=f"oci-archive:{allowed}/bb.tar", timeout=60, url=svc.url) as sbx:
            assert sbx.commands.run("echo ok").stdout == "ok\n"
    finally:
        assert svc.cleanup() == []


def test_restart_serves_it_again_with_its_layers_held(image_service):
    sbx = Sandbox.create(image=image_service.archive, timeout=120)
    sbx.commands.run("echo kept > /etc/across")
    image_service.stop()
    image_service.start()
    again = Sandbox.connect(sbx.sandbox_id)
    assert again.get_info().image == image_service.archive
    assert again.commands.run("cat /etc/across").stdout == "kept\n"
    # The restarted service holds the sandbox's layers again: removing its image (the
    # last one that names its layer) keeps them.
    for other in Sandbox.list_images():
        if other.name != image_service.archive:
            Sandbox.remove_image(other.name)
    with image_service.client() as c:
        r = c.delete("/v1/images", params={"name": image_service.archive})
    assert r.status_code == 200, r.text
    assert r.json()["removedLayers"] == [] and len(r.json()["heldLayers"]) == 1
    assert again.commands.run("cat /etc/across").stdout == "kept\n"
    again.kill()
    assert store_mounts(image_service) == 0


def test_image_config_applies_and_its_entrypoint_is_not_the_init(image_service, private_tmp):
    # An image whose Entrypoint would end at once: the sandbox's init is still the
    # service's idle one; the image's env and working directory are the commands'.
    layout = private_tmp / "layout"
    subprocess.run(["skopeo", "copy", "--quiet", image_service.archive, f"oci:{layout}:bb"], check=True)
    subprocess.run(["umoci", "config", "--image", f"{layout}:bb", "--tag", "cfg", "--config.env", "IMAGE_VAR=from-image",
                    "--config.workingdir", "/etc", "--config.entrypoint", "/bin/false"], check=True, stdout=subprocess.DEVNULL)
    with Sandbox.create(image=f"oci:{layout}:cfg", timeout=60) as sbx:
        assert sbx.get_info().state == "running"
        assert sbx.commands.run('echo "$IMAGE_VAR"; pwd').stdout == "from-image\n/etc\n"
