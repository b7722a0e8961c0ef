import XCTest
@testable import Linux
@testable import Runtime
import OCI
import Cgroups

/// The gvisor backend's pure parts: how safehouse's flags become runsc's, and how
/// runsc's state and errors come back in runc's words.
final class RunscFlagsTests: XCTestCase {
    private func spec(_ namespaces: [LinuxNamespace]?) -> Spec {
        Spec(linux: LinuxConfig(namespaces: namespaces))
    }

    func testNetworkModeFollowsTheSpecsNetworkNamespace() {
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .pid)]), egress: false), .host)
        XCTAssertEqual(RunscFlags.network(for: spec(nil), egress: false), .host)
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network)]), egress: false), .none)
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network, path: "/run/netns/pod")]), egress: false), .sandbox)
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network, path: "")]), egress: false), .none)
        // An agent sandbox without an allowlist in an engine's namespace: loopback only,
        // as agent run; in the host's it stays the engine's choice.
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network, path: "/run/netns/pod")]), egress: false, policyWithoutNetwork: true), .none)
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network)]), egress: false, policyWithoutNetwork: true), .none)
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .pid)]), egress: false, policyWithoutNetwork: true), .host)
        // An egress sandbox: gVisor's netstack over the link to the warden's namespace
        // (GvisorEgressLink), user namespace or not.
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network)]), egress: true), .sandbox)
        XCTAssertEqual(RunscFlags.network(for: spec([.init(type: .network), .init(type: .user)]), egress: true), .sandbox)
    }

    func testTheProxyVariablesNameTheWardensLinkAddress() {
        XCTAssertEqual(GvisorEgressLink.proxyURL(replacing: "http://127.0.0.1:3128"), "http://169.254.77.1:3128")
        XCTAssertEqual(GvisorEgressLink.proxyURL(replacing: "socks5h://127.0.0.1:1080"), "socks5h://169.254.77.1:1080")
        // Anything else is not a proxy safehouse set: left alone.
        XCTAssertNil(GvisorEgressLink.proxyURL(replacing: "localhost,127.0.0.1,::1"))
        XCTAssertNil(GvisorEgressLink.proxyURL(replacing: "http://127.0.0.1:8080"))
    }

    func testARestoredSandboxJoinsTheNamespaceItsLinkWasMadeIn() {
        // The veth's sandbox end goes into the namespace by its path (a restore's,
        // made before runsc runs) as by a pid's (a create's).
        XCTAssertTrue(GvisorEgressLink.wardenSide(sandboxNamespace: "/proc/7/fd/9")
            .contains("link add warden0 type veth peer name eth0 netns /proc/7/fd/9\n"))
        // The spec's network namespace is replaced by one with the path; the others stay.
        let joined = GvisorSandboxBundle.joiningNetwork(
            spec([LinuxNamespace(type: .pid), LinuxNamespace(type: .network), LinuxNamespace(type: .mount)]), at: "/proc/7/fd/9")
        XCTAssertEqual(joined.linux?.namespaces?.filter { $0.type == .network }.map(\.path), ["/proc/7/fd/9"])
        XCTAssertEqual(joined.linux?.namespaces?.filter { $0.type != .network }.map(\.type), [.pid, .mount])
        // A spec without one gets one: runsc would otherwise make a new, empty namespace.
        XCTAssertEqual(GvisorSandboxBundle.joiningNetwork(spec(nil), at: "/x").linux?.namespaces?.map(\.path), ["/x"])
    }

    func testTheLinkGivesADefaultRouteOnlyForCapture() {
        XCTAssertFalse(GvisorEgressLink.sandboxSide(capture: false).contains("default"))
        XCTAssertTrue(GvisorEgressLink.sandboxSide(capture: true).contains("route add default via 169.254.77.1 dev eth0"))
        XCTAssertTrue(GvisorEgressLink.sandboxSide(capture: true).contains("route add default via fd5a:fe00::1 dev eth0"))
        // The capture acts where the sandbox's packets arrive, and nothing is forwarded.
        XCTAssertTrue(GvisorEgressLink.ruleset.contains("type nat hook prerouting"))
        XCTAssertTrue(GvisorEgressLink.ruleset.contains("type filter hook forward priority 0; policy drop;"))
    }

    func testSandboxFlags() {
        XCTAssertEqual(RunscFlags.sandboxFlags(runscRoot: "/r/@runsc", network: .none, seccomp: false, overlay: nil, debugLog: nil),
                       ["--root", "/r/@runsc", "--network=none"])
        XCTAssertEqual(RunscFlags.sandboxFlags(runscRoot: "/r/@runsc", network: .host, seccomp: true, overlay: "root:memory", debugLog: "/l/"),
                       ["--root", "/r/@runsc", "--network=host", "--oci-seccomp", "--overlay2=root:memory", "--debug-log", "/l/"])
        // Never a platform: ptrace (the default) is the one that works here.
        XCTAssertFalse(RunscFlags.sandboxFlags(runscRoot: "/r", network: .sandbox, seccomp: true, overlay: "none", debugLog: "x")
            .contains { $0.contains("platform") })
    }

    func testInvocationFlags() {
        XCTAssertEqual(RunscFlags.invocationFlags(log: nil, logFormat: "text", debug: false), ["--log", "/dev/null"])
        XCTAssertEqual(RunscFlags.invocationFlags(log: "/x/log.json", logFormat: "json", debug: true),
                       ["--log", "/x/log.json", "--log-format=json", "--debug"])
    }

    func testOverlayAndInterval() {
        for good in ["none", "root:memory", "all:memory", "root:/var/tmp"] { XCTAssertTrue(RunscFlags.isOverlaySetting(good), good) }
        for bad in ["", "root", "root:disk", "some:memory", "memory"] { XCTAssertFalse(RunscFlags.isOverlaySetting(bad), bad) }
        XCTAssertEqual(RunscFlags.intervalSeconds("5s"), 5)
        XCTAssertEqual(RunscFlags.intervalSeconds("2"), 2)
        XCTAssertEqual(RunscFlags.intervalSeconds("0.2s"), 1)
        XCTAssertEqual(RunscFlags.intervalSeconds("1.5"), 2)
        XCTAssertNil(RunscFlags.intervalSeconds("0"))
        XCTAssertNil(RunscFlags.intervalSeconds("soon"))
    }
}

