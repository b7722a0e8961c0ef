import FoundationEssentials
import XCTest
@testable import OCI

/// A config.json that sets every property this package models (and a few it does not,
/// which must be ignored). `goldenSpec` is the value it must decode to.
let goldenJSON = #"""
{
  "ociVersion": "1.2.0",
  "process": {
    "apparmorProfile": "safehouse-default",
    "args": ["/bin/agent", "--serve"],
    "capabilities": {
      "ambient": ["CAP_KILL"],
      "bounding": ["CAP_KILL"],
      "effective": ["CAP_KILL"],
      "inheritable": ["CAP_KILL"],
      "permitted": ["CAP_KILL"]
    },
    "commandLine": "agent --serve",
    "consoleSize": {"height": 24, "width": 80},
    "cwd": "/work",
    "env": ["PATH=/usr/bin:/bin", "HOME=/home/agent"],
    "execCPUAffinity": {"final": "0-3,7", "initial": "0"},
    "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 7},
    "noNewPrivileges": true,
    "oomScoreAdj": 500,
    "rlimits": [{"hard": 4096, "soft": 1024, "type": "RLIMIT_NOFILE"}],
    "scheduler": {
      "deadline": 20000000,
      "flags": ["SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM"],
      "nice": -5,
      "period": 30000000,
      "policy": "SCHED_DEADLINE",
      "priority": 10,
      "runtime": 10000000
    },
    "selinuxLabel": "system_u:system_r:container_t:s0",
    "terminal": true,
    "user": {
      "additionalGids": [5, 10],
      "gid": 1000,
      "uid": 1000,
      "umask": 18,
      "username": "agent"
    }
  },
  "root": {"path": "/var/lib/agent/rootfs", "readonly": true},
  "hostname": "agent",
  "domainname": "sandbox.local",
  "mounts": [
    {"destination": "/proc", "source": "proc", "type": "proc"},
    {
      "destination": "/data",
      "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
      "options": ["rbind", "ro", "idmap"],
      "source": "/srv/data",
      "type": "bind",
      "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]
    }
  ],
  "hooks": {
    "createContainer": [{"path": "/usr/bin/cc"}],
    "createRuntime": [
      {
        "args": ["net-setup", "--up"],
        "env": ["X=1"],
        "path": "/usr/bin/net-setup",
        "timeout": 10
      }
    ],
    "poststart": [{"path": "/usr/bin/ps"}],
    "poststop": [{"path": "/usr/bin/cleanup", "timeout": 30}],
    "prestart": [{"path": "/usr/bin/prestart"}],
    "startContainer": [{"path": "/usr/bin/sc"}]
  },
  "annotations": {"io.safehouse.policy": "strict", "org.opencontainers.image.title": "agent"},
  "linux": {
    "cgroupsPath": "/safehouse/agent",
    "devices": [
      {
        "fileMode": 438,
        "gid": 0,
        "major": 10,
        "minor": 229,
        "path": "/dev/fuse",
        "type": "c",
        "uid": 0
      }
    ],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "intelRdt": {
      "closID": "agent",
      "enableCMT": true,
      "enableMBM": true,
      "l3CacheSchema": "L3:0=7f0",
      "memBwSchema": "MB:0=20"
    },
    "maskedPaths": ["/proc/kcore"],
    "mountLabel": "system_u:object_r:container_file_t:s0",
    "namespaces": [
      {"type": "pid"},
      {"path": "/var/run/netns/agent", "type": "network"},
      {"type": "mount"},
      {"type": "ipc"},
      {"type": "uts"},
      {"type": "user"},
      {"type": "cgroup"},
      {"type": "time"}
    ],
    "netDevices": {"eth1": {"name": "agent0"}},
    "personality": {"domain": "LINUX32", "flags": []},
    "readonlyPaths": ["/proc/sys"],
    "resources": {
      "blockIO": {
        "leafWeight": 300,
        "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 104857600}],
        "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 1000}],
        "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 52428800}],
        "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 500}],
        "weight": 500,
        "weightDevice": [{"leafWeight": 200, "major": 8, "minor": 0, "weight": 600}]
      },
      "cpu": {
        "burst": 10000,
        "cpus": "0-3",
        "idle": 0,
        "mems": "0",
        "period": 100000,
        "quota": 50000,
        "realtimePeriod": 1000000,
        "realtimeRuntime": 950000,
        "shares": 1024
      },
      "devices": [
        {"access": "rwm", "allow": false},
        {"access": "rw", "allow": true, "major": 10, "minor": 229, "type": "c"}
      ],
      "hugepageLimits": [{"limit": 209715200, "pageSize": "2MB"}],
      "memory": {
        "checkBeforeUpdate": true,
        "disableOOMKiller": false,
        "kernel": -1,
        "kernelTCP": 1048576,
        "limit": 536870912,
        "reservation": 268435456,
        "swap": -1,
        "swappiness": 0,
        "useHierarchy": true
      },
      "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 5}]},
      "pids": {"limit": 128},
      "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}},
      "unified": {"memory.high": "400M"}
    },
    "rootfsPropagation": "rslave",
    "seccomp": {
      "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
      "defaultAction": "SCMP_ACT_ERRNO",
      "defaultErrnoRet": 1,
      "flags": ["SECCOMP_FILTER_FLAG_LOG"],
      "listenerMetadata": "agent",
      "listenerPath": "/run/seccomp-agent.sock",
      "syscalls": [
        {"action": "SCMP_ACT_ALLOW", "names": ["read", "write"]},
        {
          "action": "SCMP_ACT_ALLOW",
          "args": [
            {"index": 0, "op": "SCMP_CMP_EQ", "value": 0},
            {"index": 1, "op": "SCMP_CMP_MASKED_EQ", "value": 255, "valueTwo": 8}
          ],
          "names": ["personality"]
        },
        {"action": "SCMP_ACT_NOTIFY", "names": ["mount"]},
        {"action": "SCMP_ACT_ERRNO", "errnoRet": 38, "names": ["kexec_load"]}
      ]
    },
    "sysctl": {"kernel.shmmax": "68719476736", "net.ipv4.ip_forward": "0"},
    "timeOffsets": {
      "boottime": {"nanosecs": 0, "secs": -3600},
      "monotonic": {"nanosecs": 500, "secs": 86400}
    },
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]
  },
  "futureProperty": {"ignored": true, "windows": {"layerFolders": ["C:\\layers"]}}
}
"""#

final class GoldenTests: XCTestCase {
    func testFixtureDecodesToTheExpectedValue() throws {
        let spec = try decodeSpec(goldenJSON)
        XCTAssertEqual(spec.process, goldenSpec.process)
        XCTAssertEqual(spec.mounts, goldenSpec.mounts)
        XCTAssertEqual(spec.hooks, goldenSpec.hooks)
        XCTAssertEqual(spec.linux?.resources, goldenSpec.linux?.resources)
        XCTAssertEqual(spec.linux?.seccomp, goldenSpec.linux?.seccomp)
        XCTAssertEqual(spec.linux, goldenSpec.linux)
        XCTAssertEqual(spec, goldenSpec)
    }

    func testFixtureValidates() throws {
        XCTAssertNoThrow(try decodeSpec(goldenJSON).validate())
    }

    func testEncodingRoundTrips() throws {
        XCTAssertEqual(try Spec.decode(from: goldenSpec.encodedJSON()), goldenSpec)
    }

    /// The state document reads as JSONDecoder, the Codable oracle, reads it.
    func testStateDecodingAgreesWithJSONDecoder() throws {
        let state = State(id: "x", status: .paused, pid: 7, bundle: "/b", annotations: ["a": "b"])
        XCTAssertEqual(try State.decode(from: state.encodedJSON()), try JSONDecoder().decode(State.self, from: state.encodedJSON()))
        XCTAssertEqual(try State.decode(from: state.encodedJSON()), state)
    }

    /// Guards the fixture's completeness: a property added to a type but not to the
    /// fixture fails here.
    func testFixtureSetsEveryProperty() throws {
        let values: [(String, Any)] = [
            ("Spec", goldenSpec),
            ("Process", try XCTUnwrap(goldenSpec.process)),
            ("User", try XCTUnwrap(goldenSpec.process?.user)),
            ("Scheduler", try XCTUnwrap(goldenSpec.process?.scheduler)),
            ("Mount", try XCTUnwrap(goldenSpec.mounts?.last)),
            ("Hooks", try XCTUnwrap(goldenSpec.hooks)),
            ("Hook", try XCTUnwrap(goldenSpec.hooks?.createRuntime?.first)),
            ("LinuxConfig", try XCTUnwrap(goldenSpec.linux)),
            ("LinuxResources", try XCTUnwrap(goldenSpec.linux?.resources)),
            ("LinuxMemory", try XCTUnwrap(goldenSpec.linux?.resources?.memory)),
            ("LinuxCPU", try XCTUnwrap(goldenSpec.linux?.resources?.cpu)),
            ("LinuxBlockIO", try XCTUnwrap(goldenSpec.linux?.resources?.blockIO)),
            ("LinuxSeccomp", try XCTUnwrap(goldenSpec.linux?.seccomp)),
            ("LinuxIntelRdt", try XCTUnwrap(goldenSpec.linux?.intelRdt)),
            ("LinuxDevice", try XCTUnwrap(goldenSpec.linux?.devices?.first)),
        ]
        for (name, value) in values {
            for child in Mirror(reflecting: value).children {
                let mirror = Mirror(reflecting: child.value)
                let isNil = mirror.displayStyle == .optional && mirror.children.isEmpty
                XCTAssertFalse(isNil, "\(name).\(child.label ?? "?") is not set in the golden fixture")
            }
        }
    }
}
