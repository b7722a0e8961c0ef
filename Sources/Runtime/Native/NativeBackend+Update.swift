import ContainerCore
import Cgroups
import Linux
import OCI

extension NativeBackend {
    /// `update`: applies new resource limits to a live container's cgroups.
    func update(_ record: ContainerRecord, resources: LinuxResources) throws {
        let id = record.id
        try status(of: record).canUpdate(id)
        // runc's default device rules were applied at create; an update changes only
        // what it names.
        try stage("update \(id)") { try cgroupManager(of: record).apply(resources: resources, includeRuncDefaultDevices: false) }
    }
}
