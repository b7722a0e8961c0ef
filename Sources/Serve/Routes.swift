import Foundation
import NIOHTTP1

/// What a route answers.
enum Reply {
    case json(HTTPResponseStatus, Any)
    case noContent
    /// A regular file's bytes, sent from its descriptor (sendfile).
    case file(OwnedDescriptor, Int64)
    /// A command to run in the foreground; the handler starts it, then streams or
    /// collects its output.
    case command(CommandPlan)
    /// A running or finished command's events after a sequence number, streamed.
    case followCommand(SandboxCommand, after: UInt64)
    /// The event stream of one sandbox, or of all (nil), after a sequence number.
    case events(sandboxId: String?, after: UInt64?)
    /// Bytes of another type than JSON (/metrics).
    case text(HTTPResponseStatus, contentType: String, [UInt8])
}

/// A validated command: the exec's argv and its limits.
struct CommandPlan {
    var sandboxId: String
    var arguments: [String]
    /// The command as the client gave it (as run: a shell string is /bin/sh -c STRING).
    var argv: [String]
    var cwd: String?
    /// Where the exec writes the process's host pid: it leads its own process group,
    /// which a stop kills whole (what the command left in the background too).
    var pidFile: String
    var input: CommandRun.Input
    /// nil: no timeout of its own (a background command without one lives as long as its sandbox).
    var timeout: TimeInterval?
    var background: Bool
    /// A foreground command whose client goes away mid-stream is killed (else it runs on).
    var killOnDisconnect: Bool
    /// Under gVisor: the runtime's argv that kills the command's processes inside the
    /// sandbox (the host sees only `runsc exec`, not the command's process group).
    var stopInside: [String]? = nil
}

/// The API's routes over the store. Every function here may block (it runs the
/// runtime, touches files): the handler calls them off the event loop.
struct Routes {
    let store: SandboxStore
    let version: String
    /// Directories a rootfs must lie under; empty: any.
    var images: [String] = []
    /// Whether a create may carry a policy document instead of a name (--no-inline-policy: not).
    var allowInlinePolicy = true

    /// The default and the longest time a command may run, in seconds.
    static let defaultCommandTimeout: TimeInterval = 60
    static let defaultSandboxTimeout = 300

