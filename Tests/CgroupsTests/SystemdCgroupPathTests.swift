import XCTest
@testable import Cgroups

final class SystemdCgroupPathTests: XCTestCase {
    func testSliceExpansion() throws {
        XCTAssertEqual(try SystemdCgroupPath.expand(slice: "system.slice", in: "x"), "/system.slice")
        XCTAssertEqual(try SystemdCgroupPath.expand(slice: "machine-libpod_pod.slice", in: "x"), "/machine.slice/machine-libpod_pod.slice")
        XCTAssertEqual(try SystemdCgroupPath.expand(slice: "a-b-c.slice", in: "x"), "/a.slice/a-b.slice/a-b-c.slice")
        XCTAssertEqual(try SystemdCgroupPath.expand(slice: "-.slice", in: "x"), "/")
        for bad in ["system", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", ".slice"] {
            XCTAssertThrowsError(try SystemdCgroupPath.expand(slice: bad, in: "x"), bad) {
                XCTAssertTrue("\($0)".hasPrefix("linux.cgroupsPath: \"\(bad)\""), "\($0)")
            }
        }
    }

    func testEngineForms() throws {
        // containerd (SystemdCgroup = true), Podman (cgroup_manager = "systemd"), kubelet.
        XCTAssertEqual(try SystemdCgroupPath.resolve("system.slice:cri-containerd:abc", id: "abc"), "/system.slice/cri-containerd-abc.scope")
        XCTAssertEqual(try SystemdCgroupPath.resolve("machine.slice:libpod:abc", id: "abc"), "/machine.slice/libpod-abc.scope")
        XCTAssertEqual(try SystemdCgroupPath.resolve("kubepods-besteffort-pod1.slice:cri-containerd:c1", id: "c1"),
                       "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-c1.scope")
        XCTAssertEqual(try SystemdCgroupPath.resolve(":p:n", id: "n"), "/system.slice/p-n.scope")
        XCTAssertEqual(try SystemdCgroupPath.resolve("-.slice:p:n", id: "n"), "/p-n.scope")
        XCTAssertEqual(try SystemdCgroupPath.resolve("user.slice::my-x.slice", id: "n"), "/user.slice/my-x.slice")
        XCTAssertEqual(try SystemdCgroupPath.resolve(nil, id: "c9"), "/system.slice/safehouse-c9.scope")
        for bad in ["/default/abc", "a:b", "a.slice:b:c:d", "system.slice:p:", "system.slice:p/q:n", "system.slice:p:..", "nope:p:n"] {
            XCTAssertThrowsError(try SystemdCgroupPath.resolve(bad, id: "n"), bad) {
                XCTAssertTrue("\($0)".hasPrefix("linux.cgroupsPath: "), "\($0)")
            }
        }
    }

    func testManagerPlacesTheUnitInEveryHierarchy() throws {
        let layout = CgroupLayout.parse(mountinfo: """
            31 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
            30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
            """)
        let m = try CgroupManager(layout: layout, cgroupsPath: "system.slice:cri-containerd:abc", id: "abc", systemdDriver: true,
                                  callerMembership: ["memory": "/user/me", "": "/user/me"])
        XCTAssertEqual(Set(m.paths), ["/sys/fs/cgroup/unified/system.slice/cri-containerd-abc.scope",
                                      "/sys/fs/cgroup/memory/system.slice/cri-containerd-abc.scope"])
        XCTAssertThrowsError(try CgroupManager(layout: layout, cgroupsPath: "system.slice:p:n", id: "n")) {
            XCTAssertTrue("\($0)".contains("pass --systemd-cgroup"), "\($0)")
        }
    }
}
