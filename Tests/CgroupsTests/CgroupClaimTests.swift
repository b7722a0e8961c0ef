import XCTest
@testable import Cgroups
@testable import Linux

/// CgroupClaim against a fake tree: directories with cgroup.procs files, as the
/// kernel shows them.
final class CgroupClaimTests: XCTestCase {
    private var root = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/cgroup-claim.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        root = String(cString: made)
    }

    override func tearDownWithError() throws {
        try? Files.removeTree(root)
    }

    /// A cgroup directory at `path` below the root with `pids` in its cgroup.procs.
    private func cgroup(_ path: String, pids: [Int] = []) throws -> String {
        let dir = root + "/" + path
        try Files.makeDirectories(dir)
        try Files.write(dir + "/cgroup.procs", pids.map { "\($0)\n" }.joined(), flags: O_WRONLY | O_CREAT | O_TRUNC)
        return dir
    }

    func testAbsentDirectoriesAreTheOnesToMake() throws {
        let paths = [root + "/memory/x", root + "/pids/x"]
        XCTAssertEqual(try CgroupClaim.check(paths, origin: .chosenByRuntime), paths)
        XCTAssertEqual(try CgroupClaim.check(paths, origin: .givenBySpec("/x")), paths)
    }

    func testAnExistingDirectoryTheRuntimeChoseIsRefusedEvenEmpty() throws {
        let existing = try cgroup("memory/x")
        XCTAssertThrowsError(try CgroupClaim.check([root + "/pids/x", existing], origin: .chosenByRuntime)) { error in
            XCTAssertEqual("\(error)".contains("\(existing) already exists"), true, "\(error)")
        }
    }

    func testAnExistingDirectoryWithProcessesNamesRuncsPhrase() throws {
        let existing = try cgroup("memory/x", pids: [10, 11])
        XCTAssertThrowsError(try CgroupClaim.check([existing], origin: .chosenByRuntime)) { error in
            XCTAssertTrue("\(error)".contains("container's cgroup is not empty: 2 process(es) found in \(existing)"), "\(error)")
        }
    }

    func testAGivenEmptyCgroupIsJoinedButNotToBeMade() throws {
        let existing = try cgroup("memory/engine/x")
        _ = try cgroup("memory/engine/x/child")
        let absent = root + "/pids/engine/x"
        XCTAssertEqual(try CgroupClaim.check([existing, absent], origin: .givenBySpec("/engine/x")), [absent])
    }

    func testProcessesInADescendantCount() throws {
        let existing = try cgroup("memory/engine/x")
        _ = try cgroup("memory/engine/x/a/b", pids: [42])
        XCTAssertEqual(CgroupClaim.processCount(below: existing), 1)
        XCTAssertThrowsError(try CgroupClaim.check([existing], origin: .givenBySpec("/engine/x"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("linux.cgroupsPath \"/engine/x\": container's cgroup is not empty: 1 process(es)"), "\(error)")
        }
    }

    func testAFileWhereTheDirectoryWouldBeIsRefused() throws {
        try Files.makeDirectories(root + "/memory")
        try Files.write(root + "/memory/x", "", flags: O_WRONLY | O_CREAT)
        XCTAssertThrowsError(try CgroupClaim.check([root + "/memory/x"], origin: .givenBySpec("/x")))
    }

    func testTheRecordOfMadeDirectoriesRoundTrips() throws {
        XCTAssertNil(CgroupClaim.recorded(inDirectory: root))
        let paths = [root + "/memory/a b", root + "/pids/x"]
        try CgroupClaim.record(paths, inDirectory: root)
        XCTAssertEqual(CgroupClaim.recorded(inDirectory: root), paths)
    }

    func testAFreshDirectoryThatAppearedMeanwhileIsRefused() throws {
        let dir = root + "/memory/late/x"
        try CgroupClaim.makeExclusively(dir)
        XCTAssertTrue(Files.isDirectory(dir))
        XCTAssertThrowsError(try CgroupClaim.makeExclusively(dir)) { error in
            XCTAssertTrue("\(error)".contains("appeared while the container was being created"), "\(error)")
        }
    }
}
