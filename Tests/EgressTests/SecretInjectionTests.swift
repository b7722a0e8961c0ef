@testable import Egress
import XCTest

/// The proxy's handling of a plain HTTP request's head with secrets: the value in for
/// its hosts, a refusal for any other, nothing changed without a placeholder.
final class SecretInjectionTests: XCTestCase {
    let placeholder = "safehouse-secret-0123456789abcdef0123456789abcdef"

    func secret(header: String? = nil, hosts: [String] = ["api.test"]) throws -> EgressSecret {
        EgressSecret(name: "API_KEY", placeholder: placeholder, hosts: try hosts.map(AllowRule.init), header: header, value: Array("s3cr3t".utf8))
    }

    func head(_ lines: String...) -> [UInt8] { Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) }

    func apply(_ head: [UInt8], body: String = "", to host: String, _ secrets: [EgressSecret]) -> Result<(head: [UInt8], injected: [String]), EgressDenial> {
        SecretInjection.apply(head: head, body: Array(body.utf8), to: Allowlist.Destination(host: host)!, secrets: secrets)
    }

    func text(_ result: Result<(head: [UInt8], injected: [String]), EgressDenial>) -> String {
        switch result {
        case .success(let r): return String(decoding: r.head, as: UTF8.self)
        case .failure(let d): return "refused: \(d)"
        }
    }

    func testThePlaceholderIsReplacedInHeadersForItsHost() throws {
        let h = head("GET /v1 HTTP/1.1", "Host: api.test", "Authorization: Bearer \(placeholder)", "Connection: close")
        let result = apply(h, to: "api.test", [try secret()])
        XCTAssertEqual(text(result), "GET /v1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer s3cr3t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(try result.get().injected, ["API_KEY"])
    }

    func testAnotherHostIsRefusedNamingTheSecretNotTheValue() throws {
        let h = head("GET /v1 HTTP/1.1", "Host: other.test", "X-Key: \(placeholder)")
        XCTAssertEqual(text(apply(h, to: "other.test", [try secret()])),
                       "refused: the request carries secret API_KEY to other.test, which is not one of its hosts (api.test)")
        // In the target or the body, to another host: refused too.
        XCTAssertEqual(text(apply(head("GET /?k=\(placeholder) HTTP/1.1", "Host: other.test"), to: "other.test", [try secret()])),
                       "refused: the request carries secret API_KEY to other.test, which is not one of its hosts (api.test)")
        XCTAssertTrue(text(apply(head("POST / HTTP/1.1", "Host: other.test"), body: "k=\(placeholder)", to: "other.test", [try secret()])).hasPrefix("refused"))
        // An address is never one of a secret's hosts.
        XCTAssertTrue(text(apply(h, to: "198.51.100.2", [try secret()])).hasPrefix("refused"))
    }

    func testToItsHostOutsideTheHeadersIsRefusedRatherThanSentAsItIs() throws {
        XCTAssertEqual(text(apply(head("GET /?k=\(placeholder) HTTP/1.1", "Host: api.test"), to: "api.test", [try secret()])),
                       "refused: secret API_KEY is in the request target: it is put in headers only")
    }

    func testTheHeaderFormSetsTheHeaderReplacingTheClients() throws {
        let h = head("GET / HTTP/1.1", "Host: sub.api.test", "authorization: Basic xyz", "Accept: */*")
        let result = apply(h, to: "sub.api.test", [try secret(header: "Authorization: Bearer {}", hosts: ["*.api.test"])])
        XCTAssertEqual(text(result), "GET / HTTP/1.1\r\nHost: sub.api.test\r\nAccept: */*\r\nAuthorization: Bearer s3cr3t\r\n\r\n")
        // Not its host: no header, nothing refused (no placeholder went out).
        XCTAssertEqual(text(apply(h, to: "other.test", [try secret(header: "Authorization: Bearer {}")])), String(decoding: h, as: UTF8.self))
    }

    func testHeaderTemplatesAreChecked() {
        XCTAssertNil(EgressSecret.checkHeader("Authorization: Bearer {}"))
        XCTAssertEqual(EgressSecret.checkHeader("Bearer {}"), "not a header line (Name: value with {})")
        XCTAssertEqual(EgressSecret.checkHeader("X-Key: {} {}"), "needs exactly one {} where the value goes")
        XCTAssertEqual(EgressSecret.checkHeader("X-Key: abc"), "needs exactly one {} where the value goes")
    }
}
