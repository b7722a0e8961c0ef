import Agent
import AuditChain
@testable import Flags
import XCTest

/// Help and docs/cli.md come from the declarations; these keep them true.
final class ReferenceTests: XCTestCase {
    /// docs/cli.md's reference is the generated text (hack/gen-cli-docs rewrites it).
    func testDocsCLIReferenceIsCurrent() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/cli.md").standardized.path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let range = text.range(of: Reference.marker + "\n\n") else {
            return XCTFail("docs/cli.md has no generated reference; run hack/gen-cli-docs")
        }
        XCTAssertEqual(String(text[range.upperBound...]), Reference.markdown(),
                       "docs/cli.md is stale: run hack/gen-cli-docs")
    }

    /// Texts this target writes out because it cannot link the targets that own them.
    func testCopiedNamesAgreeWithTheirOwners() {
        XCTAssertEqual(Verbs.profileNames, Profiles.names.joined(separator: ", "))
        XCTAssertEqual(Verbs.auditDirectory, AuditLog.defaultDirectory)
    }

    /// Each verb's help names the verb and its flags, not the list of every verb.
    func testVerbHelp() {
        for verb in Verbs.all {
            let help = HelpText.verb(verb)
            XCTAssertTrue(help.contains("USAGE: safehouse \(verb.path)"), verb.path)
            for flag in verb.flags where !flag.hidden { XCTAssertTrue(help.contains(flag.name), "\(verb.path) \(flag.name)") }
            // cli.bats takes a help naming checkpoint for the top-level list of verbs
            // (runc's and safehouse's both list it): only checkpoint's and restore's
            // own help may name it (and agent checkpoint's and restore's, which cli.bats
            // does not ask).
            XCTAssertFalse(help.contains("COMMANDS"), verb.path)
            if !["checkpoint", "restore", "agent checkpoint", "agent restore"].contains(verb.path) {
                XCTAssertFalse(help.contains("checkpoint"), verb.path)
            }
        }
        XCTAssertTrue(HelpText.verb(Verbs.spec).contains("--root"))
        XCTAssertTrue(HelpText.verb(Verbs.update).contains("--cpu-share, --cpu-shares <n>"))
        let root = HelpText.root()
        for name in ["create", "agent", "audit", "hook", "--root"] { XCTAssertTrue(root.contains(name), name) }
        XCTAssertFalse(root.contains("audit append"))
        XCTAssertTrue(HelpText.group("agent").contains("stop-all"))
    }

    /// Names are unique within a verb, its globals included (a shadowing verb flag aside).
    func testNoFlagIsDeclaredTwice() {
        for verb in Verbs.all {
            var names: [String] = []
            for flag in verb.flags + verb.globalFlags {
                for name in [flag.name] + flag.aliases + (flag.short.map { [$0] } ?? []) {
                    XCTAssertFalse(names.contains(name), "\(verb.path): \(name) twice")
                    names.append(name)
                }
            }
        }
    }
}
