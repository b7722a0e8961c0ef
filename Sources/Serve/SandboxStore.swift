import Foundation
import Images
import Observe
import Sandbox
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The service's sandboxes: the in-memory index over the records on disk, the
/// lifecycle (create, delete, timeout, pause, resume) through the runtime, the reaper
/// of expired ones, their commands and their events.
final class SandboxStore: @unchecked Sendable {
    let runtime: RuntimeClient
    let records: RecordDirectory
    private let specs = SpecCache()
    let events = EventHub()
    let audit: AuditFeed
    let limits: LimitFeed
    let fileChanges: FileChangeFeed
    let commands: CommandTable
    /// The decider sockets of the sandboxes whose clients decide (`"decider": "client"`).
    let deciders: ClientDeciders
    /// /metrics: what the sandboxes use, create latency, limits hit (ServiceMetrics).
    let metrics: ServiceMetrics
    /// The image store's side: images resolved, mounted and held for sandboxes.
    let images: SandboxImages
    private let lock = NIOLock()
    /// Serialises pause and resume (each a short runtime call), so two cannot race.
    let lifecycle = NIOLock()
    private var sandboxes: [String: SandboxRecord] = [:]
    /// Ids being deleted: not listed, not deleted twice.
    private var deleting: Set<String> = []

    /// The longest timeout a sandbox may ask for (24 hours).
    static let maxTimeout = 86_400

    let pool: WarmPool
    /// Where snapshots are kept (`--snapshots`), one directory per name.
    var snapshots = SandboxStore.defaultSnapshots
    static let defaultSnapshots = "/var/lib/safehouse/snapshots"
    /// Fills the warm pool, one sandbox at a time, off the requests' threads.
    let poolQueue = DispatchQueue(label: "safehouse-serve.warm")

    init(runtime: RuntimeClient, records: RecordDirectory, images: SandboxImages, warm: [WarmPool.Target] = []) {
        self.runtime = runtime
        self.records = records
        self.images = images
        pool = WarmPool(targets: warm)
        limits = LimitFeed(events: events)
        fileChanges = FileChangeFeed(events: events)
        audit = AuditFeed(events: events, limits: limits)
        commands = CommandTable(executable: runtime.executable)
        deciders = ClientDeciders(events: events)
        metrics = ServiceMetrics(root: runtime.root)
    }

    /// Finds the sandboxes of an earlier run of the service: those still running are
    /// served again (with a fresh pid from the runtime), the others removed.
    func recover() {
        for var record in records.loadAll() {
            if record.warm == true {
                adoptWarm(record)
                continue
            }
            if let state = runtime.state(record.id), state.status == "running" || state.status == "paused",
               record.expiresAt > Date(), holdImage(of: record) {
                record.pid = state.pid
                // The runtime's word on pause wins: the service may have died between
                // the runtime's pause or resume and its own record of it.
                if state.status == "paused" { record.pausedAt = record.pausedAt ?? Date() } else { record.pausedAt = nil }
                stopOrphanedCommands(record)
                if let timeout = record.clientDeciderTimeout {
                    // The warden still asks at the same path: listened on again.
                    try? deciders.listen(record.id, directory: records.directory(record.id), timeout: timeout)
                }
                lock.withLock { sandboxes[record.id] = record }
                audit.track(record.id, path: AuditFeed.logPath(id: record.id, bundle: records.bundle(record.id)), fromEnd: true)
                limits.track(record.id, pid: record.pid)
                trackFileChanges(record)
            } else {
                runtime.delete(record.id)
                if record.image != nil || record.snapshot != nil { images.release(record.id, rootfs: records.bundle(record.id) + "/rootfs") }
                records.remove(record.id)
            }
        }
    }

