import XCTest
@testable import Linux
@testable import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Every wait of the runtime on its init ends: when the peer dies, after a deadline,
/// or when a termination signal the caller blocked is pending.
final class SyncChannelDeadlineTests: XCTestCase {
    func testASilentPeerTimesOutNamingTheStep() throws {
        let (ours, theirs) = try Sockets.seqpacketPair()
        defer { ours.close(); theirs.close() }
        let start = Date()
        XCTAssertThrowsError(try SyncChannel(socket: ours).receive("creating the user namespace", timeout: 0.3)) { error in
            XCTAssertTrue("\(error)".contains("timed out"), "\(error)")
            XCTAssertTrue("\(error)".contains("creating the user namespace"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func testAPeerThatClosesIsSeenAtOnce() throws {
        let (ours, theirs) = try Sockets.seqpacketPair()
        defer { ours.close() }
        theirs.close()
        XCTAssertThrowsError(try SyncChannel(socket: ours).receive("setting up the container", timeout: 60)) { error in
            XCTAssertTrue("\(error)".contains("exited unexpectedly while setting up the container"), "\(error)")
        }
    }

    func testAMessageAlreadyQueuedIsReturned() throws {
        let (ours, theirs) = try Sockets.seqpacketPair()
        defer { ours.close(); theirs.close() }
        try SyncChannel(socket: theirs).send(.ready)
        XCTAssertEqual(try SyncChannel(socket: ours).receive("setting up the container", timeout: 1), .ready)
    }

    func testAPendingBlockedSIGTERMEndsTheWait() throws {
        let (ours, theirs) = try Sockets.seqpacketPair()
        defer { ours.close(); theirs.close() }
        var set = sigset_t(), old = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &set, &old)
        defer {
            // Take the pending signal back before unblocking, or it would end the test run.
            var info = siginfo_t()
            var zero = timespec()
            _ = sigtimedwait(&set, &info, &zero)
            pthread_sigmask(SIG_SETMASK, &old, nil)
        }
        // To this thread only (blocked here): other test threads must not receive it.
        raise(SIGTERM)
        XCTAssertThrowsError(try SyncChannel(socket: ours).receive("creating namespaces", timeout: 60)) { error in
            XCTAssertTrue("\(error)".contains("interrupted by signal \(SIGTERM) while creating namespaces"), "\(error)")
        }
    }
}
