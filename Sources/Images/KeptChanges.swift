import FoundationEssentials
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// A sandbox's change set kept after it ended (`agent run --keep`), until
/// `agent commit ID NAME` makes it an image: `changes/<id>/layer.tar` (LayerWriter's
/// layer of the upper directory) and `changes/<id>/kept.json` (this), so the
/// ephemeral root's tmpfs can go with the sandbox as always.
public struct KeptChanges: Codable, Equatable, Sendable {
    /// The image the sandbox ran.
    public var image: ImageRecord
    /// The change set as the run's summary printed it ("created /x (3 bytes)").
    public var changes: [String]

    public init(image: ImageRecord, changes: [String]) {
        self.image = image
        self.changes = changes
    }

    static func directory(_ store: ImageStore, id: String) -> String { store.changesDirectory + "/" + id }

    /// Keeps `upper` of sandbox `id` (see LayerWriter for the ids and what is left out).
    public static func keep(_ store: ImageStore, id: String, upper: String, image: ImageRecord, changes: [String],
                            hostBase: UInt32, idCount: UInt32, skipEmptyDirectories: Set<String>) throws {
        try store.prepare()
        let dir = directory(store, id: id)
        let temporary = store.scratchDirectory + "/keep-\(getpid())-" + id
        try? Files.removeTree(temporary)
        try syscall("mkdir", temporary) { mkdir(temporary, 0o700) }
        do {
            try LayerWriter.write(upper: upper, to: temporary + "/layer.tar", hostBase: hostBase, idCount: idCount,
                                  skipEmptyDirectories: skipEmptyDirectories)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try Files.writeAtomically(temporary + "/kept.json", Array(try encoder.encode(KeptChanges(image: image, changes: changes))))
            try? Files.removeTree(dir)
            try syscall("rename", dir) { rename(temporary, dir) }
        } catch {
            try? Files.removeTree(temporary)
            throw error
        }
    }

    /// The change set kept for sandbox `id`.
    static func load(_ store: ImageStore, id: String) throws -> KeptChanges {
        let path = directory(store, id: id) + "/kept.json"
        do { return try JSONDecoder().decode(KeptChanges.self, from: Data(try Files.read(path))) } catch {
            throw ImageError("\(path): \(error)")
        }
    }

    /// `agent commit ID NAME`: the kept change set of `id` becomes a layer on top of its
    /// image, and NAME the image of both. Returns the new image and the change set.
    public static func commit(_ store: ImageStore, id: String, as name: String) throws -> (ImageRecord, KeptChanges) {
        try ImageReference.checkName(name, field: "agent commit NAME")
        guard !id.isEmpty, !id.contains("/"), id != ".", id != ".." else { throw ImageError("agent commit: \"\(id)\" is not a sandbox id") }
        let dir = directory(store, id: id)
        guard Files.exists(dir + "/kept.json") else {
            throw ImageError("agent commit: sandbox \"\(id)\" left no change set (run it with agent run --image REF --keep --id \(id))")
        }
        let kept = try load(store, id: id)
        for layer in kept.image.layers where !store.hasLayer(layer) {
            throw ImageError("agent commit: the layer \(layer) of \(kept.image.name) is gone from the store; fetch the image again, then commit")
        }
        let digest = try ImageStore.sha256(of: dir + "/layer.tar", scratch: store.scratchDirectory)
        try store.addLayer(blob: dir + "/layer.tar", digest: digest)
        let image = ImageRecord(name: name, layers: kept.image.layers + [digest], config: kept.image.config,
                                source: "commit of sandbox \(id) on \(kept.image.name)")
        try store.save(image)
        try Files.removeTree(dir)
        return (image, kept)
    }
}
