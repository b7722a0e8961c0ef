import XCTest
@testable import Linux
@testable import Runtime
import OCI

/// The init's steps, in order, for the kinds of container that change them.
final class InitPlanTests: XCTestCase {
    func spec(_ json: String) throws -> Spec {
        try Spec.decode(from: Array(("{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, " + json + "}").utf8))
    }

    func plan(_ spec: Spec, entersNamespaces: Bool = true, mountNamespace: Bool = true, cgroupNamespace: Bool = false,
              noPivot: Bool = false, seccomp: Bool = false) -> [InitStep] {
        ContainerInitPlan(spec: spec, process: spec.process ?? OCI.Process(), entersNamespaces: entersNamespaces,
                          mountNamespace: mountNamespace, cgroupNamespace: cgroupNamespace, noPivot: noPivot,
                          noNewKeyring: false, seccomp: seccomp).steps
    }

    let plainProcess = "\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}"

    /// The steps every container takes, in their order.
    let plain: [InitStep] = [
        .enterNamespaces, .newSession, .newSessionKeyring, .mountRootfs, .joinNetworkNamespace, .mountsDone, .hooksDone,
        .pivotRoot, .finishRootfs, .rootFinished, .joinOwnCgroups, .limits, .resolveExecutable,
        .closeInheritedDescriptors, .notDumpable, .switchUser, .terminateOnCommonSignals, .ready, .waitForStart,
    ]

    func testPlainContainer() throws {
        XCTAssertEqual(plan(try spec(plainProcess)), plain)
    }

    /// The intermediate process entered the namespaces; the init still moves itself
    /// into its cgroups, at the same step.
    func testUserNamespace() throws {
        let steps = plan(try spec(plainProcess), entersNamespaces: false)
        XCTAssertEqual(steps, plain.filter { $0 != .enterNamespaces })
    }

    func testNoPivot() throws {
        let steps = plan(try spec(plainProcess), noPivot: true)
        XCTAssertEqual(steps, plain.map { $0 == .pivotRoot ? .moveRoot : $0 })
    }

    /// A read-only root, devices, and masked and read-only paths change what the rootfs
    /// steps do (RootfsOrderTests), not the init's steps.
    func testReadOnlyRootDevicesAndPathsKeepTheSteps() throws {
        let s = try spec(plainProcess + """
            , "linux": {"devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}],
                        "maskedPaths": ["/proc/kcore"], "readonlyPaths": ["/proc/sys"]}
            """)
        var readOnly = s
        readOnly.root?.readonly = true
        XCTAssertEqual(plan(s), plain)
        XCTAssertEqual(plan(readOnly), plain)
    }

    /// The console needs the container's devpts: after pivot_root, before the hostname.
    func testTerminal() throws {
        let s = try spec("""
            "hostname": "box", "process": {"terminal": true, "args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}}
            """)
        let steps = plan(s)
        var expected = plain
        expected.insert(contentsOf: [.console, .hostname], at: expected.firstIndex(of: .pivotRoot)! + 1)
        XCTAssertEqual(steps, expected)
    }

    /// sysctl after pivot_root (the container's /proc) and before the read-only paths
    /// (which cover /proc/sys); seccomp before the user switch without no_new_privs.
    func testSysctlHooksAndSeccomp() throws {
        let s = try spec(plainProcess + """
            , "domainname": "example", "linux": {"sysctl": {"net.ipv4.ip_forward": "1"}},
            "hooks": {"createContainer": [{"path": "/bin/true"}], "startContainer": [{"path": "/bin/true"}]}
            """)
        XCTAssertEqual(plan(s, seccomp: true), [
            .enterNamespaces, .newSession, .newSessionKeyring, .mountRootfs, .joinNetworkNamespace, .mountsDone,
            .runtimeHooks, .hooksDone, .pivotRoot, .domainname, .sysctl, .finishRootfs, .rootFinished, .joinOwnCgroups,
            .limits, .resolveExecutable, .closeInheritedDescriptors, .notDumpable, .seccompBeforeUserSwitch, .switchUser,
            .terminateOnCommonSignals, .ready, .waitForStart, .startContainerHooks,
        ])
    }

