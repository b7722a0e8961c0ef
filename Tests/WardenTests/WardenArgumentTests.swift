import XCTest
@testable import Warden

final class WardenArgumentTests: XCTestCase {
    func testArguments() throws {
        let c = try Warden.Configuration(arguments: ["--state-dir", "/run/s/x", "--pid", "42", "--timeout", "1.5", "--cgroup", "/a", "--cgroup", "/b"])
        XCTAssertEqual(c, Warden.Configuration(stateDirectory: "/run/s/x", initPid: 42, timeoutSeconds: 1.5, cgroupPaths: ["/a", "/b"]))
        for (args, message) in [
            (["--pid", "1"], "--state-dir is required"),
            (["--state-dir", "/x"], "--pid is required"),
            (["--state-dir", "/x", "--pid", "0"], "--pid: \"0\" is not a process id"),
            (["--state-dir", "/x", "--pid", "3", "--timeout", "-1"], "--timeout: \"-1\" is not a positive number of seconds"),
            (["--state-dir"], "--state-dir: needs a value"),
            (["--bogus"], "unknown argument \"--bogus\""),
            (["--state-dir", "/x", "--pid", "3", "--owner", "me"], "--owner: \"me\" is not a process id"),
        ] {
            XCTAssertThrowsError(try Warden.Configuration(arguments: args)) { XCTAssertEqual("\($0)", message) }
        }
    }

    func testOwner() throws {
        XCTAssertEqual(try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3", "--owner", "77"]).ownerPid, 77)
        XCTAssertNil(try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3"]).ownerPid)
    }

    func testEgressDescriptors() throws {
        let c = try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3", "--socks-fd", "4", "--capture-fd", "5",
                                                     "--capture-fd", "6", "--dns-fd", "7", "--egress-allow", "www.test"])
        XCTAssertNil(c.egressListener)
        XCTAssertEqual(c.socksListener, 4)
        XCTAssertEqual(c.captureListeners, [5, 6])
        XCTAssertEqual(c.dnsSocket, 7)
        let together = "--egress-allow and the egress descriptors (--egress-fd, --socks-fd, --capture-fd, --dns-fd) go together"
        for (args, message) in [
            (["--dns-fd", "7"], together),
            (["--egress-allow", "www.test"], together),
            (["--capture-fd", "2", "--egress-allow", "w.test"], "--capture-fd: \"2\" is not a descriptor"),
            (["--socks-fd", "x", "--egress-allow", "w.test"], "--socks-fd: \"x\" is not a descriptor"),
        ] {
            XCTAssertThrowsError(try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3"] + args)) { XCTAssertEqual("\($0)", message) }
        }
    }
}

final class WardenAuditArgumentTests: XCTestCase {
    func testAuditArguments() throws {
        let c = try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3", "--audit", "/var/log/s/a.jsonl",
                                                     "--audit-id", "a", "--audit-key", "/k", "--record-exit", "--ready-fd", "9"])
        XCTAssertEqual(c.audit, AuditDestination(path: "/var/log/s/a.jsonl", key: "/k", id: "a"))
        XCTAssertTrue(c.recordExit)
        XCTAssertEqual(c.readyFD, 9)
        let plain = try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3"])
        XCTAssertNil(plain.audit)
        XCTAssertFalse(plain.recordExit)
        for (args, message) in [
            (["--audit", "/l"], "--audit-id is required with --audit"),
            (["--audit", "", "--audit-id", "a"], "--audit: an empty path"),
            (["--audit-id", "a"], "--audit-id needs --audit"),
            (["--audit-key", "/k"], "--audit-key needs --audit"),
            (["--record-exit"], "--record-exit needs --audit"),
            (["--ready-fd", "1"], "--ready-fd: \"1\" is not a descriptor"),
            (["--audit"], "--audit: needs a value"),
        ] {
            XCTAssertThrowsError(try Warden.Configuration(arguments: ["--state-dir", "/x", "--pid", "3"] + args)) { XCTAssertEqual("\($0)", message) }
        }
    }
}
