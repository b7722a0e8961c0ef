import Foundation

/// The snapshot routes: a sandbox saved under a name (it is then gone), the list of
/// snapshots, one, and its removal; a create with `snapshot` restores one (Routes.create).
extension Routes {
    func snapshotRoute(_ r: APIRequest, shape: String, id: String, name: String) throws -> Reply {
        switch (r.method, shape) {
        case (.POST, "sandboxes/{id}/snapshot"):
            _ = try store.get(id)
            guard let name = try r.object().string("name") else {
                throw APIError.badRequest(field: "name", "missing (the snapshot's name)")
            }
            try SandboxStore.checkSnapshotName(name, field: "name")
            return .json(.created, try store.snapshot(id, as: name).json())
        case (.GET, "snapshots"):
            return .json(.ok, ["snapshots": store.listSnapshots()])
        case (.GET, "snapshots/{name}"):
            try SandboxStore.checkSnapshotName(name, field: "name")
            return .json(.ok, try store.snapshotFacts(name).json())
        default: // DELETE snapshots/{name}
            try SandboxStore.checkSnapshotName(name, field: "name")
            try store.deleteSnapshot(name)
            return .noContent
        }
    }
}
