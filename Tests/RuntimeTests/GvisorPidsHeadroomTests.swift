import XCTest
@testable import Runtime
import OCI

/// A policy's pids limit becomes the host limit runsc gets, with gVisor's own tasks.
final class GvisorPidsHeadroomTests: XCTestCase {
    private func spec(pids: Int64?) -> Spec {
        var resources = LinuxResources()
        resources.pids = pids.map { LinuxPids(limit: $0) }
        var linux = LinuxConfig()
        linux.resources = resources
        return Spec(linux: linux)
    }

    func testTheHostLimitIsTheBasePlusTheTasksOfEachProcess() {
        XCTAssertEqual(GvisorPidsHeadroom.hostLimit(forProcesses: 64), 608)
        XCTAssertEqual(GvisorPidsHeadroom.hostLimit(forProcesses: 16), 176)
        XCTAssertEqual(GvisorPidsHeadroom.hostLimit(forProcesses: 1), 41)
    }

    func testTheHostLimitStopsAtTheKernelsMaximum() {
        XCTAssertEqual(GvisorPidsHeadroom.hostLimit(forProcesses: 4_194_304), 4_194_304)
        XCTAssertEqual(GvisorPidsHeadroom.hostLimit(forProcesses: .max), 4_194_304)
    }

    func testApplyRaisesASetLimitAndLeavesNoLimitAlone() {
        var limited = spec(pids: 64)
        GvisorPidsHeadroom.apply(&limited)
        XCTAssertEqual(limited.linux?.resources?.pids?.limit, 608)
        for none: Int64? in [nil, 0, -1] {
            var unlimited = spec(pids: none)
            GvisorPidsHeadroom.apply(&unlimited)
            XCTAssertEqual(unlimited.linux?.resources?.pids?.limit, none)
        }
    }
}
