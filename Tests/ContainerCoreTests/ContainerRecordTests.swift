import XCTest
@testable import ContainerCore
import OCI

final class ContainerRecordTests: XCTestCase {
    func testRecordKeepsTheBackendAndRunscFlags() throws {
        var record = ContainerRecord(id: "c", pid: 5, pidStartTime: 6, bundle: "/b", rootfs: "/b/r", created: "t", owner: "root",
                                     annotations: nil, hooks: nil, ownsPidNamespace: true, backend: .gvisor)
        record.runsc = "/usr/bin/runsc"
        record.runscFlags = ["--root", "/r/@runsc", "--network=none"]
        let back = try XCTUnwrap(ContainerRecord(decoding: record.encoded))
        XCTAssertEqual(back.backend, .gvisor)
        XCTAssertEqual(back.runsc, "/usr/bin/runsc")
        XCTAssertEqual(back.runscFlags, ["--root", "/r/@runsc", "--network=none"])
        // A native record does not grow: no runsc keys at all.
        let native = ContainerRecord(id: "c", pid: 5, pidStartTime: 6, bundle: "/b", rootfs: "/b/r", created: "t", owner: "root",
                                     annotations: nil, hooks: nil, ownsPidNamespace: true)
        XCTAssertFalse(String(decoding: native.encoded, as: UTF8.self).contains("runsc"))
        XCTAssertEqual(try XCTUnwrap(ContainerRecord(decoding: native.encoded)).backend, .native)
    }

    func testAnUnknownOrMissingBackendIsNative() throws {
        let bytes = Array(#"{"id":"c","pid":1,"pidStartTime":1,"bundle":"/b","rootfs":"/r","created":"t","owner":"o","ownsPidNamespace":true,"cgroupPaths":[]}"#.utf8)
        XCTAssertEqual(try XCTUnwrap(ContainerRecord(decoding: bytes)).backend, .native)
    }
}
