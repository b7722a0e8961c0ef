import XCTest
@testable import Agent
import Runtime
import OCI

final class QuantityTests: XCTestCase {
    func testSizes() {
        XCTAssertEqual(Quantity.bytes("512Mi"), 512 << 20)
        XCTAssertEqual(Quantity.bytes("1.5Gi"), 3 << 29)
        XCTAssertEqual(Quantity.bytes("100M"), 100_000_000)
        XCTAssertEqual(Quantity.bytes("64k"), 64_000)
        XCTAssertEqual(Quantity.bytes("2GiB"), 2 << 30)
        XCTAssertEqual(Quantity.bytes("65536"), 65536)
        for bad in ["", "Mi", "12Q", "1.5", "-1Mi", "1 Mi x", "Infinity", "1e3"] {
            XCTAssertNil(Quantity.bytes(bad), bad)
        }
    }

    func testCPUsAndDurations() {
        XCTAssertEqual(Quantity.cpus("1.5"), 1.5)
        XCTAssertNil(Quantity.cpus("0"))
        XCTAssertNil(Quantity.cpus("two"))
        XCTAssertEqual(Quantity.seconds("30s"), 30)
        XCTAssertEqual(Quantity.seconds("5m"), 300)
        XCTAssertEqual(Quantity.seconds("1h30m"), 5400)
        XCTAssertEqual(Quantity.seconds("250ms"), 0.25)
        XCTAssertEqual(Quantity.seconds("1m30.5s"), 90.5)
        XCTAssertEqual(Quantity.seconds("90"), 90)
        for bad in ["", "s", "5x", "5m3", "0s", "-5s", "1d"] { XCTAssertNil(Quantity.seconds(bad), bad) }
        XCTAssertEqual(Quantity.describe(bytes: 512 << 20), "512Mi")
        XCTAssertEqual(Quantity.describe(seconds: 600), "10m")
    }
}

