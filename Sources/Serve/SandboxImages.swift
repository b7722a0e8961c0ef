import Foundation
import Images
import Linux
import NIOConcurrencyHelpers
import Sandbox

/// The service's side of the image store (Sources/Images, docs/images.md): a sandbox
/// made from an image has the image's layers stacked read-only at `<bundle>/rootfs`
/// (ImageRoot), the runtime's ephemeral root over them, and a shared lock on each
/// layer for as long as the service serves it (so `image rm` and `image prune` leave
/// its layers alone).
final class SandboxImages: @unchecked Sendable {
    let store: ImageStore
    private let lock = NIOLock()
    /// The layer locks of each sandbox made from an image (closing them releases them).
    private var held: [String: [FileDescriptor]] = [:]

    init(store: ImageStore) {
        self.store = store
    }

    /// The image REF names, fetched into the store unless it is there already.
    func resolve(_ ref: String) throws -> ImageRecord {
        do {
            return try ImageFetch(store: store).resolve(try ImageReference.parse(ref, cwd: "/"))
        } catch let error as ImageError {
            throw APIError.badRequest(field: "image", "\(error)".replacingOccurrences(of: "--image: ", with: ""))
        }
    }

    /// Holds the image's layers for sandbox `id` and mounts its root at `rootfs` (an
    /// empty directory it makes).
    func mount(_ image: ImageRecord, for id: String, at rootfs: String) throws {
        try hold(image, for: id)
        do {
            try FileManager.default.createDirectory(atPath: rootfs, withIntermediateDirectories: false)
            try ImageRoot.mount(layers: try image.layers.map(store.layerPath), at: rootfs)
        } catch {
            release(id, rootfs: rootfs)
            throw APIError.internalError("image \(image.name): \(error)")
        }
    }

    /// Takes the layer locks of a sandbox again (a restarted service recovering it).
    func hold(_ image: ImageRecord, for id: String) throws {
        let fds: [FileDescriptor]
        do { fds = try store.hold(image.layers) } catch {
            throw APIError.badRequest(field: "image", "\(image.name): \(error)")
        }
        lock.withLock { held[id] = fds }
    }

    /// Unmounts the sandbox's image root and drops its layer locks (after the runtime
    /// removed the sandbox: its ephemeral root no longer stacks on the layers).
    func release(_ id: String, rootfs: String) {
        ImageRoot.unmount(rootfs)
        _ = lock.withLock { held.removeValue(forKey: id) }
    }

    /// The API's list: each image with its layers and the bytes they take.
    func list() throws -> [[String: Any]] {
        var sizes: [String: UInt64] = [:]
        for layer in store.layers() { sizes[layer] = store.size(ofLayer: layer) }
        return try store.images().map { image in
            ["name": image.name, "layers": image.layers, "source": image.source,
             "size": Set(image.layers).reduce(UInt64(0)) { $0 + (sizes[$1] ?? 0) }]
        }
    }

    /// `image rm NAME` through the API: the layers no other image uses go, unless a
    /// sandbox holds them (`image prune` removes those later).
    func remove(_ name: String) throws -> [String: Any] {
        guard (try? store.image(named: name)) ?? nil != nil else { throw APIError.notFound("no image \"\(name)\" in the store") }
        do {
            let (removed, stillHeld) = try store.remove(image: name)
            return ["name": name, "removedLayers": removed, "heldLayers": stillHeld]
        } catch {
            throw APIError.internalError("\(error)")
        }
    }

    /// The sandbox's root as it is now becomes the image `name`: its upper layer (what
    /// it changed over its image) is written as a layer on top of the image's layers.
    ///
    /// Written live, with the sandbox frozen (`freeze`, `thaw`: the runtime's pause
    /// and resume, the cgroup freezer) while the upper directory is read: no process
    /// of the sandbox runs, so no file there changes under the reader, and the
    /// sandbox runs on unchanged afterwards. A sandbox paused already stays paused.
    func commit(_ record: SandboxRecord, image: ImageRecord, as name: String, bundle: String, runtimeRoot: String,
                freeze: () throws -> Void, thaw: () throws -> Void) throws -> (ImageRecord, [String]) {
        do { try ImageReference.checkName(name, field: "name") } catch {
            throw APIError.badRequest(field: "name", "\(error)".replacingOccurrences(of: "name: ", with: ""))
        }
        let config = try Self.configFacts(bundle: bundle)
        let upper = EphemeralRoot.directory(root: runtimeRoot, id: record.id) + "/upper"
        try freeze()
        do {
            var changes = ChangeSet.compute(upper: upper, lower: bundle + "/rootfs")
            changes.entries.removeAll { $0.kind == .created && $0.size == 0 && config.mountPoints.contains($0.path) }
            try KeptChanges.keep(store, id: record.id, upper: upper, image: image, changes: changes.lines,
                                 hostBase: config.hostBase, idCount: config.idCount, skipEmptyDirectories: config.mountPoints)
        } catch {
            try? thaw()
            throw APIError.internalError("commit \(record.id): \(error)")
        }
        try thaw()
        do {
            let (made, kept) = try KeptChanges.commit(store, id: record.id, as: name)
            return (made, kept.changes)
        } catch {
            throw APIError.internalError("commit \(record.id): \(error)")
        }
    }

    /// What the sandbox's config.json says that the layer needs: the host id its
    /// root maps to and how many ids (a user namespace's ids go back to 0-based in the
    /// layer), and the mount points the runtime made in the root (not the sandbox's doing).
    static func configFacts(bundle: String) throws -> (hostBase: UInt32, idCount: UInt32, mountPoints: Set<String>) {
        guard let data = FileManager.default.contents(atPath: bundle + "/config.json"),
              let spec = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError.internalError("\(bundle)/config.json: unreadable")
        }
        let mounts = (spec["mounts"] as? [[String: Any]] ?? []).compactMap { $0["destination"] as? String }
        let linux = spec["linux"] as? [String: Any] ?? [:]
        let namespaces = (linux["namespaces"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        guard namespaces.contains("user"),
              let mapping = (linux["uidMappings"] as? [[String: Any]])?.first(where: { ($0["containerID"] as? NSNumber)?.intValue == 0 }),
              let host = (mapping["hostID"] as? NSNumber)?.uint32Value, let size = (mapping["size"] as? NSNumber)?.uint32Value else {
            return (0, 0, Set(mounts))
        }
        return (host, size, Set(mounts))
    }
}
