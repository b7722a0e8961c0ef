import ContainerCore
import Cgroups
import FoundationEssentials
import Linux
import OCI

extension ContainerRuntime {
    /// `update`: applies new resource limits to a live container's cgroups.
    public func update(id: String, resources: LinuxResources) throws {
        let lock = try store.lock(id)
        defer { lock.release() }
        let record = try store.load(id)
        if record.backend == .gvisor { return try updateGvisor(record, resources: resources) }
        guard status(of: record) != .stopped else { throw RuntimeError.containerNotRunning(id) }
        // runc's default device rules were applied at create; an update changes only
        // what it names.
        do { try cgroupManager(of: record).apply(resources: resources, includeRuncDefaultDevices: false) } catch {
            throw RuntimeError("update \(id): \(error)")
        }
    }

    /// Reads `--resources FILE` (or "-" for stdin): the OCI `linux.resources` object.
    public static func readResources(_ path: String) throws -> LinuxResources {
        let bytes: [UInt8]
        do {
            bytes = path == "-" ? try FileDescriptor(adopting: 0).readAllKeepingOpen() : try Files.read(path, limit: 16 << 20)
        } catch {
            throw RuntimeError("--resources \(path): \(error)")
        }
        do {
            return try JSONDecoder().decode(LinuxResources.self, from: Data(bytes))
        } catch {
            throw RuntimeError("--resources \(path): not a valid linux.resources object: \(error)")
        }
    }
}

extension FileDescriptor {
    /// Reads to end of file without taking ownership (for stdin).
    func readAllKeepingOpen() throws -> [UInt8] {
        defer { _ = release() }
        return try readAll(limit: 16 << 20)
    }
}
