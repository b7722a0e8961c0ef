import Dispatch
import Foundation
import MCP
import Serve

/// One MCP client's sandboxes and the tool calls on them. The session sees only the
/// sandboxes it created; the default one is made on the first call that needs it. A
/// failure of any kind (a bad argument, a denial, a path outside the sandbox, a language
/// the image lacks) is a tool result with isError and the one-line reason, never a
/// protocol error: the model reads it and can try something else.
public final class MCPSession: @unchecked Sendable {
    let host: SandboxHost
    let options: MCPOptions
    /// Put in each sandbox's metadata (`mcp-session`): the process id over stdio, the
    /// session id over HTTP.
    let label: String
    private let lock = NSLock()
    /// Serializes making the default sandbox: two first calls at once make one.
    private let defaultLock = NSLock()
    private var owned: [String] = []
    private var defaultID: String?
    private var closed = false

    /// The largest file read_file returns and the most output a command keeps.
    static let readLimit = 1 << 20
    static let outputLimit = 1 << 20
    static let defaultCommandTimeout: Double = 60
    static let maxCommandTimeout: Double = 3600

    public init(host: SandboxHost, options: MCPOptions, label: String) {
        self.host = host
        self.options = options
        self.label = label
    }

    public var tools: [Tool] { SandboxTools.all(policies: options.policies, imagesAllowed: !options.images.isEmpty) }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Answers `tools/call`: the blocking work runs on a dispatch queue, off the
    /// concurrency pool.
    public func call(_ name: String, _ arguments: [String: Value]) async -> CallTool.Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: self.callBlocking(name, ToolArguments(values: arguments)))
            }
        }
    }

    func callBlocking(_ name: String, _ args: ToolArguments) -> CallTool.Result {
        do {
            switch name {
            case "run_code": return try runCode(args)
            case "run_command": return try runCommand(args)
            case "read_file": return try readFile(args)
            case "write_file": return try writeFile(args)
            case "list_files": return try listFiles(args)
            case "create_sandbox": return try createSandbox(args)
            case "kill_sandbox": return try killSandbox(args)
            default:
                throw Failure(description: "no tool \"\(name)\" (tools: \(tools.map(\.name).joined(separator: ", ")))")
            }
        } catch {
            return CallTool.Result(content: [Self.text("\(error)")], isError: true)
        }
    }

    /// Kills every sandbox of the session (the client went away); later calls fail.
    public func close() {
        let ids: [String] = lock.withLock {
            closed = true
            defer { owned = []; defaultID = nil }
            return owned
        }
        for id in ids { try? host.delete(id) }
    }

    static func text(_ s: String) -> Tool.Content { .text(text: s, annotations: nil, _meta: nil) }

    // MARK: - sandboxes

    private func check(_ args: ToolArguments, _ allowed: [String]) throws {
        if let name = args.unknown(allowed: allowed) {
            throw ToolArguments.problem(name, "not an argument of this tool (arguments: \(allowed.joined(separator: ", ")))")
        }
    }

    /// The sandbox a call is about: the one named (it must be this session's), else the
    /// default one, made now if there is none.
    private func sandbox(_ args: ToolArguments) throws -> String {
        if let id = try args.string("sandbox_id") {
            let mine = lock.withLock { owned.contains(id) }
            guard mine, host.exists(id) else {
                forget(id)
                throw ToolArguments.problem("sandbox_id", "no sandbox \"\(id)\" in this session (create_sandbox makes one)")
            }
            return id
        }
        return try defaultLock.withLock {
            if let id = lock.withLock({ defaultID }) {
                if host.exists(id) { return id }
                // Past its deadline, the reaper removed it: say so once, rather than
                // hand out a fresh sandbox without the files the model wrote.
                forget(id)
                throw Failure(description: "the default sandbox \(id) reached its timeout (\(options.timeout) s) and was removed; call again for a new one")
            }
            let info = try create(policy: options.policies[0], rootfs: options.rootfs!)
            lock.withLock { defaultID = info.id }
            return info.id
        }
    }

    private func forget(_ id: String) {
        lock.withLock {
            owned.removeAll { $0 == id }
            if defaultID == id { defaultID = nil }
        }
    }

    private func create(policy: String, rootfs: String) throws -> SandboxHost.Info {
        guard !lock.withLock({ closed }) else { throw Failure(description: "the session is closing") }
        let info = try host.create(policy: policy, rootfs: rootfs, timeout: options.timeout, metadata: ["mcp-session": label])
        let late = lock.withLock { () -> Bool in
            if closed { return true }
            owned.append(info.id)
            return false
        }
        if late {
            try? host.delete(info.id)
            throw Failure(description: "the session is closing")
        }
        return info
    }

    private func createSandbox(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["profile", "image"])
        let profile = try args.string("profile") ?? options.policies[0]
        guard options.policies.contains(profile) else {
            throw ToolArguments.problem("profile", "\"\(profile)\" is not one the operator allowed (\(options.policies.joined(separator: ", ")))")
        }
        var rootfs = options.rootfs!
        if let image = try args.string("image") {
            guard !options.images.isEmpty else {
                throw ToolArguments.problem("image", "the operator allowed no other image (no --images)")
            }
            rootfs = image
        }
        let info: SandboxHost.Info
        do {
            info = try create(policy: profile, rootfs: rootfs)
        } catch let error as APIError where error.message.hasPrefix("rootfs:") {
            throw Failure(description: "image" + error.message.dropFirst("rootfs".count))
        }
        let structured: Value = [
            "sandbox_id": .string(info.id), "profile": .string(info.policy), "image": .string(info.rootfs),
            "expires_at": .string(ISO8601DateFormatter().string(from: info.expiresAt)),
        ]
        return try CallTool.Result(
            content: [Self.text("created sandbox \(info.id) (profile \(info.policy), image \(info.rootfs)); pass sandbox_id \"\(info.id)\" to the other tools")],
            structuredContent: structured)
    }

    private func killSandbox(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["sandbox_id"])
        let id: String
        if let named = try args.string("sandbox_id") {
            id = named
        } else if let current = lock.withLock({ defaultID }) {
            id = current
        } else {
            throw ToolArguments.problem("sandbox_id", "missing (this session has no default sandbox)")
        }
        guard lock.withLock({ owned.contains(id) }) else {
            throw ToolArguments.problem("sandbox_id", "no sandbox \"\(id)\" in this session")
        }
        forget(id)
        try host.delete(id)
        return CallTool.Result(content: [Self.text("killed sandbox \(id)")])
    }

    // MARK: - commands

    private func commandTimeout(_ args: ToolArguments) throws -> Double {
        try args.seconds("timeout", max: Self.maxCommandTimeout) ?? Self.defaultCommandTimeout
    }

    private func runCode(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["language", "code", "sandbox_id", "timeout"])
        let name = try args.requiredString("language", "one of \(Language.names.joined(separator: ", "))")
        guard let language = Language.named(name) else {
            throw ToolArguments.problem("language", "\"\(name)\" is not one of \(Language.names.joined(separator: ", "))")
        }
        let code = try args.requiredString("code", "the program's source")
        let timeout = try commandTimeout(args)
        let id = try sandbox(args)
        let result = try host.run(id, argv: language.argv, stdin: Data(code.utf8), timeout: timeout, outputLimit: Self.outputLimit)
        if result.exitCode == Language.missingStatus, result.stdout.isEmpty,
           result.stderr.trimmingCharacters(in: .newlines) == language.missingLine {
            let tried = language.interpreters.map(\.command).joined(separator: " or ")
            throw ToolArguments.problem("language", "the image of sandbox \(id) has no \(tried) on its PATH, so it cannot run \(language.name)")
        }
        return try Self.commandResult(result, sandbox: id)
    }

    private func runCommand(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["command", "argv", "cwd", "env", "stdin", "sandbox_id", "timeout"])
        let argv: [String]
        switch (try args.string("command"), try args.strings("argv")) {
        case (let command?, nil):
            guard !command.isEmpty else { throw ToolArguments.problem("command", "must not be empty") }
            argv = ["/bin/sh", "-c", command]
        case (nil, let list?):
            guard !list.isEmpty else { throw ToolArguments.problem("argv", "must not be empty") }
            argv = list
        case (nil, nil): throw ToolArguments.problem("command", "missing (a shell command line, or argv)")
        case (_?, _?): throw ToolArguments.problem("argv", "give command or argv, not both")
        }
        let cwd = try args.string("cwd")
        let env = try args.stringMap("env")
        let stdin = try args.string("stdin").map { Data($0.utf8) }
        let timeout = try commandTimeout(args)
        let id = try sandbox(args)
        let result = try host.run(id, argv: argv, cwd: cwd, env: env, stdin: stdin, timeout: timeout, outputLimit: Self.outputLimit)
        return try Self.commandResult(result, sandbox: id)
    }

    /// The text the model reads (stdout, then stderr and the exit status when there is
    /// something to say) and the same as structured content. A non-zero exit is the
    /// program's answer, not a tool error.
    static func commandResult(_ r: SandboxHost.CommandResult, sandbox: String) throws -> CallTool.Result {
        var text = r.stdout
        if !r.stderr.isEmpty {
            if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
            text += "[stderr]\n" + r.stderr
        }
        if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
        if r.timedOut {
            text += "[killed: the command ran past its timeout]\n"
        } else if r.exitCode != 0 || text.isEmpty {
            text += "[exit code \(r.exitCode)]\n"
        }
        if r.truncatedBytes > 0 { text += "[\(r.truncatedBytes) bytes of output dropped past \(outputLimit)]\n" }
        let structured: Value = [
            "stdout": .string(r.stdout), "stderr": .string(r.stderr), "exit_code": .int(Int(r.exitCode)),
            "timed_out": .bool(r.timedOut), "sandbox_id": .string(sandbox),
        ]
        return try CallTool.Result(content: [Self.text(text)], structuredContent: structured)
    }

    // MARK: - files

    private func binary(_ args: ToolArguments) throws -> Bool {
        switch try args.string("encoding") ?? "utf-8" {
        case "utf-8", "utf8": return false
        case "base64": return true
        case let other: throw ToolArguments.problem("encoding", "\"\(other)\" is not utf-8 or base64")
        }
    }

    private func readFile(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["path", "encoding", "sandbox_id"])
        let path = try args.requiredString("path", "an absolute path in the sandbox")
        let base64 = try binary(args)
        let id = try sandbox(args)
        let data = try host.read(id, path: path, limit: Self.readLimit)
        if base64 { return CallTool.Result(content: [Self.text(data.base64EncodedString())]) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ToolArguments.problem("path", "\(path) is not UTF-8 text (\(data.count) bytes); read it with encoding base64")
        }
        return CallTool.Result(content: [Self.text(text)])
    }

    private func writeFile(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["path", "content", "encoding", "sandbox_id"])
        let path = try args.requiredString("path", "an absolute path in the sandbox")
        let content = try args.requiredString("content", "the file's text")
        let data: Data
        if try binary(args) {
            guard let decoded = Data(base64Encoded: content) else { throw ToolArguments.problem("content", "not valid base64") }
            data = decoded
        } else {
            data = Data(content.utf8)
        }
        let id = try sandbox(args)
        let size = try host.write(id, path: path, data: data)
        return CallTool.Result(content: [Self.text("wrote \(size) bytes to \(path)")])
    }

    private func listFiles(_ args: ToolArguments) throws -> CallTool.Result {
        try check(args, ["path", "sandbox_id"])
        let path = try args.string("path") ?? "/"
        let id = try sandbox(args)
        let entries = try host.list(id, path: path)
        let text = entries.map { e in
            e.type == "dir" ? "\(e.name)/" : e.type == "file" ? "\(e.name)\t\(e.size)" : "\(e.name)\t\(e.type)"
        }.joined(separator: "\n")
        let structured: Value = ["entries": .array(entries.map { ["name": .string($0.name), "type": .string($0.type), "size": .int(Int($0.size))] })]
        return try CallTool.Result(content: [Self.text(text.isEmpty ? "(empty)" : text)], structuredContent: structured)
    }
}

extension NSLock {
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
