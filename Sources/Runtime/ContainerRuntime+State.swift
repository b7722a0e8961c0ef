import ContainerCore
import Linux
import OCI

/// The document `state` prints and `list --format json` lists, in runc's shape.
public struct ContainerReport: Codable, Sendable {
    public var ociVersion: String
    public var id: String
    public var pid: Int32
    public var status: ContainerStatus
    public var bundle: String
    public var rootfs: String
    public var created: String
    public var owner: String
    public var annotations: [String: String]?

    /// runc's `state` output, written by hand (no JSONEncoder start-up on a command
    /// engines call often); the same keys, in the same order, as the Codable form.
    public var prettyJSON: String {
        var w = FlatJSONWriter(pretty: true)
        w.add("ociVersion", ociVersion)
        w.add("id", id)
        w.add("pid", Int64(pid))
        w.add("status", status.rawValue)
        w.add("bundle", bundle)
        w.add("rootfs", rootfs)
        w.add("created", created)
        w.add("owner", owner)
        if let annotations, !annotations.isEmpty { w.add("annotations", annotations) }
        return w.string
    }
}

extension ContainerRuntime {
    /// `state`: the container's current state, derived from its live process.
    public func state(id: String) throws -> ContainerReport {
        // runc's state never fills in the owner: `"owner": ""`, whoever made it.
        return report(try existing(id), owner: "")
    }

    /// `list`: every container under the root; ones that cannot be read are skipped.
    /// The owner is the user owning the container's state directory, as runc lists
    /// it (the name from /etc/passwd, else `#UID`), so a directory handed to another
    /// user shows that user.
    public func list() -> [ContainerReport] {
        store.ids().compactMap { id in
            guard let record = try? store.load(id) else { return nil }
            let owner = (try? Files.status(store.directory(of: id)).st_uid).map(Owner.name(of:)) ?? record.owner
            return report(record, owner: owner)
        }
    }

    func report(_ record: ContainerRecord, owner: String) -> ContainerReport {
        // gvisor: runsc's status and sandbox pid (a foreground `run` never read the pid).
        let (status, pid) = backend(for: record).state(of: record)
        return ContainerReport(
            ociVersion: specVersion, id: record.id, pid: status == .stopped ? 0 : pid,
            status: status, bundle: record.bundle, rootfs: record.rootfs, created: record.created,
            owner: owner, annotations: record.annotations)
    }
}
