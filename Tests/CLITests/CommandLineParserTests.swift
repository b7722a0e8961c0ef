import Agent
import AuditChain
import Flags
import Runtime
import XCTest
@testable import safehouse

/// The one parser (Sources/Flags) against the declarations: every verb's flags in both
/// value forms, the global flags before and after the verb, and the usage errors.
final class CommandLineParserTests: XCTestCase {
    /// `line` as main.swift reads it: globals moved after the verb, then parsed.
    private func parse(_ line: String) throws -> ParsedArguments {
        let words = GlobalArguments.movedAfterCommand(line.split(separator: " ").map(String.init))
        guard let (verb, next) = CommandLineParser.verb(in: words) else {
            throw UsageError(verb: "", "no verb in \(line)")
        }
        return try CommandLineParser.parse(words, from: next, as: verb)
    }

    /// The usage error `line` is refused with.
    private func refusal(_ line: String, file: StaticString = #filePath, line number: UInt = #line) -> String {
        do {
            let parsed = try parse(line)
            XCTFail("accepted: \(line) as \(parsed.verb.path)", file: file, line: number)
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testCreateAndRunFlagsInBothValueForms() throws {
        let create = try parse("--root /r --log /l --log-format json create -b /b --pid-file /p --console-socket /s --no-pivot --no-new-keyring --preserve-fds 2 c1")
        XCTAssertEqual(try GlobalSettings(create), GlobalSettings(root: "/r", log: "/l", logFormat: "json"))
        let options = try CreateOptions(create)
        XCTAssertEqual(options.bundle, "/b")
        XCTAssertEqual(options.pidFile, "/p")
        XCTAssertEqual(options.consoleSocket, "/s")
        XCTAssertTrue(options.noPivot)
        XCTAssertTrue(options.noNewKeyring)
        XCTAssertEqual(options.preserveFds, 2)
        XCTAssertEqual(create.arguments, ["c1"])

        let run = try parse("run --bundle=/b c1 --keep -d --no-subreaper --preserve-fds=1")
        XCTAssertEqual(try CreateOptions(run).bundle, "/b")
        XCTAssertEqual(try CreateOptions(run).preserveFds, 1)
        XCTAssertTrue(run.isSet("--detach") && run.isSet("--keep") && run.isSet("--no-subreaper"))
        XCTAssertEqual(run.arguments, ["c1"])

        // Declared defaults.
        let plain = try parse("run c1")
        XCTAssertEqual(try CreateOptions(plain).bundle, ".")
        XCTAssertEqual(try CreateOptions(plain).preserveFds, 0)
        XCTAssertEqual(try GlobalSettings(plain), GlobalSettings())
        XCTAssertFalse(plain.isSet("--detach") || plain.isSet("--keep") || plain.isSet("--no-subreaper"))
    }

    func testGlobalFlagsBeforeAndAfterTheVerb() throws {
        let before = try GlobalSettings(parse("--root /x --debug --systemd-cgroup --backend gvisor --criu /c --rootless auto state c1"))
        let after = try GlobalSettings(parse("state c1 --root=/x --debug --systemd-cgroup --backend=gvisor --criu /c --rootless=auto"))
        let expected = GlobalSettings(root: "/x", debug: true, systemdCgroup: true, backend: "gvisor", criu: "/c", rootless: "auto")
        XCTAssertEqual(before, expected)
        XCTAssertEqual(after, expected)
        // urfave/cli's single dash before the verb.
        XCTAssertEqual(try GlobalSettings(parse("-root /y state c1")).root, "/y")
        // The agent group keeps its verb with it.
        XCTAssertEqual(try AgentRun(parse("--root /x agent run --rootfs /r -- true")).global.root, "/x")
        // spec's own --rootless is a switch; runc's global --rootless VALUE is dropped.
        let spec = try parse("--rootless false spec --rootless -b /b")
        XCTAssertTrue(spec.isSet("--rootless"))
        XCTAssertEqual(spec.value("--bundle"), "/b")
        XCTAssertEqual(try parse("spec --root /r").value("--bundle"), ".")
    }

    func testStartStateDeleteKill() throws {
        XCTAssertEqual(try parse("start c1").arguments, ["c1"])
        XCTAssertTrue(try parse("delete --force c1").isSet("--force"))
        XCTAssertTrue(try parse("delete -f c1").isSet("--force"))
        XCTAssertFalse(try parse("delete c1").isSet("--force"))
        XCTAssertEqual(try parse("kill c1").arguments, ["c1", "SIGTERM"])
        let all = try parse("kill --all c1 9")
        XCTAssertEqual(all.arguments, ["c1", "9"])
        XCTAssertTrue(all.isSet("--all"))
        XCTAssertTrue(try parse("kill -a c1 KILL").isSet("--all"))
    }

    func testExecFlagsAndItsCommand() throws {
        let exec = try Exec(parse(
            "exec -t --console-socket /s --cwd /w -e A=1 --env=B=2 -u 1:2 -g 5 --additional-gids 6 -c CAP_KILL --no-new-privs -d --pid-file /p --preserve-fds 1 --cgroup memory:sub --ignore-paused c1 sh -c --tty"))
        let o = exec.options
        XCTAssertTrue(o.tty && o.noNewPrivileges && o.detach && o.ignorePaused)
        XCTAssertEqual(o.consoleSocket, "/s")
        XCTAssertEqual(o.cwd, "/w")
        XCTAssertEqual(o.env, ["A=1", "B=2"])
        XCTAssertEqual(o.user, "1:2")
        XCTAssertEqual(o.additionalGids, [5, 6])
        XCTAssertEqual(o.caps, ["CAP_KILL"])
        XCTAssertEqual(o.pidFile, "/p")
        XCTAssertEqual(o.preserveFds, 1)
        XCTAssertEqual(o.subCgroups, ["memory:sub"])
        XCTAssertEqual(exec.id, "c1")
        // Everything after the id is the command, flags included.
        XCTAssertEqual(o.args, ["sh", "-c", "--tty"])
        XCTAssertEqual(try Exec(parse("exec -p /proc.json c1")).options.processFile, "/proc.json")
        XCTAssertEqual(try Exec(parse("exec c1 -- ls -l")).options.args, ["ls", "-l"])
        // Grouped short switches.
        let grouped = try Exec(parse("exec -td c1 sh")).options
        XCTAssertTrue(grouped.tty && grouped.detach)
        XCTAssertEqual(try Exec(parse("exec --apparmor p --process-label l c1 true")).apparmor, "p")
    }

    func testQueryAndControlVerbs() throws {
        let ps = try parse("ps -f json c1 -ef")
        XCTAssertEqual(try Commands.tableOrJSON(ps), "json")
        XCTAssertEqual(ps.trailing, ["-ef"])
        XCTAssertEqual(try Commands.tableOrJSON(parse("ps c1")), "table")
        let list = try parse("ps-all --format=json -q")
        XCTAssertEqual(list.verb.path, "list")
        XCTAssertEqual(try Commands.tableOrJSON(list), "json")
        XCTAssertTrue(list.isSet("--quiet"))
        XCTAssertEqual(try parse("events --stats c1").value("--interval"), "5s")
        XCTAssertEqual(try parse("events --interval 100ms c1").value("--interval"), "100ms")
        XCTAssertEqual(try parse("pause c1").arguments, ["c1"])
        XCTAssertEqual(try parse("resume c1").arguments, ["c1"])
        XCTAssertEqual(try GlobalSettings(parse("features --root /r")).root, "/r")
    }

    func testUpdateTakesDashedValuesAndBothShareSpellings() throws {
        let update = try parse("update --memory -1 --memory-swap=-1 --cpu-quota -1 --cpu-share 512 --pids-limit -1 --blkio-weight 100 -r - c1")
        XCTAssertEqual(update.string("--memory"), "-1")
        XCTAssertEqual(update.string("--memory-swap"), "-1")
        XCTAssertEqual(try update.integer("--cpu-quota", as: Int64.self), -1)
        XCTAssertEqual(try update.integer("--cpu-share", as: UInt64.self), 512)
        XCTAssertEqual(try update.integer("--pids-limit", as: Int64.self), -1)
        XCTAssertEqual(try update.integer("--blkio-weight", as: UInt16.self), 100)
        XCTAssertEqual(update.string("--resources"), "-")
        XCTAssertEqual(try parse("update --cpu-shares 2 c1").integer("--cpu-share", as: UInt64.self), 2)
        // Values are typed where the command reads them, before it does anything.
        XCTAssertThrowsError(try Commands.update(parse("update --cpu-period -1 c1"))) { error in
            XCTAssertEqual("\(error)", "safehouse update: --cpu-period: \"-1\" is not an integer of 0 or more (see safehouse update --help)")
        }
    }

    func testAgentVerbs() throws {
        let run = try AgentRun(parse(
            "agent run --policy web --rootfs=/r --input /i --output /o --timeout 5s --env A=1 --env=B=x=y --workdir /w --allow a.test --allow=*.b.test --id a1 --summary json --summary-file /s --backend native -- echo --policy"))
        var expected = SandboxRunner.Options(rootfs: "/r", args: ["echo", "--policy"])
        expected.policy = "web"
        expected.input = "/i"
        expected.output = "/o"
        expected.timeout = "5s"
        expected.env = ["A=1", "B=x=y"]
        expected.workdir = "/w"
        expected.allow = ["a.test", "*.b.test"]
        expected.id = "a1"
        expected.summaryFile = "/s"
        XCTAssertEqual(run.options, expected)
        XCTAssertEqual(run.summary, "json")
        XCTAssertEqual(run.global.backend, "native")
        let plain = try AgentRun(parse("agent run --rootfs /r -- sh -- -x"))
        XCTAssertEqual(plain.options.policy, "default")
        XCTAssertEqual(plain.options.args, ["sh", "--", "-x"])
        XCTAssertEqual(plain.summary, "text")
        XCTAssertTrue(try AgentSpec(parse("agent spec --rootfs /r --hooks")).hooks)
        XCTAssertEqual(try GlobalSettings(parse("agent stop-all --root /x")).root, "/x")
        XCTAssertTrue(try Top(parse("top --once --root /x")).once)
        XCTAssertTrue(try Top(parse("--root /x top --batch")).once)
        XCTAssertFalse(try Top(parse("top")).once)
        XCTAssertEqual(try Top(parse("--root /x top")).global.root, "/x")
    }

    func testUsageErrors() {
        XCTAssertEqual(refusal("run --bogus c1"), "safehouse run: unknown flag \"--bogus\" (see safehouse run --help)")
        XCTAssertEqual(refusal("create"), "safehouse create: missing <id> (see safehouse create --help)")
        XCTAssertEqual(refusal("kill c1 TERM extra"), "safehouse kill: unexpected argument \"extra\" (see safehouse kill --help)")
        XCTAssertEqual(refusal("create --bundle"), "safehouse create: --bundle needs a value (--bundle <path>) (see safehouse create --help)")
        XCTAssertThrowsError(try CreateOptions(parse("create --preserve-fds x c1"))) { error in
            XCTAssertEqual("\(error)", "safehouse create: --preserve-fds: \"x\" is not an integer (see safehouse create --help)")
        }
        XCTAssertEqual(refusal("delete --force=yes c1"), "safehouse delete: --force takes no value (see safehouse delete --help)")
        XCTAssertEqual(refusal("agent spec -- true"), "safehouse agent spec: missing --rootfs <path> (see safehouse agent spec --help)")
        XCTAssertTrue(refusal("agent run --rootfs /r stray -- true").contains("unexpected argument \"stray\""))
        XCTAssertTrue(refusal("agent run --rootfs --policy web -- true").contains("--rootfs needs a value"))
        XCTAssertTrue(refusal("exec -tx c1 sh").contains("unknown flag \"-tx\""))
        // Global flags are the runtime's: the audit verbs do not take them.
        XCTAssertTrue(refusal("audit verify --root /x log").contains("unknown flag \"--root\""))
    }

    func testLogFormatIsCheckedBeforeTheCommand() {
        XCTAssertThrowsError(try GlobalSettings(parse("--log-format xml state c1"))) { error in
            XCTAssertEqual("\(error)", "--log-format: unknown format \"xml\" (use text or json)")
        }
        XCTAssertThrowsError(try Commands.list(parse("list --format yaml"))) { error in
            XCTAssertEqual("\(error)", "--format: invalid format option \"yaml\" (use table or json)")
        }
    }

    func testHelpIsRequestedOnlyAmongFlags() throws {
        XCTAssertTrue(try parse("create -h").helpRequested)
        XCTAssertTrue(try parse("agent run --help").helpRequested)
        XCTAssertFalse(try parse("exec c1 sh --help").helpRequested)
        XCTAssertFalse(try parse("agent run --rootfs /r -- sh -h").helpRequested)
    }

    func testAuditVerbs() throws {
        let append = try parse("audit append /l --id c1 --kind create --details {\"a\":1} --kind start --key /k --locked-fd 5")
        XCTAssertEqual(append.arguments, ["/l"])
        XCTAssertEqual(append.strings("--kind"), ["create", "start"])
        XCTAssertEqual(append.string("--locked-fd"), "5")
        XCTAssertEqual(try parse("audit check /l --id c1").value("--kind"), "create")
        let show = try parse("audit show c1 --kind exit --format json --follow")
        XCTAssertEqual(show.value("--format"), "json")
        XCTAssertTrue(show.isSet("--follow"))
        XCTAssertEqual(try parse("hook poststop --audit /l").arguments, ["poststop"])
    }

    /// Every top-level word: the verbs, their aliases, the groups, help.
    func testCommandNames() {
        // Each verb's first word once (a group once), its aliases, and `help`.
        var commandNames = ["help"]
        for verb in Verbs.all {
            let first = String(verb.path.split(separator: " ")[0])
            if !commandNames.contains(first) { commandNames.append(first) }
            commandNames += verb.aliases
        }
        XCTAssertEqual(commandNames.sorted(), [
            "agent", "audit", "checkpoint", "create", "delete", "events", "exec", "features", "help", "hook", "image", "kill",
            "list", "mcp", "pause", "ps", "ps-all", "restore", "resume", "run", "serve", "spec", "start", "state", "top", "update",
        ])
        for verb in Verbs.all { XCTAssertNotNil(Verbs.verb(named: verb.path), verb.path) }
        for name in commandNames { XCTAssertTrue(Verbs.isCommandName(name), name) }
        XCTAssertFalse(Verbs.isCommandName("frobnicate"))
    }
}
