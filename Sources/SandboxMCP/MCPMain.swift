import Dispatch
import Foundation
import MCP
import Serve

/// The stdio MCP server's process: options, its own record directory, the session,
/// and the end of it all: when the client closes stdin (or sends SIGTERM, SIGINT or
/// SIGHUP) every sandbox of the session is killed and the records removed.
public enum MCPMain {
    public static func run(arguments: [String]) async -> Never {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(MCPOptions.usage, terminator: "")
            exit(0)
        }
        let options: MCPOptions
        do { options = try MCPOptions(arguments: arguments) } catch { fail("\(error)") }

        // A directory of this process's own: a second MCP server on the same state dir
        // (one per client) neither sees nor recovers this one's sandboxes. The directories
        // of servers that died without cleaning up (SIGKILL) go first, with their sandboxes.
        removeLeftovers(under: options.stateDir, runtime: options.runtime ?? SandboxHost.siblingRuntime(), root: options.root)
        let stateDir: String
        do { stateDir = try privateDirectory(under: options.stateDir) } catch { fail("--state-dir \(options.stateDir): \(error)") }

        let host: SandboxHost
        do {
            host = try SandboxHost(runtime: options.runtime ?? SandboxHost.siblingRuntime(), root: options.root,
                                   stateDir: stateDir, images: options.images)
            for policy in options.policies { try host.checkPolicy(policy, rootfs: options.rootfs!) }
        } catch {
            try? FileManager.default.removeItem(atPath: stateDir)
            fail(error is APIError ? "--policy: \((error as! APIError).message.replacingOccurrences(of: "policy: ", with: ""))" : "\(error)")
        }
        let session = MCPSession(host: host, options: options, label: "\(getpid())")

        let finish: @Sendable (Int32) -> Never = { status in
            session.close()
            try? FileManager.default.removeItem(atPath: stateDir)
            exit(status)
        }
        signal(SIGPIPE, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue(label: "safehouse-mcp.signal"))
            source.setEventHandler { finish(0) }
            source.resume()
            sources.append(source)
        }

        let server = server(session: session, version: version(host: options.runtime ?? SandboxHost.siblingRuntime()))
        await serve(session, on: server)
        do {
            try await server.start(transport: StdioTransport())
        } catch {
            FileHandle.standardError.write(Data("safehouse: mcp: \(error)\n".utf8))
            finish(1)
        }
        await server.waitUntilCompleted()
        withExtendedLifetime(sources) {}
        finish(0)
    }

    /// The MCP server of one session: its name, instructions and the tools capability.
    static func server(session: MCPSession, version: String) -> Server {
        Server(name: "safehouse", version: version,
               instructions: """
                   Sandboxes for running code: each call runs in an isolated sandbox made from a policy the \
                   operator chose. Without sandbox_id, calls use one default sandbox, made on first use.
                   """,
               capabilities: .init(tools: .init(listChanged: false)))
    }

    /// The session's tools on the server: tools/list and tools/call.
    static func serve(_ session: MCPSession, on server: Server) async {
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: session.tools) }
        await server.withMethodHandler(CallTool.self) { params in await session.call(params.name, params.arguments ?? [:]) }
    }

    /// The `mcp-PID-*` directories under `parent` whose process is gone: their sandboxes
    /// are deleted and the directories removed. A live pid (even one reused by another
    /// program) keeps its directory: it is never someone else's to clean.
    static func removeLeftovers(under parent: String, runtime: String, root: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        for name in names where name.hasPrefix("mcp-") {
            let parts = name.split(separator: "-")
            guard parts.count == 3, let pid = Int32(parts[1]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }
            let left = SandboxHost.removeLeftovers(runtime: runtime, root: root, stateDir: "\(parent)/\(name)")
            if !left.isEmpty {
                FileHandle.standardError.write(Data("safehouse: mcp: could not remove \(left.joined(separator: ", ")) left by process \(pid)\n".utf8))
            }
        }
    }

    /// `<parent>/mcp-<pid>-<random>`, mode 0700 (the parent made 0700 if missing).
    static func privateDirectory(under parent: String) throws -> String {
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let path = "\(parent)/mcp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        return path
    }

    /// The runtime's version line, the server's version in `initialize`.
    static func version(host runtime: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runtime)
        process.arguments = ["--version"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return line.split(separator: " ").last.map(String.init) ?? "unknown"
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("safehouse: mcp: \(message)\n".utf8))
        exit(1)
    }
}
