import XCTest
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

final class BackgroundNetworkNamespaceTests: XCTestCase {
    /// The thread makes a namespace that is not ours, and leaves us in our own.
    func testMakesANewNamespaceAndLeavesOursAlone() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (CAP_SYS_ADMIN) to make a network namespace") }
        let ours = try Files.readLink("/proc/thread-self/ns/net")
        let made = try XCTUnwrap(BackgroundNetworkNamespace.start())
        let fd = try made.take()
        defer { fd.close() }
        let theirs = try Files.readLink("/proc/self/fd/\(fd.rawValue)")
        XCTAssertTrue(theirs.hasPrefix("net:["), theirs)
        XCTAssertNotEqual(theirs, ours)
        XCTAssertEqual(try Files.readLink("/proc/thread-self/ns/net"), ours)
        // Taken once only.
        XCTAssertThrowsError(try made.take())
    }

    /// Dropped without `take`: the thread is joined and nothing stays behind (the
    /// process is single-threaded again, which the raw clone3 fork relies on).
    func testDroppedWithoutTakeLeavesNoThread() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (CAP_SYS_ADMIN) to make a network namespace") }
        func threads() throws -> Int { try Files.list("/proc/self/task").count }
        let before = try threads()
        do { _ = BackgroundNetworkNamespace.start() }
        XCTAssertEqual(try threads(), before)
    }
}
