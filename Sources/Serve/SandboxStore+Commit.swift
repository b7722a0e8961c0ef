import Foundation
import Images

extension SandboxStore {
    /// Commits sandbox `id`'s root (its image and what it changed) as the image `name`,
    /// live: frozen for the copy of its upper layer, then running again (or left
    /// paused if it was). Under the lifecycle lock, so no pause or resume interleaves.
    func commit(_ id: String, as name: String) throws -> (ImageRecord, [String]) {
        try lifecycle.withLock {
            let record = try get(id)
            guard let image = record.image else {
                throw APIError.conflict("sandbox \(id) was made from a rootfs, not an image: there is no image to commit onto")
            }
            let wasPaused = record.pausedAt != nil
            guard wasPaused || Routes.isAlive(record.pid) else { throw APIError.conflict("sandbox \(id) is not running") }
            let (made, changes) = try images.commit(
                record, image: image, as: name, bundle: records.bundle(id), runtimeRoot: runtime.root,
                freeze: {
                    if wasPaused { return }
                    let out = try runtime.run(["pause", id])
                    guard out.status == 0 else { throw APIError.runtime("commit: pause: \(out.errorLine)") }
                },
                thaw: {
                    if wasPaused { return }
                    let out = try runtime.run(["resume", id])
                    guard out.status == 0 else { throw APIError.runtime("commit: resume: \(out.errorLine)") }
                })
            events.publish(id, "committed", ["image": made.name])
            return (made, changes)
        }
    }
}
