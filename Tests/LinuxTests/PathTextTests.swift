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

    func testStartTimeOfThisProcess() throws {
        let mine = try XCTUnwrap(Processes.startTime(of: getpid()))
        // Field 22 read another way.
        let stat = try Files.readString("/proc/self/stat")
        let fields = stat[stat.index(after: stat.lastIndex(of: ")")!)...].split(separator: " ")
        XCTAssertEqual(mine, UInt64(fields[19]))
        XCTAssertNil(Processes.startTime(of: 0x7fff_fff0))
    }
}
