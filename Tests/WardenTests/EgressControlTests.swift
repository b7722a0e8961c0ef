@testable import Egress
import NIOCore
import NIOEmbedded
import SandboxInterface
@testable import Warden
import XCTest

/// The warden's control channel: the protocol's lines both ways, and the handler
/// applying requests to the rules the proxy judges by.
final class EgressControlTests: XCTestCase {
    func testRequestLinesRoundTripAndBadOnesAreNamed() throws {
        let r = EgressControl.Request(.allow, rules: ["other.test", "*.pkg.test:443"])
        XCTAssertEqual(r.line, #"{"op":"allow","rules":["other.test","*.pkg.test:443"]}"#)
        XCTAssertEqual(try EgressControl.Request(line: Array(r.line.utf8)), r)
        XCTAssertEqual(EgressControl.Request(.rules).line, #"{"op":"rules"}"#)
        func problem(_ line: String) -> String {
            do { _ = try EgressControl.Request(line: Array(line.utf8)); return "" } catch { return "\(error)" }
        }
        XCTAssertEqual(problem("nope"), "a request is one JSON object on a line")
        XCTAssertEqual(problem(#"{"op":"grant"}"#), #"op: "grant" is not one of allow, deny, rules, stats"#)
        XCTAssertEqual(problem(#"{"op":"deny","rules":[]}"#), "rules: deny needs a list of at least one rule")
        XCTAssertEqual(problem(#"{}"#), "op: missing (one of allow, deny, rules, stats)")
        let relayed = EgressControl.Request(.deny, rules: ["x.test"], onBehalfOf: "api unix uid 1000 pid 7")
        XCTAssertEqual(relayed.line, #"{"op":"deny","rules":["x.test"],"onBehalfOf":"api unix uid 1000 pid 7"}"#)
        XCTAssertEqual(try EgressControl.Request(line: Array(relayed.line.utf8)), relayed)
        XCTAssertEqual(problem(#"{"op":"allow","rules":["x.test"],"onBehalfOf":""}"#),
                       "onBehalfOf: a line of 1 to 200 characters without control characters")
    }

    func testAnswerLinesRoundTrip() throws {
        var a = EgressControl.Answer()
        a.changes = ["added allow other.test"]
        a.rules = [EgressControl.Rule(rule: "www.test", effect: "allow", source: "policy")]
        XCTAssertEqual(a.line, #"{"ok":true,"changes":["added allow other.test"],"rules":[{"rule":"www.test","effect":"allow","source":"policy"}]}"#)
        XCTAssertEqual(try EgressControl.Answer(line: Array(a.line.utf8)), a)
        var s = EgressControl.Answer()
        var stats = EgressControl.Stats()
        stats.allowed = 2; stats.denied = 3; stats.bytesUp = 10; stats.bytesDown = 20
        s.stats = stats
        XCTAssertEqual(try EgressControl.Answer(line: Array(s.line.utf8)), s)
        let e = EgressControl.Answer(error: "rule \"a b\": bad")
        XCTAssertEqual(e.line, #"{"ok":false,"error":"rule \"a b\": bad"}"#)
        XCTAssertEqual(try EgressControl.Answer(line: Array(e.line.utf8)).error, "rule \"a b\": bad")
    }

    func shared() throws -> EgressShared {
        try EgressShared(configuration: EgressProxy.Configuration(allowlist: try Allowlist(annotation: "www.test"), listener: -1),
                         audit: EgressAuditLog(path: nil))
    }

    func ask(_ channel: EmbeddedChannel, _ line: String) throws -> EgressControl.Answer {
        try channel.writeInbound(ByteBuffer(string: line + "\n"))
        var text = ""
        while var b = try channel.readOutbound(as: ByteBuffer.self) { text += b.readString(length: b.readableBytes) ?? "" }
        XCTAssertTrue(text.hasSuffix("\n"), text)
        return try EgressControl.Answer(line: Array(text.dropLast().utf8))
    }

    func testHandlerChangesTheRulesTheNextConnectionIsJudgedBy() throws {
        let shared = try shared()
        let channel = EmbeddedChannel(handler: EgressControlHandler(shared: shared))
        let allowed = try ask(channel, EgressControl.Request(.allow, rules: ["other.test"]).line)
        XCTAssertNil(allowed.error)
        XCTAssertEqual(allowed.changes, ["added allow other.test"])
        XCTAssertEqual(allowed.rules?.map(\.line), ["allow www.test (policy)", "allow other.test (uid \(UInt32.max) pid 0)"])
        if case .denied = shared.allowlist.admit(.name("other.test"), port: 80) { XCTFail("other.test still refused") }
        let denied = try ask(channel, EgressControl.Request(.deny, rules: ["www.test"]).line)
        XCTAssertEqual(denied.changes, ["removed allow www.test"])
        guard case .denied = shared.allowlist.admit(.name("www.test"), port: 80) else { return XCTFail("www.test still allowed") }
        XCTAssertEqual(try ask(channel, #"{"op":"rules"}"#).rules?.map(\.rule), ["other.test"])
        XCTAssertEqual(try ask(channel, #"{"op":"stats"}"#).stats, EgressControl.Stats())
    }

    func testAMalformedRuleChangesNothingAndIsNamed() throws {
        let shared = try shared()
        let channel = EmbeddedChannel(handler: EgressControlHandler(shared: shared))
        let answer = try ask(channel, EgressControl.Request(.allow, rules: ["ok.test", "bad host"]).line)
        XCTAssertEqual(answer.error, #"rule "bad host": not a host name (letters, digits, '-', '.'; a wildcard only as a leading "*.")"#)
        XCTAssertEqual(shared.allowlist.rules.map(\.text), ["www.test"])
    }

    func testTheAuditRecordNamesWhoAsked() {
        let details = EgressControlHandler.auditDetails(.allow, [EgressRuleBook.Change(kind: .added, effect: .allow, rule: "x.test")],
                                                        (uid: 0, pid: 42, command: "safehouse agent allow id x.test"))
        XCTAssertEqual(details, #"{"op":"allow","changes":["added allow x.test"],"by":{"uid":0,"pid":42,"command":"safehouse agent allow id x.test"}}"#)
        let relayed = EgressControlHandler.auditDetails(.deny, [], (uid: 0, pid: 9, command: "safehouse-serve"), onBehalfOf: "api tcp 127.0.0.1:5000")
        XCTAssertEqual(relayed, #"{"op":"deny","changes":[],"by":{"uid":0,"pid":9,"command":"safehouse-serve","onBehalfOf":"api tcp 127.0.0.1:5000"}}"#)
    }
}

/// An HTTP decider's answer, read by the warden.
final class DeciderAnswerTests: XCTestCase {
    func verdict(_ text: String) -> DeciderVerdict { DeciderVerdict.parse(httpAnswer: Array(text.utf8), from: "decider d") }

    func testA200WithAllowAndReason() {
        XCTAssertEqual(verdict("HTTP/1.0 200 OK\r\nContent-Length: 30\r\n\r\n{\"allow\":true,\"reason\":\"ok\"}"),
                       DeciderVerdict(allowed: true, reason: "ok"))
        XCTAssertEqual(verdict("HTTP/1.1 200 OK\r\n\r\n{\"allow\":false}"), DeciderVerdict(allowed: false, reason: ""))
    }

    func testAnythingElseIsARefusalSayingWhy() {
        XCTAssertEqual(verdict("HTTP/1.1 404 Not Found\r\n\r\nnope"), .failure("decider d answered 404 Not Found"))
        XCTAssertEqual(verdict("HTTP/1.1 200 OK\r\n\r\n{\"allow\":\"yes\"}"), .failure(#"decider d: the answer is not {"allow":true|false,"reason":...}"#))
        XCTAssertEqual(verdict("garbage"), .failure("decider d: not an HTTP answer"))
    }

    func testTheRecordOfADecisionNamesTheDecider() {
        var record = EgressRecord()
        XCTAssertEqual(try record.decided(by: DeciderVerdict(allowed: true, reason: "fine"), .name("x.test"), port: 443).get().text, "x.test:443")
        XCTAssertEqual(record.rule, "decider")
        XCTAssertEqual(record.decider, "allow")
        XCTAssertEqual(record.reason, "allowed by the decider: fine")
        var refused = EgressRecord()
        guard case .failure(let why) = refused.decided(by: .failure("the decider gave no answer within 2s"), .name("x.test"), port: 80) else {
            return XCTFail()
        }
        XCTAssertEqual(why.description, "x.test port 80 matches no rule and the decider did not answer: the decider gave no answer within 2s")
        XCTAssertEqual(refused.decider, "error")
        XCTAssertTrue(refused.jsonLine.contains(#""decider":"error""#))
    }
}
