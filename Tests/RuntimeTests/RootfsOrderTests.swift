import Glibc
import XCTest
@testable import Linux
@testable import Runtime
import OCI

/// The order of the rootfs set-up, on a temporary rootfs with a recording kernel: the
/// spec's mounts before pivot_root, /dev's nodes after the mounts that stay in place,
/// the mounts that wait for the runtime last, the read-only root after everything.
final class RootfsOrderTests: XCTestCase {
    var rootfs: TemporaryRootfs!

    override func setUpWithError() throws {
        rootfs = try TemporaryRootfs()
    }

    override func tearDown() {
        rootfs.remove()
    }

    func spec(_ json: String) throws -> Spec {
        try Spec.decode(from: Array(("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}" + (json.isEmpty ? "" : ", " + json) + "}").utf8))
    }

    func setup(_ spec: Spec, kernel: RecordingKernel, userNamespace: Bool = false) -> RootfsSetup<RecordingKernel> {
        RootfsSetup(kernel: kernel, spec: spec, rootfs: rootfs.path, bundle: "/bundle", userNamespace: userNamespace,
                    newCgroupNamespace: false, cgroups: CgroupPlacementBox())
    }

    let mounts = """
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "ro"]}
        ]
        """

    /// Everything in the order runc takes it, for a container with one device of its own.
    func testMountsThenDevicesThenWaitingMountsThenPivotThenPathsThenReadOnlyRoot() throws {
        var s = try spec(mounts + """
            , "linux": {"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}],
                        "readonlyPaths": ["/proc/sys"], "maskedPaths": ["/proc/kcore"]}
            """)
        s.root?.readonly = true
        let kernel = RecordingKernel(rootfs: rootfs.path)
        let setup = setup(s, kernel: kernel)
        try setup.prepare(beforeCgroupMount: { kernel.note("cgroup directories made") })
        try setup.enterRoot(noPivot: false)
        try setup.finish()
        XCTAssertEqual(kernel.calls(without: "chown"), [
            "mount - - / slave,rec",
            "mount bind $ROOTFS $ROOTFS bind,rec",
            "mount proc proc $ROOTFS/proc -",
            "mount tmpfs tmpfs $ROOTFS/dev nosuid mode=755",
            "mount devpts devpts $ROOTFS/dev/pts nosuid,noexec",
            "mknod $ROOTFS/dev/null 20666 1:3",
            "mknod $ROOTFS/dev/zero 20666 1:5",
            "mknod $ROOTFS/dev/full 20666 1:7",
            "mknod $ROOTFS/dev/random 20666 1:8",
            "mknod $ROOTFS/dev/urandom 20666 1:9",
            "mknod $ROOTFS/dev/tty 20666 5:0",
            "mknod $ROOTFS/dev/fuse 20666 10:229",
            // The cgroup mount waited for the runtime's directories: moved last.
            "note cgroup directories made",
            "mount cgroup2 cgroup $ROOTFS/sys/fs/cgroup ro,nosuid",
            "fchdir $ROOTFS",
            "pivot_root . .",
            "fchdir /",
            // The old root a slave before it is detached: the unmount must not reach the host.
            "mount - - . slave,rec",
            "umount . detach",
            "chdir /",
            "mount bind /proc/sys /proc/sys bind,rec",
            "mount_setattr /proc/sys set ro clear - rec",
            "mount bind /dev/null /proc/kcore bind",
            "mount_setattr / set ro clear -",
        ])
    }

    /// Each call of the whole sequence, failed in turn: the set-up stops at it (nothing
    /// after it is called), and the error names the call.
    func testEachFailingCallStopsTheSetUp() throws {
        var s = try spec(mounts + ", \"linux\": {\"readonlyPaths\": [\"/proc/sys\"], \"maskedPaths\": [\"/proc/kcore\"]}")
        s.root?.readonly = true
        func run(_ kernel: RecordingKernel) throws {
            let setup = setup(s, kernel: kernel)
            try setup.prepare(beforeCgroupMount: {})
            try setup.enterRoot(noPivot: false)
            try setup.finish()
        }
        let whole = RecordingKernel(rootfs: rootfs.path)
        try run(whole)
        XCTAssertGreaterThan(whole.calls.count, 20)
        for (index, call) in whole.calls.enumerated() {
            let kernel = RecordingKernel(rootfs: rootfs.path)
            kernel.failing = call
            XCTAssertThrowsError(try run(kernel), call) { error in
                let name = String(call.prefix { $0 != " " })
                XCTAssertTrue("\(error)".contains(name + " "), "\(call): \(error)")
                XCTAssertTrue("\(error)".hasSuffix("operation not permitted"), "\(call): \(error)")
            }
            XCTAssertEqual(kernel.calls, Array(whole.calls[..<index]) + [call + " FAILED"])
        }
    }

    /// In a user namespace devices cannot be made: each is a bind of the host's.
    func testUserNamespaceBindsDevices() throws {
        let kernel = RecordingKernel(rootfs: rootfs.path)
        try setup(try spec(mounts), kernel: kernel, userNamespace: true).prepare(beforeCgroupMount: {})
        let devices = kernel.calls.filter { $0.contains("$ROOTFS/dev/") && !$0.contains("/dev/pts") }
        XCTAssertEqual(devices, ["null", "zero", "full", "random", "urandom", "tty"].map {
            "mount bind /dev/\($0) $ROOTFS/dev/\($0) bind"
        })
        XCTAssertFalse(kernel.calls.contains { $0.hasPrefix("mknod") })
    }

