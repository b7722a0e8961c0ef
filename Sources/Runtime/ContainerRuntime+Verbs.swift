import ContainerCore
import FoundationEssentials
import Linux
import OCI

/// The verbs on an existing container: each finds the container (and locks it where
/// it changes it), then hands it to its backend. What a verb does lives in the
/// backend's file for it (`Native/NativeBackend+Kill.swift`, `Gvisor/GvisorBackend.swift`).
extension ContainerRuntime {
    /// `start`: only a created container starts; then poststart hooks run.
    public func start(id: String) throws {
        try locked(id) { try $0.start($1, justCreated: false) }
    }

    /// `kill`: signals the init, or with `all` every process of the container.
    public func kill(id: String, signal: Signal, all: Bool) throws {
        try locked(id) { try $0.kill($1, signal: signal, all: all) }
    }

    /// `pause`: freezes every process of a running container.
    public func pause(id: String) throws {
        try locked(id) { try $0.pause($1, true) }
    }

    /// `resume`: thaws a paused container.
    public func resume(id: String) throws {
        try locked(id) { try $0.pause($1, false) }
    }

    /// `update`: applies new resource limits to a live container.
    public func update(id: String, resources: LinuxResources) throws {
        try locked(id) { try $0.update($1, resources: resources) }
    }

    /// `exec`: starts another process in a created or running container; attached,
    /// returns its exit code (128 + signal).
    public func exec(id: String, options: ExecOptions) throws -> Int32 {
        let record = try existing(id)
        // Checked before anything starts (runsc would start the process and then fail
        // on the file, leaving it running); a later failure still ends the process.
        if let pidFile = options.pidFile {
            let path = Bundle.absolute(pidFile)
            let directory = path.utf8.lastIndex(of: UInt8(ascii: "/")).map { String(path[..<$0]) } ?? "."
            guard Files.isDirectory(directory.isEmpty ? "/" : directory) else {
                throw RuntimeError("--pid-file \(pidFile): directory \(directory) does not exist")
            }
        }
        return try backend(for: record).exec(record, options: options)
    }

    /// `ps --format json`: the host pids of the container's processes.
    public func processIDs(id: String) throws -> [Int32] {
        let record = try existing(id)
        return try backend(for: record).processIDs(of: record)
    }

    /// `ps` (table): the container's processes as its backend lists them.
    public func processTable(id: String, psArguments: [String]) throws -> String {
        let record = try existing(id)
        return try backend(for: record).processTable(of: record, psArguments: psArguments)
    }

    /// `events` (and `events --stats`) where the backend has its own (gvisor: runsc's,
    /// which replace this process). Returns false when the caller is to read the
    /// container's cgroups itself (`stats`, `streamEvents`).
    public func delegateEvents(id: String, stats: Bool, interval: String) throws -> Bool {
        let record = try existing(id)
        return try backend(for: record).delegateEvents(of: record, stats: stats, interval: interval)
    }

    /// Runs `body` with the container's backend and record, under its lock: for a verb
    /// that changes the container.
    func locked<T>(_ id: String, _ body: (any ContainerBackend, ContainerRecord) throws -> T) throws -> T {
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        return try body(backend(for: record), record)
    }

    /// The record of an existing container, for a verb that does not lock it.
    func existing(_ id: String) throws -> ContainerRecord {
        try ContainerID.validate(id)
        guard Files.isDirectory(store.directory(of: id)) else { throw RuntimeError.containerNotFound(id) }
        return try store.load(id)
    }

    /// Reads `--resources FILE` (or "-" for stdin): the OCI `linux.resources` object.
    public static func readResources(_ path: String) throws -> LinuxResources {
        let bytes = try stage("--resources \(path)") {
            guard path == "-" else { return try Files.read(path, limit: 16 << 20) }
            // Read to end of file, stdin left open.
            let stdin = FileDescriptor(adopting: 0)
            defer { _ = stdin.release() }
            return try stdin.readAll(limit: 16 << 20)
        }
        return try stage("--resources \(path): not a valid linux.resources object") { try LinuxResources.decode(from: bytes) }
    }
}
