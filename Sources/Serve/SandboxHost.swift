import Foundation
import Images
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The service's sandbox management for a caller in the same process (the MCP server):
/// the same store, records, runtime client, field checks, command runs and file access
/// the HTTP routes use, behind plain blocking calls. Every failure is an `APIError`
/// whose message is one line starting with the field it is about.
public final class SandboxHost: @unchecked Sendable {
    let store: SandboxStore
    /// Directories a rootfs must lie under; empty: any.
    public let images: [String]
    /// Its own reaper, when the host owns the store (the service has one already).
    private let reaper: DispatchSourceTimer?

    public struct Info: Sendable {
        public let id: String
        public let policy: String
        public let rootfs: String
        public let expiresAt: Date
    }

    public struct CommandResult: Sendable {
        public let stdout: String
        public let stderr: String
        public let exitCode: Int32
        public let timedOut: Bool
        /// Bytes of output dropped past `outputLimit` (stdout and stderr together).
        public let truncatedBytes: Int

        public init(stdout: String, stderr: String, exitCode: Int32, timedOut: Bool, truncatedBytes: Int) {
            self.stdout = stdout
            self.stderr = stderr
            self.exitCode = exitCode
            self.timedOut = timedOut
            self.truncatedBytes = truncatedBytes
        }
    }

    public struct FileEntry: Sendable {
        public let name: String
        public let type: String
        public let size: Int64
    }