final class PolicyTests: XCTestCase {
    func testShippedProfilesAreTheFilesAndParse() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../bundles/policies").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }.sorted()
        XCTAssertEqual(files.map { String($0.dropLast(5)) }, Profiles.names, "run hack/gen-profiles")
        for name in Profiles.names {
            let text = try String(contentsOf: dir.appendingPathComponent(name + ".yaml"), encoding: .utf8)
            XCTAssertEqual(Profiles.text(of: name), text, "\(name): run hack/gen-profiles")
            XCTAssertNoThrow(try Profiles.resolve(name))
        }
        let d = try Profiles.resolve("default")
        XCTAssertEqual(d.limits.memory, 1 << 30)
        XCTAssertEqual(d.limits.timeout, 600)
        XCTAssertTrue(d.network.allow.isEmpty)
        XCTAssertTrue(d.user.userNamespace)
        let strict = try Profiles.resolve("offline-strict")
        XCTAssertTrue(strict.filesystem.readonlyRoot)
        XCTAssertEqual(strict.syscalls, .minimal)
        XCTAssertEqual(strict.capabilities, [])
        XCTAssertTrue(try Profiles.resolve("web").network.allow.contains("pypi.org"))
    }

    func testStrictErrorsNameTheField() {
        let cases: [(String, String)] = [
            ("limits:\n  memroy: 1Gi\n", "policy p.yaml: limits.memroy: unknown key (known: cpus, disk, memory, pids, timeout)"),
            ("limits:\n  memory: 512MB!\n", "policy p.yaml: limits.memory: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)"),
            ("limits:\n  timeout: soon\n", "policy p.yaml: limits.timeout: not a duration (use 30s, 5m, 1h30m, 250ms)"),
            ("limits:\n  timeout: 597h\n", "policy p.yaml: limits.timeout: longer than the maximum of 576h (24 days)"),
            ("limits:\n  timeout: 1e300\n", "policy p.yaml: limits.timeout: longer than the maximum of 576h (24 days)"),
            ("limits:\n  disk: unlimited\n", "policy p.yaml: limits.disk: not a size (use 512Mi, 1.5Gi, 100M or a number of bytes)"),
            ("limits:\n  cpus: -1\n", "policy p.yaml: limits.cpus: not a positive number of CPUs (use 1, 0.5, 1.5)"),
            ("limits:\n  pids: 0\n", "policy p.yaml: limits.pids: out of range 1...4194304"),
            ("limits:\n  memory: 1Mi\n", "policy p.yaml: limits.memory: below the minimum of 4Mi"),
            ("colour: red\n", "policy p.yaml: document: an unknown key (known: audit, auditKey, auditMode, backend, capabilities, description, env, extends, filesystem, limits, network, secrets, syscalls, user, workdir)"),
            ("udit: /x\n", "policy p.yaml: udit: unknown key (known: audit, auditKey, auditMode, backend, capabilities, description, env, extends, filesystem, limits, network, secrets, syscalls, user, workdir)"),
            ("backend: docker\n", "policy p.yaml: backend: not one of native, gvisor"),
            ("filesystem:\n  input: relative/dir\n", "policy p.yaml: filesystem.input: must be an absolute path without \"..\""),
            ("network:\n  allow: [\"exa mple.com\"]\n", "policy p.yaml: network.allow[0]: not a host, *.domain, host:port, address or CIDR"),
            ("capabilities: [CAP_FLY]\n", "policy p.yaml: capabilities[0]: not a capability (CAP_CHOWN, CAP_NET_BIND_SERVICE, ...)"),
            ("env:\n  \"a=b\": x\n", "policy p.yaml: env: a key is not a variable name"),
            ("extends: ../etc/shadow\n", "policy p.yaml: extends: must name a profile (default, offline-strict, web) or a policy in no policy directory"),
            ("extends: nosuch\n", "policy p.yaml: extends: no such profile (profiles: default, offline-strict, web; or a policy in no policy directory)"),
            ("limits: 5\n", "policy p.yaml: limits: must be a mapping of keys to values"),
            ("user:\n  userNamespace: maybe\n", "policy p.yaml: user.userNamespace: must be true or false"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try PolicyReader.parse(text, source: "p.yaml"), text) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertThrowsError(try PolicyReader.parse("limits: [", source: "p.yaml")) {
            XCTAssertTrue("\($0)".hasPrefix("policy p.yaml: not valid YAML or JSON"), "\($0)")
        }
        XCTAssertThrowsError(try Profiles.resolve("nosuch")) {
            XCTAssertEqual("\($0)", "policy \"nosuch\": no such profile (profiles: default, offline-strict, web; or a policy in /etc/safehouse/policies (the policy directory); or give a file path)")
        }
    }

    func testJSONAndUnits() throws {
        let p = try PolicyReader.parse(#"{"limits": {"memory": "256Mi", "cpus": 1.5, "timeout": "90s", "disk": 1048576}, "env": {"A": 1}, "network": {"allow": ["*.github.com", "pypi.org:443", "10.0.0.0/8"]}, "capabilities": ["chown"]}"#, source: "j.json")
        XCTAssertEqual(p.limits.memory, 256 << 20)
        XCTAssertEqual(p.limits.cpus, 1.5)
        XCTAssertEqual(p.limits.timeout, 90)
        XCTAssertEqual(p.limits.disk, 1 << 20)
        XCTAssertEqual(p.env, ["A": "1"])
        XCTAssertEqual(p.capabilities, ["CAP_CHOWN"])
        XCTAssertEqual(p.network.allow.count, 3)
    }
}

final class SandboxSpecTests: XCTestCase {
    func testDefaultProfileSpec() throws {
        var policy = try Profiles.resolve("default")
        policy.filesystem.input = "/data/in"
        policy.filesystem.output = "/data/out"
        let spec = try SandboxSpec.generate(policy, SandboxRequest(rootfs: "/img", args: ["python3", "x.py"], policyName: "default"))
        XCTAssertNoThrow(try spec.validate())
        XCTAssertEqual(spec.process?.args, ["python3", "x.py"])
        XCTAssertEqual(spec.process?.noNewPrivileges, true)
        XCTAssertEqual(spec.process?.capabilities?.bounding, policy.capabilities)
        XCTAssertEqual(spec.process?.capabilities?.ambient, nil)
        XCTAssertEqual(spec.process?.cwd, "/scratch")
        let ns = Set((spec.linux?.namespaces ?? []).map(\.type))
        XCTAssertEqual(ns, [.pid, .network, .ipc, .uts, .mount, .cgroup, .user])
        let hostID = try HostIDRange.resolve(policy.user, entries: HostIDRange.hostEntries())
        XCTAssertGreaterThanOrEqual(hostID, HostIDRange.poolStart)
        XCTAssertEqual(spec.linux?.uidMappings, [LinuxIDMapping(containerID: 0, hostID: hostID, size: 65_536)])
        XCTAssertEqual(spec.linux?.resources?.memory?.limit, 1 << 30)
        XCTAssertEqual(spec.linux?.resources?.cpu?.quota, 100_000)
        XCTAssertEqual(spec.linux?.resources?.pids?.limit, 256)
        let mounts = Dictionary(uniqueKeysWithValues: (spec.mounts ?? []).map { ($0.destination, $0) })
        XCTAssertEqual(mounts["/input"]?.options?.contains("ro"), true)
        XCTAssertEqual(mounts["/output"]?.options?.contains("rw"), true)
        XCTAssertEqual(mounts["/scratch"]?.options?.contains("size=\(256 << 20)"), true)
        XCTAssertEqual(mounts["/tmp"]?.type, "tmpfs")
        XCTAssertEqual(spec.annotations?[SandboxAnnotation.policy], "default")
        XCTAssertEqual(spec.annotations?[SandboxAnnotation.disk], String(1 << 30))
        XCTAssertFalse(spec.linux?.maskedPaths?.isEmpty ?? true)
        let seccomp = try XCTUnwrap(spec.linux?.seccomp)
        XCTAssertEqual(seccomp.defaultAction, .allow)
        let denied = Set((seccomp.syscalls ?? []).filter { $0.action == .errno }.flatMap(\.names))
        for family in ["init_module", "mount", "bpf", "ptrace", "keyctl", "perf_event_open", "unshare", "clone3", "setns"] {
            XCTAssertTrue(denied.contains(family), family)
        }
    }

    func testStrictProfileAndErrors() throws {
        let strict = try SandboxSpec.generate(try Profiles.resolve("offline-strict"), SandboxRequest(rootfs: "/img", args: ["true"], policyName: "offline-strict"))
        XCTAssertEqual(strict.root?.readonly, true)
        XCTAssertEqual(strict.linux?.seccomp?.defaultAction, .errno)
        XCTAssertEqual(strict.process?.capabilities?.bounding, [])
        XCTAssertThrowsError(try SandboxSpec.generate(Policy(source: "x"), SandboxRequest(rootfs: "/img", args: [], policyName: "x")))
        XCTAssertThrowsError(try SandboxSpec.generate(Policy(source: "x"), SandboxRequest(rootfs: "img", args: ["true"], policyName: "x")))
    }

    func testTreatmentFromAnnotations() throws {
        XCTAssertNil(try SandboxConfig(annotations: nil))
        XCTAssertNil(try SandboxConfig(annotations: ["other": "x"]))
        let engine = try XCTUnwrap(try SandboxConfig(annotations: [SandboxAnnotation.policy: "offline-strict"]))
        XCTAssertEqual(engine.diskBytes, 16 << 20)
        XCTAssertEqual(engine.timeoutSeconds, 120)
        let generated = try XCTUnwrap(try SandboxConfig(annotations: [SandboxAnnotation.policy: "/gone.yaml", SandboxAnnotation.disk: "2097152", SandboxAnnotation.timeout: "1.5"]))
        XCTAssertEqual(generated.diskBytes, 2 << 20)
        XCTAssertEqual(generated.timeoutSeconds, 1.5)
        XCTAssertThrowsError(try SandboxConfig(annotations: [SandboxAnnotation.policy: "nosuch"])) {
            XCTAssertTrue("\($0)".hasPrefix("annotations.io.safehouse.policy: policy \"nosuch\""), "\($0)")
        }
        XCTAssertThrowsError(try SandboxConfig(annotations: [SandboxAnnotation.policy: "default", SandboxAnnotation.disk: "lots"]))
    }

    func testNetworkPolicyReachesTheSpecAndTheTreatment() throws {
        let p = try PolicyReader.parse("network:\n  allow: [\"*.pypi.org\", \"api.test:8000-8010\", \"[2001:db8::1]:443\"]\n  maxBytes: 1Mi\n  maxConnections: 8\n  idleTimeout: 30s\n", source: "n.yaml")
        XCTAssertEqual(p.network.maxBytes, 1 << 20)
        XCTAssertEqual(p.network.maxConnections, 8)
        XCTAssertEqual(p.network.idleTimeout, 30)
        let spec = try SandboxSpec.generate(p, SandboxRequest(rootfs: "/img", args: ["true"], policyName: "/n.yaml"))
        let env = spec.process?.env ?? []
        for key in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
            XCTAssertTrue(env.contains("\(key)=http://127.0.0.1:3128"), key)
        }
        XCTAssertTrue(env.contains("NO_PROXY=localhost,127.0.0.1,::1"))
        let t = try XCTUnwrap(try SandboxConfig(annotations: spec.annotations))
        XCTAssertEqual(t.networkAllow, ["*.pypi.org", "api.test:8000-8010", "[2001:db8::1]:443"])
        XCTAssertEqual(t.egressMaxBytes, 1 << 20)
        XCTAssertEqual(t.egressMaxConnections, 8)
        XCTAssertEqual(t.egressIdleTimeout, 30)
        // Without an allowlist: no proxy variables.
        let none = try SandboxSpec.generate(Policy(source: "x"), SandboxRequest(rootfs: "/img", args: ["true"], policyName: "x"))
        XCTAssertFalse((none.process?.env ?? []).contains { $0.hasPrefix("HTTP_PROXY=") })
        XCTAssertThrowsError(try PolicyReader.parse("network:\n  allow: [\"a.test:0\"]\n", source: "n.yaml"))
    }

    func testNetworkModeParsesAndReachesTheSpecAndTheTreatment() throws {
        let base = "network:\n  allow: [www.test]\n"
        XCTAssertEqual(try PolicyReader.parse(base, source: "m.yaml").network.mode, .both)
        for mode in EgressMode.allCases {
            let p = try PolicyReader.parse(base + "  mode: \(mode.rawValue)\n", source: "m.yaml")
            XCTAssertEqual(p.network.mode, mode)
            let spec = try SandboxSpec.generate(p, SandboxRequest(rootfs: "/img", args: ["true"], policyName: "/m.yaml"))
            XCTAssertEqual(spec.annotations?[SandboxAnnotation.networkMode], mode.rawValue)
            let env = spec.process?.env ?? []
            // The proxies are named only where they are served.
            XCTAssertEqual(env.contains("HTTP_PROXY=http://127.0.0.1:3128"), mode != .transparent, mode.rawValue)
            XCTAssertEqual(env.contains("ALL_PROXY=socks5h://127.0.0.1:1080"), mode != .transparent, mode.rawValue)
            XCTAssertEqual(env.contains("all_proxy=socks5h://127.0.0.1:1080"), mode != .transparent, mode.rawValue)
            XCTAssertEqual(try XCTUnwrap(try SandboxConfig(annotations: spec.annotations)).egressMode, mode)
        }
        // Without an allowlist the mode is moot: no annotation, no proxy.
        let none = try SandboxSpec.generate(try PolicyReader.parse("network:\n  mode: transparent\n", source: "m.yaml"),
                                            SandboxRequest(rootfs: "/img", args: ["true"], policyName: "m"))
        XCTAssertNil(none.annotations?[SandboxAnnotation.networkMode])
        // An engine's annotation without the generator's: the policy's default.
        XCTAssertEqual(try XCTUnwrap(try SandboxConfig(annotations: [SandboxAnnotation.policy: "web"])).egressMode, .both)
    }

    func testNetworkModeErrorsNameTheField() {
        for (text, message) in [
            ("network:\n  mode: sideways\n", "policy p.yaml: network.mode: not one of explicit, transparent, both"),
            ("network:\n  mode: [explicit]\n", "policy p.yaml: network.mode: must be text"),
            ("network:\n  mdoe: explicit\n", "policy p.yaml: network.mdoe: unknown key (known: allow, decider, deciderTimeout, idleTimeout, maxBytes, maxConnections, mode, upstreamCA)"),
        ] {
            XCTAssertThrowsError(try PolicyReader.parse(text, source: "p.yaml"), text) { XCTAssertEqual("\($0)", message) }
        }
        let generated = [SandboxAnnotation.policy: "/p.yaml", SandboxAnnotation.disk: "2097152"]
        for (key, value, message) in [
            (SandboxAnnotation.networkMode, "Both", "annotations.io.safehouse.network.mode: \"Both\" is not one of explicit, transparent, both"),
            (SandboxAnnotation.networkAllow, "www.test,exa mple.test", "annotations.io.safehouse.network.allow: \"exa mple.test\": not a host name (letters, digits, '-', '.'; a wildcard only as a leading \"*.\")"),
            (SandboxAnnotation.networkAllow, "www.test:0", "annotations.io.safehouse.network.allow: \"www.test:0\": bad port \"0\" (a number 1-65535 or a range LOW-HIGH)"),
        ] {
            XCTAssertThrowsError(try SandboxConfig(annotations: generated.merging([key: value]) { $1 }), value) {
                XCTAssertEqual("\($0)", message)
            }
        }
    }
}
