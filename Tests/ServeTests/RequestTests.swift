import Foundation
@testable import Serve
import XCTest

/// The pure parts: options, field checks, paths, output decoding.
final class RequestTests: XCTestCase {
    func testBackendAndSocketGroupOptions() throws {
        XCTAssertNil(try ServeOptions(arguments: []).backend)
        XCTAssertEqual(try ServeOptions(arguments: ["--backend", "gvisor"]).backend, "gvisor")
        XCTAssertThrowsError(try ServeOptions(arguments: ["--backend", "kvm"])) {
            XCTAssertTrue("\($0)".hasPrefix("--backend: "), "\($0)")
        }
        XCTAssertEqual(try ServeOptions(arguments: ["--socket-group", "agents"]).socketGroup, "agents")
        XCTAssertThrowsError(try ServeOptions(arguments: ["--listen", "127.0.0.1:7070", "--token-file", "/t", "--socket-group", "agents"])) {
            XCTAssertTrue("\($0)".hasPrefix("--socket-group: "), "\($0)")
        }
    }

    func testOptions() throws {
        let defaults = try ServeOptions(arguments: [])
        XCTAssertEqual(defaults.socket, "/run/safehouse/api.sock")
        XCTAssertEqual(defaults.root, "/run/safehouse")
        XCTAssertNil(defaults.listen)
        XCTAssertThrowsError(try ServeOptions(arguments: ["--listen", "127.0.0.1:7070"])) {
            XCTAssertTrue("\($0)".contains("--token-file"))
        }
        XCTAssertThrowsError(try ServeOptions(arguments: ["--listen", "nohost", "--token-file", "/t"]))
        XCTAssertThrowsError(try ServeOptions(arguments: ["--socket"]))
        XCTAssertThrowsError(try ServeOptions(arguments: ["--bogus"]))
        let tcp = try ServeOptions(arguments: ["--listen", ":7070", "--token-file", "/t"])
        XCTAssertEqual(tcp.listen?.host, "127.0.0.1")
        XCTAssertEqual(tcp.listen?.port, 7070)
    }

    /// The --mcp-* flags are handed on without their prefix, for the /mcp endpoint to read.
    func testMCPFlagsAreHandedOn() throws {
        XCTAssertEqual(try ServeOptions(arguments: []).mcpArguments, [])
        let o = try ServeOptions(arguments: ["--mcp-rootfs", "/img", "--mcp-policy", "default", "--mcp-timeout", "60", "--root", "/r"])
        XCTAssertEqual(o.mcpArguments, ["--rootfs", "/img", "--policy", "default", "--timeout", "60"])
        XCTAssertEqual(o.root, "/r")
        XCTAssertThrowsError(try ServeOptions(arguments: ["--mcp-policy", "default"])) {
            XCTAssertEqual("\($0)", "--mcp-rootfs: missing (the image of the sandboxes /mcp makes)")
        }
        XCTAssertThrowsError(try ServeOptions(arguments: ["--mcp-rootfs"])) { XCTAssertEqual("\($0)", "--mcp-rootfs needs a value") }
    }

    func testFieldsNameThemselves() throws {
        func message(_ body: () throws -> Any?) -> String {
            do { _ = try body() } catch let e as APIError { return e.message } catch { return "\(error)" }
            return "no error"
        }
        let o = JSONObject(["t": true, "half": 1.5, "big": 100_000, "n": 30, "env": ["A": 1], "s": 3, "f": 0])
        XCTAssertTrue(message { try o.integer("t", in: 1...10) }.hasPrefix("t: "))
        XCTAssertTrue(message { try o.integer("half", in: 1...10) }.hasPrefix("half: "))
        XCTAssertTrue(message { try o.integer("big", in: 1...86400) }.hasPrefix("big: "))
        XCTAssertEqual(try o.integer("n", in: 1...86400), 30)
        XCTAssertNil(try o.integer("absent", in: 1...10))
        XCTAssertTrue(message { try o.stringMap("env") }.hasPrefix("env.A: "))
        XCTAssertTrue(message { try o.string("s") }.hasPrefix("s: "))
        XCTAssertTrue(message { try o.seconds("f", max: 10) }.hasPrefix("f: "))
        XCTAssertTrue(message { try o.seconds("t", max: 10) }.hasPrefix("t: "))
        XCTAssertEqual(JSONObject.envKeyProblem("A=B"), "not a valid variable name")
        XCTAssertNil(JSONObject.envKeyProblem("PATH"))
    }

    func testPaths() throws {
        XCTAssertEqual(try SandboxFiles.validate("/a/b"), "/a/b")
        XCTAssertThrowsError(try SandboxFiles.validate(nil))
        XCTAssertThrowsError(try SandboxFiles.validate("rel"))
        XCTAssertThrowsError(try SandboxFiles.validate("/a\u{0}b"))
        XCTAssertEqual(try SandboxFiles.split("/a/b/c").parent, "/a/b")
        XCTAssertEqual(try SandboxFiles.split("/c").parent, "/")
        XCTAssertEqual(try SandboxFiles.split("//x//y/").name, "y")
        for bad in ["/", "/a/..", "/a/."] {
            XCTAssertThrowsError(try SandboxFiles.split(bad)) { XCTAssertTrue(($0 as? APIError)?.message.hasPrefix("path: ") == true) }
        }
    }

    func testUTF8SplitBetweenReadsIsHeld() {
        var chunks = UTF8Chunks()
        XCTAssertEqual(chunks.decode(Data([0x68, 0xC3])), "h")
        XCTAssertEqual(chunks.decode(Data([0xA9, 0x21])), "é!")
        XCTAssertEqual(chunks.decode(Data([0xE2, 0x82])), "")
        XCTAssertEqual(chunks.decode(Data([0xAC])), "€")
        XCTAssertEqual(chunks.decode(Data([0xFF, 0x41])), "\u{FFFD}A")
        XCTAssertEqual(chunks.decode(Data([0xF0, 0x9F])), "")
        XCTAssertEqual(chunks.flush(), "\u{FFFD}")
    }
}
