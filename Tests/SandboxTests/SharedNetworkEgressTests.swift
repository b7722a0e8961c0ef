import ContainerCore
import Linux
import XCTest
@testable import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// One owner per shared network namespace: the first sandbox serves it, later ones
/// with the same terms share it, other terms are refused, and a record whose warden
/// is gone is not trusted.
final class SharedNetworkEgressTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "shared-egress-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        try Files.makeDirectories(root, mode: 0o700)
    }

    override func tearDownWithError() throws { try? Files.removeTree(root) }

    let key = SharedNetworkEgress.NamespaceKey(device: 4, inode: 4_026_532_999)
    func terms(_ allow: String) -> [String: String] { ["network.allow": allow, "network.mode": "both"] }

    /// This test process stands in for a live warden.
    func liveOwner(_ id: String, _ allow: String) throws -> SharedNetworkEgress.Owner {
        SharedNetworkEgress.Owner(container: id, wardenPid: getpid(), wardenStartTime: try XCTUnwrap(Processes.startTime(of: getpid())),
                                  terms: terms(allow))
    }

    /// `body` with the registry locked, as create decides and records.
    func locked<T>(_ registry: SharedNetworkEgress, _ body: () throws -> T) throws -> T {
        let lock = try registry.lock()
        defer { lock.release() }
        return try body()
    }

    func testFirstServesLaterShareOthersAreRefused() throws {
        let registry = SharedNetworkEgress(root: root)
        XCTAssertEqual(try registry.decide(key, path: "/proc/1/ns/net", id: "pause", terms: terms("www.test")), .serve)
        try locked(registry) { try registry.record(try liveOwner("pause", "www.test"), for: key) }
        XCTAssertEqual(try registry.decide(key, path: "/proc/1/ns/net", id: "app", terms: terms("www.test")), .share(owner: "pause"))
        XCTAssertThrowsError(try registry.decide(key, path: "/proc/1/ns/net", id: "app", terms: terms("other.test"))) { error in
            XCTAssertEqual("\(error)", "egress: network namespace net:[4026532999] (linux.namespaces path /proc/1/ns/net) is served by container pause, whose policy has network.allow \"www.test\"; this container's has \"other.test\": a namespace has one allowlist (give the pod's containers the pod's policy)")
        }
        // No allowlist at all differs too: it would be under the owner's rules unasked.
        XCTAssertThrowsError(try registry.decide(key, path: "/p", id: "app", terms: ["network.allow": ""]))
    }

    /// A policy without an allowlist owns an engine's namespace with an empty one: later
    /// sandboxes without one share it, one with an allowlist is refused, said as "none".
    func testAnOwnerWithoutAnAllowlistIsSharedOnlyByTheSame() throws {
        let registry = SharedNetworkEgress(root: root)
        let none = SharedNetworkEgress.terms(of: SandboxConfig(policyName: "default", diskBytes: 1 << 20))
        XCTAssertEqual(none, ["network.allow": ""])
        XCTAssertEqual(try registry.decide(key, path: "/proc/1/ns/net", id: "pause", terms: none), .serve)
        let owner = SharedNetworkEgress.Owner(container: "pause", wardenPid: getpid(),
                                              wardenStartTime: try XCTUnwrap(Processes.startTime(of: getpid())), terms: none)
        try locked(registry) { try registry.record(owner, for: key) }
        XCTAssertEqual(try registry.decide(key, path: "/proc/1/ns/net", id: "app", terms: none), .share(owner: "pause"))
        XCTAssertThrowsError(try registry.decide(key, path: "/proc/1/ns/net", id: "app", terms: terms("www.test"))) { error in
            XCTAssertEqual("\(error)", "egress: network namespace net:[4026532999] (linux.namespaces path /proc/1/ns/net) is served by container pause, whose policy has network.allow none; this container's has \"www.test\": a namespace has one allowlist (give the pod's containers the pod's policy)")
        }
    }

    func testARecordWhoseWardenIsGoneIsNotTrusted() throws {
        let registry = SharedNetworkEgress(root: root)
        var dead = try liveOwner("pause", "www.test")
        dead.wardenStartTime += 1 // the pid now names another process
        try locked(registry) { try registry.record(dead, for: key) }
        XCTAssertEqual(try registry.decide(key, path: "/p", id: "app", terms: terms("other.test")), .serve)
        XCTAssertNil(registry.owner(of: key))
    }

    func testOnlyTheOwnerReleasesTheRecord() throws {
        let registry = SharedNetworkEgress(root: root)
        try locked(registry) { try registry.record(try liveOwner("pause", "www.test"), for: key) }
        registry.release(key, ownedBy: "app")
        XCTAssertEqual(registry.owner(of: key)?.container, "pause")
        registry.release(key, ownedBy: "pause")
        XCTAssertNil(registry.owner(of: key))
    }

    func testKeyNamesRoundTrip() throws {
        XCTAssertEqual(SharedNetworkEgress.NamespaceKey(name: key.name), key)
        XCTAssertNil(SharedNetworkEgress.NamespaceKey(name: "4-x"))
        let own = try SharedNetworkEgress.NamespaceKey(path: "/proc/self/ns/net")
        XCTAssertEqual("\(own)", try Files.readLink("/proc/self/ns/net"))
    }
}
