import XCTest
@testable import Cgroups
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The writer create uses for cgroup files: one open per run of writes to one file.
final class ConsecutiveFileWriterTests: XCTestCase {
    private var dir = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/safehouse-writer.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", errno: errno) }
        dir = String(cString: made)
    }

    override func tearDownWithError() throws { try? Files.removeTree(dir) }

    /// Consecutive values to one file go through one descriptor (on a regular file
    /// they follow each other; each open would have truncated), and a different file
    /// is opened anew, truncated.
    func testConsecutiveWritesShareOneOpen() throws {
        let a = dir + "/a", b = dir + "/b"
        try Files.write(a, "old", flags: O_WRONLY | O_CREAT | O_TRUNC)
        try Files.write(b, "old", flags: O_WRONLY | O_CREAT | O_TRUNC)
        let writer = CgroupManager.ConsecutiveFileWriter()
        try writer.write(a, "1")
        try writer.write(a, "2")
        try writer.write(b, "3")
        try writer.write(a, "4")
        writer.close()
        XCTAssertEqual(try Files.readString(a), "4")
        XCTAssertEqual(try Files.readString(b), "3")
        try writer.write(b, "5")
        try writer.write(b, "6")
        writer.close()
        XCTAssertEqual(try Files.readString(b), "56")
    }

    /// A file that cannot be opened is an error naming the file and the value.
    func testMissingFileNamesFileAndValue() throws {
        let writer = CgroupManager.ConsecutiveFileWriter()
        defer { writer.close() }
        XCTAssertThrowsError(try writer.write(dir + "/none/devices.allow", "c 1:3 rwm")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(dir + "/none/devices.allow") && text.contains("c 1:3 rwm"), text)
        }
    }

    /// On a real v1 devices cgroup, the rules written through one descriptor all
    /// land, each as its own rule.
    func testDeviceRulesThroughOneDescriptor() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to make a cgroup") }
        let devices = "/sys/fs/cgroup/devices"
        guard Files.exists(devices + "/devices.allow") else { throw XCTSkip("no cgroup v1 devices hierarchy on this host") }
        let cg = devices + "/safehouse-writer-\(getpid())"
        try Files.makeDirectories(cg)
        defer { _ = rmdir(cg) }
        let writer = CgroupManager.ConsecutiveFileWriter()
        try writer.write(cg + "/devices.deny", "a")
        for rule in ["c 1:3 rwm", "c 1:5 rwm", "c 136:* rwm"] { try writer.write(cg + "/devices.allow", rule) }
        writer.close()
        let list = try Files.readString(cg + "/devices.list").split(separator: "\n").map(String.init)
        XCTAssertEqual(list, ["c 1:3 rwm", "c 1:5 rwm", "c 136:* rwm"])
    }
}
