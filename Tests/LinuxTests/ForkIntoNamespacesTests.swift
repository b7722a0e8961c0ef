import XCTest
import CLinux
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

/// Processes.fork(preferringCgroup:newNamespaces:): the runtime forks the init into
/// its new pid namespace with clone3 itself.
final class ForkIntoNamespacesTests: XCTestCase {
    func testChildIsPidOneOfANewPidNamespaceAndWeStayInOurs() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root (CAP_SYS_ADMIN) to make a pid namespace") }
        let ours = try Files.readLink("/proc/self/ns/pid")
        guard let (pid, inCgroup) = try Processes.fork(preferringCgroup: nil, newNamespaces: NamespaceKind.pid.cloneFlag) else {
            throw XCTSkip("this kernel has no clone3")
        }
        if pid == 0 {
            // Pid 1 of the new namespace.
            _exit(getpid() == 1 ? 0 : 1)
        }
        XCTAssertFalse(inCgroup)
        XCTAssertEqual(try Processes.wait(pid), .exited(0))
        // Our children's pid namespace is still ours: the next plain fork is not in it.
        XCTAssertEqual(try Files.readLink("/proc/self/ns/pid_for_children"), ours)
    }

    /// A clone3 failure that is not "no clone3" is an error that names the call.
    func testRefusedFlagsAreAnErrorNamingClone3() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to reach clone3's flag checks") }
        // CLONE_NEWPID with CLONE_THREAD is EINVAL, for any kernel with clone3.
        XCTAssertThrowsError(try Processes.fork(preferringCgroup: nil, newNamespaces: NamespaceKind.pid.cloneFlag | 0x10000)) { error in
            XCTAssertTrue("\(error)".contains("clone3 CLONE_NEWPID"), "\(error)")
        }
    }
}
