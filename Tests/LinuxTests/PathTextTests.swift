import XCTest
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

final class PathTextTests: XCTestCase {
    func testNormalize() {
        let cases = [("/", "/"), ("", "/"), ("a/b", "/a/b"), ("//a///b/", "/a/b"), ("/a/./b/../c", "/a/c"),
                     ("/../..", "/"), ("/a/b/..", "/a"), ("/é/ü", "/é/ü"), ("/a/...", "/a/..."), ("/.hidden/.x", "/.hidden/.x")]
        for (input, want) in cases { XCTAssertEqual(PathText.normalize(input), want, input) }
    }

    /// normalize's shortcut for paths already normal must agree with taking them
    /// apart: random paths over the characters that matter, against a reference.
    func testShortcutAgreesWithReference() {
        func reference(_ path: String) -> String {
            var parts: [Substring] = []
            for part in path.split(separator: "/", omittingEmptySubsequences: true) {
                if part == "." { continue }
                if part == ".." { _ = parts.popLast(); continue }
                parts.append(part)
            }
            return "/" + parts.joined(separator: "/")
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["/", "/", ".", ".", "a", "b"]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...8, using: &generator)
            let path = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            XCTAssertEqual(PathText.normalize(path), reference(path), path)
            XCTAssertEqual(PathText.isNormal(path), reference(path) == path, path)
        }
    }

    func testStartTimeOfThisProcess() throws {
        let mine = try XCTUnwrap(Processes.startTime(of: getpid()))
        // Field 22 read another way.
        let stat = try Files.readString("/proc/self/stat")
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        XCTAssertEqual(mine, UInt64(fields[19]))
        XCTAssertNil(Processes.startTime(of: 0x7fff_fff0))
    }
}
