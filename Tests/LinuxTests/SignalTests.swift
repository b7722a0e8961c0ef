import XCTest
@testable import Linux

final class SignalTests: XCTestCase {
    func testParsesNamesNumbersAndPrefixes() {
        XCTAssertEqual(Signal(parsing: "KILL")?.rawValue, 9)
        XCTAssertEqual(Signal(parsing: "SIGKILL")?.rawValue, 9)
        XCTAssertEqual(Signal(parsing: "kill")?.rawValue, 9)
        XCTAssertEqual(Signal(parsing: "9")?.rawValue, 9)
        XCTAssertEqual(Signal(parsing: "TERM")?.rawValue, 15)
        XCTAssertEqual(Signal(parsing: "SIGUSR1")?.rawValue, 10)
        XCTAssertEqual(Signal(parsing: "RTMIN+3")?.rawValue, 37)
        XCTAssertEqual(Signal(parsing: "RTMAX-1")?.rawValue, 63)
    }

    func testRejectsUnknownSignals() {
        XCTAssertNil(Signal(parsing: "NOPE"))
        XCTAssertEqual(Signal(parsing: "0")?.rawValue, 0)
        XCTAssertNil(Signal(parsing: "65"))
        XCTAssertNil(Signal(parsing: "-1"))
        XCTAssertNil(Signal(parsing: "RTMIN+40"))
    }

    func testDescriptionNamesTheSignal() {
        XCTAssertEqual(Signal(9).description, "SIGKILL")
    }
}

final class ExitStatusTests: XCTestCase {
    func testShellCodes() {
        XCTAssertEqual(ExitStatus(waitStatus: 3 << 8).shellCode, 3)
        XCTAssertEqual(ExitStatus(waitStatus: 9).shellCode, 137)
    }
}

final class SystemErrorTests: XCTestCase {
    func testDescriptionNamesCallPathAndErrno() {
        let e = SystemError(call: "mount", path: "/proc", errno: 1)
        XCTAssertEqual(e.description, "mount /proc: operation not permitted")
    }

    func testFunnelThrowsWithErrno() {
        XCTAssertThrowsError(try Files.read("/nonexistent/safehouse-test")) { error in
            XCTAssertEqual((error as? SystemError)?.errno, 2)
            XCTAssertEqual("\(error)", "open /nonexistent/safehouse-test: no such file or directory")
        }
    }
}

final class FilesTests: XCTestCase {
    func testAtomicWriteAndTreeRemoval() throws {
        let dir = "/tmp/safehouse-files-test-\(getpid())"
        try Files.makeDirectories(dir + "/a/b")
        try Files.writeAtomically(dir + "/a/b/f", Array("hello".utf8))
        XCTAssertEqual(try Files.readString(dir + "/a/b/f"), "hello")
        XCTAssertFalse(Files.exists(dir + "/a/b/f.tmp"))
        try Files.symlink("/etc", at: dir + "/a/link")
        try Files.removeTree(dir)
        XCTAssertFalse(Files.exists(dir))
        XCTAssertTrue(Files.isDirectory("/etc"), "removeTree must not follow symlinks")
    }
}

final class SocketTests: XCTestCase {
    func testSeqpacketKeepsMessageBoundariesAndPassesDescriptors() throws {
        let (a, b) = try Sockets.seqpacketPair()
        try a.sendMessage([1, 2, 3])
        try a.sendMessage([4])
        XCTAssertEqual(try b.receiveMessage(), [1, 2, 3])
        XCTAssertEqual(try b.receiveMessage(), [4])
        let file = try FileDescriptor.open("/etc/hostname", O_RDONLY)
        try a.sendDescriptor(file, payload: Array("x".utf8))
        let received = try b.receiveDescriptor()
        XCTAssertGreaterThan(received.rawValue, 2)
        XCTAssertEqual(try received.readAll(), try Files.read("/etc/hostname"))
    }
}
