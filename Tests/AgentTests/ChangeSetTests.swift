import XCTest
import Linux
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// The change set read from an overlay upper directory, here a hand-made one.
final class ChangeSetTests: XCTestCase {
    func testClassification() throws {
        let base = "/tmp/safehouse-changeset-\(getpid())"
        defer { try? Files.removeTree(base) }
        let lower = base + "/lower", upper = base + "/upper"
        for d in [lower + "/etc", lower + "/bin", lower + "/var/cache", upper + "/etc", upper + "/bin", upper + "/newdir", upper + "/var/cache"] {
            try Files.makeDirectories(d)
        }
        try Files.writeAtomically(lower + "/etc/passwd", Array("root\n".utf8))
        try Files.writeAtomically(lower + "/bin/true", Array("x".utf8))
        try Files.writeAtomically(upper + "/etc/passwd", Array("root\nagent\n".utf8))
        try Files.writeAtomically(upper + "/etc/new", Array("abc".utf8))
        try Files.writeAtomically(upper + "/newdir/f", Array("12345".utf8))
        XCTAssertEqual(mknod(upper + "/bin/true", S_IFCHR | 0o000, 0), 0, "whiteout: errno \(errno)")
        let set = ChangeSet.compute(upper: upper, lower: lower)
        XCTAssertEqual(set.entries, [
            .init(path: "/bin/true", kind: .deleted, size: 0),
            .init(path: "/etc/new", kind: .created, size: 3),
            .init(path: "/etc/passwd", kind: .modified, size: 11),
            .init(path: "/newdir", kind: .created, size: 0),
            .init(path: "/newdir/f", kind: .created, size: 5),
        ])
        XCTAssertEqual(set.bytes, 19)
        XCTAssertEqual(set.count(.created), 3)
    }
}