    func handle(_ r: APIRequest) throws -> Reply {
        let s = r.segments
        if s == ["metrics"] { return try metrics(r) }
        guard s.first == "v1" else { throw APIError.notFound("no route \(r.method) /\(s.joined(separator: "/"))") }
        let rest = Array(s.dropFirst())
        // The route's shape, the sandbox id as {id} and a command's as {cid}:
        // "sandboxes/{id}/files/list", "sandboxes/{id}/commands/{cid}/kill".
        let id = rest.count >= 2 && rest[0] == "sandboxes" ? rest[1] : ""
        let cid = rest.count >= 4 && rest[0] == "sandboxes" && rest[2] == "commands" ? rest[3] : ""
        // A decision request's id: "sandboxes/{id}/network/decisions/{rid}".
        let rid = rest.count == 5 && rest[0] == "sandboxes" && rest[2] == "network" && rest[3] == "decisions" ? rest[4] : ""
        let shape = rest.enumerated().map {
            if rest[0] == "sandboxes", $0.offset == 1 { return "{id}" }
            if rest[0] == "snapshots", $0.offset == 1 { return "{name}" }
            if !cid.isEmpty, $0.offset == 3 { return "{cid}" }
            if !rid.isEmpty, $0.offset == 4 { return "{rid}" }
            return $0.element
        }.joined(separator: "/")
        // The routes that take no query parameter, or only ?path= (the list, the
        // session routes check their own).
        if Self.queryFree.contains(shape) || (shape == "sandboxes/{id}/commands" && r.method == .POST) {
            try Self.refuseUnknownQuery(r, known: [])
        } else if shape.hasPrefix("sandboxes/{id}/files") {
            try Self.refuseUnknownQuery(r, known: ["path"])
        }
        switch (r.method, shape) {
        case (.GET, "health"):
            return .json(.ok, ["status": "ok"])
        case (.GET, "version"):
            return .json(.ok, ["version": version, "api": "v1"])
        case (.POST, "sandboxes"):
            return .json(.created, try create(r.object()))
        case (.GET, "sandboxes"):
            return .json(.ok, ["sandboxes": try list(r)])
        case (.GET, "sandboxes/{id}"):
            let record = try store.get(id)
            return .json(.ok, record.json(state: store.state(of: record)))
        case (.DELETE, "sandboxes/{id}"):
            try store.delete(id)
            return .noContent
        case (.POST, "sandboxes/{id}/timeout"):
            _ = try store.get(id)
            guard let seconds = try r.object().integer("timeout", in: 1...SandboxStore.maxTimeout) else {
                throw APIError.badRequest(field: "timeout", "missing (seconds from now)")
            }
            let record = try store.setTimeout(id, seconds: seconds)
            return .json(.ok, record.json(state: store.quickState(record)))
        case (.POST, "sandboxes/{id}/snapshot"), (.GET, "snapshots"), (.GET, "snapshots/{name}"), (.DELETE, "snapshots/{name}"):
            return try snapshotRoute(r, shape: shape, id: id, name: rest.count == 2 ? rest[1] : "")
        case (.POST, "sandboxes/{id}/commit"), (.GET, "images"), (.DELETE, "images"):
            return try imageRoute(r, shape: shape, id: id)
        case (.POST, "sandboxes/{id}/pause"), (.POST, "sandboxes/{id}/resume"),
             (.GET, "sandboxes/{id}/commands"), (.GET, "sandboxes/{id}/commands/{cid}"),
             (.POST, "sandboxes/{id}/commands/{cid}/kill"), (.POST, "sandboxes/{id}/commands/{cid}/stdin"),
             (.GET, "sandboxes/{id}/commands/{cid}/events"), (.GET, "sandboxes/{id}/events"), (.GET, "events"):
            return try session(r, shape: shape, id: id, cid: cid)
        case (.GET, "sandboxes/{id}/network/rules"), (.GET, "sandboxes/{id}/network/stats"),
             (.POST, "sandboxes/{id}/network/allow"), (.POST, "sandboxes/{id}/network/deny"),
             (.GET, "sandboxes/{id}/network/decisions"), (.POST, "sandboxes/{id}/network/decisions/{rid}"):
            return try network(r, shape: shape, id: id, rid: rid)
        case (.POST, "sandboxes/{id}/commands"):
            let plan = try command(store.get(id), r.object())
            guard plan.background else { return .command(plan) }
            let (started, _) = try store.commands.launch(plan, sandboxId: id)
            return .json(.created, started.json())
        case (.GET, "sandboxes/{id}/files"):
            let record = try store.get(id)
            let path = try SandboxFiles.validate(r.queryValue("path"))
            let (fd, size) = try record.isGvisor ? gvisorFiles(record).openForReading(path) : Self.files(of: record).openForReading(path)
            return .file(fd, size)
        case (.DELETE, "sandboxes/{id}/files"):
            let record = try store.get(id)
            let path = try SandboxFiles.validate(r.queryValue("path"))
            if record.isGvisor {
                try gvisorFiles(record).remove(path)
            } else if try !Self.files(of: record).remove(path) {
                try removeTreeInside(record, path)
            }
            return .noContent
        case (.GET, "sandboxes/{id}/files/list"):
            let record = try store.get(id)
            let path = try SandboxFiles.validate(r.queryValue("path"))
            let entries = try record.isGvisor ? gvisorFiles(record).list(path) : Self.files(of: record).list(path)
            return .json(.ok, ["entries": entries.map { ["name": $0.name, "type": $0.type, "size": $0.size] }])
        case (.POST, "sandboxes/{id}/files/mkdir"):
            let record = try store.get(id)
            let path = try SandboxFiles.validate(r.queryValue("path"))
            let made = try record.isGvisor ? gvisorFiles(record).makeDirectory(path) : Self.files(of: record).makeDirectory(path)
            return .json(made ? .created : .ok, ["path": path, "created": made])
        case (_, let shape) where Self.allowedMethods[shape] != nil:
            // RFC 9110: a 405 says which methods the resource has.
            throw APIError(status: .methodNotAllowed, code: "method_not_allowed",
                           message: "\(r.method) is not allowed on /\(s.joined(separator: "/"))",
                           allow: Self.allowedMethods[shape]!)
        default:
            throw APIError.notFound("no route \(r.method) /\(s.joined(separator: "/"))")
        }
    }

