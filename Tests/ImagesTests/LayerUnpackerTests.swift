import XCTest
@testable import Images
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The unpack rules: overlay form for whiteouts and opaque directories, owners and
/// modes kept, and every hostile member refused with nothing left behind.
final class LayerUnpackerTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("owners, whiteouts (mknod) and trusted.* attributes need root") }
        var template = Array("/tmp/safehouse-images-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw ImageError("mkdtemp") }
        dir = String(cString: p)
    }

    override func tearDown() {
        if !dir.isEmpty { try? Files.removeTree(dir) }
    }

    /// Unpacks `members` as a layer into a fresh store under `dir`; the layer's path.
    @discardableResult
    func add(_ members: [TestTar.Member]) throws -> String {
        let tar = dir + "/layer.tar"
        try Files.writeAtomically(tar, TestTar.archive(members))
        let store = try ImageStore(root: dir + "/store")
        try store.prepare()
        let digest = try ImageStore.sha256(of: tar, scratch: store.scratchDirectory)
        try store.addLayer(blob: tar, digest: digest)
        return try store.layerPath(digest)
    }

    /// Nothing of a refused layer is left: no layer, no temporary directory.
    func assertNothingLeft(file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try Files.list(dir + "/store/layers/sha256"), [], file: file, line: line)
        XCTAssertEqual(try Files.list(dir + "/store/tmp").filter { !$0.hasPrefix("output-") }, [], file: file, line: line)
    }

    func refusal(_ members: [TestTar.Member]) throws -> String {
        do {
            try add(members)
        } catch let error as ImageError {
            try assertNothingLeft()
            return error.description
        }
        XCTFail("the layer was unpacked")
        return ""
    }

    func testWhiteoutsAndOpaqueDirectoriesBecomeOverlayForm() throws {
        let layer = try add([
            .directory("etc", mode: 0o755),
            .file("etc/.wh.passwd"),
            .directory("var/cache", mode: 0o700, uid: 5, gid: 6),
            .file("var/cache/.wh..wh..opq"),
            .file("var/cache/kept", content: "k"),
            .file("usr/bin/tool", content: "#!/bin/sh\n", mode: 0o4755, uid: 0, gid: 0),
            .file("home/u/note", content: "n", mode: 0o600, uid: 1000, gid: 1000),
        ])
        var st = stat()
        XCTAssertEqual(lstat(layer + "/etc/passwd", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "a whiteout is a character device")
        XCTAssertEqual(st.st_rdev, 0)
        XCTAssertFalse(Files.exists(layer + "/etc/.wh.passwd"))
        XCTAssertEqual(Files.extendedAttribute(layer + "/var/cache", "trusted.overlay.opaque"), [UInt8(ascii: "y")])
        XCTAssertFalse(Files.exists(layer + "/var/cache/.wh..wh..opq"))
        XCTAssertEqual(try Files.readString(layer + "/var/cache/kept"), "k")
        XCTAssertEqual(lstat(layer + "/var/cache", &st), 0)
        XCTAssertEqual([st.st_uid, st.st_gid, st.st_mode & 0o7777], [5, 6, 0o700])
        XCTAssertEqual(lstat(layer + "/usr/bin/tool", &st), 0)
        XCTAssertEqual(st.st_mode & 0o7777, 0o4755, "setuid kept")
        XCTAssertEqual(lstat(layer + "/home/u/note", &st), 0)
        XCTAssertEqual([st.st_uid, st.st_gid, st.st_mode & 0o7777], [1000, 1000, 0o600])
    }

    func testPathTraversalIsRefused() throws {
        let message = try refusal([.file("ok", content: "1"), .file("../../etc/evil", content: "x")])
        XCTAssertTrue(message.contains("../../etc/evil: the path leaves the layer"), message)
    }

    func testDeviceNodesAreRefused() throws {
        let message = try refusal([.device("dev/sda", major: 8, minor: 0)])
        XCTAssertTrue(message.contains("dev/sda: device nodes are refused"), message)
    }

    func testAFileThroughASymlinkIsRefused() throws {
        let message = try refusal([.symlink("x", to: "/etc"), .file("x/passwd", content: "root::0:0::/:/bin/sh\n")])
        XCTAssertTrue(message.contains("x/passwd: the path goes through the symlink x"), message)
    }

    func testAHardLinkOutOfTheLayerIsRefused() throws {
        let message = try refusal([.hardlink("shadow", to: "../../../etc/shadow")])
        XCTAssertTrue(message.contains("the path leaves the layer"), message)
        let missing = try refusal([.hardlink("shadow", to: "etc/shadow")])
        XCTAssertTrue(missing.contains("is not in the layer"), missing)
    }

    func testOverlayAttributesAreRefused() throws {
        let message = try refusal([.file("f", xattrs: [("trusted.overlay.redirect", "/etc")])])
        XCTAssertTrue(message.contains("trusted.overlay.redirect is overlayfs's own"), message)
    }

    func testAContentThatDoesNotMatchItsDigestIsRefused() throws {
        let tar = dir + "/layer.tar"
        try Files.writeAtomically(tar, TestTar.archive([.file("a", content: "a")]))
        let store = try ImageStore(root: dir + "/store")
        try store.prepare()
        let forged = "sha256:" + String(repeating: "ab", count: 32)
        XCTAssertThrowsError(try store.addLayer(blob: tar, digest: forged)) { error in
            XCTAssertTrue("\(error)".contains("a corrupt or forged layer"), "\(error)")
        }
        try assertNothingLeft()
    }

    func testATruncatedArchiveIsRefused() throws {
        var bytes = TestTar.archive([.file("big", content: String(repeating: "z", count: 5000))])
        bytes.removeLast(bytes.count - 1500)
        try Files.writeAtomically(dir + "/layer.tar", bytes)
        let store = try ImageStore(root: dir + "/store")
        try store.prepare()
        let digest = try ImageStore.sha256(of: dir + "/layer.tar", scratch: store.scratchDirectory)
        XCTAssertThrowsError(try store.addLayer(blob: dir + "/layer.tar", digest: digest)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        try assertNothingLeft()
    }

    /// A sandbox's upper directory, written as a layer and unpacked again, is the same
    /// tree: whiteouts, opaque directories, links; host ids mapped back.
    func testAnUpperLayerRoundTrips() throws {
        let upper = dir + "/upper"
        try Files.makeDirectories(upper + "/opt/app")
        try Files.writeAtomically(upper + "/opt/app/f", Array("made".utf8), mode: 0o640)
        XCTAssertEqual(chown(upper + "/opt/app/f", 100_000_007, 100_000_008), 0)
        XCTAssertEqual(link(upper + "/opt/app/f", upper + "/opt/app/g"), 0)
        try Files.symlink("/etc", at: upper + "/opt/l")
        try Files.makeDirectories(upper + "/bin")
        XCTAssertEqual(mknod(upper + "/bin/vi", S_IFCHR, 0), 0)
        try Files.makeDirectories(upper + "/var")
        XCTAssertEqual(sh_lsetxattr_for_test(upper + "/var", "trusted.overlay.opaque", "y"), 0)
        try Files.makeDirectories(upper + "/scratch")
        try LayerWriter.write(upper: upper, to: dir + "/layer.tar", hostBase: 100_000_000, idCount: 65536, skipEmptyDirectories: ["/scratch"])
        let store = try ImageStore(root: dir + "/store")
        try store.prepare()
        let digest = try ImageStore.sha256(of: dir + "/layer.tar", scratch: store.scratchDirectory)
        try store.addLayer(blob: dir + "/layer.tar", digest: digest)
        let layer = try store.layerPath(digest)
        var st = stat(), st2 = stat()
        XCTAssertEqual(try Files.readString(layer + "/opt/app/f"), "made")
        XCTAssertEqual(lstat(layer + "/opt/app/f", &st), 0)
        XCTAssertEqual([st.st_uid, st.st_gid, st.st_mode & 0o7777], [7, 8, 0o640], "host ids mapped back to the sandbox's")
        XCTAssertEqual(lstat(layer + "/opt/app/g", &st2), 0)
        XCTAssertEqual(st.st_ino, st2.st_ino, "a hard link stays one")
        XCTAssertEqual(try Files.readLink(layer + "/opt/l"), "/etc")
        XCTAssertEqual(lstat(layer + "/bin/vi", &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR)
        XCTAssertEqual(Files.extendedAttribute(layer + "/var", "trusted.overlay.opaque"), [UInt8(ascii: "y")])
        XCTAssertFalse(Files.exists(layer + "/scratch"), "the runtime's empty mount points are left out")
        // The same tree gives the same layer.
        try LayerWriter.write(upper: upper, to: dir + "/again.tar", hostBase: 100_000_000, idCount: 65536, skipEmptyDirectories: ["/scratch"])
        XCTAssertEqual(try ImageStore.sha256(of: dir + "/again.tar", scratch: store.scratchDirectory), digest)
    }

    /// A gzip layer is inflated in process (two members, as gzip concatenates them), its
    /// digest is the plain tar's; a truncated one is refused.
    func testGzipLayers() throws {
        let plain = TestTar.archive([.file("a", content: "first"), .file("b", content: String(repeating: "b", count: 70_000))])
        try Files.writeAtomically(dir + "/layer.tar", plain)
        let store = try ImageStore(root: dir + "/store")
        try store.prepare()
        let digest = try ImageStore.sha256(of: dir + "/layer.tar", scratch: store.scratchDirectory)
        // Split in two gzip members.
        try Files.writeAtomically(dir + "/one", Array(plain[..<1024]))
        try Files.writeAtomically(dir + "/two", Array(plain[1024...]))
        XCTAssertEqual(system("gzip -c \(dir)/one > \(dir)/layer.gz && gzip -c \(dir)/two >> \(dir)/layer.gz"), 0)
        try store.addLayer(blob: dir + "/layer.gz", digest: digest)
        XCTAssertEqual(try Files.readString(try store.layerPath(digest) + "/a"), "first")
        XCTAssertEqual(try Files.read(try store.layerPath(digest) + "/b").count, 70_000)

        let other = TestTar.archive([.file("c", content: String(repeating: "c", count: 90_000))])
        try Files.writeAtomically(dir + "/other.tar", other)
        let otherDigest = try ImageStore.sha256(of: dir + "/other.tar", scratch: store.scratchDirectory)
        XCTAssertEqual(system("gzip -c \(dir)/other.tar > \(dir)/full.gz && head -c $(($(stat -c %s \(dir)/full.gz) / 2)) \(dir)/full.gz > \(dir)/cut.gz"), 0)
        XCTAssertThrowsError(try store.addLayer(blob: dir + "/cut.gz", digest: otherDigest)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
        XCTAssertFalse(store.hasLayer(otherDigest))
    }

    /// A zstd layer goes through the zstd tool; its digest is the plain tar's.
    func testZstdLayers() throws {
        guard access("/usr/bin/zstd", X_OK) == 0 else { throw XCTSkip("zstd is not installed on this machine") }
        try Files.writeAtomically(dir + "/layer.tar", TestTar.archive([.file("z", content: "zstd")]))
        let store = try ImageStore(root: dir + "/store")
        try store.prepare()
        let digest = try ImageStore.sha256(of: dir + "/layer.tar", scratch: store.scratchDirectory)
        XCTAssertEqual(system("zstd -q -c \(dir)/layer.tar > \(dir)/layer.zst"), 0)
        try store.addLayer(blob: dir + "/layer.zst", digest: digest)
        XCTAssertEqual(try Files.readString(try store.layerPath(digest) + "/z"), "zstd")
    }

    func testReferences() throws {
        XCTAssertEqual(try ImageReference.parse("oci:img:v1", cwd: "/w"), .remote("oci:/w/img:v1"))
        XCTAssertEqual(try ImageReference.parse("docker-archive:/a.tar", cwd: "/w"), .remote("docker-archive:/a.tar"))
        XCTAssertEqual(try ImageReference.parse("docker://10.0.0.1:5000/bb:1", cwd: "/w"), .remote("docker://10.0.0.1:5000/bb:1"))
        XCTAssertEqual(try ImageReference.parse("mine:v1", cwd: "/w"), .local("mine:v1"))
        XCTAssertThrowsError(try ImageReference.parse("docker://bb", cwd: "/w"))
        XCTAssertThrowsError(try ImageReference.parse("my image", cwd: "/w"))
        XCTAssertThrowsError(try ImageReference.checkName("docker:x", field: "NAME"))
    }
}
