@testable import Egress
import XCTest

/// network.decider: which targets a policy may name, and how an exec decider's
/// output reads.
final class DeciderTests: XCTestCase {
    func problem(_ text: String) -> String {
        do { _ = try DeciderTarget(text); return "" } catch { return "\(error)" }
    }

    func testTargetsAreAnAbsoluteProgramOrALoopbackURL() throws {
        XCTAssertEqual(try DeciderTarget("exec:/usr/local/bin/decide"), .exec(path: "/usr/local/bin/decide"))
        XCTAssertEqual(try DeciderTarget("http://127.0.0.1:8080/decide"), .http(address: IPAddress("127.0.0.1")!, port: 8080, path: "/decide"))
        XCTAssertEqual(try DeciderTarget("http://[::1]:9/d?x=1"), .http(address: IPAddress("::1")!, port: 9, path: "/d?x=1"))
        XCTAssertEqual(try DeciderTarget("http://[::1]:9/d").description, "http://[::1]:9/d")
        XCTAssertEqual(problem("exec:decide"), #""exec:decide": exec: needs an absolute path (exec:/path/prog)"#)
        XCTAssertEqual(problem("https://127.0.0.1:1/d"), #""https://127.0.0.1:1/d": not exec:/path/prog, http://127.0.0.1:PORT/PATH or unix:/path/decider.sock"#)
        let remote = "the host must be a loopback address (127.0.0.1 or [::1]): the decider runs on this host"
        XCTAssertEqual(problem("http://198.51.100.2:80/d"), #""http://198.51.100.2:80/d": "# + remote)
        XCTAssertEqual(problem("http://localhost:80/d"), #""http://localhost:80/d": "# + remote)
        XCTAssertEqual(problem("http://127.0.0.1/d"), #""http://127.0.0.1/d": needs a port (http://127.0.0.1:PORT/PATH)"#)
        XCTAssertEqual(problem("http://127.0.0.1:0/d"), #""http://127.0.0.1:0/d": bad port "0" (a number 1-65535)"#)
        XCTAssertEqual(problem("http://127.0.0.1:80"), #""http://127.0.0.1:80": needs a path after the port (http://127.0.0.1:PORT/decide)"#)
        XCTAssertEqual(try DeciderTarget("unix:/var/lib/safehouse-serve/sbx-1/decider.sock"), .unix(socket: "/var/lib/safehouse-serve/sbx-1/decider.sock"))
        XCTAssertEqual(try DeciderTarget("unix:/run/d.sock").description, "unix:/run/d.sock")
        XCTAssertEqual(problem("unix:d.sock"), #""unix:d.sock": unix: needs an absolute path to a socket (unix:/path/decider.sock)"#)
        XCTAssertEqual(problem("unix:/run/"), #""unix:/run/": unix: needs an absolute path to a socket (unix:/path/decider.sock)"#)
    }

    func testExecOutputIsAllowOrDenyThenAReason() {
        XCTAssertEqual(DeciderVerdict.parse(execOutput: Array("allow\n".utf8)), DeciderVerdict(allowed: true, reason: ""))
        XCTAssertEqual(DeciderVerdict.parse(execOutput: Array("deny  not on the list\r\nmore\n".utf8)),
                       DeciderVerdict(allowed: false, reason: "not on the list"))
        let odd = DeciderVerdict.parse(execOutput: Array("yes please\n".utf8))
        XCTAssertFalse(odd.allowed)
        XCTAssertFalse(odd.answered)
        XCTAssertEqual(odd.reason, #"the decider's answer is not allow or deny: "yes please""#)
        XCTAssertFalse(DeciderVerdict.parse(execOutput: []).allowed)
    }

    func testCoversIsAnyRuleOrRefusalNamingTheHost() throws {
        let list = Allowlist(rules: [try AllowRule("www.test:22"), try AllowRule("*.pkg.test")], refusals: [try AllowRule("bad.test")])
        XCTAssertTrue(list.covers(.name("www.test")))
        XCTAssertTrue(list.covers(.name("a.pkg.test")))
        XCTAssertTrue(list.covers(.name("bad.test")))
        XCTAssertFalse(list.covers(.name("other.test")))
        XCTAssertFalse(list.covers(.address(IPAddress("198.51.100.2")!)))
    }
}
