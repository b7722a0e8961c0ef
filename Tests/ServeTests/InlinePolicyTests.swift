import Foundation
@testable import Serve
import XCTest

/// A create's policy as a document: which requests carry one, the fields kept from
/// clients, the 403 of --no-inline-policy, and how the reader's errors are named.
final class InlinePolicyTests: XCTestCase {
    func testNamesAreNotInlineAndObjectsAre() throws {
        XCTAssertNil(try InlinePolicy.from(JSONObject(["policy": "default"]), allowed: true))
        XCTAssertNil(try InlinePolicy.from(JSONObject([:]), allowed: true))
        let inline = try XCTUnwrap(InlinePolicy.from(JSONObject(["policy": ["limits": ["pids": 64]]]), allowed: true))
        let back = try JSONSerialization.jsonObject(with: inline.document) as? [String: Any]
        XCTAssertEqual((back?["limits"] as? [String: Any])?["pids"] as? Int, 64)
        XCTAssertThrowsError(try InlinePolicy.from(JSONObject(["policy": [1, 2]]), allowed: true)) {
            XCTAssertTrue(($0 as? APIError)?.message.hasPrefix("policy: ") == true, "\($0)")
        }
    }

    func testRefusedWithTheFlag() throws {
        XCTAssertFalse(try ServeOptions(arguments: ["--no-inline-policy"]).allowInlinePolicy)
        XCTAssertTrue(try ServeOptions(arguments: []).allowInlinePolicy)
        XCTAssertThrowsError(try InlinePolicy.from(JSONObject(["policy": [String: Any]()]), allowed: false)) {
            XCTAssertEqual(($0 as? APIError)?.status, .forbidden)
        }
        // A name is still taken.
        XCTAssertNil(try InlinePolicy.from(JSONObject(["policy": "web"]), allowed: false))
    }

    func testHostFieldsAreRefusedByName() {
        for (document, field) in [(["filesystem": ["input": "/"]], "policy.filesystem.input"),
                                  (["secrets": [[String: Any]]()], "policy.secrets"),
                                  (["network": ["decider": "exec:/bin/true"]], "policy.network.decider"),
                                  (["user": ["uid": 0]], "policy.user"),
                                  (["backend": "gvisor"], "policy.backend")] as [([String: Any], String)] {
            XCTAssertThrowsError(try InlinePolicy.from(JSONObject(["policy": document]), allowed: true)) {
                XCTAssertTrue(($0 as? APIError)?.message.hasPrefix(field + ": ") == true, "\($0)")
            }
        }
        XCTAssertNoThrow(try InlinePolicy.from(JSONObject(["policy": ["filesystem": ["scratch": "64Mi"],
                                                                                "network": ["allow": ["example.com:443"]]]]), allowed: true))
    }

    func testReaderErrorsNameTheFieldWithoutThePath() {
        let path = "/run/safehouse-serve/sbx-1/policy.json"
        let field = InlinePolicy.error("agent spec: policy \(path): limits.memory: not a size (use 512Mi)", path: path)
        XCTAssertEqual(field.message, "policy.limits.memory: not a size (use 512Mi)")
        XCTAssertEqual(field.status, .badRequest)
        let whole = InlinePolicy.error("agent spec: policy \(path): extends: no such profile", path: path)
        XCTAssertEqual(whole.message, "policy.extends: no such profile")
        let other = InlinePolicy.error("agent spec: cannot read \(path): denied", path: path)
        XCTAssertEqual(other.message, "policy: cannot read the inline policy: denied")
    }
}
