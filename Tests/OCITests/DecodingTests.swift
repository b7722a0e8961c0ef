import FoundationEssentials
import XCTest
@testable import OCI

final class DecodingTests: XCTestCase {
    private let minimal = #"""
    {"ociVersion": "1.0.0", "root": {"path": "rootfs"},
     "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"}}
    """#

    func testMinimalConfigDecodesAndValidates() throws {
        let spec = try decodeSpec(minimal)
        XCTAssertEqual(spec.ociVersion, "1.0.0")
        XCTAssertEqual(spec.root, Root(path: "rootfs"))
        XCTAssertEqual(spec.process?.args, ["sh"])
        XCTAssertEqual(spec.process?.user, User(uid: 0, gid: 0))
        XCTAssertNil(spec.process?.terminal)
        XCTAssertNil(spec.linux)
        XCTAssertNil(spec.mounts)
        XCTAssertNoThrow(try spec.validate())
    }

    func testDecodesFromBytes() throws {
        XCTAssertEqual(try Spec.decode(from: Array(minimal.utf8)), try decodeSpec(minimal))
    }

    func testUnknownPropertiesAreIgnoredEverywhere() throws {
        let json = #"""
        {"ociVersion": "1.2.0", "future": {"x": [1, 2]}, "windows": {"layerFolders": []},
         "root": {"path": "rootfs", "shiny": true},
         "process": {"user": {"uid": 1, "gid": 2, "sid": "S-1"}, "args": ["sh"], "cwd": "/", "extra": null},
         "linux": {"namespaces": [{"type": "pid", "flavour": "mint"}], "memoryPolicy": {"mode": "MPOL_BIND"}}}
        """#
        let spec = try decodeSpec(json)
        XCTAssertEqual(spec.process?.user, User(uid: 1, gid: 2))
        XCTAssertEqual(spec.linux?.namespaces, [LinuxNamespace(type: .pid)])
    }

    func testMalformedJSONNamesLineAndColumn() throws {
        let error = try XCTUnwrap(decodingError("{\n  \"ociVersion\": \"1.0.0\",,\n}"))
        XCTAssertEqual(error.field, "")
        XCTAssertEqual(error.description, "config.json is not valid JSON: expected a property name in double quotes, found ',' at line 2, column 25")
    }

    func testEmptyAndTruncatedDocuments() throws {
        XCTAssertEqual(decodingError("")?.description, "config.json is not valid JSON: unexpected end of data at line 1, column 1")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0"#)?.message, "config.json is not valid JSON: unterminated string at line 1, column 16")
        XCTAssertEqual(decodingError("{} x")?.message, "config.json is not valid JSON: unexpected 'x' after the end of the document at line 1, column 4")
    }

    func testTopLevelMustBeAnObject() {
        XCTAssertEqual(decodingError("[]")?.description, "config.json must be a JSON object, found an array")
    }

    func testWrongTypeNamesTheField() {
        let error = decodingError(#"{"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}, "args": [1], "cwd": "/"}}"#)
        XCTAssertEqual(error?.field, "process.args[0]")
        XCTAssertEqual(error?.message, "expected a string, found a number")
        XCTAssertEqual(decodingError(#"{"ociVersion": 1}"#)?.description, "ociVersion: expected a string, found a number")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "mounts": {}}"#)?.description, "mounts: expected an array, found an object")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "root": {"path": "r", "readonly": "yes"}}"#)?.description, "root.readonly: expected true or false, found a string")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "linux": {"sysctl": {"net.ipv4.ip_forward": 1}}}"#)?.description, #"linux.sysctl["net.ipv4.ip_forward"]: expected a string, found a number"#)
    }

    func testNumbersOutOfRangeNameTheField() {
        let negative = decodingError(#"{"ociVersion": "1.0.0", "process": {"user": {"uid": -1, "gid": 0}, "cwd": "/"}}"#)
        XCTAssertEqual(negative?.description, "process.user.uid: expected an integer between 0 and 4294967295, found -1")
        let fraction = decodingError(#"{"ociVersion": "1.0.0", "linux": {"resources": {"pids": {"limit": 1.5}}}}"#)
        XCTAssertEqual(fraction?.field, "linux.resources.pids.limit")
        // Memory limits are Int64: -1 (unlimited) is valid.
        XCTAssertNoThrow(try Spec.decode(from: Data(#"{"ociVersion": "1.0.0", "linux": {"resources": {"memory": {"limit": -1}}}}"#.utf8)))
    }

    func testMissingRequiredPropertiesAreNamed() {
        XCTAssertEqual(decodingError("{}")?.description, "ociVersion: is required")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "process": {"args": ["sh"], "cwd": "/"}}"#)?.description, "process.user: is required")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "process": {"user": {"uid": 0, "gid": 0}}}"#)?.description, "process.cwd: is required")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "mounts": [{"type": "tmpfs"}]}"#)?.description, "mounts[0].destination: is required")
        XCTAssertEqual(decodingError(#"{"ociVersion": "1.0.0", "root": {"path": null}}"#)?.description, "root.path: must not be null")
    }

    func testNullOptionalsDecodeAsAbsent() throws {
        let spec = try decodeSpec(#"{"ociVersion": "1.0.0", "hostname": null, "linux": {"namespaces": null}}"#)
        XCTAssertNil(spec.hostname)
        XCTAssertNil(spec.linux?.namespaces)
    }

    func testUnknownEnumValuesNameTheAllowedOnes() {
        let error = decodingError(#"{"ociVersion": "1.0.0", "linux": {"namespaces": [{"type": "pid"}, {"type": "foo"}]}}"#)
        XCTAssertEqual(error?.field, "linux.namespaces[1].type")
        XCTAssertEqual(error?.message, #"unknown namespace type "foo" (expected one of pid, network, mount, ipc, uts, user, cgroup, time)"#)
        let action = decodingError(#"{"ociVersion": "1.0.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_NOPE"}}}"#)
        XCTAssertEqual(action?.field, "linux.seccomp.defaultAction")
        XCTAssertTrue(action?.message.hasPrefix(#"unknown seccomp action "SCMP_ACT_NOPE""#) ?? false)
        let op = decodingError(#"{"ociVersion": "1.0.0", "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}}}"#)
        XCTAssertEqual(op?.field, "linux.seccomp.syscalls[0].args[0].op")
    }

    func testOversizedDocumentIsRefusedBeforeParsing() {
        var bytes = Array("{\"ociVersion\": \"1.0.0\", \"annotations\": {\"a\": \"".utf8)
        bytes += Array(repeating: UInt8(ascii: "x"), count: Spec.maximumDocumentSize)
        bytes += Array("\"}}".utf8)
        XCTAssertThrowsError(try Spec.decode(from: Data(bytes))) { error in
            XCTAssertEqual((error as? OCIError)?.description, "config.json is larger than 16 MiB")
        }
    }

    func testHostileStringsCannotForgeASecondLine() {
        let error = decodingError(#"{"ociVersion": "1.0.0", "linux": {"namespaces": [{"type": "x\nsafehouse: fine"}]}}"#)
        XCTAssertEqual(error?.description.contains("\n"), false)
    }

    func testEncodedJSONRoundTripsWithSortedKeysAndPlainSlashes() throws {
        let spec = Spec.runcDefault(rootless: false)
        let text = String(decoding: spec.encodedJSON(), as: UTF8.self)
        XCTAssertTrue(text.contains(#""destination" : "/proc""#), text)
        let ociVersion = try XCTUnwrap(text.range(of: "\"ociVersion\""))
        let linux = try XCTUnwrap(text.range(of: "\"linux\""))
        XCTAssertLessThan(linux.lowerBound, ociVersion.lowerBound, "keys are sorted")
        XCTAssertEqual(try Spec.decode(from: spec.encodedJSON()), spec)
    }

    func testIOPriorityClassKeyRoundTrips() throws {
        let json = #"{"ociVersion": "1.2.0", "process": {"user": {"uid": 0, "gid": 0}, "cwd": "/", "ioPriority": {"class": "IOPRIO_CLASS_BE", "priority": 4}}}"#
        let spec = try decodeSpec(json)
        XCTAssertEqual(spec.process?.ioPriority, LinuxIOPriority(class: .bestEffort, priority: 4))
        XCTAssertTrue(String(decoding: spec.encodedJSON(), as: UTF8.self).contains(#""class" : "IOPRIO_CLASS_BE""#))
    }
}

final class StateAndFeaturesTests: XCTestCase {
    func testStateRoundTrips() throws {
        let state = State(id: "c1", status: .running, pid: 42, bundle: "/b", annotations: ["k": "v"])
        let text = String(decoding: state.encodedJSON(), as: UTF8.self)
        XCTAssertEqual(text, #"{"annotations":{"k":"v"},"bundle":"/b","id":"c1","ociVersion":"1.2.0","pid":42,"status":"running"}"#)
        XCTAssertEqual(try State.decode(from: state.encodedJSON()), state)
    }

    func testStoppedStateOmitsPid() {
        let text = String(decoding: State(id: "c", status: .stopped, bundle: "/b").encodedJSON(), as: UTF8.self)
        XCTAssertFalse(text.contains("pid"))
    }

    func testStateErrorsNameTheField() {
        XCTAssertThrowsError(try State.decode(from: Data(#"{"ociVersion": "1.2.0", "id": "c", "status": "zombie", "bundle": "/b"}"#.utf8))) { error in
            XCTAssertEqual((error as? OCIError)?.description, #"status: unknown container status "zombie" (expected one of creating, created, running, stopped, paused)"#)
        }
        XCTAssertThrowsError(try State.decode(from: Data("nope".utf8))) { error in
            XCTAssertTrue((error as? OCIError)?.message.hasPrefix("state is not valid JSON") ?? false, "\(error)")
        }
    }

    func testFeaturesCodableRoundTrip() throws {
        let features = Features(
            ociVersionMin: "1.0.0", ociVersionMax: "1.2.0",
            hooks: ["prestart", "createRuntime"], mountOptions: ["ro", "rbind"],
            linux: Features.Linux(
                namespaces: ["pid", "mount"], capabilities: ["CAP_KILL"],
                cgroup: Features.Cgroup(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false),
                seccomp: Features.Seccomp(enabled: true, actions: ["SCMP_ACT_ALLOW"], operators: ["SCMP_CMP_EQ"], archs: ["SCMP_ARCH_X86_64"], knownFlags: [], supportedFlags: []),
                apparmor: Features.Apparmor(enabled: false), selinux: Features.Selinux(enabled: false),
                intelRdt: Features.IntelRdt(enabled: false),
                mountExtensions: Features.MountExtensions(idmap: Features.IDMap(enabled: true))),
            annotations: ["io.safehouse.version": "0.1"])
        // `features` prints it in runc's member order (OrderedJSON, cli.bats); here its
        // Codable keys must read back what they wrote.
        let data = try JSONEncoder().encode(features)
        XCTAssertTrue(String(decoding: data, as: UTF8.self).contains(#""idmap":{"#))
        XCTAssertEqual(try JSONDecoder().decode(Features.self, from: data), features)
    }
}

final class VocabularyTests: XCTestCase {
    /// The vocabulary's own init(from:) must win over the standard library's
    /// RawRepresentable one, so that JSONDecoder, the tests' oracle, reports the allowed
    /// values as `Spec.decode` does.
    func testJSONDecoderUsesTheVocabularyMessage() {
        XCTAssertThrowsError(try JSONDecoder().decode(LinuxNamespace.self, from: Data(#"{"type": "foo"}"#.utf8))) { error in
            XCTAssertEqual((error as? OCIError)?.field, "type", "\(error)")
        }
    }

    func testRawValuesAreTheSpecStrings() {
        XCTAssertEqual(LinuxNamespaceType.allCases.map(\.rawValue), ["pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"])
        XCTAssertEqual(LinuxSeccompAction.allCases.map(\.rawValue), [
            "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO",
            "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY",
        ])
        XCTAssertEqual(LinuxSeccompOperator.allCases.map(\.rawValue), [
            "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
        ])
        XCTAssertEqual(ContainerStatus.allCases.map(\.rawValue), ["creating", "created", "running", "stopped", "paused"])
    }
}
