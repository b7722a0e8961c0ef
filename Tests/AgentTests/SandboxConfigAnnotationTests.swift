import XCTest
@testable import Agent
import Runtime

/// The one codec between a sandbox's config and its spec's annotations.
final class SandboxConfigAnnotationTests: XCTestCase {
    func testRoundTrip() throws {
        var c = SandboxConfig(policyName: "/p.yaml", diskBytes: 64 << 20)
        c.effectivePolicy = "limits: disk 64Mi"
        XCTAssertEqual(try SandboxConfig(annotations: c.annotations), c)
        c.timeoutSeconds = 1.5
        c.networkAllow = ["*.pypi.org", "api.test:8000-8010", "[2001:db8::1]:443"]
        c.egressMaxConnections = 8
        c.egressMaxBytes = 1 << 20
        c.egressIdleTimeout = 30
        c.egressMode = .transparent
        c.auditLog = "/var/log/a.jsonl"
        c.auditKey = "/etc/k"
        c.auditBestEffort = true
        c.auditByHooks = true
        XCTAssertEqual(try SandboxConfig(annotations: c.annotations), c)
    }

    /// What a generated spec says, key by key (engines and people read these).
    func testAnnotationsOfAPolicy() throws {
        var p = try PolicyReader.parse("network:\n  allow: [www.test]\n  mode: explicit\n  maxBytes: 1Mi\nlimits:\n  timeout: 90s\naudit: best-effort\n", source: "n.yaml")
        p.auditKey = "/k"
        let a = SandboxConfig(p, policyName: "/n.yaml").annotations
        XCTAssertEqual(a[SandboxAnnotation.policy], "/n.yaml")
        XCTAssertEqual(a[SandboxAnnotation.disk], String(p.limits.disk))
        XCTAssertEqual(a[SandboxAnnotation.effectivePolicy], p.effectiveLine)
        XCTAssertEqual(a[SandboxAnnotation.timeout], "90.0")
        XCTAssertEqual(a[SandboxAnnotation.networkAllow], "www.test")
        XCTAssertEqual(a[SandboxAnnotation.networkMode], "explicit")
        XCTAssertEqual(a[SandboxAnnotation.networkMaxBytes], "1048576")
        XCTAssertEqual(a[SandboxAnnotation.auditMode], "best-effort")
        XCTAssertEqual(a[SandboxAnnotation.auditKey], "/k")
        XCTAssertNil(a[SandboxAnnotation.auditHooks])
        // No allowlist: no mode.
        XCTAssertNil(SandboxConfig(Policy(source: "x"), policyName: "x").annotations[SandboxAnnotation.networkMode])
    }

    func testEachBadAnnotationIsNamed() {
        let generated = [SandboxAnnotation.policy: "/p.yaml", SandboxAnnotation.disk: "2097152"]
        for (key, value, message) in [
            (SandboxAnnotation.disk, "lots", "annotations.io.safehouse.limits.disk: \"lots\" is not a number of bytes (at least 1Mi)"),
            (SandboxAnnotation.disk, "1024", "annotations.io.safehouse.limits.disk: \"1024\" is not a number of bytes (at least 1Mi)"),
            (SandboxAnnotation.timeout, "0", "annotations.io.safehouse.limits.timeout: \"0\" is not a positive number of seconds"),
            (SandboxAnnotation.networkMaxConnections, "0", "annotations.io.safehouse.network.maxConnections: \"0\" is not a positive number"),
            (SandboxAnnotation.networkMaxBytes, "-1", "annotations.io.safehouse.network.maxBytes: \"-1\" is not a number of bytes"),
            (SandboxAnnotation.networkIdleTimeout, "x", "annotations.io.safehouse.network.idleTimeout: \"x\" is not a positive number of seconds"),
            (SandboxAnnotation.networkMode, "Both", "annotations.io.safehouse.network.mode: \"Both\" is not one of explicit, transparent, both"),
        ] {
            XCTAssertThrowsError(try SandboxConfig(annotations: generated.merging([key: value]) { $1 }), value) {
                XCTAssertEqual("\($0)", message)
            }
        }
    }

    /// An engine's spec naming only a policy: the policy's own config, audit included.
    func testEngineForm() throws {
        let c = try XCTUnwrap(try SandboxConfig(annotations: [SandboxAnnotation.policy: "offline-strict"]))
        let p = try Profiles.resolve("offline-strict")
        XCTAssertEqual(c.diskBytes, p.limits.disk)
        XCTAssertEqual(c.timeoutSeconds, p.limits.timeout)
        XCTAssertEqual(c.auditLog, p.audit)
        XCTAssertFalse(c.auditByHooks)
        let hooked = try XCTUnwrap(try SandboxConfig(annotations: [SandboxAnnotation.policy: "default", SandboxAnnotation.auditHooks: "true",
                                                                    SandboxAnnotation.audit: "/l", SandboxAnnotation.auditMode: "best-effort"]))
        XCTAssertTrue(hooked.auditByHooks)
        XCTAssertEqual(hooked.auditLog, "/l")
        XCTAssertTrue(hooked.auditBestEffort)
        let audit = SandboxConfig.auditLog(of: [SandboxAnnotation.policy: "default"]) { nil }
        XCTAssertNil(audit.log)
        XCTAssertNil(audit.key)
    }
}
