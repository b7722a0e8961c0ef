import FoundationEssentials
import XCTest
@testable import OCI

final class DefaultSpecTests: XCTestCase {
    func testMatchesRuncSpec() throws {
        let spec = Spec.runcDefault(rootless: false)
        XCTAssertEqual(spec.ociVersion, "1.2.0")
        XCTAssertEqual(spec.root, Root(path: "rootfs", readonly: true))
        XCTAssertEqual(spec.hostname, "safehouse")
        let process = try XCTUnwrap(spec.process)
        XCTAssertEqual(process.terminal, true)
        XCTAssertEqual(process.args, ["sh"])
        XCTAssertEqual(process.cwd, "/")
        XCTAssertEqual(process.env, ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"])
        XCTAssertEqual(process.user, User(uid: 0, gid: 0))
        XCTAssertEqual(process.noNewPrivileges, true)
        XCTAssertEqual(process.rlimits, [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 1024)])
        let caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        XCTAssertEqual(process.capabilities, LinuxCapabilities(bounding: caps, effective: caps, permitted: caps, ambient: caps))
        XCTAssertEqual(spec.mounts?.map(\.destination), ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"])
        XCTAssertEqual(spec.mounts?[1].options, ["nosuid", "strictatime", "mode=755", "size=65536k"])
        XCTAssertEqual(spec.mounts?[2].options, ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"])
        XCTAssertEqual(spec.mounts?[5], Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]))
        let linux = try XCTUnwrap(spec.linux)
        XCTAssertEqual(linux.namespaces?.map(\.type), [.pid, .network, .ipc, .uts, .mount])
        XCTAssertEqual(linux.maskedPaths?.first, "/proc/acpi")
        XCTAssertTrue(linux.maskedPaths?.contains("/proc/kcore") ?? false)
        XCTAssertEqual(linux.readonlyPaths, ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"])
        XCTAssertEqual(linux.resources?.devices, [LinuxDeviceCgroup(allow: false, access: "rwm")])
        XCTAssertNil(linux.uidMappings)
    }

    func testRoundTripsAndValidates() throws {
        for rootless in [false, true] {
            let spec = Spec.runcDefault(rootless: rootless)
            XCTAssertNoThrow(try spec.validate(), "rootless: \(rootless)")
            XCTAssertEqual(try Spec.decode(from: spec.encodedJSON()), spec)
        }
    }

    func testRootlessMatchesRuncRootless() throws {
        let spec = Spec.runcDefault(rootless: true, hostUID: 1000, hostGID: 1001)
        let linux = try XCTUnwrap(spec.linux)
        XCTAssertEqual(linux.namespaces?.map(\.type), [.pid, .ipc, .uts, .mount, .user])
        XCTAssertEqual(linux.uidMappings, [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)])
        XCTAssertEqual(linux.gidMappings, [LinuxIDMapping(containerID: 0, hostID: 1001, size: 1)])
        XCTAssertNil(linux.resources)
        XCTAssertEqual(spec.mounts?.map(\.destination), ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"])
        XCTAssertEqual(spec.mounts?.last, Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"]))
        XCTAssertEqual(spec.mounts?[2].options, ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"])
    }

    func testRootlessDefaultsToTheCallersIDs() throws {
        let spec = Spec.runcDefault(rootless: true)
        XCTAssertEqual(spec.linux?.uidMappings?.count, 1)
        XCTAssertEqual(spec.linux?.gidMappings?.first?.size, 1)
    }
}
