import XCTest
import OCI
@testable import Cgroups
@testable import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The cgroup v2 device program: its instructions for a few rule sets, and the real
/// thing on this machine's cgroup2 mount (root only).
///
/// Expected programs follow runc's generator (libcontainer/cgroups/ebpf/devicefilter):
/// the same six-instruction prologue (r2 = type, r3 = access, r4 = major, r5 = minor
/// from struct bpf_cgroup_dev_ctx at offsets 0, 0, 4, 8), one block per rule whose
/// jumps all land on the next block, the default verdict last. Blocks come latest
/// rule first (last match wins), trailing blocks with the default's verdict are
/// dropped, and a full "a" rule resets the default (see DeviceFilterProgram).
final class DeviceFilterTests: XCTestCase {
    typealias I = BPFInstruction

    let prologue: [I] = [
        .loadWord(2, from: 1, offset: 0), .and32(2, 0xffff),
        .loadWord(3, from: 1, offset: 0), .rsh32(3, 16),
        .loadWord(4, from: 1, offset: 4),
        .loadWord(5, from: 1, offset: 8),
    ]
    let allowAll: [I] = [.mov32(0, 1), .exit]
    let denyAll: [I] = [.mov32(0, 0), .exit]

    static let denyEverything = LinuxDeviceCgroup(allow: false, access: "rwm")

    func program(_ rules: [LinuxDeviceCgroup], file: StaticString = #filePath, line: UInt = #line) throws -> [I] {
        try DeviceFilterProgram.instructions(for: rules)
    }

    func assertProgram(_ rules: [LinuxDeviceCgroup], _ expected: [I], file: StaticString = #filePath, line: UInt = #line) throws {
        let got = try DeviceFilterProgram.instructions(for: rules)
        XCTAssertEqual(got, expected, "\ngot:\n" + got.map(\.description).joined(separator: "\n"), file: file, line: line)
    }

    // MARK: generator

    /// runc's program for "deny all; allow c 1:3 rwm" (its devicefilter_test shape):
    /// type, major, minor checks (no access check for rwm), allow; then deny.
    func testDenyAllThenAllowOneCharDevice() throws {
        try assertProgram([Self.denyEverything, LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rwm")],
                          prologue + [
                              .jne(2, DeviceFilterProgram.devChar, 4),
                              .jne(4, 1, 3),
                              .jne(5, 3, 2),
                          ] + allowAll + denyAll)
    }

    /// Wildcards (absent or -1) drop their check; partial access adds the
    /// "asked access within the rule's" check (w1 = w3 & ACC; if r1 != r3 next).
    /// Latest rule first.
    func testWildcardsAndPartialAccess() throws {
        try assertProgram([
            Self.denyEverything,
            LinuxDeviceCgroup(allow: true, type: "c", major: 10, minor: -1, access: "rwm"),
            LinuxDeviceCgroup(allow: true, type: "b", access: "m"),
        ], prologue + [
            // b *:* m
            .jne(2, DeviceFilterProgram.devBlock, 5),
            .mov32(1, register: 3), .and32(1, DeviceFilterProgram.accMknod), .jne(1, register: 3, 2),
        ] + allowAll + [
            // c 10:* rwm
            .jne(2, DeviceFilterProgram.devChar, 3),
            .jne(4, 10, 2),
        ] + allowAll + denyAll)
    }

    /// "a": a full one resets to allow-all (default verdict 1); a partial one checks
    /// no type. Deny blocks match when the access asked shares a bit with the rule's
    /// (w1 = w3 & ACC; if r1 == 0 next).
    func testAllTypeRulesAndDenyBlocks() throws {
        try assertProgram([
            LinuxDeviceCgroup(allow: true),                         // a *:* rwm: allow by default
            LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 3, access: "w"),
            LinuxDeviceCgroup(allow: false, type: "a", access: "m"),
        ], prologue + [
            // a *:* m (deny)
            .mov32(1, register: 3), .and32(1, DeviceFilterProgram.accMknod), .jeq(1, 0, 2),
        ] + denyAll + [
            // c 1:3 w (deny)
            .jne(2, DeviceFilterProgram.devChar, 7),
            .mov32(1, register: 3), .and32(1, DeviceFilterProgram.accWrite), .jeq(1, 0, 4),
            .jne(4, 1, 3),
            .jne(5, 3, 2),
        ] + denyAll + allowAll)
    }

