import Cgroups
import FoundationEssentials
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// The runtime root (`/run/safehouse` by default): one directory per container,
/// holding `state.json` and, until `start`, the `exec.fifo`.
public struct StateStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func directory(of id: String) -> String { root + "/" + id }
    package func statePath(of id: String) -> String { directory(of: id) + "/state.json" }
    package func fifoPath(of id: String) -> String { directory(of: id) + "/exec.fifo" }
    package func configPath(of id: String) -> String { directory(of: id) + "/config.json" }

    /// Removes the container's directory: the files a container always has are
    /// unlinked by name and the directory removed (four system calls where a walk
    /// takes ten); anything else in it (a sandbox's warden report, ...) is found
    /// by the walk that follows when the directory is not yet empty.
    package func removeDirectory(of id: String) throws {
        let dir = directory(of: id)
        for path in [statePath(of: id), configPath(of: id), fifoPath(of: id), dir + "/" + CgroupClaim.fileName] { _ = unlink(path) }
        if rmdir(dir) == 0 || errno == ENOENT { return }
        try Files.removeTree(dir)
    }

    /// The config the container was created from (a copy taken at create).
    package func loadConfig(_ id: String) throws -> Spec {
        let path = configPath(of: id)
        return try stage(path) { try Spec.decode(from: Data(try Files.read(path, limit: 16 << 20))) }
    }

    /// Makes the container's directory; fails if the id is taken. The directory is
    /// the lock too (flock on it), so two `create`s of one id cannot both proceed.
    package func makeContainerDirectory(_ id: String) throws -> ContainerLock {
        try ContainerID.validate(id)
        try stage("cannot create runtime root \(root)") { try Files.makeDirectories(root, mode: 0o700) }
        let dir = directory(of: id)
        if mkdir(dir, 0o711) != 0 {
            if errno == EEXIST { throw RuntimeError("container with id \"\(id)\" already exists", kind: .containerExists) }
            throw RuntimeError("\(SystemError(call: "mkdir", path: dir, errno: errno))")
        }
        return try ContainerLock(directory: dir)
    }

    /// Locks an existing container's directory.
    package func lock(_ id: String) throws -> ContainerLock {
        try ContainerID.validate(id)
        let dir = directory(of: id)
        guard Files.isDirectory(dir) else { throw RuntimeError.containerNotFound(id) }
        let lock = try ContainerLock(directory: dir)
        // A concurrent delete may have removed it while we waited for the lock.
        guard Files.isDirectory(dir) else { throw RuntimeError.containerNotFound(id) }
        return lock
    }

    public func load(_ id: String) throws -> ContainerRecord {
        let path = statePath(of: id)
        let bytes: [UInt8]
        do { bytes = try Files.read(path) } catch let e as SystemError where e.errno == ENOENT {
            throw RuntimeError("container \"\(id)\" is not fully created (no state): remove it with delete --force")
        }
        guard var record = ContainerRecord(decoding: bytes) else {
            throw RuntimeError("\(path): unreadable state")
        }
        if record.hasHooks { record.hooks = try loadConfig(id).hooks }
        return record
    }

    package func save(_ record: ContainerRecord) throws {
        try Files.writeAtomically(statePath(of: record.id), record.encoded)
    }

    /// Ids of every container under the root.
    public func ids() -> [String] {
        ((try? Files.list(root)) ?? []).filter { Files.isDirectory(directory(of: $0)) }.sorted()
    }
}

/// An exclusive flock on a container's directory, held until released or deinit.
package final class ContainerLock {
    private let fd: FileDescriptor

    package init(directory: String) throws {
        fd = try FileDescriptor.open(directory, O_RDONLY | O_DIRECTORY)
        try syscall("flock", directory) { flock(fd.rawValue, LOCK_EX) }
    }

    package func release() { fd.close() }
}
