import FoundationEssentials
import XCTest
@testable import OCI

/// The fast path of `Spec.decode` must read every valid document exactly as JSONDecoder
/// does, and give up on everything else so that JSONDecoder reports the error.
final class FastDecodingTests: XCTestCase {
    private let minimal = #"""
    {"ociVersion": "1.0.0", "root": {"path": "rootfs"},
     "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"}}
    """#

    func testGoldenFixture() throws {
        XCTAssertEqual(assertFastDecodes(Data(goldenJSON.utf8)), goldenSpec)
        assertFastDecodes(goldenSpec.encodedJSON(), "(encoded)")
        assertFastDecodes(DocumentEncoding.encode(goldenSpec, pretty: false), "(compact)")
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

    /// Every invalid document makes the fast path give up, and the public decode throws
    /// what the JSONDecoder path throws.
    func testInvalidDocumentsGiveUp() throws {
        let user = #""user": {"uid": 0, "gid": 0}, "cwd": "/""#
        let invalid = [
            "", "[]", "{} x", "{", #"{"ociVersion": "1.0"#, "{\n  \"ociVersion\": \"1.0.0\",,\n}",
            #"{"ociVersion": 1}"#, #"{}"#, #"{"ociVersion": null}"#,
            #"{"ociVersion": "1.0.0", "mounts": {}}"#,
            #"{"ociVersion": "1.0.0", "root": {"path": "r", "readonly": "yes"}}"#,
            #"{"ociVersion": "1.0.0", "root": {"path": null}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"sysctl": {"a": 1}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"sysctl": {"a": null}}}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": -1, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": 4294967296, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "process": {"args": ["sh", null], \#(user)}}"#,
            #"{"ociVersion": "1.0.0", "process": {"args": ["sh"], "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}}}"#,
            #"{"ociVersion": "1.0.0", "process": {"oomScoreAdj": 9223372036854775808, \#(user)}}"#,
            #"{"ociVersion": "1.0.0", "process": {"scheduler": {"policy": "SCHED_OTHER", "nice": 2147483648}, \#(user)}}"#,
            #"{"ociVersion": "1.0.0", "process": {"scheduler": {"policy": "SCHED_NOPE"}, \#(user)}}"#,
            #"{"ociVersion": "1.0.0", "process": {"scheduler": {"policy": "SCHED_OTHER", "flags": ["X"]}, \#(user)}}"#,
            #"{"ociVersion": "1.0.0", "process": {"ioPriority": {"class": "IOPRIO_CLASS_X", "priority": 0}, \#(user)}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"namespaces": [{"type": "pidx"}]}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"personality": {"domain": "LINUX64"}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_NOPE"}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_X"}]}]}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"pids": {"limit": 1.5}}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"pids": {}}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"blockIO": {"weight": 65536}}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"memory": {"limit": -9223372036854775809}}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"memory": {"swappiness": -1}}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"memory": {"swappiness": 18446744073709551616}}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"devices": [{"access": "rwm"}]}}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"timeOffsets": {"monotonic": 5}}}"#,
            #"{"ociVersion": "1.0.0", "hooks": {"prestart": [{"args": ["x"]}]}}"#,
            #"{"ociVersion": "1.0.0", "mounts": [{"type": "tmpfs"}]}"#,
            #"{"ociVersion": "1.0.0", "mounts": [{"destination": "/x", "uidMappings": [{"containerID": 0, "hostID": 0}]}]}"#,
        ]
        for json in invalid {
            let data = Data(json.utf8)
            XCTAssertNil(FastDecoding.spec(from: Array(data)), "fast path accepted \(json)")
            XCTAssertNil(compareDecoders(data, json).reference, "JSONDecoder accepted \(json)")
            XCTAssertEqual(publicError(data), slowPathError(data), json)
        }
    }

    /// Documents JSONDecoder may well accept but whose reading is JSONDecoder's own
    /// business: the fast path leaves them to it, and the public result is JSONDecoder's.
    func testUnusualDocumentsAreLeftToJSONDecoder() throws {
        let unusual = [
            #"{"ociVersion": "1.0.0", "ociVersion": "1.2.0"}"#,
            #"{"ociVersion": "1.0.0", "hostname": "\ud800"}"#,
            #"{"ociVersion": "1.0.0", "hostname": "\udc00\ud800"}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": 1.0, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": 1e2, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "process": {"user": {"uid": -0, "gid": 0}, "cwd": "/"}}"#,
            #"{"ociVersion": "1.0.0", "linux": {"resources": {"memory": {"limit": -0}}}}"#,
            #"{"ociVersion": "1.0.0", "annotations": {"é": "1", "e\u0301": "2"}}"#,
        ]
        var documents = unusual.map { Data($0.utf8) }
        documents.append(Data([0x7B, 0x22, 0x6F, 0x63, 0x69, 0x56, 0x65, 0x72, 0x73, 0x69, 0x6F, 0x6E, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]))
        for data in documents {
            let label = String(decoding: data, as: UTF8.self)
            XCTAssertNil(FastDecoding.spec(from: Array(data)), "fast path accepted \(label)")
            switch (Result { try Spec.decode(from: data) }, Result { try DocumentDecoding.decode(Spec.self, from: data, document: "config.json") }) {
            case (.success(let fast), .success(let slow)): XCTAssertEqual(fast, slow, label)
            case (.failure(let fast), .failure(let slow)): XCTAssertEqual("\(fast)", "\(slow)", label)
            default: XCTFail("public decode and the JSONDecoder path disagree on \(label)")
            }
        }
    }

    /// Objects past `JSONObject.indexThreshold` members are looked up through a hash
    /// index; they must read the same, and a duplicate key still makes the fast path
    /// give up.
    func testLargeObjects() throws {
        let entries = (0..<100).map { #""key\#($0)": "v\#($0)""# }.joined(separator: ", ")
        let unknown = (0..<100).map { #""x\#($0)": \#($0)"# }.joined(separator: ", ")
        let json = #"{\#(unknown), "annotations": {\#(entries)}, "ociVersion": "1.2.0", "root": {\#(unknown), "path": "r"}}"#
        let spec = try XCTUnwrap(assertFastDecodes(Data(json.utf8)))
        XCTAssertEqual(spec.annotations?.count, 100)
        XCTAssertEqual(spec.annotations?["key99"], "v99")
        XCTAssertEqual(spec.root, Root(path: "r"))
        let duplicate = #"{"ociVersion": "1.2.0", "annotations": {\#(entries), "key7": "again"}}"#
        XCTAssertNil(FastDecoding.spec(from: Array(duplicate.utf8)))
        XCTAssertEqual(try Spec.decode(from: Data(duplicate.utf8)), try JSONDecoder().decode(Spec.self, from: Data(duplicate.utf8)))
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

    private func slowPathError(_ data: Data) -> String? {
        do {
            _ = try DocumentDecoding.decode(Spec.self, from: data, document: "config.json")
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