    /// A shared root: "/" and the rootfs's parent private before the bind (pivot_root
    /// refuses a shared parent), the mode itself on the new root after the switch.
    func testSharedPropagation() throws {
        let kernel = RecordingKernel(rootfs: rootfs.path)
        let setup = setup(try spec("\"linux\": {\"rootfsPropagation\": \"shared\"}"), kernel: kernel)
        try setup.prepare(beforeCgroupMount: {})
        try setup.enterRoot(noPivot: false)
        let calls = kernel.calls(without: "chown", "mknod")
        XCTAssertEqual(Array(calls.prefix(5)), [
            "mount - - / slave,rec", "mount - - / shared", "read /proc/self/mountinfo", "mount - - / private",
            "mount bind $ROOTFS $ROOTFS bind,rec",
        ])
        XCTAssertEqual(calls.last, "mount - - / shared")
        XCTAssertEqual(calls[calls.count - 2], "chdir /")
    }

    /// --no-pivot: the host's proc and sysfs outside the rootfs go first (else the
    /// container could mount a proc of its own), then the move and the chroot.
    func testNoPivot() throws {
        let kernel = RecordingKernel(rootfs: rootfs.path)
        kernel.mountinfo = """
            1 0 8:1 / / rw shared:1 - ext4 /dev/sda1 rw
            2 1 0:5 / /proc rw,nosuid - proc proc rw
            3 1 0:6 / /sys rw - sysfs sysfs rw
            4 1 0:7 / \(rootfs.path)/proc rw - proc proc rw

            """
        let setup = setup(try spec(""), kernel: kernel)
        try setup.enterRoot(noPivot: true)
        XCTAssertEqual(kernel.calls, [
            "read /proc/self/mountinfo",
            "mount - - /proc slave,rec", "umount /proc detach",
            "mount - - /sys slave,rec", "umount /sys detach",
            "chdir $ROOTFS", "mount - $ROOTFS / move", "chroot .", "chdir /",
        ])
    }

    /// A proc or sysfs the kernel will not let go (locked in a user namespace) is
    /// covered with an empty tmpfs instead.
    func testNoPivotCoversWhatCannotBeUnmounted() throws {
        let kernel = RecordingKernel(rootfs: rootfs.path)
        kernel.mountinfo = "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n2 1 0:5 / /proc rw - proc proc rw\n"
        kernel.failing = "umount /proc"
        try setup(try spec(""), kernel: kernel).enterRoot(noPivot: true)
        XCTAssertEqual(Array(kernel.calls.prefix(5)), [
            "read /proc/self/mountinfo", "mount - - /proc slave,rec", "umount /proc detach FAILED",
            "mount tmpfs tmpfs /proc -", "chdir $ROOTFS",
        ])
    }

    /// A sysfs the kernel refuses (a user namespace without its own network
    /// namespace) is the host's, bound read-only, as runc does.
    func testRefusedSysfsIsTheHostsReadOnly() throws {
        let kernel = RecordingKernel(rootfs: rootfs.path)
        kernel.failing = "mount sysfs"
        let s = try spec(#""mounts": [{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "ro"]}]"#)
        try setup(s, kernel: kernel).prepare(beforeCgroupMount: {})
        let sys = kernel.calls.filter { $0.contains("$ROOTFS/sys") }
        XCTAssertEqual(sys, [
            "mount sysfs sysfs $ROOTFS/sys ro,nosuid FAILED",
            "mount bind /sys $ROOTFS/sys bind,rec",
            "mount - - $ROOTFS/sys ro,nosuid,nodev,noexec,bind,remount,rec",
        ])
    }

    /// A read-only or masked path this kernel lacks is skipped; a masked directory is
    /// covered by an empty read-only tmpfs.
    func testMissingAndDirectoryPaths() throws {
        let s = try spec(#""linux": {"readonlyPaths": ["/proc/missing"], "maskedPaths": ["/proc/acpi"]}"#)
        let missing = RecordingKernel(rootfs: rootfs.path)
        missing.failing = "mount bind /proc/missing"
        missing.failingErrno = ENOENT
        try setup(s, kernel: missing).finish()
        XCTAssertEqual(missing.calls, ["mount bind /proc/missing /proc/missing bind,rec FAILED", "mount bind /dev/null /proc/acpi bind"])
        let directory = RecordingKernel(rootfs: rootfs.path)
        directory.failing = "mount bind /dev/null /proc/acpi"
        directory.failingErrno = ENOTDIR
        try setup(s, kernel: directory).finish()
        XCTAssertEqual(Array(directory.calls.suffix(2)), ["mount bind /dev/null /proc/acpi bind FAILED", "mount tmpfs tmpfs /proc/acpi ro"])
    }

    /// A mount that fails stops the set-up there, and the error names the step.
    func testFailingMountNamesItsStep() throws {
        let kernel = RecordingKernel(rootfs: rootfs.path)
        kernel.failing = "mount devpts"
        XCTAssertThrowsError(try setup(try spec(mounts), kernel: kernel).prepare(beforeCgroupMount: {})) { error in
            XCTAssertTrue("\(error)".hasPrefix("mount mounts[2] /dev/pts: mount "), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix(": operation not permitted"), "\(error)")
        }
        XCTAssertEqual(kernel.calls.last, "mount devpts devpts $ROOTFS/dev/pts nosuid,noexec FAILED")
    }

    /// Without mount_setattr, the read-only root is a remount keeping the root's flags.
    func testReadOnlyRootWithoutMountSetattr() throws {
        var s = try spec("")
        s.root?.readonly = true
        let kernel = RecordingKernel(rootfs: rootfs.path)
        kernel.hasMountSetattr = false
        try setup(s, kernel: kernel).finish()
        XCTAssertEqual(kernel.calls, ["mount - - / ro,nosuid,bind,remount"])
    }
}
