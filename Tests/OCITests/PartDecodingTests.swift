import FoundationEssentials
import XCTest
@testable import OCI

/// The process and resources documents the runtime reads (`exec --process`, `update
/// --resources`): read as JSONDecoder, the Codable oracle, reads them, and refused with
/// a message that names the field.
final class PartDecodingTests: XCTestCase {
    func testPrunedPartsAgreeWithJSONDecoder() throws {
        let golden = try JSONTreeParser.parse(Array(goldenSpec.encodedJSON()))
        var generator = SeededGenerator(seed: 0x9A27_0C55)
        var compared = 0
        for iteration in 0..<200 {
            guard case .object(let spec) = FastDecodingPropertyTests.prune(golden, inMap: false, using: &generator) else {
                return XCTFail("the pruned fixture is an object")
            }
            if case .object? = spec["process"], let process = spec["process"] {
                let data = JSONTreeWriter.write(process)
                XCTAssertEqual(try Process.decode(from: Array(data)), try JSONDecoder().decode(Process.self, from: data), "(iteration \(iteration))")
                compared += 1
            }
            if case .object(let linux)? = spec["linux"], case .object? = linux["resources"], let resources = linux["resources"] {
                let data = JSONTreeWriter.write(resources)
                XCTAssertEqual(try LinuxResources.decode(from: Array(data)), try JSONDecoder().decode(LinuxResources.self, from: data), "(iteration \(iteration))")
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 200)
    }

    func testRefusalsNameTheField() {
        XCTAssertEqual(processError(#"{"user": {"uid": -1, "gid": 0}, "cwd": "/"}"#), "user.uid: expected an integer between 0 and 4294967295, found -1")
        XCTAssertEqual(processError(#"{"user": {"uid": 0, "gid": 0}, "args": ["sh", 1], "cwd": "/"}"#), "args[1]: expected a string, found a number")
        XCTAssertEqual(processError(#"{"user": {"uid": 0, "gid": 0}}"#), "cwd: is required")
        XCTAssertEqual(processError("[]"), "process must be a JSON object, found an array")
        XCTAssertEqual(processError("{"), "process is not valid JSON: expected a property name in double quotes, found end of data at line 1, column 2")
        XCTAssertEqual(resourcesError(#"{"memory": {"limit": "1G"}}"#),
                       "memory.limit: expected an integer between -9223372036854775808 and 9223372036854775807, found a string")
        XCTAssertEqual(resourcesError(#"{"cpu": {"shares": -1}}"#), "cpu.shares: expected an integer between 0 and 18446744073709551615, found -1")
        XCTAssertNil(resourcesError("{}"))
    }

    /// runc reads `--process` into Go's specs.Process, where an absent user is uid 0,
    /// gid 0; a null one is still refused, as a config's is.
    func testAnAbsentUserTakesTheDefault() throws {
        let process = try Process.decode(from: Array(#"{"cwd": "/", "args": ["sh"]}"#.utf8), defaultUser: User(uid: 0, gid: 0))
        XCTAssertEqual(process.user, User(uid: 0, gid: 0))
        XCTAssertEqual(process.args, ["sh"])
        XCTAssertEqual(processError(#"{"cwd": "/"}"#), "user: is required")
        XCTAssertThrowsError(try Process.decode(from: Array(#"{"cwd": "/", "user": null}"#.utf8), defaultUser: User())) { error in
            XCTAssertEqual("\(error)", "user: must not be null")
        }
    }

    private func processError(_ json: String) -> String? {
        do { _ = try Process.decode(from: Array(json.utf8)); return nil } catch { return "\(error)" }
    }

    private func resourcesError(_ json: String) -> String? {
        do { _ = try LinuxResources.decode(from: Array(json.utf8)); return nil } catch { return "\(error)" }
    }
}
