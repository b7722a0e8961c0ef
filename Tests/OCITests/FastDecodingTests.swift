import FoundationEssentials
import XCTest
@testable import OCI

/// `Spec.decode` must read every document exactly as JSONDecoder, the Codable oracle,
/// reads it, and refuse what JSONDecoder refuses with a message that names the field.
final class FastDecodingTests: XCTestCase {
    private let minimal = #"""
    {"ociVersion": "1.0.0", "root": {"path": "rootfs"},
     "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"}}
    """#

    func testGoldenFixture() throws {
        XCTAssertEqual(assertFastDecodes(Data(goldenJSON.utf8)), goldenSpec)
        assertFastDecodes(goldenSpec.encodedJSON(), "(encoded)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        assertFastDecodes(try encoder.encode(goldenSpec), "(compact)")
    }

    func testRuncDefaultSpecs() {
        assertFastDecodes(Spec.runcDefault(rootless: false).encodedJSON(), "(runc)")
        assertFastDecodes(Spec.runcDefault(rootless: true, hostUID: 1000, hostGID: 1001).encodedJSON(), "(rootless)")
    }

    func testMinimalAndBareConfigs() {
        assertFastDecodes(minimal)
        assertFastDecodes(#"{"ociVersion": "1.2.0"}"#)
        assertFastDecodes("\u{FEFF}{\"ociVersion\": \"1.2.0\"}", "(byte order mark)")
        assertFastDecodes(" \n\t\r{\"ociVersion\":\"1.2.0\"} \n", "(whitespace)")
    }

    func testNullsAreAbsent() {
        assertFastDecodes(#"""
        {"ociVersion": "1.2.0", "process": null, "hostname": null, "mounts": null, "annotations": null,
         "root": {"path": "r", "readonly": null},
         "linux": {"resources": {"memory": {"limit": null, "swap": -1}, "cpu": null},
                   "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": null, "defaultErrnoRet": null},
                   "namespaces": [{"type": "pid", "path": null}], "personality": {"domain": "LINUX", "flags": null}}}
        """#)
        assertFastDecodes(#"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0, "umask": null}, "cwd": "/", "scheduler": {"policy": "SCHED_OTHER", "flags": null}}}"#)
    }

    func testEmptyArraysAndObjects() {
        assertFastDecodes(#"""
        {"ociVersion": "1.2.0", "mounts": [], "annotations": {}, "hooks": {"prestart": []},
         "process": {"user": {"uid": 0, "gid": 0, "additionalGids": []}, "cwd": "/", "args": [], "env": [],
                     "capabilities": {}, "rlimits": []},
         "linux": {"sysctl": {}, "resources": {"devices": [], "blockIO": {}, "rdma": {}, "unified": {}},
                   "namespaces": [], "maskedPaths": [], "timeOffsets": {}, "netDevices": {},
                   "seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [], "architectures": []}}}
        """#)
        assertFastDecodes(#"{"ociVersion": "1.2.0", "linux": {}}"#)
    }

    func testUnicodeEscapes() throws {
        let json = #"""
        {"ociVersion": "1.2.0", "hostname": "caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t \u0000 end",
         "domainname": "日本語 😀 é", "annotations": {"k\u00e9y": "\u2603", "e\u0301": "combining", "\uD834\uDD1E": "clef"},
         "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "args": ["\u0041\u0062", "a\\u0041"]}}
        """#
        let spec = try XCTUnwrap(assertFastDecodes(Data(json.utf8)))
        XCTAssertEqual(spec.hostname, "café 😀 \"q\" \\ / \u{08}\u{0C}\n\r\t \u{00} end")
        XCTAssertEqual(spec.annotations?["𝄞"], "clef")
        XCTAssertEqual(spec.process?.args, ["Ab", "a\\u0041"])
    }

    func testIntegersAtTheBoundsOfTheirTypes() {
        assertFastDecodes(#"""
        {"ociVersion": "1.2.0",
         "process": {"user": {"uid": 4294967295, "gid": 0, "umask": 4294967295, "additionalGids": [0, 4294967295]}, "cwd": "/",
                     "consoleSize": {"height": 18446744073709551615, "width": 0},
                     "oomScoreAdj": -9223372036854775808,
                     "rlimits": [{"type": "RLIMIT_CPU", "hard": 18446744073709551615, "soft": 0}],
                     "ioPriority": {"class": "IOPRIO_CLASS_RT", "priority": 9223372036854775807},
                     "scheduler": {"policy": "SCHED_FIFO", "nice": -2147483648, "priority": 2147483647,
                                   "runtime": 18446744073709551615}},
         "hooks": {"poststop": [{"path": "/x", "timeout": -1}]},
         "linux": {"resources": {"memory": {"limit": 9223372036854775807, "reservation": -9223372036854775808, "swappiness": 18446744073709551615},
                                 "blockIO": {"weight": 65535, "leafWeight": 0,
                                             "weightDevice": [{"major": -9223372036854775808, "minor": 9223372036854775807, "weight": 65535}],
                                             "throttleReadBpsDevice": [{"major": 0, "minor": 0, "rate": 18446744073709551615}]},
                                 "pids": {"limit": -9223372036854775808},
                                 "network": {"classID": 4294967295, "priorities": [{"name": "lo", "priority": 4294967295}]},
                                 "rdma": {"d": {"hcaHandles": 4294967295, "hcaObjects": 0}}},
                   "timeOffsets": {"monotonic": {"secs": -9223372036854775808, "nanosecs": 4294967295}},
                   "devices": [{"path": "/dev/x", "type": "c", "major": 9223372036854775807, "minor": -1, "fileMode": 4294967295}],
                   "seccomp": {"defaultAction": "SCMP_ACT_KILL", "defaultErrnoRet": 4294967295,
                               "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4294967295,
                                             "args": [{"index": 18446744073709551615, "value": 18446744073709551615,
                                                       "valueTwo": 0, "op": "SCMP_CMP_NE"}]}]}}}
        """#)
    }

    /// Unknown keys are ignored at every level: one is added to every object that maps
    /// to a struct (maps take any key, so they are left alone).
    func testUnknownKeysAtEveryLevel() throws {
        let maps: Set<String> = ["annotations", "sysctl", "unified", "timeOffsets", "rdma", "netDevices"]
        func addUnknown(_ tree: JSONTree, isMap: Bool) -> JSONTree {
            switch tree {
            case .array(let elements):
                return .array(elements.map { addUnknown($0, isMap: false) })
            case .object(let members):
                var result = JSONObject()
                for (key, value) in members {
                    result[key] = isMap ? (value.isObject ? addUnknown(value, isMap: false) : value)
                                        : addUnknown(value, isMap: maps.contains(key))
                }
                if !isMap {
                    result["x-unknown"] = .object(["nested": .array([.number("1.5e300"), .null, .bool(true), .string("\u{1F600}")])])
                    result["x-null"] = .null
                }
                return .object(result)
            default:
                return tree
            }
        }
        let tree = try JSONTreeParser.parse(Array(goldenJSON.utf8))
        let document = JSONTreeWriter.write(addUnknown(tree, isMap: false))
        XCTAssertEqual(assertFastDecodes(document), goldenSpec)
    }

    /// Every refusal agrees with JSONDecoder's and names the field (or, for a document
    /// that is not a JSON object, the document).
    func testRefusalsNameTheField() throws {
        let refused: [(String, String)] = [
            ("",
             "config.json is not valid JSON: unexpected end of data at line 1, column 1"),
            ("[]",
             "config.json must be a JSON object, found an array"),
            ("{} x",
             "config.json is not valid JSON: unexpected 'x' after the end of the document at line 1, column 4"),
            ("{",
             "config.json is not valid JSON: expected a property name in double quotes, found end of data at line 1, column 2"),
            ("{\"ociVersion\": \"1.0",
             "config.json is not valid JSON: unterminated string at line 1, column 16"),
            ("{\n  \"ociVersion\": \"1.0.0\",,\n}",
             "config.json is not valid JSON: expected a property name in double quotes, found ',' at line 2, column 25"),
            ("nope",
             "config.json is not valid JSON: unexpected 'n' at line 1, column 1"),
            ("1",
             "config.json must be a JSON object, found a number"),
            ("null",
             "config.json must be a JSON object, found null"),
            ("\"x\"",
             "config.json must be a JSON object, found a string"),
            ("{\"ociVersion\": 1}",
             "ociVersion: expected a string, found a number"),
            ("{}",
             "ociVersion: is required"),
            ("{\"ociVersion\": null}",
             "ociVersion: must not be null"),
            ("{\"ociVersion\": \"1.0.0\", \"mounts\": {}}",
             "mounts: expected an array, found an object"),
            ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\", \"readonly\": \"yes\"}}",
             "root.readonly: expected true or false, found a string"),
            ("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": null}}",
             "root.path: must not be null"),
            ("{\"ociVersion\": \"1.0.0\", \"root\": 5}",
             "root: expected an object, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"sysctl\": {\"a\": 1}}}",
             "linux.sysctl.a: expected a string, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"sysctl\": {\"a\": null}}}",
             "linux.sysctl.a: must not be null"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"sysctl\": {\"a.b\": null}}}",
             "linux.sysctl[\"a.b\"]: must not be null"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"sysctl\": []}}",
             "linux.sysctl: expected an object, found an array"),
            ("{\"ociVersion\": \"1.0.0\", \"annotations\": {\"1a\": 2}}",
             "annotations[\"1a\"]: expected a string, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": -1, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.user.uid: expected an integer between 0 and 4294967295, found -1"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 4294967296, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.user.uid: expected an integer between 0 and 4294967295, found 4294967296"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 1.5, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.user.uid: expected an integer between 0 and 4294967295, found 1.5"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": \"0\", \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.user.uid: expected an integer between 0 and 4294967295, found a string"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 1e400, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.user.uid: expected an integer between 0 and 4294967295, found 1e400"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": [\"sh\", null], \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.args[1]: must not be null"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": [\"sh\", 1], \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.args[1]: expected a string, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": \"sh\", \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.args: expected an array, found a string"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}}",
             "process.user: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 0, \"gid\": 0}}}",
             "process.cwd: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"terminal\": 1, \"user\": {\"uid\": \"x\"}}}",
             "process.terminal: expected true or false, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"oomScoreAdj\": 9223372036854775808, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.oomScoreAdj: expected an integer between -9223372036854775808 and 9223372036854775807, found 9223372036854775808"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"scheduler\": {\"policy\": \"SCHED_OTHER\", \"nice\": 2147483648}, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.scheduler.nice: expected an integer between -2147483648 and 2147483647, found 2147483648"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"scheduler\": {\"policy\": \"SCHED_NOPE\"}, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.scheduler.policy: unknown scheduler policy \"SCHED_NOPE\" (expected one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE)"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"scheduler\": {\"policy\": 3}, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.scheduler.policy: expected a string, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"scheduler\": {\"policy\": \"SCHED_OTHER\", \"flags\": [\"X\"]}, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.scheduler.flags[0]: unknown scheduler flag \"X\" (expected one of SCHED_FLAG_RESET_ON_FORK, SCHED_FLAG_RECLAIM, SCHED_FLAG_DL_OVERRUN, SCHED_FLAG_KEEP_POLICY, SCHED_FLAG_KEEP_PARAMS, SCHED_FLAG_UTIL_CLAMP_MIN, SCHED_FLAG_UTIL_CLAMP_MAX)"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"ioPriority\": {\"class\": \"IOPRIO_CLASS_X\", \"priority\": 0}, \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_X\" (expected one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE)"),
            ("{\"ociVersion\": \"1.0.0\", \"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1}], \"user\": {\"uid\": 0, \"gid\": 0}, \"cwd\": \"/\"}}",
             "process.rlimits[0].soft: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"pidx\"}]}}",
             "linux.namespaces[0].type: unknown namespace type \"pidx\" (expected one of pid, network, mount, ipc, uts, user, cgroup, time)"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"x\\nsafehouse: fine\"}]}}",
             "linux.namespaces[1].type: unknown namespace type \"x\\nsafehouse: fine\" (expected one of pid, network, mount, ipc, uts, user, cgroup, time)"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"personality\": {\"domain\": \"LINUX64\"}}}",
             "linux.personality.domain: unknown personality domain \"LINUX64\" (expected one of LINUX, LINUX32)"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_NOPE\"}}}",
             "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_NOPE\" (expected one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_ALLOW, SCMP_ACT_LOG, SCMP_ACT_NOTIFY)"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"x\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_X\"}]}]}}}",
             "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_X\" (expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ)"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"action\": \"SCMP_ACT_ALLOW\"}]}}}",
             "linux.seccomp.syscalls[0].names: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"pids\": {\"limit\": 1.5}}}}",
             "linux.resources.pids.limit: expected an integer between -9223372036854775808 and 9223372036854775807, found 1.5"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"pids\": {}}}}",
             "linux.resources.pids.limit: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"blockIO\": {\"weight\": 65536}}}}",
             "linux.resources.blockIO.weight: expected an integer between 0 and 65535, found 65536"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"memory\": {\"limit\": -9223372036854775809}}}}",
             "linux.resources.memory.limit: expected an integer between -9223372036854775808 and 9223372036854775807, found -9223372036854775809"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"memory\": {\"swappiness\": -1}}}}",
             "linux.resources.memory.swappiness: expected an integer between 0 and 18446744073709551615, found -1"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"memory\": {\"swappiness\": 18446744073709551616}}}}",
             "linux.resources.memory.swappiness: expected an integer between 0 and 18446744073709551615, found 18446744073709551616"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"devices\": [{\"access\": \"rwm\"}]}}}",
             "linux.resources.devices[0].allow: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"rdma\": {\"mlx5_1\": {\"hcaHandles\": -1}}}}}",
             "linux.resources.rdma.mlx5_1.hcaHandles: expected an integer between 0 and 4294967295, found -1"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"timeOffsets\": {\"monotonic\": 5}}}",
             "linux.timeOffsets.monotonic: expected an object, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"linux\": {\"netDevices\": {\"eth0\": {\"name\": 5}}}}",
             "linux.netDevices.eth0.name: expected a string, found a number"),
            ("{\"ociVersion\": \"1.0.0\", \"hooks\": {\"prestart\": [{\"args\": [\"x\"]}]}}",
             "hooks.prestart[0].path: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"mounts\": [{\"type\": \"tmpfs\"}]}",
             "mounts[0].destination: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"mounts\": [{\"destination\": \"/x\", \"uidMappings\": [{\"containerID\": 0, \"hostID\": 0}]}]}",
             "mounts[0].uidMappings[0].size: is required"),
            ("{\"ociVersion\": \"1.0.0\", \"hostname\": \"\\ud800\"}",
             "hostname: is not valid Unicode (a lone surrogate or invalid UTF-8)"),
            ("{\"ociVersion\": \"1.0.0\", \"hostname\": \"\\ud800\", \"domainname\": 5}",
             "hostname: is not valid Unicode (a lone surrogate or invalid UTF-8)"),
            ("{\"ociVersion\": \"1.0.0\", \"hostname\": \"\\udc00\\ud800\"}",
             "hostname: is not valid Unicode (a lone surrogate or invalid UTF-8)"),
            ("{\"ociVersion\": 5, \"ociVersion\": \"1.0.0\"}",
             "ociVersion: expected a string, found a number"),
        ]
        for (json, message) in refused {
            XCTAssertEqual(compareDecoders(Data(json.utf8), json).error, message, json)
        }
        let invalidUTF8 = Data([0x7B, 0x22, 0x6F, 0x63, 0x69, 0x56, 0x65, 0x72, 0x73, 0x69, 0x6F, 0x6E, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D])
        XCTAssertEqual(compareDecoders(invalidUTF8).error, "ociVersion: is not valid Unicode (a lone surrogate or invalid UTF-8)")
    }

    /// Documents whose reading is JSONDecoder's own business: repeated keys (the first
    /// wins), whole numbers written with a fraction or exponent, "-0", canonically
    /// equal map keys, text that is not Unicode where nothing reads it.
    func testUnusualDocumentsReadAsJSONDecoderReadsThem() throws {
        let accepted = [
            "{\"ociVersion\": \"1.0.0\", \"ociVersion\": 5}",
            "{\"ociVersion\": \"1.0.0\", \"x\": \"\\ud800\"}",
            "{\"ociVersion\": \"1.0.0\", \"ociVersion\": \"1.2.0\"}",
            "{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 1.0, \"gid\": 0}, \"cwd\": \"/\"}}",
            "{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 1e2, \"gid\": 0}, \"cwd\": \"/\"}}",
            "{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 1E+2, \"gid\": 0.0e1}, \"cwd\": \"/\"}}",
            "{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": -0, \"gid\": -0.0}, \"cwd\": \"/\"}}",
            "{\"ociVersion\": \"1.0.0\", \"process\": {\"user\": {\"uid\": 4294967295.0, \"gid\": 10000000000000000000000e-22}, \"cwd\": \"/\"}}",
            "{\"ociVersion\": \"1.0.0\", \"linux\": {\"resources\": {\"memory\": {\"limit\": -0}}}}",
            "{\"ociVersion\": \"1.0.0\", \"annotations\": {\"é\": \"1\", \"e\\u0301\": \"2\"}}",
            "{\"ociVersion\": \"1.0.0\", \"x\": {\"\\ud800\": \"\\udc00\"}}",
        ]
        for json in accepted {
            assertFastDecodes(Data(json.utf8), json)
        }
        let refused = [
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": 1.5, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": 4294967296.0, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"memory": {"limit": 9.223372036854775807e18}}}}"#,
            #"{"ociVersion": "1.0.0", "\ud800": 1}"#,
            #"{"ociVersion": "1.0.0", "annotations": {"\ud800": "1"}}"#,
            #"{"ociVersion": "1.0.0", "root": {"path": "r", "\ud800": 1}}"#,
        ]
        for json in refused {
            XCTAssertNotNil(compareDecoders(Data(json.utf8), json).error, json)
        }
    }

    /// Objects past `JSONObject.indexThreshold` members are looked up through a hash
    /// index; they must read the same, and a repeated key reads as JSONDecoder reads it
    /// (the first wins).
    func testLargeObjects() throws {
        let entries = (0..<100).map { #""key\#($0)": "v\#($0)""# }.joined(separator: ", ")
        let unknown = (0..<100).map { #""x\#($0)": \#($0)"# }.joined(separator: ", ")
        let json = #"{\#(unknown), "annotations": {\#(entries)}, "ociVersion": "1.2.0", "root": {\#(unknown), "path": "r"}}"#
        let spec = try XCTUnwrap(assertFastDecodes(Data(json.utf8)))
        XCTAssertEqual(spec.annotations?.count, 100)
        XCTAssertEqual(spec.annotations?["key99"], "v99")
        XCTAssertEqual(spec.root, Root(path: "r"))
        let duplicate = #"{"ociVersion": "1.2.0", "annotations": {\#(entries), "key7": "again"}}"#
        XCTAssertEqual(assertFastDecodes(Data(duplicate.utf8))?.annotations?["key7"], "v7")
    }

    func testJSONObjectKeepsDocumentOrderAndLastDuplicate() throws {
        for count in [3, JSONObject.indexThreshold + 5] {
            var object = JSONObject()
            for position in 0..<count { object.updateValue(.number("\(position)"), forKey: "k\(position)") }
            XCTAssertTrue(object.updateValue(.string("last"), forKey: "k1"))
            XCTAssertEqual(object.keys, (0..<count).map { "k\($0)" })
            guard case .string("last")? = object["k1"] else { return XCTFail("k1 should hold the last value") }
            object["k0"] = nil
            XCTAssertNil(object["k0"])
            XCTAssertEqual(object.count, count - 1)
            guard case .number("2")? = object["k2"] else { return XCTFail("k2 after a removal") }
        }
    }

    func testTheSizeLimitComesFirst() {
        let huge = Data(repeating: 0x20, count: Spec.maximumDocumentSize + 1)
        XCTAssertEqual(publicError(huge), "config.json is larger than 16 MiB")
    }

    private func publicError(_ data: Data) -> String? {
        do {
            _ = try Spec.decode(from: data)
            return nil
        } catch {
            return "\(error)"
        }
    }
}

extension JSONTree {
    var isObject: Bool {
        if case .object = self { return true }
        return false
    }
}
