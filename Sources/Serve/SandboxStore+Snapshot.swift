import Foundation

/// Snapshots: a sandbox saved to disk by `safehouse agent checkpoint` (its memory, its
/// root's upper layer, its spec) under a name, and new sandboxes restored from it by
/// `agent restore`, as many as asked (docs/serve.md, "Snapshots"; docs/checkpoint.md).
/// Each is a directory of `--snapshots`: the runtime's snapshot plus `service.json`,
/// what the service adds (the policy's name, the time the sandbox had left, its
/// metadata and env), so a snapshot outlives the service that made it.
extension SandboxStore {
    /// What the service keeps beside the runtime's snapshot.
    struct SnapshotFacts: Codable {
        var name: String
        var source: String
        var policy: String
        var rootfs: String
        var image: String?
        var backend: String?
        var createdAt: Date
        /// Seconds the sandbox had left (its service deadline).
        var timeoutSeconds: Int
        var env: [String: String]
        var metadata: [String: String]

        func json() -> [String: Any] {
            var d: [String: Any] = ["name": name, "source": source, "policy": policy, "createdAt": Timestamp.string(createdAt),
                                    "timeout": timeoutSeconds, "metadata": metadata]
            if let image { d["image"] = image } else { d["rootfs"] = rootfs }
            if let backend { d["backend"] = backend }
            return d
        }
    }

    static let snapshotFactsFile = "service.json"

    /// A snapshot's name: a directory name of --snapshots, nothing that walks out of it.
    static func checkSnapshotName(_ name: String, field: String) throws {
        let allowed = name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
        guard !name.isEmpty, name.count <= 128, allowed, !name.hasPrefix(".") else {
            throw APIError.badRequest(field: field, "\"\(name)\" is not a snapshot name (1 to 128 of letters, digits and ._-, not starting with .)")
        }
    }

    func snapshotDirectory(_ name: String) -> String { snapshots + "/" + name }

    /// Saves sandbox `id` as snapshot `name`; the sandbox is then gone (its followers
    /// see `snapshotted`, then the end). On a refusal (secrets or an egress decider on gvisor,
    /// CRIU that cannot run natively) it runs on, and nothing is made; a checkpoint that
    /// failed after the sandbox was stopped (a connection runsc cannot save) ends it.
    func snapshot(_ id: String, as name: String) throws -> SnapshotFacts {
        try lifecycle.withLock {
            let record = try get(id)
            let dir = snapshotDirectory(name)
            try FileManager.default.createDirectory(atPath: snapshots, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            // Made here, empty: a second snapshot of the name fails at once, not after a checkpoint.
            guard mkdir(dir, 0o700) == 0 else {
                if errno == EEXIST { throw APIError.conflict("snapshot \(name) exists (delete it first)") }
                throw APIError.internalError("snapshot \(dir): \(String(cString: strerror(errno)))")
            }
            try claim(id)
            let out: RuntimeClient.Output
            do { out = try runtime.run(["agent", "checkpoint", id, "--to", dir]) } catch {
                unclaim(id)
                try? FileManager.default.removeItem(atPath: dir)
                throw error
            }
            guard out.status == 0 else {
                try? FileManager.default.removeItem(atPath: dir)
                // A checkpoint that failed after runsc stopped the sandbox (a connection
                // runsc cannot save) leaves no sandbox: the runtime removed it.
                if (try? runtime.run(["state", id]))?.status == 0 {
                    unclaim(id)
                    throw APIError.conflict("snapshot: \(out.errorLine)")
                }
                forget(id, because: "killed", details: ["reason": "snapshot failed: \(out.errorLine)"])
                throw APIError.conflict("snapshot: \(out.errorLine) (the sandbox is gone)")
            }
            let facts = SnapshotFacts(name: name, source: id, policy: record.policy, rootfs: record.rootfs, image: record.image?.name,
                                      backend: record.backend, createdAt: Date(),
                                      timeoutSeconds: max(1, Int(record.expiresAt.timeIntervalSinceNow.rounded())),
                                      env: record.env, metadata: record.metadata)
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            try encoder.encode(facts).write(to: URL(fileURLWithPath: dir + "/" + Self.snapshotFactsFile), options: .atomic)
            forget(id, because: "snapshotted", details: ["snapshot": name])
            return facts
        }
    }

    func snapshotFacts(_ name: String) throws -> SnapshotFacts {
        let file = snapshotDirectory(name) + "/" + Self.snapshotFactsFile
        guard let data = FileManager.default.contents(atPath: file) else { throw APIError.notFound("no snapshot \(name)") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(SnapshotFacts.self, from: data) } catch {
            throw APIError.internalError("snapshot \(name): \(file): \(error.localizedDescription)")
        }
    }

    func listSnapshots() -> [[String: Any]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshots)) ?? []
        return names.sorted().compactMap { try? snapshotFacts($0).json() }
    }

    func deleteSnapshot(_ name: String) throws {
        _ = try snapshotFacts(name)
        try FileManager.default.removeItem(atPath: snapshotDirectory(name))
    }

    /// A new sandbox from snapshot `name`: its memory, its root's files and its spec
    /// from the snapshot, its own id, warden and audit log; `timeout` (else the time
    /// the sandbox had left) is its deadline, `metadata` replaces the snapshot's.
    func restore(snapshot name: String, timeout: Int?, metadata: [String: String]?) throws -> SandboxRecord {
        let facts = try snapshotFacts(name)
        let id = "sbx-" + Self.randomHex(8)
        let dir = records.directory(id), bundle = records.bundle(id)
        try FileManager.default.createDirectory(atPath: bundle, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let now = Date()
        var record = SandboxRecord(id: id, policy: facts.policy, rootfs: facts.rootfs, image: nil, env: facts.env,
                                   metadata: metadata ?? facts.metadata, createdAt: now,
                                   expiresAt: now.addingTimeInterval(TimeInterval(timeout ?? facts.timeoutSeconds)), pid: 0,
                                   backend: facts.backend ?? runtime.backend, warm: nil)
        record.snapshot = name
        var attempted = false
        do {
            // Down before the sandbox exists, as launch's: recover() cleans up after a
            // service killed in between.
            try records.save(record)
            attempted = true
            // Its bundle is the service's, as every sandbox's (the runtime's `--bundle`).
            let out = try runtime.run(["agent", "restore", snapshotDirectory(name), "--id", id, "--detach", "--bundle", bundle])
            guard out.status == 0 else { throw APIError.runtime("restore: \(out.errorLine)") }
            guard let state = runtime.state(id), state.pid > 0 else { throw APIError.runtime("restore: \(id) does not run") }
            record.pid = state.pid
            try records.save(record)
        } catch {
            if attempted { runtime.delete(id) }
            images.release(id, rootfs: bundle + "/rootfs")
            try? FileManager.default.removeItem(atPath: dir)
            throw error
        }
        admit(record)
        events.publish(id, "restored", ["snapshot": name])
        return record
    }
}
