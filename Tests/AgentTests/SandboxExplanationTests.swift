import OCI
import XCTest
@testable import Agent

/// `agent explain`'s lines for what a policy adds around an engine's spec: always the
/// same four fields in the same order, worded by the spec's network namespace.
final class SandboxExplanationTests: XCTestCase {
    func spec(network: LinuxNamespace?) -> Spec {
        var spec = Spec.runcDefault(rootless: false)
        spec.root = Root(path: "rootfs")
        let others = (spec.linux?.namespaces ?? []).filter { $0.type != .network }
        spec.linux?.namespaces = others + [network].compactMap { $0 }
        return spec
    }

    func testFourLinesInOrder() {
        var policy = Policy(source: "test")
        policy.limits.disk = 64 << 20
        policy.limits.timeout = 90
        let lines = SandboxExplanation.lines(policy, spec: spec(network: LinuxNamespace(type: .network)))
        XCTAssertEqual(lines.map { String($0.prefix { $0 != ":" }) }, ["root.path", "limits.timeout", "network.allow", "audit"])
        XCTAssertEqual(lines[0], "root.path: rootfs -> an ephemeral overlay over rootfs, its writes in a tmpfs of 64Mi (limits.disk), gone at delete")
        XCTAssertTrue(lines[1].hasPrefix("limits.timeout: none -> 90s from start"))
        XCTAssertEqual(lines[2], "network.allow: a new network namespace -> loopback only (the policy allows nothing)")
        XCTAssertTrue(lines[3].hasPrefix("audit: none -> /var/log/safehouse/<container id>.audit.jsonl "))
    }

    func testNetworkByNamespace() {
        var policy = Policy(source: "test")
        policy.network.allow = ["www.test"]
        policy.network.mode = .transparent
        let joined = SandboxExplanation.lines(policy, spec: spec(network: LinuxNamespace(type: .network, path: "/var/run/netns/pod")))[2]
        XCTAssertTrue(joined.hasPrefix("network.allow: network namespace /var/run/netns/pod -> only www.test through the warden (network.mode transparent: "))
        XCTAssertTrue(joined.hasSuffix("one whose policy differs is refused"))
        var gvisor = spec(network: LinuxNamespace(type: .network, path: "/var/run/netns/pod"))
        gvisor.annotations = ["io.safehouse.backend": "gvisor"]
        XCTAssertTrue(SandboxExplanation.lines(policy, spec: gvisor)[2].hasPrefix("network.allow: network namespace /var/run/netns/pod -> refused at create on the gvisor backend"))
        let host = SandboxExplanation.lines(policy, spec: spec(network: nil))[2]
        XCTAssertTrue(host.hasPrefix("network.allow: the host's network namespace -> refused at create"))
    }

    /// A policy without an allowlist: an engine's namespace is served with an empty
    /// one (native), or left unused behind runsc's network none (gvisor); the host's is
    /// left as it is.
    func testNoNetworkByNamespace() {
        let policy = Policy(source: "test")
        XCTAssertTrue(policy.network.allow.isEmpty)
        let pod = spec(network: LinuxNamespace(type: .network, path: "/var/run/netns/pod"))
        XCTAssertEqual(SandboxExplanation.lines(policy, spec: pod)[2],
                       "network.allow: network namespace /var/run/netns/pod -> every outbound connection and DNS query refused by the warden and recorded, loopback kept (the policy allows nothing); the first sandbox of that namespace serves it, and one whose policy differs is refused")
        var gvisor = pod
        gvisor.annotations = ["io.safehouse.backend": "gvisor"]
        XCTAssertEqual(SandboxExplanation.lines(policy, spec: gvisor)[2],
                       "network.allow: network namespace /var/run/netns/pod -> loopback only, gVisor's own (the policy allows nothing: runsc's network none, the namespace's interfaces unused)")
        XCTAssertEqual(SandboxExplanation.lines(policy, spec: spec(network: nil))[2],
                       "network.allow: the host's network namespace -> unchanged (the policy allows nothing, but the container shares the host's network: capture rules there would govern the whole host)")
        for line in [pod, gvisor, spec(network: nil), spec(network: LinuxNamespace(type: .network))].map({ SandboxExplanation.lines(policy, spec: $0)[2] }) {
            XCTAssertFalse(line.contains("keeps the interfaces"), line)
        }
    }

    func testAuditLogFromTheAnnotationBeforeThePolicy() {
        var policy = Policy(source: "test")
        policy.audit = "/var/log/policy.jsonl"
        var s = spec(network: LinuxNamespace(type: .network))
        XCTAssertTrue(SandboxExplanation.lines(policy, spec: s)[3].hasPrefix("audit: none -> /var/log/policy.jsonl "))
        s.annotations = [SandboxAnnotation.audit: "/tmp/engine.jsonl"]
        XCTAssertTrue(SandboxExplanation.lines(policy, spec: s)[3].hasPrefix("audit: none -> /tmp/engine.jsonl "))
    }
}
