import XCTest
@testable import Runtime

/// ProcessSetup.homeDirectory: HOME for a process whose env has none, from the
/// container's /etc/passwd, as runc finds it.
final class PasswdHomeTests: XCTestCase {
    let passwd = Array("""
    root:x:0:0:root:/root:/bin/sh
    broken line without colons

    short:x:7:7:too few fields
    nohome:x:1001:1001:no home::/bin/sh
    user:x:1000:1000:Linux User,,,:/home/user:/bin/sh
    nobody:x:65534:65534:nobody:/nonexistent
    big:x:4294967296:1:overflow:/big:/bin/sh
    word:x:abc:1:not a number:/word:/bin/sh
    again:x:1000:1000:second entry for 1000:/elsewhere:/bin/sh
    """.utf8)

    func testFindsTheFirstEntryOfTheUid() {
        XCTAssertEqual(ProcessSetup.homeDirectory(of: 0, inPasswd: passwd), "/root")
        XCTAssertEqual(ProcessSetup.homeDirectory(of: 1000, inPasswd: passwd), "/home/user")
        // The last field may end the line (no shell field).
        XCTAssertEqual(ProcessSetup.homeDirectory(of: 65534, inPasswd: passwd), "/nonexistent")
    }

    func testNoHomeForMissingEmptyOrMalformedEntries() {
        XCTAssertNil(ProcessSetup.homeDirectory(of: 1001, inPasswd: passwd), "an empty home field")
        XCTAssertNil(ProcessSetup.homeDirectory(of: 7, inPasswd: passwd), "fewer than six fields")
        XCTAssertNil(ProcessSetup.homeDirectory(of: 42, inPasswd: passwd), "no such uid")
        XCTAssertNil(ProcessSetup.homeDirectory(of: 0, inPasswd: Array("big:x:4294967296:1::/big:/x".utf8)), "a uid out of range is no uid 0")
        XCTAssertNil(ProcessSetup.homeDirectory(of: 0, inPasswd: []))
    }
}
