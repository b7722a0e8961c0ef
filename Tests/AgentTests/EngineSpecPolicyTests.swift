import Foundation
import OCI
import XCTest
@testable import Agent

/// create's decision for each kind of spec (PolicySandboxes.prepare): a plain
/// container and a generated sandbox spec are made as they are; an engine's spec
/// naming a policy is overlaid and gets the policy's seccomp profile as a second filter.
final class EngineSpecPolicyTests: XCTestCase {
    /// No policy directory may be read for a shipped profile, nor for a plain spec.
    func noLibrary() throws -> PolicyLibrary { XCTFail("the policy directory was read"); return PolicyLibrary(directories: []) }
    func noSubordinateIDs() -> [HostIDRange.Entry] { [] }

    func engineSpec(annotations: [String: String]?) -> Spec {
        var spec = Spec.runcDefault(rootless: false)
        let caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"]
        spec.process?.capabilities = LinuxCapabilities(bounding: caps, effective: caps, permitted: caps)
        spec.annotations = annotations
        return spec
    }

    func testPlainContainerIsUntouched() throws {
        for annotations in [nil, [:], ["org.example": "x"]] as [[String: String]?] {
            let engine = engineSpec(annotations: annotations)
            var spec = engine
            XCTAssertNil(try EngineSpecPolicy.prepare(&spec, library: noLibrary, subordinateIDs: noSubordinateIDs))
            XCTAssertEqual(spec, engine)
        }
    }

    func testGeneratedSpecIsUntouched() throws {
        let generated = try SandboxSpec.generate(Policy(source: "test"),
                                                 SandboxRequest(rootfs: "/rootfs", args: ["sh"], policyName: "default"))
        var spec = generated
        XCTAssertNil(EngineSpecPolicy.policyName(of: generated))
        XCTAssertNil(try EngineSpecPolicy.prepare(&spec, library: noLibrary, subordinateIDs: noSubordinateIDs))
        XCTAssertEqual(spec, generated)
    }

    func testEngineSpecIsOverlaid() throws {
        let engine = engineSpec(annotations: [SandboxAnnotation.policy: "default"])
        var spec = engine
        let overlay = try XCTUnwrap(try EngineSpecPolicy.prepare(&spec, library: noLibrary, subordinateIDs: noSubordinateIDs))
        XCTAssertEqual(overlay.addedSeccomp, AgentSeccomp.profile(.agent))
        // The engine's own profile (none here) is left as it was: the policy's is a second filter.
        XCTAssertEqual(spec.linux?.seccomp, engine.linux?.seccomp)
        XCTAssertEqual(spec.process?.capabilities?.bounding, ["CAP_CHOWN", "CAP_KILL"])
        XCTAssertEqual(spec.process?.noNewPrivileges, true)
        XCTAssertEqual(spec.linux?.uidMappings, [LinuxIDMapping(containerID: 0, hostID: HostIDRange.poolStart, size: 65_536)])
        XCTAssertEqual(spec.linux?.resources?.pids?.limit, 256)
        XCTAssertEqual(spec.annotations, engine.annotations)
    }

    func testOffLimitsPolicyNameFailsNamingTheAnnotation() {
        var spec = engineSpec(annotations: [SandboxAnnotation.policy: "/etc/passwd"])
        XCTAssertThrowsError(try EngineSpecPolicy.prepare(&spec, library: { PolicyLibrary(directories: ["/nonexistent"]) },
                                                          subordinateIDs: noSubordinateIDs)) { error in
            XCTAssertTrue("\(error)".hasPrefix("annotations.io.safehouse.policy: "), "\(error)")
        }
    }