    /// The commands an earlier run of the service started and left behind (it was
    /// killed): nobody can read their output any more and nothing enforces their
    /// timeout, so each is killed with its process group. Their pid files say which;
    /// a pid counts only if it is in the sandbox's pid namespace (a pid the host has
    /// since given to another process is left alone). Under gVisor, by their mark.
    private func stopOrphanedCommands(_ record: SandboxRecord) {
        let dir = records.directory(record.id)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        if record.isGvisor, names.contains(where: { $0.hasPrefix("exec-") && $0.hasSuffix(".pid") }) {
            // No command of this run of the service exists yet: every marked one is old.
            GvisorCommandMark.run(runtime.executable, runtime.execArguments(id: record.id, argv: GvisorCommandMark.killArgv(mark: nil), cwd: nil, env: [:]))
        }
        let sandboxNamespace = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(record.pid)/ns/pid")
        for name in names where name.hasPrefix("exec-") && name.hasSuffix(".pid") {
            let file = "\(dir)/\(name)"
            if let text = try? String(contentsOfFile: file, encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1, let sandboxNamespace,
               (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid")) == sandboxNamespace {
                kill(-pid, SIGKILL)
            }
            unlink(file)
        }
    }

    /// Takes the layer locks of a recovered sandbox's image again; false when its
    /// layers are gone (it cannot be served: its root stacks on them).
    private func holdImage(of record: SandboxRecord) -> Bool {
        guard let image = record.image else { return true }
        return (try? images.hold(image, for: record.id)) != nil
    }

    func get(_ id: String) throws -> SandboxRecord {
        guard let record = lock.withLock({ deleting.contains(id) ? nil : sandboxes[id] }) else {
            throw APIError.sandboxNotFound(id)
        }
        return record
    }

    func list() -> [SandboxRecord] {
        lock.withLock { sandboxes.values.filter { !deleting.contains($0.id) } }.sorted { $0.createdAt < $1.createdAt }
    }

    /// The sandbox's state as the runtime sees it ("running", "stopped", ...).
    func state(of record: SandboxRecord) -> String {
        runtime.state(record.id)?.status ?? "unknown"
    }

    struct CreateRequest {
        var policy: String
        /// A host directory, or "" for an image.
        var rootfs: String
        /// An image reference (as `agent run --image` takes), or nil for a rootfs.
        var image: String? = nil
        var env: [String: String]
        var timeout: Int
        var metadata: [String: String]
        /// The policy document when the client gave one (policy then reads "inline").
        var inlinePolicy: InlinePolicy? = nil
        /// The deadline of the sandbox's client decider (`"decider": "client"`); nil: none.
        var clientDeciderTimeout: Double? = nil
    }

    /// A sandbox from the warm pool when one waits for this policy and root filesystem,
    /// else a new one.
    func create(_ request: CreateRequest) throws -> SandboxRecord {
        let began = Date()
        let record: SandboxRecord
        if request.image == nil, request.inlinePolicy == nil, request.clientDeciderTimeout == nil, let warm = try handOutWarm(request) {
            record = warm
        } else {
            record = try launch(request)
            admit(record)
        }
        metrics.recordCreate(policy: request.policy, seconds: Date().timeIntervalSince(began))
        return record
    }

    /// The spec of the policy on the root filesystem (cached: see SpecCache).
    func spec(policy: String, rootfs: String) throws -> Data {
        try specs.spec(policy: policy, rootfs: rootfs) { try generatedSpec(policy: policy, rootfs: rootfs) }
    }

    private func generatedSpec(policy: String, rootfs: String, image: String? = nil) throws -> Data {
        let out = try runtime.spec(policy: policy, rootfs: rootfs, image: image)
        guard out.status == 0 else {
            throw APIError.badRequest(field: "policy", out.errorLine.replacingOccurrences(of: "agent spec: ", with: ""))
        }
        return out.stdout
    }

    /// Makes and starts the sandbox, its record on disk; not yet served (see admit).
    /// `warm`: made for the pool.
    func launch(_ request: CreateRequest, warm: Bool = false, spec given: Data? = nil) throws -> SandboxRecord {
        let id = "sbx-" + Self.randomHex(8)
        let dir = records.directory(id), bundle = records.bundle(id)
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var attempted = false
        var image: ImageRecord?
        do {
            var config: Data
            if let ref = request.image {
                let resolved = try images.resolve(ref)
                let rootfs = bundle + "/rootfs"
                try images.mount(resolved, for: id, at: rootfs)
                image = resolved
                // The spec names this sandbox's own mount of the image: nothing to share.
                let generated = try request.inlinePolicy.map { try inlineSpec($0, rootfs: rootfs, image: resolved.name, directory: dir) }
                    ?? generatedSpec(policy: request.policy, rootfs: rootfs, image: resolved.name)
                config = try Self.withIdleInit(generated)
            } else if let inline = request.inlinePolicy {
                config = try inlineSpec(inline, rootfs: request.rootfs, directory: dir)
            } else {
                config = try given ?? spec(policy: request.policy, rootfs: request.rootfs)
            }
            if let timeout = request.clientDeciderTimeout {
                config = try Self.withClientDecider(config, directory: dir, timeout: timeout)
                // Listening before the sandbox runs: its first connection may ask.
                try deciders.listen(id, directory: dir, timeout: timeout)
            }
            try StateFile.write(config, to: "\(bundle)/config.json", mode: 0o644)
            let now = Date()
            var record = SandboxRecord(id: id, policy: request.policy, rootfs: request.rootfs, image: image, env: request.env,
                                       metadata: request.metadata, createdAt: now,
                                       expiresAt: now.addingTimeInterval(TimeInterval(request.timeout)), pid: 0,
                                       backend: runtime.backend, warm: warm ? true : nil)
            record.clientDeciderTimeout = request.clientDeciderTimeout
            // The record goes down before the container exists: a service killed in
            // between leaves a record that recover() cleans up, never an unknown container.
            try records.save(record)
            // One `run --detach` rather than create, start and state: each runtime call
            // is a process start, and a sandbox's creation is on the path to its first
            // command's output.
            let pidFile = "\(dir)/init.pid"
            attempted = true
            let run = try runtime.run((runtime.backend.map { ["--backend", $0] } ?? []) + ["run", "--detach", "--pid-file", pidFile, "--bundle", bundle, id])
            guard run.status == 0 else { throw APIError.runtime("run: \(run.errorLine)") }
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
                throw APIError.runtime("run: no init pid in \(pidFile)")
            }
            record.pid = pid
            try records.save(record)
            return record
        } catch {
            if request.clientDeciderTimeout != nil { deciders.close(id) }
            if attempted { runtime.delete(id) }
            // Unmounted before the directory goes: a removal must not walk into the layers.
            if request.image != nil { images.release(id, rootfs: bundle + "/rootfs") }
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    /// Serves a launched (or handed-out) sandbox: listed, its audit log and limits
    /// followed, `created` published.
    func admit(_ record: SandboxRecord) {
        let id = record.id
        publishDeadline(record)
        lock.withLock { sandboxes[id] = record }
        audit.track(id, path: AuditFeed.logPath(id: id, bundle: records.bundle(id)))
        limits.track(id, pid: record.pid)
        events.publish(id, "created", ["policy": record.policy, "expiresAt": Timestamp.string(record.expiresAt)])
        trackFileChanges(record)
    }

    /// Follows what the sandbox changes in its root (FileChangeFeed): the upper
    /// directory of its ephemeral root against its image. Not under gVisor, whose root
    /// the host cannot see.
    private func trackFileChanges(_ record: SandboxRecord) {
        guard !record.isGvisor else { return }
        let upper = EphemeralRoot.directory(root: runtime.root, id: record.id) + "/upper"
        let lower = record.image != nil ? records.bundle(record.id) + "/rootfs" : record.rootfs
        fileChanges.track(record.id, upper: upper, lower: lower)
    }

    /// The deadline this service enforces, beside the bundle's config.json, for readers
    /// that know only the runtime's state (`safehouse top`): the warden's own deadline
    /// is the far-out one every sandbox of the service gets (ServiceDeadline).
    func publishDeadline(_ record: SandboxRecord) {
        let path = records.bundle(record.id) + "/" + ServiceDeadline.fileName
        try? StateFile.write(Data(ServiceDeadline.text(record.expiresAt.timeIntervalSince1970).utf8), to: path, mode: 0o644)
    }

    /// Why a sandbox went: a client's delete, or its deadline.
    enum Removal: String {
        case killed, expired
    }

    /// Kills and removes the sandbox; the record goes last, so a failed delete is retried
    /// by the reaper or the next start. Its followers see what the runtime recorded at
    /// the end (limits, the change set), then `killed` or `expired`, then the end.
    func delete(_ id: String, because removal: Removal = .killed) throws {
        try claim(id)
        metrics.observeBeforeDelete()
        let gone = runtime.delete(id)
        guard gone else {
            unclaim(id)
            throw APIError.runtime("delete \(id): the runtime could not remove it")
        }
        forget(id, because: removal.rawValue)
    }

    /// Marks a sandbox as being removed: not listed, not removed twice.
    func claim(_ id: String) throws {
        let claimed: Bool = lock.withLock {
            guard sandboxes[id] != nil, !deleting.contains(id) else { return false }
            deleting.insert(id)
            return true
        }
        guard claimed else { throw APIError.sandboxNotFound(id) }
        // What the sandbox changed until now is published; its root's teardown is not.
        fileChanges.untrack(id)
    }

    func unclaim(_ id: String) {
        lock.withLock { _ = deleting.remove(id) }
        if let record = lock.withLock({ sandboxes[id] }) { trackFileChanges(record) }
    }

    /// What is left of a claimed sandbox the runtime no longer has: its commands, its
    /// root's mount, its record, its followers (`event` published, then the end).
    func forget(_ id: String, because event: String, details: [String: String] = [:]) {
        commands.removeAll(id)
        deciders.close(id)
        if let record = lock.withLock({ sandboxes[id] }), record.image != nil || record.snapshot != nil {
            images.release(id, rootfs: records.bundle(id) + "/rootfs")
        }
        records.remove(id)
        audit.poll(id)
        audit.untrack(id)
        limits.untrack(id)
        events.publish(id, event, details)
        events.end(id)
        // Known (as being deleted) until its followers have had the end: one that comes
        // later finds it gone (`isKnown`) and ends at once.
        lock.withLock {
            deleting.remove(id)
            sandboxes[id] = nil
        }
    }

    /// Whether the service has the sandbox, being deleted included.
    func isKnown(_ id: String) -> Bool {
        lock.withLock { sandboxes[id] != nil }
    }

    /// A new deadline, `seconds` from now.
    func setTimeout(_ id: String, seconds: Int) throws -> SandboxRecord {
        var record = try get(id)
        record.expiresAt = Date().addingTimeInterval(TimeInterval(seconds))
        try update(record)
        events.publish(id, "timeout_set", ["expiresAt": Timestamp.string(record.expiresAt)])
        return record
    }

    /// Replaces the record of a sandbox still served (after a pause or a resume).
    func update(_ record: SandboxRecord) throws {
        try records.save(record)
        publishDeadline(record)
        lock.withLock { if sandboxes[record.id] != nil { sandboxes[record.id] = record } }
    }

    /// Deletes every sandbox whose deadline has passed (the reaper's tick).
    func reapExpired(now: Date = Date()) {
        let expired = lock.withLock { sandboxes.values.filter { $0.expiresAt <= now && !deleting.contains($0.id) }.map(\.id) }
        for id in expired {
            // Deleted at its deadline: a timeout among the limits hit (/metrics).
            if (try? delete(id, because: .expired)) != nil { metrics.recordTimeout() }
        }
    }

    /// The spec with the service's idle init as its process: with an image, `agent
    /// spec` puts the image's Entrypoint before the command, but a sandbox's init only
    /// keeps it alive (commands are execs); the image's env, working directory and
    /// user stay.
    static func withIdleInit(_ spec: Data) throws -> Data {
        guard var object = try? JSONSerialization.jsonObject(with: spec) as? [String: Any],
              var process = object["process"] as? [String: Any] else {
            throw APIError.internalError("agent spec printed no OCI config")
        }
        process["args"] = RuntimeClient.idleInit
        object["process"] = process
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// The spec with this service as the sandbox's decider (ClientDeciders), at
    /// `directory`'s socket; a policy without egress has nothing to decide (400).
    static func withClientDecider(_ spec: Data, directory: String, timeout: Double) throws -> Data {
        guard var object = try? JSONSerialization.jsonObject(with: spec) as? [String: Any] else {
            throw APIError.internalError("agent spec printed no OCI config")
        }
        var annotations = object["annotations"] as? [String: String] ?? [:]
        guard !(annotations["io.safehouse.network.allow"] ?? "").isEmpty else {
            throw APIError.badRequest(field: "decider", "the policy has no egress (its network.allow is empty): there is nothing to decide")
        }
        guard annotations["io.safehouse.network.decider"] == nil else {
            throw APIError.badRequest(field: "decider", "the policy names its own network.decider")
        }
        annotations["io.safehouse.network.decider"] = ClientDeciders.target(directory: directory)
        annotations["io.safehouse.network.deciderTimeout"] = String(timeout)
        object["annotations"] = annotations
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