final class RunscMappingTests: XCTestCase {
    func testErrorsInRuncsWords() {
        XCTAssertEqual(RunscError.message(verb: "state", id: "c1", runscText: "loading container: file does not exist\n").message,
                       "container \"c1\" does not exist")
        XCTAssertEqual(RunscError.message(verb: "kill", id: "c1", runscText: "x\nsignaling container: container is not running\n").message,
                       "container \"c1\" is stopped: container not running")
        XCTAssertEqual(RunscError.message(verb: "start", id: "c1", runscText: "\nstarting container: boom\n\n").message,
                       "gvisor: runsc start c1: starting container: boom")
        XCTAssertEqual(RunscError.message(verb: "pause", id: "c1", runscText: "").message, "gvisor: runsc pause c1 failed")
    }

    func testLastErrorOfAJSONLog() {
        let log = """
        {"msg":"starting","level":"info","time":"t"}
        {"msg":"creating container: cannot read spec","level":"error","time":"t"}
        {"msg":"later warning","level":"warning","time":"t"}
        not json
        """
        XCTAssertEqual(RunscLog.lastError(text: log), "creating container: cannot read spec")
        XCTAssertNil(RunscLog.lastError(text: "{\"msg\":\"ok\",\"level\":\"info\"}\n"))
    }

    func testRunscStateBecomesOurs() {
        let running = GvisorBackend.parseRunscState("{\n \"ociVersion\": \"1.0.2-dev\",\n \"id\": \"c\",\n \"status\": \"running\",\n \"pid\": 4242,\n \"bundle\": \"/b\"\n}")
        XCTAssertEqual(running.status, .running)
        XCTAssertEqual(running.pid, 4242)
        let stopped = GvisorBackend.parseRunscState("{\"status\":\"stopped\",\"pid\":-1}")
        XCTAssertEqual(stopped.status, .stopped)
        XCTAssertEqual(stopped.pid, 0)
        XCTAssertEqual(GvisorBackend.parseRunscState("").status, .stopped)
        XCTAssertEqual(GvisorBackend.parseRunscState("{\"status\":\"paused\",\"pid\":7}").status, .paused)
    }