    /// The methods of each route shape, for the Allow header of a 405.
    static let allowedMethods: [String: [String]] = [
        "health": ["GET"], "version": ["GET"], "sandboxes": ["GET", "POST"], "sandboxes/{id}": ["GET", "DELETE"],
        "sandboxes/{id}/timeout": ["POST"], "sandboxes/{id}/pause": ["POST"], "sandboxes/{id}/resume": ["POST"],
        "sandboxes/{id}/commands": ["GET", "POST"], "sandboxes/{id}/commands/{cid}": ["GET"],
        "sandboxes/{id}/commands/{cid}/kill": ["POST"], "sandboxes/{id}/commands/{cid}/stdin": ["POST"],
        "sandboxes/{id}/commands/{cid}/events": ["GET"], "sandboxes/{id}/events": ["GET"], "events": ["GET"],
        "sandboxes/{id}/files": ["GET", "PUT", "DELETE"], "sandboxes/{id}/files/list": ["GET"],
        "sandboxes/{id}/files/mkdir": ["POST"], "sandboxes/{id}/commit": ["POST"], "images": ["GET", "DELETE"],
        "sandboxes/{id}/network/rules": ["GET"], "sandboxes/{id}/network/stats": ["GET"],
        "sandboxes/{id}/network/allow": ["POST"], "sandboxes/{id}/network/deny": ["POST"],
        "sandboxes/{id}/network/decisions": ["GET"], "sandboxes/{id}/network/decisions/{rid}": ["POST"],
        "metrics": ["GET"], "sandboxes/{id}/snapshot": ["POST"], "snapshots": ["GET"], "snapshots/{name}": ["GET", "DELETE"],
    ]

    /// The routes that take no query parameter at all.
    static let queryFree: Set<String> = ["health", "version", "sandboxes/{id}", "sandboxes/{id}/timeout", "sandboxes/{id}/snapshot",
                                         "snapshots", "snapshots/{name}"]

    /// A query parameter the route does not take is a 400 naming it (a misspelt
    /// `?pth=` must not be read as "no path given", nor silently ignored).
    static func refuseUnknownQuery(_ r: APIRequest, known: Set<String>) throws {
        if let unknown = r.query.first(where: { !known.contains($0.name) }) {
            let takes = known.isEmpty ? "this route takes none" : "this route takes \(known.sorted().joined(separator: ", "))"
            throw APIError.badRequest(field: unknown.name.isEmpty ? "query" : unknown.name, "unknown query parameter (\(takes))")
        }
    }

