import XCTest
@testable import Runtime
import OCI
import Sandbox

/// A sandbox in the host's network namespace is refused whatever its policy's network:
/// with an allowlist the capture would govern the host, without one the container would
/// keep every interface of the host where the policy allows none.
final class HostNetworkRefusalTests: XCTestCase {
    private func spec(_ namespaces: [LinuxNamespace]) -> Spec {
        Spec(linux: LinuxConfig(namespaces: namespaces))
    }

    private func sandbox(allow: [String] = []) -> SandboxConfig {
        var config = SandboxConfig(policyName: "default", diskBytes: 1 << 20)
        config.networkAllow = allow
        return config
    }

    func testNoNetworkNamespaceIsRefusedWithoutAnAllowlistNamingThePolicy() {
        XCTAssertThrowsError(try EgressNamespacePlan.refuseHostNetwork(spec([LinuxNamespace(type: .pid)]), sandbox())) {
            XCTAssertEqual("\($0)", "egress: policy \"default\" allows no network, and the container shares the host's network namespace (linux.namespaces has no network entry, so the container would share it): it would keep every interface of the host; give the container a network namespace of its own (not Podman's --network host, not a pod with hostNetwork), where the policy leaves it loopback only, or what a network.allow in the policy names")
        }
    }

    func testNoNetworkNamespaceIsRefusedWithAnAllowlist() {
        XCTAssertThrowsError(try EgressNamespacePlan.refuseHostNetwork(spec([]), sandbox(allow: ["www.test"]))) {
            XCTAssertTrue("\($0)".hasPrefix("egress: network.allow is refused in the host's network namespace (linux.namespaces has no network entry"), "\($0)")
        }
    }

    func testAPathToTheHostsOwnNamespaceIsTheHosts() {
        XCTAssertThrowsError(try EgressNamespacePlan.refuseHostNetwork(spec([LinuxNamespace(type: .network, path: "/proc/self/ns/net")]), sandbox())) {
            XCTAssertTrue("\($0)".contains("(linux.namespaces network path /proc/self/ns/net is the host's own)"), "\($0)")
        }
    }

    func testANamespaceOfItsOwnOrAnUnreadablePathIsNotJudgedHere() {
        XCTAssertNoThrow(try EgressNamespacePlan.refuseHostNetwork(spec([LinuxNamespace(type: .network)]), sandbox()))
        XCTAssertNoThrow(try EgressNamespacePlan.refuseHostNetwork(spec([LinuxNamespace(type: .network, path: "/nonexistent/netns")]), sandbox(allow: ["www.test"])))
    }
}
