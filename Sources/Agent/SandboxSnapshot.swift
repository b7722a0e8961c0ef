import ContainerCore
import FoundationEssentials
import Images
import Linux
import OCI
import Runtime
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// `agent checkpoint ID --to DIR` and `agent restore DIR`: a sandbox paused to disk,
/// everything it needs on disk in one directory, so that it can be restored, as many
/// times as asked (a fork each), after the process that made it is long gone:
///
///     DIR/snapshot.json      what it was made from: the root (a directory, or the
///                            image layers' digests), the backend, the time it had left
///     DIR/config.json        its OCI spec (the policy's treatment in its annotations),
///                            root.path left for the restore to fill in
///     DIR/checkpoint/        the runtime's `checkpoint --image-path`: the memory
///                            (runsc's checkpoint.img) and upper/, the ephemeral
///                            root's upper layer (what the sandbox wrote)
///
/// The directory is 0700: the memory image holds whatever the sandbox held.
public struct SandboxSnapshot: Codable, Sendable, Equatable {
    public var version = 1
    /// The sandbox it was taken of.
    public var source: String
    public var backend: String
    /// RFC 3339 time it was taken.
    public var created: String
    public var policy: String
    /// The wall-clock time the sandbox had left (nil: it had no timeout).
    public var timeoutSeconds: Double?
    /// A host directory as its image root, or
    public var rootfs: String?
    /// the image store's layers (bottom first) its root was made of.
    public var layers: [String]?

    public static let fileName = "snapshot.json"
    public static let configName = "config.json"
    public static let checkpointName = "checkpoint"

    /// Reads and checks `dir`'s snapshot.json.
    public static func load(_ dir: String) throws -> SandboxSnapshot {
        let path = dir + "/" + fileName
        guard Files.exists(path) else { throw RuntimeError("\(dir): not a snapshot (no \(fileName))") }
        let snapshot: SandboxSnapshot
        do { snapshot = try JSONDecoder().decode(SandboxSnapshot.self, from: Data(try Files.read(path, limit: 1 << 20))) } catch {
            throw RuntimeError("\(path): \(error)")
        }
        guard snapshot.version == 1 else { throw RuntimeError("\(path): version \(snapshot.version) is not one this safehouse reads (1)") }
        guard (snapshot.rootfs == nil) != (snapshot.layers == nil) else {
            throw RuntimeError("\(path): names neither or both of rootfs and layers")
        }
        return snapshot
    }
}

/// Taking and restoring snapshots through a runtime.
public struct SandboxSnapshots {
    let runtime: ContainerRuntime
    public init(runtime: ContainerRuntime) { self.runtime = runtime }

    /// Saves sandbox `id` into `dir` (missing or empty); the sandbox is then gone. On
    /// a failure the sandbox runs on (the runtime's checkpoint leaves it as it was) and
    /// what was made in `dir` is removed.
    public func checkpoint(id: String, to given: String) throws -> SandboxSnapshot {
        let dir = SandboxRunner.absolute(given)
        let record = try runtime.store.load(id)
        guard record.annotations?[SandboxAnnotation.policy] != nil, record.ephemeralRoot else {
            throw RuntimeError("\(id): not an agent sandbox (checkpoint saves a plain container)")
        }
        var spec = try runtime.store.loadConfig(id)
        var snapshot = SandboxSnapshot(source: id, backend: (record.backend ?? .native).rawValue, created: Clock.rfc3339Now(),
                                       policy: record.annotations?[SandboxAnnotation.policy] ?? "")
        if let layers = try Self.imageLayers(of: record.rootfs) { snapshot.layers = layers } else { snapshot.rootfs = record.rootfs }
        if let timeout = spec.annotations?[SandboxAnnotation.timeout].flatMap(Double.init) {
            // Counted from the sandbox's creation (its start follows at once): what it
            // had left is what a restored copy gets.
            let elapsed = Self.secondsSince(record.created) ?? 0
            snapshot.timeoutSeconds = max(1, (timeout - elapsed).rounded())
            spec.annotations?[SandboxAnnotation.timeout] = String(snapshot.timeoutSeconds ?? timeout)
        }
        spec.root?.path = "rootfs"

        var made = false
        if Files.exists(dir) {
            guard Files.isDirectory(dir), (try Files.list(dir)).isEmpty else { throw RuntimeError("--to \(given): exists and is not an empty directory") }
        } else {
            try syscall("mkdir", dir) { mkdir(dir, 0o700) }
            made = true
        }
        do {
            try syscall("chmod", dir) { chmod(dir, 0o700) }
            try Files.writeAtomically(dir + "/" + SandboxSnapshot.configName, spec.compactJSON(), mode: 0o600)
            try Files.writeAtomically(dir + "/" + SandboxSnapshot.fileName, Array(try JSONEncoder().encode(snapshot)), mode: 0o600)
            try runtime.checkpoint(id: id, options: CheckpointOptions(imagePath: dir + "/" + SandboxSnapshot.checkpointName))
        } catch {
            if made { try? Files.removeTree(dir) } else { for name in (try? Files.list(dir)) ?? [] { try? Files.removeTree(dir + "/" + name) } }
            throw error
        }
        return snapshot
    }

