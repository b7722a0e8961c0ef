import XCTest
import CLinux
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

final class MountAttributesTests: XCTestCase {
    func testAttributeBitsAreTheKernelsMountAttrValues() {
        XCTAssertEqual(Mounts.attributeBits([.readOnly]), 0x1)
        XCTAssertEqual(Mounts.attributeBits([.noSuid, .noDev, .noExec]), 0x2 | 0x4 | 0x8)
        XCTAssertEqual(Mounts.attributeBits([.noDirAtime, .noSymFollow]), 0x80 | 0x20_0000)
        // Flags that are no per-mount attribute are not translated.
        XCTAssertEqual(Mounts.attributeBits([.bind, .recursive, .remount]), 0)
    }

    /// In a mount namespace of its own (a child process): a tmpfs with a bind mount
    /// below it, made read-only + noexec recursively in one call, then the tmpfs alone
    /// writable again: the bind stays read-only, the other flags stay as they were.
    func testRecursiveThenSingleMount() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to mount") }
        var template = Array("/tmp/safehouse-attr.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError(call: "mkdtemp", errno: errno) }
        let dir = String(cString: made)
        defer { _ = rmdir(dir + "/sub"); _ = rmdir(dir) }
        try Files.makeDirectories(dir + "/sub")
        let pid = try Processes.fork()
        if pid == 0 {
            func check(_ ok: Bool, _ code: Int32) { if !ok { _exit(code) } }
            check((try? Namespaces.unshare(SH_CLONE_NEWNS)) != nil, 10)
            check((try? Mounts.mount(source: "", target: "/", type: nil, flags: [.private, .recursive])) != nil, 11)
            check((try? Mounts.mount(source: "tmpfs", target: dir, type: "tmpfs", flags: [.noSuid])) != nil, 12)
            check(mkdir(dir + "/b", 0o755) == 0, 13)
            check((try? Mounts.mount(source: "/tmp", target: dir + "/b", type: "bind", flags: [.bind])) != nil, 14)
            guard let applied = try? Mounts.setAttributes(dir, set: [.readOnly, .noExec], recursive: true) else { _exit(15) }
            if !applied { _exit(99) } // no mount_setattr on this kernel
            check((try? Mounts.setAttributes(dir, set: [], clear: .readOnly, recursive: false)) == true, 16)
            let top = Mounts.currentFlags(of: dir), bind = Mounts.currentFlags(of: dir + "/b")
            check(!top.contains(.readOnly) && top.contains(.noExec) && top.contains(.noSuid), 17)
            check(bind.contains(.readOnly) && bind.contains(.noExec), 18)
            _exit(0)
        }
        let status = try Processes.wait(pid)
        if status == .exited(99) { throw XCTSkip("this kernel has no mount_setattr (5.12+)") }
        XCTAssertEqual(status, .exited(0))
    }
}
