import OCI
import XCTest
@testable import Agent

/// The policy laid over an engine's spec: every rule tightens, nothing the engine
/// asked for is loosened, and a second application changes nothing.
final class PolicyOverlayTests: XCTestCase {
    func policy(_ edit: (inout Policy) -> Void = { _ in }) -> Policy {
        var p = Policy(source: "test")
        p.capabilities = ["CAP_CHOWN", "CAP_KILL"]
        p.limits.memory = 1 << 30
        p.limits.cpus = 1
        p.limits.pids = 256
        p.env = ["AGENT": "1", "HOME": "/scratch"]
        edit(&p)
        return p
    }

    /// What Podman or containerd writes for a root container: runc's default spec with
    /// a few more capabilities, no user namespace, cwd "/".
    func engineSpec() -> Spec {
        var spec = Spec.runcDefault(rootless: false)
        let caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_AUDIT_WRITE"]
        spec.process?.capabilities = LinuxCapabilities(bounding: caps, effective: caps, permitted: caps)
        spec.process?.env = ["PATH=/usr/bin:/bin", "HOME=/root"]
        spec.process?.noNewPrivileges = false
        spec.linux?.maskedPaths = ["/proc/acpi"]
        return spec
    }

    func testTightensEveryField() throws {
        let (spec, changes) = try PolicyOverlay.apply(policy(), to: engineSpec(), hostID: 1_000_000_000)
        let caps = try XCTUnwrap(spec.process?.capabilities)
        XCTAssertEqual(caps.bounding, ["CAP_CHOWN", "CAP_KILL"])
        XCTAssertEqual(caps.effective, ["CAP_CHOWN", "CAP_KILL"])
        XCTAssertEqual(caps.permitted, ["CAP_CHOWN", "CAP_KILL"])
        XCTAssertEqual(spec.process?.noNewPrivileges, true)
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, 1 << 30)
        XCTAssertEqual(spec.linux?.resources?.cpu?.quota, 100_000)
        XCTAssertEqual(spec.linux?.resources?.cpu?.period, 100_000)
        XCTAssertEqual(spec.linux?.resources?.pids?.limit, 256)
        XCTAssertTrue(spec.linux?.namespaces?.contains { $0.type == .user } ?? false)
        XCTAssertEqual(spec.linux?.uidMappings, [LinuxIDMapping(containerID: 0, hostID: 1_000_000_000, size: 65_536)])
        XCTAssertEqual(spec.linux?.gidMappings, [LinuxIDMapping(containerID: 0, hostID: 1_000_000_000, size: 65_536)])
        // The engine's masked path is kept; the runtime's defaults are added.
        XCTAssertEqual(spec.linux?.maskedPaths?.first, "/proc/acpi")
        for path in Spec.defaultMaskedPaths { XCTAssertTrue(spec.linux?.maskedPaths?.contains(path) ?? false, path) }
        // HOME was the engine's: kept. AGENT was unset: added.
        XCTAssertEqual(spec.process?.env, ["PATH=/usr/bin:/bin", "HOME=/root", "AGENT=1"])
        XCTAssertEqual(spec.process?.cwd, "/scratch")
        XCTAssertTrue(spec.mounts?.contains { $0.destination == "/scratch" && $0.type == "tmpfs" } ?? false)
        XCTAssertTrue(changes.contains { $0.field == "process.capabilities.bounding" && $0.now == "CAP_CHOWN,CAP_KILL" })
        XCTAssertTrue(changes.contains { $0.field == "linux.namespaces" })
    }

    func testNeverLoosensWhatTheEngineAskedFor() throws {
        var engine = engineSpec()
        engine.process?.capabilities = LinuxCapabilities(bounding: ["CAP_KILL"], effective: ["CAP_KILL"], permitted: ["CAP_KILL"])
        engine.linux?.resources = LinuxResources(memory: LinuxMemory(limit: 64 << 20), cpu: LinuxCPU(quota: 25_000, period: 100_000),
                                                 pids: LinuxPids(limit: 16))
        engine.root?.readonly = true
        engine.process?.cwd = "/work"
        let (spec, _) = try PolicyOverlay.apply(policy(), to: engine, hostID: 1_000_000_000)
        // The policy allows CAP_CHOWN, but the engine did not grant it: not added.
        XCTAssertEqual(spec.process?.capabilities?.bounding, ["CAP_KILL"])
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, 64 << 20)
        XCTAssertEqual(spec.linux?.resources?.cpu?.quota, 25_000)
        XCTAssertEqual(spec.linux?.resources?.pids?.limit, 16)
        XCTAssertEqual(spec.root?.readonly, true)
        XCTAssertEqual(spec.process?.cwd, "/work")
    }

    func testUnlimitedOnOneSideTakesTheOther() throws {
        var engine = engineSpec()
        engine.linux?.resources = LinuxResources(memory: LinuxMemory(limit: 512 << 20))
        let (spec, _) = try PolicyOverlay.apply(policy { $0.limits.memory = nil; $0.limits.pids = nil }, to: engine, hostID: 1_000_000_000)
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, 512 << 20)
        XCTAssertNil(spec.linux?.resources?.pids)
    }

    func testAppliedTwiceChangesNothing() throws {
        let once = try PolicyOverlay.apply(policy(), to: engineSpec(), hostID: 1_000_000_000).spec
        let twice = try PolicyOverlay.apply(policy(), to: once, hostID: 1_000_000_000)
        XCTAssertEqual(twice.spec, once)
        XCTAssertEqual(twice.changes, [])
    }

    func testEngineMappingsOfHostRootAreRefused() throws {
        var engine = engineSpec()
        engine.linux?.namespaces?.append(LinuxNamespace(type: .user))
        engine.linux?.uidMappings = [LinuxIDMapping(containerID: 0, hostID: 0, size: 4_294_967_295)]
        engine.linux?.gidMappings = [LinuxIDMapping(containerID: 0, hostID: 0, size: 4_294_967_295)]
        XCTAssertThrowsError(try PolicyOverlay.apply(policy(), to: engine, hostID: 1_000_000_000)) { error in
            XCTAssertEqual("\(error)", "linux.uidMappings: container uid 0 is host root; the policy runs root only as an unprivileged host user (io.safehouse.policy)")
        }
        // An unprivileged mapping the engine made is kept as it is.
        engine.linux?.uidMappings = [LinuxIDMapping(containerID: 0, hostID: 200_000, size: 65_536)]
        engine.linux?.gidMappings = [LinuxIDMapping(containerID: 0, hostID: 200_000, size: 65_536)]
        let (spec, _) = try PolicyOverlay.apply(policy(), to: engine, hostID: 1_000_000_000)
        XCTAssertEqual(spec.linux?.uidMappings, engine.linux?.uidMappings)
        XCTAssertEqual(spec.linux?.namespaces?.filter { $0.type == .user }.count, 1)
    }

    func testAPolicyWithoutAUserNamespaceAddsNone() throws {
        let (spec, _) = try PolicyOverlay.apply(policy { $0.user.userNamespace = false }, to: engineSpec(), hostID: nil)
        XCTAssertFalse(spec.linux?.namespaces?.contains { $0.type == .user } ?? true)
    }

    func testReadonlyRootFromThePolicy() throws {
        var engine = engineSpec()
        engine.root?.readonly = false
        let (spec, changes) = try PolicyOverlay.apply(policy { $0.filesystem.readonlyRoot = true }, to: engine, hostID: 1_000_000_000)
        XCTAssertEqual(spec.root?.readonly, true)
        XCTAssertTrue(changes.contains { $0.description == "root.readonly: false -> true" })
    }

    /// An allowlist served through the proxies gives the engine's process the proxy
    /// variables `agent spec` writes, where the engine set none; transparent egress
    /// alone and no allowlist give none.
    func testAllowlistAddsTheProxyVariablesTheEngineLeftUnset() throws {
        var engine = engineSpec()
        engine.process?.env?.append("NO_PROXY=corp.example")
        let (spec, changes) = try PolicyOverlay.apply(policy { $0.network.allow = ["www.test"] }, to: engine, hostID: 1_000_000_000)
        let env = try XCTUnwrap(spec.process?.env)
        XCTAssertTrue(env.contains("HTTP_PROXY=http://127.0.0.1:3128"))
        XCTAssertTrue(env.contains("https_proxy=http://127.0.0.1:3128"))
        XCTAssertTrue(env.contains("ALL_PROXY=socks5h://127.0.0.1:1080"))
        XCTAssertTrue(env.contains("NO_PROXY=corp.example"))
        XCTAssertFalse(env.contains("NO_PROXY=localhost,127.0.0.1,::1"))
        XCTAssertTrue(changes.contains { $0.description == "process.env: no HTTP_PROXY -> HTTP_PROXY=http://127.0.0.1:3128" })
        let transparent = try PolicyOverlay.apply(policy { $0.network.allow = ["www.test"]; $0.network.mode = .transparent }, to: engineSpec(), hostID: 1)
        XCTAssertFalse(transparent.spec.process?.env?.contains { $0.hasPrefix("HTTP_PROXY=") } ?? true)
        let none = try PolicyOverlay.apply(policy(), to: engineSpec(), hostID: 1)
        XCTAssertFalse(none.spec.process?.env?.contains { $0.hasPrefix("HTTP_PROXY=") } ?? true)
    }
}
