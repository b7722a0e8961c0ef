import AuditChain
import FoundationEssentials
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The image store on the host (mode 0700, root's):
///
///     /var/lib/safehouse/layers/sha256/<hex>   one unpacked layer, overlay form, by its
///                                              uncompressed digest (rootfs.diff_ids)
///     /var/lib/safehouse/images/<hex>.json     one image (ImageRecord), by the SHA-256
///                                              of its name
///     /var/lib/safehouse/changes/<id>/         a kept sandbox's change set, for
///                                              `agent commit` (ChangeExport)
///     /var/lib/safehouse/tmp/                  fetches and unpacks in progress
///
/// Layers are content-addressed and shared: two images with the same base hold its
/// layers once. A layer becomes visible only by a rename of a finished unpack, so a
/// reader never sees half a layer. A sandbox holds a shared lock (flock) on each of
/// its layer directories while it runs; `image rm` and `image prune` remove a layer
/// only under an exclusive one, so a running sandbox's layers stay.
public struct ImageStore: Sendable {
    public let root: String

    /// The store `SAFEHOUSE_IMAGE_STORE` names (tests keep their own), else
    /// /var/lib/safehouse.
    public static func configured() throws -> ImageStore {
        let root = getenv("SAFEHOUSE_IMAGE_STORE").map { String(cString: $0) } ?? "/var/lib/safehouse"
        return try ImageStore(root: root)
    }

    public init(root: String) throws {
        // Layer paths go into overlayfs's lowerdir option, where these are separators.
        guard root.hasPrefix("/"), !root.contains(":"), !root.contains(","), !root.contains("\\") else {
            throw ImageError("image store \(root): must be an absolute path without \":\", \",\" or \"\\\"")
        }
        self.root = root
    }

    public var layersDirectory: String { root + "/layers/sha256" }
    public var imagesDirectory: String { root + "/images" }
    public var changesDirectory: String { root + "/changes" }
    public var scratchDirectory: String { root + "/tmp" }

    /// Makes the store's directories (0700: a layer's setuid files are nobody's on the host).
    public func prepare() throws {
        for dir in [root, root + "/layers", layersDirectory, imagesDirectory, changesDirectory, scratchDirectory] where !Files.isDirectory(dir) {
            try syscall("mkdir", dir) { mkdir(dir, 0o700) }
        }
    }

    // MARK: layers

    /// The directory of the layer `digest` ("sha256:<64 hex>").
    public func layerPath(_ digest: String) throws -> String {
        layersDirectory + "/" + (try Self.hex(of: digest))
    }

    public func hasLayer(_ digest: String) -> Bool {
        (try? layerPath(digest)).map(Files.isDirectory) ?? false
    }

    /// The hex of a "sha256:..." digest; anything else is refused (it becomes a path).
    static func hex(of digest: String) throws -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : ""
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw ImageError("\"\(digest)\" is not a sha256 digest")
        }
        return hex
    }

    /// Adds the layer blob at `blob` (a tar, gzip or zstd) as `digest`, its plain tar's
    /// digest (the config's diff_id), unless the store has it. The content must hash to
    /// `digest` (a wrong diff_id could otherwise put a hostile layer under a popular
    /// base's name); it is unpacked into a temporary directory, checked, and renamed
    /// into place, so a refused or forged layer leaves nothing.
    public func addLayer(blob: String, digest: String) throws {
        let target = try layerPath(digest)
        if Files.isDirectory(target) { return }
        let label = "layer \(digest)"
        let temporary = scratchDirectory + "/unpack-\(getpid())-" + (try Self.hex(of: digest)).prefix(16)
        try? Files.removeTree(temporary)
        try syscall("mkdir", temporary) { mkdir(temporary, 0o755) }
        do {
            let stream = try LayerStream(blob: blob, scratch: scratchDirectory)
            try LayerUnpacker.unpack(tar: stream.tar, tee: stream.hashInput, label: label, into: temporary)
            let actual = try stream.finish(label: label)
            guard actual == digest else {
                throw ImageError("\(label): the content's digest is \(actual) (a corrupt or forged layer)")
            }
            if rename(temporary, target) != 0 {
                // Another run unpacked the same layer first: theirs stands.
                guard errno == EEXIST || errno == ENOTEMPTY else { throw SystemError(call: "rename", path: target, errno: errno) }
                try Files.removeTree(temporary)
            }
        } catch {
            try? Files.removeTree(temporary)
            throw error
        }
    }

    /// "sha256:<hex>" of a file, by coreutils' sha256sum.
    static func sha256(of path: String, scratch: String) throws -> String {
        let out = try ExternalTool.check("/usr/bin/sha256sum", ["sha256sum", "--", path], scratch: scratch, what: "digest of \(path)")
        return "sha256:" + String(decoding: out.prefix(64), as: UTF8.self)
    }

    /// Every layer in the store.
    public func layers() -> [String] {
        ((try? Files.list(layersDirectory)) ?? []).filter { $0.utf8.count == 64 }.sorted().map { "sha256:" + $0 }
    }

    /// Bytes a layer takes on disk (blocks, each hard-linked inode once).
    public func size(ofLayer digest: String) -> UInt64 {
        guard let path = try? layerPath(digest) else { return 0 }
        var seen = Set<UInt64>()
        return Self.diskUsage(path, seen: &seen)
    }

    static func diskUsage(_ path: String, seen: inout Set<UInt64>) -> UInt64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        var total: UInt64 = 0
        if st.st_nlink <= 1 || seen.insert(UInt64(st.st_ino)).inserted { total += UInt64(st.st_blocks) * 512 }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in (try? Files.list(path)) ?? [] { total += diskUsage(path + "/" + name, seen: &seen) }
        }
        return total
    }

    /// Removes a layer unless a running sandbox holds it (its shared lock); false then.
    func removeLayer(_ digest: String) throws -> Bool {
        let path = try layerPath(digest)
        guard let fd = try? FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else { return true }
        guard flock(fd.rawValue, LOCK_EX | LOCK_NB) == 0 else { return false }
        // Renamed out of the way first: a half-removed layer is never found by digest.
        let doomed = scratchDirectory + "/remove-\(getpid())-" + (try Self.hex(of: digest)).prefix(16)
        try syscall("rename", path) { rename(path, doomed) }
        try Files.removeTree(doomed)
        return true
    }

    /// Shared locks on `layers` for as long as the returned descriptors stay open:
    /// a running sandbox's layers cannot be removed under it.
    public func hold(_ layers: [String]) throws -> [FileDescriptor] {
        try layers.map { digest in
            let path = try layerPath(digest)
            let fd: FileDescriptor
            do { fd = try FileDescriptor.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) } catch {
                throw ImageError("layer \(digest) is missing from the store (image prune ran? fetch the image again)")
            }
            try syscall("flock", path) { flock(fd.rawValue, LOCK_SH) }
            return fd
        }
    }

    // MARK: images

    func recordPath(_ name: String) -> String {
        let digest = SHA256Digest.hash(Array(name.utf8))
        return imagesDirectory + "/" + digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() + ".json"
    }

    /// The image called `name`, or nil when the store has none.
    public func image(named name: String) throws -> ImageRecord? {
        let path = recordPath(name)
        guard Files.exists(path) else { return nil }
        do {
            return try JSONDecoder().decode(ImageRecord.self, from: Data(try Files.read(path, limit: 16 << 20)))
        } catch {
            throw ImageError("\(path): \(error)")
        }
    }

    public func save(_ image: ImageRecord) throws {
        try prepare()
        let bytes: Data
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            bytes = try encoder.encode(image)
        } catch { throw ImageError("image \(image.name): \(error)") }
        try Files.writeAtomically(recordPath(image.name), Array(bytes), mode: 0o600)
    }

    /// Every image, by name.
    public func images() throws -> [ImageRecord] {
        var out: [ImageRecord] = []
        for file in ((try? Files.list(imagesDirectory)) ?? []) where file.hasSuffix(".json") {
            let path = imagesDirectory + "/" + file
            do {
                out.append(try JSONDecoder().decode(ImageRecord.self, from: Data(try Files.read(path, limit: 16 << 20))))
            } catch {
                throw ImageError("\(path): \(error)")
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    /// The layers an image names, or a kept change set's image (its commit will need
    /// them), each once.
    func usedLayers() throws -> Set<String> {
        var used = Set(try images().flatMap(\.layers))
        for id in (try? Files.list(changesDirectory)) ?? [] {
            if let kept = try? KeptChanges.load(self, id: id) { used.formUnion(kept.image.layers) }
        }
        return used
    }

    /// Removes the image `name` and the layers no other image uses (those a running
    /// sandbox holds stay, for `image prune` later). The digests removed.
    public func remove(image name: String) throws -> (removed: [String], held: [String]) {
        guard let image = try image(named: name) else { throw ImageError("image rm: no image \"\(name)\" in the store (see safehouse image ls)") }
        try Files.remove(recordPath(name))
        let used = try usedLayers()
        var removed: [String] = [], held: [String] = []
        for layer in Set(image.layers).sorted() where !used.contains(layer) {
            if try removeLayer(layer) { removed.append(layer) } else { held.append(layer) }
        }
        return (removed, held)
    }

    /// Removes every layer no image names (and that no sandbox holds), and what
    /// fetches and unpacks of processes no longer alive left in tmp/.
    public func prune() throws -> (removed: [(String, UInt64)], held: [String]) {
        let used = try usedLayers()
        var removed: [(String, UInt64)] = [], held: [String] = []
        for layer in layers() where !used.contains(layer) {
            let size = size(ofLayer: layer)
            if try removeLayer(layer) { removed.append((layer, size)) } else { held.append(layer) }
        }
        for name in (try? Files.list(scratchDirectory)) ?? [] {
            let parts = name.split(separator: "-")
            guard parts.count >= 2, let pid = Int32(parts[1]), !Processes.isAlive(pid) else { continue }
            try? Files.removeTree(scratchDirectory + "/" + name)
        }
        return (removed, held)
    }
}