    /// Block and char devices with the same numbers are different rules.
    func testBlockVersusChar() throws {
        let rw = DeviceFilterProgram.accRead | DeviceFilterProgram.accWrite
        try assertProgram([
            Self.denyEverything,
            LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: 0, access: "rw"),
            LinuxDeviceCgroup(allow: true, type: "c", major: 8, minor: 0, access: "r"),
        ], prologue + [
            .jne(2, DeviceFilterProgram.devChar, 7),
            .mov32(1, register: 3), .and32(1, DeviceFilterProgram.accRead), .jne(1, register: 3, 4),
            .jne(4, 8, 3), .jne(5, 0, 2),
        ] + allowAll + [
            .jne(2, DeviceFilterProgram.devBlock, 7),
            .mov32(1, register: 3), .and32(1, rw), .jne(1, register: 3, 4),
            .jne(4, 8, 3), .jne(5, 0, 2),
        ] + allowAll + denyAll)
    }

    /// A later full "a" rule hides everything before it; with no "a" rule at all the
    /// default is deny (runc's emulator starts as an allow list).
    func testResetOrderingAndDefaults() throws {
        let zero = LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rwm")
        let zeroBlock: [I] = [.jne(2, DeviceFilterProgram.devChar, 4), .jne(4, 1, 3), .jne(5, 5, 2)] + allowAll
        try assertProgram([LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3), Self.denyEverything, zero],
                          prologue + zeroBlock + denyAll)
        try assertProgram([zero], prologue + zeroBlock + denyAll)
        // Only rules with the default's verdict at the end of the chain: nothing to test.
        try assertProgram([Self.denyEverything, LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 5)], prologue + denyAll)
        try assertProgram([], prologue + denyAll)
        try assertProgram([Self.denyEverything, LinuxDeviceCgroup(allow: true)], prologue + allowAll)
        // Last match wins: the later deny is tested before the earlier wildcard allow.
        try assertProgram([Self.denyEverything, LinuxDeviceCgroup(allow: true, type: "c"), LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 5)],
                          prologue + [.jne(2, DeviceFilterProgram.devChar, 4), .jne(4, 1, 3), .jne(5, 5, 2)] + denyAll
                          + [.jne(2, DeviceFilterProgram.devChar, 2)] + allowAll + denyAll)
    }

    func testEncoding() {
        XCTAssertEqual(I.loadWord(2, from: 1, offset: 0).bytes, [0x61, 0x12, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(I.loadWord(4, from: 1, offset: 4).bytes, [0x61, 0x14, 4, 0, 0, 0, 0, 0])
        XCTAssertEqual(I.and32(2, 0xffff).bytes, [0x54, 0x02, 0, 0, 0xff, 0xff, 0, 0])
        XCTAssertEqual(I.rsh32(3, 16).bytes, [0x74, 0x03, 0, 0, 16, 0, 0, 0])
        XCTAssertEqual(I.mov32(1, register: 3).bytes, [0xbc, 0x31, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(I.jne(1, register: 3, 2).bytes, [0x5d, 0x31, 2, 0, 0, 0, 0, 0])
        XCTAssertEqual(I.jne(5, 229, 300).bytes, [0x55, 0x05, 0x2c, 0x01, 229, 0, 0, 0])
        XCTAssertEqual(I.jeq(1, 0, 2).bytes, [0x15, 0x01, 2, 0, 0, 0, 0, 0])
        XCTAssertEqual(I.mov32(0, 1).bytes, [0xb4, 0x00, 0, 0, 1, 0, 0, 0])
        XCTAssertEqual(I.exit.bytes, [0x95, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(DeviceFilterProgram.bytes(prologue + denyAll).count, 8 * 8)
    }

    func testInvalidRulesAreRefused() {
        XCTAssertThrowsError(try program([LinuxDeviceCgroup(allow: true, type: "x")]))
        XCTAssertThrowsError(try program([LinuxDeviceCgroup(allow: true, type: "c", access: "")]))
        XCTAssertThrowsError(try program([LinuxDeviceCgroup(allow: true, type: "c", access: "rx")]))
        XCTAssertThrowsError(try program([LinuxDeviceCgroup(allow: true, type: "c", major: 1 << 31)]))
        XCTAssertThrowsError(try program([LinuxDeviceCgroup(allow: true, type: "c", minor: -2)]))
    }

    // MARK: the kernel

    /// The verifier accepts every program above, and runc's defaults.
    func testKernelAcceptsThePrograms() throws {
        guard getuid() == 0 else { throw XCTSkip("BPF_PROG_LOAD needs root") }
        let sets: [[LinuxDeviceCgroup]] = [
            [],
            [Self.denyEverything] + CgroupManager.runcDefaultDeviceRules,
            [LinuxDeviceCgroup(allow: true), LinuxDeviceCgroup(allow: false, type: "c", major: 1, minor: 3, access: "w"),
             LinuxDeviceCgroup(allow: false, type: "a", access: "m")],
            [Self.denyEverything, LinuxDeviceCgroup(allow: true, type: "b", major: 8, minor: 0, access: "rw")],
        ]
        for rules in sets {
            let prog = try CgroupManager.loadDeviceFilter(DeviceFilterProgram.bytes(try DeviceFilterProgram.instructions(for: rules)))
            XCTAssertGreaterThanOrEqual(prog.rawValue, 0)
            prog.close()
        }
    }

    /// A child in a cgroup carrying "deny all; allow c 1:5 rw" opens /dev/zero and is
    /// refused /dev/null. Exit codes: 0 as expected, 1 /dev/null opened, 2 /dev/null
    /// failed with another errno, 3 /dev/zero refused, 4 no go-ahead.
    func testRealFilterOnTheUnifiedMount() throws {
        guard getuid() == 0 else { throw XCTSkip("real cgroups need root") }
        guard let unified = CgroupLayout.host().unified else { throw XCTSkip("no cgroup2 mount") }
        let dir = unified.mountPoint + "/safehouse-bpf-test-\(getpid())"
        var child: Int32 = 0
        var goAhead: [Int32] = [-1, -1]
        defer {
            for fd in goAhead where fd >= 0 { _ = close(fd) }
            if child > 0 { _ = kill(child, SIGKILL); _ = try? Processes.wait(child) }
            if Files.isDirectory(dir) {
                try? CgroupManager.removeDeviceFilters(cgroupDirectory: dir)
                var tries = 0
                while rmdir(dir) != 0, errno == EBUSY, tries < 100 { usleep(10_000); tries += 1 }
                XCTAssertFalse(Files.isDirectory(dir), "cgroup \(dir) left behind")
            }
        }
        XCTAssertEqual(mkdir(dir, 0o755), 0, "mkdir \(dir): errno \(errno)")

        // First "allow /dev/null", then replaced by "allow /dev/zero": the child's
        // refusal of /dev/null shows the first program is gone.
        try CgroupManager.installDeviceFilter([Self.denyEverything, LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 3, access: "rw")], cgroupDirectory: dir)
        let first = try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: dir)
        XCTAssertEqual(first.count, 1)
        try CgroupManager.installDeviceFilter([Self.denyEverything, LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5, access: "rw")], cgroupDirectory: dir)
        let second = try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: dir)
        XCTAssertEqual(second.count, 1)
        XCTAssertNotEqual(first, second)

        XCTAssertEqual(pipe(&goAhead), 0)
        let pid = try Processes.fork()
        if pid == 0 {
            // Only raw system calls after fork.
            _ = close(goAhead[1])
            var byte: UInt8 = 0
            if read(goAhead[0], &byte, 1) != 1 { _exit(4) }
            let null = open("/dev/null", O_RDONLY)
            if null >= 0 { _exit(1) }
            if errno != EPERM { _exit(2) }
            if open("/dev/zero", O_RDONLY) < 0 { _exit(3) }
            _exit(0)
        }
        child = pid
        _ = close(goAhead[0]); goAhead[0] = -1
        try Files.write(dir + "/cgroup.procs", String(pid), flags: O_WRONLY)
        var byte: UInt8 = 1
        XCTAssertEqual(write(goAhead[1], &byte, 1), 1)
        let status = try Processes.wait(pid)
        child = 0
        XCTAssertEqual(status, .exited(0), "1: /dev/null opened, 2: wrong errno, 3: /dev/zero refused, 4: no go-ahead")

        try CgroupManager.removeDeviceFilters(cgroupDirectory: dir)
        XCTAssertEqual(try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: dir), [])
    }

    /// The wiring: apply(resources:) on a pure-v2 layout attaches a program to the
    /// container's own directory (never the root), and an update replaces it.
    func testApplyResourcesAttachesOnPureV2() throws {
        guard getuid() == 0 else { throw XCTSkip("real cgroups need root") }
        guard let unified = CgroupLayout.host().unified else { throw XCTSkip("no cgroup2 mount") }
        let m = try CgroupManager(layout: CgroupLayout(hierarchies: [unified]), cgroupsPath: "/safehouse-bpf-test-\(getpid())-m", id: "t", callerMembership: [:])
        defer { XCTAssertNoThrow(try m.destroy()) }
        try m.makeDirectories()
        let before = try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: unified.mountPoint)
        try m.apply(resources: LinuxResources(devices: [Self.denyEverything]))
        let ids = try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: m.paths[0])
        XCTAssertEqual(ids.count, 1)
        try m.apply(resources: LinuxResources(devices: [Self.denyEverything, LinuxDeviceCgroup(allow: true, type: "c", major: 1, minor: 5)]))
        let replaced = try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: m.paths[0])
        XCTAssertEqual(replaced.count, 1)
        XCTAssertNotEqual(ids, replaced)
        XCTAssertEqual(try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: unified.mountPoint), before, "the root is untouched")
        // No spec rules (update): devices untouched.
        try m.apply(resources: LinuxResources(), includeRuncDefaultDevices: false)
        XCTAssertEqual(try CgroupManager.attachedDeviceFilterIDs(cgroupDirectory: m.paths[0]), replaced)
    }
}
