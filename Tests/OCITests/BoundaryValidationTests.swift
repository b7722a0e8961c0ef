import XCTest
@testable import OCI

/// Inputs the kernel would refuse only after the container's namespaces exist, or
/// would hang on: validation must name the field first.
final class BoundaryValidationTests: XCTestCase {
    private func userNamespaceSpec(uid: [LinuxIDMapping], gid: [LinuxIDMapping]? = nil) -> Spec {
        var spec = validSpec()
        spec.linux?.namespaces?.append(LinuxNamespace(type: .user))
        spec.linux?.uidMappings = uid
        spec.linux?.gidMappings = gid ?? [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 65536)]
        return spec
    }

    func testOverlappingContainerIDsAreRefused() {
        let spec = userNamespaceSpec(uid: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 1000),
                                           LinuxIDMapping(containerID: 500, hostID: 200_000, size: 1000)])
        let error = assertInvalid(spec, field: "linux.uidMappings[1]")
        XCTAssertTrue(error?.message.contains("overlap linux.uidMappings[0]") ?? false, "\(String(describing: error))")
    }

    func testOverlappingHostIDsAreRefused() {
        let spec = userNamespaceSpec(uid: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 65536)],
                                     gid: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 10),
                                           LinuxIDMapping(containerID: 10, hostID: 100_009, size: 10)])
        let error = assertInvalid(spec, field: "linux.gidMappings[1]")
        XCTAssertTrue(error?.message.contains("host ids") ?? false, "\(String(describing: error))")
    }

    func testAdjacentRangesAreAccepted() {
        let spec = userNamespaceSpec(uid: [LinuxIDMapping(containerID: 0, hostID: 100_000, size: 1),
                                           LinuxIDMapping(containerID: 1, hostID: 100_001, size: 65535),
                                           LinuxIDMapping(containerID: 65536, hostID: 0, size: 1)])
        XCTAssertNoThrow(try spec.validate())
    }

    func testRangesPastThe32BitLimitAreRefused() {
        let spec = userNamespaceSpec(uid: [LinuxIDMapping(containerID: UInt32.max, hostID: 100_000, size: 2)])
        assertInvalid(spec, field: "linux.uidMappings[0]")
        let host = userNamespaceSpec(uid: [LinuxIDMapping(containerID: 0, hostID: UInt32.max - 1, size: 3)])
        assertInvalid(host, field: "linux.uidMappings[0]")
    }

    func testTooManyMappingLinesAreRefused() {
        let many = (0..<341).map { LinuxIDMapping(containerID: UInt32($0), hostID: 100_000 + UInt32($0), size: 1) }
        assertInvalid(userNamespaceSpec(uid: many), field: "linux.uidMappings")
        XCTAssertNoThrow(try userNamespaceSpec(uid: Array(many.prefix(340))).validate())
    }

    func testHostnameLongerThanTheKernelAllowsIsRefused() {
        var spec = validSpec()
        spec.hostname = String(repeating: "a", count: 1_000_000)
        let error = assertInvalid(spec, field: "hostname")
        XCTAssertTrue(error?.message.contains("at most 64") ?? false)
        spec.hostname = String(repeating: "a", count: 64)
        XCTAssertNoThrow(try spec.validate())
    }

    func testDomainnameIsCheckedLikeTheHostname() {
        var spec = validSpec()
        spec.domainname = String(repeating: "d", count: 65)
        assertInvalid(spec, field: "domainname")
        spec.domainname = "a\u{0}b"
        assertInvalid(spec, field: "domainname")
        spec.domainname = "example.org"
        XCTAssertNoThrow(try spec.validate())
    }
}
