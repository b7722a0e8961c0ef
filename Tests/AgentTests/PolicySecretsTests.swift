@testable import Agent
import OCI
import Runtime
import XCTest

/// network.decider and secrets in a policy: read strictly, carried in the generated
/// spec's annotations (placeholders, never values), read back at create.
final class PolicySecretsTests: XCTestCase {
    func policy(_ text: String) throws -> Policy { try PolicyReader.parse(text, source: "p.yaml") }

    func problem(_ text: String) -> String {
        do { _ = try policy(text); return "" } catch { return "\(error)" }
    }

    func testDeciderFieldsAndTheirErrors() throws {
        let p = try policy("network:\n  allow: [www.test]\n  decider: exec:/usr/bin/decide\n  deciderTimeout: 500ms\n")
        XCTAssertEqual(p.network.decider, "exec:/usr/bin/decide")
        XCTAssertEqual(p.network.deciderTimeout, 0.5)
        let spec = try SandboxSpec.generate(p, SandboxRequest(rootfs: "/img", args: ["true"], policyName: "p"))
        let config = try XCTUnwrap(try SandboxConfig(annotations: spec.annotations))
        XCTAssertEqual(config.egressDecider, "exec:/usr/bin/decide")
        XCTAssertEqual(config.egressDeciderTimeout, 0.5)
        XCTAssertEqual(problem("network:\n  decider: \"http://example.test:80/d\"\n"),
                       #"policy p.yaml: network.decider: "http://example.test:80/d": the host must be a loopback address (127.0.0.1 or [::1]): the decider runs on this host"#)
        XCTAssertEqual(problem("network:\n  deciderTimeout: 10m\n"), "policy p.yaml: network.deciderTimeout: at most 5m")
        XCTAssertTrue(p.effectiveLine.contains("decider=[exec:/usr/bin/decide (0.5s)]"), p.effectiveLine)
        XCTAssertFalse(try policy("network:\n  allow: [www.test]\n").effectiveLine.contains("decider"))
    }

    func testSecretsGetPlaceholdersInTheEnvironmentAndTheAnnotationNeverAValue() throws {
        let p = try policy("""
            network:
              allow: [api.test]
            secrets:
              - name: API_KEY
                env: HOST_KEY
                hosts: [api.test, "*.api.test"]
                header: "Authorization: Bearer {}"
            """)
        XCTAssertEqual(p.secrets, [Policy.Secret(name: "API_KEY", env: "HOST_KEY", hosts: ["api.test", "*.api.test"], header: "Authorization: Bearer {}")])
        let spec = try SandboxSpec.generate(p, SandboxRequest(rootfs: "/img", args: ["true"], policyName: "p"))
        let line = try XCTUnwrap(spec.process?.env?.first { $0.hasPrefix("API_KEY=") })
        XCTAssertTrue(line.hasPrefix("API_KEY=safehouse-secret-"), line)
        XCTAssertEqual(line.count, "API_KEY=safehouse-secret-".count + 32)
        var config = try XCTUnwrap(try SandboxConfig(annotations: spec.annotations))
        XCTAssertEqual(config.secrets.map(\.placeholder), [String(line.dropFirst("API_KEY=".count))])
        XCTAssertEqual(config.secrets.first?.env, "HOST_KEY")
        try config.readSecretValues(environment: { $0 == "HOST_KEY" ? "v4lue" : nil })
        XCTAssertEqual(config.secretValues, ["API_KEY": "v4lue"])
        XCTAssertFalse(config.annotations.values.contains { $0.contains("v4lue") })
        var missing = config
        XCTAssertThrowsError(try missing.readSecretValues(environment: { _ in nil })) {
            XCTAssertEqual("\($0)", "secrets: API_KEY: the environment variable HOST_KEY is not set")
        }
        XCTAssertThrowsError(try missing.readSecretValues(environment: { _ in "two\nlines" })) {
            XCTAssertEqual("\($0)", "secrets: API_KEY: the value is not one line of text (it goes into an HTTP header)")
        }
        // Two specs, two placeholders.
        let again = try SandboxSpec.generate(p, SandboxRequest(rootfs: "/img", args: ["true"], policyName: "p"))
        XCTAssertNotEqual(again.process?.env?.first { $0.hasPrefix("API_KEY=") }, line)
    }

    func testSecretErrorsNameTheField() {
        let base = "network:\n  allow: [api.test]\nsecrets:\n"
        XCTAssertEqual(problem(base + "  - name: K\n    env: A\n    file: /f\n    hosts: [api.test]\n"),
                       "policy p.yaml: secrets[0]: needs one of env (the caller's variable) or file (a path on the host), not both")
        XCTAssertEqual(problem(base + "  - name: K\n    env: A\n"), "policy p.yaml: secrets[0]: needs hosts (where the value may go)")
        XCTAssertEqual(problem(base + "  - name: K-1\n    env: A\n    hosts: [api.test]\n"), "policy p.yaml: secrets[0].name: not a variable name (letters, digits, _)")
        XCTAssertEqual(problem(base + "  - name: K\n    env: A\n    hosts: [\"api.test:443\"]\n"),
                       "policy p.yaml: secrets[0].hosts[0]: not a host name or *.domain (no port, no address)")
        XCTAssertEqual(problem(base + "  - name: K\n    env: A\n    hosts: [api.test]\n    header: \"X-Key: abc\"\n"),
                       "policy p.yaml: secrets[0].header: needs exactly one {} where the value goes")
        XCTAssertEqual(problem(base + "  - name: K\n    env: A\n    hosts: [api.test]\n  - name: K\n    env: B\n    hosts: [api.test]\n"),
                       "policy p.yaml: secrets[1].name: K is named by another secret")
    }
}

/// An engine's spec naming a policy with secrets: refused at create, not run without them.
final class EngineSecretsTests: XCTestCase {
    func testAnEnginesSpecNamingAPolicyWithSecretsIsRefused() throws {
        let dir = "/tmp/engine-secrets-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(dir, 0o755)
        defer { unlink(dir + "/s.yaml"); rmdir(dir) }
        let text = "network:\n  allow: [api.test]\nsecrets:\n  - name: K\n    env: K\n    hosts: [api.test]\n"
        TextFile.write(dir + "/s.yaml", text)
        XCTAssertThrowsError(try SandboxConfig(annotations: [SandboxAnnotation.policy: "s"], library: PolicyLibrary(directories: [dir]))) {
            XCTAssertEqual("\($0)", "annotations.io.safehouse.policy: policy s has secrets, which only a spec agent spec generated carries (placeholders in its environment)")
        }
    }
}

/// A file written with the C library (the test target does not import Foundation).
enum TextFile {
    static func write(_ path: String, _ text: String) {
        let f = fopen(path, "w")
        fputs(text, f)
        fclose(f)
    }
}
