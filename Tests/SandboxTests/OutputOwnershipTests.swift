import XCTest
@testable import Sandbox
import ContainerCore
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

final class OutputOwnershipTests: XCTestCase {
    func testTheRecordRoundTripsAndRefusesWhatItDidNotWrite() {
        let o = OutputOwnership(directory: "/home/a b/out", uid: 1000, gid: 100, device: 2049, inode: 77, sandboxIDs: 100000...165535)
        XCTAssertEqual(OutputOwnership(text: o.text), o)
        for bad in ["", "1000 100 100000 165535 /o", "1 2 3 4 100000 165535", "x 100 1 2 3 4 /o", "1 2 3 4 5 4 /o", "1 2 3 4 5 6 relative"] {
            XCTAssertNil(OutputOwnership(text: bad), bad)
        }
    }

    /// The copy back makes every file itself, as the directory's owner, through
    /// descriptors: a symlink in the host directory is never followed, a file of the
    /// user's the sandbox could not write and a deletion are kept, set-id bits dropped.
    func testTheCopyBackMakesFilesAsTheOwnerAndKeepsTheUsers() throws {
        guard getuid() == 0 else { throw XCTSkip("chown and whiteouts need root") }
        let base = "/tmp/safehouse-copyback-\(getpid())"
        defer { try? Files.removeTree(base) }
        let upper = base + "/upper", host = base + "/host", elsewhere = base + "/elsewhere"
        for d in [upper + "/new/deep", upper + "/d", host, elsewhere] { try Files.makeDirectories(d) }
        try Files.writeAtomically(upper + "/new/deep/f", Array("deep".utf8), mode: 0o4755)
        try Files.writeAtomically(upper + "/d/planted", Array("x".utf8))
        try Files.writeAtomically(upper + "/private", Array("forged".utf8))
        try Files.writeAtomically(upper + "/shared", Array("changed".utf8))
        XCTAssertEqual(symlink("/etc/passwd", upper + "/link"), 0)
        XCTAssertEqual(mknod(upper + "/gone", S_IFCHR | 0o600, 0), 0) // an overlay whiteout
        XCTAssertEqual(chown(upper + "/new/deep/f", 100000, 100000), 0)
        try Files.writeAtomically(host + "/private", Array("mine".utf8), mode: 0o600)
        try Files.writeAtomically(host + "/shared", Array("shared".utf8), mode: 0o666)
        try Files.writeAtomically(host + "/gone", Array("kept".utf8))
        XCTAssertEqual(symlink(elsewhere, host + "/d"), 0) // a link where the sandbox made a directory
        XCTAssertEqual(chown(host + "/private", 4242, 4242), 0)
        XCTAssertEqual(chmod(host + "/shared", 0o666), 0) // anybody's to write (no umask)
        XCTAssertEqual(chown(host, 1234, 1234), 0)

        let directory = try HostDirectory.open(host)
        let ownership = try OutputOwnership(of: directory, sandboxIDs: 100000...165535)
        var copier = OutputZone.Copier(ownership: ownership)
        copier.copy(from: try FileDescriptor.open(upper, O_RDONLY | O_DIRECTORY), into: directory.fd, at: "")

        func owner(_ p: String) -> String { var st = stat(); lstat(p, &st); return "\(st.st_uid):\(st.st_gid)" }
        func mode(_ p: String) -> mode_t { var st = stat(); lstat(p, &st); return st.st_mode & 0o7777 }
        XCTAssertEqual(try Files.readString(host + "/new/deep/f"), "deep")
        XCTAssertEqual(owner(host + "/new/deep/f"), "1234:1234")
        XCTAssertEqual(owner(host + "/new"), "1234:1234")
        XCTAssertEqual(mode(host + "/new/deep/f"), 0o755)
        XCTAssertEqual(try Files.readString(host + "/shared"), "changed")
        XCTAssertEqual(try Files.readString(host + "/private"), "mine")
        XCTAssertEqual(owner(host + "/private"), "4242:4242")
        XCTAssertEqual(try Files.readString(host + "/gone"), "kept")
        XCTAssertEqual(try Files.readLink(host + "/link"), "/etc/passwd")
        XCTAssertEqual(owner(host + "/link"), "1234:1234")
        XCTAssertEqual(try Files.list(elsewhere), [])
        XCTAssertEqual(copier.kept.sorted(), [
            "/output/d: the directory holds a file of that name: kept, the sandbox's directory not copied",
            "/output/gone: deleted in the sandbox, kept in the directory",
            "/output/private: the sandbox could not write the directory's file: kept, not replaced",
        ])
    }

    func testOpeningRefusesASymlinkAnywhereInThePath() throws {
        let base = "/tmp/safehouse-hostdir-\(getpid())"
        defer { try? Files.removeTree(base) }
        try Files.makeDirectories(base + "/real/sub")
        XCTAssertEqual(symlink(base + "/real", base + "/link"), 0)
        XCTAssertNoThrow(try HostDirectory.open(base + "/real/sub"))
        for path in [base + "/link", base + "/link/sub"] {
            XCTAssertThrowsError(try HostDirectory.open(path, creating: true)) { error in
                XCTAssertEqual("\(error)", "\(base)/link is a symbolic link -> \(base)/real: give the real directory (symbolic links are not followed)")
            }
        }
        XCTAssertFalse(Files.exists(base + "/real/sub/made"))
        XCTAssertNoThrow(try HostDirectory.open(base + "/real/a/b", creating: true))
        XCTAssertTrue(Files.isDirectory(base + "/real/a/b"))
    }
}
