import Foundation
import NIOConcurrencyHelpers

/// The service's sandboxes: the in-memory index over the records on disk, the
/// lifecycle (create, delete, timeout) through the runtime, the reaper of expired ones.
final class SandboxStore: @unchecked Sendable {
    let runtime: RuntimeClient
    let records: RecordDirectory
    private let lock = NIOLock()
    private var sandboxes: [String: SandboxRecord] = [:]
    /// Ids being deleted: not listed, not deleted twice.
    private var deleting: Set<String> = []

    /// The longest timeout a sandbox may ask for (24 hours).
    static let maxTimeout = 86_400

    init(runtime: RuntimeClient, records: RecordDirectory) {
        self.runtime = runtime
        self.records = records
    }

    /// Finds the sandboxes of an earlier run of the service: those still running are
    /// served again (with a fresh pid from the runtime), the others removed.
    func recover() {
        for var record in records.loadAll() {
            if let state = runtime.state(record.id), state.status == "running", record.expiresAt > Date() {
                record.pid = state.pid
                lock.withLock { sandboxes[record.id] = record }
            } else {
                runtime.delete(record.id)
                records.remove(record.id)
            }
        }
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
        var rootfs: String
        var env: [String: String]
        var timeout: Int
        var metadata: [String: String]
        /// The warden's deadline (`agent spec --timeout`); nil: far out, this store enforces it.
        var wardenTimeout: String? = nil
    }

    func create(_ request: CreateRequest) throws -> SandboxRecord {
        let id = "sbx-" + Self.randomHex(8)
        let dir = records.directory(id), bundle = records.bundle(id)
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var created = false
        do {
            let spec = try runtime.spec(policy: request.policy, rootfs: request.rootfs, env: request.env,
                                        wardenTimeout: request.wardenTimeout ?? "576h")
            guard spec.status == 0 else {
                throw APIError.badRequest(field: "policy", spec.errorLine.replacingOccurrences(of: "agent spec: ", with: ""))
            }
            try spec.stdout.write(to: URL(fileURLWithPath: "\(bundle)/config.json"))
            let now = Date()
            var record = SandboxRecord(id: id, policy: request.policy, rootfs: request.rootfs, env: request.env,
                                       metadata: request.metadata, createdAt: now,
                                       expiresAt: now.addingTimeInterval(TimeInterval(request.timeout)), pid: 0)
            // The record goes down before the container exists: a service killed in
            // between leaves a record that recover() cleans up, never an unknown container.
            try records.save(record)
            let create = try runtime.run(["create", "--bundle", bundle, id])
            guard create.status == 0 else { throw APIError.runtime("create: \(create.errorLine)") }
            created = true
            let start = try runtime.run(["start", id])
            guard start.status == 0 else { throw APIError.runtime("start: \(start.errorLine)") }
            guard let state = runtime.state(id), state.pid > 0 else { throw APIError.runtime("state: the sandbox's init is gone") }
            record.pid = state.pid
            try records.save(record)
            lock.withLock { sandboxes[id] = record }
            return record
        } catch {
            if created { runtime.delete(id) }
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
    }

    /// Kills and removes the sandbox; the record goes last, so a failed delete is retried
    /// by the reaper or the next start.
    func delete(_ id: String) throws {
        let claimed: Bool = lock.withLock {
            guard sandboxes[id] != nil, !deleting.contains(id) else { return false }
            deleting.insert(id)
            return true
        }
        guard claimed else { throw APIError.sandboxNotFound(id) }
        let gone = runtime.delete(id)
        lock.withLock {
            deleting.remove(id)
            if gone { sandboxes[id] = nil }
        }
        guard gone else { throw APIError.runtime("delete \(id): the runtime could not remove it") }
        records.remove(id)
    }

    /// A new deadline, `seconds` from now.
    func setTimeout(_ id: String, seconds: Int) throws -> SandboxRecord {
        var record = try get(id)
        record.expiresAt = Date().addingTimeInterval(TimeInterval(seconds))
        try records.save(record)
        lock.withLock { sandboxes[id] = record }
        return record
    }

    /// Deletes every sandbox whose deadline has passed (the reaper's tick).
    func reapExpired(now: Date = Date()) {
        let expired = lock.withLock { sandboxes.values.filter { $0.expiresAt <= now && !deleting.contains($0.id) }.map(\.id) }
        for id in expired { try? delete(id) }
    }

    static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