    /// Whether the init runs: it exists and is not a zombie waiting for its parent.
    static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state != "Z" && state != "X"
    }

    /// The policy loader's rule for a name (Agent's PolicyLibrary.isName, not a file name):
    /// letters, digits, '.', '_', '-', not starting with '.', no .yaml/.yml/.json suffix.
    static func isPolicyName(_ text: String) -> Bool {
        guard let first = text.utf8.first, first != UInt8(ascii: "."), text.utf8.count <= 255 else { return false }
        guard !text.hasSuffix(".yaml"), !text.hasSuffix(".yml"), !text.hasSuffix(".json") else { return false }
        return text.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    /// The files of a native sandbox, reached from the host (SandboxFiles).
    static func files(of record: SandboxRecord) throws -> SandboxFiles {
        guard !record.isGvisor else {
            throw APIError.internalError("files: sandbox \(record.id) runs on the gvisor backend, whose files are reached by exec (GvisorFiles)")
        }
        return SandboxFiles(pid: record.pid)
    }

    /// The files of a gVisor sandbox, whose root lives inside gVisor's kernel (its
    /// overlay in the sandbox's memory) where the host has no path: reached by exec,
    /// so only while it runs (a paused one takes no exec: 409).
    func gvisorFiles(_ record: SandboxRecord) throws -> GvisorFiles {
        try store.requireRunning(record)
        return GvisorFiles(runtime: store.runtime, id: record.id)
    }

    /// Where a PUT's bytes go as they arrive: the file itself on the native backend;
    /// under gVisor a host file, written into the sandbox by `finish` once it is whole
    /// (a pipe to the exec would stall the event loop on a slow reader).
    func uploadTarget(_ id: String, path: String) throws -> (OwnedDescriptor, finish: ((OwnedDescriptor) throws -> Void)?) {
        let record = try store.get(id)
        guard record.isGvisor else { return (try Self.files(of: record).openForWriting(path), nil) }
        _ = try SandboxFiles.split(path)
        let files = try gvisorFiles(record)
        let staged = OwnedDescriptor(try RuntimeClient.scratchFile())
        return (staged, { try files.write(path, from: $0.rawValue) })
    }

    private func create(_ body: JSONObject) throws -> [String: Any] {
        if let snapshot = try body.string("snapshot") {
            // The snapshot says what the sandbox is: its policy, root and env.
            for field in ["policy", "rootfs", "image", "env", "decider", "deciderTimeout"] where body.values[field] != nil {
                throw APIError.badRequest(field: field, "not with snapshot (the snapshot's own is used)")
            }
            try SandboxStore.checkSnapshotName(snapshot, field: "snapshot")
            let timeout = try body.integer("timeout", in: 1...SandboxStore.maxTimeout)
            let record = try store.restore(snapshot: snapshot, timeout: timeout, metadata: body.values["metadata"] != nil ? try body.stringMap("metadata") : nil)
            return record.json(state: "running")
        }
        let inline = try InlinePolicy.from(body, allowed: allowInlinePolicy)
        let policy = inline == nil ? try body.string("policy") ?? "default" : InlinePolicy.recordName
        try Self.checkPolicy(policy)
        let env = try body.stringMap("env", keyRule: JSONObject.envKeyProblem)
        let timeout = try body.integer("timeout", in: 1...SandboxStore.maxTimeout) ?? Self.defaultSandboxTimeout
        let metadata = try body.stringMap("metadata")
        let image = try body.string("image")
        let rootfs = try body.string("rootfs")
        let deciderTimeout = try Self.clientDecider(body)
        var request: SandboxStore.CreateRequest
        if let image {
            guard rootfs == nil else { throw APIError.badRequest(field: "image", "give image or rootfs, not both") }
            try checkImageReference(image)
            request = SandboxStore.CreateRequest(policy: policy, rootfs: "", image: image, env: env, timeout: timeout, metadata: metadata)
        } else {
            guard let rootfs else {
                throw APIError.badRequest(field: "rootfs", "missing (an image reference as image, or the root filesystem as rootfs, an absolute host path)")
            }
            try Self.checkRootfs(rootfs, images: images)
            request = SandboxStore.CreateRequest(policy: policy, rootfs: rootfs, image: nil, env: env, timeout: timeout, metadata: metadata)
        }
        request.inlinePolicy = inline
        request.clientDeciderTimeout = deciderTimeout
        let record = try store.create(request)
        return record.json(state: "running")
    }

    /// `"decider": "client"` (and `deciderTimeout`, seconds): the deadline of the
    /// sandbox's client decider, or nil when it has none.
    static func clientDecider(_ body: JSONObject) throws -> Double? {
        let timeout = try body.seconds("deciderTimeout", max: ClientDeciders.maximumTimeout)
        guard let decider = try body.string("decider") else {
            if timeout != nil { throw APIError.badRequest(field: "deciderTimeout", "only with \"decider\": \"client\"") }
            return nil
        }
        guard decider == "client" else {
            throw APIError.badRequest(field: "decider", "\"\(decider)\" is not \"client\" (a client answers the sandbox's egress questions on its event stream)")
        }
        return timeout ?? ClientDeciders.defaultTimeout
    }

    /// A policy as a client may name it: a profile or a policy of the policy directory,
    /// never a file (the service reads as root, and a parse error would quote what it read).
    static func checkPolicy(_ policy: String) throws {
        guard !policy.isEmpty else { throw APIError.badRequest(field: "policy", "must not be empty") }
        guard isPolicyName(policy) else {
            throw APIError.badRequest(field: "policy", "\"\(policy)\" is not a policy name (a profile or a policy in the policy directory; no paths)")
        }
    }

    /// A rootfs: an absolute path to a directory, under one of `images` when any are given.
    static func checkRootfs(_ rootfs: String, images: [String]) throws {
        guard rootfs.hasPrefix("/") else { throw APIError.badRequest(field: "rootfs", "\"\(rootfs)\" is not absolute") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: rootfs, isDirectory: &isDir), isDir.boolValue else {
            throw APIError.badRequest(field: "rootfs", "\(rootfs) is not a directory")
        }
        if !images.isEmpty {
            let real = realpath(rootfs, nil).map { p in defer { free(p) }; return String(cString: p) } ?? rootfs
            guard images.contains(where: { real.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
                throw APIError.badRequest(field: "rootfs", "\(rootfs) is not under \(images.joined(separator: " or ")) (--images)")
            }
        }
    }

    /// `?metadata.KEY=VALUE` filters (all must match).
    private func list(_ r: APIRequest) throws -> [[String: Any]] {
        var filters: [(String, String)] = []
        for (name, value) in r.query {
            guard name.hasPrefix("metadata."), name.count > "metadata.".count else {
                throw APIError.badRequest(field: name, "unknown query parameter (filter with metadata.KEY=VALUE)")
            }
            filters.append((String(name.dropFirst("metadata.".count)), value))
        }
        return store.list()
            .filter { record in filters.allSatisfy { record.metadata[$0.0] == $0.1 } }
            .map { $0.json(state: store.quickState($0)) }
    }

    private func command(_ record: SandboxRecord, _ body: JSONObject) throws -> CommandPlan {
        let argv: [String]
        switch body.values["cmd"] {
        case let shell as String:
            guard !shell.isEmpty else { throw APIError.badRequest(field: "cmd", "must not be empty") }
            argv = ["/bin/sh", "-c", shell]
        case let list as [Any]:
            let strings = list.compactMap { $0 as? String }
            guard !strings.isEmpty, strings.count == list.count else {
                throw APIError.badRequest(field: "cmd", "must be a shell string or a non-empty array of strings")
            }
            argv = strings
        case nil, is NSNull:
            throw APIError.badRequest(field: "cmd", "missing (a shell string or an argv array)")
        default:
            throw APIError.badRequest(field: "cmd", "must be a shell string or a non-empty array of strings")
        }
        let cwd = try body.string("cwd")
        if let cwd, !cwd.hasPrefix("/") { throw APIError.badRequest(field: "cwd", "\"\(cwd)\" is not absolute") }
        var env = record.env.merging(try body.stringMap("env", keyRule: JSONObject.envKeyProblem)) { $1 }
        let background = try body.boolean("background") ?? false
        let killOnDisconnect = try body.boolean("killOnDisconnect") ?? false
        // A background command has no timeout unless it asks for one: it lives as long
        // as its sandbox, or until it is killed.
        let timeout = try body.seconds("timeout", max: Double(SandboxStore.maxTimeout))
            ?? (background ? nil : Self.defaultCommandTimeout)
        let stdin = try body.string("stdin").map { Data($0.utf8) }
        // Checked after the fields, so a malformed request is a 400 whatever the state.
        try store.requireRunning(record)
        // A background command's stdin stays open for later writes; a foreground one
        // gets what was given, then end of file.
        let input: CommandRun.Input = background ? .open(stdin ?? Data()) : stdin.map { .bytes($0) } ?? .none
        let pidFile = "\(store.records.directory(record.id))/exec-\(SandboxStore.randomHex(6)).pid"
        var stopInside: [String]?
        if record.isGvisor {
            // The command and everything it starts inherit the mark; a stop kills them
            // by it (GvisorCommandMark).
            let mark = SandboxStore.randomHex(8)
            env[GvisorCommandMark.variable] = mark
            stopInside = store.runtime.execArguments(id: record.id, argv: GvisorCommandMark.killArgv(mark: mark), cwd: nil, env: [:])
        }
        return CommandPlan(sandboxId: record.id,
                           arguments: store.runtime.execArguments(id: record.id, argv: argv, cwd: cwd, env: env, pidFile: pidFile),
                           argv: argv, cwd: cwd, pidFile: pidFile, input: input, timeout: timeout,
                           background: background, killOnDisconnect: killOnDisconnect, stopInside: stopInside)
    }

    /// A directory with contents is removed from inside the sandbox, by its own root
    /// (rm -rf there cannot reach the host).
    private func removeTreeInside(_ record: SandboxRecord, _ path: String) throws {
        try store.requireRunning(record)
        let args = Array(store.runtime.execArguments(id: record.id, argv: ["rm", "-rf", "--", path], cwd: nil, env: [:]).dropFirst(2))
        let out = try store.runtime.run(args)
        guard out.status == 0 else { throw APIError.runtime("remove \(path): \(out.errorLine)") }
    }
}
