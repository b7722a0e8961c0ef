import XCTest
import SandboxInterface
@testable import Warden

/// The warden's configuration document: what the launcher writes is what the warden
/// reads, and each field the warden cannot use is named.
final class WardenConfigurationTests: XCTestCase {
    func decode(_ json: String, stateDirectory: String = "/run/s/x") throws -> WardenConfiguration {
        try WardenConfiguration(document: Array(json.utf8), stateDirectory: stateDirectory)
    }

    func testRoundTrip() throws {
        var c = WardenConfiguration(stateDirectory: "/run/s/x", initPid: 42, timeoutSeconds: 1.5, cgroupPaths: ["/a", "/b"])
        XCTAssertEqual(try decode(String(decoding: c.document, as: UTF8.self)), c)
        c.ownerPid = 77
        c.socksListener = 4
        c.captureListeners = [5, 6]
        c.dnsSocket = 7
        c.egressAllow = "www.test,*.example.com:443"
        c.egressHosts = "/etc/hosts.egress"
        c.egressMaximumBytes = 1 << 40
        c.egressMaximumConnections = 9
        c.egressIdleTimeout = 0.25
        c.egressCACertificate = "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n"
        c.egressCAKey = "-----BEGIN PRIVATE KEY-----\nBB\n-----END PRIVATE KEY-----\n"
        c.egressUpstreamCA = "/etc/corp/ca.pem"
        c.audit = AuditDestination(path: "/var/log/s/a \"quoted\".jsonl", key: "/k", id: "a")
        c.recordExit = true
        c.readyFD = 9
        XCTAssertEqual(try decode(String(decoding: c.document, as: UTF8.self)), c)
        XCTAssertEqual(c.egressDescriptors, [4, 5, 6, 7])
    }

    func testMinimal() throws {
        let c = try decode(#"{"pid":3}"#)
        XCTAssertEqual(c, WardenConfiguration(stateDirectory: "/run/s/x", initPid: 3, timeoutSeconds: nil, cgroupPaths: []))
        XCTAssertNil(c.audit)
        XCTAssertFalse(c.recordExit)
        XCTAssertNil(c.ownerPid)
    }

    func testEachBadFieldIsNamed() {
        let together = "configuration: egressAllow and the egress descriptors (egressFD, socksFD, captureFDs, dnsFD) go together"
        for (json, message) in [
            ("[]", "configuration: not a JSON object"),
            ("{}", "configuration: pid is required"),
            (#"{"pid":0}"#, "configuration: pid: not a process id"),
            (#"{"pid":"3"}"#, "configuration: pid: not a process id"),
            (#"{"pid":3,"timeoutSeconds":-1}"#, "configuration: timeoutSeconds: not a positive number of seconds"),
            (#"{"pid":3,"cgroupPaths":"/a"}"#, "configuration: cgroupPaths: not a list of paths"),
            (#"{"pid":3,"ownerPid":"me"}"#, "configuration: ownerPid: not a process id"),
            (#"{"pid":3,"dnsFD":7}"#, together),
            (#"{"pid":3,"egressAllow":"www.test"}"#, together),
            (#"{"pid":3,"captureFDs":[2],"egressAllow":"w.test"}"#, "configuration: captureFDs: not a list of descriptors"),
            (#"{"pid":3,"socksFD":"x","egressAllow":"w.test"}"#, "configuration: socksFD: not a descriptor"),
            (#"{"pid":3,"socksFD":4,"egressAllow":"w.test","egressMaxBytes":-1}"#, "configuration: egressMaxBytes: not a number of bytes"),
            (#"{"pid":3,"socksFD":4,"egressAllow":"w.test","egressMaxConnections":0}"#, "configuration: egressMaxConnections: not a positive number"),
            (#"{"pid":3,"socksFD":4,"egressAllow":"w.test","egressIdleTimeout":0}"#, "configuration: egressIdleTimeout: not a positive number of seconds"),
            (#"{"pid":3,"audit":"/l"}"#, "configuration: auditID is required with audit"),
            (#"{"pid":3,"audit":"","auditID":"a"}"#, "configuration: audit: an empty path"),
            (#"{"pid":3,"audit":7,"auditID":"a"}"#, "configuration: audit: not a string"),
            (#"{"pid":3,"auditID":"a"}"#, "configuration: auditID needs audit"),
            (#"{"pid":3,"auditKey":"/k"}"#, "configuration: auditKey needs audit"),
            (#"{"pid":3,"recordExit":true}"#, "configuration: recordExit needs audit"),
            (#"{"pid":3,"recordExit":1}"#, "configuration: recordExit: not true or false"),
            (#"{"pid":3,"readyFD":1}"#, "configuration: readyFD: not a descriptor"),
            (#"{"pid":3,"egressCACertificate":"x"}"#, "configuration: egressCACertificate and egressCAKey go together"),
            (#"{"pid":3,"egressCAKey":7}"#, "configuration: egressCAKey: not a string"),
        ] {
            XCTAssertThrowsError(try decode(json), json) { XCTAssertEqual("\($0)", message, json) }
        }
        XCTAssertThrowsError(try decode(#"{"pid":3}"#, stateDirectory: "")) {
            XCTAssertEqual("\($0)", "configuration: --state-dir is required")
        }
    }
}

/// The warden's report: what the warden writes is what `agent run` and `delete` read.
final class WardenReportTests: XCTestCase {
    func testRoundTripAndText() throws {
        var r = WardenReport(reason: .timeout)
        r.oomKills = 2
        r.timeoutMilliseconds = 1500
        XCTAssertEqual(r.document, #"{"reason":"timeout","oomKills":2,"pidsLimitHits":0,"timeoutMilliseconds":1500}"# + "\n")
        XCTAssertEqual(WardenReport(document: Array(r.document.utf8)), r)
        r.dnsSuspicious = 3
        r.egressQuotaSpent = true
        r.exit = .signaled(9)
        r.exitRecorded = true
        r.egressDropped = 51
        r.auditFailure = "safehouse: audit: /l: torn"
        XCTAssertEqual(r.document, #"{"reason":"timeout","oomKills":2,"pidsLimitHits":0,"timeoutMilliseconds":1500,"dnsSuspicious":3,"#
            + #""egressQuotaSpent":true,"exitCode":137,"exitSignal":9,"exitRecorded":true,"egressDropped":51,"auditFailure":"safehouse: audit: /l: torn"}"# + "\n")
        XCTAssertEqual(WardenReport(document: Array(r.document.utf8)), r)
        var unknown = WardenReport(reason: .abandoned)
        unknown.exitUnknown = "no record"
        XCTAssertEqual(WardenReport(document: Array(unknown.document.utf8)), unknown)
        var exited = WardenReport(reason: .exited)
        exited.exit = .exited(3)
        XCTAssertEqual(WardenReport(document: Array(exited.document.utf8)), exited)
    }

    func testNotAReport() {
        XCTAssertNil(WardenReport(document: Array("[]".utf8)))
        XCTAssertNil(WardenReport(document: Array(#"{"reason":"bored"}"#.utf8)))
    }
}
