import Agent
import ArgumentParser
import Runtime
import XCTest
@testable import safehouse

/// The fast path (FastPath.swift) must read every command line it accepts exactly as
/// argument-parser reads it, and hand everything else to argument-parser.
final class FastPathTests: XCTestCase {
    /// What argument-parser makes of `args`, in the fast path's terms; nil when it
    /// refuses the line (or parses it to a command the fast path does not cover).
    private func viaArgumentParser(_ args: [String]) -> FastPath.Invocation? {
        guard let command = try? Safehouse.parseAsRoot(args) else { return nil }
        switch command {
        case let c as Create:
            var inv = FastPath.Invocation(command: "create", global: c.global.settings, create: c.flags.options)
            inv.positionals = [c.id]
            return inv
        case let c as Run:
            var inv = FastPath.Invocation(command: "run", global: c.global.settings, create: c.flags.options)
            inv.detach = c.detach
            inv.keep = c.keep
            inv.noSubreaper = c.noSubreaper
            inv.positionals = [c.id]
            return inv
        case let c as Start:
            return FastPath.Invocation(command: "start", global: c.global.settings, positionals: [c.id])
        case let c as State:
            return FastPath.Invocation(command: "state", global: c.global.settings, positionals: [c.id])
        case let c as Delete:
            var inv = FastPath.Invocation(command: "delete", global: c.global.settings, positionals: [c.id])
            inv.force = c.force
            return inv
        case let c as Kill:
            var inv = FastPath.Invocation(command: "kill", global: c.global.settings, positionals: [c.id, c.signal])
            inv.all = c.all
            return inv
        case let c as AgentRun:
            var inv = FastPath.Invocation(command: "agent run", global: c.global.settings)
            var o = c.flags.options()
            o.id = c.id
            o.summaryFile = c.summaryFile
            inv.agent = o
            inv.summary = c.summary
            return inv
        default:
            return nil
        }
    }

    /// The fast path agrees with argument-parser (kill's default signal aside: the
    /// fast path leaves it out and execute() supplies SIGTERM).
    private func assertAgree(_ line: String, file: StaticString = #filePath, line number: UInt = #line) {
        let args = GlobalArguments.movedAfterCommand(line.split(separator: " ").map(String.init))
        guard var fast = FastPath.parse(args) else {
            XCTFail("the fast path declined: \(line)", file: file, line: number)
            return
        }
        if fast.command == "kill", fast.positionals.count == 1 { fast.positionals.append("SIGTERM") }
        XCTAssertEqual(fast, viaArgumentParser(args), line, file: file, line: number)
    }

    /// Lines the fast path must leave to argument-parser (errors, help, rare flags).
    private func assertDeclined(_ line: String, file: StaticString = #filePath, line number: UInt = #line) {
        let args = GlobalArguments.movedAfterCommand(line.split(separator: " ").map(String.init))
        XCTAssertNil(FastPath.parse(args), line, file: file, line: number)
    }

    func testLifecycleCommandsAgree() {
        assertAgree("create --bundle /b c1")
        assertAgree("--root /r --log /l --log-format json create -b /b --pid-file /p --console-socket /s --no-pivot --no-new-keyring --preserve-fds 2 c1")
        assertAgree("run --bundle=/b --detach c1")
        assertAgree("--root /r run -d -b /b c1")
        assertAgree("run --keep --bundle /b c1")
        assertAgree("--rootless auto --criu /usr/sbin/criu create -b /b c1")
        assertAgree("delete --rootless=false c1")
        assertAgree("run c1 --keep -b /b")
        assertAgree("run --no-subreaper --keep -b /b c1")
        assertAgree("start c1")
        assertAgree("--systemd-cgroup --debug state c1")
        assertAgree("delete --force c1")
        assertAgree("delete -f c1")
        assertAgree("kill c1 KILL")
        assertAgree("kill --all c1 9")
        assertAgree("kill c1")
    }

    func testAgentRunAgrees() {
        assertAgree("agent run --rootfs /r -- true")
        assertAgree("agent run --rootfs /r --summary none --id a1 -- sh -c id")
        assertAgree("--root /x agent run --policy web --rootfs=/r --input /i --output /o --timeout 5s --backend native -- echo --policy")
        assertAgree("agent run --root /x --debug --rootfs /r --summary json")
        assertAgree("agent run --rootfs /r -- sh -- -x")
        assertAgree("agent run --rootfs /r --env A=1 --env=B=x=y --workdir /w --allow a.test --allow=*.b.test --summary-file /tmp/s -- env")
        assertAgree("--root /x agent run --rootfs /r --summary-file=s.json --summary json --env A= -- true")
    }

    func testLinesForTheFullParser() {
        assertDeclined("agent run -- true")                       // --rootfs is required
        assertDeclined("agent run --rootfs /r --help")
        assertDeclined("agent run --rootfs /r --unknown x -- true")
        assertDeclined("agent run --rootfs /r stray -- true")     // a positional before --
        assertDeclined("agent run --rootfs")                      // a value is missing
        assertDeclined("agent run --rootfs --policy web -- true") // a value that is an option
        assertDeclined("agent spec --rootfs /r")
        assertDeclined("create")
        assertDeclined("run --bogus c1")
        assertDeclined("kill c1 TERM extra")
        assertDeclined("create --preserve-fds x c1")
    }

    /// Where argument-parser refuses a line, so does the fast path.
    func testRefusedLinesAreNotTakenOver() {
        for line in ["agent run --rootfs /r stray -- true", "agent run --rootfs", "kill c1 TERM extra"] {
            let args = line.split(separator: " ").map(String.init)
            XCTAssertNil(viaArgumentParser(args), line)
            XCTAssertNil(FastPath.parse(args), line)
        }
    }
}
