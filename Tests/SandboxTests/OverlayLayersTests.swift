import XCTest
@testable import Sandbox

/// The layers of an image root that is an overlay (containerd's snapshotter), which
/// the ephemeral root idmaps one by one.
final class OverlayLayersTests: XCTestCase {
    let mountinfo = """
    22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw
    301 22 0:77 / /run/k8s/task/a\\040b/rootfs rw,relatime - overlay overlay rw,lowerdir=/snap/2/fs:/snap/1/fs,upperdir=/snap/3/fs,workdir=/snap/3/work
    302 22 0:78 / /run/other rw - tmpfs tmpfs rw
    """

    func testUpperThenLowersOfTheOverlayAtThePath() {
        XCTAssertEqual(OverlayLayers.of("/run/k8s/task/a b/rootfs", mountinfo: mountinfo), ["/snap/3/fs", "/snap/2/fs", "/snap/1/fs"])
    }

    func testAnythingElseIsNoOverlay() {
        XCTAssertNil(OverlayLayers.of("/run/other", mountinfo: mountinfo))
        XCTAssertNil(OverlayLayers.of("/", mountinfo: mountinfo))
        XCTAssertNil(OverlayLayers.of("/nowhere", mountinfo: mountinfo))
    }

    func testOptionsItCannotSplitSafely() {
        XCTAssertEqual(OverlayLayers.layers("rw,lowerdir=/a"), ["/a"])
        XCTAssertEqual(OverlayLayers.layers("rw,lowerdir+=/a,lowerdir+=/b,upperdir=/u,workdir=/w"), ["/u", "/a", "/b"])
        XCTAssertNil(OverlayLayers.layers("rw,lowerdir=/a::/data"))
        XCTAssertNil(OverlayLayers.layers("rw,lowerdir=/a\\:b"))
        XCTAssertNil(OverlayLayers.layers("rw,lowerdir=relative"))
    }

    /// An image's layers stacked read-only (ImageRoot): taken directly without a user
    /// namespace too; an overlay with an upper layer (an engine's rootfs) is not.
    func testAReadOnlyStackIsItsLowerLayers() {
        let info = mountinfo + "\n303 22 0:79 / /run/safehouse-agent/x/rootfs ro,relatime - overlay overlay ro,lowerdir=/l/b:/l/a\n"
        XCTAssertEqual(OverlayLayers.readOnlyStack("/run/safehouse-agent/x/rootfs", mountinfo: info), ["/l/b", "/l/a"])
        XCTAssertNil(OverlayLayers.readOnlyStack("/run/k8s/task/a b/rootfs", mountinfo: info))
        XCTAssertNil(OverlayLayers.readOnlyStack("/run/other", mountinfo: info))
    }
}