    func testSandboxCgroupsFromProcCgroup() {
        let mounts = ["cpu": "/sys/fs/cgroup/cpu", "memory": "/sys/fs/cgroup/memory", "": "/sys/fs/cgroup/unified",
                      "name=systemd": "/sys/fs/cgroup/systemd"]
        let text = "9:name=systemd:/c1\n4:memory:/c1\n1:cpu:/c1\n3:cpuset:/c1\n0::/\n"
        XCTAssertEqual(GvisorCgroups.paths(procCgroup: text, mounts: mounts),
                       ["/sys/fs/cgroup/systemd/c1", "/sys/fs/cgroup/memory/c1", "/sys/fs/cgroup/cpu/c1"])
    }
}

final class GvisorPreflightTests: XCTestCase {
    /// A tiny image: /bin/tool (executable), /etc/data (not executable).
    private func image() throws -> String {
        var template = Array("/tmp/safehouse-preflight-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw RuntimeError("mkdtemp") }
        let root = String(cString: p)
        try Files.makeDirectories(root + "/bin")
        try Files.makeDirectories(root + "/etc")
        try Files.write(root + "/bin/tool", "#!/bin/sh\n", flags: O_WRONLY | O_CREAT | O_TRUNC)
        chmod(root + "/bin/tool", 0o755)
        try Files.write(root + "/etc/data", "x\n", flags: O_WRONLY | O_CREAT | O_TRUNC)
        return root
    }

    private func process(_ args: [String]) -> OCI.Process {
        OCI.Process(args: args, env: ["PATH=/bin"], cwd: "/")
    }

    func testFindsTheProgramInTheImageAsRuncWouldAtCreate() throws {
        let root = try image()
        defer { try? Files.removeTree(root) }
        XCTAssertNoThrow(try GvisorPreflight.checkExecutable(process(["tool"]), rootfs: root, mounts: []))
        XCTAssertNoThrow(try GvisorPreflight.checkExecutable(process(["/bin/tool"]), rootfs: root, mounts: []))
        XCTAssertThrowsError(try GvisorPreflight.checkExecutable(process(["/no/such"]), rootfs: root, mounts: [])) {
            XCTAssertEqual("\($0)", "exec: \"/no/such\": stat /no/such: no such file or directory")
        }
        XCTAssertThrowsError(try GvisorPreflight.checkExecutable(process(["/etc/data"]), rootfs: root, mounts: [])) {
            XCTAssertEqual("\($0)", "exec: \"/etc/data\": permission denied")
        }
        XCTAssertThrowsError(try GvisorPreflight.checkExecutable(process(["nosuch"]), rootfs: root, mounts: [])) {
            XCTAssertEqual("\($0)", "exec: \"nosuch\": executable file not found in $PATH")
        }
        XCTAssertThrowsError(try GvisorPreflight.checkExecutable(process([]), rootfs: root, mounts: []))
    }

    func testLeavesToRunscWhatAMountMayProvide() throws {
        let root = try image()
        defer { try? Files.removeTree(root) }
        let tools = [Mount(destination: "/opt/tools", type: "bind", source: "/host/tools")]
        XCTAssertNoThrow(try GvisorPreflight.checkExecutable(process(["/opt/tools/run"]), rootfs: root, mounts: tools))
        var p = process(["run"])
        p.env = ["PATH=/opt/tools:/bin"]
        XCTAssertNoThrow(try GvisorPreflight.checkExecutable(p, rootfs: root, mounts: tools))
    }
}

final class GvisorCgroupManagerTests: XCTestCase {
    func testPairsTheSandboxsPathsWithTheirHierarchiesInTheHostsOrder() {
        let host = CgroupLayout(hierarchies: [
            CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/cpu", controllers: ["cpu"]),
            CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/memory", controllers: ["memory"]),
            CgroupHierarchy(version: .v1, mountPoint: "/sys/fs/cgroup/pids", controllers: ["pids"]),
            CgroupHierarchy(version: .v2, mountPoint: "/sys/fs/cgroup/unified", controllers: []),
        ])
        // /proc/PID/cgroup's order, and no unified path (runsc used v1 only).
        let m = GvisorCgroups.manager(for: ["/sys/fs/cgroup/pids/c", "/sys/fs/cgroup/memory/c", "/sys/fs/cgroup/cpu/c"], host: host)
        XCTAssertEqual(m.paths, ["/sys/fs/cgroup/cpu/c", "/sys/fs/cgroup/memory/c", "/sys/fs/cgroup/pids/c"])
        XCTAssertEqual(m.layout.hierarchies.map(\.mountPoint),
                       ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids"])
    }
}