    /// `runtime`: the safehouse binary; `root`: its state root; `stateDir`: this host's
    /// records (made 0700). Starts a reaper that deletes each sandbox at its deadline.
    public init(runtime: String, root: String, stateDir: String, images: [String]) throws {
        guard access(runtime, X_OK) == 0 else { throw APIError.badRequest(field: "--runtime", "no runtime at \(runtime)") }
        let records = RecordDirectory(path: stateDir)
        do { try records.prepare() } catch {
            throw APIError.badRequest(field: "--state-dir", "\(stateDir): \(error.localizedDescription)")
        }
        var client = RuntimeClient(executable: runtime, root: root)
        // As the service does: the root's backend, decided once and pinned in each sandbox.
        client.backend = client.effectiveBackend()
        let imageStore: ImageStore
        do { imageStore = try ImageStore.configured() } catch {
            throw APIError.badRequest(field: "image store", "\(error)")
        }
        let store = SandboxStore(runtime: client, records: records, images: SandboxImages(store: imageStore))
        self.store = store
        self.images = images
        let reaper = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "safehouse.sandbox-host.reaper"))
        reaper.schedule(deadline: .now() + 1, repeating: 1)
        reaper.setEventHandler { store.reapExpired() }
        reaper.resume()
        self.reaper = reaper
    }

    /// The service's own store, for a handler mounted beside its API.
    init(sharing store: SandboxStore, images: [String]) {
        self.store = store
        self.images = images
        reaper = nil
    }

    /// The `safehouse` binary next to this executable (as safehouse-serve finds it).
    public static func siblingRuntime() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("safehouse").path
    }

    public static let maxTimeout = SandboxStore.maxTimeout

    /// The safehouse binary this host runs.
    public var runtimePath: String { store.runtime.executable }

    /// A policy name as the service takes it: a profile or a policy of the policy
    /// directory, never a file.
    public static func isPolicyName(_ text: String) -> Bool { Routes.isPolicyName(text) }

    /// Whether the policy loads (`agent spec` with it and `rootfs`), the loader's own
    /// one-line error when not: an operator's typo fails at start, not at the first sandbox.
    public func checkPolicy(_ policy: String, rootfs: String) throws {
        let out = try store.runtime.spec(policy: policy, rootfs: rootfs)
        guard out.status == 0 else {
            throw APIError.badRequest(field: "policy", out.errorLine.replacingOccurrences(of: "agent spec: ", with: ""))
        }
    }

    /// Checks the policy's name and the rootfs as the API does, then creates and starts the
    /// sandbox; it is deleted at `timeout` (by this host's reaper, or the service's).
    public func create(policy: String, rootfs: String, timeout: Int, metadata: [String: String] = [:]) throws -> Info {
        try Routes.checkPolicy(policy)
        try Routes.checkRootfs(rootfs, images: images)
        guard (1...SandboxStore.maxTimeout).contains(timeout) else {
            throw APIError.badRequest(field: "timeout", "must be a whole number from 1 to \(SandboxStore.maxTimeout)")
        }
        let record = try store.create(.init(policy: policy, rootfs: rootfs, env: [:], timeout: timeout, metadata: metadata))
        return Info(id: record.id, policy: record.policy, rootfs: record.rootfs, expiresAt: record.expiresAt)
    }

    /// Deletes every sandbox recorded under `stateDir` (a host whose process is gone left
    /// them) and the directory itself; what could not be removed, by id.
    @discardableResult
    public static func removeLeftovers(runtime: String, root: String, stateDir: String) -> [String] {
        let records = RecordDirectory(path: stateDir)
        let client = RuntimeClient(executable: runtime, root: root)
        var kept: [String] = []
        for record in records.loadAll() {
            if client.delete(record.id) { records.remove(record.id) } else { kept.append(record.id) }
        }
        if kept.isEmpty { try? FileManager.default.removeItem(atPath: stateDir) }
        return kept
    }

    /// Whether the host has this sandbox (it is gone once deleted or past its deadline).
    public func exists(_ id: String) -> Bool { (try? store.get(id)) != nil }

    public func delete(_ id: String) throws { try store.delete(id) }

    /// Deletes every sandbox this host has; what could not be removed, by id.
    @discardableResult
    public func deleteAll() -> [String] {
        store.list().compactMap { record in (try? store.delete(record.id)) == nil ? record.id : nil }
    }

    /// Runs `argv` in the sandbox as the API's commands run (its own process group, killed
    /// whole at the timeout) and waits for it. At most `outputLimit` bytes of output are
    /// kept; the rest is counted and dropped.
    public func run(_ id: String, argv: [String], cwd: String? = nil, env: [String: String] = [:], stdin: Data? = nil,
                    timeout: TimeInterval, outputLimit: Int = 1 << 20) throws -> CommandResult {
        let record = try store.get(id)
        guard !argv.isEmpty else { throw APIError.badRequest(field: "cmd", "must not be empty") }
        if let cwd, !cwd.hasPrefix("/") { throw APIError.badRequest(field: "cwd", "\"\(cwd)\" is not absolute") }
        try store.requireRunning(record)
        let pidFile = "\(store.records.directory(id))/exec-\(SandboxStore.randomHex(6)).pid"
        var env = record.env.merging(env) { $1 }
        var stopInside: [String]?
        if record.isGvisor {
            // As the API's commands: the command and what it starts carry a mark a stop
            // kills them by (GvisorCommandMark).
            let mark = SandboxStore.randomHex(8)
            env[GvisorCommandMark.variable] = mark
            stopInside = store.runtime.execArguments(id: id, argv: GvisorCommandMark.killArgv(mark: mark), cwd: nil, env: [:])
        }
        let arguments = store.runtime.execArguments(id: id, argv: argv, cwd: cwd, env: env, pidFile: pidFile)

        let lock = NIOLock()
        var decoders: [CommandRun.Stream: UTF8Chunks] = [.stdout: UTF8Chunks(), .stderr: UTF8Chunks()]
        var text: [CommandRun.Stream: String] = [.stdout: "", .stderr: ""]
        var kept = 0, dropped = 0
        var exit: CommandRun.Exit?
        let done = DispatchSemaphore(value: 0)
        let run = CommandRun(
            executable: store.runtime.executable, arguments: arguments, pidFile: pidFile,
            input: stdin.map { .bytes($0) } ?? .none, timeout: timeout, stopInside: stopInside,
            onOutput: { stream, data in
                lock.withLock {
                    let room = max(0, outputLimit - kept)
                    let chunk = data.prefix(room)
                    kept += chunk.count
                    dropped += data.count - chunk.count
                    text[stream]! += decoders[stream]!.decode(Data(chunk))
                }
            },
            onExit: { e in
                lock.withLock { exit = e }
                done.signal()
            })
        do { try run.start() } catch { throw APIError.runtime("exec: \(error)") }
        done.wait()
        return lock.withLock {
            CommandResult(stdout: text[.stdout]! + decoders[.stdout]!.flush(), stderr: text[.stderr]! + decoders[.stderr]!.flush(),
                          exitCode: exit!.code, timedOut: exit!.timedOut, truncatedBytes: dropped)
        }
    }

    /// A regular file's bytes; a file larger than `limit` is refused, naming its size.
    public func read(_ id: String, path: String, limit: Int) throws -> Data {
        let path = try SandboxFiles.validate(path)
        let (fd, size) = try gvisorFiles(id)?.openForReading(path) ?? files(id).openForReading(path)
        guard size <= Int64(limit) else {
            throw APIError.tooLarge("path: \(path) is \(size) bytes, more than the \(limit) read here")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.count <= limit {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd.rawValue, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR || errno == EAGAIN { continue } else { throw SandboxFiles.failure(errno, path) } }
            if n == 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        guard data.count <= limit else { throw APIError.tooLarge("path: \(path) grew past \(limit) bytes while read") }
        return data
    }

    /// Writes `data` to `path` (replacing a regular file, or made with its missing parent
    /// directories, owned by the sandbox's root); the size written.
    @discardableResult
    public func write(_ id: String, path: String, data: Data) throws -> Int {
        let path = try SandboxFiles.validate(path)
        let parent = try SandboxFiles.split(path).parent
        let gvisor = try gvisorFiles(id)
        let files = gvisor == nil ? try files(id) : nil
        if parent != "/" { _ = try gvisor?.makeDirectory(parent) ?? files!.makeDirectory(parent) }
        // Under gVisor the bytes go to a host file first, then into the sandbox by exec.
        let fd = try gvisor == nil ? files!.openForWriting(path) : OwnedDescriptor(RuntimeClient.scratchFile())
        defer { fd.close() }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let n = Glibc.write(fd.rawValue, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR || errno == EAGAIN { continue }
                    throw SandboxFiles.failure(errno, path)
                }
                offset += n
            }
        }
        try gvisor?.write(path, from: fd.rawValue)
        return data.count
    }

    /// The entries of a directory, sorted by name (symlinks as such, not followed).
    public func list(_ id: String, path: String) throws -> [FileEntry] {
        let path = try SandboxFiles.validate(path)
        let entries = try gvisorFiles(id)?.list(path) ?? files(id).list(path)
        return entries.map { FileEntry(name: $0.name, type: $0.type, size: $0.size) }
    }

    /// A gVisor sandbox's files (reached by exec: GvisorFiles); nil for a native one.
    private func gvisorFiles(_ id: String) throws -> GvisorFiles? {
        let record = try store.get(id)
        guard record.isGvisor else { return nil }
        try store.requireRunning(record)
        return GvisorFiles(runtime: store.runtime, id: record.id)
    }

    private func files(_ id: String) throws -> SandboxFiles {
        let record = try store.get(id)
        guard Routes.isAlive(record.pid) else { throw APIError.conflict("sandbox \(id) is not running") }
        return SandboxFiles(pid: record.pid)
    }
}
