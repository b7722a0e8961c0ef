import Linux
import XCTest
@testable import Agent
import Runtime

/// Where policies come from (PolicyLibrary, PolicyFile) and what a policy that omits
/// a field means (laid over its base).
final class PolicySourceTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = "/tmp/safehouse-policy-tests-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Files.makeDirectories(dir + "/policies")
    }

    override func tearDownWithError() throws { try? Files.removeTree(dir) }

    func write(_ name: String, _ text: String) throws {
        try Files.writeAtomically(dir + "/" + name, Array(text.utf8), mode: 0o644)
    }

    func testAPolicyIsLaidOverTheDefaultProfile() throws {
        let d = try Profiles.resolve("default")
        XCTAssertNil(d.extends)
        let p = try PolicyReader.parse("network:\n  allow: [example.com]\n", source: "n.yaml")
        XCTAssertEqual(p.extends, "default")
        XCTAssertEqual(p.limits, d.limits)
        XCTAssertEqual(p.capabilities, d.capabilities)
        XCTAssertEqual(p.filesystem, d.filesystem)
        XCTAssertEqual(p.network.allow, ["example.com"])
        // An empty document is its base.
        let empty = try PolicyReader.parse("", source: "e.yaml")
        XCTAssertEqual(empty.limits, d.limits)
        // `unlimited` removes a limit; other limits stay.
        let u = try PolicyReader.parse("limits:\n  memory: unlimited\n  cpus: unlimited\n  pids: unlimited\n  timeout: unlimited\n", source: "u.yaml")
        XCTAssertNil(u.limits.memory)
        XCTAssertNil(u.limits.cpus)
        XCTAssertNil(u.limits.pids)
        XCTAssertNil(u.limits.timeout)
        XCTAssertEqual(u.limits.disk, d.limits.disk)
        // extends: another profile; env merges over the base's.
        let s = try PolicyReader.parse("extends: offline-strict\nlimits:\n  pids: 10\nenv:\n  A: 1\n", source: "s.yaml")
        XCTAssertEqual(s.extends, "offline-strict")
        XCTAssertEqual(s.limits.pids, 10)
        XCTAssertEqual(s.limits.memory, 512 << 20)
        XCTAssertTrue(s.filesystem.readonlyRoot)
        XCTAssertEqual(s.syscalls, .minimal)
        XCTAssertTrue(s.effectiveLine.hasPrefix("extends=offline-strict memory=512Mi cpus=0.5 pids=10 timeout=2m disk=16Mi"), s.effectiveLine)
    }

    func testThePolicyDirectory() throws {
        try write("policies/team.yaml", "limits:\n  pids: 7\n")
        try write("policies/child.yaml", "extends: team\nlimits:\n  cpus: 2\n")
        try write("policies/loop.yaml", "extends: loop2\n")
        try write("policies/loop2.yaml", "extends: loop\n")
        let library = PolicyLibrary(directories: [dir + "/policies"])
        let team = try library.resolve("team", from: .annotation)
        XCTAssertEqual(team.limits.pids, 7)
        XCTAssertEqual(team.limits.memory, 1 << 30)
        XCTAssertEqual(team.source, dir + "/policies/team.yaml")
        XCTAssertEqual(try library.resolve(dir + "/policies/team.yaml", from: .annotation).limits.pids, 7)
        let child = try library.resolve("child", from: .commandLine)
        XCTAssertEqual(child.limits.pids, 7)
        XCTAssertEqual(child.limits.cpus, 2)
        XCTAssertEqual(child.extends, "team")
        XCTAssertThrowsError(try library.resolve("loop", from: .annotation)) {
            XCTAssertTrue("\($0)".contains("extends itself"), "\($0)")
        }
        // An annotation may not name a file outside the directory, however it is spelled.
        for outside in ["/etc/shadow", dir + "/policies/../team.yaml", dir + "/other.yaml", "../policies/team.yaml", dir + "/policies/sub/x.yaml"] {
            XCTAssertThrowsError(try library.resolve(outside, from: .annotation), outside) {
                XCTAssertTrue("\($0)".contains("an annotation may name only a profile"), "\($0)")
            }
        }
        // ... nor through a link in it.
        try Files.symlink(dir + "/policies/team.yaml", at: dir + "/policies/link.yaml")
        XCTAssertThrowsError(try library.resolve("link", from: .annotation)) {
            XCTAssertEqual("\($0)", "policy \(self.dir)/policies/link.yaml: is a symbolic link (a policy named by an annotation is opened without following links)")
        }
        // The command line may name any file of the caller's, links included.
        XCTAssertEqual(try library.resolve(dir + "/policies/link.yaml", from: .commandLine).limits.pids, 7)
    }

    func testFilesThatAreNotPoliciesFailAtOnceAndAreNotQuoted() throws {
        let secret = "hunter2-\(getpid())"
        try write("secret.yaml", "\(secret): 1\nlimits:\n  memory: \(secret)\n")
        let library = PolicyLibrary(directories: [dir + "/policies"])
        XCTAssertThrowsError(try library.resolve(dir + "/secret.yaml", from: .commandLine)) {
            XCTAssertFalse("\($0)".contains(secret), "\($0)")
        }
        try write("secret.yaml", "limits:\n  memory: \(secret)\n")
        XCTAssertThrowsError(try library.resolve(dir + "/secret.yaml", from: .commandLine)) {
            XCTAssertEqual("\($0)", "policy \(self.dir)/secret.yaml: limits.memory: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)")
        }
        try write("secret.yaml", "limits: {memory: \"\(secret)\", memory: 1}\n")
        XCTAssertThrowsError(try library.resolve(dir + "/secret.yaml", from: .commandLine)) {
            XCTAssertFalse("\($0)".contains(secret), "\($0)")
        }
        XCTAssertEqual(mkfifo(dir + "/policies/fifo.yaml", 0o644), 0)
        XCTAssertThrowsError(try library.resolve("fifo", from: .annotation)) {
            XCTAssertEqual("\($0)", "policy \(self.dir)/policies/fifo.yaml: is not a regular file (a FIFO)")
        }
        XCTAssertThrowsError(try library.resolve(dir + "/policies/fifo.yaml", from: .commandLine)) {
            XCTAssertTrue("\($0)".hasSuffix("is not a regular file (a FIFO)"), "\($0)")
        }
        XCTAssertThrowsError(try library.resolve("/dev/zero", from: .commandLine)) {
            XCTAssertEqual("\($0)", "policy /dev/zero: is not a regular file (a character device)")
        }
        try write("big.yaml", String(repeating: "#", count: PolicyFile.sizeLimit + 1))
        XCTAssertThrowsError(try library.resolve(dir + "/big.yaml", from: .commandLine)) {
            XCTAssertTrue("\($0)".hasSuffix("is larger than the 1 MiB a policy may be"), "\($0)")
        }
    }

    func testHostIDsStayClearOfSubordinateIDs() throws {
        let entries = HostIDRange.entries("# comment\nalice:100000:65536\nbob:1000000000:65536\nbad line\ncarol:1000065546:10\n", file: "/etc/subuid")
        XCTAssertEqual(entries.map(\.line), [2, 3, 5])
        var user = Policy.UserMapping()
        XCTAssertEqual(try HostIDRange.resolve(user, entries: []), HostIDRange.poolStart)
        // bob's block and the one carol's ids fall in are skipped: the next free block.
        XCTAssertEqual(try HostIDRange.resolve(user, entries: entries), HostIDRange.poolStart + 2 * 65_536)
        user.hostID = 100_000
        XCTAssertThrowsError(try HostIDRange.resolve(user, entries: entries)) {
            XCTAssertEqual("\($0)", "user.hostID: host ids 100000-165535 overlap the range on line 2 of /etc/subuid (a user's subordinate ids); omit user.hostID to get a range from the reserved pool")
        }
        user.hostID = 200_000
        XCTAssertEqual(try HostIDRange.resolve(user, entries: entries), 200_000)
        user.hostID = nil
        let everything = HostIDRange.entries("root:0:4294967295\n", file: "/etc/subgid")
        XCTAssertThrowsError(try HostIDRange.resolve(user, entries: everything))
        // The policy's `hostID: auto` is the pool, as omitting it.
        XCTAssertNil(try PolicyReader.parse("user:\n  hostID: auto\n", source: "h.yaml").user.hostID)
        XCTAssertNil(try Profiles.resolve("default").user.hostID)
    }

    func testTimeoutsAreBoundedEverywhere() throws {
        XCTAssertEqual(try PolicyReader.parse("limits:\n  timeout: 576h\n", source: "t.yaml").limits.timeout, Quantity.maximumTimeout)
        XCTAssertThrowsError(try PolicyReader.parse("network:\n  idleTimeout: 600h\n", source: "t.yaml"))
        var o = SandboxRunner.Options(rootfs: "/r", args: ["true"])
        o.timeout = "597h"
        XCTAssertThrowsError(try SandboxRunner.effectivePolicy(o, subordinateIDs: [])) {
            XCTAssertEqual("\($0)", "--timeout: \"597h\" is longer than the maximum of 576h (24 days)")
        }
        let generated = [SandboxAnnotation.policy: "/p.yaml", SandboxAnnotation.disk: "2097152"]
        for (key, value) in [(SandboxAnnotation.timeout, "2149200"), (SandboxAnnotation.timeout, "inf"), (SandboxAnnotation.networkIdleTimeout, "1e12")] {
            XCTAssertThrowsError(try SandboxConfig(annotations: generated.merging([key: value]) { $1 }), value) {
                XCTAssertTrue("\($0)".hasPrefix("annotations.\(key): \"\(value)\""), "\($0)")
            }
        }
    }

    func testCommandLineOverrides() throws {
        var o = SandboxRunner.Options(rootfs: "/r", args: ["true"])
        o.env = ["A=1", "HOME=/h", "B=x=y", "C="]
        o.workdir = "/work"
        o.allow = ["example.org", "example.org", "*.example.net"]
        let p = try SandboxRunner.effectivePolicy(o, subordinateIDs: [])
        XCTAssertEqual(p.env, ["A": "1", "HOME": "/h", "B": "x=y", "C": ""])
        XCTAssertEqual(p.workdir, "/work")
        XCTAssertEqual(p.network.allow, ["example.org", "*.example.net"])
        XCTAssertEqual(p.user.hostID, HostIDRange.poolStart)
        for (field, bad, message) in [
            ("env", "=x", "--env: \"=x\" is not KEY=VALUE"), ("env", "NOPE", "--env: \"NOPE\" is not KEY=VALUE"),
            ("workdir", "rel", "--workdir: \"rel\" must be an absolute path without \"..\""),
            ("workdir", "/a/../b", "--workdir: \"/a/../b\" must be an absolute path without \"..\""),
            ("allow", "exa mple", "--allow: \"exa mple\": not a host name (letters, digits, '-', '.'; a wildcard only as a leading \"*.\")"),
        ] {
            var bad_ = SandboxRunner.Options(rootfs: "/r", args: ["true"])
            switch field {
            case "env": bad_.env = [bad]
            case "workdir": bad_.workdir = bad
            default: bad_.allow = [bad]
            }
            XCTAssertThrowsError(try SandboxRunner.effectivePolicy(bad_, subordinateIDs: []), bad) { XCTAssertEqual("\($0)", message) }
        }
    }

    func testTerminalTextEscapesControlCharacters() {
        XCTAssertEqual(TerminalText.escaped("plain/name.txt"), "plain/name.txt")
        XCTAssertEqual(TerminalText.escaped("a\nsafehouse: x\r\u{1B}[2J\t\u{7F}\u{9B}b\\c\u{2028}é"),
                       "a\\nsafehouse: x\\r\\e[2J\\t\\x7f\\x9bb\\\\c\\u{2028}é")
        XCTAssertEqual(TerminalText.escaped("\u{0}\u{1}"), "\\x00\\x01")
    }
}