    /// Makes the sandbox `id` from the snapshot in `dir`: its root (the same directory,
    /// or the same image layers mounted again), the spec (with `timeout` when given,
    /// else the time it had left), then the runtime's restore, which seeds a new
    /// ephemeral root with the saved upper layer and starts the sandbox's own warden
    /// and audit log. Detached: returns once it runs; otherwise waits and returns its
    /// exit code.
    public func restore(_ given: String, id: String, timeout: Double?, detach: Bool, pidFile: String? = nil,
                        bundle chosen: String? = nil) throws -> Int32 {
        let dir = SandboxRunner.absolute(given)
        let snapshot = try SandboxSnapshot.load(dir)
        try ContainerID.validate(id)
        if Files.exists(runtime.store.directory(of: id)) { throw RuntimeError("--id: container \"\(id)\" already exists") }
        var spec: Spec
        do { spec = try Spec.decode(from: Files.read(dir + "/" + SandboxSnapshot.configName, limit: 16 << 20)) } catch {
            throw RuntimeError("\(dir)/\(SandboxSnapshot.configName): \(error)")
        }
        guard let backend = Backend(rawValue: snapshot.backend) else {
            throw RuntimeError("\(dir)/\(SandboxSnapshot.fileName): backend \"\(snapshot.backend)\" is not one of native, gvisor")
        }
        runtime.backendFlag = backend
        if let timeout {
            guard timeout > 0, timeout <= Quantity.maximumTimeout else { throw RuntimeError("--timeout: out of range (at most 576h)") }
            spec.annotations?[SandboxAnnotation.timeout] = String(timeout)
        }
        // The runtime's own place (removed with the sandbox), or the caller's.
        let bundle = chosen.map(SandboxRunner.absolute) ?? ContainerRuntime.agentBundles + "/" + id
        let rootfs = bundle + "/rootfs"
        var held: [FileDescriptor] = []
        defer { withExtendedLifetime(held) {} }
        if let path = snapshot.rootfs {
            guard Files.isDirectory(path) else { throw RuntimeError("rootfs \(path): the snapshot's root directory is gone") }
        } else if let layers = snapshot.layers {
            held = try ImageStore.configured().hold(layers)
        }
        if chosen == nil { try Files.makeDirectories(ContainerRuntime.agentBundles) }
        if Files.isDirectory(bundle), chosen != nil {
            guard (try Files.list(bundle)).isEmpty else { throw RuntimeError("--bundle \(bundle): not an empty directory") }
        } else {
            guard mkdir(bundle, 0o700) == 0 else { throw RuntimeError("bundle \(bundle): \(SystemError.message(for: errno))") }
        }
        var restored = false
        defer {
            // The runtime removes the bundle with the sandbox (removeAgentBundle); a
            // restore that failed leaves it to this.
            if !restored {
                ImageRoot.unmount(rootfs)
                try? Files.removeTree(bundle)
            }
        }
        if let layers = snapshot.layers {
            let store = try ImageStore.configured()
            try Files.makeDirectories(rootfs)
            try ImageRoot.mount(layers: try layers.map(store.layerPath), at: rootfs)
            spec.root?.path = rootfs
        } else {
            spec.root?.path = snapshot.rootfs ?? ""
        }
        try Files.writeAtomically(bundle + "/config.json", spec.compactJSON(), mode: 0o600)
        let options = CreateOptions(bundle: bundle, pidFile: pidFile)
        let checkpoint = CheckpointOptions(imagePath: dir + "/" + SandboxSnapshot.checkpointName)
        // In the foreground the runtime removes it, bundle and all, when it ends; a
        // failure before it exists (or any failure detached) leaves the bundle to the
        // defer above.
        do {
            let code = try runtime.restore(id: id, options: options, checkpoint: checkpoint, detach: detach)
            restored = true
            return detach ? 0 : code
        } catch {
            restored = !detach && Files.exists(runtime.store.directory(of: id))
            throw error
        }
    }

    /// The image layers (bottom first) a root mounted by ImageRoot stacks, by their
    /// digests in the store; nil for a root that is a plain directory.
    static func imageLayers(of rootfs: String) throws -> [String]? {
        let store = try ImageStore.configured()
        let prefix = store.layersDirectory + "/"
        if let info = try? Files.readString("/proc/self/mountinfo"), let stack = OverlayLayers.readOnlyStack(rootfs, mountinfo: info) {
            let digests = stack.compactMap { $0.hasPrefix(prefix) ? "sha256:" + $0.dropFirst(prefix.count) : nil }
            guard digests.count == stack.count else { return nil }
            return digests.reversed()
        }
        // One layer: a read-only bind of its directory (ImageRoot), the same inode.
        guard let root = try? Files.status(rootfs), let names = try? Files.list(store.layersDirectory) else { return nil }
        for name in names {
            if let layer = try? Files.status(prefix + name), layer.st_dev == root.st_dev, layer.st_ino == root.st_ino {
                return ["sha256:" + name]
            }
        }
        return nil
    }

    /// Seconds from an RFC 3339 time (the record's `created`) to now.
    static func secondsSince(_ rfc3339: String) -> Double? {
        let digits = rfc3339.unicodeScalars
        guard digits.count >= 20 else { return nil }
        let text = Array(rfc3339.utf8)
        func number(_ from: Int, _ count: Int) -> Int32? { Int32(String(decoding: text[from..<(from + count)], as: UTF8.self)) }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2) else { return nil }
        var t = tm()
        t.tm_year = year - 1900
        t.tm_mon = month - 1
        t.tm_mday = day
        t.tm_hour = hour
        t.tm_min = minute
        t.tm_sec = second
        let then = Double(timegm(&t))
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 - then
    }
}
