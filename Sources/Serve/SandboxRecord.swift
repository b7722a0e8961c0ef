import Foundation
import Images

/// What the service keeps of one sandbox, in `<state dir>/<id>/sandbox.json`: enough
/// for a restarted service to find it again and to enforce its timeout.
struct SandboxRecord: Codable {
    var id: String
    var policy: String
    /// The host directory it was made from; "" when it was made from `image`.
    var rootfs: String
    /// The image it was made from (its layers and config as resolved then); nil for a
    /// rootfs. Optional, so the records of a service without images still load.
    var image: ImageRecord?
    var env: [String: String]
    var metadata: [String: String]
    var createdAt: Date
    var expiresAt: Date
    /// The init's host pid (files are resolved under /proc/<pid>/root).
    var pid: Int32
    /// When it was paused (its processes frozen); nil while it runs. Optional, so the
    /// records of a service without pause still load.
    var pausedAt: Date?
    /// native or gvisor (nil in a record of a service that did not say: native).
    var backend: String?
    /// True while it waits in the warm pool (made ahead, no client's yet): a restarted
    /// service adopts it into its pool or deletes it, never serves it as it is.
    var warm: Bool?
    /// The snapshot it was restored from (its root is mounted in the bundle when the
    /// snapshot's was an image's: unmounted at the delete).
    var snapshot: String?
    /// The deadline, in seconds, of the sandbox's client decider (`"decider": "client"`:
    /// the service is its network.decider); nil: none.
    var clientDeciderTimeout: Double?

    var isGvisor: Bool { backend == "gvisor" }

    /// The API's view; `state` comes from the runtime.
    func json(state: String) -> [String: Any] {
        var d: [String: Any] = [
            "id": id, "policy": policy, "state": state,
            "createdAt": Timestamp.string(createdAt), "expiresAt": Timestamp.string(expiresAt),
            "metadata": metadata,
        ]
        if let image { d["image"] = image.name } else { d["rootfs"] = rootfs }
        if let snapshot { d["snapshot"] = snapshot }
        if let pausedAt { d["pausedAt"] = Timestamp.string(pausedAt) }
        if let clientDeciderTimeout {
            d["decider"] = "client"
            d["deciderTimeout"] = clientDeciderTimeout
        }
        return d
    }
}

enum Timestamp {
    static func string(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}

/// The records on disk: one directory per sandbox, written atomically (temp + rename).
struct RecordDirectory {
    let path: String

    func directory(_ id: String) -> String { "\(path)/\(id)" }
    func bundle(_ id: String) -> String { "\(path)/\(id)/bundle" }

    func prepare() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }

    func save(_ record: SandboxRecord) throws {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(record)
        try StateFile.write(data, to: "\(directory(record.id))/sandbox.json")
    }

    /// Every record found; unreadable ones are skipped (their directory is left for an operator).
    func loadAll() -> [SandboxRecord] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(path)/\(name)/sandbox.json") else { return nil }
            return try? decoder.decode(SandboxRecord.self, from: data)
        }
    }

    func remove(_ id: String) {
        try? FileManager.default.removeItem(atPath: directory(id))
    }
}
