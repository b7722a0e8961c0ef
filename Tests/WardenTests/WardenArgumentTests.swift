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
        ] {
            XCTAssertThrowsError(try Warden.Configuration(arguments: args)) { XCTAssertEqual("\($0)", message) }
        }
    }
}
