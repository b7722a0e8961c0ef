import Foundation
@testable import Serve
import XCTest

/// A client as a sandbox's decider and the network routes' field checks, without a
/// runtime: the spec's annotation, the create's fields, the questions' life.
final class ClientDecidersTests: XCTestCase {
    func spec(_ annotations: [String: String]) throws -> Data {
        try JSONSerialization.data(withJSONObject: ["ociVersion": "1.0.2", "annotations": annotations])
    }

    func testTheSpecNamesTheServiceAsItsDecider() throws {
        let patched = try SandboxStore.withClientDecider(spec(["io.safehouse.network.allow": "a.test"]),
                                                         directory: "/var/lib/s/sbx-1", timeout: 7.5)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: patched) as? [String: Any])
        let annotations = try XCTUnwrap(object["annotations"] as? [String: String])
        XCTAssertEqual(annotations["io.safehouse.network.decider"], "unix:/var/lib/s/sbx-1/decider.sock")
        XCTAssertEqual(annotations["io.safehouse.network.deciderTimeout"], "7.5")
        XCTAssertThrowsError(try SandboxStore.withClientDecider(spec([:]), directory: "/d", timeout: 1)) {
            XCTAssertEqual("\($0)", "decider: the policy has no egress (its network.allow is empty): there is nothing to decide")
        }
        let own = try spec(["io.safehouse.network.allow": "a.test", "io.safehouse.network.decider": "exec:/bin/d"])
        XCTAssertThrowsError(try SandboxStore.withClientDecider(own, directory: "/d", timeout: 1)) {
            XCTAssertEqual("\($0)", "decider: the policy names its own network.decider")
        }
    }

    func testCreateFields() throws {
        XCTAssertNil(try Routes.clientDecider(JSONObject([:])))
        XCTAssertEqual(try Routes.clientDecider(JSONObject(["decider": "client"])), ClientDeciders.defaultTimeout)
        XCTAssertEqual(try Routes.clientDecider(JSONObject(["decider": "client", "deciderTimeout": 2])), 2)
        func problem(_ body: [String: Any]) -> String {
            do { _ = try Routes.clientDecider(JSONObject(body)); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(problem(["decider": "human"]).hasPrefix("decider: \"human\" is not \"client\""))
        XCTAssertTrue(problem(["deciderTimeout": 2]).hasPrefix("deciderTimeout: only with"))
        XCTAssertTrue(problem(["decider": "client", "deciderTimeout": 0]).hasPrefix("deciderTimeout: "))
        XCTAssertTrue(problem(["decider": "client", "deciderTimeout": 301]).hasPrefix("deciderTimeout: "))
    }

    func testRulesAreCheckedByThePolicysParser() throws {
        XCTAssertEqual(try SandboxEgress.rules(JSONObject(["rules": ["a.test", "*.b.test:443", "10.0.0.0/8"]])),
                       ["a.test", "*.b.test:443", "10.0.0.0/8"])
        func problem(_ body: [String: Any]) -> String {
            do { _ = try SandboxEgress.rules(JSONObject(body)); return "" } catch { return "\(error)" }
        }
        XCTAssertTrue(problem([:]).hasPrefix("rules: missing"))
        XCTAssertTrue(problem(["rules": []]).hasPrefix("rules: must be a non-empty list"))
        XCTAssertTrue(problem(["rules": "a.test"]).hasPrefix("rules: must be a non-empty list"))
        XCTAssertEqual(problem(["rules": ["a.test", 1]]), "rules[1]: must be a string")
        XCTAssertTrue(problem(["rules": ["a b"]]).hasPrefix("rules[0]: \"a b\": "), problem(["rules": ["a b"]]))
    }

    func testAQuestionIsPublishedAnsweredOnceAndRemembered() throws {
        let directory = NSTemporaryDirectory() + "deciders-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let events = EventHub()
        let deciders = ClientDeciders(events: events)
        XCTAssertNil(deciders.ask("sbx-1", host: "x.test", port: 80) { _, _ in })
        try deciders.listen("sbx-1", directory: directory, timeout: 5)
        defer { deciders.close("sbx-1") }
        var st = stat()
        XCTAssertEqual(stat(directory + "/decider.sock", &st), 0)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)

        var replies: [(Bool, String)] = []
        let rid = try XCTUnwrap(deciders.ask("sbx-1", host: "x.test", port: 443) { replies.append(($0, $1)) })
        XCTAssertEqual(deciders.pending("sbx-1").map(\.host), ["x.test"])
        XCTAssertEqual(events.kept("sbx-1", after: nil).map(\.type), ["egress_decision_needed"])
        XCTAssertThrowsError(try deciders.answer("sbx-2", rid, allow: true, reason: "", by: "api")) {
            XCTAssertEqual(($0 as? APIError)?.code, "not_found")
        }
        let answer = try deciders.answer("sbx-1", rid, allow: true, reason: "docs", by: "api unix uid 0 pid 1")
        XCTAssertEqual(answer.allow, true)
        XCTAssertEqual(replies.first?.0, true)
        XCTAssertEqual(replies.first?.1, "docs (answered by api unix uid 0 pid 1)")
        XCTAssertThrowsError(try deciders.answer("sbx-1", rid, allow: false, reason: "", by: "api")) {
            XCTAssertEqual(($0 as? APIError)?.code, "conflict")
        }
        XCTAssertEqual(deciders.pending("sbx-1").count, 0)

        let late = try XCTUnwrap(deciders.ask("sbx-1", host: "y.test", port: 0) { _, _ in XCTFail("an expired question was answered") })
        deciders.expire(late, because: "no answer")
        XCTAssertThrowsError(try deciders.answer("sbx-1", late, allow: true, reason: "", by: "api")) {
            XCTAssertEqual("\($0)", "decision request \(late) was already expired")
        }
        XCTAssertEqual(events.kept("sbx-1", after: nil).map(\.type),
                       ["egress_decision_needed", "egress_decision_answered", "egress_decision_needed", "egress_decision_expired"])
    }
}
