import OCI
import XCTest
@testable import Runtime

/// exec into a container made from a rewritten spec: the engine's process gets no
/// capability outside the container's, and no_new_privileges.
final class OverlaidExecTests: XCTestCase {
    func testEnginesExecProcessIsCutToTheContainersCapabilities() {
        var container = OCI.Process(args: ["sleep"], cwd: "/")
        container.capabilities = LinuxCapabilities(bounding: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL", "CAP_CHOWN"])
        var given = OCI.Process(args: ["sh"], cwd: "/")
        let engines = ["CAP_SYS_ADMIN", "CAP_KILL", "CAP_NET_RAW"]
        given.capabilities = LinuxCapabilities(bounding: engines, effective: engines, permitted: engines, ambient: ["CAP_NET_RAW"])
        given.noNewPrivileges = false
        let process = OverlaidExec.process(given, container: container)
        XCTAssertEqual(process.capabilities?.bounding, ["CAP_KILL"])
        XCTAssertEqual(process.capabilities?.effective, ["CAP_KILL"])
        XCTAssertEqual(process.capabilities?.permitted, ["CAP_KILL"])
        XCTAssertEqual(process.capabilities?.ambient, [])
        XCTAssertNil(process.capabilities?.inheritable)
        XCTAssertEqual(process.noNewPrivileges, true)
        XCTAssertEqual(process.args, ["sh"])
    }

    func testExecGetsTheContainersVariablesItLacks() {
        var container = OCI.Process(args: ["sleep"], cwd: "/")
        container.env = ["PATH=/bin", "HTTP_PROXY=http://127.0.0.1:3128", "AGENT=1"]
        var given = OCI.Process(args: ["sh"], cwd: "/")
        given.env = ["PATH=/usr/bin", "TERM=xterm"]
        XCTAssertEqual(OverlaidExec.process(given, container: container).env,
                       ["PATH=/usr/bin", "TERM=xterm", "HTTP_PROXY=http://127.0.0.1:3128", "AGENT=1"])
    }
}
