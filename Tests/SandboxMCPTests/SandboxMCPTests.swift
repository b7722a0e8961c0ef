import MCP
@testable import SandboxMCP
import Serve
import XCTest

/// The MCP server's parts that need no sandbox: its flags, run_code's languages, the
/// reading of tool arguments, the text of a command's result, the tool list. The tools
/// against real sandboxes are tested by Tests/integration/mcp.bats (an MCP client).
final class SandboxMCPTests: XCTestCase {
    func testOptions() throws {
        let o = try MCPOptions(arguments: ["--rootfs", "/usr/bin", "--policy", "default", "--policy", "network-none", "--policy", "default",
                                           "--timeout", "60", "--images", "/usr"])
        XCTAssertEqual(o.policies, ["default", "network-none"])
        XCTAssertEqual(o.timeout, 60)
        XCTAssertEqual(o.rootfs, "/usr/bin")
        XCTAssertEqual(o.images, [String(cString: realpath("/usr", nil))])
        XCTAssertEqual(try MCPOptions(arguments: ["--rootfs", "/"]).policies, ["default"])
    }

    func testOptionErrorsNameTheFlag() {
        let cases: [([String], String)] = [
            ([], "--rootfs: missing (the image sandboxes are made from)"),
            (["--rootfs"], "--rootfs needs a value"),
            (["--rootfs", "rel"], "--rootfs: \"rel\" is not absolute"),
            (["--rootfs", "/no/such/dir"], "--rootfs: /no/such/dir does not exist"),
            (["--rootfs", "/etc/hostname"], "--rootfs: /etc/hostname is not a directory"),
            (["--rootfs", "/", "--policy", "/etc/p.yaml"],
             "--policy: \"/etc/p.yaml\" is not a policy name (a profile or a policy in the policy directory; no paths)"),
            (["--rootfs", "/", "--timeout", "0"], "--timeout: \"0\" is not a whole number of seconds from 1 to 86400"),
            (["--rootfs", "/", "--timeout", "86401"], "--timeout: \"86401\" is not a whole number of seconds from 1 to 86400"),
            (["--rootfs", "/", "--bogus"], "unknown flag \"--bogus\" (see safehouse mcp --help)"),
            (["--rootfs", "/etc", "--images", "/tmp"], "--rootfs: /etc is not under \(String(cString: realpath("/tmp", nil))) (--images)"),
        ]
        for (arguments, message) in cases {
            XCTAssertThrowsError(try MCPOptions(arguments: arguments), "\(arguments)") { error in
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    func testLanguages() {
        XCTAssertEqual(Language.named("Python")?.name, "python")
        XCTAssertEqual(Language.named("py")?.name, "python")
        XCTAssertEqual(Language.named("sh")?.name, "shell")
        XCTAssertEqual(Language.named("js")?.name, "javascript")
        XCTAssertNil(Language.named("cobol"))
        let python = Language.named("python")!
        XCTAssertEqual(python.argv[0...1], ["/bin/sh", "-c"])
        XCTAssertEqual(python.argv[2], """
            command -v python3 >/dev/null 2>&1 && exec python3 -
            command -v python >/dev/null 2>&1 && exec python -
            echo 'safehouse-mcp: no interpreter for python' >&2
            exit 127

            """)
    }

    /// The lookup script itself, run by the host's /bin/sh: a missing interpreter is the
    /// exact line and status run_code turns into a tool error; a present one reads stdin.
    func testLanguageScriptRunsOnTheHost() throws {
        func run(_ argv: [String], stdin: String, path: String) throws -> (Int32, String, String) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
            p.environment = ["PATH": path]
            let input = Pipe(), out = Pipe(), err = Pipe()
            p.standardInput = input
            p.standardOutput = out
            p.standardError = err
            try p.run()
            // The lookup may exit before it reads: EPIPE, not SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
            let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-empty-\(getpid())")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let python = Language.named("python")!
        let (status, out, err) = try run(python.argv, stdin: "print(1)", path: empty.path)
        XCTAssertEqual(status, Language.missingStatus)
        XCTAssertEqual(out, "")
        XCTAssertEqual(err, python.missingLine + "\n")
        let shell = Language.named("shell")!
        let (s2, o2, _) = try run(shell.argv, stdin: "echo $((6*7)); exit 5", path: "/usr/bin:/bin")
        XCTAssertEqual(s2, 5)
        XCTAssertEqual(o2, "42\n")
    }

    func testArguments() throws {
        let a = ToolArguments(values: ["s": "x", "n": 2, "d": 0.5, "list": ["a", "b"], "env": ["A": "1"], "bad": 3, "null": nil])
        XCTAssertEqual(try a.string("s"), "x")
        XCTAssertNil(try a.string("null"))
        XCTAssertNil(try a.string("absent"))
        XCTAssertThrowsError(try a.string("bad")) { XCTAssertEqual("\($0)", "bad: must be a string") }
        XCTAssertThrowsError(try a.requiredString("absent", "a hint")) { XCTAssertEqual("\($0)", "absent: missing (a hint)") }
        XCTAssertEqual(try a.strings("list"), ["a", "b"])
        XCTAssertThrowsError(try a.strings("s")) { XCTAssertEqual("\($0)", "s: must be an array of strings") }
        XCTAssertEqual(try a.stringMap("env"), ["A": "1"])
        XCTAssertThrowsError(try ToolArguments(values: ["env": ["A=B": "1"]]).stringMap("env")) {
            XCTAssertEqual("\($0)", "env.A=B: not a valid variable name")
        }
        XCTAssertEqual(try a.seconds("n", max: 10), 2)
        XCTAssertEqual(try a.seconds("d", max: 10), 0.5)
        XCTAssertThrowsError(try a.seconds("n", max: 1)) { XCTAssertEqual("\($0)", "n: must be more than 0 and at most 1 seconds") }
        XCTAssertThrowsError(try a.seconds("s", max: 1)) { XCTAssertEqual("\($0)", "s: must be a number of seconds") }
        XCTAssertEqual(a.unknown(allowed: ["s", "n", "d", "list", "env", "null"]), "bad")
        XCTAssertNil(a.unknown(allowed: ["s", "n", "d", "list", "env", "null", "bad"]))
    }

    func testCommandResultText() throws {
        func text(_ r: CallTool.Result) -> String {
            guard case .text(let t, _, _) = r.content.first else { return "" }
            return t
        }
        let ok = try MCPSession.commandResult(.init(stdout: "hi\n", stderr: "", exitCode: 0, timedOut: false, truncatedBytes: 0), sandbox: "sbx-1")
        XCTAssertEqual(text(ok), "hi\n")
        XCTAssertNil(ok.isError)
        XCTAssertEqual(ok.structuredContent?.objectValue?["exit_code"], 0)
        let failed = try MCPSession.commandResult(.init(stdout: "out", stderr: "oops\n", exitCode: 3, timedOut: false, truncatedBytes: 0), sandbox: "sbx-1")
        XCTAssertEqual(text(failed), "out\n[stderr]\noops\n[exit code 3]\n")
        XCTAssertNil(failed.isError, "a program's non-zero exit is its answer, not a tool error")
        let silent = try MCPSession.commandResult(.init(stdout: "", stderr: "", exitCode: 0, timedOut: false, truncatedBytes: 0), sandbox: "sbx-1")
        XCTAssertEqual(text(silent), "[exit code 0]\n")
        let killed = try MCPSession.commandResult(.init(stdout: "", stderr: "", exitCode: 124, timedOut: true, truncatedBytes: 7), sandbox: "sbx-1")
        XCTAssertEqual(text(killed), "[killed: the command ran past its timeout]\n[7 bytes of output dropped past 1048576]\n")
    }

    func testInitializeRequests() {
        XCTAssertTrue(MCPEndpoint.isInitialize(Data(#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#.utf8)))
        XCTAssertTrue(MCPEndpoint.isInitialize(Data(#"{"jsonrpc":"2.0","id":"a","method":"initialize"}"#.utf8)))
        XCTAssertFalse(MCPEndpoint.isInitialize(Data(#"{"jsonrpc":"2.0","method":"initialize"}"#.utf8)), "a notification")
        XCTAssertFalse(MCPEndpoint.isInitialize(Data(#"{"jsonrpc":"2.0","id":null,"method":"initialize"}"#.utf8)))
        XCTAssertFalse(MCPEndpoint.isInitialize(Data(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.utf8)))
        XCTAssertFalse(MCPEndpoint.isInitialize(Data("not json".utf8)))
    }

    func testToolList() {
        let tools = SandboxTools.all(policies: ["default", "network-none"], imagesAllowed: false)
        XCTAssertEqual(tools.map(\.name), ["run_code", "run_command", "read_file", "write_file", "list_files", "create_sandbox", "kill_sandbox"])
        let create = tools.first { $0.name == "create_sandbox" }!
        let properties = create.inputSchema.objectValue?["properties"]?.objectValue
        XCTAssertEqual(properties?["profile"]?.objectValue?["enum"], ["default", "network-none"])
        XCTAssertNil(properties?["image"], "no image argument without --images")
        let withImages = SandboxTools.all(policies: ["default"], imagesAllowed: true).first { $0.name == "create_sandbox" }!
        XCTAssertNotNil(withImages.inputSchema.objectValue?["properties"]?.objectValue?["image"])
    }
}
