import Foundation
import Cgroups
import XCTest
@testable import Runtime

/// `exec --cgroup` placement over a fake cgroup tree in a temporary directory: a bare
/// path for every hierarchy, a controller prefix for its own, runc's refusals.
final class ExecSubCgroupsTests: XCTestCase {
    private var base = ""
    private var layout = CgroupLayout(hierarchies: [])
    private var container: [String] = []

    override func setUpWithError() throws {
        base = NSTemporaryDirectory() + "exec-subcgroups-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        layout = CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v1, mountPoint: base + "/memory", controllers: ["memory"]),
            CgroupHierarchy(version: .v1, mountPoint: base + "/cpu,cpuacct", controllers: ["cpu", "cpuacct"]),
            CgroupHierarchy(version: .v1, mountPoint: base + "/systemd", controllers: ["name=systemd"]),
            CgroupHierarchy(version: .v2, mountPoint: base + "/unified", controllers: []),
        ])
        container = ["memory", "cpu,cpuacct", "systemd", "unified"].map { base + "/" + $0 + "/c1" }
        for path in container { try FileManager.default.createDirectory(atPath: path + "/sub/deeper", withIntermediateDirectories: true) }
        // The v2 directory's controllers (on a hybrid host, those not bound to v1).
        try "hugetlb pids_v2\n".write(toFile: container[3] + "/cgroup.controllers", atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: base)
    }

    private func resolve(_ requests: [String]) throws -> [String] {
        try ExecSubCgroups.resolve(requests, containerPaths: container, layout: layout)
    }

    func testNoRequestKeepsTheContainersCgroups() throws {
        XCTAssertEqual(try resolve([]), container)
    }

    func testABarePathAppliesToEveryHierarchy() throws {
        XCTAssertEqual(try resolve(["sub"]), container.map { $0 + "/sub" })
        XCTAssertEqual(try resolve(["/sub/deeper"]), container.map { $0 + "/sub/deeper" })
    }

    func testAControllerPrefixAppliesToItsHierarchyOnly() throws {
        XCTAssertEqual(try resolve(["memory:sub", "cpuacct:sub/deeper"]),
                       [container[0] + "/sub", container[1] + "/sub/deeper", container[2], container[3]])
        XCTAssertEqual(try resolve(["name=systemd,memory:sub"]),
                       [container[0] + "/sub", container[1], container[2] + "/sub", container[3]])
    }

    func testAControllerOfTheV2HierarchyNamesItsDirectory() throws {
        XCTAssertEqual(try resolve(["hugetlb:sub"]), [container[0], container[1], container[2], container[3] + "/sub"])
    }

    func testRefusals() {
        for bad in [["memory:../x"], ["sub/../.."], ["bogus:sub"], ["memory:nosuch"], ["memory:"], ["sub", "memory:sub"],
                    ["memory:sub", "memory:sub/deeper"], [":sub"]] {
            XCTAssertThrowsError(try resolve(bad), "\(bad)") { error in
                XCTAssertTrue("\(error)".contains("--cgroup"), "\(error)")
            }
        }
    }
}
