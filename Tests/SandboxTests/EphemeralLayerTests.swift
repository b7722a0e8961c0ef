import XCTest
@testable import Sandbox
import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

final class EphemeralLayerTests: XCTestCase {
    /// The layer that carries the gvisor sandbox's resolv.conf: its /etc takes the
    /// image's mode and, through the user namespace's map, the owner the sandbox sees
    /// (the merged /etc takes the top-most lower's attributes), the file is root's inside.
    func testTheLayersEtcLooksLikeTheImagesToTheSandbox() throws {
        guard getuid() == 0 else { throw XCTSkip("chown needs root") }
        var template = Array("/tmp/safehouse-layer-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw RuntimeError("mkdtemp") }
        let dir = String(cString: p)
        defer { try? Files.removeTree(dir) }
        try Files.makeDirectories(dir + "/image/etc", mode: 0o750)
        XCTAssertEqual(chown(dir + "/image/etc", 0, 0), 0)
        let map = [LinuxIDMapping(containerID: 0, hostID: 100000, size: 65536)]
        try EphemeralRoot.writeLayer(dir + "/layer", files: ["/etc/resolv.conf": "nameserver 169.254.77.1\n"],
                                     image: dir + "/image", uids: map, gids: map)
        var st = stat()
        XCTAssertEqual(lstat(dir + "/layer/etc", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o750)
        XCTAssertEqual(st.st_uid, 100000)
        XCTAssertEqual(lstat(dir + "/layer/etc/resolv.conf", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o644)
        XCTAssertEqual(st.st_uid, 100000)
        XCTAssertEqual(try Files.readString(dir + "/layer/etc/resolv.conf"), "nameserver 169.254.77.1\n")
    }

    /// The trust store's bundles sit deeper under /etc: every directory on the way
    /// takes the image's attributes where the image has it, root's 0755 where not.
    func testNestedFilesGetTheImagesDirectories() throws {
        guard getuid() == 0 else { throw XCTSkip("chown needs root") }
        var template = Array("/tmp/safehouse-layer-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw RuntimeError("mkdtemp") }
        let dir = String(cString: p)
        defer { try? Files.removeTree(dir) }
        try Files.makeDirectories(dir + "/image/etc/ssl", mode: 0o755)
        XCTAssertEqual(chmod(dir + "/image/etc/ssl", 0o711), 0)
        XCTAssertEqual(chown(dir + "/image/etc/ssl", 7, 0), 0)
        let map = [LinuxIDMapping(containerID: 0, hostID: 100000, size: 65536)]
        try EphemeralRoot.writeLayer(dir + "/layer", files: ["/etc/ssl/certs/ca-certificates.crt": "BUNDLE\n", "/etc/safehouse-ca-bundle.pem": "B\n"],
                                     image: dir + "/image", uids: map, gids: map)
        var st = stat()
        XCTAssertEqual(lstat(dir + "/layer/etc/ssl", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o711)
        XCTAssertEqual(st.st_uid, 100007)
        XCTAssertEqual(lstat(dir + "/layer/etc/ssl/certs", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o755)
        XCTAssertEqual(st.st_uid, 100000)
        XCTAssertEqual(try Files.readString(dir + "/layer/etc/ssl/certs/ca-certificates.crt"), "BUNDLE\n")
        XCTAssertEqual(try Files.readString(dir + "/layer/etc/safehouse-ca-bundle.pem"), "B\n")
    }
}