    func testEngineMappingOfHostRootIsRefused() {
        var spec = engineSpec(annotations: [SandboxAnnotation.policy: "default"])
        spec.linux?.namespaces?.append(LinuxNamespace(type: .user))
        let everything = [LinuxIDMapping(containerID: 0, hostID: 0, size: 4_294_967_295)]
        spec.linux?.uidMappings = everything
        spec.linux?.gidMappings = everything
        XCTAssertThrowsError(try EngineSpecPolicy.prepare(&spec, library: noLibrary, subordinateIDs: noSubordinateIDs)) { error in
            XCTAssertTrue("\(error)".hasPrefix("linux.uidMappings: container uid 0 is host root"), "\(error)")
        }
    }

    /// A pod's container (namespaces joined by /proc path) joins the user namespace of
    /// the process it joins, with that namespace's mappings; the host's is not joined.
    func testPodContainerJoinsItsSandboxsUserNamespace() throws {
        let proc = NSTemporaryDirectory() + "/engine-spec-proc-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: proc) }
        for dir in ["/42/ns", "/43/ns", "/self/ns"] { try FileManager.default.createDirectory(atPath: proc + dir, withIntermediateDirectories: true) }
        try FileManager.default.createSymbolicLink(atPath: proc + "/42/ns/user", withDestinationPath: "user:[4026532001]")
        try FileManager.default.createSymbolicLink(atPath: proc + "/43/ns/user", withDestinationPath: "user:[4026531837]")
        try FileManager.default.createSymbolicLink(atPath: proc + "/self/ns/user", withDestinationPath: "user:[4026531837]")
        try "         0 1000000000      65536\n".write(toFile: proc + "/42/uid_map", atomically: true, encoding: .utf8)
        try "         0 1000000000      65536\n".write(toFile: proc + "/42/gid_map", atomically: true, encoding: .utf8)

        var spec = engineSpec(annotations: [SandboxAnnotation.policy: "default"])
        spec.linux?.namespaces = [LinuxNamespace(type: .mount), LinuxNamespace(type: .ipc, path: proc + "/42/ns/ipc")]
        EngineSpecPolicy.joinPodUserNamespace(&spec, proc: proc)
        XCTAssertEqual(spec.linux?.namespaces?.last, LinuxNamespace(type: .user, path: proc + "/42/ns/user"))
        XCTAssertEqual(spec.linux?.uidMappings, [LinuxIDMapping(containerID: 0, hostID: 1_000_000_000, size: 65_536)])

        // The host's own user namespace: nothing to join; the overlay makes one.
        var host = engineSpec(annotations: [SandboxAnnotation.policy: "default"])
        host.linux?.namespaces = [LinuxNamespace(type: .ipc, path: proc + "/43/ns/ipc")]
        let before = host
        EngineSpecPolicy.joinPodUserNamespace(&host, proc: proc)
        XCTAssertEqual(host, before)
    }

    /// A user namespace the engine joins by /proc path is held to the same rule.
    func testJoinedUserNamespaceMappingHostRootIsRefused() throws {
        let proc = NSTemporaryDirectory() + "/engine-spec-proc-root-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: proc) }
        try FileManager.default.createDirectory(atPath: proc + "/7/ns", withIntermediateDirectories: true)
        try "         0          0 4294967295\n".write(toFile: proc + "/7/uid_map", atomically: true, encoding: .utf8)
        var spec = engineSpec(annotations: [SandboxAnnotation.policy: "default"])
        spec.linux?.namespaces = [LinuxNamespace(type: .user, path: proc + "/7/ns/user")]
        XCTAssertThrowsError(try EngineSpecPolicy.refuseHostRootInJoinedUserNamespace(spec, proc: proc)) { error in
            XCTAssertTrue("\(error)".hasPrefix("linux.namespaces: the user namespace \(proc)/7/ns/user maps container uid 0 to host root"), "\(error)")
        }
        try "         0 1000000000      65536\n".write(toFile: proc + "/7/uid_map", atomically: true, encoding: .utf8)
        XCTAssertNoThrow(try EngineSpecPolicy.refuseHostRootInJoinedUserNamespace(spec, proc: proc))
    }
}
