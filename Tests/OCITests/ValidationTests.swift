import XCTest
@testable import OCI

final class ValidationTests: XCTestCase {
    func testDefaultSpecIsValid() {
        XCTAssertNoThrow(try validSpec().validate())
    }

    // MARK: root and process

    func testRootIsRequired() {
        var spec = validSpec()
        spec.root = nil
        assertInvalid(spec, field: "root")
        spec.root = Root(path: "")
        assertInvalid(spec, field: "root.path")
    }

    func testProcessIsRequiredWithArgs() {
        var spec = validSpec()
        spec.process = nil
        assertInvalid(spec, field: "process")
        spec = validSpec()
        spec.process?.args = []
        assertInvalid(spec, field: "process.args")
        spec.process?.args = nil
        assertInvalid(spec, field: "process.args")
        spec.process?.args = [""]
        assertInvalid(spec, field: "process.args[0]")
        spec.process?.args = ["sh", "a\u{0}b"]
        assertInvalid(spec, field: "process.args[1]")
    }

    func testCwdMustBeAbsolute() {
        var spec = validSpec()
        spec.process?.cwd = "work"
        let error = assertInvalid(spec, field: "process.cwd")
        XCTAssertEqual(error?.description, #"process.cwd: must be an absolute path, found "work""#)
        spec.process?.cwd = ""
        assertInvalid(spec, field: "process.cwd")
    }

    func testEnvEntriesNeedAnEqualsSign() {
        var spec = validSpec()
        spec.process?.env = ["PATH=/bin", "BROKEN"]
        assertInvalid(spec, field: "process.env[1]")
        spec.process?.env = ["=value"]
        assertInvalid(spec, field: "process.env[0]")
        spec.process?.env = ["EMPTY="]
        XCTAssertNoThrow(try spec.validate())
    }

    func testConsoleSizeNeedsATerminal() {
        var spec = validSpec()
        spec.process?.consoleSize = Box(height: 24, width: 80)
        XCTAssertNoThrow(try spec.validate())
        spec.process?.terminal = false
        assertInvalid(spec, field: "process.consoleSize")
        spec.process?.terminal = nil
        assertInvalid(spec, field: "process.consoleSize")
    }

    func testOOMScoreAdjRange() {
        var spec = validSpec()
        for good in [-1000, 0, 1000] {
            spec.process?.oomScoreAdj = good
            XCTAssertNoThrow(try spec.validate())
        }
        spec.process?.oomScoreAdj = 1001
        assertInvalid(spec, field: "process.oomScoreAdj")
        spec.process?.oomScoreAdj = -1001
        assertInvalid(spec, field: "process.oomScoreAdj")
    }

    func testIOPriorityRange() {
        var spec = validSpec()
        spec.process?.ioPriority = LinuxIOPriority(class: .bestEffort, priority: 8)
        assertInvalid(spec, field: "process.ioPriority.priority")
    }

    func testCapabilitiesMustBeKnown() {
        var spec = validSpec()
        spec.process?.capabilities?.ambient = ["CAP_KILL", "cap fly"]
        let error = assertInvalid(spec, field: "process.capabilities.ambient[1]")
        XCTAssertEqual(error?.message, #"unknown capability "cap fly""#)
        // A well-formed name newer than this runtime is accepted (runc ignores it).
        spec.process?.capabilities?.ambient = ["CAP_KILL", "CAP_FLY"]
        XCTAssertNoThrow(try spec.validate())
        spec.process?.capabilities?.ambient = nil
        spec.process?.capabilities?.bounding = ["net_raw"]
        XCTAssertEqual(assertInvalid(spec, field: "process.capabilities.bounding[0]")?.message,
                       #"unknown capability "net_raw" (did you mean CAP_NET_RAW?)"#)
        spec.process?.capabilities = LinuxCapabilities(bounding: knownCapabilities, effective: knownCapabilities,
                                                       inheritable: knownCapabilities, permitted: knownCapabilities,
                                                       ambient: knownCapabilities)
        XCTAssertNoThrow(try spec.validate())
    }

    func testRlimitsMustBeKnownOrderedAndUnique() {
        var spec = validSpec()
        spec.process?.rlimits = [POSIXRlimit(type: "RLIMIT_BOGUS", hard: 1, soft: 1)]
        assertInvalid(spec, field: "process.rlimits[0].type")
        spec.process?.rlimits = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 1024, soft: 2048)]
        XCTAssertEqual(assertInvalid(spec, field: "process.rlimits[0].soft")?.message, "soft limit 2048 exceeds hard limit 1024")
        spec.process?.rlimits = [POSIXRlimit(type: "RLIMIT_CORE", hard: 0, soft: 0), POSIXRlimit(type: "RLIMIT_CORE", hard: 1, soft: 1)]
        assertInvalid(spec, field: "process.rlimits[1].type")
    }

    // MARK: names, mounts, hooks, annotations

    func testHostnameNeedsAUTSNamespace() {
        var spec = validSpec()
        spec.linux?.namespaces?.removeAll { $0.type == .uts }
        let error = assertInvalid(spec, field: "hostname")
        XCTAssertTrue(error?.message.hasPrefix("requires a private UTS namespace") ?? false)
        spec.hostname = ""
        XCTAssertNoThrow(try spec.validate())
        spec.domainname = "example.org"
        assertInvalid(spec, field: "domainname")
        spec.linux = nil
        assertInvalid(spec, field: "domainname")
    }

    func testWithoutAMountNamespaceNothingTouchesTheHostsMountTable() {
        var spec = validSpec()
        spec.linux?.namespaces?.removeAll { $0.type == .mount }
        let masked = assertInvalid(spec, field: "linux.maskedPaths")
        XCTAssertTrue(masked?.message.hasPrefix("unable to restrict sys entries without a private MNT namespace") ?? false)
        spec.linux?.maskedPaths = []
        assertInvalid(spec, field: "linux.readonlyPaths")
        spec.linux?.readonlyPaths = nil
        assertInvalid(spec, field: "mounts")
        spec.mounts = []
        spec.linux?.devices = [LinuxDevice(path: "/dev/fuse", type: "c", major: 10, minor: 229)]
        assertInvalid(spec, field: "linux.devices")
        spec.linux?.devices = nil
        spec.root?.readonly = true
        assertInvalid(spec, field: "root.readonly")
        spec.root?.readonly = false
        spec.linux?.rootfsPropagation = "private"
        assertInvalid(spec, field: "linux.rootfsPropagation")
        spec.linux?.rootfsPropagation = nil
        XCTAssertNoThrow(try spec.validate())
        // A mount namespace joined by path is the container's own, as for runc.
        spec = validSpec()
        spec.linux?.namespaces?.removeAll { $0.type == .mount }
        spec.linux?.namespaces?.append(LinuxNamespace(type: .mount, path: "/proc/1/ns/mnt"))
        XCTAssertNoThrow(try spec.validate())
    }

    func testMountDestinationsMustBeAbsolute() {
        var spec = validSpec()
        spec.mounts?.append(Mount(destination: "data", type: "bind", source: "/srv"))
        assertInvalid(spec, field: "mounts[7].destination")
        spec.mounts = [Mount(destination: "")]
        assertInvalid(spec, field: "mounts[0].destination")
    }

    func testHookPathsAndTimeouts() {
        var spec = validSpec()
        spec.hooks = Hooks(poststop: [Hook(path: "/bin/true"), Hook(path: "true")])
        assertInvalid(spec, field: "hooks.poststop[1].path")
        spec.hooks = Hooks(createRuntime: [Hook(path: "/bin/true", timeout: 0)])
        assertInvalid(spec, field: "hooks.createRuntime[0].timeout")
        spec.hooks = Hooks(prestart: [Hook(path: "/bin/true", timeout: 5)])
        XCTAssertNoThrow(try spec.validate())
    }

    func testAnnotationKeysMustNotBeEmpty() {
        var spec = validSpec()
        spec.annotations = ["": "x"]
        assertInvalid(spec, field: "annotations")
    }

    // MARK: linux

    func testNamespacesUniqueWithAbsolutePaths() {
        var spec = validSpec()
        spec.linux?.namespaces?.append(LinuxNamespace(type: .pid))
        XCTAssertEqual(assertInvalid(spec, field: "linux.namespaces[5].type")?.message,
                       #"duplicate namespace "pid" (first at linux.namespaces[0])"#)
        spec = validSpec()
        spec.linux?.namespaces?[1].path = "proc/1/ns/net"
        assertInvalid(spec, field: "linux.namespaces[1].path")
        spec.linux?.namespaces?[1].path = "/proc/1/ns/net"
        XCTAssertNoThrow(try spec.validate())
    }

    func testIDMappingsNeedAUserNamespace() {
        var spec = validSpec()
        spec.linux?.uidMappings = [LinuxIDMapping(containerID: 0, hostID: 1000, size: 1)]
        assertInvalid(spec, field: "linux.uidMappings")
        spec.linux?.namespaces?.append(LinuxNamespace(type: .user))
        assertInvalid(spec, field: "linux.gidMappings")
        spec.linux?.gidMappings = [LinuxIDMapping(containerID: 0, hostID: 1000, size: 0)]
        assertInvalid(spec, field: "linux.gidMappings[0].size")
        spec.linux?.gidMappings?[0].size = 1
        XCTAssertNoThrow(try spec.validate())
    }

    func testJoinedUserNamespaceNeedsNoMappings() {
        var spec = validSpec()
        spec.linux?.namespaces?.append(LinuxNamespace(type: .user, path: "/proc/42/ns/user"))
        XCTAssertNoThrow(try spec.validate())
    }

    func testDevices() {
        var spec = validSpec()
        spec.linux?.devices = [LinuxDevice(path: "/dev/fuse", type: "x", major: 10, minor: 229)]
        assertInvalid(spec, field: "linux.devices[0].type")
        spec.linux?.devices = [LinuxDevice(path: "/dev/fuse", type: "c", minor: 229)]
        assertInvalid(spec, field: "linux.devices[0].major")
        spec.linux?.devices = [LinuxDevice(path: "/dev/sda", type: "b", major: 8)]
        assertInvalid(spec, field: "linux.devices[0].minor")
        spec.linux?.devices = [LinuxDevice(path: "dev/fuse", type: "c", major: 10, minor: 229)]
        assertInvalid(spec, field: "linux.devices[0].path")
        spec.linux?.devices = [LinuxDevice(path: "/dev/fifo", type: "p"), LinuxDevice(path: "/dev/fuse", type: "u", major: 10, minor: 229)]
        XCTAssertNoThrow(try spec.validate())
    }

    func testSysctlsNeedTheirNamespace() {
        var spec = validSpec()
        spec.linux?.sysctl = ["net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "10", "kernel.sem": "1 2 3 4", "kernel.msgmax": "1"]
        XCTAssertNoThrow(try spec.validate())
        spec.linux?.namespaces?.removeAll { $0.type == .network }
        let error = assertInvalid(spec, field: #"linux.sysctl["net.ipv4.ip_forward"]"#)
        XCTAssertEqual(error?.message, #"requires a network namespace (add {"type": "network"} to linux.namespaces)"#)
        spec = validSpec()
        spec.linux?.namespaces?.removeAll { $0.type == .ipc }
        spec.linux?.sysctl = ["fs.mqueue.msg_max": "10"]
        assertInvalid(spec, field: #"linux.sysctl["fs.mqueue.msg_max"]"#)
        spec.linux?.sysctl = ["kernel.shm_rmid_forced": "1"]
        assertInvalid(spec, field: #"linux.sysctl["kernel.shm_rmid_forced"]"#)
        spec.linux?.sysctl = ["kernel.sem": "1"]
        assertInvalid(spec, field: #"linux.sysctl["kernel.sem"]"#)
    }

    func testHostWideSysctlsAreRefused() {
        var spec = validSpec()
        spec.linux?.sysctl = ["vm.overcommit_memory": "1"]
        XCTAssertEqual(assertInvalid(spec, field: #"linux.sysctl["vm.overcommit_memory"]"#)?.message,
                       "is not namespaced, so setting it in a container would change the host")
    }

    func testRootfsPropagation() {
        var spec = validSpec()
        for mode in LinuxConfig.rootfsPropagationModes + [""] {
            spec.linux?.rootfsPropagation = mode
            XCTAssertNoThrow(try spec.validate(), mode)
        }
        spec.linux?.rootfsPropagation = "rsharedd"
        assertInvalid(spec, field: "linux.rootfsPropagation")
    }

    func testMaskedAndReadonlyPathsMustBeAbsolute() {
        var spec = validSpec()
        spec.linux?.maskedPaths = ["/proc/kcore", "proc/keys"]
        assertInvalid(spec, field: "linux.maskedPaths[1]")
        spec = validSpec()
        spec.linux?.readonlyPaths = ["sys"]
        assertInvalid(spec, field: "linux.readonlyPaths[0]")
    }

    func testTimeOffsetsNeedATimeNamespace() {
        var spec = validSpec()
        spec.linux?.timeOffsets = ["monotonic": LinuxTimeOffset(secs: 10)]
        assertInvalid(spec, field: "linux.timeOffsets")
        spec.linux?.namespaces?.append(LinuxNamespace(type: .time))
        XCTAssertNoThrow(try spec.validate())
        spec.linux?.timeOffsets = ["realtime": LinuxTimeOffset(secs: 10)]
        assertInvalid(spec, field: #"linux.timeOffsets["realtime"]"#)
    }

    func testSeccompRules() {
        var spec = validSpec()
        spec.linux?.seccomp = LinuxSeccomp(defaultAction: .allow, syscalls: [LinuxSyscall(names: [], action: .errno)])
        assertInvalid(spec, field: "linux.seccomp.syscalls[0].names")
        spec.linux?.seccomp = LinuxSeccomp(defaultAction: .allow, syscalls: [LinuxSyscall(names: ["mount"], action: .notify)])
        assertInvalid(spec, field: "linux.seccomp.listenerPath")
        spec.linux?.seccomp?.listenerPath = "/run/seccomp.sock"
        XCTAssertNoThrow(try spec.validate())
    }

    func testKnownNameTables() {
        XCTAssertEqual(knownCapabilities.count, 41)
        XCTAssertEqual(capabilityNumbers["CAP_CHOWN"], 0)
        XCTAssertEqual(capabilityNumbers["CAP_SYS_ADMIN"], 21)
        XCTAssertEqual(capabilityNumbers["CAP_AUDIT_READ"], 37)
        XCTAssertEqual(capabilityNumbers["CAP_CHECKPOINT_RESTORE"], 40)
        XCTAssertEqual(rlimitResources.count, 16)
        XCTAssertEqual(rlimitResources["RLIMIT_NOFILE"], 7)
        XCTAssertEqual(rlimitResources["RLIMIT_RTTIME"], 15)
        XCTAssertEqual(Spec.capabilityNumbers, capabilityNumbers)
        // The lookups the start-up path uses agree with the tables, name for name.
        for (name, number) in capabilityNumbers { XCTAssertEqual(capabilityNumber(name), number, name) }
        for (name, resource) in rlimitResources { XCTAssertEqual(rlimitResource(name), resource, name) }
        XCTAssertNil(capabilityNumber("CAP_NOPE"))
        XCTAssertNil(rlimitResource("RLIMIT_NOPE"))
    }

    func testDuplicateRlimitNamesTheFirst() {
        var spec = validSpec()
        spec.process?.rlimits = [POSIXRlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 10),
                                 POSIXRlimit(type: "RLIMIT_CORE", hard: 0, soft: 0),
                                 POSIXRlimit(type: "RLIMIT_NOFILE", hard: 10, soft: 10)]
        let error = assertInvalid(spec, field: "process.rlimits[2].type")
        XCTAssertEqual(error?.message, "duplicate rlimit RLIMIT_NOFILE (first at process.rlimits[0])")
    }
}

final class VersionTests: XCTestCase {
    func testSupportedVersions() {
        for version in ["1.0.0", "1.0.0-rc5", "1.0.2-dev", "1.1.0", "1.1.0-rc.1", "1.2.0", "1.2.1", "1.2.1+dev"] {
            var spec = validSpec()
            spec.ociVersion = version
            XCTAssertNoThrow(try spec.validate(), version)
        }
    }

    func testUnsupportedVersions() {
        for version in ["2.0.0", "1.3.0", "0.9.0"] {
            var spec = validSpec()
            spec.ociVersion = version
            let error = assertInvalid(spec, field: "ociVersion")
            XCTAssertTrue(error?.message.contains("is not supported") ?? false, "\(version): \(String(describing: error))")
        }
    }

    func testMalformedVersions() {
        for version in ["abc", "1.0", "1.0.0.0", "1.x.0", "v1.0.0", "1.0.0-", "1.0.0+", " 1.0.0"] {
            var spec = validSpec()
            spec.ociVersion = version
            let error = assertInvalid(spec, field: "ociVersion")
            XCTAssertTrue(error?.message.contains("is not a semantic version") ?? false, "\(version): \(String(describing: error))")
        }
        var spec = validSpec()
        spec.ociVersion = ""
        assertInvalid(spec, field: "ociVersion")
    }

    func testParsing() {
        XCTAssertEqual(SpecVersion("1.0.0-rc5"), SpecVersion(major: 1, minor: 0, patch: 0, prerelease: "rc5"))
        XCTAssertEqual(SpecVersion("1.2.1+dev")?.description, "1.2.1")
    }
}