    /// With no_new_privs the filter is the last thing installed, after the user switch.
    func testSeccompWithNoNewPrivileges() throws {
        let s = try spec("""
            "process": {"args": ["sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "noNewPrivileges": true}
            """)
        let steps = plan(s, seccomp: true)
        XCTAssertFalse(steps.contains(.seccompBeforeUserSwitch))
        XCTAssertEqual(Array(steps.suffix(4)), [.terminateOnCommonSignals, .seccompLast, .ready, .waitForStart])
    }

    func testCgroupNamespaceAndOwnMountNamespaceMissing() throws {
        let steps = plan(try spec(plainProcess), mountNamespace: false, cgroupNamespace: true)
        XCTAssertEqual(Array(steps.prefix(8)), [
            .enterNamespaces, .newSession, .newSessionKeyring, .joinNetworkNamespace, .mountsDone,
            .unshareCgroupNamespace, .hooksDone, .changeRoot,
        ])
        XCTAssertFalse(steps.contains(.mountRootfs) || steps.contains(.finishRootfs))
    }
}

/// ContainerInit reads its plan from the runtime's InitConfig.
final class InitConfigPlanTests: XCTestCase {
    func testThePlanFollowsTheConfig() throws {
        let directory = try TemporaryRootfs()
        defer { directory.remove() }
        let process = OCI.Process(terminal: true, args: ["sh"], cwd: "/")
        let spec = Spec(process: process, root: Root(path: "rootfs", readonly: true), hostname: "box")
        // A lock of its own for each (a second flock of the same directory would wait).
        func config(_ namespaces: NamespaceKinds, noPivot: Bool, cgroupFilesFromRuntime: Bool) throws -> InitConfig {
            let lockDirectory = try TemporaryRootfs()
            defer { lockDirectory.remove() }
            return InitConfig(id: "c1", spec: spec, process: process, rootfs: directory.path, bundle: "/bundle",
                       channel: SyncChannel(socket: FileDescriptor(adopting: -1)), execFifo: FileDescriptor(adopting: -1),
                       consoleSocket: nil, namespaces: NamespacePlan(joins: [], new: namespaces), noPivot: noPivot,
                       noNewKeyring: true, preserveFds: 0, lock: try ContainerLock(directory: lockDirectory.path), seccomp: nil,
                       cgroupFilesFromRuntime: cgroupFilesFromRuntime)
        }
        let plain = ContainerInit(kernel: RecordingKernel(), config: try config([.mount, .pid, .cgroup], noPivot: true, cgroupFilesFromRuntime: false))
        XCTAssertEqual(plain.plan(enteringNamespaces: true).steps, [
            .enterNamespaces, .newSession, .mountRootfs, .joinNetworkNamespace, .mountsDone, .unshareCgroupNamespace,
            .hooksDone, .moveRoot, .console, .hostname, .finishRootfs, .rootFinished, .joinOwnCgroups, .limits,
            .resolveExecutable, .closeInheritedDescriptors, .notDumpable, .switchUser, .terminateOnCommonSignals,
            .ready, .waitForStart,
        ])
        let noMountNamespace = ContainerInit(kernel: RecordingKernel(), config: try config([.user], noPivot: false, cgroupFilesFromRuntime: true))
        let steps = noMountNamespace.plan(enteringNamespaces: false).steps
        XCTAssertTrue(steps.contains(.changeRoot))
        XCTAssertFalse(steps.contains(.mountRootfs) || steps.contains(.finishRootfs) || steps.contains(.enterNamespaces))
        XCTAssertTrue(steps.contains(.joinOwnCgroups))
    }
}
